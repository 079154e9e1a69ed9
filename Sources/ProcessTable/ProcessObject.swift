// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import NTModel
import LinuxEdge
import SystemPackage
internal import GuardABI

/// How and when a process ended.
public struct ProcessExit: Hashable, Sendable {
    /// The raw wait status (as `waitpid(2)` reports it), nil when it could not be learned.
    public var waitStatus: Int32?
    /// When ium saw the exit, as a FILETIME.
    public var time: Int64

    /// Creates an exit record.
    /// - Parameters:
    ///   - waitStatus: The wait status, if known.
    ///   - time: The FILETIME of the exit.
    public init(waitStatus: Int32?, time: Int64) {
        self.waitStatus = waitStatus
        self.time = time
    }

    /// The NT `ExitStatus`: the exit code for a normal exit, 128 + the signal number for a
    /// process killed by a signal (the shell's convention), and 0 when the status is unknown.
    public var ntExitStatus: NTStatus {
        waitStatus.map { NTStatus(rawValue: UInt32(Processes.exitCode(waitStatus: $0))) } ?? .success
    }
}

/// A process object: what NT handles reference. It is bound to one process (its identity)
/// through a pidfd, so a recycled pid never makes it describe another process, and it keeps
/// answering after the process exits (with its exit status and IsProcessDeleting) for as
/// long as something references it.
public final class ProcessObject: Sendable {
    /// What was recorded when the process was created or first seen.
    public let record: ProcessRecord
    /// The reader used to refresh the facts.
    public let reader: ProcReader
    // The pidfd is owned by the object and closed in deinit; reading an Int32 is thread-safe.
    private let pidfd: Int32
    private let state: Locked<State>

    struct State {
        var facts: LinuxProcessFacts
        /// When `facts` were read (CLOCK_MONOTONIC nanoseconds).
        var readAt: UInt64
        var exit: ProcessExit?
    }

    /// The identity of the process.
    public var identity: ProcessIdentity { record.identity }

    init(record: ProcessRecord, facts: LinuxProcessFacts, pidfd: Int32, reader: ProcReader) {
        self.record = record
        self.reader = reader
        self.pidfd = pidfd
        self.state = Locked(State(facts: facts, readAt: monotonicNanoseconds(), exit: nil))
    }

    deinit { if pidfd >= 0 { close(pidfd) } }

    /// Opens the running (or zombie) process `pid`.
    /// - Parameters:
    ///   - pid: A process id (thread-group id).
    ///   - reader: The `/proc` reader.
    ///   - creatorPid: The creator a fork event recorded for this process, if any.
    /// - Throws: ``ProcessTableError/Code/noSuchProcess`` when there is no such process.
    public static func open(pid: Int32, reader: ProcReader, creatorPid: Int32? = nil) throws(ProcessTableError) -> ProcessObject {
        let path = "\(reader.procRoot)/\(pid)"
        guard pid > 0 else { throw ProcessTableError(.noSuchProcess, path: path) }
        let fd: Int32
        do { fd = try Processes.pidfd(pid) } catch {
            // EINVAL: pid names a thread, not a process; ESRCH: no such process.
            throw ProcessTableError(error == .invalidArgument || error == .noSuchProcess ? .noSuchProcess : .io,
                                    path: path, errno: error.rawValue)
        }
        var facts: LinuxProcessFacts
        do throws(ProcessTableError) {
            facts = try reader.facts(pid)
            // The facts belong to the process the pidfd names if it still runs, or if what was
            // read is its zombie (a pid cannot be reused before the zombie is reaped). A process
            // that exits between the read and the pidfd check is read once more: the kernel
            // marks the pidfd readable only once the task is a zombie, so the second read
            // shows it as one unless it was already reaped.
            if (try? Processes.hasExited(pidfd: fd)) != false && facts.stat.state != "Z" {
                facts = try reader.facts(pid)
                guard facts.stat.state == "Z" else { throw ProcessTableError(.noSuchProcess, path: path) }
            }
        } catch {
            close(fd)
            throw error
        }
        let object = ProcessObject(
            record: ProcessRecord.firstSeen(facts.stat, reader: reader, creatorPid: creatorPid),
            facts: facts, pidfd: fd, reader: reader)
        if facts.stat.state == "Z" { object.noteExit() }
        return object
    }

