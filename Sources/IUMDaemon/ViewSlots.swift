// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import GuardABI
import KernelGuard
import ProcessTable
import Synchronization

/// The task view slots of iumd's clients (KernelGuard+Views, task_view.h): one table per
/// client process, shared by its connections (libium and IUMClient in one process), and the
/// grants of the handles those connections hold. A grant lives while any handle of the process
/// names the target; the slot, while any connection of the process is open.
final class ViewSlots: Sendable {
    struct Client {
        var slot: UInt32
        var tableFD: Int32
        var connections: Int
        /// pid -> (the identity granted, the number of handles naming it).
        var grants: [Int32: (start: UInt64, handles: Int)]
    }
    struct State {
        var free: [UInt32]
        var clients: [ProcessIdentity: Client] = [:]
    }
    let guardRef: KernelGuard
    private let state: Mutex<State>

    init(guardRef: KernelGuard) {
        self.guardRef = guardRef
        // Slot 0 is iumd's own.
        state = Mutex(State(free: Array((1..<UInt32(IUM_VIEW_CLIENTS)).reversed())))
    }

    /// The table of a client process (created on its first request): a duplicate of its fd,
    /// for the caller to send and close.
    func attach(_ client: ProcessIdentity) throws(GuardError) -> Int32 {
        try state.withLock { s throws(GuardError) -> Int32 in
            if var existing = s.clients[client] {
                existing.connections += 1
                s.clients[client] = existing
                return dup(existing.tableFD)
            }
            guard let slot = s.free.popLast() else {
                throw GuardError(.mapFailed, "every task view slot (\(IUM_VIEW_CLIENTS - 1)) is in use")
            }
            do throws(GuardError) {
                let fd = try guardRef.createViewTable(slot: slot, pid: client.pid, startTicks: client.startTime)
                s.clients[client] = Client(slot: slot, tableFD: fd, connections: 1, grants: [:])
                return dup(fd)
            } catch {
                s.free.append(slot)
                throw error
            }
        }
    }

    /// One connection of the client closed, with the handles it still held (pids).
    func detach(_ client: ProcessIdentity, heldPids: [Int32]) {
        for pid in heldPids { revoke(client, pid: pid) }
        state.withLock { s in
            guard var c = s.clients[client] else { return }
            c.connections -= 1
            if c.connections > 0 {
                s.clients[client] = c
                return
            }
            for pid in c.grants.keys { guardRef.revokeView(slot: c.slot, pid: pid) }
            guardRef.releaseViewSlot(c.slot, pid: client.pid)
            close(c.tableFD)
            s.clients[client] = nil
            s.free.append(c.slot)
        }
    }

    /// A handle of the client now names process `target`.
    func grant(_ client: ProcessIdentity, target: ProcessIdentity) {
        state.withLock { s in
            guard var c = s.clients[client] else { return }
            if let g = c.grants[target.pid], g.start == target.startTime {
                c.grants[target.pid] = (g.start, g.handles + 1)
            } else if (try? guardRef.grantView(slot: c.slot, pid: target.pid, startTicks: target.startTime)) != nil {
                c.grants[target.pid] = (target.startTime, 1)
            }
            s.clients[client] = c
        }
    }

    /// A handle of the client naming process `pid` was closed.
    func revoke(_ client: ProcessIdentity, pid: Int32) {
        state.withLock { s in
            guard var c = s.clients[client], let g = c.grants[pid] else { return }
            if g.handles > 1 {
                c.grants[pid] = (g.start, g.handles - 1)
            } else {
                c.grants[pid] = nil
                guardRef.revokeView(slot: c.slot, pid: pid)
            }
            s.clients[client] = c
        }
    }
}
