// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import Testing
import IUMProtocol
import GRDB
@testable import IUMDaemon
import TestSupport

func denial(_ n: Int, time: Int64) -> AuditRecord {
    AuditRecord(id: 0, time: time, operation: "vm-write", action: "denied", backend: "lsm", callerPid: Int32(100 + n),
                callerTid: Int32(100 + n), uid: 0, comm: "attack", targetPid: 42, targetTid: 42, mode: 0, filename: "")
}

@Suite("Audit store (SQLite through GRDB)")
struct AuditStoreTests {
    @Test("denials are stored in WAL mode and read back in order after an id and a time")
    func insertAndQuery() throws {
        let path = temporaryPath("audit.sqlite")
        let store = try AuditStore(path: path)
        try store.insert((0..<5).map { denial($0, time: Int64($0) * 1000) })
        let all = try store.denials(sinceId: 0)
        #expect(all.map(\.callerPid) == [100, 101, 102, 103, 104])
        #expect(try store.denials(sinceId: all[2].id).map(\.callerPid) == [103, 104])
        #expect(try store.denials(sinceId: 0, sinceTime: 3000).count == 2)
        #expect(try store.count() == 5)
        #expect(access(path + "-wal", F_OK) == 0, "WAL journal")
    }

    @Test("reopening keeps the rows and the migrations run once")
    func reopen() throws {
        let path = temporaryPath("audit.sqlite")
        try AuditStore(path: path).insert([denial(1, time: 1)])
        let again = try AuditStore(path: path)
        #expect(try again.count() == 1)
    }

    @Test("retention deletes rows older than the limit and beyond the row cap")
    func retention() throws {
        let store = try AuditStore(path: temporaryPath("audit.sqlite"), retentionDays: 1, maximumRows: 3)
        let day: Int64 = 86_400 * 1_000_000_000
        let now: Int64 = 10 * day
        try store.insert([denial(0, time: now - 2 * day)] + (1...5).map { denial($0, time: now - Int64($0)) })
        #expect(try store.applyRetention(now: now) == 3)
        #expect(try store.denials(sinceId: 0).map(\.callerPid) == [103, 104, 105])
    }

    @Test("drop counts are recorded")
    func drops() throws {
        let store = try AuditStore(path: temporaryPath("audit.sqlite"))
        try store.recordDrops(total: 12, repaired: 3, time: 1)
        let rows = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT repaired FROM drops") }
        #expect(rows == 3)
    }
}

@Suite("hidepid from mountinfo")
struct ProcVisibilityTests {
    @Test("the options of the top /proc mount are read: hidepid names and numbers, gid")
    func parse() {
        let stacked = """
            22 1 0:21 / / rw - ext4 /dev/vda rw
            48 46 0:21 / /proc rw,relatime - proc proc rw
            69 48 0:40 / /proc rw,relatime - proc proc rw,hidepid=invisible,gid=27
            70 48 0:41 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
            """
        #expect(ProcVisibility.parse(stacked) == .init(hidepid: 2, gid: 27))
        #expect(ProcVisibility.parse("48 46 0:21 / /proc rw - proc proc rw,hidepid=1").hidepid == 1)
        #expect(ProcVisibility.parse("48 46 0:21 / /proc rw - proc proc rw,hidepid=ptraceable").hidepid == 4)
        #expect(ProcVisibility.parse("48 46 0:21 / /proc rw - proc proc rw") == .init())
        #expect(ProcVisibility.parse("") == .init())
    }

    @Test("visibility follows the kernel's has_pid_permissions")
    func rules() throws {
        let path = temporaryPath("mountinfo")
        func visible(_ options: String, mayRead: Bool, groups: Set<UInt32> = []) throws -> Bool {
            let line = "48 46 0:21 / /proc rw - proc proc rw\(options)\n"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
            return ProcVisibility(mountinfo: path).visible(mayRead: mayRead, callerGroups: groups)
        }
        #expect(try visible("", mayRead: false))
        #expect(try !visible(",hidepid=invisible", mayRead: false))
        #expect(try visible(",hidepid=invisible", mayRead: true))
        #expect(try visible(",hidepid=invisible,gid=27", mayRead: false, groups: [27]))
        #expect(try !visible(",hidepid=noaccess,gid=27", mayRead: false, groups: [5]))
        #expect(try !visible(",hidepid=ptraceable,gid=27", mayRead: false, groups: [27]))
    }
}
