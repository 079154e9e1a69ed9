// SPDX-License-Identifier: Apache-2.0
//
// iumd's process table and its failure paths, against real processes: a rescan repairs what
// lost events left behind, and a /proc that cannot be listed, a tag store that cannot be read
// or an audit store that cannot be read are errors that reach the operator, never a quieter
// answer (an emptied table, "not secure", "no events").

#if canImport(Glibc)
import Glibc
#endif
import Testing
import LinuxEdge
import GRDB
import NTModel
import IUMProtocol
import IUMClient
import ProcessTable
@testable import IUMDaemon
@testable import KernelGuard
import GuardABI
import TestSupport

@Suite("iumd's process table", .serialized)
struct ProcessDirectoryTests {
    @Test("a rescan adds a process the events missed and removes one that exited, marking its object exited")
    func rescanRepairs() throws {
        let directory = ProcessDirectory(reader: ProcReader())
        let (early, _) = try startFixture(["sleep"])
        try directory.scan()
        let object = try directory.object(pid: early.pid)
        let (late, _) = try startFixture(["sleep"])
        early.signal(SIGKILL)
        early.wait()
        let fixed = try directory.rescan()
        #expect(fixed >= 2, "the new process and the exited one")
        #expect(!object.isRunning)
        #expect(try directory.listing(secureOnly: false).contains { $0.pid == late.pid })
        #expect(try !directory.listing(secureOnly: false).contains { $0.pid == early.pid })
        #expect(directory.repairCounts.rescans == 1)
    }

    @Test("a zombie is never an entry: not from the seed scan, a rescan or an open (no event would remove it once reaped)")
    func zombiesAreNotEntries() throws {
        let directory = ProcessDirectory(reader: ProcReader())
        let (zombie, _) = try startFixture(["sleep"])
        zombie.signal(SIGKILL)
        zombie.waitUntilZombie()
        let (live, _) = try startFixture(["sleep"])
        defer { live.signal(SIGKILL); live.wait() }
        try directory.scan()
        #expect(directory.state.withLock { $0.entries[zombie.pid] } == nil)
        #expect(directory.state.withLock { $0.entries[live.pid] } != nil)
        let object = try directory.object(pid: zombie.pid)
        #expect(!object.isRunning, "a zombie still opens, as on NT, exited")
        #expect(directory.state.withLock { $0.entries[zombie.pid] } == nil)
        directory.state.withLock { $0.entries[zombie.pid] = .init(startTicks: object.identity.startTime, creatorPid: 1, comm: "") }
        try directory.rescan()
        #expect(directory.state.withLock { $0.entries[zombie.pid] } == nil, "a rescan removes an entry whose process is a zombie")
        zombie.wait()
    }

    /// A lifecycle record as the guard writes it to its lifecycle ring, decoded as iumd reads it.
    func lifecycle(_ type: ium_record_type, pid: Int32, code: Int32 = 0, startTicks: UInt64, comm: String = "") throws -> GuardEvent {
        var record = ium_lifecycle()
        record.header.type = type.rawValue
        record.header.pid = UInt32(pid)
        record.header.time_ns = 1_000_000
        record.tid = UInt32(pid)
        record.code = code
        record.start_ns = startTicks * ProcFS.nanosecondsPerTick
        withUnsafeMutableBytes(of: &record.comm) { raw in
            for (i, byte) in comm.utf8.prefix(15).enumerated() { raw[i] = byte }
        }
        return try #require(withUnsafeBytes(of: &record) { GuardEvent($0) })
    }

