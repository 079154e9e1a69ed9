// SPDX-License-Identifier: Apache-2.0

public import NTModel
internal import IUMWire

/// The ium wire protocol, version 1: one message per SOCK_SEQPACKET datagram on
/// `/run/ium/iumd.sock`. Every frame starts with a 12-byte header:
///
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | 4 | magic `IUM1` (0x314D5549, little-endian) |
/// | 4 | 2 | version (1) |
/// | 6 | 2 | message type (``MessageType``) |
/// | 8 | 4 | request id: replies carry the id of their request |
///
/// The payloads are little-endian, fixed-layout for the NT calls (so the C client encodes
/// them with a few stores) and length-prefixed strings for the administrative messages.
/// docs/PROTOCOL.md describes each message; ium_wire.h (CModules/IUMWire) holds the fixed
/// parts as C structs, which the golden tests compare with this encoder byte for byte.
public enum Frame {
    /// `IUM1`.
    public static let magic: UInt32 = IUM_WIRE_MAGIC
    /// The protocol version.
    public static let version = UInt16(IUM_WIRE_VERSION)
    /// The header size.
    public static let headerSize = MemoryLayout<ium_wire_header>.size
    /// The largest frame either side sends or accepts.
    public static let maximumSize = Int(IUM_WIRE_MAX_FRAME)

    /// A header followed by a payload.
    public static func encode(_ type: MessageType, requestId: UInt32, payload: (inout WireWriter) -> Void) -> [UInt8] {
        var w = WireWriter()
        w.put(magic)
        w.put(version)
        w.put(type.rawValue)
        w.put(requestId)
        payload(&w)
        return w.bytes
    }

    /// Checks and reads a header; the reader is left at the payload.
    public static func decodeHeader(_ bytes: [UInt8]) throws(ProtocolError) -> (type: MessageType, requestId: UInt32, payload: WireReader) {
        guard bytes.count <= maximumSize else { throw .tooLarge(bytes.count) }
        var r = WireReader(bytes)
        let m: UInt32 = try r.get()
        guard m == magic else { throw .badMagic(m) }
        let v: UInt16 = try r.get()
        guard v == version else { throw .unsupportedVersion(v) }
        let t: UInt16 = try r.get()
        guard let type = MessageType(rawValue: t) else { throw .unknownType(t) }
        let id: UInt32 = try r.get()
        return (type, id, r)
    }
}

/// Message types. Requests go client → daemon; each gets a reply of the same type, or
/// ``error`` (a status and a message) when the request could not be decoded or served.
public enum MessageType: UInt16, Sendable {
    /// `NtOpenProcess`.
    case open = 1
    /// `NtQueryInformationProcess`.
    case query = 2
    /// `NtClose`.
    case close = 3
    /// Tag a process secure (root or the `ium` group); pid 0 tags the caller itself.
    case tag = 4
    /// The process table.
    case list = 5
    /// Backend, coverage, counters, uptime.
    case status = 6
    /// Audit rows (denials) and, with follow, new ones as they happen.
    case events = 7
    /// Unload the guard (root): enforcement stops, every tag is gone, iumd stops.
    case unload = 8
    /// The caller's task view table (the in-client query): a ``ViewsReply`` with the table's
    /// file descriptor attached (SCM_RIGHTS), to map read-only.
    case views = 9
    /// Handles the client already closed on its side (``CloseBatch``): freed, never answered.
    case closeBatch = 10
    /// A failed request: NT status and message.
    case error = 0xFFFF
}

/// `NtOpenProcess` request: ClientId (or absent), ObjectName present, DesiredAccess, and
/// whether the client's read probe of the process passed (docs/PROTOCOL.md, "The caller's view").
public struct OpenRequest: Hashable, Sendable {
    /// The client id, nil when the caller passed NULL.
    public var clientId: (process: UInt64, thread: UInt64)?
    /// Whether ObjectAttributes named an object.
    public var hasObjectName: Bool
    /// DesiredAccess.
    public var desiredAccess: AccessMask
    /// Whether the client ran the kernel's read check on the process just before and it passed.
    public var probePassed: Bool

