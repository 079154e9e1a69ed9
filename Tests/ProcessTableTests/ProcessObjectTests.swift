// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import NTSession
@testable import ProcessTable
import TestSupport

@Suite("Process objects and NT handles over real processes", .serialized)
struct ProcessObjectTests {
    func pebi(_ session: NTProcessSession, _ handle: Handle) throws -> ProcessExtendedBasicInformation {
        let r = session.queryInformationProcess(
            handle: handle, infoClass: 0, length: 64, buffer: .writable(address: 0x1000), returnLength: .absent)
        try #require(r.status == .success, "\(r)")
        return try ProcessExtendedBasicInformation(decoding: r.output)
    }

    @Test("a running process reports STATUS_PENDING, its pid, its creator and the real affinity")
    func runningProcess() throws {
        let (child, _) = try startFixture(["sleep"])
        let session = NTProcessSession()
        let h = try session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false,
                                        desiredAccess: .queryLimitedInformation).get()
        let info = try pebi(session, h)
        #expect(info.basicInfo.exitStatus == .pending)
        #expect(info.basicInfo.uniqueProcessId == UInt64(child.pid))
        #expect(info.basicInfo.inheritedFromUniqueProcessId == UInt64(getpid()))
        #expect(info.basicInfo.basePriority == 8)
        // taskset prints "pid N's current affinity mask: 3".
        let taskset = try runCommand(["taskset", "-p", String(child.pid)]).stdout
        let mask = try #require(UInt64(String(taskset.split(whereSeparator: { $0 == " " || $0 == "\n" }).last ?? ""), radix: 16))
        #expect(info.basicInfo.affinityMask == mask)
    }

    @Test("a handle keeps answering after the process exits and is reaped: exit code and IsProcessDeleting")
    func exitedProcessStillAnswers() throws {
        let (child, _) = try startFixture(["sleep"])
        let session = NTProcessSession()
        let h = try session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false,
                                        desiredAccess: .queryInformation).get()
        #expect(try pebi(session, h).basicInfo.exitStatus == .pending)
        child.signal(SIGTERM)
        child.wait()
        let info = try pebi(session, h)
        #expect(info.basicInfo.uniqueProcessId == UInt64(child.pid))
        #expect(info.flags.contains(.isProcessDeleting))
        // Linux 6.15+ keeps the exit status for pidfds (PIDFD_INFO_EXIT); older kernels do not,
        // and a process reaped before ium saw its zombie then reports 0.
        let expected: UInt32 = kernelAtLeast(6, 15) ? 128 + UInt32(SIGTERM) : 0
        #expect(info.basicInfo.exitStatus.rawValue == expected)
        // NT keeps the exited process in the CID table while a handle references it.
        #expect(session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false,
                                    desiredAccess: .queryLimitedInformation).map { _ in true } == .success(true))
        #expect(session.close(h) == .success)
    }

    @Test("a zombie's exit code is captured when the handle sees it before the reap")
    func exitCodeFromZombie() throws {
        let (child, _) = try startFixture(["exit", "7"])
        let session = NTProcessSession()
        let h = try session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false,
                                        desiredAccess: .queryLimitedInformation).get()
        child.waitUntilZombie()
        #expect(try pebi(session, h).basicInfo.exitStatus.rawValue == 7)
        child.wait()
        #expect(try pebi(session, h).basicInfo.exitStatus.rawValue == 7, "still 7 after the reap")
    }

    @Test("a recycled pid never makes an old handle answer for the new process (clone3 set_tid)",
          .enabled(if: runningAsRoot, "clone3 with set_tid needs CAP_SYS_ADMIN"))
    func pidReuse() throws {
        let (first, _) = try startFixture(["exit", "5"])
        let pid = first.pid
        let session = NTProcessSession()
        let old = try session.openProcess(clientId: ClientID(process: UInt64(pid)), hasObjectName: false,
                                          desiredAccess: .queryLimitedInformation).get()
        first.waitUntilZombie()
        _ = try pebi(session, old)
        first.wait()
        let (creator, line) = try startFixture(["settid", String(pid)])
        #expect(try childPid(line) == pid, "the new process got the same pid")
        let oldInfo = try pebi(session, old)
        #expect(oldInfo.basicInfo.exitStatus.rawValue == 5)
        #expect(oldInfo.flags.contains(.isProcessDeleting))
        let fresh = try session.openProcess(clientId: ClientID(process: UInt64(pid)), hasObjectName: false,
                                            desiredAccess: .queryLimitedInformation).get()
        #expect(fresh != old)
        let newInfo = try pebi(session, fresh)
        #expect(newInfo.basicInfo.exitStatus == .pending)
        #expect(newInfo.basicInfo.inheritedFromUniqueProcessId == UInt64(creator.pid))
        kill(pid, SIGKILL)
        creator.wait()
    }

    @Test("the creator pid is captured at creation and not updated when the process is reparented")
    func creatorNotReparented() throws {
        let (parent, line) = try startFixture(["orphan"])
        let pid = try childPid(line)
        let object = try ProcessObject.open(pid: pid, reader: ProcReader())
        parent.signal(SIGTERM)
        parent.wait()
        try waitFor { (try? ProcReader().stat(pid).ppid) != parent.pid }
        #expect(object.snapshot().basicInformation().inheritedFromUniqueProcessId == UInt64(parent.pid))
        kill(pid, SIGKILL)
    }

    @Test("NtOpenProcess: pid 0 and unknown pids give INVALID_CID")
    func invalidCID() {
        let session = NTProcessSession()
        for pid in [0, 0x7FFF_FFF8, 0xFFFF_FFF0] as [UInt64] {
            #expect(session.openProcess(clientId: ClientID(process: pid), hasObjectName: false, desiredAccess: .queryLimitedInformation) == .failure(.invalidCID))
        }
    }

    @Test("NtOpenProcess: both a client id and an object name, or neither, give INVALID_PARAMETER_MIX")
    func parameterMix() {
        let session = NTProcessSession()
        #expect(session.openProcess(clientId: ClientID(process: UInt64(getpid())), hasObjectName: true, desiredAccess: .queryLimitedInformation) == .failure(.invalidParameterMix))
        #expect(session.openProcess(clientId: nil, hasObjectName: false, desiredAccess: .queryLimitedInformation) == .failure(.invalidParameterMix))
    }

    @Test("NtOpenProcess: a thread id must name a thread of the process")
    func threadId() throws {
        let (child, line) = try startFixture(["thread"])
        let tid = UInt64(try childPid(line))
        let session = NTProcessSession()
        #expect(throws: Never.self) {
            try session.openProcess(clientId: ClientID(process: UInt64(child.pid), thread: tid), hasObjectName: false, desiredAccess: .queryLimitedInformation).get()
        }
        #expect(session.openProcess(clientId: ClientID(process: UInt64(getpid()), thread: tid), hasObjectName: false, desiredAccess: .queryLimitedInformation) == .failure(.invalidCID))
        #expect(session.openProcess(clientId: ClientID(process: UInt64(child.pid), thread: 0x7FFF_FFF0), hasObjectName: false, desiredAccess: .queryLimitedInformation) == .failure(.invalidCID))
    }

    @Test("NtOpenProcess by a thread id as if it were a process id gives INVALID_CID")
    func threadIsNotAProcess() throws {
        let (_, line) = try startFixture(["thread"])
        let session = NTProcessSession()
        #expect(session.openProcess(clientId: ClientID(process: UInt64(try childPid(line))), hasObjectName: false, desiredAccess: .queryLimitedInformation) == .failure(.invalidCID))
    }

    @Test("another user gets QUERY_LIMITED_INFORMATION only; class 7 then gives ACCESS_DENIED")
    func otherUserAccess() throws {
        let (child, _) = try startFixture(["sleep"])
        let session = NTProcessSession(caller: CallerCredentials(pid: getpid(), uid: 4242))
        #expect(session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false, desiredAccess: .queryInformation) == .failure(.accessDenied))
        let h = try session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false, desiredAccess: .maximumAllowed).get()
        #expect(try pebi(session, h).basicInfo.uniqueProcessId == UInt64(child.pid))
        let debugPort = session.queryInformationProcess(handle: h, infoClass: 7, length: 8, buffer: .writable(address: 0x1000), returnLength: .absent)
        #expect(debugPort.status == .accessDenied)
    }

    @Test("NtCurrentProcess() is the caller itself with every right; NtCurrentThread() is another object type")
    func pseudoHandles() throws {
        let session = NTProcessSession()
        #expect(try pebi(session, .currentProcess).basicInfo.uniqueProcessId == UInt64(getpid()))
        #expect(session.close(.currentProcess) == .success)
        #expect(try pebi(session, .currentProcess).basicInfo.uniqueProcessId == UInt64(getpid()))
        let r = session.queryInformationProcess(handle: .currentThread, infoClass: 0, length: 48, buffer: .writable(address: 0x1000), returnLength: .writable(address: 0x2000))
        #expect(r == QueryOutcome(status: .objectTypeMismatch, returnLength: 48))
    }

    @Test("a traced process: DebugPort -1, DebugFlags 0, and class 30 opens a debug object handle")
    func tracedProcess() throws {
        let (child, _) = try startFixture(["sleep"])
        let strace = try spawnChild(["strace", "-qq", "-o", "/dev/null", "-p", String(child.pid)])
        try waitFor { (try? ProcReader().status(child.pid).tracerPid) == strace.pid }
        let session = NTProcessSession()
        let h = try session.openProcess(clientId: ClientID(process: UInt64(child.pid)), hasObjectName: false, desiredAccess: .queryInformation).get()
        let port = session.queryInformationProcess(handle: h, infoClass: 7, length: 8, buffer: .writable(address: 0x1000), returnLength: .absent)
        #expect(port.output == [UInt8](repeating: 0xFF, count: 8))
        let flagsOut = session.queryInformationProcess(handle: h, infoClass: 31, length: 4, buffer: .writable(address: 0x1000), returnLength: .absent)
        #expect(flagsOut.output == [0, 0, 0, 0])
        let object = session.queryInformationProcess(handle: h, infoClass: 30, length: 8, buffer: .writable(address: 0x1000), returnLength: .absent)
        #expect(object.status == .success)
        let debugHandle = Handle(rawValue: object.output.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let onDebugObject = session.queryInformationProcess(handle: debugHandle, infoClass: 0, length: 48, buffer: .writable(address: 0x1000), returnLength: .absent)
        #expect(onDebugObject.status == .objectTypeMismatch)
        #expect(session.close(debugHandle) == .success)
        strace.signal(SIGINT)
        strace.wait()
    }

    @Test("image name, command line and session classes describe the real process")
    func stringClasses() throws {
        let (child, _) = try startFixture(["sleep"])
        let snapshot = try ProcessObject.open(pid: child.pid, reader: ProcReader()).snapshot()
        #expect(snapshot.imageFileName() == (try fixtureProgram()))
        #expect(snapshot.commandLine() == (try fixtureProgram()) + " sleep")
        #expect(snapshot.sessionId() == UInt32(getsid(0)))
        let times = snapshot.times()
        #expect(times.exitTime == 0)
        #expect(times.createTime > KernelUserTimes.unixEpochAsFileTime)
    }
}

/// Whether the running kernel is at least major.minor.
func kernelAtLeast(_ major: Int, _ minor: Int) -> Bool {
    var u = utsname()
    uname(&u)
    let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    guard parts.count == 2 else { return false }
    return (parts[0], parts[1]) >= (major, minor)
}