    /// Whether the process still runs (its exit not recorded, its pidfd not readable): no
    /// `/proc` read.
    public var isRunning: Bool {
        state.withLock { $0.exit == nil } && (try? Processes.hasExited(pidfd: pidfd)) == false
    }

    /// Whether the process still runs, asked of the kernel the way an open needs it anyway: its
    /// task view (kept as the facts: an open right after needs no second ask) when the guard
    /// gives one, else its pidfd and `/proc` (``snapshot(freshSince:viewSuffices:)``).
    public var isRunningNow: Bool {
        !snapshot(viewSuffices: true).hasExited
    }

    /// The facts as of now: read again while the process runs, the last ones after it exited.
    /// - Parameters:
    ///   - freshSince: Facts made current at or after this time (CLOCK_MONOTONIC nanoseconds,
    ///     e.g. when the request began: the object was just opened or checked for it) are
    ///     current enough. Only with `viewSuffices`: they may come from the task view alone.
    ///   - viewSuffices: The caller needs only what the kernel's task view gives (class 0,
    ///     the open's access check): no `/proc` read when the view allows it
    ///     (``LinuxProcessFacts/takeView(_:)``).
    public func snapshot(freshSince: UInt64? = nil, viewSuffices: Bool = false) -> ProcessSnapshot {
        let (exited, lastReadAt) = state.withLock { s in (s.exit, s.readAt) }
        if let exited {
            return ProcessSnapshot(record: record, facts: lastFacts, exit: exited, reader: reader)
        }
        if viewSuffices, let freshSince, lastReadAt >= freshSince {
            return ProcessSnapshot(record: record, facts: lastFacts, exit: nil, reader: reader)
        }
        let readAt = monotonicNanoseconds()
        // The kernel's view of now, taken into the facts in place (one copy out, for the
        // snapshot) when it shows nothing that would change the rest.
        if viewSuffices, let view = reader.kernel.taskView(pid: identity.pid), let facts = state.withLock({ s -> LinuxProcessFacts? in
            guard s.exit == nil, s.facts.takeView(view) else { return nil }
            s.readAt = readAt
            return s.facts
        }) {
            return ProcessSnapshot(record: record, facts: facts, exit: nil, reader: reader)
        }
        let last = lastFacts
        let pidfdSays = try? Processes.hasExited(pidfd: pidfd)
        if pidfdSays == false {
            do {
                let facts = try reader.facts(identity.pid)
                if facts.identity == identity, facts.stat.state != "Z" {
                    state.withLock { s in
                        s.facts = facts
                        s.readAt = readAt
                    }
                    return ProcessSnapshot(record: record, facts: facts, exit: nil, reader: reader)
                }
            } catch {
                // Unless it exited meanwhile (the pidfd says so), the process runs and could
                // not be read now (out of file descriptors, a /proc that went away): the last
                // facts stand. Only the kernel's word makes a process exited.
                if (try? Processes.hasExited(pidfd: pidfd)) != true {
                    return ProcessSnapshot(record: record, facts: last, exit: nil, reader: reader)
                }
            }
        } else if pidfdSays == nil {
            return ProcessSnapshot(record: record, facts: last, exit: nil, reader: reader)
        }
        // The last word on the process: a zombie still has its tag (a client that queried it
        // only through its task view left these facts older).
        if let view = reader.kernel.taskView(pid: identity.pid), view.start_ticks == identity.startTime {
            state.withLock { s in
                s.facts.kernelView = view
                s.facts.taggedSecure = view.flags & UInt32(IUM_VIEW_SECURE) != 0
            }
        }
        let exit = noteExit()
        return ProcessSnapshot(record: record, facts: lastFacts, exit: exit, reader: reader)
    }

