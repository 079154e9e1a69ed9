// SPDX-License-Identifier: Apache-2.0
import Testing
import GuardABI
@testable import KernelGuard

@Suite("Guard ABI")
struct GuardABITests {
    @Test("the structs shared with the BPF programs have the sizes guard_abi.h pins")
    func sizes() {
        #expect(MemoryLayout<ium_tag>.size == 24)
        #expect(MemoryLayout<ium_tag_request>.size == 16)
        #expect(MemoryLayout<ium_record_header>.size == 16)
        #expect(MemoryLayout<ium_lifecycle>.size == 56)
        #expect(MemoryLayout<ium_denial>.size == 192)
        #expect(MemoryLayout<ium_probe>.size == 32)
        #expect(MemoryLayout<ium_settings>.size == 16)
        #expect(MemoryLayout<ium_state>.size == 48)
        #expect(MemoryLayout<ium_lifecycle>.offset(of: \.start_ns) == 24)
        #expect(MemoryLayout<ium_lifecycle>.offset(of: \.comm) == 40)
        #expect(MemoryLayout<ium_denial>.offset(of: \.comm) == 48)
        #expect(MemoryLayout<ium_denial>.offset(of: \.filename) == 64)
    }

    @Test("a denial record decodes field by field; a short or unknown record does not crash")
    func decode() {
        var denial = ium_denial()
        denial.header.type = UInt32(IUM_RECORD_DENIAL.rawValue)
        denial.header.pid = 42
        denial.target_pid = 7
        denial.operation = UInt32(IUM_OP_CODE_WRITE.rawValue)
        denial.backend = UInt32(IUM_BACKEND_LSM.rawValue)
        denial.action = UInt32(IUM_ACTION_DENIED.rawValue)
        let event = withUnsafeBytes(of: denial) { GuardEvent($0) }
        #expect(event?.kind == .denial)
        #expect(event?.operation == .codeWrite)
        #expect(event?.pid == 42 && event?.targetPid == 7 && event?.backend == .lsm && event?.action == "denied")
        #expect(withUnsafeBytes(of: denial) { GuardEvent(UnsafeRawBufferPointer(rebasing: $0.prefix(40))) } == nil)
        var exit = ium_lifecycle()
        exit.header.type = UInt32(IUM_RECORD_EXIT.rawValue)
        exit.code = 7 << 8
        #expect(withUnsafeBytes(of: exit) { GuardEvent($0) }?.exitCode == 7 << 8)
        var unknown = ium_record_header()
        unknown.type = 99
        #expect(withUnsafeBytes(of: unknown) { GuardEvent($0) }?.kind == .unknown)
    }

    @Test("every operation of guard_abi.h has a name")
    func operations() {
        for value in UInt32(IUM_OP_PTRACE_ACCESS.rawValue)...UInt32(IUM_OP_DAEMON_CODE.rawValue) {
            #expect(GuardEvent.Operation.byValue[value] != nil, "operation \(value)")
        }
    }

    @Test("sealed-mode denials name their detail: lockdown reason, program type, kernel file")
    func operationNames() {
        var denial = ium_denial()
        denial.header.type = UInt32(IUM_RECORD_DENIAL.rawValue)
        func name(_ op: ium_operation, _ mode: UInt32) -> String? {
            denial.operation = UInt32(op.rawValue)
            denial.mode = mode
            return withUnsafeBytes(of: denial) { GuardEvent($0) }?.operationName
        }
        #expect(name(IUM_OP_LOCKDOWN, 22) == "lockdown:kcore")
        #expect(name(IUM_OP_LOCKDOWN, 27) == "lockdown:tracefs")
        #expect(name(IUM_OP_BPF_LOAD, 5) == "bpf-load:tracepoint")
        #expect(name(IUM_OP_BPF_LOAD, 1036) == "bpf-load:token")
        #expect(name(IUM_OP_KMOD, 3) == "kmod:kexec-image")
        #expect(name(IUM_OP_LOCKDOWN, 99) == "lockdown")
        #expect(name(IUM_OP_PTRACE_ACCESS, 0x12) == "ptrace-access")
    }

    @Test("the kill backend lists its gaps; the lsm backend has none")
    func gaps() {
        #expect(Backend.lsm.gaps.isEmpty)
        #expect(Backend.kill.gaps.contains { $0.hasPrefix("io_uring") })
        #expect(Backend.kill.gaps.contains { $0.hasPrefix("no sealed mode") })
    }
}
