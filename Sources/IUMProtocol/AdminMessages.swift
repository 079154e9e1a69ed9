// SPDX-License-Identifier: Apache-2.0

public import NTModel

/// A request whose payload is one integer: tag (pid u32; 0 = the caller itself),
/// list (u32 bit 0: secure processes only), events (since id u64 + follow u8 + limit u32 in
/// ``EventsRequest``), status (nothing).
public struct TagRequest: Hashable, Sendable {
    /// The process to tag; 0 tags the calling process (`ium run` before exec).
    public var pid: Int32
    /// Creates the request.
    public init(pid: Int32) { self.pid = pid }
    /// Encodes the request.
    public func encode(requestId: UInt32) -> [UInt8] { Frame.encode(.tag, requestId: requestId) { $0.put(pid) } }
    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) { pid = try r.get() }
}

/// `ium ps`: which processes to list.
public struct ListRequest: Hashable, Sendable {
    /// Only processes tagged secure.
    public var secureOnly: Bool
    /// The client probed every process its `/proc` shows it (needed under `hidepid`).
    public var probed: Bool
    /// Creates the request.
    public init(secureOnly: Bool, probed: Bool = false) {
        self.secureOnly = secureOnly
        self.probed = probed
    }
    /// Encodes the request: u32 flags (bit 0 secure only, bit 1 probed).
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.list, requestId: requestId) { $0.put(UInt32((secureOnly ? 1 : 0) | (probed ? 2 : 0))) }
    }
    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        let flags: UInt32 = try r.get()
        secureOnly = flags & 1 != 0
        probed = flags & 2 != 0
    }
}

/// One row of `ium ps`.
public struct ProcessListing: Hashable, Sendable {
    /// The pid.
    public var pid: Int32
    /// The creator's pid (captured at creation).
    public var creatorPid: Int32
    /// The owner's uid.
    public var uid: UInt32
    /// The PEBI Flags.
    public var flags: ProcessFlags
    /// The command name.
    public var comm: String
    /// Creates a row.
    public init(pid: Int32, creatorPid: Int32, uid: UInt32, flags: ProcessFlags, comm: String) {
        self.pid = pid; self.creatorPid = creatorPid; self.uid = uid; self.flags = flags; self.comm = comm
    }
    func encode(_ w: inout WireWriter) {
        w.put(pid); w.put(creatorPid); w.put(uid); w.put(flags.rawValue); w.put(comm)
    }
    init(_ r: inout WireReader) throws(ProtocolError) {
        pid = try r.get(); creatorPid = try r.get(); uid = try r.get()
        flags = ProcessFlags(rawValue: try r.get()); comm = try r.getString()
    }
}

/// `ium events`: audit rows after `sinceId`, then (follow) new rows as they are stored.
public struct EventsRequest: Hashable, Sendable {
    /// Only rows with a larger id.
    public var sinceId: Int64
    /// Only rows at or after this time (Unix nanoseconds), 0 for all.
    public var sinceTime: Int64
    /// Keep the connection open and send new rows.
    public var follow: Bool
    /// Creates the request.
    public init(sinceId: Int64 = 0, sinceTime: Int64 = 0, follow: Bool = false) {
        self.sinceId = sinceId; self.sinceTime = sinceTime; self.follow = follow
    }
    /// Encodes the request.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.events, requestId: requestId) { w in w.put(sinceId); w.put(sinceTime); w.put(UInt32(follow ? 1 : 0)) }
    }
    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        sinceId = try r.get(); sinceTime = try r.get(); follow = try r.get(UInt32.self) & 1 != 0
    }
}

/// A denial kept in the audit store.
public struct AuditRecord: Hashable, Sendable {
    /// Row id (increasing).
    public var id: Int64
    /// Unix time in nanoseconds.
    public var time: Int64
    /// `ptrace-access`, `vm-write`, …
    public var operation: String
    /// `denied` or `killed`.
    public var action: String
    /// `lsm` or `kill`.
    public var backend: String
    /// The caller.
    public var callerPid: Int32
    /// The caller's thread.
    public var callerTid: Int32
    /// The caller's uid.
    public var uid: UInt32
    /// The caller's command name.
    public var comm: String
    /// The secure process.
    public var targetPid: Int32
    /// The targeted thread.
    public var targetTid: Int32
    /// ptrace mode, request, signal or fd.
    public var mode: UInt32
    /// The /proc file for proc-open denials.
    public var filename: String

    /// Creates a record.
    public init(id: Int64, time: Int64, operation: String, action: String, backend: String, callerPid: Int32, callerTid: Int32,
                uid: UInt32, comm: String, targetPid: Int32, targetTid: Int32, mode: UInt32, filename: String) {
        self.id = id; self.time = time; self.operation = operation; self.action = action; self.backend = backend
        self.callerPid = callerPid; self.callerTid = callerTid; self.uid = uid; self.comm = comm
        self.targetPid = targetPid; self.targetTid = targetTid; self.mode = mode; self.filename = filename
    }
    func encode(_ w: inout WireWriter) {
        w.put(id); w.put(time); w.put(operation); w.put(action); w.put(backend); w.put(callerPid); w.put(callerTid)
        w.put(uid); w.put(comm); w.put(targetPid); w.put(targetTid); w.put(mode); w.put(filename)
    }
    init(_ r: inout WireReader) throws(ProtocolError) {
        id = try r.get(); time = try r.get(); operation = try r.getString(); action = try r.getString()
        backend = try r.getString(); callerPid = try r.get(); callerTid = try r.get(); uid = try r.get()
        comm = try r.getString(); targetPid = try r.get(); targetTid = try r.get(); mode = try r.get()
        filename = try r.getString()
    }
}

