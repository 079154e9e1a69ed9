// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import NTModel

final class Tracked: Sendable {
    let id: Int
    init(_ id: Int) { self.id = id }
}

@Suite("Handle tables")
struct HandleTableTests {
    @Test("handles are multiples of 4 starting at 4")
    func values() throws {
        var t = HandleTable<Int>()
        #expect(try t.insert(1, access: .queryInformation).get() == Handle(rawValue: 4))
        #expect(try t.insert(2, access: .queryInformation).get() == Handle(rawValue: 8))
        #expect(try t.insert(3, access: .queryInformation).get() == Handle(rawValue: 12))
    }

    @Test("the two low tag bits of a handle are ignored")
    func tagBits() throws {
        var t = HandleTable<Int>()
        let h = try t.insert(9, access: .queryInformation).get()
        for tag in 0..<4 as Range<UInt64> { #expect(t.entry(for: Handle(rawValue: h.rawValue | tag))?.object == 9) }
    }

    @Test("the access granted at open is kept with the handle")
    func grantedAccess() throws {
        var t = HandleTable<Int>()
        let h = try t.insert(1, access: [.queryLimitedInformation, .synchronize]).get()
        #expect(t.entry(for: h)?.grantedAccess == [.queryLimitedInformation, .synchronize])
    }

    @Test("closing a handle twice, NULL or an unknown value gives INVALID_HANDLE")
    func closeInvalid() throws {
        var t = HandleTable<Int>()
        let h = try t.insert(1, access: []).get()
        #expect(t.close(h) == .success)
        #expect(t.close(h) == .invalidHandle)
        #expect(t.close(.null) == .invalidHandle)
        #expect(t.close(Handle(rawValue: 0x1234)) == .invalidHandle)
        #expect(t.entry(for: h) == nil)
    }

    @Test("closing NtCurrentProcess() succeeds and has no effect")
    func closePseudo() throws {
        var t = HandleTable<Int>()
        _ = try t.insert(1, access: []).get()
        #expect(t.close(.currentProcess) == .success)
        #expect(t.count == 1)
    }

    @Test("a closed value is reused by the next open")
    func reuse() throws {
        var t = HandleTable<Int>()
        let a = try t.insert(1, access: []).get()
        _ = try t.insert(2, access: []).get()
        t.close(a)
        #expect(try t.insert(3, access: []).get() == a)
    }

    @Test("a full table gives INSUFFICIENT_RESOURCES")
    func limit() throws {
        var t = HandleTable<Int>(limit: 2)
        _ = try t.insert(1, access: []).get()
        _ = try t.insert(2, access: []).get()
        #expect(t.insert(3, access: []) == .failure(.insufficientResources))
    }

    @Test("an object lives while a handle references it and goes when the last handle closes")
    func objectLifetime() throws {
        var t = HandleTable<Tracked>()
        weak var weakObject: Tracked?
        var h1 = Handle.null, h2 = Handle.null
        do {
            let object = Tracked(1)
            weakObject = object
            h1 = try t.insert(object, access: []).get()
            h2 = try t.insert(object, access: []).get()
        }
        #expect(weakObject != nil)
        t.close(h1)
        #expect(weakObject != nil)
        t.close(h2)
        #expect(weakObject == nil)
    }

    @Test("pseudo-handles: -1 is the current process, -2…-6 are other object types")
    func pseudoHandles() {
        #expect(Handle.currentProcess.rawValue == 0xFFFF_FFFF_FFFF_FFFF)
        #expect(Handle.currentThread.isNonProcessPseudoHandle)
        #expect(!Handle.currentProcess.isNonProcessPseudoHandle)
        #expect(Handle(rawValue: UInt64(bitPattern: -6)).isNonProcessPseudoHandle)
        #expect(!Handle(rawValue: UInt64(bitPattern: -7)).isNonProcessPseudoHandle)
    }
}

@Suite("Access rights")
struct AccessTests {
    @Test("generic rights map with the process type's mapping; QUERY_INFORMATION implies QUERY_LIMITED")
    func genericMapping() {
        #expect(AccessMask.genericRead.mapped() == AccessMask(rawValue: 0x0002_1410))
        #expect(AccessMask.genericExecute.mapped() == AccessMask(rawValue: 0x0012_1001))
        #expect(AccessMask.genericAll.mapped() == .processAllAccess)
        #expect(AccessMask.queryInformation.mapped() == [.queryInformation, .queryLimitedInformation])
        #expect(AccessMask.setInformation.mapped() == [.setInformation, .setLimitedInformation])
        #expect(AccessMask.processAllAccess.rawValue == 0x1F_FFFF)
    }

    @Test("the owner and root get what they ask for on an ordinary process")
    func ownerGetsAll() {
        #expect(ProcessAccessPolicy.grant(desired: .processAllAccess, caller: .ownerOrRoot, targetIsSecure: false) == .success(.processAllAccess))
        #expect(ProcessAccessPolicy.grant(desired: .queryInformation, caller: .ownerOrRoot, targetIsSecure: false) == .success([.queryInformation, .queryLimitedInformation]))
    }

