// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge
import SystemPackage

/// ium-keyd's protocol: one SOCK_SEQPACKET message per request and per reply.
///
///     request  'P'                          the public key
///              'S' message                  sign it (at most 64 KiB)
///              'V' signature(64) message    verify it against the key's public half
///     reply    0 payload                    32-byte key, 64-byte signature, or 1 byte (1 valid, 0 not)
///              1 text                       refused: this peer's uid and gid are not allowed
///              2 text                       a malformed request
enum Wire {
    static let publicKey = UInt8(ascii: "P")
    static let sign = UInt8(ascii: "S")
    static let verify = UInt8(ascii: "V")
    static let ok: UInt8 = 0
    static let refused: UInt8 = 1
    static let malformed: UInt8 = 2
    /// The largest message signed or verified.
    static let maxMessage = 64 << 10
    /// The largest request: an operation byte, a signature and a message.
    static let maxRequest = 1 + 64 + maxMessage
}

/// A connection to ium-keyd from a client.
struct KeydConnection: ~Copyable {
    private let fd: Int32

    init(socket path: String) throws(KeyError) {
        do { fd = try Sockets.connect(path: path) } catch { throw KeyError("cannot connect to ium-keyd at \(path): \(error)") }
    }

    deinit { close(fd) }

    /// Sends one request and returns the reply's payload; a refusal or error reply throws with
    /// ium-keyd's text.
    func ask(_ operation: UInt8, _ payload: [UInt8] = []) throws(KeyError) -> [UInt8] {
        let request = [operation] + payload
        // A refused peer's connection is closed after one refusal: read that instead of EPIPE.
        do { _ = try Sockets.send(fd, request[...]) } catch where error != .brokenPipe {
            throw KeyError("cannot send to ium-keyd: \(error)")
        } catch {}
        var reply = [UInt8](repeating: 0, count: 256)
        let n: Int
        do { n = try Sockets.receive(fd, into: &reply) } catch { throw KeyError("cannot read ium-keyd's reply: \(error)") }
        guard n > 0 else { throw KeyError("ium-keyd closed the connection") }
        let body = Array(reply[1..<n])
        guard reply[0] == Wire.ok else { throw KeyError("ium-keyd: \(String(decoding: body, as: UTF8.self))") }
        return body
    }
}
