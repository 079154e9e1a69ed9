// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import NTModel

/// One test per row of the decision procedure (docs/NT-SEMANTICS.md §3, §7 where Windows and Wine
/// differ ium follows Windows).
@Suite("NtQueryInformationProcess decision table")
struct QueryDecisionTableTests {
    // Step 1: class.
    @Test("an unknown class gives INVALID_INFO_CLASS and writes nothing", arguments: [0xFFFF, 0xC8, 0xFFFF_FFFF, 0x78, 1000, 1, 2, 3, 5, 18, 20, 21, 34, 36, 37, 38] as [UInt32])
    func unknownClass(cls: UInt32) {
        let r = query(cls, length: 48)
        #expect(r == QueryOutcome(status: .invalidInfoClass))
    }

    @Test("class -1 with a NULL handle, NULL buffer and length 0 gives INVALID_INFO_CLASS before any other check")
    func invalidClassBeforeHandle() {
        let r = query(0xFFFF_FFFF, length: 0, buffer: .null, returnLength: .absent, handle: .invalid)
        #expect(r.status == .invalidInfoClass)
        #expect(r.returnLength == nil)
    }

    // Step 2: length.
    @Test("a length other than 48 or 64 gives INFO_LENGTH_MISMATCH, buffer and ReturnLength untouched", arguments: [0, 1, 4, 8, 40, 47, 49, 56, 63, 65, 72, 96, 128, 4096] as [UInt32])
    func wrongLength(length: UInt32) {
        #expect(query(length: length) == QueryOutcome(status: .infoLengthMismatch))
    }

    @Test("a NULL handle with a NULL buffer and length 0 gives INFO_LENGTH_MISMATCH (length before handle)")
    func lengthBeforeHandle() {
        #expect(query(length: 0, buffer: .null, returnLength: .absent, handle: .invalid).status == .infoLengthMismatch)
    }

    @Test("an invalid handle with length 47 gives INFO_LENGTH_MISMATCH")
    func lengthBeforeInvalidHandle() {
        #expect(query(length: 47, handle: .invalid) == QueryOutcome(status: .infoLengthMismatch))
    }

    @Test("a wrong length is reported before an unwritable ReturnLength")
    func lengthBeforeReturnLengthProbe() {
        #expect(query(length: 47, returnLength: .unwritable(address: retlenAddress)).status == .infoLengthMismatch)
    }

    // Step 3: pointer probe.
    @Test("a buffer not 4-byte aligned gives DATATYPE_MISALIGNMENT", arguments: [1, 2, 3] as [UInt64])
    func misalignedBuffer(offset: UInt64) {
        #expect(query(buffer: .writable(address: aligned + offset)) == QueryOutcome(status: .datatypeMisalignment))
    }

    @Test("a buffer 4-byte aligned but not 8-byte aligned is accepted")
    func fourByteAlignedBuffer() {
        #expect(query(buffer: .writable(address: aligned + 4)).status == .success)
    }

    @Test("a NULL buffer with length 48 gives ACCESS_VIOLATION, even with a NULL handle")
    func nullBuffer() {
        #expect(query(length: 48, buffer: .null) == QueryOutcome(status: .accessViolation))
        #expect(query(length: 48, buffer: .null, handle: .invalid) == QueryOutcome(status: .accessViolation))
    }

    @Test("an unwritable buffer gives ACCESS_VIOLATION and ReturnLength is untouched")
    func unwritableBuffer() {
        #expect(query(buffer: .unwritable(address: 0x10)) == QueryOutcome(status: .accessViolation))
    }

    @Test("an unwritable ReturnLength gives ACCESS_VIOLATION and the buffer is untouched")
    func unwritableReturnLength() {
        #expect(query(returnLength: .unwritable(address: retlenAddress)) == QueryOutcome(status: .accessViolation))
    }

    @Test("a misaligned ReturnLength gives DATATYPE_MISALIGNMENT")
    func misalignedReturnLength() {
        #expect(query(returnLength: .writable(address: retlenAddress + 1)) == QueryOutcome(status: .datatypeMisalignment))
    }

    @Test("a NULL ReturnLength is allowed and nothing is reported")
    func nullReturnLength() {
        let r = query(length: 48, returnLength: .absent)
        #expect(r.status == .success)
        #expect(r.output.count == 48)
        #expect(r.returnLength == nil)
    }

