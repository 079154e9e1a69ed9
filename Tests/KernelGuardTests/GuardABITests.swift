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
        #expect(MemoryLayout<ium_probe>.size == 40)
        #expect(MemoryLayout<ium_probe_cache_entry>.size == 56)
        #expect(MemoryLayout<ium_lifecycle_slot>.size == 64 && MemoryLayout<ium_lifecycle_slot>.offset(of: \.record) == 8)
        #expect(MemoryLayout<ium_settings>.size == 16)
        #expect(MemoryLayout<ium_state>.size == 48)
        #expect(MemoryLayout<ium_lifecycle>.offset(of: \.start_ns) == 24)
        #expect(MemoryLayout<ium_lifecycle>.offset(of: \.comm) == 40)
        #expect(MemoryLayout<ium_denial>.offset(of: \.comm) == 48)
        #expect(MemoryLayout<ium_denial>.offset(of: \.filename) == 64)
    }

    @Test("task views: the record's layout, and the one mapping to class 0 bit by bit (task_view.h)")
    func taskViewMapping() {
        #expect(MemoryLayout<ium_view>.size == 80)
        #expect(MemoryLayout<ium_view>.offset(of: \.start_ticks) == 16)
        #expect(MemoryLayout<ium_view>.offset(of: \.policy) == 56)
        func map(_ flags: UInt32, policy: UInt32 = 0, nice: Int32 = 0, dumpable: UInt32 = 1,
                 table: UInt32 = 0) -> ium_basic_information {
            var v = ium_view()
            v.pid = 4242
            v.flags = flags
            v.policy = policy
            v.nice = nice
            v.dumpable = dumpable
            v.cpus = 0b1010
            v.start_stack = 0x7FFF_0000
            var c = ium_view_context(creator_pid: 7, table_flags: table, reserved: 0)
            return ium_view_basic_information(&v, &c)
        }
        let plain = map(IUM_VIEW_HAS_MM)
        #expect(plain.exit_status == 0x103 && plain.unique_process_id == 4242 && plain.inherited_from_unique_process_id == 7)
        #expect(plain.affinity_mask == 0b1010 && plain.base_priority == 8 && plain.flags == 0)
        #expect(plain.peb_base_address == 0, "start_stack only after a passed read check")
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_READABLE).peb_base_address == 0x7FFF_0000)
        #expect(map(IUM_VIEW_HAS_MM, dumpable: 0).flags == UInt32(IUM_NT_PROTECTED))
        #expect(map(IUM_VIEW_HAS_MM, dumpable: 2).flags == UInt32(IUM_NT_PROTECTED))
        #expect(map(IUM_VIEW_KTHREAD, dumpable: 0).flags == 0, "no address space: not protected")
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_ADDR32).flags == 0, "32-bit only to a caller that may read it")
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_ADDR32 | IUM_VIEW_READABLE).flags == UInt32(IUM_NT_WOW64))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_EXITING).flags == UInt32(IUM_NT_DELETING))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_STOPPED).flags == UInt32(IUM_NT_FROZEN))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_FROZEN).flags == UInt32(IUM_NT_FROZEN))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_FROZEN | IUM_VIEW_ZOMBIE).flags == UInt32(IUM_NT_DELETING))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_IDLE_IO).flags == UInt32(IUM_NT_BACKGROUND))
        #expect(map(IUM_VIEW_HAS_MM, policy: 3).flags == UInt32(IUM_NT_BACKGROUND))
        #expect(map(IUM_VIEW_HAS_MM, policy: 5).flags == UInt32(IUM_NT_BACKGROUND))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_SECURE).flags == UInt32(IUM_NT_SECURE))
        #expect(map(IUM_VIEW_HAS_MM | IUM_VIEW_CHILD_PIDNS).flags == UInt32(IUM_NT_SUBSYSTEM))
        let kept = UInt32(IUM_NT_CROSS_SESSION | IUM_NT_STRONGLY_NAMED)
        #expect(map(IUM_VIEW_HAS_MM, table: kept | UInt32(IUM_NT_SECURE)).flags == kept, "iumd keeps only those two")
        #expect(map(IUM_VIEW_HAS_MM, policy: 1).base_priority == 24 && map(IUM_VIEW_HAS_MM, policy: 5).base_priority == 4)
        #expect(map(IUM_VIEW_HAS_MM, nice: -15).base_priority == 13 && map(IUM_VIEW_HAS_MM, nice: -1).base_priority == 10)
        #expect(map(IUM_VIEW_HAS_MM, nice: 9).base_priority == 6 && map(IUM_VIEW_HAS_MM, nice: 10).base_priority == 4)
    }

    @Test("the probe cache answers only for the pair its entry names, and not while the guard writes it (task_view.h)")
    func probeCacheReader() {
        var cache = [ium_probe_cache_entry](repeating: ium_probe_cache_entry(), count: Int(IUM_PROBE_CACHE))
        let slot = Int(ium_probe_slot(100, 200))
        #expect(slot < Int(IUM_PROBE_CACHE))
        let record = ium_probe(time_ns: 1, caller_start_ns: 2, target_start_ns: 3, start_stack: 0x7FFF_1000, target_exec_id: 4)
        cache[slot] = ium_probe_cache_entry(seq: 2, caller_tgid: 100, target_tgid: 200, reserved: 0, probe: record)
        func read(_ caller: UInt32, _ target: UInt32) -> ium_probe? {
            var out = ium_probe()
            return ium_probe_cache_read(&cache, caller, target, &out) == 1 ? out : nil
        }
        #expect(read(100, 200)?.start_stack == 0x7FFF_1000)
        #expect(read(100, 200)?.caller_start_ns == 2 && read(100, 200)?.target_start_ns == 3 && read(100, 200)?.target_exec_id == 4)
        #expect(read(100, 201) == nil, "an empty entry")
        // Another pair whose slot is the same (target pids 16384 apart) holds the entry.
        #expect(ium_probe_slot(100, 200 + UInt32(IUM_PROBE_CACHE)) == UInt32(slot))
        #expect(read(100, 200 + UInt32(IUM_PROBE_CACHE)) == nil)
        cache[slot].seq = 3
        #expect(read(100, 200) == nil, "odd: the guard is writing it")
    }

    @Test("the lifecycle ring's reader returns a record only while its slot holds it, complete (lifecycle_ring.h)")
    func lifecycleRingReader() {
        let perCPU = Int(IUM_LIFECYCLE_SLOTS) + 1
        var ring = [ium_lifecycle_slot](repeating: ium_lifecycle_slot(), count: 2 * perCPU)
        func write(cpu: UInt32, index: UInt64, pid: UInt32) {
            var slot = ium_lifecycle_slot()
            slot.seq = index + 1
            slot.record.header.type = UInt32(IUM_RECORD_FORK.rawValue)
            slot.record.header.pid = pid
            ring[Int(ium_lifecycle_entry(cpu, index))] = slot
            ring[Int(cpu) * perCPU].seq = index + 1
        }
        func read(cpu: UInt32, index: UInt64) -> ium_lifecycle? {
            var out = ium_lifecycle()
            return ium_lifecycle_read(&ring, cpu, index, &out) == 1 ? out : nil
        }
        func state(cpu: UInt32, index: UInt64) -> Int32 {
            var out = ium_lifecycle()
            return ium_lifecycle_read(&ring, cpu, index, &out)
        }
        write(cpu: 1, index: 0, pid: 10)
        write(cpu: 1, index: 1, pid: 11)
        #expect(ium_lifecycle_head(&ring, 1) == 2 && ium_lifecycle_head(&ring, 0) == 0)
        #expect(ium_lifecycle_entry(1, 0) == UInt32(perCPU + 1), "CPU 1's records follow its head entry")
        #expect(read(cpu: 1, index: 0)?.header.pid == 10 && read(cpu: 1, index: 1)?.header.pid == 11)
        #expect(state(cpu: 0, index: 0) == -1, "CPU 0 has not written its record 0 yet")
        // Record 0's slot is reused by record IUM_LIFECYCLE_SLOTS: record 0 is lost, not misread.
        write(cpu: 1, index: UInt64(IUM_LIFECYCLE_SLOTS), pid: 12)
        #expect(state(cpu: 1, index: 0) == 0)
        #expect(read(cpu: 1, index: UInt64(IUM_LIFECYCLE_SLOTS))?.header.pid == 12)
        #expect(state(cpu: 1, index: UInt64(IUM_LIFECYCLE_SLOTS) + 1) == -1, "reserved, its slot still holds record 1")
        ring[Int(ium_lifecycle_entry(1, 1))].seq = 0
        #expect(state(cpu: 1, index: 1) == -1, "0: the guard is writing the slot")
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
