// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLinuxShims

/// Where iumd publishes its metrics: `--metrics HOST:PORT` serves `GET /metrics` over HTTP
/// (Prometheus scrapes it; bind a loopback or node-local address), `--metrics-textfile PATH`
/// rewrites PATH every 15 seconds for node_exporter's textfile collector (written beside it,
/// then renamed: a reader never sees half a file).
enum MetricsEndpoint: Sendable, Equatable {
    case http(host: String, port: String)
    case textfile(path: String)

    /// `127.0.0.1:9477`, `[::1]:9477`, `localhost:9477`.
    static func parse(address: String) -> MetricsEndpoint? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        var host = String(address[..<colon])
        let port = String(address[address.index(after: colon)...])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let n = Int(port), n > 0, n < 65536 else { return nil }
        return .http(host: host, port: port)
    }
}

/// The HTTP side: one thread, one request per connection, a 2-second limit on reading it
/// (a client that stalls delays the next scrape, never iumd's other work).
final class MetricsServer: Sendable {
    let listenFD: Int32
    let address: String

    /// Binds and listens (before iumd serves, so a taken port fails the start).
    init(host: String, port: String) throws(MetricsError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &result)
        guard rc == 0, let info = result else {
            throw MetricsError(message: "cannot resolve the metrics address \(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MetricsError(message: "cannot create the metrics socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw MetricsError(message: "cannot listen on \(host):\(port) for metrics: \(String(cString: strerror(e)))")
        }
        listenFD = fd
        address = "\(host):\(port)"
    }

    /// Serves until the socket is shut down.
    func serve(_ body: @escaping @Sendable () -> String) {
        while true {
            let fd = ium_accept(listenFD)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE || errno == ENOMEM { usleep(100_000); continue }
                return // shut down
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            respond(fd, body)
            close(fd)
        }
    }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    /// Whether the request's header is complete (an empty line).
    static func headerEnds(_ request: [UInt8]) -> Bool {
        request.count >= 4 && (3..<request.count).contains { i in request[i - 3] == 13 && request[i - 2] == 10 && request[i - 1] == 13 && request[i] == 10 }
    }

    private func respond(_ fd: Int32, _ body: () -> String) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while request.count < 8192 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            request += chunk[0..<n]
            if Self.headerEnds(request) { break }
        }
        let line = String(decoding: request.prefix(while: { $0 != 13 && $0 != 10 }), as: UTF8.self).split(separator: " ")
        let (status, text): (String, String)
        if line.count >= 2, line[0] == "GET" || line[0] == "HEAD" {
            switch line[1] {
            case "/metrics": (status, text) = ("200 OK", body())
            case "/": (status, text) = ("200 OK", "iumd metrics: GET /metrics\n")
            default: (status, text) = ("404 Not Found", "not found: iumd serves /metrics\n")
            }
        } else {
            (status, text) = ("405 Method Not Allowed", "iumd serves GET /metrics\n")
        }
        let payload = Array(text.utf8)
        var reply = Array(("HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n").utf8)
        if line.first != "HEAD" { reply += payload }
        var offset = 0
        while offset < reply.count {
            let n = reply[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// The textfile side.
enum MetricsTextfile {
    /// Writes `text` to `path` through a temporary file beside it and a rename.
    static func write(_ text: String, to path: String) throws(MetricsError) {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MetricsError(message: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                let e = errno
                close(fd)
                unlink(temporary)
                throw MetricsError(message: "cannot write \(temporary): \(String(cString: strerror(e)))")
            }
            offset += n
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw MetricsError(message: "cannot rename \(temporary) to \(path): \(String(cString: strerror(e)))")
        }
    }
}