    /// Creates the request.
    public init(clientId: (process: UInt64, thread: UInt64)?, hasObjectName: Bool, desiredAccess: AccessMask,
                probePassed: Bool = false) {
        self.clientId = clientId
        self.hasObjectName = hasObjectName
        self.desiredAccess = desiredAccess
        self.probePassed = probePassed
    }

    /// payload: process u64, thread u64, access u32, flags u32 (bit 0 ClientId present,
    /// bit 1 ObjectName present, bit 2 the client's read probe passed).
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.open, requestId: requestId) { w in
            w.put(clientId?.process ?? 0)
            w.put(clientId?.thread ?? 0)
            w.put(desiredAccess.rawValue)
            w.put(UInt32((clientId != nil ? 1 : 0) | (hasObjectName ? 2 : 0) | (probePassed ? 4 : 0)))
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        let process: UInt64 = try r.get(), thread: UInt64 = try r.get()
        desiredAccess = AccessMask(rawValue: try r.get())
        let flags: UInt32 = try r.get()
        clientId = flags & 1 != 0 ? (process, thread) : nil
        hasObjectName = flags & 2 != 0
        probePassed = flags & 4 != 0
    }

    public static func == (a: OpenRequest, b: OpenRequest) -> Bool {
        a.clientId?.process == b.clientId?.process && a.clientId?.thread == b.clientId?.thread
            && a.hasObjectName == b.hasObjectName && a.desiredAccess == b.desiredAccess && a.probePassed == b.probePassed
    }
    public func hash(into h: inout Hasher) {
        h.combine(clientId?.process); h.combine(clientId?.thread); h.combine(hasObjectName); h.combine(desiredAccess)
        h.combine(probePassed)
    }
}

/// `NtQueryInformationProcess` request, with the pointers as the client probed them.
public struct QueryRequest: Hashable, Sendable {
    /// ProcessHandle.
    public var handle: Handle
    /// ProcessInformationClass.
    public var infoClass: UInt32
    /// ProcessInformationLength.
    public var length: UInt32
    /// The probed buffer.
    public var buffer: BufferPointer
    /// The probed ReturnLength.
    public var returnLength: ReturnLengthPointer
    /// Whether the client ran the kernel's read check on the handle's process just before and
    /// it passed.
    public var probePassed: Bool

    /// Creates the request.
    public init(handle: Handle, infoClass: UInt32, length: UInt32, buffer: BufferPointer, returnLength: ReturnLengthPointer,
                probePassed: Bool = false) {
        self.handle = handle
        self.infoClass = infoClass
        self.length = length
        self.buffer = buffer
        self.returnLength = returnLength
        self.probePassed = probePassed
    }

    /// payload: handle u64, class u32, length u32, buffer address u64, ReturnLength address
    /// u64, buffer state u8 (0 NULL, 1 unwritable, 2 writable), ReturnLength state u8
    /// (0 NULL, 1 unwritable, 2 writable), flags u8 (bit 0 the client's read probe passed),
    /// 1 byte of padding.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.query, requestId: requestId) { w in
            w.put(handle.rawValue)
            w.put(infoClass)
            w.put(length)
            switch buffer {
            case .null: w.put(UInt64(0))
            case .unwritable(let a), .writable(let a): w.put(a)
            }
            switch returnLength {
            case .absent: w.put(UInt64(0))
            case .unwritable(let a), .writable(let a): w.put(a)
            }
            w.put(UInt8(buffer == .null ? 0 : { if case .writable = buffer { return 2 } else { return 1 } }()))
            w.put(UInt8(returnLength == .absent ? 0 : { if case .writable = returnLength { return 2 } else { return 1 } }()))
            w.put(UInt8(probePassed ? 1 : 0))
            w.put(UInt8(0))
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        handle = Handle(rawValue: try r.get())
        infoClass = try r.get()
        length = try r.get()
        let bufferAddress: UInt64 = try r.get(), returnAddress: UInt64 = try r.get()
        let bufferState: UInt8 = try r.get(), returnState: UInt8 = try r.get(), flags: UInt8 = try r.get()
        probePassed = flags & 1 != 0
        buffer = switch bufferState {
        case 0: .null
        case 1: .unwritable(address: bufferAddress)
        case 2: .writable(address: bufferAddress)
        default: throw .invalidField("buffer state \(bufferState)")
        }
        returnLength = switch returnState {
        case 0: .absent
        case 1: .unwritable(address: returnAddress)
        case 2: .writable(address: returnAddress)
        default: throw .invalidField("ReturnLength state \(returnState)")
        }
    }
}

