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

    @Test("lsm programs load only for lsm, syscall tracepoints only for kill, the rest for both")
    func programSets() {
        #expect(KernelGuard.belongs(section: "lsm/ptrace_access_check", to: .lsm))
        #expect(!KernelGuard.belongs(section: "lsm/ptrace_access_check", to: .kill))
        #expect(KernelGuard.belongs(section: "tp/syscalls/sys_enter_ptrace", to: .kill))
        #expect(!KernelGuard.belongs(section: "tp/syscalls/sys_enter_ptrace", to: .lsm))
        for section in ["tp_btf/sched_process_fork", "tp/syscalls/sys_enter_execve", "tp/syscalls/sys_enter_execveat"] {
            #expect(KernelGuard.belongs(section: section, to: .lsm) && KernelGuard.belongs(section: section, to: .kill))
        }
    }

    @Test("the kill backend lists its gaps; the lsm backend has none")
    func gaps() {
        #expect(Backend.lsm.gaps.isEmpty)
        #expect(Backend.kill.gaps.contains { $0.hasPrefix("io_uring") })
    }
}
