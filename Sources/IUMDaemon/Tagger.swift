// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import GuardABI
import ProcessTable
import LinuxEdge
import SystemPackage

/// Whom iumd tags, and what tagging does besides the kernel tag: the policy above the guard's
/// tag store.
///
/// Refused: pid 1 (init), a process that is gone, a kernel thread, and a process that is being
/// traced or supervised by a seccomp user-notification listener (the tracer or supervisor
/// would keep its reach). Under the lsm backend the kernel checks the process's leader and
/// tags it in one step (KernelGuard.tag); iumd also checks every thread for a tracer, before
/// and after. A tagged process also gets RLIMIT_CORE 1, which stops core dumps to files and
/// to core_pattern pipes alike; under lsm the guard refuses a secure process's core dump
/// whatever the limit says.
struct Tagger: Sendable {
    let guardRef: KernelGuard
    let reader: ProcReader

    /// Tags a process secure. Irreversible: a trustlet cannot stop being one.
    /// - Parameter pid: The process to tag.
    /// - Returns: Warnings: what was not done although the process is tagged.
    @discardableResult
    func tag(pid: Int32) throws(GuardError) -> [String] {
        guard pid != 1 else {
            throw GuardError(.refused, "pid 1 (init) cannot be tagged", hint: "tag the service's own process instead")
        }
        let stat: ProcStat
        do { stat = try reader.stat(pid) } catch { throw Self.readFailure(error, pid: pid) }
        guard stat.pid == pid, stat.flags & ProcStat.pfKthread == 0 else {
            throw GuardError(.refused, "process \(pid) is a kernel thread and cannot be tagged")
        }
        try refuseIfTraced(pid)
        switch try guardRef.tag(pid: pid, flags: .secure) {
        case .tagged: break
        case .traced(let tracer):
            throw GuardError(.refused, "process \(pid) is being traced by process \(tracer)",
                             hint: "a tracer would keep its access: detach it (or start the program with 'ium run') and tag again")
        case .supervised:
            throw GuardError(.refused, "process \(pid) is supervised by a seccomp user-notification listener",
                             hint: "the supervisor could answer its system calls and hand it file descriptors: start it without one")
        case .kernelThread:
            throw GuardError(.refused, "process \(pid) is a kernel thread and cannot be tagged")
        case .exiting:
            throw GuardError(.noSuchProcess, "process \(pid) is exiting")
        }
        var warnings: [String] = []
        // kill: RLIMIT_CORE 1 — no file core (below the one-page minimum) and no core_pattern
        // pipe (the kernel's recursion guard aborts a pipe core at exactly 1). Inherited, kept
        // across exec. Another user's process needs CAP_SYS_RESOURCE, which some containers
        // withhold. lsm refuses the dump itself (cred_prepare) and any raise of the limit by
        // another process, this one included: it is not asked.
        if guardRef.backend == .kill {
            do { try Processes.limitCoreDumps(pid) } catch where error != .noSuchProcess {
                warnings.append("its RLIMIT_CORE could not be set to 1 (\(GuardError.errnoName(error.rawValue))): it could still leave a core dump")
            } catch {}
        }
        // A tracer of another thread that attached before the tag keeps its access: say so.
        if let (thread, tracer) = try tracedThread(pid) {
            throw GuardError(.refused, "process \(pid) is tagged, but process \(tracer) traces its thread \(thread)",
                             hint: "the tracer keeps its access to that thread until it detaches")
        }
        return warnings
    }

    private func refuseIfTraced(_ pid: Int32) throws(GuardError) {
        if let (thread, tracer) = try tracedThread(pid) {
            throw GuardError(.refused, "process \(pid) is being traced by process \(tracer)" + (thread == pid ? "" : " (thread \(thread))"),
                             hint: "a tracer would keep its access: detach it (or start the program with 'ium run') and tag again")
        }
    }

    /// A thread of the process with a tracer, and the tracer. Fails closed: a thread list or
    /// a thread's status that cannot be read (other than because it exited) is an error, not
    /// "no tracer".
    private func tracedThread(_ pid: Int32) throws(GuardError) -> (thread: Int32, tracer: Int32)? {
        let threads: [Int32]
        do { threads = try reader.threads(pid) } catch { throw Self.readFailure(error, pid: pid) }
        for thread in threads {
            let tracer: Int32
            do {
                tracer = try ProcStatus(parsing: ProcFS.text("\(reader.procRoot)/\(pid)/task/\(thread)/status")).tracerPid
            } catch where error.code == .noSuchProcess {
                continue
            } catch {
                throw Self.readFailure(error, pid: pid)
            }
            if tracer != 0 { return (thread, tracer) }
        }
        return nil
    }

    /// A `/proc` read that failed: "no such process" when it is gone, otherwise an I/O error
    /// that says what could not be read (the tag is refused rather than made blind).
    static func readFailure(_ error: ProcessTableError, pid: Int32) -> GuardError {
        error.code == .noSuchProcess ? GuardError(.noSuchProcess, "no process with id \(pid)")
            : GuardError(.io, "cannot read process \(pid) to check it: \(error)", errno: error.errno)
    }
}

/// The facts only the guard knows, for the process table: the tag store and iumd's own task
/// views (slot 0: everything the kernel knows of a process, fresh at each read).
struct GuardKernelFacts: KernelFactsProvider {
    let guardRef: KernelGuard
    let views: TaskViewTable?
    /// Whether the process is tagged secure in the kernel; a tag store that cannot be read is
    /// an error, never "not secure".
    func isTaggedSecure(pid: Int32) throws(ProcessTableError) -> Bool {
        do {
            return try guardRef.tagFlags(pid: pid) & TagFlags.secure.rawValue != 0
        } catch {
            throw ProcessTableError(error.code == .noSuchProcess ? .noSuchProcess : .io,
                                    path: "the guard's tag store (pid \(pid)): \(error.message)", errno: error.errno)
        }
    }
    /// From the task view (nil without one).
    func isDumpable(pid: Int32) -> Bool? {
        guard let view = taskView(pid: pid), view.flags & UInt32(IUM_VIEW_HAS_MM) != 0 else { return nil }
        return view.dumpable == 1
    }
    /// The kernel's view of the process now.
    func taskView(pid: Int32) -> ium_view? { views?.view(of: pid) }
}
