// SPDX-License-Identifier: Apache-2.0
//
// IUMClient, the Swift client, against a real iumd (root and BPF: a test iumd with its own
// guard) and real processes: the NT calls, the in-client class 0 against iumd's answer, the
// administrative calls.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import IUMProtocol
@testable import IUMClient
import LinuxEdge
import TestSupport

@Suite("IUMClient against iumd", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct IUMClientTests {
    func basic(_ client: IUMClient, _ handle: Handle) throws -> QueryOutcome {
        try client.queryInformationProcess(handle: handle, infoClass: 0, length: 64, bufferAddress: 0x1000, returnLengthAddress: 0x2000)
    }

    @Test("open, class 0 in the client equal to iumd's bytes, IsSecureProcess after a tag, close; a closed handle is STATUS_INVALID_HANDLE")
    func ntCalls() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        let client = try IUMClient(socketPath: d.socket)
        let handle = try client.openProcess(pid: UInt64(child.pid), access: .queryLimitedInformation).get()
        setenv("IUM_IN_CLIENT", "0", 1)
        let socketOnly = try IUMClient(socketPath: d.socket)
        unsetenv("IUM_IN_CLIENT")
        let other = try socketOnly.openProcess(pid: UInt64(child.pid), access: .queryLimitedInformation).get()
        let inClient = try basic(client, handle)
        let throughIumd = try basic(socketOnly, other)
        #expect(inClient.status == .success && inClient.returnLength == 64)
        #expect(inClient == throughIumd, "the in-client answer is iumd's, byte for byte")
        let flags = { (o: QueryOutcome) in ProcessFlags(rawValue: UInt32(o.output[56]) | UInt32(o.output[57]) << 8) }
        #expect(!flags(inClient).contains(.isSecureProcess))
        #expect(try client.tag(pid: child.pid).status == .success)
        #expect(flags(try basic(client, handle)).contains(.isSecureProcess))
        #expect(flags(try basic(socketOnly, other)).contains(.isSecureProcess))
        #expect(try client.list(secureOnly: true).map(\.pid).contains(child.pid))
        #expect(try client.status().processes > 0)
        #expect(try client.close(handle: handle) == .success)
        #expect(try client.close(handle: handle) == .invalidHandle)
        #expect(try basic(client, handle).status == .invalidHandle)
        #expect(try client.openProcess(pid: 0, access: .queryLimitedInformation) == .failure(.invalidCID))

        // NT ignores a handle's two tag bits: 4, 5, 6 and 7 are one handle, in the client as in iumd.
        let tagged = Handle(rawValue: try client.openProcess(pid: UInt64(child.pid), access: .queryLimitedInformation).get().rawValue | 3)
        #expect(try basic(client, tagged) == basic(socketOnly, other), "a tagged handle answers as the handle")
        #expect(try client.close(handle: tagged) == .success)
        #expect(try client.close(handle: Handle(rawValue: tagged.entryValue)) == .invalidHandle, "the tagged close closed it")
    }

    @Test("a close batch withdraws its handles' task-view grants: before the answer to the request after it (sent apart or in the same message), at once when it comes alone; while another handle names the process, or it is opened again, the grant stays")
    func closeBatchWithdrawsGrants() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        let client = try IUMClient(socketPath: d.socket)
        let granted = { client.views?.view(of: child.pid) != nil } // sched_getscheduler: the guard answers a grant only
        let open = { try client.openProcess(pid: UInt64(child.pid), access: .queryLimitedInformation).get() }
        let batch = { (h: Handle) in try client.sendFrame(CloseBatch(handles: [h]).encode(requestId: 0)) }

        var handle = try open()
        #expect(granted(), "an open handle grants its process to the client's table")
        try batch(handle)
        _ = try client.status()
        #expect(!granted(), "withdrawn before the answer to the next request")

        handle = try open()
        try batch(handle)
        var waited = 0
        while granted(), waited < 500 { usleep(10_000); waited += 1 }
        #expect(!granted(), "a batch alone is withdrawn without waiting for another request")

        handle = try open()
        let second = try open()
        try batch(handle)
        _ = try client.status()
        #expect(granted(), "another handle to the process keeps the grant")
        try batch(second)
        handle = try open()
        #expect(granted(), "closed and opened again: granted")
        #expect(try client.close(handle: handle) == .success)
        #expect(granted(), "IUMClient answered the close itself: iumd hears of it with the next request")
        #expect(try client.close(handle: handle) == .invalidHandle, "sent to iumd after the batch that closed it")
        #expect(!granted(), "the last handle closed: withdrawn")

        // libium's form: the request right after the batch's handles, in one message.
        Sockets.setTimeouts(client.fd, seconds: 30) // an iumd that dropped the request: fail, never hang
        handle = try open()
        try client.sendFrame(CloseBatch(handles: [handle]).encode(requestId: 0) + Frame.encode(.status, requestId: 77) { _ in })
        let (type, _) = try client.receiveFrame()
        #expect(type == .status, "the request the batch leads is answered")
        #expect(!granted(), "withdrawn before that answer")
        client.handles[handle.entryValue] = nil // closed behind IUMClient's back: its close goes to iumd
        #expect(try client.close(handle: handle) == .invalidHandle, "the batch closed the handle")
        handle = try open()
        let twoBatches = CloseBatch(handles: [handle]).encode(requestId: 0) + CloseBatch(handles: []).encode(requestId: 78)
        try client.sendFrame(twoBatches)
        #expect(throws: ClientError.self, "a batch may lead a request, not another batch") { try client.receiveFrame() }
        #expect(try client.status().processes > 0, "the connection stays")
    }

    @Test("a close batch and, in the same message, the open of a new process that reuses the closed handle's pid: the new process keeps the grant its open gave (clone3 set_tid)")
    func reusedPidKeepsItsGrant() throws {
        let d = try TestDaemon()
        let client = try IUMClient(socketPath: d.socket)
        let (first, _) = try startFixture(["sleep"])
        let pid = first.pid
        let old = try client.openProcess(pid: UInt64(pid), access: .queryLimitedInformation).get()
        first.signal(SIGKILL)
        first.wait()
        let (creator, line) = try startFixture(["settid", String(pid)])
        defer {
            kill(pid, SIGKILL)
            creator.wait()
        }
        #expect(line == "pid \(pid)", "the new process got the same pid")
        #expect(try client.close(handle: old) == .success, "answered in the client: the batch goes with the next request")
        _ = try client.openProcess(pid: UInt64(pid), access: .queryLimitedInformation).get()
        #expect(client.views?.view(of: pid) != nil, "the old handle's withdrawal leaves the new process's grant")
    }
}