    @Test("VM read/write/operation, create thread, dup handle and ALL_ACCESS on a secure process are denied, root included",
          arguments: [AccessMask.vmRead, .vmWrite, .vmOperation, .createThread, .dupHandle, .processAllAccess, .genericWrite, .genericAll])
    func secureDenied(desired: AccessMask) {
        #expect(ProcessAccessPolicy.grant(desired: desired, caller: .ownerOrRoot, targetIsSecure: true) == .failure(.accessDenied))
    }

    @Test("querying a secure process is allowed, and MAXIMUM_ALLOWED leaves out the denied rights")
    func secureQuery() throws {
        #expect(ProcessAccessPolicy.grant(desired: .queryLimitedInformation, caller: .other, targetIsSecure: true) == .success(.queryLimitedInformation))
        let max = try ProcessAccessPolicy.grant(desired: .maximumAllowed, caller: .ownerOrRoot, targetIsSecure: true).get()
        #expect(max.isDisjoint(with: ProcessAccessPolicy.deniedOnSecureProcess))
        #expect(max.contains(.queryInformation))
    }

    @Test("a secure process opening itself gets any right")
    func secureSelf() {
        #expect(ProcessAccessPolicy.grant(desired: .processAllAccess, caller: .itself, targetIsSecure: true) == .success(.processAllAccess))
    }

    @Test("other users get QUERY_LIMITED_INFORMATION and SYNCHRONIZE only")
    func others() {
        #expect(ProcessAccessPolicy.grant(desired: .queryInformation, caller: .other, targetIsSecure: false) == .failure(.accessDenied))
        #expect(ProcessAccessPolicy.grant(desired: [.queryLimitedInformation, .synchronize], caller: .other, targetIsSecure: false) == .success([.queryLimitedInformation, .synchronize]))
        #expect(ProcessAccessPolicy.grant(desired: .maximumAllowed, caller: .other, targetIsSecure: false) == .success(ProcessAccessPolicy.everyone))
        #expect(ProcessAccessPolicy.grant(desired: [.maximumAllowed, .vmRead], caller: .other, targetIsSecure: false) == .failure(.accessDenied))
    }

    @Test("opening with no access succeeds with an empty mask")
    func zeroAccess() {
        #expect(ProcessAccessPolicy.grant(desired: [], caller: .other, targetIsSecure: true) == .success([]))
    }
}

@Suite("NTSTATUS")
struct NTStatusTests {
    @Test("values match ntstatus.h")
    func values() {
        #expect(NTStatus.success.rawValue == 0)
        #expect(NTStatus.pending.rawValue == 0x103)
        #expect(NTStatus.datatypeMisalignment.rawValue == 0x8000_0002)
        #expect(NTStatus.invalidInfoClass.rawValue == 0xC000_0003)
        #expect(NTStatus.infoLengthMismatch.rawValue == 0xC000_0004)
        #expect(NTStatus.accessViolation.rawValue == 0xC000_0005)
        #expect(NTStatus.invalidHandle.rawValue == 0xC000_0008)
        #expect(NTStatus.invalidCID.rawValue == 0xC000_000B)
        #expect(NTStatus.accessDenied.rawValue == 0xC000_0022)
        #expect(NTStatus.objectTypeMismatch.rawValue == 0xC000_0024)
        #expect(NTStatus.invalidParameterMix.rawValue == 0xC000_0030)
        #expect(NTStatus.portNotSet.rawValue == 0xC000_0353)
    }

    @Test("NT_SUCCESS is true for success and informational, false for warnings and errors")
    func success() {
        #expect(NTStatus.success.isSuccess && NTStatus.pending.isSuccess)
        #expect(!NTStatus.datatypeMisalignment.isSuccess && !NTStatus.accessDenied.isSuccess)
        #expect(NTStatus.pending.severity == .success)
        #expect(NTStatus.datatypeMisalignment.severity == .warning)
        #expect(NTStatus.accessDenied.severity == .error)
        #expect(NTStatus(rawValue: 0x4000_0000).severity == .informational)
    }

    @Test("a status prints as its name and value")
    func printable() {
        #expect(NTStatus.infoLengthMismatch.description == "STATUS_INFO_LENGTH_MISMATCH (0xC0000004)")
        #expect(NTStatus.pending.description == "STATUS_PENDING (0x00000103)")
        #expect(NTStatus(rawValue: 0xC000_1234).description == "0xC0001234")
        #expect(NTStatus(name: "STATUS_ACCESS_DENIED") == .accessDenied)
    }

    @Test("information classes print and parse by name")
    func classNames() {
        #expect(ProcessInfoClass.basicInformation.description == "ProcessBasicInformation")
        #expect(ProcessInfoClass(name: "Times") == .times)
        #expect(ProcessInfoClass(name: "processimagefilename") == .imageFileName)
        #expect(ProcessInfoClass(name: "61") == .protectionInformation)
        #expect(ProcessInfoClass(name: "Bogus") == nil)
    }
}
