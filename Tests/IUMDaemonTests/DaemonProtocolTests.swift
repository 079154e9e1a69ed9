// SPDX-License-Identifier: Apache-2.0
//
// A real iumd (root and BPF needed; CI runs as root) against hostile and slow clients.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import IUMProtocol
import IUMClient
import KernelGuard
import TestSupport
internal import CLinuxShims

let iumdBinary = repositoryRoot + "/.build/debug/iumd"
let canRunDaemon = runningAsRoot && access(iumdBinary, X_OK) == 0 && access(repositoryRoot + "/.build/debug/ium-guard.bpf.o", R_OK) == 0

final class RunningDaemon {
    let child: Child
    let socket: String
    init() throws {
        let dir = temporaryPath("x")
        socket = String(dir.dropLast(2)) + "/iumd.sock"
        child = try spawnChild([iumdBinary, "--socket", socket, "--database", String(dir.dropLast(2)) + "/audit.sqlite"])
        for _ in 0..<1000 where access(socket, F_OK) != 0 { usleep(10_000) }
        try #require(access(socket, F_OK) == 0, "iumd did not start")
    }
    func raw() throws -> Int32 {
        let fd = ium_seqpacket_connect(socket)
        try #require(fd >= 0)
        return fd
    }
    deinit {
        child.signal(SIGTERM)
        child.wait()
        try? KernelGuard.unload()
    }
}

func sendRaw(_ fd: Int32, _ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
func receiveRaw(_ fd: Int32, timeoutMs: Int32 = 5000) -> [UInt8]? {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, timeoutMs) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 70000)
    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    return n > 0 ? Array(buffer[0..<n]) : []
}

func errorReply(_ bytes: [UInt8]?) throws -> StatusReply? {
    guard let bytes, !bytes.isEmpty else { return nil }
    var (type, _, r) = try Frame.decodeHeader(bytes)
    return type == .error ? try StatusReply(&r) : nil
}

@Suite("iumd against hostile and slow clients", .serialized, .enabled(if: canRunDaemon, "needs root, BPF and a built iumd"))
struct DaemonProtocolTests {
    @Test("a frame that is not ium's gets an error reply and the connection is closed; the daemon lives on")
    func badMagic() throws {
        let d = try RunningDaemon()
        let fd = try d.raw()
        defer { close(fd) }
        _ = sendRaw(fd, Array("GET / HTTP/1.1\r\n".utf8))
        let reply = try #require(try errorReply(receiveRaw(fd)))
        #expect(reply.status == .invalidParameter)
        #expect(reply.message.contains("not an ium frame"))
        #expect(receiveRaw(fd) == [], "closed")
        #expect(throws: Never.self) { _ = try IUMClient(socketPath: d.socket).status() }
    }

    @Test("truncated payloads, unknown types and oversize frames get error replies; the connection keeps working")
    func malformedButRecoverable() throws {
        let d = try RunningDaemon()
        let fd = try d.raw()
        defer { close(fd) }
        _ = sendRaw(fd, Frame.encode(.open, requestId: 1) { $0.put(UInt32(7)) })
        #expect(try errorReply(receiveRaw(fd))?.message.contains("truncated") == true)
        var unknown = Frame.encode(.status, requestId: 2) { _ in }
        unknown[6] = 0x42
        _ = sendRaw(fd, unknown)
        #expect(try errorReply(receiveRaw(fd))?.message.contains("unknown message type") == true)
        _ = sendRaw(fd, Frame.encode(.status, requestId: 3) { w in for _ in 0..<20000 { w.put(UInt32(0)) } })
        #expect(try errorReply(receiveRaw(fd))?.message.contains("exceeds") == true)
        _ = sendRaw(fd, Frame.encode(.query, requestId: 4) { w in
            w.put(UInt64(4)); w.put(UInt32(0)); w.put(UInt32(64)); w.put(UInt64(0)); w.put(UInt64(0)); w.put(UInt8(9)); w.put(UInt8(0)); w.put(UInt16(0))
        })
        #expect(try errorReply(receiveRaw(fd))?.message.contains("buffer state 9") == true)
        _ = sendRaw(fd, Frame.encode(.status, requestId: 5) { _ in })
        let ok = try #require(receiveRaw(fd))
        #expect(try Frame.decodeHeader(ok).type == .status)
    }

    @Test("a client that never reads does not block another client")
    func slowClient() throws {
        let d = try RunningDaemon()
        let slow = try d.raw()
        defer { close(slow) }
        // Ask for the whole table again and again without reading the replies.
        for i in 0..<200 { _ = sendRaw(slow, ListRequest(secureOnly: false).encode(requestId: UInt32(i))) }
        let client = try IUMClient(socketPath: d.socket)
        let handle = try client.openProcess(pid: UInt64(getpid()), access: .queryLimitedInformation).get()
        #expect(try client.close(handle: handle) == .success)
    }

    @Test("a client's handle table is limited, and freed when it disconnects")
    func handleLimit() throws {
        let d = try RunningDaemon()
        do {
            let client = try IUMClient(socketPath: d.socket)
            var last: Result<Handle, NTStatus> = .failure(.success)
            for _ in 0...4096 { last = try client.openProcess(pid: UInt64(getpid()), access: .synchronize) }
            #expect(last == .failure(.insufficientResources))
        }
        let fresh = try IUMClient(socketPath: d.socket)
        #expect(try fresh.openProcess(pid: UInt64(getpid()), access: .synchronize).map(\.rawValue) == .success(4))
    }

    @Test("tagging needs root or the ium group")
    func tagNeedsPrivilege() throws {
        let d = try RunningDaemon()
        let (victim, _) = try startFixture(["sleep"])
        let r = try runCommand(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env",
                                "IUM_SOCKET=\(d.socket)", repositoryRoot + "/.build/debug/ium", "tag", String(victim.pid)])
        #expect(r.status == 1)
        #expect(r.stderr == "ium: tagging needs root or membership of the 'ium' group\n")
        let client = try IUMClient(socketPath: d.socket)
        #expect(try client.tag(pid: victim.pid).status == .success)
        #expect(try client.tag(pid: 0x7FFF_FFF0).status == .invalidCID)
    }
}
