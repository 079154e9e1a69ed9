// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
import LinuxEdge
import SystemPackage

/// The tag bits of a process (`IUM_TAG_*` of guard_abi.h).
public struct TagFlags: OptionSet, Hashable, Sendable {
    /// The raw bits.
    public let rawValue: UInt32
    /// Creates flags from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// A trustlet: nobody else may reach into it.
    public static let secure = TagFlags(rawValue: UInt32(IUM_TAG_SECURE))
    /// iumd itself: may make PTRACE_MODE_READ checks on secure processes (never ATTACH).
    public static let inspector = TagFlags(rawValue: UInt32(IUM_TAG_INSPECTOR))
    /// iumd itself: the only process that may touch a sealed guard.
    public static let daemon = TagFlags(rawValue: UInt32(IUM_TAG_DAEMON))
}

/// What became of a tag request.
public enum TagOutcome: Hashable, Sendable {
    /// The process is tagged.
    case tagged
    /// Refused: the process is being traced (by this process).
    case traced(by: Int32)
    /// Refused: a seccomp filter of the process has a user-notification listener.
    case supervised
    /// Refused: a kernel thread.
    case kernelThread
    /// Refused: the process is exiting (or has no address space).
    case exiting
}

/// A read probe the kernel let pass (boot-clock nanoseconds).
public struct ReadProbe: Hashable, Sendable {
    /// When the probe passed.
    public var timeNanoseconds: UInt64
    /// The caller's start time (its identity with its pid).
    public var callerStartNanoseconds: UInt64
    /// The target's start time.
    public var targetStartNanoseconds: UInt64
    /// The target's `start_stack` when the probe passed (what `/proc/PID/stat` showed the caller).
    public var startStack: UInt64
    /// The target's exec id (`self_exec_id`) when the probe passed.
    public var targetExecId: UInt64

    init(_ probe: ium_probe) {
        timeNanoseconds = probe.time_ns
        callerStartNanoseconds = probe.caller_start_ns
        targetStartNanoseconds = probe.target_start_ns
        startStack = probe.start_stack
        targetExecId = probe.target_exec_id
    }
}

extension KernelGuard {
    /// The tag flags of a process (`IUM_TAG_*`), 0 when untagged.
    /// - Parameter pid: The process id.
    /// - Throws: `.noSuchProcess` when the process is gone; `.mapFailed` when the tag store
    ///   cannot be read (never read as "not secure").
    public func tagFlags(pid: Int32) throws(GuardError) -> UInt32 {
        let pidfd = try openPidfd(pid)
        defer { close(pidfd) }
        var key = pidfd
        var tag = ium_tag()
        if bpf_map_lookup_elem(try mapFD("ium_tags"), &key, &tag) != 0 {
            if errno == ENOENT { return 0 }
            throw GuardError(.mapFailed, "cannot read the tag of process \(pid)", errno: errno)
        }
        return tag.flags
    }