    @Test("fork, exec and exit events: the creator the fork named, the exec's program, the exit's wait status on the object")
    func applyEvents() throws {
        let directory = ProcessDirectory(reader: ProcReader())
        let (child, _) = try startFixture(["sleep"])
        let ticks = try ProcReader().stat(child.pid).startTime
        directory.apply([try lifecycle(IUM_RECORD_FORK, pid: child.pid, code: 4242, startTicks: ticks, comm: "testproc")])
        #expect(directory.count == 1)
        let object = try directory.object(pid: child.pid)
        #expect(object.record.creatorPid == 4242, "the fork event's creator, not /proc's parent")
        directory.apply([try lifecycle(IUM_RECORD_EXEC, pid: child.pid, code: 5, startTicks: ticks, comm: "newprogram")])
        #expect(directory.isAtOrAfterLastExec(5, pid: child.pid, startTicks: ticks))
        #expect(directory.isAtOrAfterLastExec(6, pid: child.pid, startTicks: ticks))
        #expect(!directory.isAtOrAfterLastExec(4, pid: child.pid, startTicks: ticks), "a probe from before the exec")
        #expect(directory.isAtOrAfterLastExec(4, pid: child.pid, startTicks: ticks + 1), "a recycled pid's exec is not this one's")
        #expect(directory.state.withLock { $0.entries[child.pid]?.comm } == "newprogram")
        child.signal(SIGKILL)
        child.waitUntilZombie()
        directory.apply([try lifecycle(IUM_RECORD_EXIT, pid: child.pid, code: 9, startTicks: ticks)])
        #expect(directory.count == 0)
        #expect(!object.isRunning)
        #expect(object.snapshot().exit?.waitStatus == 9)
    }

    @Test("records a round late (the guard's rings are per CPU): a fork or exec after its exit, an exec before its fork, an old exit after the pid's next fork")
    func recordsOutOfOrder() throws {
        let directory = ProcessDirectory(reader: ProcReader())
        func entry(_ pid: Int32) -> ProcessDirectory.Entry? { directory.state.withLock { $0.entries[pid] } }
        // Exit read one round before its fork and exec: the process never appears.
        directory.apply([try lifecycle(IUM_RECORD_EXIT, pid: 900_001, startTicks: 10)])
        directory.apply([try lifecycle(IUM_RECORD_EXEC, pid: 900_001, code: 1, startTicks: 10, comm: "late"),
                         try lifecycle(IUM_RECORD_FORK, pid: 900_001, code: 1, startTicks: 10, comm: "late")])
        #expect(entry(900_001) == nil)
        // Exec before its fork: the fork brings the creator, the exec the program.
        directory.apply([try lifecycle(IUM_RECORD_EXEC, pid: 900_002, code: 7, startTicks: 20, comm: "program")])
        #expect(entry(900_002) == nil, "no entry without its creator")
        directory.apply([try lifecycle(IUM_RECORD_FORK, pid: 900_002, code: 4242, startTicks: 20, comm: "shell")])
        #expect(entry(900_002)?.comm == "program")
        #expect(entry(900_002)?.creatorPid == 4242)
        #expect(!directory.isAtOrAfterLastExec(6, pid: 900_002, startTicks: 20))
        // Two execs in either order: the later exec id wins.
        directory.apply([try lifecycle(IUM_RECORD_EXEC, pid: 900_002, code: 9, startTicks: 20, comm: "third"),
                         try lifecycle(IUM_RECORD_EXEC, pid: 900_002, code: 8, startTicks: 20, comm: "second")])
        #expect(entry(900_002)?.comm == "third")
        // The pid's next process forks before the old one's exit is read: the new one stays.
        directory.apply([try lifecycle(IUM_RECORD_FORK, pid: 900_002, code: 1, startTicks: 30, comm: "next")])
        directory.apply([try lifecycle(IUM_RECORD_EXIT, pid: 900_002, startTicks: 20)])
        #expect(entry(900_002)?.startTicks == 30)
        #expect(entry(900_002)?.comm == "next")
        // A tombstone lasts two rounds, then a pid's record is the process's again.
        directory.apply([])
        directory.apply([])
        directory.apply([try lifecycle(IUM_RECORD_FORK, pid: 900_001, code: 1, startTicks: 10, comm: "again")])
        #expect(entry(900_001)?.comm == "again")
    }

