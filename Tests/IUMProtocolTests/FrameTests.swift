// SPDX-License-Identifier: Apache-2.0
import Testing
import NTModel
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