extension QueryOutcome {
    /// Query reply payload: status u32, ReturnLength u32, flags u32 (bit 0: ReturnLength is
    /// written), output length u32, the output bytes.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.query, requestId: requestId) { w in
            w.put(status.rawValue)
            w.put(returnLength ?? 0)
            w.put(UInt32(returnLength != nil ? 1 : 0))
            w.putBlob(output)
        }
    }

    /// Decodes a query reply payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        let status = NTStatus(rawValue: try r.get())
        let length: UInt32 = try r.get()
        let flags: UInt32 = try r.get()
        self.init(status: status, output: try r.getBlob(), returnLength: flags & 1 != 0 ? length : nil)
    }
}

/// A reply that is an NT status and a handle (open), or just a status (close, tag).
public struct StatusReply: Hashable, Sendable {
    /// The status.
    public var status: NTStatus
    /// The handle (open), 0 otherwise.
    public var handle: UInt64
    /// A message for people (tag errors, error replies).
    public var message: String

    /// Creates the reply.
    public init(status: NTStatus, handle: UInt64 = 0, message: String = "") {
        self.status = status
        self.handle = handle
        self.message = message
    }

    /// payload: status u32, 4 bytes of padding, handle u64, message (u16 length + UTF-8).
    public func encode(_ type: MessageType, requestId: UInt32) -> [UInt8] {
        Frame.encode(type, requestId: requestId) { w in
            w.put(status.rawValue)
            w.put(UInt32(0))
            w.put(handle)
            w.put(message)
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        status = NTStatus(rawValue: try r.get())
        _ = try r.get(UInt32.self)
        handle = try r.get()
        message = try r.getString()
    }
}

/// The reply to `.open`: a ``StatusReply``'s first fields, then what the in-client query
/// needs (task_view.h): the granted access, the flags iumd's table keeps, the creator, and
/// the process's identity with the exec and cgroup its table flags were computed for.
public struct OpenReply: Hashable, Sendable {
    /// The status.
    public var status: NTStatus
    /// The handle, 0 on failure.
    public var handle: UInt64
    /// The access granted (with the implied rights).
    public var grantedAccess: UInt32
    /// IsCrossSessionCreate | IsStronglyNamed (NT Flags bits).
    public var tableFlags: UInt32
    /// InheritedFromUniqueProcessId.
    public var creatorPid: UInt64
    /// The process's start time, ticks after boot (its identity with the pid).
    public var startTicks: UInt64
    /// The exec its table flags describe (the guard's self_exec_id; 0 without a view).
    public var execId: UInt64
    /// The cgroup its table flags describe (0 without a view).
    public var cgroupId: UInt64
    /// The process's real, effective and saved uids at the open: while they stay the same the
    /// caller's last view through iumd still holds (what an exited process shows it).
    public var uids: (UInt32, UInt32, UInt32)

    /// Creates the reply.
    public init(status: NTStatus, handle: UInt64 = 0, grantedAccess: UInt32 = 0, tableFlags: UInt32 = 0,
                creatorPid: UInt64 = 0, startTicks: UInt64 = 0, execId: UInt64 = 0, cgroupId: UInt64 = 0,
                uids: (UInt32, UInt32, UInt32) = (0, 0, 0)) {
        self.status = status
        self.handle = handle
        self.grantedAccess = grantedAccess
        self.tableFlags = tableFlags
        self.creatorPid = creatorPid
        self.startTicks = startTicks
        self.execId = execId
        self.cgroupId = cgroupId
        self.uids = uids
    }

