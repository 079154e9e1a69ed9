// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
import LinuxEdge

/// One record from the guard: a denial, or a process's fork, exec or exit.
public struct GuardEvent: Hashable, Sendable, CustomStringConvertible {
    /// The kind of record.
    public enum Kind: String, Sendable { case denial, fork, exec, exit, unknown }
    /// What was attempted (denials): guard_abi.h's `enum ium_operation`, by name.
    public enum Operation: String, Sendable {
        case ptraceAccess = "ptrace-access", ptraceTraceme = "ptrace-traceme", signalPayload = "signal-payload"
        case ptrace, vmRead = "vm-read", vmWrite = "vm-write", pidfdGetfd = "pidfd-getfd", procOpen = "proc-open"
        case perf, coreDump = "core-dump", rlimitCore = "rlimit-core", codeWrite = "code-write", codeMap = "code-map"
        case sigio, procFd = "proc-fd", execSupervised = "exec-supervised", tamperBPF = "tamper-bpf"
        case tamperPin = "tamper-pin", bpfLoad = "bpf-load", lockdown, kmod, signalDaemon = "signal-daemon"
        case sysctl, daemonCode = "daemon-code"
        case none

        static let byValue: [UInt32: Operation] = [
            UInt32(IUM_OP_PTRACE_ACCESS.rawValue): .ptraceAccess, UInt32(IUM_OP_PTRACE_TRACEME.rawValue): .ptraceTraceme,
            UInt32(IUM_OP_SIGNAL_PAYLOAD.rawValue): .signalPayload, UInt32(IUM_OP_PTRACE.rawValue): .ptrace,
            UInt32(IUM_OP_VM_READ.rawValue): .vmRead, UInt32(IUM_OP_VM_WRITE.rawValue): .vmWrite,
            UInt32(IUM_OP_PIDFD_GETFD.rawValue): .pidfdGetfd, UInt32(IUM_OP_PROC_OPEN.rawValue): .procOpen,
            UInt32(IUM_OP_PERF.rawValue): .perf, UInt32(IUM_OP_CORE_DUMP.rawValue): .coreDump,
            UInt32(IUM_OP_RLIMIT_CORE.rawValue): .rlimitCore, UInt32(IUM_OP_CODE_WRITE.rawValue): .codeWrite,
            UInt32(IUM_OP_CODE_MAP.rawValue): .codeMap, UInt32(IUM_OP_SIGIO.rawValue): .sigio,
            UInt32(IUM_OP_PROC_FD.rawValue): .procFd, UInt32(IUM_OP_EXEC_SUPERVISED.rawValue): .execSupervised,
            UInt32(IUM_OP_TAMPER_BPF.rawValue): .tamperBPF, UInt32(IUM_OP_TAMPER_PIN.rawValue): .tamperPin,
            UInt32(IUM_OP_BPF_LOAD.rawValue): .bpfLoad, UInt32(IUM_OP_LOCKDOWN.rawValue): .lockdown,
            UInt32(IUM_OP_KMOD.rawValue): .kmod, UInt32(IUM_OP_SIGNAL_DAEMON.rawValue): .signalDaemon,
            UInt32(IUM_OP_SYSCTL.rawValue): .sysctl, UInt32(IUM_OP_DAEMON_CODE.rawValue): .daemonCode,
        ]
    }

    /// Boot-clock time of the record, in nanoseconds (fork: the process's start; 0 for exec and
    /// exit records, which the guard writes without reading the clock).
    public var timeNanoseconds: UInt64
    /// The kind.
    public var kind: Kind
    /// The operation (denials).
    public var operation: Operation = .none
    /// Denial: the caller's pid; lifecycle: the process.
    public var pid: Int32
    /// The caller's (or exiting) thread.
    public var tid: Int32 = 0
    /// The caller's uid.
    public var uid: UInt32 = 0
    /// Denial: the secure process (0 when the guard itself was the target).
    public var targetPid: Int32 = 0
    /// Denial: the targeted thread.
    public var targetTid: Int32 = 0
    /// ptrace mode or request, signal number, fd, program type, lockdown reason…
    public var mode: UInt32 = 0
    /// The backend that acted.
    public var backend: Backend?
    /// `denied` (EPERM) or `killed` (SIGKILL).
    public var action: String = ""
    /// Exit: the wait status.
    public var exitCode: Int32 = 0
    /// Fork: the creating process.
    public var creatorPid: Int32 = 0
    /// Exec: the low 32 bits of the process's exec id (`self_exec_id`) after this exec.
    public var execId: UInt32 = 0
    /// The process's start time after boot, in nanoseconds.
    public var startNanoseconds: UInt64 = 0
    /// The caller's (or process's) command name.
    public var comm: String = ""
    /// Kill backend proc-open: the /proc file; sysctl: its name.
    public var filename: String = ""

