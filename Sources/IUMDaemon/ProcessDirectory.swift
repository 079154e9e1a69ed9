// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import IUMProtocol
public import KernelGuard
import NTModel
public import ProcessTable
import LinuxEdge

/// The daemon's process table: every process, seeded by a `/proc` scan and then kept current
/// by the guard's fork/exec/exit events (no polling). It remembers each process's creator as
/// the fork event named it, hands out one shared process object per running process, and
/// tells those objects when their process exits (with its wait status).
///
/// Lost events (a full ring buffer, or lifecycle records the guard overwrote before iumd read
/// them) are repaired by ``rescan()``: processes missing
/// from the table are added, processes gone from `/proc` are removed.
public final class ProcessDirectory: Sendable {
    struct Entry {
        var startTicks: UInt64
        var creatorPid: Int32
        var comm: String
        /// The low 32 bits of the exec id of the last exec iumd saw (nil: none since iumd knew
        /// the process).
        var lastExecId: UInt32?
    }

    final class WeakObject: @unchecked Sendable {
        // @unchecked: `object` is only read and written under the directory's lock.
        weak var object: ProcessObject?
        init(_ object: ProcessObject) { self.object = object }
    }

    struct State {
        var entries: [Int32: Entry] = [:]
        var objects: [Int32: WeakObject] = [:]
        /// The objects opened last, kept alive after their handles close: a process opened
        /// again soon (a driver polling one process) is then answered from the kernel's task
        /// view instead of a full `/proc` read.
        var recent: [ProcessObject] = []
        var rescans: UInt64 = 0
        var repairs: UInt64 = 0
        /// Exits (pid to start ticks) of this round and the one before, and execs whose fork
        /// record has not come yet: the guard's lifecycle ring is per CPU, so a record written
        /// on one CPU just before a record read from another can arrive one round later
        /// (``GuardEventReader``). Two rounds are enough: every record written before a round
        /// read its last CPU's head is read by the next round.
        var exited: [Int32: UInt64] = [:], exitedBefore: [Int32: UInt64] = [:]
        var pendingExecs: [Int32: Entry] = [:], pendingExecsBefore: [Int32: Entry] = [:]
    }

    let reader: ProcReader
    let state = Locked(State())

    /// Creates an empty directory.
    /// - Parameter reader: The `/proc` reader (with the guard's facts).
    public init(reader: ProcReader) { self.reader = reader }

    /// The number of processes in the table.
    public var count: Int { state.withLock { $0.entries.count } }
    /// Rescans made and entries they repaired.
    public var repairCounts: (rescans: UInt64, repairs: UInt64) { state.withLock { ($0.rescans, $0.repairs) } }

    /// Seeds the table from `/proc`. Returns the number of processes. A `/proc` that cannot be
    /// listed is an error (the table is left as it was).
    @discardableResult
    public func scan() throws(ProcessTableError) -> Int {
        let (found, _) = try listProc()
        state.withLock { s in
            for (pid, stat) in found where s.entries[pid] == nil {
                s.entries[pid] = Entry(startTicks: stat.startTime, creatorPid: stat.ppid, comm: stat.comm)
            }
        }
        return found.count
    }

    /// Repairs the table after lost events. Returns the entries fixed. When `/proc` cannot be
    /// listed (out of file descriptors, say) it throws and changes nothing: a failed listing
    /// never reads as "every process exited". A process whose `stat` could not be read for
    /// another reason than its exit keeps its entry.
    @discardableResult
    public func rescan() throws(ProcessTableError) -> Int {
        let (found, unreadable) = try listProc()
        return state.withLock { s in
            var fixed = 0
            for (pid, stat) in found where s.entries[pid]?.startTicks != stat.startTime {
                s.entries[pid] = Entry(startTicks: stat.startTime, creatorPid: stat.ppid, comm: stat.comm)
                fixed += 1
            }
            for pid in s.entries.keys where found[pid] == nil && !unreadable.contains(pid) {
                s.entries[pid] = nil
                s.objects[pid]?.object?.markExitedWithoutStatus()
                s.objects[pid] = nil
                fixed += 1
            }
            s.rescans += 1
            s.repairs += UInt64(fixed)
            return fixed
        }
    }