    // Step 4: handle.
    @Test("an unknown, NULL or closed handle gives INVALID_HANDLE with ReturnLength = length", arguments: [48, 64] as [UInt32])
    func invalidHandle(length: UInt32) {
        #expect(query(length: length, handle: .invalid) == QueryOutcome(status: .invalidHandle, returnLength: length))
    }

    @Test("an invalid handle with a NULL ReturnLength reports nothing")
    func invalidHandleNoReturnLength() {
        #expect(query(returnLength: .absent, handle: .invalid) == QueryOutcome(status: .invalidHandle))
    }

    @Test("a handle to another object type (NtCurrentThread, an event) gives OBJECT_TYPE_MISMATCH")
    func otherObjectType() {
        #expect(query(length: 48, handle: .otherObjectType) == QueryOutcome(status: .objectTypeMismatch, returnLength: 48))
    }

    // Step 5: access.
    @Test("QUERY_INFORMATION, QUERY_LIMITED_INFORMATION and ALL_ACCESS may query class 0", arguments: [AccessMask.queryInformation, .queryLimitedInformation, .processAllAccess])
    func allowedAccess(granted: AccessMask) {
        #expect(query(handle: .process(granted: granted, source: FakeProcess())).status == .success)
    }

    @Test("SYNCHRONIZE, VM_READ or no access gives ACCESS_DENIED with ReturnLength = length", arguments: [AccessMask.synchronize, .vmRead, []])
    func deniedAccess(granted: AccessMask) {
        let r = query(length: 48, handle: .process(granted: granted, source: FakeProcess()))
        #expect(r == QueryOutcome(status: .accessDenied, returnLength: 48))
    }

    // Step 6: fill.
    @Test("length 48 returns PROCESS_BASIC_INFORMATION and ReturnLength 48")
    func basicInformation() throws {
        let r = query(length: 48)
        #expect(r.status == .success)
        #expect(r.returnLength == 48)
        let pbi = try ProcessBasicInformation(decoding: r.output)
        #expect(pbi == FakeProcess().basic)
    }

    @Test("length 64 returns PROCESS_EXTENDED_BASIC_INFORMATION with Size written as 64 and the Flags")
    func extendedInformation() throws {
        let r = query(length: 64)
        #expect(r.status == .success)
        #expect(r.returnLength == 64)
        #expect(Array(r.output[0..<8]) == [64, 0, 0, 0, 0, 0, 0, 0])
        let pebi = try ProcessExtendedBasicInformation(decoding: r.output)
        #expect(pebi.basicInfo == FakeProcess().basic)
        #expect(pebi.flags == [.isSecureProcess])
        #expect(Array(r.output[56..<60]) == [0x80, 0, 0, 0])
    }

    @Test("an exited process answers with its exit code and IsProcessDeleting")
    func exitedProcess() throws {
        var p = FakeProcess()
        p.basic.exitStatus = NTStatus(rawValue: 7)
        p.flags = [.isProcessDeleting]
        let pebi = try ProcessExtendedBasicInformation(decoding: query(handle: .process(granted: .queryLimitedInformation, source: p)).output)
        #expect(pebi.basicInfo.exitStatus.rawValue == 7)
        #expect(pebi.flags.contains(.isProcessDeleting))
    }

    @Test("a running process reports ExitStatus STATUS_PENDING (0x103)")
    func runningProcessIsPending() throws {
        let pbi = try ProcessBasicInformation(decoding: query(length: 48).output)
        #expect(pbi.exitStatus.rawValue == 0x103)
    }
}

@Suite("Other information classes")
struct OtherClassesTests {
    @Test("fixed-size classes accept only their size", arguments: [
        (4, 32), (7, 8), (24, 4), (26, 8), (29, 4), (30, 8), (31, 4), (61, 1), (75, 4),
    ] as [(UInt32, UInt32)])
    func fixedSizes(cls: UInt32, size: UInt32) {
        #expect(query(cls, length: size).status.isSuccess || query(cls, length: size).status == .portNotSet)
        #expect(query(cls, length: size).returnLength == size)
        for wrong in [0, size - 1, size + 1, size * 2] where wrong != size {
            #expect(query(cls, length: wrong) == QueryOutcome(status: .infoLengthMismatch))
        }
    }