    /// Decodes a record from the ring buffer; nil when it is too short for its type.
    init?(_ data: UnsafeRawBufferPointer) {
        guard data.count >= MemoryLayout<ium_record_header>.size else { return nil }
        let header = data.loadUnaligned(as: ium_record_header.self)
        timeNanoseconds = header.time_ns
        pid = Int32(bitPattern: header.pid)
        switch header.type {
        case UInt32(IUM_RECORD_DENIAL.rawValue):
            guard data.count >= MemoryLayout<ium_denial>.size else { return nil }
            let e = data.loadUnaligned(as: ium_denial.self)
            kind = .denial
            operation = Operation.byValue[e.operation] ?? .none
            tid = Int32(bitPattern: e.tid)
            uid = e.uid
            targetPid = Int32(bitPattern: e.target_pid)
            targetTid = Int32(bitPattern: e.target_tid)
            mode = e.mode
            backend = Backend(abiValue: e.backend)
            action = switch e.action {
            case UInt32(IUM_ACTION_DENIED.rawValue): "denied"
            case UInt32(IUM_ACTION_KILLED.rawValue): "killed"
            default: ""
            }
            comm = string(fromCArray: e.comm)
            filename = string(fromCArray: e.filename)
        case UInt32(IUM_RECORD_FORK.rawValue), UInt32(IUM_RECORD_EXEC.rawValue), UInt32(IUM_RECORD_EXIT.rawValue):
            guard data.count >= MemoryLayout<ium_lifecycle>.size else { return nil }
            let e = data.loadUnaligned(as: ium_lifecycle.self)
            kind = header.type == UInt32(IUM_RECORD_FORK.rawValue) ? .fork : header.type == UInt32(IUM_RECORD_EXEC.rawValue) ? .exec : .exit
            tid = Int32(bitPattern: e.tid)
            uid = e.uid
            startNanoseconds = e.start_ns
            comm = string(fromCArray: e.comm)
            if kind == .fork { creatorPid = e.code }
            if kind == .exec { execId = UInt32(bitPattern: e.code) }
            if kind == .exit { exitCode = e.code }
        default:
            kind = .unknown
        }
    }

    /// The operation's name with its detail where one helps the reader: `lockdown:kcore`,
    /// `bpf-load:tracepoint`, `kmod:module`; otherwise the operation itself.
    public var operationName: String {
        let detail: String? = switch operation {
        case .lockdown: Self.lockdownReasons[mode]
        case .bpfLoad: Self.programTypes[mode]
        case .kmod: Self.kernelFiles[mode]
        default: nil
        }
        return detail.map { "\(operation.rawValue):\($0)" } ?? operation.rawValue
    }
    // enum lockdown_reason (identical in 6.1 and 6.12), the ones the sealed guard refuses.
    static let lockdownReasons: [UInt32: String] = [
        2: "dev-mem", 4: "kexec", 5: "hibernation", 6: "pci-access", 7: "ioport", 8: "msr", 9: "acpi-tables",
        13: "module-parameters", 14: "mmiotrace", 15: "debugfs", 17: "bpf-write-user", 18: "dbg-write-kernel",
        22: "kcore", 23: "kprobes", 24: "bpf-read-kernel", 25: "dbg-read-kernel", 26: "perf", 27: "tracefs",
    ]
    // enum bpf_prog_type: the tracing-class types the sealed guard refuses; 1036: BPF_TOKEN_CREATE.
    static let programTypes: [UInt32: String] = [
        2: "kprobe", 5: "tracepoint", 7: "perf-event", 17: "raw-tracepoint", 24: "raw-tracepoint-writable",
        26: "tracing", 27: "struct-ops", 28: "ext", 29: "lsm", 31: "syscall", 1036: "token",
    ]
    // enum kernel_read_file_id / kernel_load_data_id.
    static let kernelFiles: [UInt32: String] = [2: "module", 3: "kexec-image", 4: "kexec-initramfs"]

    /// One line: `denial ptrace-access by 123/123 (gdb, uid 0) on 456/456 mode 0x12: denied (lsm)`.
    public var description: String {
        switch kind {
        case .denial:
            var text = "denial \(operationName) by \(pid)/\(tid) (\(comm), uid \(uid)) on "
            text += targetPid == 0 ? "the guard" : "\(targetPid)/\(targetTid)"
            text += " mode 0x" + String(mode, radix: 16)
            if !filename.isEmpty { text += " file \(filename)" }
            return text + ": \(action) (\(backend?.rawValue ?? "?"))"
        case .fork: return "fork \(pid) by \(creatorPid) (\(comm))"
        case .exec: return "exec \(pid) (\(comm))"
        case .exit: return "exit \(pid) (\(comm)) status \(exitCode)"
        case .unknown: return "unknown record"
        }
    }
}

