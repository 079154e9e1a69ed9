// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import GuardABI
import KernelGuard
import ProcessTable
import LinuxEdge

/// The task view slots of iumd's clients (KernelGuard+Views, task_view.h): one table per
/// client process, shared by its connections (libium and IUMClient in one process), and the
/// grants of the handles those connections hold. A grant lives while any handle of the process
/// names the target; the slot, while any connection of the process is open.
///
/// Two levels of locks: the slots and clients under one lock, taken when a connection opens or
/// closes; each client's grants under a lock of its own, held across the guard's map update
/// (a bpf() call) so a grant and a revoke of one process reach the map in the order they were
/// counted. Connections of different clients never wait for each other's grants (with one
/// lock for everything, it was the most contended of iumd's locks with eight clients on two
/// CPUs: BENCHMARKS.md, run M).
final class ViewSlots: Sendable {
    /// One client process's table and the grants of its handles.
    final class Client: Sendable {
        let slot: UInt32
        let tableFD: Int32
        /// pid -> (the identity granted, the number of handles naming it).
        let grants = Locked<[Int32: (start: UInt64, handles: Int)]>([:])

        init(slot: UInt32, tableFD: Int32) {
            self.slot = slot
            self.tableFD = tableFD
        }
    }
    struct State {
        var free: [UInt32]
        var clients: [ProcessIdentity: (client: Client, connections: Int)] = [:]
    }
    let guardRef: KernelGuard
    private let state: Locked<State>

    init(guardRef: KernelGuard) {
        self.guardRef = guardRef
        // Slot 0 is iumd's own.
        state = Locked(State(free: Array((1..<UInt32(IUM_VIEW_CLIENTS)).reversed())))
    }

    /// The table of a client process (created on its first request): a duplicate of its fd,
    /// for the caller to send and close.
    func attach(_ client: ProcessIdentity) throws(GuardError) -> Int32 {
        try state.withLock { s throws(GuardError) -> Int32 in
            if let existing = s.clients[client] {
                s.clients[client]?.connections += 1
                return dup(existing.client.tableFD)
            }
            guard let slot = s.free.popLast() else {
                throw GuardError(.mapFailed, "every task view slot (\(IUM_VIEW_CLIENTS - 1)) is in use")
            }
            do throws(GuardError) {
                let fd = try guardRef.createViewTable(slot: slot, pid: client.pid, startTicks: client.startTime)
                s.clients[client] = (Client(slot: slot, tableFD: fd), 1)
                return dup(fd)
            } catch {
                s.free.append(slot)
                throw error
            }
        }
    }

    /// One connection of the client closed, with the handles it still held (their processes).
    func detach(_ client: ProcessIdentity, held: [ProcessIdentity]) {
        for target in held { revoke(client, target: target) }
        state.withLock { s in
            guard let entry = s.clients[client] else { return }
            if entry.connections > 1 {
                s.clients[client]?.connections -= 1
                return
            }
            // The last connection: no other can grant through this client any more.
            let c = entry.client
            c.grants.withLock { grants in
                for pid in grants.keys { guardRef.revokeView(slot: c.slot, pid: pid) }
                grants.removeAll()
            }
            guardRef.releaseViewSlot(c.slot, pid: client.pid)
            close(c.tableFD)
            s.clients[client] = nil
            s.free.append(c.slot)
        }
    }

    /// A handle of the client now names process `target`.
    func grant(_ client: ProcessIdentity, target: ProcessIdentity) {
        guard let c = state.withLock({ $0.clients[client]?.client }) else { return }
        c.grants.withLock { grants in
            if let g = grants[target.pid], g.start == target.startTime {
                grants[target.pid]?.handles = g.handles + 1
            } else if (try? guardRef.grantView(slot: c.slot, pid: target.pid, startTicks: target.startTime)) != nil {
                grants[target.pid] = (target.startTime, 1)
            }
        }
    }

    /// A handle of the client naming process `target` was closed. Nothing when the grant of its
    /// pid is another process's by now (the pid was reused, and that process opened since).
    func revoke(_ client: ProcessIdentity, target: ProcessIdentity) {
        guard let c = state.withLock({ $0.clients[client]?.client }) else { return }
        c.grants.withLock { grants in
            guard let g = grants[target.pid], g.start == target.startTime else { return }
            if g.handles > 1 {
                grants[target.pid]?.handles = g.handles - 1
            } else {
                grants[target.pid] = nil
                guardRef.revokeView(slot: c.slot, pid: target.pid)
            }
        }
    }
}
