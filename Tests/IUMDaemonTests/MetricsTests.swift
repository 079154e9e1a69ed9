// SPDX-License-Identifier: Apache-2.0
//
// iumd's Prometheus endpoint against a real daemon (root and BPF: a test iumd with its own
// guard): the user story's denial shows up by operation, and every record the guard produced
// is accounted for (delivered or counted as dropped) after the consumer was stalled.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import IUMClient
import IUMProtocol
import NTModel
import TestSupport

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    try #require(bound)
    return UInt16(bigEndian: address.sin_port)
}

/// One HTTP GET: the status line and the body.
func httpGet(port: UInt16, path: String) throws -> (status: String, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    try #require(connected, "connect to 127.0.0.1:\(port): errno \(errno)")
    let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
    let statusLine = parts.first?.split(separator: "\r\n").first ?? ""
    return (String(statusLine), parts.count > 1 ? String(parts[1]) : "")
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
func sample(_ body: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    var total: Double?
    for line in body.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        let series = line[..<space]
        let metric = series.prefix(while: { $0 != "{" })
        guard metric == name else { continue }
        let labelText = series.dropFirst(metric.count)
        guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
        total = (total ?? 0) + value
    }
    return total
}

@Suite("iumd's metrics", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct MetricsTests {
    @Test("GET /metrics after the user story: the denial by operation and backend, the tag, the table; other paths 404")
    func userStory() throws {
        let port = try freePort()
        let d = try TestDaemon(["--metrics", "127.0.0.1:\(port)"])
        let (victim, _) = try startFixture(["sleep"])
        #expect(try IUMClient(socketPath: d.socket).tag(pid: victim.pid).status == .success)
        let denied = try runCommand(["cat", "/proc/\(victim.pid)/environ"])
        #expect(denied.status != 0)
        var body = ""
        for _ in 0..<50 {
            body = try httpGet(port: port, path: "/metrics").body
            if (sample(body, "ium_denials_total", ["operation": "proc-open"]) ?? 0) >= 1 { break }
            usleep(100_000)
        }
        #expect((sample(body, "ium_denials_total", ["operation": "proc-open"]) ?? 0) >= 1, "\(body)")
        #expect((sample(body, "ium_guard_denials_total") ?? 0) >= 1)
        #expect(sample(body, "ium_denials_stored_total") == sample(body, "ium_denials_total"))
        #expect(sample(body, "ium_tag_requests_total", ["result": "tagged"]) == 1)
        #expect((sample(body, "ium_processes") ?? 0) > 1)
        #expect(sample(body, "ium_events_dropped_total", ["point": "audit_store"]) == 0)
        #expect(body.contains("# TYPE ium_denials_total counter"))
        #expect(body.contains("# TYPE ium_query_duration_seconds histogram"))
        let missing = try httpGet(port: port, path: "/nope")
        #expect(missing.status == "HTTP/1.1 404 Not Found", "\(missing)")
        // A second iumd cannot take the same port: it says so and does not start.
        let second = try runCommand([builtBinaries + "/iumd", "--pin-dir", d.pinDirectory + "-m", "--socket", temporaryPath("s"),
                                     "--database", temporaryPath("a.sqlite"), "--metrics", "127.0.0.1:\(port)"])
        #expect(second.status == 1 && second.stderr.contains("cannot listen on 127.0.0.1:\(port) for metrics"), "\(second.stderr)")
        _ = try? runCommand([builtBinaries + "/iumd", "--pin-dir", d.pinDirectory + "-m", "--unload"])
    }

    @Test("with kernel.bpf_stats_enabled=1, each guard program's runs and run time (the sysctl restored after)")
    func programStats() throws {
        let path = "/proc/sys/kernel/bpf_stats_enabled"
        let before = try #require(try? runCommand(["cat", path]).stdout.prefix(while: { $0 != "\n" }))
        guard before == "0" || before == "1", (try? runCommand(["sh", "-c", "echo 1 > \(path)"]).status) == 0 else {
            Issue.record("cannot set \(path)")
            return
        }
        defer { _ = try? runCommand(["sh", "-c", "echo \(before) > \(path)"]) }
        let port = try freePort()
        let d = try TestDaemon(["--metrics", "127.0.0.1:\(port)"])
        _ = try runCommand(["true"])
        let body = try httpGet(port: port, path: "/metrics").body
        d.stop()
        #expect(sample(body, "ium_bpf_stats_enabled") == 1)
        #expect((sample(body, "ium_bpf_program_runs_total", ["program": "ium_process_fork"]) ?? 0) > 0, "\(body)")
        #expect((sample(body, "ium_bpf_program_run_seconds_total", ["program": "ium_process_fork"]) ?? 0) > 0)
    }

    @Test("produced = delivered + dropped: with iumd stopped while 20,000 processes start and exit, the ring buffer drops and every record is accounted for")
    func accounting() throws {
        let port = try freePort()
        let d = try TestDaemon(["--metrics", "127.0.0.1:\(port)"])
        // Serving metrics means the event thread runs: stall it now.
        #expect(try httpGet(port: port, path: "/metrics").status == "HTTP/1.1 200 OK")
        d.child.signal(SIGSTOP)
        let burst = try runCommand([try fixtureProgram(), "forks", "20000"])
        d.child.signal(SIGCONT)
        #expect(burst.status == 0, "\(burst.stderr)")
        var body = ""
        var balanced = false
        var rescanned = false
        for _ in 0..<100 where !(balanced && rescanned) {
            usleep(300_000)
            body = try httpGet(port: port, path: "/metrics").body
            let produced = sample(body, "ium_events_produced_total") ?? -1
            let delivered = sample(body, "ium_events_delivered_total") ?? -1
            let dropped = sample(body, "ium_events_dropped_total", ["point": "ring_buffer"]) ?? -1
            #expect(delivered + dropped <= produced, "never more accounted for than produced")
            balanced = produced == delivered + dropped
            rescanned = (sample(body, "ium_table_rescans_total") ?? 0) >= 1
        }
        #expect(balanced, "produced = delivered + dropped once iumd caught up:\n\(body)")
        #expect((sample(body, "ium_events_dropped_total", ["point": "ring_buffer"]) ?? 0) > 0, "the burst overflowed the ring buffer")
        #expect(rescanned, "the drop made iumd rescan /proc")
    }
}
