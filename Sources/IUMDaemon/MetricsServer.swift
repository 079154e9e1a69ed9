// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge
import SystemPackage

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
        do { listenFD = try Sockets.listenTCP(host: host, port: port, backlog: 16) } catch {
            switch error {
            case .resolve(let reason): throw MetricsError(message: "cannot resolve the metrics address \(host):\(port): \(reason)")
            case .socket(let e): throw MetricsError(message: "cannot create the metrics socket: \(e)")
            case .listen(let e): throw MetricsError(message: "cannot listen on \(host):\(port) for metrics: \(e)")
            }
        }
        address = "\(host):\(port)"
    }

    /// Serves until the socket is shut down.
    func serve(_ body: @escaping @Sendable () -> String) {
        while true {
            let fd: Int32
            do { fd = try Sockets.accept(listenFD) } catch {
                if error == .interrupted || error == .connectionAbort { continue }
                if error == .tooManyOpenFiles || error == .tooManyOpenFilesInSystem || error == .noMemory {
                    usleep(100_000)
                    continue
                }
                return // shut down
            }
            Sockets.setTimeouts(fd, seconds: 2)
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
            guard let n = try? Sockets.receive(fd, into: &chunk), n > 0 else { return }
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
            guard let n = try? Sockets.send(fd, reply[offset...]), n > 0 else { return }
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
        do { try Files.writeAll(fd, Array(text.utf8)) } catch {
            close(fd)
            unlink(temporary)
            throw MetricsError(message: "cannot write \(temporary): \(error)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw MetricsError(message: "cannot rename \(temporary) to \(path): \(String(cString: strerror(e)))")
        }
    }
}
