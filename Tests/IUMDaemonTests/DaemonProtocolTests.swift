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
import TestSupport
internal import CLinuxShims

extension TestDaemon {
    func raw() throws -> Int32 {
        let fd = ium_seqpacket_connect(socket)
        try #require(fd >= 0)
        return fd
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

@Suite("iumd against hostile and slow clients", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct DaemonProtocolTests {
    @Test("a frame that is not ium's gets an error reply and the connection is closed; the daemon lives on")
    func badMagic() throws {
        let d = try TestDaemon()
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
        let d = try TestDaemon()
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
        let d = try TestDaemon()
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
        let d = try TestDaemon()
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
        let d = try TestDaemon()
        let (victim, _) = try startFixture(["sleep"])
        let r = try runCommand(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env",
                                "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium", "tag", String(victim.pid)])
        #expect(r.status == 1)
        #expect(r.stderr == "ium: tagging needs root or membership of the 'ium' group\n")
        let client = try IUMClient(socketPath: d.socket)
        #expect(try client.tag(pid: victim.pid).status == .success)
        #expect(try client.tag(pid: 0x7FFF_FFF0).status == .invalidCID)
    }

    @Test("a caller in another PID namespace, whose pids name other processes here, is refused with STATUS_NOT_SUPPORTED and the reason; status still answers")
    func foreignPidNamespace() throws {
        let d = try TestDaemon()
        func inNewPidNamespace(_ arguments: [String]) throws -> CommandResult {
            try runCommand(["unshare", "--pid", "--fork", "--mount-proc", "env", "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium"] + arguments)
        }
        // Pid 1 there is the namespace's own first process; here it is the machine's init.
        for arguments in [["query", "1"], ["ps"], ["tag", "1"], ["events"]] {
            let r = try inNewPidNamespace(arguments)
            #expect(r.status == 1, "\(arguments)")
            #expect(r.stdout.isEmpty, "\(arguments): nothing about iumd's processes")
            #expect(r.stderr.contains("runs in another PID namespace") && r.stderr.contains("STATUS_NOT_SUPPORTED"),
                    "\(arguments): \(r.stderr)")
        }
        #expect(try inNewPidNamespace(["status"]).status == 0)
        // The same request from iumd's own namespace is answered.
        let here = try runCommand(["env", "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium", "query", "1"])
        #expect(here.status == 0 && here.stdout.contains("UniqueProcessId               1"))
    }
}

@Suite("iumd owns its guard", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct DaemonOwnershipTests {
    @Test("a second iumd for the same guard exits 69 and names the owner")
    func secondOwnerRefused() throws {
        let d = try TestDaemon()
        let dir = temporaryPath("second")
        let r = try runCommand([builtBinaries + "/iumd", "--pin-dir", d.pinDirectory, "--socket", dir + ".sock", "--database", dir + ".sqlite"])
        #expect(r.status == 69)
        #expect(r.stderr.contains("another process (pid \(d.child.pid)) owns the guard at \(d.pinDirectory)"))
        #expect(access(dir + ".sock", F_OK) != 0, "the second daemon never listened")
    }

    @Test("iumd --unload refuses while iumd owns the guard, and removes it once iumd is stopped")
    func unloadWhileStopped() throws {
        let d = try TestDaemon()
        let busy = try runCommand([builtBinaries + "/iumd", "--pin-dir", d.pinDirectory, "--unload"])
        #expect(busy.status == 69)
        #expect(access(d.pinDirectory + "/ium_tags", F_OK) == 0)
        d.child.signal(SIGTERM)
        d.child.wait()
        #expect(access(d.pinDirectory + "/ium_tags", F_OK) == 0, "the guard outlives iumd")
        let r = try runCommand([builtBinaries + "/iumd", "--pin-dir", d.pinDirectory, "--unload"])
        #expect(r.status == 0)
        #expect(r.stdout == "guard unloaded from \(d.pinDirectory): enforcement stopped\n")
        #expect(access(d.pinDirectory, F_OK) != 0)
    }

    @Test("the unload request: refused to other users, done for root, and iumd stops")
    func unloadRequest() throws {
        let d = try TestDaemon()
        let other = try runCommand(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "env",
                                    "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium", "guard", "unload"])
        #expect(other.status == 1)
        #expect(other.stderr == "ium: unloading the guard needs root\n")
        #expect(!other.stdout.contains("unloaded"))
        #expect(access(d.pinDirectory + "/ium_tags", F_OK) == 0)
        let root = try runCommand(["env", "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium", "guard", "unload"])
        #expect(root.status == 0)
        #expect(root.stdout == "guard unloaded from \(d.pinDirectory): enforcement stopped; iumd stops\n")
        #expect(d.child.wait() == 0, "iumd exits 0")
        #expect(access(d.pinDirectory, F_OK) != 0)
    }
}

@Suite("iumd's tag policy", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct TagPolicyTests {
    @Test("tagging is refused for pid 1, a kernel thread, a missing process and a traced process")
    func refusals() throws {
        let d = try TestDaemon()
        let client = try IUMClient(socketPath: d.socket)
        let init1 = try client.tag(pid: 1)
        #expect(init1.status == .accessDenied && init1.message.hasPrefix("pid 1 (init) cannot be tagged"))
        let kthread = try client.tag(pid: 2)
        #expect(kthread.status == .accessDenied && kthread.message.hasPrefix("process 2 is a kernel thread"))
        #expect(try client.tag(pid: 0x7FFF_FFF0).status == .invalidCID)
        let (child, _) = try startFixture(["sleep"])
        let strace = try spawnChild(["strace", "-qq", "-o", "/dev/null", "-p", String(child.pid)])
        for _ in 0..<500 where (try? runCommand(["grep", "-q", "TracerPid:[[:space:]]*\(strace.pid)", "/proc/\(child.pid)/status"]).status) != 0 {
            usleep(10_000)
        }
        let traced = try client.tag(pid: child.pid)
        #expect(traced.status == .accessDenied)
        #expect(traced.message.contains("being traced by process \(strace.pid)"))
        strace.signal(SIGINT)
        strace.wait()
        let later = try runCommand(["env", "IUM_SOCKET=\(d.socket)", builtBinaries + "/ium", "query", String(child.pid), "--json"])
        #expect(later.stdout.contains("\"IsSecureProcess\":false"))
    }

    @Test("a tagged process gets RLIMIT_CORE 1 (no file core, and a core_pattern pipe aborts at 1)")
    func noCoreDumps() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        #expect(try IUMClient(socketPath: d.socket).tag(pid: child.pid).status == .success)
        let limits = try runCommand(["grep", "Max core file size", "/proc/\(child.pid)/limits"])
        #expect(limits.stdout.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first == "1")
    }
}