    /// Adds tag flags to a process. Irreversible: nothing removes a flag.
    ///
    /// Under the lsm backend the kernel checks and tags in one step: the request goes into
    /// `ium_tag_requests` and the process gets signal 0, whose task_kill hook refuses a
    /// process that is traced, supervised by a seccomp user-notification listener, a kernel
    /// thread or exiting, and otherwise tags it, so nothing can attach in between. The caller
    /// must be the guard's daemon (``TagFlags/daemon``), except to tag itself. Under the kill
    /// backend the tag is written through a pidfd (so a recycled pid is never tagged) and the
    /// checks are iumd's, in user space.
    /// - Parameters:
    ///   - pid: The process.
    ///   - flags: The bits to add.
    public func tag(pid: Int32, flags: TagFlags) throws(GuardError) -> TagOutcome {
        guard backend == .lsm, pid != getpid() else {
            try writeTag(pid: pid, flags: flags)
            return .tagged
        }
        let requests = try mapFD("ium_tag_requests")
        return try tagLock.withLock { _ throws(GuardError) -> TagOutcome in
            var key = UInt32(bitPattern: pid)
            var request = ium_tag_request(flags: flags.rawValue, status: UInt32(IUM_TAG_PENDING.rawValue), detail: 0, reserved: 0)
            guard bpf_map_update_elem(requests, &key, &request, UInt64(BPF_ANY)) == 0 else {
                throw GuardError(.mapFailed, "cannot ask the guard to tag process \(pid)", errno: errno)
            }
            defer { _ = bpf_map_delete_elem(requests, &key) }
            guard kill(pid, 0) == 0 else {
                throw GuardError(errno == ESRCH ? .noSuchProcess : .mapFailed, "no process with id \(pid)", errno: errno)
            }
            guard bpf_map_lookup_elem(requests, &key, &request) == 0 else {
                throw GuardError(.mapFailed, "cannot read the guard's answer for process \(pid)", errno: errno)
            }
            switch request.status {
            case UInt32(IUM_TAG_DONE.rawValue): return .tagged
            case UInt32(IUM_TAG_REFUSED_TRACED.rawValue): return .traced(by: Int32(bitPattern: request.detail))
            case UInt32(IUM_TAG_REFUSED_SUPERVISED.rawValue): return .supervised
            case UInt32(IUM_TAG_REFUSED_KTHREAD.rawValue): return .kernelThread
            case UInt32(IUM_TAG_REFUSED_EXITING.rawValue): return .exiting
            default:
                throw GuardError(.refused, "the guard did not answer the tag request for process \(pid)",
                                 hint: "iumd is not the guard's daemon (the DAEMON tag bit is missing)")
            }
        }
    }

    /// Writes tag bits through a pidfd (the kill backend, and iumd tagging itself).
    private func writeTag(pid: Int32, flags: TagFlags) throws(GuardError) {
        let tags = try mapFD("ium_tags")
        let pidfd = try openPidfd(pid)
        defer { close(pidfd) }
        var key = pidfd
        var tag = ium_tag()
        if bpf_map_lookup_elem(tags, &key, &tag) != 0 {
            guard errno == ENOENT else { throw GuardError(.mapFailed, "cannot read the tag of process \(pid)", errno: errno) }
            tag = ium_tag()
        }
        tag.flags |= flags.rawValue
        guard bpf_map_update_elem(tags, &key, &tag, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot tag process \(pid)", errno: errno)
        }
    }

    private func openPidfd(_ pid: Int32) throws(GuardError) -> Int32 {
        do { return try Processes.pidfd(pid) } catch {
            throw GuardError(error == .noSuchProcess || error == .invalidArgument ? .noSuchProcess : .mapFailed,
                             "no process with id \(pid)", errno: error.rawValue)
        }
    }

    // MARK: - Caller-view probes

    /// The kernel's verdict on a caller's last read probe of a target (guard_abi.h): when it
    /// passed, and the two processes' start times; nil when no probe of that pair passed.
    /// - Parameters:
    ///   - caller: The probing process (tgid).
    ///   - target: The probed process (tgid).
    public func readProbe(caller: Int32, target: Int32) throws(GuardError) -> ReadProbe? {
        var key = ium_probe_key(caller_tgid: UInt32(bitPattern: caller), target_tgid: UInt32(bitPattern: target))
        var probe = ium_probe()
        guard bpf_map_lookup_elem(try mapFD("ium_probes"), &key, &probe) == 0 else {
            if errno == ENOENT { return nil }
            throw GuardError(.mapFailed, "cannot read the probe of \(caller) on \(target)", errno: errno)
        }
        return ReadProbe(probe)
    }

    /// The same record from the guard's probe cache, without a system call: nil when the
    /// cache's entry for the pair holds another pair's record (or the guard has no cache). It
    /// may be older than ``readProbe(caller:target:)``'s (a write skipped under contention):
    /// a caller that finds it wanting asks ``readProbe(caller:target:)``.
    public func cachedProbe(caller: Int32, target: Int32) -> ReadProbe? {
        guard let probeCache else { return nil }
        var probe = ium_probe()
        guard ium_probe_cache_read(probeCache, UInt32(bitPattern: caller), UInt32(bitPattern: target), &probe) == 1 else {
            return nil
        }
        return ReadProbe(probe)
    }
}
