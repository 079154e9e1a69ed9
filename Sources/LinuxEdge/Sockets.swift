// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import SystemPackage
internal import CLinuxShims

/// What the kernel recorded of a Unix socket's peer when it connected (SO_PEERCRED).
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Flags of one send or receive.
public struct MessageFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Do not block (MSG_DONTWAIT).
    public static let dontWait = MessageFlags(rawValue: Int32(MSG_DONTWAIT))
    /// Return a datagram's real length even when it did not fit (MSG_TRUNC).
    public static let truncate = MessageFlags(rawValue: Int32(MSG_TRUNC))
    /// No SIGPIPE when the peer is gone: EPIPE instead (MSG_NOSIGNAL).
    public static let noSignal = MessageFlags(rawValue: Int32(MSG_NOSIGNAL))
}

/// Sockets: Unix SOCK_SEQPACKET sockets (one message per send, as iumd's protocol and
/// ium-keyd's use them) and the calls any connected socket takes.
public enum Sockets {
    /// A SOCK_SEQPACKET socket listening on `path` (mode 0666: who may talk is decided per
    /// peer, by its credentials).
    public static func listen(path: String, backlog: Int32) throws(Errno) -> Int32 {
        let fd = ium_seqpacket_listen(path, backlog)
        guard fd >= 0 else { throw Errno.current }
        return fd
    }

    /// A SOCK_SEQPACKET socket connected to `path`.
    public static func connect(path: String) throws(Errno) -> Int32 {
        let fd = ium_seqpacket_connect(path)
        guard fd >= 0 else { throw Errno.current }
        return fd
    }

    /// The next connection (close-on-exec).
    public static func accept(_ listener: Int32) throws(Errno) -> Int32 {
        let fd = ium_accept(listener)
        guard fd >= 0 else { throw Errno.current }
        return fd
    }

    /// The peer's credentials.
    public static func peer(_ fd: Int32) throws(Errno) -> PeerCredentials {
        var credentials = PeerCredentials(pid: 0, uid: 0, gid: 0)
        guard ium_peer_cred(fd, &credentials.pid, &credentials.uid, &credentials.gid) == 0 else { throw Errno.current }
        return credentials
    }

    /// Sends `bytes` (one message on a SOCK_SEQPACKET socket); returns how many were sent.
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: ArraySlice<UInt8>, flags: MessageFlags = .noSignal) throws(Errno) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, flags.rawValue) }
        guard n >= 0 else { throw Errno.current }
        return n
    }

    /// Sends one whole message; false when it could not be sent whole (the peer is gone, or
    /// would block with `.dontWait`).
    public static func sendMessage(_ fd: Int32, _ message: [UInt8], flags: MessageFlags = .noSignal) -> Bool {
        (try? send(fd, message[...], flags: flags)) == message.count
    }

    /// Sends one message with the file descriptor `descriptor` attached (SCM_RIGHTS); false
    /// when it could not be sent whole.
    public static func sendMessage(_ fd: Int32, _ message: [UInt8], passing descriptor: Int32) -> Bool {
        message.withUnsafeBytes { ium_send_with_fd(fd, $0.baseAddress, $0.count, descriptor) } == message.count
    }

    /// Receives into `buffer` (one message on a SOCK_SEQPACKET socket), retrying EINTR.
    /// Returns the length received (with `.truncate`, the message's whole length, which may
    /// exceed the buffer); 0 at end of stream.
    public static func receive(_ fd: Int32, into buffer: inout [UInt8], flags: MessageFlags = []) throws(Errno) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, flags.rawValue) }
            if n >= 0 { return n }
            if errno != EINTR { throw Errno.current }
        }
    }

    /// Receives one message and at most one attached file descriptor (returned, or -1; the
    /// caller closes it).
    public static func receiveWithDescriptor(_ fd: Int32, into buffer: inout [UInt8]) throws(Errno) -> (count: Int, descriptor: Int32) {
        var descriptor: Int32 = -1
        let n = buffer.withUnsafeMutableBytes { ium_recv_with_fd(fd, $0.baseAddress, $0.count, &descriptor) }
        guard n >= 0 else { throw Errno.current }
        return (n, descriptor)
    }

    /// Sets a receive and a send timeout.
    public static func setTimeouts(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A TCP socket listening on `host`:`port` (numeric port), or a message saying why not.
    public static func listenTCP(host: String, port: String, backlog: Int32) throws(TCPListenError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &result)
        guard rc == 0, let info = result else {
            throw .resolve(String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(Errno.current) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, Glibc.listen(fd, backlog) == 0 else {
            let e = Errno.current
            close(fd)
            throw .listen(e)
        }
        return fd
    }
}

/// Why a TCP socket could not listen.
public enum TCPListenError: Error, Sendable {
    /// The address did not resolve (getaddrinfo's message).
    case resolve(String)
    /// No socket could be created.
    case socket(Errno)
    /// The address could not be bound or listened on.
    case listen(Errno)
}