    /// Records the exit, with the status when it can still be learned: from the zombie's
    /// `/proc/PID/stat`, or from the pidfd (Linux 6.15+ keeps it after the reap).
    @discardableResult
    func noteExit(waitStatus known: Int32? = nil) -> ProcessExit {
        // A status learned later (the kernel's exit event) replaces an unknown one.
        if let exit = state.withLock({ s -> ProcessExit? in
            if let known, s.exit != nil, s.exit?.waitStatus == nil { s.exit?.waitStatus = known }
            return s.exit
        }) { return exit }
        var status = known
        if status == nil, let stat = try? reader.stat(identity.pid), stat.startTime == identity.startTime,
           stat.state == "Z" {
            status = stat.exitCode
        }
        if status == nil {
            status = try? Processes.exitStatus(pidfd: pidfd)
        }
        let exit = ProcessExit(waitStatus: status, time: BootClock.nowFileTime())
        return state.withLock { s in
            if s.exit == nil {
                s.exit = exit
                s.facts.stat.state = "X"
            }
            return s.exit ?? exit
        }
    }

    /// Records an exit learned elsewhere (a kernel exit event) with its wait status.
    /// - Parameter waitStatus: The raw wait status.
    public func markExited(waitStatus: Int32) {
        noteExit(waitStatus: waitStatus)
    }

    /// Records an exit whose status was lost (the process vanished while events were lost);
    /// the status is still taken from the zombie or the pidfd when the kernel has it.
    public func markExitedWithoutStatus() {
        noteExit()
    }

    private var lastFacts: LinuxProcessFacts { state.withLock { $0.facts } }
}

/// What the caller may see of a process beyond what the kernel shows every user: the fields
/// it guards with the ptrace read check (`PTRACE_MODE_READ_FSCREDS`): `start_stack` and the
/// exit code in `/proc/PID/stat`, `/proc/PID/exe` (the image, its ELF class).
public struct CallerView: Hashable, Sendable {
    /// Whether the kernel lets the caller pass the ptrace read check on the process.
    public var mayRead: Bool
    /// The `start_stack` the kernel showed the caller when it last passed the check, if known
    /// (nil: read it from `/proc` as the process itself would).
    public var startStack: UInt64?
    /// Whether the caller sees the process in `/proc` at all (`hidepid`): a process it cannot
    /// see cannot be opened (`STATUS_INVALID_CID`) or listed.
    public var visible: Bool
    /// Creates a view.
    /// - Parameters:
    ///   - mayRead: Whether the caller passes the ptrace read check.
    ///   - startStack: The start_stack it was shown, if known.
    ///   - visible: Whether `/proc` shows the process to the caller.
    public init(mayRead: Bool, startStack: UInt64? = nil, visible: Bool = true) {
        self.mayRead = mayRead
        self.startStack = startStack
        self.visible = visible
    }
    /// Everything (the process itself, and tests that read /proc as root).
    public static let everything = CallerView(mayRead: true)
    /// Only what every user may see.
    public static let publicOnly = CallerView(mayRead: false)
}

/// What the kernel shows about processes that have exited.
public enum KernelFeatures {
    /// Whether any holder of a pidfd learns the exit status after the reap (`PIDFD_INFO_EXIT`,
    /// Linux 6.15+); before that only callers that pass the ptrace read check see it (the
    /// zombie's `/proc/PID/stat`).
    public static let exitStatusForEveryone: Bool = {
        guard let fd = try? Processes.pidfd(getpid()) else { return false }
        defer { close(fd) }
        // A running process: ESRCH when the kernel knows PIDFD_INFO_EXIT, ENOTTY/EINVAL before.
        do throws(Errno) { _ = try Processes.exitStatus(pidfd: fd) } catch { return error == .noSuchProcess }
        return true
    }()
}

