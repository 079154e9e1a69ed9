// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import SystemPackage
internal import CLinuxShims
internal import GuardABI

/// Processes and threads: pidfds, the kernel's read check, scheduling facts, spawning.
public enum Processes {
    /// pidfd_open(2): a descriptor of process `pid` (close-on-exec).
    public static func pidfd(_ pid: Int32) throws(Errno) -> Int32 {
        let fd = ium_pidfd_open(pid, 0)
        guard fd >= 0 else { throw Errno.current }
        return fd
    }

    /// Whether a pidfd's process has exited (its pidfd is readable).
    public static func hasExited(pidfd: Int32) throws(Errno) -> Bool {
        let rc = ium_pidfd_exited(pidfd)
        guard rc >= 0 else { throw Errno.current }
        return rc == 1
    }

    /// The raw wait status the kernel keeps for a reaped process (Linux 6.15+; ENOTTY or
    /// EINVAL before, ESRCH while it runs).
    public static func exitStatus(pidfd: Int32) throws(Errno) -> Int32 {
        var status: Int32 = 0
        guard ium_pidfd_exit_status(pidfd, &status) == 0 else { throw Errno.current }
        return status
    }

    /// A wait status as the shell reports it: the exit code, or 128 + the signal.
    public static func exitCode(waitStatus: Int32) -> Int32 { ium_exit_code(waitStatus) }

    /// Runs the kernel's ptrace read check of the calling process on `pid` (task_view.h):
    /// whether it passes.
    public static func readProbe(_ pid: Int32) -> Bool { ium_read_probe(pid) == 1 }

    /// The same check on the process a pidfd refers to.
    public static func readProbe(pidfd: Int32) -> Bool { ium_read_probe_pidfd(pidfd) == 1 }

    /// The calling thread's id.
    public static var threadID: Int32 { ium_gettid() }

    /// A process's I/O priority class (ioprio_get), or nil when it cannot be read.
    public static func ioPriorityClass(_ pid: Int32) -> Int32? {
        let p = ium_ioprio_get_process(pid)
        return p < 0 ? nil : p >> 13
    }

    /// Sets RLIMIT_CORE of `pid` to one byte: no core file and no core_pattern pipe.
    public static func limitCoreDumps(_ pid: Int32) throws(Errno) {
        guard ium_limit_core_dumps(pid) == 0 else { throw Errno.current }
    }

    /// What `ium run` applies to the child before it executes the program.
    public struct SpawnOptions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// PR_SET_NO_NEW_PRIVS.
        public static let noNewPrivileges = SpawnOptions(rawValue: UInt32(IUM_SPAWN_NO_NEW_PRIVS))
        /// PR_SET_MDWE (no writable-then-executable memory).
        public static let memoryDenyWriteExecute = SpawnOptions(rawValue: UInt32(IUM_SPAWN_MDWE))
    }

    /// Forks a child that sends `tagRequest` on a new connection to `socketPath`, and on
    /// success applies `options` and executes `arguments` with `environment` (linux_shims.h,
    /// ium_spawn_secure). Returns the child's pid.
    public static func spawnSecure(socketPath: String, tagRequest: [UInt8], arguments: [String], environment: [String],
                                   options: SpawnOptions) throws(Errno) -> Int32 {
        let cArgs = arguments.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        let child = tagRequest.withUnsafeBufferPointer { f in
            ium_spawn_secure(socketPath, f.baseAddress, f.count, cArgs, cEnv, options.rawValue)
        }
        guard child > 0 else { throw Errno.current }
        return child
    }

    /// Waits for child `pid` (retrying EINTR) and returns its raw wait status.
    public static func wait(_ pid: Int32) throws(Errno) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw Errno.current }
        }
        return status
    }

    /// This process's environment, as `NAME=value` strings.
    public static var environment: [String] {
        var entries: [String] = []
        var p = environ
        while let entry = p.pointee {
            entries.append(String(cString: entry))
            p += 1
        }
        return entries
    }
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a detached thread (blocking work runs on its own threads, never on Swift
/// concurrency's cooperative pool).
/// - Returns: false when no thread could be started (the body does not run).
@discardableResult
public func startThread(_ body: @escaping () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = ium_thread_start({ arg in
        guard let arg else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue().body()
        return nil
    }, box)
    if rc != 0 { Unmanaged<ThreadBody>.fromOpaque(box).release() }
    return rc == 0
}
