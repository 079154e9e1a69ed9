// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import IUMProtocol
public import NTModel
internal import CLinuxShims

/// A failure to talk to iumd (NT failures are statuses, not errors).
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in one line that says what to do.
    public var message: String
    /// Whether the daemon could not be reached at all.
    public var unreachable: Bool
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
    /// The process each open handle names, for the read probe before a query.
    var handlePids: [Handle: Int32] = [:]

    /// Connects.
    /// - Parameter socketPath: The daemon's socket.
    public init(socketPath: String = IUMClient.defaultSocketPath) throws(ClientError) {
        let fd = ium_seqpacket_connect(socketPath)
        guard fd >= 0 else {
            let e = errno
            let reason = String(cString: strerror(e))
            if e == EACCES || e == EPERM {
                throw ClientError(message: "cannot connect to \(socketPath): \(reason): this user may not reach iumd's socket", unreachable: true)
            }
            throw ClientError(
                message: "iumd is not running (cannot connect to \(socketPath): \(reason)): start it with 'sudo systemctl start iumd' or 'sudo iumd &'",
                unreachable: true)
        }
        self.fd = fd
    }

    deinit { _ = Glibc.close(fd) }

    func exchange(_ frame: [UInt8]) throws(ClientError) -> (MessageType, WireReader) {
        try sendFrame(frame)
        return try receiveFrame()
    }

    func sendFrame(_ frame: [UInt8]) throws(ClientError) {
        let n = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n == frame.count else { throw ClientError(message: "iumd closed the connection", unreachable: true) }
    }

    func receiveFrame() throws(ClientError) -> (MessageType, WireReader) {
        var buffer = [UInt8](repeating: 0, count: Frame.maximumSize)
        var n: Int
        repeat { n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
        guard n > 0 else { throw ClientError(message: "iumd closed the connection", unreachable: true) }
        do {
            let (type, _, payload) = try Frame.decodeHeader(Array(buffer[0..<n]))
            if type == .error {
                var p = payload
                let reply = try StatusReply(&p)
                // A refusal says what the caller lacks; other errors carry iumd's status.
                let message = reply.status == .accessDenied ? reply.message : "iumd: \(reply.message) (\(reply.status))"
                throw ClientError(message: message, unreachable: false)
            }
            return (type, payload)
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(message: "iumd sent a malformed reply: \(error)", unreachable: false)
        }
    }

    private func id() -> UInt32 {
        defer { nextId &+= 1 }
        return nextId
    }

    /// Runs the kernel's read check of this process on `pid` (docs/PROTOCOL.md, "The caller's
    /// view"): whether iumd may show this caller the fields that check guards.
    static func readProbe(_ pid: Int32) -> Bool {
        pid > 0 && pid != getpid() && ium_read_probe(pid) == 1
    }

    /// `NtOpenProcess`.
    public func openProcess(pid: UInt64, thread: UInt64 = 0, access: AccessMask) throws(ClientError) -> Result<Handle, NTStatus> {
        let target = pid <= UInt64(Int32.max) ? Int32(pid) : 0
        let request = OpenRequest(clientId: (pid, thread), hasObjectName: false, desiredAccess: access,
                                  probePassed: Self.readProbe(target))
        var (_, r) = try exchange(request.encode(requestId: id()))
        guard let reply = try? StatusReply(&r) else { throw ClientError(message: "malformed open reply", unreachable: false) }
        guard reply.status == .success else { return .failure(reply.status) }
        let handle = Handle(rawValue: reply.handle)
        handlePids[handle] = target
        return .success(handle)
    }

    /// `NtQueryInformationProcess` into a buffer this client owns at `bufferAddress`.
    public func queryInformationProcess(handle: Handle, infoClass: UInt32, length: UInt32, bufferAddress: UInt64,
                                        returnLengthAddress: UInt64) throws(ClientError) -> QueryOutcome {
        let probe = [0, 26, 27, 43].contains(infoClass) && handlePids[handle].map(Self.readProbe) == true
        let request = QueryRequest(handle: handle, infoClass: infoClass, length: length,
                                   buffer: .writable(address: bufferAddress),
                                   returnLength: returnLengthAddress == 0 ? .absent : .writable(address: returnLengthAddress),
                                   probePassed: probe)
        var (_, r) = try exchange(request.encode(requestId: id()))
        guard let outcome = try? QueryOutcome(&r) else { throw ClientError(message: "malformed query reply", unreachable: false) }
        return outcome
    }

    /// `NtClose`.
    public func close(handle: Handle) throws(ClientError) -> NTStatus {
        handlePids[handle] = nil
        let frame = Frame.encode(.close, requestId: id()) { $0.put(handle.rawValue) }
        var (_, r) = try exchange(frame)
        return (try? StatusReply(&r))?.status ?? .invalidHandle
    }

    /// Tags a process secure (root or the `ium` group); pid 0 tags this process.
    public func tag(pid: Int32) throws(ClientError) -> StatusReply {
        var (_, r) = try exchange(TagRequest(pid: pid).encode(requestId: id()))
        guard let reply = try? StatusReply(&r) else { throw ClientError(message: "malformed tag reply", unreachable: false) }
        return reply
    }

    /// Asks iumd to unload the guard (root): it answers, then stops.
    public func unload() throws(ClientError) -> StatusReply {
        var (_, r) = try exchange(Frame.encode(.unload, requestId: id()) { _ in })
        guard let reply = try? StatusReply(&r) else { throw ClientError(message: "malformed unload reply", unreachable: false) }
        return reply
    }

    /// The daemon's status.
    public func status() throws(ClientError) -> DaemonStatus {
        var (_, r) = try exchange(Frame.encode(.status, requestId: id()) { _ in })
        guard let status = try? DaemonStatus(&r) else { throw ClientError(message: "malformed status reply", unreachable: false) }
        return status
    }

    /// The process table: the processes this caller may see (iumd applies `/proc`'s `hidepid`
    /// for it, so the client first probes every process its own `/proc` shows it).
    public func list(secureOnly: Bool) throws(ClientError) -> [ProcessListing] {
        if let dir = opendir("/proc") {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if let pid = Int32(name) { _ = Self.readProbe(pid) }
            }
            closedir(dir)
        }
        try sendFrame(ListRequest(secureOnly: secureOnly, probed: true).encode(requestId: id()))
        var rows: [ProcessListing] = []
        while true {
            var (_, r) = try receiveFrame()
            guard let batch = try? Batch.decode(&r, item: Batch.decodeListing) else {
                throw ClientError(message: "malformed list reply", unreachable: false)
            }
            rows += batch.items
            if batch.last { return rows }
        }
    }

    /// Audit rows; with `follow`, calls `handler` for new rows until it returns false.
    public func events(_ request: EventsRequest, handler: ([AuditRecord]) -> Bool) throws(ClientError) {
        try sendFrame(request.encode(requestId: id()))
        while true {
            var (_, r) = try receiveFrame()
            guard let batch = try? Batch.decode(&r, item: Batch.decodeAudit) else {
                throw ClientError(message: "malformed events reply", unreachable: false)
            }
            if !handler(batch.items) || batch.last { return }
        }
    }
}
