// SPDX-License-Identifier: Apache-2.0
//
// Each Flags bit is checked on a real process the test puts in that state (Tests/Fixtures/
// testproc.c). Tests that need root (setuid, cgroups, PID namespaces) say so; CI runs as root.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
@testable import ProcessTable
import TestSupport

func flags(of pid: Int32, reader: ProcReader = ProcReader()) throws -> ProcessFlags {
    try ProcessObject.open(pid: pid, reader: reader).snapshot().extendedFlags()
}

func childPid(_ line: String) throws -> Int32 {
    try #require(Int32(line.split(separator: " ").last ?? ""), "fixture said '\(line)'")
}

/// Creates a cgroup v2 directory for a test and removes it afterwards.
struct TestCgroup: ~Copyable {
    let path: String
    init(name: String) throws {
        let root = try #require(ProcReader().cgroup2Root, "no cgroup v2 mount")
        path = root + "/" + name
        _ = mkdir(path, 0o755)
        #expect(access(path + "/cgroup.procs", W_OK) == 0, "cannot create \(path)")
    }
    func write(_ file: String, _ text: String) throws {
        let fd = open(path + "/" + file, O_WRONLY)
        try #require(fd >= 0, "open \(file): errno \(errno)")
        defer { close(fd) }
        let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        try #require(n >= 0, "write \(file): errno \(errno)")
    }
    func read(_ file: String) -> String {
        (try? runCommand(["cat", path + "/" + file]).stdout) ?? ""
    }
    deinit {
        _ = path.withCString { rmdir($0) }
    }
}

@Suite("Flags analogs on real processes", .serialized)
struct FlagAnalogTests {
    @Test("an ordinary 64-bit running process that is not secure has Flags 0")
    func ordinaryProcess() throws {
        let (child, _) = try startFixture(["sleep"])
        #expect(try flags(of: child.pid) == [])
    }

    @Test("IsSecureProcess is 0 without the kernel guard: there is no tag store to read")
    func secureWithoutGuard() throws {
        let (child, _) = try startFixture(["sleep"])
        let facts = try ProcReader().facts(child.pid)
        #expect(!facts.taggedSecure)
        #expect(!(try flags(of: child.pid)).contains(.isSecureProcess))
    }

    @Test("IsSecureProcess comes from the kernel facts provider when one is loaded")
    func secureFromProvider() throws {
        struct Tagged: KernelFactsProvider {
            let pid: Int32
            func isTaggedSecure(pid: Int32) -> Bool { pid == self.pid }
            func isDumpable(pid: Int32) -> Bool? { nil }
        }
        let (child, _) = try startFixture(["sleep"])
        let (other, _) = try startFixture(["sleep"])
        let reader = ProcReader(kernel: Tagged(pid: child.pid))
        #expect(try flags(of: child.pid, reader: reader) == [.isSecureProcess])
        #expect(try flags(of: other.pid, reader: reader) == [])
    }

    @Test("IsProtectedProcess: a non-dumpable process of another user is seen through /proc ownership (root)",
          .enabled(if: runningAsRoot, "setuid needs root"))
    func protectedNonRoot() throws {
        let (nodump, _) = try startFixture(["asuser", "65534", "0"])
        let (dumpable, _) = try startFixture(["asuser", "65534", "1"])
        #expect(try flags(of: nodump.pid) == [.isProtectedProcess])
        #expect(try flags(of: dumpable.pid) == [])
    }

    struct NotDumpable: KernelFactsProvider {
        func isTaggedSecure(pid: Int32) -> Bool { false }
        func isDumpable(pid: Int32) -> Bool? { false }
    }

    @Test("IsProtectedProcess: a non-dumpable process's flag comes from the kernel provider when there is one")
    func protectedFromProvider() throws {
        let (child, _) = try startFixture(["nodump"])
        #expect(try flags(of: child.pid, reader: ProcReader(kernel: NotDumpable())) == [.isProtectedProcess])
    }

    @Test("IsProtectedProcess: for euid 0 /proc cannot tell, so without a provider the bit is 0",
          .enabled(if: runningAsRoot, "the fixture must run as euid 0"))
    func protectedRootWithoutProvider() throws {
        let (child, _) = try startFixture(["nodump"])
        #expect(try flags(of: child.pid) == [], "no provider: unknown, reported 0")
    }

    @Test("IsWow64Process: a 32-bit (i386) ELF on this 64-bit kernel; class 26 is non-zero")
    func wow64() throws {
        let (child, _) = try startFixture(["sleep"], bits: 32)
        #expect(try flags(of: child.pid) == [.isWow64Process])
        let snapshot = try ProcessObject.open(pid: child.pid, reader: ProcReader()).snapshot()
        #expect(snapshot.wow64PebAddress() != 0)
        let (native, _) = try startFixture(["sleep"])
        #expect(try ProcessObject.open(pid: native.pid, reader: ProcReader()).snapshot().wow64PebAddress() == 0)
    }

    @Test("IsProcessDeleting: a process that exited and was not reaped (zombie) keeps its exit code")
    func deletingZombie() throws {
        let (child, _) = try startFixture(["exit", "3"])
        child.waitUntilZombie()
        let snapshot = try ProcessObject.open(pid: child.pid, reader: ProcReader()).snapshot()
        #expect(snapshot.extendedFlags() == [.isProcessDeleting])
        #expect(snapshot.basicInformation().exitStatus.rawValue == 3)
    }

