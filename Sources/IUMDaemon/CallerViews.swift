// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import ProcessTable

/// What a peer may see of a process beyond what every user may: decided by the kernel's own
/// ptrace read check (`PTRACE_MODE_READ_FSCREDS`, the check that hides `start_stack` in
/// `/proc/PID/stat`) run by the peer itself, never by a rule of iumd's.
///
/// Before a request that returns such fields, the client probes: `process_madvise(pidfd,
/// NULL, 0, MADV_COLD, 0)` changes nothing and fails with EACCES exactly when that check fails.
/// When the kernel lets the probe pass, the guard records it (`ium_probes`, with the
/// `start_stack` the kernel would then have shown the peer, mirrored into `ium_probe_cache`,
/// which iumd reads without a system call); the request says the probe passed.
/// iumd believes "it passed" only with a record that matches the two processes (pid and start
/// time), is at most ``freshness`` old and newer than the target's last exec that iumd knows
/// of. A client that did not probe, or whose probe failed, sees only the public fields.
///
/// `/proc` mounted with `hidepid` hides processes the same way: a caller sees another user's
/// process only when it passes that check (or is in the mount's `gid=` group).
struct CallerViews: Sendable {
    let guardRef: KernelGuard
    let directory: ProcessDirectory
    let visibility: ProcVisibility
    let peer: Peer
    let peerStartTicks: UInt64?
    let peerGroups: Set<UInt32>
    /// The peer's pid in each PID namespace from iumd's down to its own (`NSpid`): one entry
    /// when it shares iumd's; empty when its `/proc/PID/status` could not be read.
    let peerNamespacePids: [Int32]
    /// How old a probe may be.
    static let freshness: UInt64 = 1_000_000_000

    init(guardRef: KernelGuard, directory: ProcessDirectory, visibility: ProcVisibility, peer: Peer, reader: ProcReader) {
        self.guardRef = guardRef
        self.directory = directory
        self.visibility = visibility
        self.peer = peer
        self.peerStartTicks = try? reader.stat(peer.pid).startTime
        let status = try? reader.status(peer.pid)
        self.peerGroups = Set((status?.groups ?? []) + [status?.gids.last ?? peer.gid])
        self.peerNamespacePids = status?.nsPids ?? []
    }

    /// The peer's view of `target`, given whether it says its probe passed.
    func view(of target: ProcessIdentity, probePassed: Bool) -> CallerView {
        if target.pid == peer.pid { return .everything }
        let stack = believedProbe(of: target, claimed: probePassed)
        let visible = visibility.visible(mayRead: stack != nil, callerGroups: peerGroups)
        guard let stack else { return CallerView(mayRead: false, visible: visible) }
        return CallerView(mayRead: true, startStack: stack, visible: visible)
    }

    /// The start_stack recorded by a passed probe that iumd believes, or nil: from the guard's
    /// mapped probe cache when its record will do (no system call), else from `ium_probes`.
    private func believedProbe(of target: ProcessIdentity, claimed: Bool) -> UInt64? {
        guard claimed, let peerStart = peerStartTicks else { return nil }
        func believed(_ probe: ReadProbe?) -> UInt64? {
            guard let probe,
                  probe.callerStartNanoseconds / ProcFS.nanosecondsPerTick == peerStart,
                  probe.targetStartNanoseconds / ProcFS.nanosecondsPerTick == target.startTime,
                  bootNanoseconds() &- probe.timeNanoseconds <= Self.freshness,
                  directory.isAtOrAfterLastExec(probe.targetExecId, pid: target.pid, startTicks: target.startTime)
            else { return nil }
            return probe.startStack
        }
        return believed(guardRef.cachedProbe(caller: peer.pid, target: target.pid))
            ?? believed(try? guardRef.readProbe(caller: peer.pid, target: target.pid))
    }
}

func bootNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_BOOTTIME, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
