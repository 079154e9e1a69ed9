// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import GRDB
public import IUMProtocol

/// The audit store: every denial the guard reports, and the kernel-side drop counts, in
/// SQLite (WAL) through GRDB. Default path `/var/lib/ium/audit.sqlite`.
public final class AuditStore: Sendable {
    let pool: DatabasePool
    /// Rows older than this many days are deleted by ``applyRetention()``.
    public let retentionDays: Int
    /// At most this many denial rows are kept (the oldest go first).
    public let maximumRows: Int

    /// Opens (creating and migrating) the store.
    /// - Parameters:
    ///   - path: The database file; its directory is created (0700).
    ///   - retentionDays: How long denials are kept.
    ///   - maximumRows: The most denials kept.
    public init(path: String, retentionDays: Int = 90, maximumRows: Int = 1_000_000) throws {
        if let slash = path.lastIndex(of: "/") {
            let dir = String(path[..<slash])
            if !dir.isEmpty { _ = mkdir(dir, 0o700) }
        }
        var config = Configuration()
        config.label = "ium-audit"
        pool = try DatabasePool(path: path, configuration: config) // WAL mode
        self.retentionDays = retentionDays
        self.maximumRows = maximumRows
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: denials and drops") { db in
            try db.execute(sql: """
                CREATE TABLE denials (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,          -- Unix nanoseconds
                    operation TEXT NOT NULL, action TEXT NOT NULL, backend TEXT NOT NULL,
                    caller_pid INTEGER NOT NULL, caller_tid INTEGER NOT NULL, uid INTEGER NOT NULL,
                    comm TEXT NOT NULL, target_pid INTEGER NOT NULL, target_tid INTEGER NOT NULL,
                    mode INTEGER NOT NULL, filename TEXT NOT NULL);
                CREATE INDEX denials_time ON denials(time);
                CREATE TABLE drops (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,
                    dropped_total INTEGER NOT NULL, -- the guard's events-dropped counter
                    repaired INTEGER NOT NULL);     -- table entries a rescan fixed
                """)
        }
        return m
    }

    /// Stores denials (one transaction).
    /// - Parameter records: The denials; their `id` is ignored.
    public func insert(_ records: [AuditRecord]) throws {
        guard !records.isEmpty else { return }
        try pool.write { db in
            for r in records {
                try db.execute(sql: """
                    INSERT INTO denials (time, operation, action, backend, caller_pid, caller_tid, uid, comm,
                                         target_pid, target_tid, mode, filename)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [r.time, r.operation, r.action, r.backend, r.callerPid, r.callerTid, Int64(r.uid),
                                     r.comm, r.targetPid, r.targetTid, Int64(r.mode), r.filename])
            }
        }
    }

    /// Records that the guard dropped events and what the rescan repaired.
    public func recordDrops(total: UInt64, repaired: Int, time: Int64) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO drops (time, dropped_total, repaired) VALUES (?, ?, ?)",
                           arguments: [time, Int64(total), repaired])
        }
    }

    /// Denials with an id above `sinceId` and a time at or after `sinceTime`, oldest first.
    public func denials(sinceId: Int64, sinceTime: Int64 = 0, limit: Int = 1000) throws -> [AuditRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM denials WHERE id > ? AND time >= ? ORDER BY id LIMIT ?
                """, arguments: [sinceId, sinceTime, limit]).map { row in
                AuditRecord(
                    id: row["id"], time: row["time"], operation: row["operation"], action: row["action"],
                    backend: row["backend"], callerPid: row["caller_pid"], callerTid: row["caller_tid"],
                    uid: UInt32(truncatingIfNeeded: row["uid"] as Int64), comm: row["comm"],
                    targetPid: row["target_pid"], targetTid: row["target_tid"],
                    mode: UInt32(truncatingIfNeeded: row["mode"] as Int64), filename: row["filename"])
            }
        }
    }

    /// The number of stored denials.
    public func count() throws -> UInt64 {
        try pool.read { db in UInt64(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM denials") ?? 0) }
    }

    /// Deletes denials older than the retention and beyond the row limit.
    /// - Parameter now: The current Unix time in nanoseconds.
    /// - Returns: The rows deleted.
    @discardableResult
    public func applyRetention(now: Int64) throws -> Int {
        let cutoff = now - Int64(retentionDays) * 86_400 * 1_000_000_000
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM denials WHERE time < ?", arguments: [cutoff])
            var deleted = db.changesCount
            try db.execute(sql: """
                DELETE FROM denials WHERE id <= (SELECT id FROM denials ORDER BY id DESC LIMIT 1 OFFSET ?)
                """, arguments: [maximumRows])
            deleted += db.changesCount
            try db.execute(sql: "DELETE FROM drops WHERE time < ?", arguments: [cutoff])
            return deleted
        }
    }
}