    @Test("IsCrossSessionCreate: a child that called setsid() is in another session than its creator")
    func crossSession() throws {
        let (child, _) = try startFixture(["setsid"])
        let object = try ProcessObject.open(pid: child.pid, reader: ProcReader())
        #expect(object.record.creatorPid == getpid())
        #expect(object.record.creatorSessionId == getsid(0))
        #expect(object.record.sessionId == child.pid)
        #expect(object.snapshot().extendedFlags() == [.isCrossSessionCreate])
    }

    @Test("IsFrozen: a stopped process (SIGSTOP), cleared by SIGCONT")
    func frozenStopped() throws {
        let (child, _) = try startFixture(["sleep"])
        child.signal(SIGSTOP)
        try waitFor { (try? ProcReader().stat(child.pid).state) == "T" }
        #expect(try flags(of: child.pid) == [.isFrozen])
        child.signal(SIGCONT)
        try waitFor { (try? ProcReader().stat(child.pid).state) != "T" }
        #expect(try flags(of: child.pid) == [])
    }

    @Test("IsFrozen: a process in a frozen cgroup v2 (cgroup.freeze 1)",
          .enabled(if: runningAsRoot && ProcReader().cgroup2Root != nil, "needs root and a cgroup v2 mount"))
    func frozenCgroup() throws {
        let (child, _) = try startFixture(["sleep"])
        let cgroup = try TestCgroup(name: "ium-test-freeze-\(getpid())")
        try cgroup.write("cgroup.procs", "\(child.pid)")
        try cgroup.write("cgroup.freeze", "1")
        try waitFor { cgroup.read("cgroup.events").contains("frozen 1") }
        #expect(try flags(of: child.pid) == [.isFrozen])
        try cgroup.write("cgroup.freeze", "0")
        try waitFor { cgroup.read("cgroup.events").contains("frozen 0") }
        #expect(try flags(of: child.pid) == [])
        child.signal(SIGKILL)
        child.wait()
    }

    @Test("IsBackground: SCHED_IDLE, SCHED_BATCH, or the idle I/O class", arguments: [["sched", "idle"], ["sched", "batch"], ["ioidle"]])
    func background(mode: [String]) throws {
        let (child, _) = try startFixture(mode)
        #expect(try flags(of: child.pid) == [.isBackground])
    }

    @Test("IsStronglyNamed: a process in a flatpak application cgroup",
          .enabled(if: runningAsRoot && ProcReader().cgroup2Root != nil, "needs root and a cgroup v2 mount"))
    func stronglyNamedFlatpak() throws {
        let (child, _) = try startFixture(["sleep"])
        let cgroup = try TestCgroup(name: "app-flatpak-org.ium.Test-\(getpid()).scope")
        try cgroup.write("cgroup.procs", "\(child.pid)")
        #expect(try flags(of: child.pid) == [.isStronglyNamed])
        child.signal(SIGKILL)
        child.wait()
    }

    @Test("IsStronglyNamed: a confinement label other than unconfined, a flatpak or snap cgroup component (the rules)")
    func stronglyNamedLabels() throws {
        let (child, _) = try startFixture(["sleep"])
        var facts = try ProcReader().facts(child.pid)
        for (label, named) in [("unconfined", false), ("/usr/sbin/cupsd (enforce)", true),
                               ("unconfined_u:unconfined_r:unconfined_t:s0", false),
                               ("system_u:system_r:sshd_t:s0", true)] {
            facts.securityLabel = label
            #expect(LinuxFlagAnalogs.isStronglyNamed(facts) == named, "\(label)")
        }
        facts.securityLabel = nil
        for (path, named) in [("/user.slice/user-1000.slice/app-flatpak-org.gnome.Maps-4242.scope", true),
                              ("/system.slice/snap.lxd.daemon.service", true), ("snap.x", true), ("/a//app-flatpak-", true),
                              ("/", false), ("", false), ("/user.slice/xsnap.y", false), ("/app-flatpak", false)] {
            facts.cgroupPath = path
            #expect(LinuxFlagAnalogs.isStronglyNamed(facts) == named, "\(path)")
        }
    }

    @Test("IsSubsystemProcess: a process in a new PID namespace; class 75 reports WSL (1)",
          .enabled(if: runningAsRoot, "unshare(CLONE_NEWPID) needs root"))
    func subsystem() throws {
        let (parent, line) = try startFixture(["pidns"])
        let pid = try childPid(line)
        let snapshot = try ProcessObject.open(pid: pid, reader: ProcReader()).snapshot()
        #expect(snapshot.extendedFlags() == [.isSubsystemProcess])
        #expect(snapshot.subsystem() == 1)
        #expect(snapshot.breakOnTermination(), "it is init of its namespace")
        kill(pid, SIGKILL)
        parent.wait()
    }
}

/// Polls a condition for up to 5 s (process state changes are asynchronous).
func waitFor(_ condition: () -> Bool) throws {
    for _ in 0..<500 {
        if condition() { return }
        usleep(10_000)
    }
    Issue.record("condition not met within 5 s")
}
