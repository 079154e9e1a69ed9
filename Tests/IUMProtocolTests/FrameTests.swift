// SPDX-License-Identifier: Apache-2.0
import Testing
import NTModel
import IUMWire
@testable import IUMProtocol

@Suite("Wire protocol")
struct FrameTests {
    @Test("a query request has the documented 12-byte header and fixed 36-byte payload")
    func queryGolden() throws {
        let q = QueryRequest(handle: Handle(rawValue: 4), infoClass: 0, length: 64,
                             buffer: .writable(address: 0x1000), returnLength: .absent)
        let bytes = q.encode(requestId: 7)
        #expect(bytes == [0x49, 0x55, 0x4D, 0x31, 1, 0, 2, 0, 7, 0, 0, 0,
                          4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0,
                          0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0])
        var (type, id, r) = try Frame.decodeHeader(bytes)
        #expect(type == .query && id == 7)
        #expect(try QueryRequest(&r) == q)
    }

    @Test("open requests and replies round-trip, NULL ClientId included")
    func openRoundTrip() throws {
        for request in [OpenRequest(clientId: (42, 7), hasObjectName: false, desiredAccess: .queryLimitedInformation),
                        OpenRequest(clientId: nil, hasObjectName: true, desiredAccess: .maximumAllowed)] {
            var (_, _, r) = try Frame.decodeHeader(request.encode(requestId: 1))
            #expect(try OpenRequest(&r) == request)
        }
        var (_, _, r) = try Frame.decodeHeader(StatusReply(status: .success, handle: 8).encode(.open, requestId: 1))
        #expect(try StatusReply(&r) == StatusReply(status: .success, handle: 8))
    }

    // Golden frames: the Swift encoder and ium_wire.h's C structs (libium's encoder) give the
    // same bytes for the same values.
    private func cBytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    private func cHeader(_ type: ium_wire_type, _ id: UInt32) -> ium_wire_header {
        ium_wire_header(magic: IUM_WIRE_MAGIC, version: UInt16(IUM_WIRE_VERSION), type: UInt16(type.rawValue), request_id: id)
    }

    @Test("golden: open request, open reply, query request and reply, close, close batch, views reply, status reply")
    func goldenFramesMatchTheCHeader() throws {
        let open = OpenRequest(clientId: (4242, 7), hasObjectName: true, desiredAccess: AccessMask(rawValue: 0x1400), probePassed: true)
        #expect(open.encode(requestId: 9) == cBytes(ium_wire_open_request(
            header: cHeader(IUM_WIRE_OPEN, 9), pid: 4242, tid: 7, desired_access: 0x1400,
            flags: IUM_WIRE_OPEN_CLIENT_ID | IUM_WIRE_OPEN_OBJECT_NAME | IUM_WIRE_OPEN_PROBED)))

        let reply = OpenReply(status: .success, handle: 8, grantedAccess: 0x1000, tableFlags: 0x48, creatorPid: 77,
                              startTicks: 123_456, execId: 3, cgroupId: 0xABCD, uids: (1000, 1001, 1002))
        #expect(reply.encode(requestId: 9) == cBytes(ium_wire_open_reply(
            header: cHeader(IUM_WIRE_OPEN, 9), status: 0, reserved: 0, handle: 8, granted_access: 0x1000, table_flags: 0x48,
            creator_pid: 77, start_ticks: 123_456, exec_id: 3, cgroup_id: 0xABCD, uids: (1000, 1001, 1002), reserved2: 0)))

        let query = QueryRequest(handle: Handle(rawValue: 12), infoClass: 27, length: 520, buffer: .writable(address: 0x7000_1000),
                                 returnLength: .unwritable(address: 0x10), probePassed: true)
        #expect(query.encode(requestId: 3) == cBytes(ium_wire_query_request(
            header: cHeader(IUM_WIRE_QUERY, 3), handle: 12, info_class: 27, length: 520, buffer: 0x7000_1000,
            return_length: 0x10, buffer_state: UInt8(IUM_WIRE_POINTER_WRITABLE),
            return_length_state: UInt8(IUM_WIRE_POINTER_FAULTS), flags: UInt8(IUM_WIRE_QUERY_PROBED), reserved: 0)))

        let outcome = QueryOutcome(status: .infoLengthMismatch, output: [], returnLength: 64)
        #expect(outcome.encode(requestId: 3) == cBytes(ium_wire_query_reply(
            header: cHeader(IUM_WIRE_QUERY, 3), status: 0xC000_0004, return_length: 64,
            flags: IUM_WIRE_RETURN_LENGTH_WRITTEN, output_length: 0)))

        #expect(Frame.encode(.close, requestId: 5) { $0.put(UInt64(16)) }
                == cBytes(ium_wire_close_request(header: cHeader(IUM_WIRE_CLOSE, 5), handle: 16)))

        var cBatch = ium_wire_close_batch() // (a flexible array member: no memberwise initializer)
        cBatch.header = cHeader(IUM_WIRE_CLOSE_BATCH, 6)
        cBatch.count = 2
        let batch = CloseBatch(handles: [Handle(rawValue: 4), Handle(rawValue: 8)]).encode(requestId: 6)
        #expect(batch == cBytes(cBatch) + cBytes(UInt64(4)) + cBytes(UInt64(8)))

        #expect(ViewsReply(status: .success, records: 64, recordSize: 80, features: ViewsReply.batchLeadsRequest).encode(requestId: 2)
                == cBytes(ium_wire_views_reply(header: cHeader(IUM_WIRE_VIEWS, 2), status: 0, records: 64, record_size: 80,
                                               features: IUM_WIRE_FEATURE_BATCH_LEADS)))

        #expect(StatusReply(status: .accessDenied, handle: 0, message: "no").encode(.tag, requestId: 4)
                == cBytes(ium_wire_status_reply(header: cHeader(IUM_WIRE_TAG, 4), status: 0xC000_0022, reserved: 0, handle: 0,
                                                message_length: 2)) + Array("no".utf8))

        #expect(TagRequest(pid: 99).encode(requestId: 1) == cBytes(ium_wire_tag_request(header: cHeader(IUM_WIRE_TAG, 1), pid: 99)))
    }

    @Test("every message type has ium_wire.h's value")
    func messageTypes() {
        let c: [(MessageType, ium_wire_type)] = [
            (.open, IUM_WIRE_OPEN), (.query, IUM_WIRE_QUERY), (.close, IUM_WIRE_CLOSE), (.tag, IUM_WIRE_TAG),
            (.list, IUM_WIRE_LIST), (.status, IUM_WIRE_STATUS), (.events, IUM_WIRE_EVENTS), (.unload, IUM_WIRE_UNLOAD),
            (.views, IUM_WIRE_VIEWS), (.closeBatch, IUM_WIRE_CLOSE_BATCH), (.error, IUM_WIRE_ERROR),
        ]
        for (swift, wire) in c { #expect(UInt32(swift.rawValue) == wire.rawValue, "\(swift)") }
        #expect(CloseBatch.maximum == Int(IUM_WIRE_CLOSE_BATCH_MAX))
    }

    @Test("a query outcome round-trips with and without ReturnLength")
    func outcomeRoundTrip() throws {
        for outcome in [QueryOutcome(status: .success, output: [1, 2, 3], returnLength: 3),
                        QueryOutcome(status: .infoLengthMismatch)] {
            var (_, _, r) = try Frame.decodeHeader(outcome.encode(requestId: 2))
            #expect(try QueryOutcome(&r) == outcome)
        }
    }

    @Test("bad magic, version, type and truncated payloads are errors, never traps")
    func malformed() throws {
        #expect(throws: ProtocolError.badMagic(0)) { try Frame.decodeHeader([UInt8](repeating: 0, count: 12)) }
        #expect(throws: ProtocolError.truncated(at: 0)) { try Frame.decodeHeader([]) }
        var bytes = Frame.encode(.status, requestId: 1) { _ in }
        bytes[4] = 9
        #expect(throws: ProtocolError.unsupportedVersion(9)) { try Frame.decodeHeader(bytes) }
        bytes[4] = 1; bytes[6] = 99
        #expect(throws: ProtocolError.unknownType(99)) { try Frame.decodeHeader(bytes) }
        var (_, _, r) = try Frame.decodeHeader(Frame.encode(.query, requestId: 1) { $0.put(UInt32(1)) })
        #expect(throws: ProtocolError.self) { try QueryRequest(&r) }
        var (_, _, bad) = try Frame.decodeHeader(Frame.encode(.query, requestId: 1) { w in
            w.put(UInt64(4)); w.put(UInt32(0)); w.put(UInt32(64)); w.put(UInt64(0)); w.put(UInt64(0)); w.put(UInt8(7)); w.put(UInt8(0)); w.put(UInt16(0))
        })
        #expect(throws: ProtocolError.invalidField("buffer state 7")) { try QueryRequest(&bad) }
    }

    @Test("long lists are cut into frames under the size limit, the last one marked")
    func batches() throws {
        let rows = (0..<5000).map { ProcessListing(pid: Int32($0), creatorPid: 1, uid: 0, flags: [], comm: "process-\($0)") }
        let frames = Batch.frames(.list, requestId: 3, items: rows, encode: Batch.encodeListing)
        #expect(frames.count > 1)
        #expect(frames.allSatisfy { $0.count <= Frame.maximumSize })
        var decoded: [ProcessListing] = []
        for (i, frame) in frames.enumerated() {
            var (_, _, r) = try Frame.decodeHeader(frame)
            let batch = try Batch.decode(&r, item: Batch.decodeListing)
            #expect(batch.last == (i == frames.count - 1))
            decoded += batch.items
        }
        #expect(decoded == rows)
    }

    @Test("status and audit rows round-trip")
    func adminRoundTrip() throws {
        let status = DaemonStatus(backend: "lsm", reason: "r", gaps: ["a", "b"], kernel: "6.12", uptimeMilliseconds: 5,
                                  processes: 9, denials: 1, kills: 2, eventsDropped: 3, tagsInherited: 4, rescans: 5, repairs: 6, auditRows: 7,
                                  sealedSince: 1_700_000_000_000_000_000)
        var (_, _, r) = try Frame.decodeHeader(status.encode(requestId: 1))
        #expect(try DaemonStatus(&r) == status)
        let row = AuditRecord(id: 1, time: 2, operation: "vm-write", action: "denied", backend: "lsm", callerPid: 3, callerTid: 4,
                              uid: 5, comm: "attack", targetPid: 6, targetTid: 7, mode: 8, filename: "")
        var (_, _, e) = try Frame.decodeHeader(Batch.frames(.events, requestId: 1, items: [row], encode: Batch.encodeAudit)[0])
        #expect(try Batch.decode(&e, item: Batch.decodeAudit).items == [row])
    }
}
