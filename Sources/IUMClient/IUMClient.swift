// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import IUMProtocol
public import NTModel
internal import GuardABI
import LinuxEdge
import SystemPackage

/// A failure to talk to iumd (NT failures are statuses, not errors).
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in one line that says what to do.
    public var message: String
    /// Whether the daemon could not be reached at all.
    public var unreachable: Bool
    /// The status of iumd's error reply, when iumd answered with one (libium returns it as
    /// the call's NTSTATUS).
    public var status: NTStatus?
    /// Creates an error.
    public init(message: String, unreachable: Bool, status: NTStatus? = nil) {
        self.message = message
        self.unreachable = unreachable
        self.status = status
    }
    /// The message.
    public var description: String { message }
}

/// A connection to iumd, the NT calls typed. Not thread-safe: one connection per thread.
public final class IUMClient {
    /// `/run/ium/iumd.sock`, or `$IUM_SOCKET`.
    public static var defaultSocketPath: String {
        getenv("IUM_SOCKET").map { String(cString: $0) } ?? "/run/ium/iumd.sock"
    }

    let fd: Int32
    var nextId: UInt32 = 1
    /// What this connection knows of each process handle it opened (the open reply's facts,
    /// a pidfd for the read probe), for the in-client query, by `Handle.entryValue` (NT
    /// ignores a handle's two tag bits, and so does iumd).
    var handles: [UInt64: OpenedHandle] = [:]
    /// The task view table of this process (task_view.h), asked for after the first open.
    var views: TaskViewTable?
    var viewsAsked = false
    /// Whether iumd reads a close batch leading a request (its views reply says so): then
    /// `close` of a handle this connection opened is answered here, and the handle goes to iumd
    /// at the head of the next request's message (docs/PROTOCOL.md), as libium does.
    var batchesCloses = false
    /// Handles closed here, not yet sent to iumd.
    var pendingCloses: [Handle] = []

    struct OpenedHandle {
        var pid: Int32
        var pidfd: Int32
        var reply: OpenReply
    }

    /// Connects.
    /// - Parameter socketPath: The daemon's socket.
    public init(socketPath: String = IUMClient.defaultSocketPath) throws(ClientError) {
        do { fd = try Sockets.connect(path: socketPath) } catch {
            let reason = error.description
            if error == .permissionDenied || error == .notPermitted {
                throw ClientError(message: "cannot connect to \(socketPath): \(reason): this user may not reach iumd's socket", unreachable: true)
            }
            throw ClientError(
                message: "iumd is not running (cannot connect to \(socketPath): \(reason)): start it with 'sudo systemctl start iumd' or 'sudo iumd &'",
                unreachable: true)
        }
    }

    deinit {
        for entry in handles.values where entry.pidfd >= 0 { _ = Glibc.close(entry.pidfd) }
        _ = Glibc.close(fd)
    }

    func exchange(_ frame: [UInt8]) throws(ClientError) -> (MessageType, WireReader) {
        try sendFrame(frame)
        return try receiveFrame()
    }

    /// Sends a frame, after the handles closed here (a close batch at the head of the message).
    func sendFrame(_ frame: [UInt8]) throws(ClientError) {
        var message = frame
        if !pendingCloses.isEmpty {
            message = CloseBatch(handles: pendingCloses).encode(requestId: id()) + frame
            pendingCloses.removeAll(keepingCapacity: true)
        }
        guard Sockets.sendMessage(fd, message) else { throw ClientError(message: "iumd closed the connection", unreachable: true) }
    }

    func receiveFrame() throws(ClientError) -> (MessageType, WireReader) {
        var buffer = [UInt8](repeating: 0, count: Frame.maximumSize)
        let n = (try? Sockets.receive(fd, into: &buffer)) ?? 0
        guard n > 0 else { throw ClientError(message: "iumd closed the connection", unreachable: true) }
        do {
            let (type, _, payload) = try Frame.decodeHeader(Array(buffer[0..<n]))
            if type == .error {
                var p = payload
                let reply = try StatusReply(&p)
                // A refusal says what the caller lacks; other errors carry iumd's status.
                let message = reply.status == .accessDenied ? reply.message : "iumd: \(reply.message) (\(reply.status))"
                throw ClientError(message: message, unreachable: false, status: reply.status)
            }
            return (type, payload)
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(message: "iumd sent a malformed reply: \(error)", unreachable: false)
        }
    }

    /// Decodes a reply, or says which reply was malformed and how.
    func decode<T>(_ what: String, _ body: () throws(ProtocolError) -> T) throws(ClientError) -> T {
        do { return try body() } catch {
            throw ClientError(message: "iumd sent a malformed \(what) reply: \(error)", unreachable: false)
        }
    }

