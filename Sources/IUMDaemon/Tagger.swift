// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import ProcessTable
internal import CLinuxShims

/// Whom iumd tags, and what tagging does besides the kernel tag: the policy above the guard's
/// tag store (KernelGuard only writes the map).
///
/// Refused: pid 1 (init), kernel threads, a process that is gone, and a process that is being
/// traced (its tracer would keep its access). A tagged process also gets RLIMIT_CORE 0: it
/// leaves no core dump.
struct Tagger: Sendable {
    let guardRef: KernelGuard
    let reader: ProcReader

    /// Tags a process secure. Irreversible: a trustlet cannot stop being one.
    /// - Parameters:
    ///   - pid: The process to tag.
    ///   - inspector: Also mark it as iumd (may pass PTRACE_MODE_READ checks); for iumd itself.
    /// - Returns: Warnings: what was not done although the process is tagged.
    @discardableResult
    func tag(pid: Int32, inspector: Bool = false) throws(GuardError) -> [String] {
        guard pid != 1 else {
            throw GuardError(.refused, "pid 1 (init) cannot be tagged", hint: "tag the service's own process instead")
        }
        let stat: ProcStat
        do { stat = try reader.stat(pid) } catch {
            throw GuardError(.noSuchProcess, "no process with id \(pid)")
        }
        guard stat.pid == pid, stat.flags & ProcStat.pfKthread == 0 else {
            throw GuardError(.refused, "process \(pid) is a kernel thread and cannot be tagged")
        }
        try refuseIfTraced(pid)
        try guardRef.addTag(pid: pid, flags: inspector ? [.secure, .inspector] : .secure)
        // No core dumps: RLIMIT_CORE 0, inherited by children and kept across exec.
        var warnings: [String] = []
        if ium_disable_core_dumps(pid) != 0, errno != ESRCH {
            // Another user's process needs CAP_SYS_RESOURCE, which some containers withhold.
            warnings.append("its RLIMIT_CORE could not be set to 0 (\(GuardError.errnoName(errno))): it could still leave a core dump")
        }
        // A tracer that attached between the check and the tag keeps its access: say so.
        if let tracer = try? reader.status(pid).tracerPid, tracer != 0 {
            throw GuardError(.refused, "process \(pid) is tagged, but process \(tracer) attached as its tracer before the tag took effect",
                             hint: "the tracer keeps its access until it detaches")
        }
        return warnings
    }

    private func refuseIfTraced(_ pid: Int32) throws(GuardError) {
        guard let status = try? reader.status(pid) else {
            throw GuardError(.noSuchProcess, "no process with id \(pid)")
        }
        if status.tracerPid != 0 {
            throw GuardError(.refused, "process \(pid) is being traced by process \(status.tracerPid)",
                             hint: "a tracer would keep its access: detach it (or start the program with 'ium run') and tag again")
        }
    }
}

/// The facts only the guard knows, for the process table: the tag store.
struct GuardKernelFacts: KernelFactsProvider {
    let guardRef: KernelGuard
    /// Whether the process is tagged secure in the kernel.
    func isTaggedSecure(pid: Int32) -> Bool {
        ((try? guardRef.tagFlags(pid: pid)) ?? 0) & TagFlags.secure.rawValue != 0
    }
    /// Not read from the kernel yet: nil.
    func isDumpable(pid: Int32) -> Bool? { nil }
}