    /// Applies one round of the guard's lifecycle records (denials are ignored here): what
    /// ``GuardEventReader/poll(timeoutMilliseconds:)`` returned, in no order across CPUs. A
    /// record may come a round late (another CPU's ring): a process's fork after its exec or
    /// its exit, an old process's exit after its pid's next fork. Records name the process by pid and start
    /// time, so each applies to its own process: a fork or exec of a process that already
    /// exited changes nothing, an exec before its fork waits for it, an exit never removes a
    /// newer process.
    /// - Parameter events: One round's records.
    public func apply(_ events: [GuardEvent]) {
        var exits: [(ProcessObject, Int32)] = []
        state.withLock { s in
            for event in events {
                if let exit = s.apply(event) { exits.append(exit) }
            }
            (s.exitedBefore, s.exited) = (s.exited, [:])
            (s.pendingExecsBefore, s.pendingExecs) = (s.pendingExecs, [:])
        }
        for (object, status) in exits { object.markExited(waitStatus: status) }
    }

    /// Whether `execId` (a process's `self_exec_id`, as a read probe recorded it) is that of the
    /// last exec of the process iumd saw, or later; true when iumd saw none.
    /// - Parameters:
    ///   - execId: The exec id.
    ///   - pid: The process id.
    ///   - startTicks: Its start time (so a recycled pid's exec is not taken for it).
    public func isAtOrAfterLastExec(_ execId: UInt64, pid: Int32, startTicks: UInt64) -> Bool {
        state.withLock { s in
            guard let entry = s.entries[pid], entry.startTicks == startTicks, let last = entry.lastExecId else { return true }
            return Self.isAtOrAfter(UInt32(truncatingIfNeeded: execId), last)
        }
    }

    /// Serial-number order of 32-bit exec ids (they wrap only after 2^32 execs).
    static func isAtOrAfter(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) >= 0 }

    /// The shared object of a running process (created on first use with the creator the
    /// fork event recorded); ``ProcessTableError/Code/noSuchProcess`` when there is no such
    /// process, another error when it could not be read.
    /// - Parameter pid: The process id.
    public func object(pid: Int32) throws(ProcessTableError) -> ProcessObject {
        if let existing = state.withLock({ $0.objects[pid]?.object }), existing.isRunningNow {
            return existing
        }
        let creator = state.withLock { $0.entries[pid]?.creatorPid }
        let opened = try ProcessObject.open(pid: pid, reader: reader, creatorPid: creator)
        return state.withLock { s in
            // Two requests may open the same process at once: one object per process, so that
            // every handle sees the same exit and the same facts.
            if let other = s.objects[pid]?.object, other.identity == opened.identity, other.isRunning { return other }
            // A zombie gets no entry: no event will say when it is reaped.
            if opened.isRunning, s.entries[pid] == nil || s.entries[pid]?.startTicks != opened.identity.startTime {
                s.entries[pid] = Entry(startTicks: opened.identity.startTime, creatorPid: opened.record.creatorPid, comm: "")
            }
            s.objects[pid] = WeakObject(opened)
            s.recent.append(opened)
            if s.recent.count > Self.recentObjects { s.recent.removeFirst(s.recent.count - Self.recentObjects) }
            return opened
        }
    }

    /// How many recently opened objects stay alive (each holds a pidfd).
    static let recentObjects = 64

    /// The table as rows for `ium ps`, with each process's Flags read now.
    /// - Parameters:
    ///   - secureOnly: Only processes tagged secure.
    ///   - visible: Whether the caller may see a process (`hidepid`).
    ///
    /// A process that exits meanwhile is left out; any other failure to read one (the tag
    /// store, `/proc`) fails the listing rather than leave the process out unsaid.
    public func listing(secureOnly: Bool, visible: (ProcessIdentity) -> Bool = { _ in true }) throws(ProcessTableError) -> [ProcessListing] {
        let entries = state.withLock { $0.entries }
        var rows: [ProcessListing] = []
        for (pid, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let facts: LinuxProcessFacts
            do {
                if secureOnly, try !reader.kernel.isTaggedSecure(pid: pid) { continue }
                guard visible(ProcessIdentity(pid: pid, startTime: entry.startTicks)) else { continue }
                facts = try reader.facts(pid)
            } catch where error.code == .noSuchProcess {
                continue
            }
            guard facts.stat.startTime == entry.startTicks else { continue }
            let record = ProcessRecord(identity: facts.identity, creatorPid: entry.creatorPid, creatorSessionId: nil,
                                       sessionId: facts.stat.session)
            rows.append(ProcessListing(pid: pid, creatorPid: entry.creatorPid, uid: facts.status.uids.first ?? 0,
                                       flags: LinuxFlagAnalogs.flags(facts: facts, record: record, exited: false),
                                       comm: facts.stat.comm))
        }
        return rows
    }

    /// The user processes in `/proc` (kernel threads left out), and the pids whose `stat`
    /// could not be read for another reason than their exit.
    /// The live processes in `/proc` (kernel threads and zombies left out: a zombie has exited,
    /// and if its exit came before the guard's events, nothing would remove its entry when it is
    /// reaped — the stale entry `make bench`'s fork storms found after a start), and the pids
    /// whose `stat` could not be read.
    private func listProc() throws(ProcessTableError) -> (found: [Int32: ProcStat], unreadable: Set<Int32>) {
        let pids: [Int32]
        do { pids = try ProcFS.numericEntries(reader.procRoot) } catch {
            throw ProcessTableError(.io, path: error.path, errno: error.errno)
        }
        var found: [Int32: ProcStat] = [:]
        var unreadable: Set<Int32> = []
        for pid in pids {
            do {
                let stat = try reader.stat(pid)
                if stat.flags & ProcStat.pfKthread == 0, stat.state != "Z", stat.state != "X" { found[pid] = stat }
            } catch where error.code == .noSuchProcess {
                continue
            } catch {
                unreadable.insert(pid)
            }
        }
        return (found, unreadable)
    }
}

