// SPDX-License-Identifier: Apache-2.0

public import NTModel

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
/// docs/PROTOCOL.md describes each message.
public enum Frame {
    /// `IUM1`.
    public static let magic: UInt32 = 0x314D_5549
    /// The protocol version.
    public static let version: UInt16 = 1
    /// The header size.
    public static let headerSize = 12
    /// The largest frame either side sends or accepts.
    public static let maximumSize = 65536

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