/// One consistent view of a process object, answering NT queries. A class: a query hands it
/// to NTModel as `any ProcessInformationSource`, which then holds a reference instead of a
/// boxed copy of the facts (one query used to copy them twice more).
public final class ProcessSnapshot: ProcessInformationSource {
    /// The creation record.
    public let record: ProcessRecord
    /// The facts read for this view (the last ones if the process has exited).
    public let facts: LinuxProcessFacts
    /// The exit, once the process has exited.
    public let exit: ProcessExit?
    /// Reads the image path and command line when a query asks for them.
    public let reader: ProcReader
    /// Opens a debug object handle in the caller's handle table (class 30).
    public var debugObjectOpener: ((Int32) -> Result<Handle, NTStatus>)?
    /// What the caller may see (the kernel's ptrace read check, evaluated for the caller).
    public var callerView: CallerView = .everything

    /// The class 0 mapping's answer (``LinuxFlagAnalogs``), made once for BasicInformation and Flags.
    private lazy var mapped = LinuxFlagAnalogs.basicInformation(facts: facts, record: record)

    init(record: ProcessRecord, facts: LinuxProcessFacts, exit: ProcessExit?, reader: ProcReader) {
        self.record = record
        self.facts = facts
        self.exit = exit
        self.reader = reader
    }

    /// Whether the process has exited.
    public var hasExited: Bool { exit != nil }

    /// PROCESS_BASIC_INFORMATION: ExitStatus (STATUS_PENDING while running), PebBaseAddress
    /// (the initial stack, `startstack`, where the kernel placed argv, envp and auxv),
    /// AffinityMask (`Cpus_allowed`), BasePriority (from policy and nice),
    /// UniqueProcessId and the creator's pid.
    ///
    /// As the kernel shows them to the caller: PebBaseAddress only to a caller that passes the
    /// ptrace read check (else 0), and 0 once the process has no address space; the exit code
    /// of an exited process only to such a caller, unless the kernel gives it to every pidfd
    /// holder (6.15+); otherwise ExitStatus is 0 ("cannot be learned").
    public func basicInformation() -> ProcessBasicInformation {
        let exitStatus: NTStatus
        if let exit {
            // A secure process's exit code: the lsm guard refuses the kernel's read check on the
            // zombie, so /proc hides it from every other process (a caller's earlier view does
            // not outlive the tag).
            let mayRead = callerView.mayRead && !(facts.taggedSecure && callerView != .everything)
            exitStatus = mayRead || KernelFeatures.exitStatusForEveryone ? exit.ntExitStatus : .success
        } else {
            exitStatus = .pending
        }
        return ProcessBasicInformation(
            exitStatus: exitStatus,
            pebBaseAddress: hasExited || !callerView.mayRead ? 0
                : callerView.startStack ?? facts.kernelView?.start_stack ?? facts.stat.startStack,
            affinityMask: mapped.affinity_mask,
            basePriority: mapped.base_priority,
            uniqueProcessId: UInt64(UInt32(bitPattern: record.identity.pid)),
            inheritedFromUniqueProcessId: mapped.inherited_from_unique_process_id
        )
    }

    /// The Flags bits (``LinuxFlagAnalogs``); IsWow64Process only for a caller that may read
    /// `/proc/PID/exe` (it is the executable's ELF class).
    public func extendedFlags() -> ProcessFlags {
        var flags = LinuxFlagAnalogs.flags(of: mapped, exited: hasExited)
        if !callerView.mayRead { flags.remove(.isWow64Process) }
        return flags
    }

    /// CreateTime from the start time, ExitTime when ium saw the exit, CPU times from stat.
    public func times() -> KernelUserTimes {
        KernelUserTimes(
            createTime: BootClock.fileTime(ofTicksAfterBoot: facts.stat.startTime),
            exitTime: exit?.time ?? 0,
            kernelTime: BootClock.hundredNanoseconds(ofTicks: facts.stat.stime),
            userTime: BootClock.hundredNanoseconds(ofTicks: facts.stat.utime)
        )
    }

    /// A tracer is attached (`TracerPid` ≠ 0).
    public func isBeingDebugged() -> Bool { !hasExited && facts.status.tracerPid != 0 }