/// Reads the guard's records: denials from its ring buffer (`ium_events`, which wakes the
/// reader), fork/exec/exit from its per-CPU lifecycle ring (`ium_lifecycle_ring`, mapped
/// read-only; guard_abi.h). Not thread-safe: one reader, one thread.
///
/// Order: each CPU's ring is in order, and ``poll(timeoutMilliseconds:)`` returns the lifecycle
/// records of one CPU after another. Across CPUs there is no order (exec and exit records carry
/// no time), and a record another CPU wrote just before one read in this round can only arrive
/// in the next round (its CPU's head was read first): the process table allows for both
/// (`ProcessDirectory.apply`).
public final class GuardEventReader {
    private var ring: OpaquePointer?
    private let box = EventBox()
    /// The guard whose lifecycle ring this reads (kept mapped while the reader lives).
    private let owner: KernelGuard
    /// Per CPU, the next lifecycle record to read.
    private var next: [UInt64]

    final class EventBox {
        var events: [GuardEvent] = []
        var records: UInt64 = 0
    }

    /// Records read so far, decodable or not (the delivered side of "produced = delivered +
    /// dropped"); wake records are not records.
    public var recordsRead: UInt64 { box.records }
    /// Lifecycle records the guard overwrote before this reader got to them.
    public private(set) var recordsLost: UInt64 = 0
    /// The error the last poll of the ring buffer returned (negative errno; EINTR excluded), 0
    /// when it succeeded.
    public private(set) var lastPollError: Int32 = 0

    /// Starts reading the lifecycle ring at its first record when the guard still holds every
    /// record it wrote (a guard loaded just now), as the ring buffer keeps what nobody read;
    /// otherwise (an adopted guard whose rings wrapped) at the records written from now on:
    /// a partial history could bring back a process whose exit was overwritten, and what came
    /// before is in `/proc`. A guard pinned by an older iumd has no lifecycle ring: its
    /// lifecycle records come through the ring buffer.
    init(owner: KernelGuard, eventsFD: Int32) throws(GuardError) {
        let context = Unmanaged.passUnretained(box).toOpaque()
        guard let ring = ring_buffer__new(eventsFD, { context, data, size in
            guard let context, let data, size >= UInt64(MemoryLayout<ium_record_header>.size) else { return 0 }
            let raw = UnsafeRawBufferPointer(start: data, count: Int(size))
            if raw.loadUnaligned(as: ium_record_header.self).type == UInt32(IUM_RECORD_WAKE.rawValue) { return 0 }
            let box = Unmanaged<GuardEventReader.EventBox>.fromOpaque(context).takeUnretainedValue()
            box.records += 1
            guard let event = GuardEvent(raw) else { return 0 }
            box.events.append(event)
            return 0
        }, context, nil) else {
            throw GuardError(.mapFailed, "cannot open the event ring buffer", errno: errno)
        }
        self.ring = ring
        self.owner = owner
        let heads = owner.lifecycleRing.map { slots in (0..<owner.lifecycleCPUs).map { ium_lifecycle_head(slots, UInt32($0)) } } ?? []
        next = heads.allSatisfy { $0 <= UInt64(IUM_LIFECYCLE_SLOTS) } ? heads.map { _ in 0 } : heads
    }

    deinit {
        if let ring { ring_buffer__free(ring) }
    }

    /// Waits up to `timeoutMilliseconds` for denials or a wake record, then returns the denials
    /// and every lifecycle record written since the last call (blocking).
    /// - Parameter timeoutMilliseconds: How long to wait; 0 returns at once.
    public func poll(timeoutMilliseconds: Int32) -> [GuardEvent] {
        guard let ring else { return [] }
        let polled = ring_buffer__poll(ring, timeoutMilliseconds)
        let consumed = ring_buffer__consume(ring)
        lastPollError = [polled, consumed].first(where: { $0 < 0 && $0 != -EINTR }) ?? 0
        defer { box.events.removeAll(keepingCapacity: true) }
        return box.events + drainLifecycle()
    }

    /// The lifecycle records each CPU wrote since the last drain.
    private func drainLifecycle() -> [GuardEvent] {
        guard let lifecycle = owner.lifecycleRing else { return [] }
        var events: [GuardEvent] = []
        var record = ium_lifecycle()
        for cpu in next.indices {
            let head = ium_lifecycle_head(lifecycle, UInt32(cpu))
            var index = next[cpu]
            if head &- index > UInt64(IUM_LIFECYCLE_SLOTS) {
                recordsLost &+= head &- index &- UInt64(IUM_LIFECYCLE_SLOTS)
                index = head &- UInt64(IUM_LIFECYCLE_SLOTS)
            }
            reading: while index < head {
                switch ium_lifecycle_read(lifecycle, UInt32(cpu), index, &record) {
                case 1:
                    box.records &+= 1
                    if let event = withUnsafeBytes(of: &record, { GuardEvent($0) }) { events.append(event) }
                case 0:
                    recordsLost &+= 1
                default:
                    break reading // still being written: the next poll reads it
                }
                index += 1
            }
            next[cpu] = index
        }
        return events
    }
}
