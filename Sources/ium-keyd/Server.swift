// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge
import SystemPackage

/// Who may use the key: peers whose uid or gid (SO_PEERCRED, what the kernel recorded when
/// they connected) is listed.
struct Allowlist {
    var uids: Set<UInt32>
    var gids: Set<UInt32>

    func allows(uid: UInt32, gid: UInt32) -> Bool { uids.contains(uid) || gids.contains(gid) }
}

/// The socket server: one thread, `poll` over the listener and at most `maxClients`
/// connections. A peer that is not allowed gets one refusal and is closed; a client that does
/// not read its replies is dropped; running out of file descriptors never stops the server.
/// With every slot taken, a new allowed client takes the slot of the connection that has been
/// quiet longest, so connections held open and idle cannot lock others out.
struct Server: ~Copyable {
    static let maxClients = 64
    let key: SigningKey
    let allowlist: Allowlist
    let listener: Int32

    func run() -> Never {
        var clients: [Int32] = [] // the longest quiet first
        var buffer = [UInt8](repeating: 0, count: Wire.maxRequest + 1)
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                + clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 else { continue } // EINTR
            var closed: Set<Int32> = []
            var active: [Int32] = []
            for entry in fds.dropFirst() where entry.revents != 0 {
                if serve(entry.fd, &buffer) { active.append(entry.fd) } else { closed.insert(entry.fd) }
            }
            for fd in closed { close(fd) }
            clients.removeAll { closed.contains($0) || active.contains($0) }
            clients += active
            if fds[0].revents & Int16(POLLIN) != 0, let fd = admit() {
                if clients.count == Self.maxClients { close(clients.removeFirst()) }
                clients.append(fd)
            }
        }
    }

    /// Accepts one connection, refusing peers the allowlist does not name. Out of file
    /// descriptors (EMFILE, ENFILE), it waits a little and tries again later.
    private func admit() -> Int32? {
        let fd: Int32
        do { fd = try Sockets.accept(listener) } catch {
            if error == .tooManyOpenFiles || error == .tooManyOpenFilesInSystem { usleep(10_000) }
            return nil
        }
        let peer = try? Sockets.peer(fd)
        guard let peer, allowlist.allows(uid: peer.uid, gid: peer.gid) else {
            let (uid, gid) = (peer?.uid ?? UInt32.max, peer?.gid ?? UInt32.max)
            // The refusal stays readable for the peer; a request it sent is read and dropped, and
            // later ones fail (EPIPE), so the close does not reset the connection (a Unix
            // socket closed with unread data gives its peer ECONNRESET instead of the refusal).
            reply(fd, Wire.refused, Array("uid \(uid) gid \(gid) may not use this key (--allow-uid, --allow-gid)".utf8))
            shutdown(fd, Int32(SHUT_RDWR))
            var scratch = [UInt8](repeating: 0, count: 1)
            while (try? Sockets.receive(fd, into: &scratch, flags: .dontWait)) ?? 0 > 0 {}
            close(fd)
            return nil
        }
        return fd
    }

    /// Answers one request; false when the connection is done.
    private func serve(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        let n: Int
        do { n = try Sockets.receive(fd, into: &buffer, flags: [.dontWait, .truncate]) } catch {
            return error == .wouldBlock
        }
        guard n > 0 else { return false }
        guard n < buffer.count else {
            return reply(fd, Wire.malformed, Array("a request is at most \(Wire.maxRequest) bytes".utf8))
        }
        let body = buffer[1..<n]
        switch buffer[0] {
        case Wire.publicKey:
            return reply(fd, Wire.ok, key.publicKey)
        case Wire.sign:
            do throws(KeyError) { return reply(fd, Wire.ok, try key.sign(body)) } catch {
                return reply(fd, Wire.malformed, Array(error.description.utf8))
            }
        case Wire.verify where body.count >= 64:
            let valid = isValidSignature(body.prefix(64), of: body.dropFirst(64), by: key.publicKey)
            return reply(fd, Wire.ok, [valid ? 1 : 0])
        default:
            return reply(fd, Wire.malformed, Array("unknown request: P, S message, or V signature message".utf8))
        }
    }

    /// Sends a reply without blocking; false if the client did not take it.
    @discardableResult
    private func reply(_ fd: Int32, _ status: UInt8, _ payload: [UInt8]) -> Bool {
        Sockets.sendMessage(fd, [status] + payload, flags: [.dontWait, .noSignal])
    }
}
