// SPDX-License-Identifier: Apache-2.0
//
// Failures that must not pass silently: a /proc that cannot be read, a tag store that cannot
// be read, a process that cannot be opened. Each is injected for real (a /proc root that
// disappears, a kernel facts provider that fails) against real processes.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import NTSession
@testable import ProcessTable
import TestSupport

@Suite("Failures are errors, never a quieter answer", .serialized)
struct FailureInjectionTests {
    @Test("a tag store that cannot be read fails the facts, never reads as 'not secure'")
    func tagStoreFailure() throws {
        let (child, _) = try startFixture(["sleep"])
        #expect { try ProcReader(kernel: UnreadableTagStore()).facts(child.pid) } throws: { ($0 as? ProcessTableError)?.code == .io }
        #expect { try ProcessObject.open(pid: child.pid, reader: ProcReader(kernel: UnreadableTagStore())) } throws: {
            ($0 as? ProcessTableError)?.code == .io
        }
    }

    @Test("a thread list that cannot be read is an error, not an empty list")
    func threadListFailure() throws {
        let (child, _) = try startFixture(["sleep"])
        var reader = ProcReader()
        #expect(try reader.threads(child.pid) == [child.pid])
        reader.procRoot = "/nonexistent-proc"
        #expect { try reader.threads(child.pid) } throws: { ($0 as? ProcessTableError)?.code == .noSuchProcess }
        #expect { try ProcFS.numericEntries("/proc/self/status") } throws: { ($0 as? ProcessTableError)?.code == .io }
    }

    @Test("a running process that cannot be read now keeps running (last facts), it is not marked exited")
    func unreadableLiveProcess() throws {
        let proc = try VanishingProc()
        let (child, _) = try startFixture(["sleep"])
        let object = try ProcessObject.open(pid: child.pid, reader: proc.reader)
        proc.vanish()
        let snapshot = object.snapshot()
        #expect(snapshot.exit == nil)
        #expect(object.isRunning)
        #expect(snapshot.facts.stat.pid == child.pid)
        child.signal(SIGKILL)
        child.waitUntilZombie()
        #expect(object.snapshot().exit != nil, "the pidfd's word still ends it")
    }

    @Test("NtOpenProcess of a process iumd cannot read: STATUS_INSUFFICIENT_RESOURCES (EMFILE) or STATUS_UNSUCCESSFUL, never INVALID_CID")
    func openFailure() throws {
        let (child, _) = try startFixture(["sleep"])
        let id = ClientID(process: UInt64(child.pid), thread: 0)
        let outOfFiles = NTProcessSession(objects: { pid throws(ProcessTableError) in
            throw ProcessTableError(.io, path: "/proc/\(pid)/stat", errno: EMFILE)
        })
        #expect(outOfFiles.openProcess(clientId: id, hasObjectName: false, desiredAccess: .queryInformation) == .failure(.insufficientResources))
        let ioError = NTProcessSession(objects: { pid throws(ProcessTableError) in
            throw ProcessTableError(.io, path: "/proc/\(pid)/stat", errno: EIO)
        })
        #expect(ioError.openProcess(clientId: id, hasObjectName: false, desiredAccess: .queryInformation) == .failure(.unsuccessful))
        let gone = NTProcessSession(objects: { pid throws(ProcessTableError) in
            throw ProcessTableError(.noSuchProcess, path: "/proc/\(pid)/stat", errno: ESRCH)
        })
        #expect(gone.openProcess(clientId: id, hasObjectName: false, desiredAccess: .queryInformation) == .failure(.invalidCID))
    }
}
