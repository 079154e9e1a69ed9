// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge

/// The peer of a connection, from `SO_PEERCRED` when it connected.
struct Peer: Hashable, Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// Who may hold a connection: root and the `ium` group always; every other user at most
/// `perUser` connections, and all of them together at most `total`. So an unprivileged user
/// that opens connections until it is refused cannot take the slots root needs.
final class ConnectionLimiter: Sendable {
    /// How a connection was admitted (give it back to ``release(_:_:)``).
    enum Admission: Sendable { case privileged, unprivileged }

    private struct State {
        var unprivileged = 0
        var byUser: [UInt32: Int] = [:]
        var privileged = 0
    }
    private let state = Locked(State())
    let total: Int
    let perUser: Int

    init(total: Int, perUser: Int) {
        self.total = total
        self.perUser = perUser
    }

    /// Admits a connection, or refuses it (nil). `isPrivileged` is asked only for root-less
    /// peers over an unprivileged limit (it may read /proc for the peer's groups).
    func admit(_ peer: Peer, isPrivileged: (Peer) -> Bool) -> Admission? {
        if peer.uid != 0, let admitted = state.withLock({ s -> Admission? in
            guard s.unprivileged < total, s.byUser[peer.uid, default: 0] < perUser else { return nil }
            s.unprivileged += 1
            s.byUser[peer.uid, default: 0] += 1
            return .unprivileged
        }) {
            return admitted
        }
        guard peer.uid == 0 || isPrivileged(peer) else { return nil }
        state.withLock { $0.privileged += 1 }
        return .privileged
    }

    /// Gives back a connection's slot.
    func release(_ peer: Peer, _ admission: Admission) {
        state.withLock { s in
            switch admission {
            case .privileged:
                s.privileged -= 1
            case .unprivileged:
                s.unprivileged -= 1
                let n = s.byUser[peer.uid, default: 1] - 1
                s.byUser[peer.uid] = n > 0 ? n : nil
            }
        }
    }

    /// Connections held now.
    var counts: (privileged: Int, unprivileged: Int) { state.withLock { ($0.privileged, $0.unprivileged) } }
}

/// The process's open-file limit.
enum FileLimit {
    /// Raises the soft RLIMIT_NOFILE toward `wanted` (up to the hard limit) and returns it.
    static func raise(toAtLeast wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}
