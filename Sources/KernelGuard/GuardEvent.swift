// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI

/// One record from the guard: a denial, or a process's fork, exec or exit.
public struct GuardEvent: Hashable, Sendable, CustomStringConvertible {
    /// The kind of record.
    public enum Kind: String, Sendable { case denial, fork, exec, exit, unknown }
    /// What was attempted (denials).
    public enum Operation: String, Sendable {
        case ptraceAccess = "ptrace-access", ptraceTraceme = "ptrace-traceme", signalPayload = "signal-payload"
        case ptrace, vmRead = "vm-read", vmWrite = "vm-write", pidfdGetfd = "pidfd-getfd", procOpen = "proc-open"
        case none
    }

    /// Boot-clock time of the event, in nanoseconds.
    public var timeNanoseconds: UInt64
    /// The kind.
    public var kind: Kind
    /// The operation (denials).
    public var operation: Operation
    /// Denial: the caller's pid; lifecycle: the process.
    public var pid: Int32
    /// The caller's (or exiting) thread.
    public var tid: Int32
    /// The caller's uid.
    public var uid: UInt32
    /// Denial: the secure process.
    public var targetPid: Int32
    /// Denial: the targeted thread.
    public var targetTid: Int32
    /// ptrace mode, ptrace request, signal number or fd.
    public var mode: UInt32
    /// The backend that acted.
    public var backend: Backend?
    /// `denied` (EPERM) or `killed` (SIGKILL).
    public var action: String
    /// Exit: the wait status.
    public var exitCode: Int32
    /// Fork: the creating process.
    public var creatorPid: Int32
    /// The process's start time after boot, in nanoseconds.
    public var startNanoseconds: UInt64
    /// The caller's (or process's) command name.
    public var comm: String
    /// Exec: the program; proc-open: the /proc file.
    public var filename: String

    init(_ e: ium_event) {
        timeNanoseconds = e.time_ns
        kind = switch e.type {
        case UInt32(IUM_EVENT_DENIAL.rawValue): .denial
        case UInt32(IUM_EVENT_FORK.rawValue): .fork
        case UInt32(IUM_EVENT_EXEC.rawValue): .exec
        case UInt32(IUM_EVENT_EXIT.rawValue): .exit
        default: .unknown
        }
        operation = switch e.operation {
        case UInt32(IUM_OP_PTRACE_ACCESS.rawValue): .ptraceAccess
        case UInt32(IUM_OP_PTRACE_TRACEME.rawValue): .ptraceTraceme
        case UInt32(IUM_OP_SIGNAL_PAYLOAD.rawValue): .signalPayload
        case UInt32(IUM_OP_PTRACE.rawValue): .ptrace
        case UInt32(IUM_OP_VM_READ.rawValue): .vmRead
        case UInt32(IUM_OP_VM_WRITE.rawValue): .vmWrite
        case UInt32(IUM_OP_PIDFD_GETFD.rawValue): .pidfdGetfd
        case UInt32(IUM_OP_PROC_OPEN.rawValue): .procOpen
        default: .none
        }
        pid = Int32(bitPattern: e.pid)
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
        exitCode = e.exit_code
        creatorPid = Int32(bitPattern: e.creator_pid)
        startNanoseconds = e.start_ns
        comm = withUnsafeBytes(of: e.comm) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        filename = withUnsafeBytes(of: e.filename) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// One line: `denial ptrace-access by 123/123 (gdb, uid 0) on 456/456 mode 0x12: denied (lsm)`.
    public var description: String {
        switch kind {
        case .denial:
            var text = "denial \(operation.rawValue) by \(pid)/\(tid) (\(comm), uid \(uid)) on \(targetPid)/\(targetTid)"
            text += " mode 0x" + String(mode, radix: 16)
            if !filename.isEmpty { text += " file \(filename)" }
            return text + ": \(action) (\(backend?.rawValue ?? "?"))"
        case .fork: return "fork \(pid) by \(creatorPid) (\(comm))"
        case .exec: return "exec \(pid) \(filename)"
        case .exit: return "exit \(pid) (\(comm)) status \(exitCode)"
        case .unknown: return "unknown event"
        }
    }
}

/// Reads the guard's event ring buffer. Not thread-safe: one reader, one thread.
public final class GuardEventReader {
    private var ring: OpaquePointer?
    private let box = EventBox()

    final class EventBox { var events: [GuardEvent] = [] }

    init(mapFD: Int32) throws(GuardError) {
        let context = Unmanaged.passUnretained(box).toOpaque()
        guard let ring = ring_buffer__new(mapFD, { context, data, size in
            guard let context, let data, size >= MemoryLayout<ium_event>.size else { return 0 }
            let box = Unmanaged<GuardEventReader.EventBox>.fromOpaque(context).takeUnretainedValue()
            box.events.append(GuardEvent(data.loadUnaligned(as: ium_event.self)))
            return 0
        }, context, nil) else {
            throw GuardError(.mapFailed, "cannot open the event ring buffer", errno: errno)
        }
        self.ring = ring
    }

    deinit {
        if let ring { ring_buffer__free(ring) }
    }

    /// Waits up to `timeoutMilliseconds` for events and returns those that arrived (blocking).
    /// - Parameter timeoutMilliseconds: How long to wait; 0 returns at once.
    public func poll(timeoutMilliseconds: Int32) -> [GuardEvent] {
        guard let ring else { return [] }
        _ = ring_buffer__poll(ring, timeoutMilliseconds)
        // Lifecycle events are submitted without a wakeup (guard.bpf.c): drain them too.
        _ = ring_buffer__consume(ring)
        defer { box.events.removeAll(keepingCapacity: true) }
        return box.events
    }
}