    private func id() -> UInt32 {
        defer { nextId &+= 1 }
        return nextId
    }

    /// Runs the kernel's read check of this process on `pid` (docs/PROTOCOL.md, "The caller's
    /// view"): whether iumd may show this caller the fields that check guards.
    static func readProbe(_ pid: Int32) -> Bool {
        pid > 0 && pid != getpid() && Processes.readProbe(pid)
    }

    /// `NtOpenProcess`.
    public func openProcess(pid: UInt64, thread: UInt64 = 0, access: AccessMask) throws(ClientError) -> Result<Handle, NTStatus> {
        let target = pid <= UInt64(Int32.max) ? Int32(pid) : 0
        let pidfd = target > 0 ? (try? Processes.pidfd(target)) ?? -1 : -1
        let request = OpenRequest(clientId: (pid, thread), hasObjectName: false, desiredAccess: access,
                                  probePassed: target != getpid() && pidfd >= 0 && Processes.readProbe(pidfd: pidfd))
        let reply: OpenReply
        do {
            var (_, r) = try exchange(request.encode(requestId: id()))
            reply = try decode("open") { () throws(ProtocolError) in try OpenReply(&r) }
        } catch {
            if pidfd >= 0 { _ = Glibc.close(pidfd) }
            throw error
        }
        guard reply.status == .success else {
            if pidfd >= 0 { _ = Glibc.close(pidfd) }
            return .failure(reply.status)
        }
        let handle = Handle(rawValue: reply.handle)
        if let old = handles[handle.entryValue], old.pidfd >= 0 { _ = Glibc.close(old.pidfd) }
        handles[handle.entryValue] = OpenedHandle(pid: target, pidfd: pidfd, reply: reply)
        if !viewsAsked { askViews() }
        return .success(handle)
    }

    /// Asks iumd once for this process's task view table and maps it; without one (no guard,
    /// an older iumd, IUM_IN_CLIENT=0) every query goes to iumd.
    func askViews() {
        viewsAsked = true
        if let value = getenv("IUM_IN_CLIENT"), String(cString: value) == "0" { return }
        guard (try? sendFrame(Frame.encode(.views, requestId: id()) { _ in })) != nil else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        guard let received = try? Sockets.receiveWithDescriptor(fd, into: &buffer) else { return }
        let (n, tableFD) = received
        defer { if tableFD >= 0 { _ = Glibc.close(tableFD) } }
        guard n > 0, let frame = try? Frame.decodeHeader(Array(buffer[0..<n])), frame.type == .views else { return }
        var p = frame.payload
        guard let reply = try? ViewsReply(&p), reply.status == .success, tableFD >= 0,
              reply.records == UInt32(IUM_VIEW_RECORDS), reply.recordSize == UInt32(MemoryLayout<ium_view>.size) else { return }
        views = try? TaskViewTable(fd: tableFD)
        batchesCloses = views != nil && reply.features & ViewsReply.batchLeadsRequest != 0
    }

    /// NtQueryInformationProcess(ProcessBasicInformation) answered in this process from the
    /// task view table (task_view.h: the mapping iumd's socket path uses too), or nil when
    /// iumd must answer (another class or length, a handle this connection did not open, an
    /// exited process, an exec, a cgroup move or new user ids since the open, no table).
    func queryInClient(handle: Handle, infoClass: UInt32, length: UInt32, bufferAddress: UInt64,
                       returnLengthAddress: UInt64) -> QueryOutcome? {
        guard infoClass == 0, length == 48 || length == 64, bufferAddress != 0, bufferAddress % 8 == 0,
              returnLengthAddress % 4 == 0, let views, let entry = handles[handle.entryValue],
              AccessMask(rawValue: entry.reply.grantedAccess).contains(.queryLimitedInformation),
              var view = views.view(of: entry.pid, pidfd: entry.pid == getpid() ? -1 : entry.pidfd),
              view.start_ticks == entry.reply.startTicks, view.flags & UInt32(IUM_VIEW_ZOMBIE) == 0,
              view.exec_id == entry.reply.execId, view.cgroup_id == entry.reply.cgroupId,
              (view.uid, view.euid, view.suid) == entry.reply.uids
        else { return nil }
        var context = ium_view_context(creator_pid: entry.reply.creatorPid, table_flags: entry.reply.tableFlags, reserved: 0)
        let b = ium_view_basic_information(&view, &context)
        let basic = ProcessBasicInformation(
            exitStatus: NTStatus(rawValue: b.exit_status), pebBaseAddress: b.peb_base_address, affinityMask: b.affinity_mask,
            basePriority: b.base_priority, uniqueProcessId: b.unique_process_id,
            inheritedFromUniqueProcessId: b.inherited_from_unique_process_id)
        let bytes = length == 48 ? basic.bytes
            : ProcessExtendedBasicInformation(basicInfo: basic, flags: ProcessFlags(rawValue: b.flags)).bytes
        return QueryOutcome(status: .success, output: bytes, returnLength: returnLengthAddress == 0 ? nil : length)
    }