    @Test("a /proc that cannot be listed: scan and rescan throw, the table and live objects stay as they were")
    func unlistableProc() throws {
        let proc = try VanishingProc()
        let directory = ProcessDirectory(reader: proc.reader)
        let (child, _) = try startFixture(["sleep"])
        let seeded = try directory.scan()
        #expect(seeded > 1)
        let object = try directory.object(pid: child.pid)
        proc.vanish()
        #expect { try directory.rescan() } throws: { ($0 as? ProcessTableError)?.code == .io }
        #expect { try directory.scan() } throws: { ($0 as? ProcessTableError)?.code == .io }
        #expect(directory.count >= seeded, "no entry dropped")
        #expect(object.isRunning, "no live object marked exited")
        #expect(directory.repairCounts.repairs == 0)
    }

    @Test("a tag store that cannot be read fails 'ium ps --secure' instead of leaving processes out")
    func unreadableTagStore() throws {
        let directory = ProcessDirectory(reader: ProcReader(kernel: UnreadableTagStore()))
        _ = try startFixture(["sleep"])
        try directory.scan()
        #expect { try directory.listing(secureOnly: true) } throws: { ($0 as? ProcessTableError)?.code == .io }
    }

    @Test("the seal's check for other holders of the guard fails when /proc cannot be listed, never finds 'nobody'")
    func sealHolderCheckFailsClosed() throws {
        #expect { try Sealing.foreignHolders(maps: [1], programs: [1], procRoot: "/nonexistent-proc") } throws: {
            ($0 as? ProcessTableError)?.code == .io
        }
        // A /proc of one process holding map 7 through fd 3, and a link fd to program 9 (links
        // cannot be detached: they do not count).
        let root = temporaryPath("proc")
        for dir in [root, root + "/4242", root + "/4242/fdinfo"] { try #require(mkdir(dir, 0o755) == 0) }
        func write(_ path: String, _ text: String) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            try #require(fd >= 0)
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        }
        try write(root + "/4242/comm", "holder\n")
        try write(root + "/4242/fdinfo/3", "pos:\t0\nflags:\t02000002\nmap_type:\t2\nmap_id:\t7\n")
        try write(root + "/4242/fdinfo/4", "link_type:\ttracing\nlink_id:\t5\nprog_id:\t9\n")
        let holders = try Sealing.foreignHolders(maps: [7], programs: [9], procRoot: root)
        #expect(holders.map(\.pid) == [4242] && holders.first?.comm == "holder" && holders.first?.what == "map 7")
        #expect(try Sealing.foreignHolders(maps: [8], programs: [9], procRoot: root).isEmpty)
    }

    @Test("hidepid: mountinfo that cannot be read hides other users' processes (hidepid=4), never shows all")
    func hidepidFailsClosed() {
        let visibility = ProcVisibility(mountinfo: "/nonexistent/mountinfo")
        #expect(!visibility.visible(mayRead: false, callerGroups: []))
        #expect(visibility.visible(mayRead: true, callerGroups: []))
    }
}

@Suite("iumd reports what it cannot do", .serialized, .enabled(if: TestDaemon.canRun, "needs root, BPF and a built iumd (make build)"))
struct DaemonFailureTests {
    @Test("an audit store that cannot be read: 'ium events' gets STATUS_UNSUCCESSFUL with the reason, not an empty list")
    func unreadableAuditStore() throws {
        let d = try TestDaemon()
        let client = try IUMClient(socketPath: d.socket)
        var rows = 0
        try client.events(EventsRequest()) { rows += $0.count; return true }
        #expect(rows == 0)
        // Break the store under the running daemon.
        let queue = try DatabaseQueue(path: d.database)
        try queue.write { try $0.execute(sql: "DROP TABLE denials") }
        #expect { try client.events(EventsRequest()) { _ in true } } throws: { error in
            let e = error as? ClientError
            return e?.status == .unsuccessful && e?.message.contains("cannot read the audit store") == true && e?.unreachable == false
        }
        // The connection and the daemon live on.
        #expect(throws: Never.self) { _ = try client.status() }
    }
}