    @Test("ProcessDebugPort is 0 when not debugged and -1 when debugged; it needs QUERY_INFORMATION")
    func debugPort() {
        #expect(query(7, length: 8).output == [UInt8](repeating: 0, count: 8))
        var traced = FakeProcess()
        traced.debugged = true
        #expect(query(7, length: 8, handle: .process(granted: .queryInformation, source: traced)).output == [UInt8](repeating: 0xFF, count: 8))
        #expect(query(7, length: 8, handle: .process(granted: .queryLimitedInformation, source: traced)).status == .accessDenied)
    }

    @Test("ProcessDebugObjectHandle gives PORT_NOT_SET and writes NULL when not debugged, a handle when debugged")
    func debugObjectHandle() {
        let r = query(30, length: 8)
        #expect(r == QueryOutcome(status: .portNotSet, output: [UInt8](repeating: 0, count: 8), returnLength: 8))
        var traced = FakeProcess()
        traced.debugged = true
        let d = query(30, length: 8, handle: .process(granted: .processAllAccess, source: traced))
        #expect(d.status == .success)
        #expect(d.output == [0x40, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("ProcessDebugFlags is 1 when not debugged and 0 when debugged")
    func debugFlags() {
        #expect(query(31, length: 4).output == [1, 0, 0, 0])
        var traced = FakeProcess()
        traced.debugged = true
        #expect(query(31, length: 4, handle: .process(granted: .processAllAccess, source: traced)).output == [0, 0, 0, 0])
    }

    @Test("ProcessTimes returns KERNEL_USER_TIMES")
    func times() throws {
        let t = try KernelUserTimes(decoding: query(4, length: 32).output)
        #expect(t == KernelUserTimes(createTime: 1, exitTime: 0, kernelTime: 2, userTime: 3))
    }

    @Test("ProcessSessionInformation returns the session id")
    func session() {
        #expect(query(24, length: 4).output == [77, 0, 0, 0])
    }

    @Test("ProcessProtectionInformation is one byte and needs no alignment")
    func protection() {
        #expect(query(61, length: 1, buffer: .writable(address: aligned + 1)).status == .success)
    }

    @Test("a too small buffer for an image name gives INFO_LENGTH_MISMATCH and the length needed", arguments: [27, 43, 60] as [UInt32])
    func variableTooSmall(cls: UInt32) {
        let text = cls == 60 ? FakeProcess().cmdline : FakeProcess().image
        let needed = UInt32(16 + text.utf16.count * 2 + 2)
        for length in [0, 16, 18, needed - 1] as [UInt32] {
            let r = query(cls, length: length)
            #expect(r == QueryOutcome(status: .infoLengthMismatch, returnLength: needed))
        }
        #expect(query(cls, length: 0, buffer: .null).returnLength == needed)
        let ok = query(cls, length: needed)
        #expect(ok.status == .success)
        #expect(ok.returnLength == needed)
    }

    @Test("an image name is a UNICODE_STRING whose Buffer points inside the caller's buffer")
    func imageFileName() throws {
        let r = query(27, length: 1024)
        let s = try InlineUnicodeString(decoding: r.output)
        #expect(s.text == "/usr/bin/sleep")
        #expect(Array(r.output[0..<4]) == [28, 0, 30, 0])
        #expect(Array(r.output[8..<16]) == withUnsafeBytes(of: (aligned + 16).littleEndian, Array.init))
        #expect(Array(r.output.suffix(2)) == [0, 0])
    }

    @Test("ProcessImageFileNameWin32 needs an 8-byte aligned buffer")
    func win32NameAlignment() {
        #expect(query(43, length: 1024, buffer: .writable(address: aligned + 4)).status == .datatypeMisalignment)
    }

    @Test("a query with a NULL handle after the class and length checks gives INVALID_HANDLE for fixed classes", arguments: [4, 7, 24] as [UInt32])
    func otherClassInvalidHandle(cls: UInt32) {
        let size: UInt32 = cls == 4 ? 32 : cls == 7 ? 8 : 4
        #expect(query(cls, length: size, handle: .invalid) == QueryOutcome(status: .invalidHandle, returnLength: size))
    }

    @Test("the served classes are the README's list (derived from the rules table)")
    func servedClasses() {
        #expect(ProcessInfoClass.served.map(\.rawValue) == [0, 4, 7, 24, 26, 27, 29, 30, 31, 43, 60, 61, 75])
        #expect(ProcessInfoClass(rawValue: 5).rule == nil)
    }
}