    /// `NtQueryInformationProcess` into a buffer this client owns at `bufferAddress`.
    public func queryInformationProcess(handle: Handle, infoClass: UInt32, length: UInt32, bufferAddress: UInt64,
                                        returnLengthAddress: UInt64) throws(ClientError) -> QueryOutcome {
        if let answer = queryInClient(handle: handle, infoClass: infoClass, length: length, bufferAddress: bufferAddress,
                                      returnLengthAddress: returnLengthAddress) {
            return answer
        }
        let probe = [0, 26, 27, 43].contains(infoClass) && handles[handle.entryValue].map { Self.readProbe($0.pid) } == true
        let request = QueryRequest(handle: handle, infoClass: infoClass, length: length,
                                   buffer: .writable(address: bufferAddress),
                                   returnLength: returnLengthAddress == 0 ? .absent : .writable(address: returnLengthAddress),
                                   probePassed: probe)
        var (_, r) = try exchange(request.encode(requestId: id()))
        return try decode("query") { () throws(ProtocolError) in try QueryOutcome(&r) }
    }

    /// `NtClose`: of a handle this connection opened, answered here when iumd reads close
    /// batches (it frees the handle before the next request; a batch of the most handles goes
    /// alone).
    public func close(handle: Handle) throws(ClientError) -> NTStatus {
        let entry = handles.removeValue(forKey: handle.entryValue)
        if let entry, entry.pidfd >= 0 { _ = Glibc.close(entry.pidfd) }
        if entry != nil, batchesCloses {
            pendingCloses.append(Handle(rawValue: handle.entryValue))
            if pendingCloses.count == CloseBatch.maximum { try sendFrame([]) }
            return .success
        }
        let frame = Frame.encode(.close, requestId: id()) { $0.put(handle.rawValue) }
        var (_, r) = try exchange(frame)
        return try decode("close") { () throws(ProtocolError) in try StatusReply(&r) }.status
    }

    /// Tags a process secure (root or the `ium` group); pid 0 tags this process.
    public func tag(pid: Int32) throws(ClientError) -> StatusReply {
        var (_, r) = try exchange(TagRequest(pid: pid).encode(requestId: id()))
        return try decode("tag") { () throws(ProtocolError) in try StatusReply(&r) }
    }

    /// Asks iumd to unload the guard (root): it answers, then stops.
    public func unload() throws(ClientError) -> StatusReply {
        var (_, r) = try exchange(Frame.encode(.unload, requestId: id()) { _ in })
        return try decode("unload") { () throws(ProtocolError) in try StatusReply(&r) }
    }

    /// The daemon's status.
    public func status() throws(ClientError) -> DaemonStatus {
        var (_, r) = try exchange(Frame.encode(.status, requestId: id()) { _ in })
        return try decode("status") { () throws(ProtocolError) in try DaemonStatus(&r) }
    }

    /// The process table: the processes this caller may see (iumd applies `/proc`'s `hidepid`
    /// for it, so the client first probes every process its own `/proc` shows it).
    public func list(secureOnly: Bool) throws(ClientError) -> [ProcessListing] {
        for pid in (try? Files.numericEntries("/proc")) ?? [] { _ = Self.readProbe(pid) }
        try sendFrame(ListRequest(secureOnly: secureOnly, probed: true).encode(requestId: id()))
        var rows: [ProcessListing] = []
        while true {
            var (_, r) = try receiveFrame()
            let batch = try decode("list") { () throws(ProtocolError) in try Batch.decode(&r, item: Batch.decodeListing) }
            rows += batch.items
            if batch.last { return rows }
        }
    }

    /// Audit rows; with `follow`, calls `handler` for new rows until it returns false.
    public func events(_ request: EventsRequest, handler: ([AuditRecord]) -> Bool) throws(ClientError) {
        try sendFrame(request.encode(requestId: id()))
        while true {
            var (_, r) = try receiveFrame()
            let batch = try decode("events") { () throws(ProtocolError) in try Batch.decode(&r, item: Batch.decodeAudit) }
            if !handler(batch.items) || batch.last { return }
        }
    }
}