extension ProcessDirectory.State {
    /// One lifecycle record (``ProcessDirectory/apply(_:)``); an exit returns the process's
    /// object to mark exited, with the wait status.
    mutating func apply(_ event: GuardEvent) -> (ProcessObject, Int32)? {
        let pid = event.pid, ticks = event.startNanoseconds / ProcFS.nanosecondsPerTick
        let hasExited = exited[pid] == ticks || exitedBefore[pid] == ticks
        switch event.kind {
        case .fork:
            // Already exited, or a later process holds the pid: nothing to add.
            if hasExited || entries[pid].map({ $0.startTicks > ticks }) == true { return nil }
            var entry = ProcessDirectory.Entry(startTicks: ticks, creatorPid: event.creatorPid, comm: event.comm)
            if let exec = [pendingExecs, pendingExecsBefore].lazy.compactMap({ $0[pid] }).first(where: { $0.startTicks == ticks }) {
                (entry.comm, entry.lastExecId) = (exec.comm, exec.lastExecId)
                pendingExecs[pid] = nil
                pendingExecsBefore[pid] = nil
            } else if let known = entries[pid], known.startTicks == ticks {
                // The seed scan (or an open) found it first: its comm is newer than the fork's.
                (entry.comm, entry.lastExecId) = (known.comm, known.lastExecId)
            }
            entries[pid] = entry
        case .exec:
            if hasExited { return nil }
            // The record carries the new program's comm (the kernel sets it at exec).
            // Two execs of one process may come in either order: the later exec id wins.
            func newer(_ entry: ProcessDirectory.Entry) -> Bool {
                entry.lastExecId.map { ProcessDirectory.isAtOrAfter(event.execId, $0) } ?? true
            }
            if var entry = entries[pid], entry.startTicks == ticks {
                if newer(entry) { (entry.comm, entry.lastExecId) = (event.comm, event.execId) }
                entries[pid] = entry
            } else if entries[pid].map({ $0.startTicks < ticks }) ?? true {
                // Its fork record is still on another CPU's ring.
                if let pending = pendingExecs[pid], pending.startTicks == ticks, !newer(pending) { return nil }
                pendingExecs[pid] = ProcessDirectory.Entry(startTicks: ticks, creatorPid: 0, comm: event.comm, lastExecId: event.execId)
            }
        case .exit:
            exited[pid] = ticks
            if let entry = entries[pid], entry.startTicks <= ticks { entries[pid] = nil }
            guard let object = objects[pid]?.object, object.identity.startTime <= ticks else { return nil }
            objects[pid] = nil
            return object.identity.startTime == ticks ? (object, event.exitCode) : nil
        case .denial, .unknown:
            break
        }
        return nil
    }
}