    /// A handle to the debug object (the tracer) in the caller's table, or nil when untraced.
    public func openDebugObject() -> Result<Handle, NTStatus>? {
        guard isBeingDebugged() else { return nil }
        return debugObjectOpener?(facts.status.tracerPid) ?? .failure(.accessDenied)
    }

    /// The session id (`getsid`).
    public func sessionId() -> UInt32 { UInt32(bitPattern: facts.stat.session) }

    /// 0 for a 64-bit process; for a 32-bit one its initial stack address (1 if hidden).
    /// 0 for a caller that may not read `/proc/PID/exe`.
    public func wow64PebAddress() -> UInt64 {
        let elf32 = facts.kernelView.map { $0.flags & UInt32(IUM_VIEW_ADDR32) != 0 } ?? (facts.isELF32 == true)
        guard callerView.mayRead, elf32 else { return 0 }
        return max(basicInformation().pebBaseAddress, 1)
    }

    /// The executable's path (`/proc/PID/exe`); `[comm]` for a kernel thread, a process whose
    /// executable cannot be read, or a caller the kernel would not show it to. Linux has one
    /// path namespace, so classes 27 and 43 return the same text.
    public func imageFileName() -> String {
        (hasExited || !callerView.mayRead ? nil : reader.imagePath(record.identity.pid)) ?? "[\(facts.stat.comm)]"
    }

    /// The command line: arguments joined by spaces, each quoted as CommandLineToArgvW
    /// expects when it holds a space, a tab or a quote.
    public func commandLine() -> String {
        (hasExited ? [] : reader.arguments(record.identity.pid)).map(Self.quoteArgument).joined(separator: " ")
    }

    /// Only init (pid 1 of its namespace) is critical: the kernel panics if it exits.
    public func breakOnTermination() -> Bool { facts.status.nsPids.last == 1 }

    /// PS_PROTECTION: 0, Linux has no protected-process signer levels.
    public func protection() -> UInt8 { 0 }

    /// 1 (WSL) for a process in another PID namespace, consistent with IsSubsystemProcess.
    public func subsystem() -> UInt32 {
        if let view = facts.kernelView { return view.flags & UInt32(IUM_VIEW_CHILD_PIDNS) != 0 ? 1 : 0 }
        return facts.status.nsPids.count > 1 ? 1 : 0
    }

    static func quoteArgument(_ arg: String) -> String {
        guard arg.isEmpty || arg.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" }) else { return arg }
        var out = "\""
        var backslashes = 0
        for c in arg {
            if c == "\\" { backslashes += 1; continue }
            if c == "\"" { out += String(repeating: "\\", count: backslashes * 2 + 1) + "\"" }
            else { out += String(repeating: "\\", count: backslashes) + String(c) }
            backslashes = 0
        }
        return out + String(repeating: "\\", count: backslashes * 2) + "\""
    }
}

/// Conversions between Linux clocks and NT FILETIMEs.
public enum BootClock {
    /// The wall-clock time of boot in nanoseconds since 1970 (CLOCK_REALTIME − CLOCK_BOOTTIME):
    /// add it to a boot-clock time to get Unix time.
    public static func bootEpochNanoseconds() -> Int64 {
        var real = timespec(), boot = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_BOOTTIME, &boot)
        return (Int64(real.tv_sec) - Int64(boot.tv_sec)) * 1_000_000_000 + Int64(real.tv_nsec) - Int64(boot.tv_nsec)
    }

    static func fileTime(ofTicksAfterBoot ticks: UInt64) -> Int64 {
        KernelUserTimes.unixEpochAsFileTime + bootEpochNanoseconds() / 100 + hundredNanoseconds(ofTicks: ticks)
    }

    static func hundredNanoseconds(ofTicks ticks: UInt64) -> Int64 {
        Int64(ticks) * 10_000_000 / Int64(ProcFS.clockTicksPerSecond)
    }

    static func nowFileTime() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return KernelUserTimes.unixEpochAsFileTime + Int64(now.tv_sec) * 10_000_000 + Int64(now.tv_nsec) / 100
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
