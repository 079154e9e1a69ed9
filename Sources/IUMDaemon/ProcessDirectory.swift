// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import IUMProtocol
public import KernelGuard
import NTModel
public import ProcessTable
import Synchronization

/// The daemon's process table: every process, seeded by a `/proc` scan and then kept current
/// by the guard's fork/exec/exit events (no polling). It remembers each process's creator as
/// the fork event named it, hands out one shared process object per running process, and
/// tells those objects when their process exits (with its wait status).
///
/// Lost events (the ring buffer was full) are repaired by ``rescan()``: processes missing
/// from the table are added, processes gone from `/proc` are removed.
public final class ProcessDirectory: Sendable {
    struct Entry {
        var startTicks: UInt64
        var creatorPid: Int32
        var comm: String
        /// Boot-clock time of the last exec iumd saw (0: none since iumd knew the process).
        var lastExecNanoseconds: UInt64 = 0
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
    }

    let reader: ProcReader
    let state = Mutex(State())

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

    /// Applies one guard event.
    /// - Parameter event: A fork, exec or exit event (denials are ignored here).
    public func apply(_ event: GuardEvent) {
        switch event.kind {
        case .fork:
            state.withLock { s in
                s.entries[event.pid] = Entry(startTicks: event.startNanoseconds / ProcFS.nanosecondsPerTick,
                                             creatorPid: event.creatorPid, comm: event.comm)
            }
        case .exec:
            // The record carries the new program's comm (the kernel sets it at exec).
            state.withLock { s in
                s.entries[event.pid]?.comm = event.comm
                s.entries[event.pid]?.lastExecNanoseconds = event.timeNanoseconds
            }
        case .exit:
            let object: ProcessObject? = state.withLock { s in
                s.entries[event.pid] = nil
                defer { s.objects[event.pid] = nil }
                return s.objects[event.pid]?.object
            }
            if let object, object.identity.startTime == event.startNanoseconds / ProcFS.nanosecondsPerTick {
                object.markExited(waitStatus: event.exitCode)
            }
        case .denial, .unknown:
            break
        }
    }

    /// The boot-clock time of the last exec of a process that iumd saw, if any.
    /// - Parameters:
    ///   - pid: The process id.
    ///   - startTicks: Its start time (so a recycled pid's exec is not taken for it).
    public func lastExec(pid: Int32, startTicks: UInt64) -> UInt64? {
        state.withLock { s in
            guard let entry = s.entries[pid], entry.startTicks == startTicks, entry.lastExecNanoseconds != 0 else { return nil }
            return entry.lastExecNanoseconds
        }
    }

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