/// A reply made of several frames: payload u8 last, u32 count, then the items. Lists are cut
/// into frames that fit ``Frame/maximumSize``.
public enum Batch {
    /// Encodes items into as many frames as needed (at least one, the last marked).
    public static func frames<T>(_ type: MessageType, requestId: UInt32, items: [T], last: Bool = true,
                                 encode: (T, inout WireWriter) -> Void) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var pending: [[UInt8]] = []
        var size = Frame.headerSize + 5
        func flush(final: Bool) {
            let chunk = pending
            frames.append(Frame.encode(type, requestId: requestId) { w in
                w.put(UInt8(final ? 1 : 0))
                w.put(UInt32(chunk.count))
                for item in chunk { for b in item { w.put(b) } }
            })
            pending = []
            size = Frame.headerSize + 5
        }
        for item in items {
            var w = WireWriter()
            encode(item, &w)
            if size + w.bytes.count > Frame.maximumSize - 64 { flush(final: false) }
            pending.append(w.bytes)
            size += w.bytes.count
        }
        flush(final: last)
        return frames
    }

    /// Decodes one frame's payload: whether it is the last, and its items.
    public static func decode<T>(_ r: inout WireReader, item: (inout WireReader) throws(ProtocolError) -> T) throws(ProtocolError) -> (last: Bool, items: [T]) {
        let last: UInt8 = try r.get()
        let count: UInt32 = try r.get()
        guard count <= UInt32(Frame.maximumSize) else { throw .invalidField("count \(count)") }
        var items: [T] = []
        for _ in 0..<count { items.append(try item(&r)) }
        return (last != 0, items)
    }

    /// Encodes/decodes process rows.
    public static func encodeListing(_ l: ProcessListing, _ w: inout WireWriter) { l.encode(&w) }
    /// Decodes a process row.
    public static func decodeListing(_ r: inout WireReader) throws(ProtocolError) -> ProcessListing { try ProcessListing(&r) }
    /// Encodes an audit row.
    public static func encodeAudit(_ a: AuditRecord, _ w: inout WireWriter) { a.encode(&w) }
    /// Decodes an audit row.
    public static func decodeAudit(_ r: inout WireReader) throws(ProtocolError) -> AuditRecord { try AuditRecord(&r) }
}

/// `ium status`.
public struct DaemonStatus: Hashable, Sendable {
    /// `lsm` or `kill`.
    public var backend: String
    /// Why this backend.
    public var reason: String
    /// What the backend does not cover.
    public var gaps: [String]
    /// `uname -r`.
    public var kernel: String
    /// Milliseconds since iumd started.
    public var uptimeMilliseconds: UInt64
    /// Processes in the table.
    public var processes: UInt32
    /// Guard counters.
    public var denials: UInt64, kills: UInt64, eventsDropped: UInt64, tagsInherited: UInt64
    /// Table rescans made to repair lost events, and the entries they fixed.
    public var rescans: UInt64, repairs: UInt64
    /// Rows in the audit store.
    public var auditRows: UInt64
    /// When the guard was sealed (Unix nanoseconds), 0 when it is not.
    public var sealedSince: Int64

    /// Creates a status.
    public init(backend: String, reason: String, gaps: [String], kernel: String, uptimeMilliseconds: UInt64, processes: UInt32,
                denials: UInt64, kills: UInt64, eventsDropped: UInt64, tagsInherited: UInt64, rescans: UInt64, repairs: UInt64,
                auditRows: UInt64, sealedSince: Int64) {
        self.backend = backend; self.reason = reason; self.gaps = gaps; self.kernel = kernel
        self.uptimeMilliseconds = uptimeMilliseconds; self.processes = processes; self.denials = denials; self.kills = kills
        self.eventsDropped = eventsDropped; self.tagsInherited = tagsInherited; self.rescans = rescans
        self.repairs = repairs; self.auditRows = auditRows; self.sealedSince = sealedSince
    }

    /// Encodes the reply.
    public func encode(requestId: UInt32) -> [UInt8] {
        Frame.encode(.status, requestId: requestId) { w in
            w.put(backend); w.put(reason); w.put(UInt16(gaps.count)); gaps.forEach { w.put($0) }
            w.put(kernel); w.put(uptimeMilliseconds); w.put(processes)
            for v in [denials, kills, eventsDropped, tagsInherited, rescans, repairs, auditRows] { w.put(v) }
            w.put(sealedSince)
        }
    }

    /// Decodes the payload.
    public init(_ r: inout WireReader) throws(ProtocolError) {
        backend = try r.getString(); reason = try r.getString()
        let n: UInt16 = try r.get()
        var gaps: [String] = []
        for _ in 0..<n { gaps.append(try r.getString()) }
        self.gaps = gaps
        kernel = try r.getString(); uptimeMilliseconds = try r.get(); processes = try r.get()
        denials = try r.get(); kills = try r.get(); eventsDropped = try r.get(); tagsInherited = try r.get()
        rescans = try r.get(); repairs = try r.get(); auditRows = try r.get()
        sealedSince = try r.get()
    }
}
