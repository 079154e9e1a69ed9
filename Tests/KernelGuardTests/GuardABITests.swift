// SPDX-License-Identifier: Apache-2.0
import Testing
import GuardABI
@testable import KernelGuard

@Suite("Guard ABI and program sets")
struct GuardABITests {
    @Test("the structs shared with the BPF programs have the sizes guard_abi.h pins")
    func sizes() {
        #expect(MemoryLayout<ium_event>.size == 208)
        #expect(MemoryLayout<ium_tag>.size == 16)
        #expect(MemoryLayout<ium_config>.size == 16)
        #expect(MemoryLayout<ium_event>.offset(of: \.start_ns) == 56)
        #expect(MemoryLayout<ium_event>.offset(of: \.comm) == 64)
        #expect(MemoryLayout<ium_event>.offset(of: \.filename) == 80)
    }

    @Test("lsm programs load only for lsm, syscall tracepoints only for kill, tp_btf for both")
    func programSets() {
        for section in ["lsm/ptrace_access_check", "lsm/bprm_creds_for_exec"] {
            #expect(KernelGuard.belongs(section: section, to: .lsm))
            #expect(!KernelGuard.belongs(section: section, to: .kill))
        }
        for section in ["tp/syscalls/sys_enter_ptrace", "tp/syscalls/sys_enter_execve"] {
            #expect(KernelGuard.belongs(section: section, to: .kill))
            #expect(!KernelGuard.belongs(section: section, to: .lsm), "no syscall tracepoint under lsm")
        }
        #expect(KernelGuard.belongs(section: "tp_btf/sched_process_fork", to: .lsm) && KernelGuard.belongs(section: "tp_btf/sched_process_fork", to: .kill))
    }

    @Test("the kill backend lists its gaps; the lsm backend has none")
    func gaps() {
        #expect(Backend.lsm.gaps.isEmpty)
        #expect(Backend.kill.gaps.contains { $0.hasPrefix("io_uring") })
    }
}