    /// payload: status u32, 4 bytes of padding, handle u64, access u32, table flags u32,
    /// creator u64, start ticks u64, exec id u64, cgroup id u64, uid, euid, suid u32, 4 bytes of
    /// padding (docs/PROTOCOL.md).
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.open, requestId: requestId) { w in
            w.put(status.rawValue)
            w.put(UInt32(0))
            w.put(handle)
            w.put(grantedAccess)
            w.put(tableFlags)
            w.put(creatorPid)
            w.put(startTicks)
            w.put(execId)
            w.put(cgroupId)
            w.put(uids.0)
            w.put(uids.1)
            w.put(uids.2)
            w.put(UInt32(0))
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        status = NTStatus(rawValue: try r.get())
        _ = try r.get(UInt32.self)
        handle = try r.get()
        grantedAccess = try r.get()
        tableFlags = try r.get()
        creatorPid = try r.get()
        startTicks = try r.get()
        execId = try r.get()
        cgroupId = try r.get()
        uids = (try r.get(), try r.get(), try r.get())
        _ = try r.get(UInt32.self)
    }

    public static func == (a: OpenReply, b: OpenReply) -> Bool {
        a.status == b.status && a.handle == b.handle && a.grantedAccess == b.grantedAccess && a.tableFlags == b.tableFlags
            && a.creatorPid == b.creatorPid && a.startTicks == b.startTicks && a.execId == b.execId
            && a.cgroupId == b.cgroupId && a.uids == b.uids
    }

    public func hash(into h: inout Hasher) {
        h.combine(status); h.combine(handle); h.combine(execId); h.combine(cgroupId)
    }
}

/// The reply to `.views`: the status (success only with a table attached) and the table's
/// shape, which the client checks against its own task_view.h.
public struct ViewsReply: Hashable, Sendable {
    /// `STATUS_SUCCESS` with a table, else why there is none (no guard, no slot left).
    public var status: NTStatus
    /// Records in the table.
    public var records: UInt32
    /// Bytes per record.
    public var recordSize: UInt32
    /// What this iumd serves beyond version 1's frames (`IUM_WIRE_FEATURE_*`).
    public var features: UInt32

    /// The feature bit: a close batch may lead the client's next request in one message.
    public static let batchLeadsRequest = UInt32(IUM_WIRE_FEATURE_BATCH_LEADS)

    /// Creates the reply.
    public init(status: NTStatus, records: UInt32 = 0, recordSize: UInt32 = 0, features: UInt32 = 0) {
        self.status = status
        self.records = records
        self.recordSize = recordSize
        self.features = features
    }

    /// payload: status u32, records u32, record size u32, features u32.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.views, requestId: requestId) { w in
            w.put(status.rawValue)
            w.put(records)
            w.put(recordSize)
            w.put(features)
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        status = NTStatus(rawValue: try r.get())
        records = try r.get()
        recordSize = try r.get()
        features = try r.get()
    }
}

/// Handles a client closed on its side (it opened them on this connection, so it answered
/// NtClose itself): iumd frees them before the frame that follows and sends no reply. libium
/// sends the batch with its next request in one message (the request's frame right after the
/// batch's handles: ``ViewsReply/batchLeadsRequest``), so open + query + close costs one round
/// trip and iumd one receive.
public struct CloseBatch: Hashable, Sendable {
    /// The handles.
    public var handles: [Handle]

    /// The most handles in one batch.
    public static let maximum = Int(IUM_WIRE_CLOSE_BATCH_MAX)

    /// Creates the batch.
    public init(handles: [Handle]) { self.handles = handles }

    /// payload: count u32, 4 bytes of padding, then count handles u64.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.closeBatch, requestId: requestId) { w in
            w.put(UInt32(handles.count))
            w.put(UInt32(0))
            for h in handles { w.put(h.rawValue) }
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        let count = Int(try r.get(UInt32.self))
        _ = try r.get(UInt32.self)
        guard count <= Self.maximum else { throw ProtocolError.invalidField("a close batch of \(count) handles") }
        var handles: [Handle] = []
        for _ in 0..<count { handles.append(Handle(rawValue: try r.get())) }
        self.handles = handles
    }
}
