// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import Logging
import ProcessTable
import Prometheus
import LinuxEdge

/// iumd's metrics in the Prometheus text format (README, "Metrics"), named after Prometheus's
/// conventions and modelled on Tetragon's: what the guard refused, and where each event went.
///
/// Every record the guard produces is written (a denial to its ring buffer, a fork, exec or
/// exit to its lifecycle ring) or dropped (the ring buffer was full): `ium_events_produced_total`
/// = written + dropped there. iumd reads every written record it gets to before the guard
/// overwrites it (`ium_events_delivered_total`); dropped and overwritten records are
/// `ium_events_dropped_total{point="ring_buffer"}`. There is no queue between its reader and
/// the audit store (the reader thread writes each batch itself), so the only other drop point
/// is a failed SQLite write (`{point="audit_store"}`). Once iumd has caught up, produced =
/// delivered + ring drops.
///
/// Kernel counters are read when scraped; iumd's own are counted as things happen.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private let delivered: Counter
    private let stored: Counter
    private let storeDrops: Counter
    private let queryDuration: DurationHistogram

    private let produced: Counter
    private let ringDrops: Counter
    private let guardDenials: Counter
    private let kills: Counter
    private let inherited: Counter
    private let resumes: Counter
    private let rescans: Counter
    private let repairs: Counter
    private let processes: Gauge
    private let sealed: Gauge
    private let statsEnabled: Gauge
    /// The kernel's and the table's totals at the last scrape (counters grow by the difference).
    private let last = Locked<(guardCounters: GuardCounters, rescans: UInt64, repairs: UInt64, programs: [String: ProgramStats])>(
        (.zero, 0, 0, [:]))

    private static func name(_ metricName: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "ium", metricName: metricName, unitName: unit, helpText: help)
    }
    private static var denials: MetricNameDescriptor { name("denials", "total", "Denials iumd received from the guard, by operation, backend and action (denied: the lsm backend refused the call; killed: the kill backend killed the caller).") }
    private static var dropped: MetricNameDescriptor { name("events_dropped", "total", "Guard records lost, by drop point: ring_buffer (full when the guard wrote, or overwritten before iumd read it), audit_store (the SQLite write failed).") }
    private static var tagRequests: MetricNameDescriptor { name("tag_requests", "total", "Tag requests iumd answered, by result.") }
    private static var programRunTime: MetricNameDescriptor { name("bpf_program_run", "seconds_total", "Time the kernel spent in each guard program (kernel.bpf_stats_enabled=1 only).") }
    private static var programRuns: MetricNameDescriptor { name("bpf_program_runs", "total", "Runs of each guard program (kernel.bpf_stats_enabled=1 only).") }

    init() {
        delivered = registry.makeCounter(descriptor: Self.name("events_delivered", "total", "Guard records iumd read from the ring buffer and the lifecycle ring."))
        stored = registry.makeCounter(descriptor: Self.name("denials_stored", "total", "Denials written to the audit store."))
        storeDrops = registry.makeCounter(descriptor: Self.dropped, labels: [("point", "audit_store")])
        ringDrops = registry.makeCounter(descriptor: Self.dropped, labels: [("point", "ring_buffer")])
        produced = registry.makeCounter(descriptor: Self.name("events_produced", "total", "Records the guard produced: written to the ring buffer or the lifecycle ring, or dropped."))
        guardDenials = registry.makeCounter(descriptor: Self.name("guard_denials", "total", "Accesses the guard refused, counted in the kernel (with or without a record)."))
        kills = registry.makeCounter(descriptor: Self.name("guard_kills", "total", "Callers the kill backend killed."))
        inherited = registry.makeCounter(descriptor: Self.name("tags_inherited", "total", "Tags the guard copied to a new thread or process."))
        resumes = registry.makeCounter(descriptor: Self.name("ptrace_resumes", "total", "Targets the kill backend resumed after killing a PTRACE_ATTACH."))
        rescans = registry.makeCounter(descriptor: Self.name("table_rescans", "total", "Rescans of /proc after lost records."))
        repairs = registry.makeCounter(descriptor: Self.name("table_repairs", "total", "Process table entries the rescans fixed."))
        processes = registry.makeGauge(descriptor: Self.name("processes", "", "Processes in iumd's table."))
        sealed = registry.makeGauge(descriptor: Self.name("guard_sealed", "", "1 when the guard is sealed until reboot."))
        statsEnabled = registry.makeGauge(descriptor: Self.name("bpf_stats_enabled", "", "kernel.bpf_stats_enabled: per-program run time is counted only when 1."))
        queryDuration = registry.makeDurationHistogram(
            descriptor: Self.name("query_duration", "seconds", "NtQueryInformationProcess answered by iumd (socket path), from request to reply; in-client answers do not reach iumd."),
            buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000].map { Duration.microseconds($0) })
    }

    /// Counts records read from the ring buffer and the lifecycle ring.
    func delivered(_ records: UInt64) { delivered.increment(by: Int64(records)) }
    /// Counts lifecycle records the guard overwrote before iumd read them.
    func overwritten(_ records: UInt64) { ringDrops.increment(by: Int64(records)) }
    /// Counts denials written to the audit store.
    func stored(_ denials: Int) { stored.increment(by: Int64(denials)) }
    /// Counts denials lost because the audit store could not be written.
    func lostInStore(_ denials: Int) { storeDrops.increment(by: Int64(denials)) }
    /// Records how long iumd took to answer a query.
    func query(nanoseconds: UInt64) { queryDuration.recordNanoseconds(Int64(nanoseconds)) }

    /// Counts a denial that reached iumd.
    func denial(operation: String, backend: String, action: String) {
        registry.makeCounter(descriptor: Self.denials, labels: [("operation", operation), ("backend", backend), ("action", action)]).increment()
    }

    /// Counts an answered tag request.
    func tagRequest(succeeded: Bool) {
        registry.makeCounter(descriptor: Self.tagRequests, labels: [("result", succeeded ? "tagged" : "refused")]).increment()
    }

    /// The text exposition, with the kernel's counters read now.
    func exposition(_ state: DaemonState) -> String {
        refresh(state)
        return registry.emitToString()
    }

    /// How much a kernel total grew since it was last read; a total that went down belongs to
    /// a new program or guard, so all of it is new.
    static func growth(_ now: UInt64, since before: UInt64?) -> UInt64 {
        guard let before, before <= now else { return now }
        return now - before
    }

    private func refresh(_ state: DaemonState) {
        let counters = state.guardRef.counters()
        let table = state.directory.repairCounts
        let enabled = ((try? ProcFS.text("/proc/sys/kernel/bpf_stats_enabled")) ?? "0").hasPrefix("1")
        var programs: [ProgramStats] = []
        if enabled {
            do { programs = try state.guardRef.programStats() } catch {
                state.logger.warning("cannot read the guard programs' run times", metadata: ["error": "\(error)"])
            }
        }
        let sealedNow = (try? state.guardRef.state().sealed) ?? false
        last.withLock { l in
            let before = l.guardCounters
            func add(_ counter: Counter, _ now: UInt64, _ then: UInt64) { counter.increment(by: Int64(Self.growth(now, since: then))) }
            add(produced, counters.recordsWritten &+ counters.eventsDropped, before.recordsWritten &+ before.eventsDropped)
            add(ringDrops, counters.eventsDropped, before.eventsDropped)
            add(guardDenials, counters.denials, before.denials)
            add(kills, counters.kills, before.kills)
            add(inherited, counters.tagsInherited, before.tagsInherited)
            add(resumes, counters.resumes, before.resumes)
            add(rescans, table.rescans, l.rescans)
            add(repairs, table.repairs, l.repairs)
            l.guardCounters = counters
            l.rescans = table.rescans
            l.repairs = table.repairs
            for program in programs {
                let previous = l.programs[program.name]
                let time = Self.growth(program.runTimeNanoseconds, since: previous?.runTimeNanoseconds)
                let runs = Self.growth(program.runCount, since: previous?.runCount)
                registry.makeCounter(descriptor: Self.programRunTime, labels: [("program", program.name)]).increment(by: Double(time) / 1e9)
                registry.makeCounter(descriptor: Self.programRuns, labels: [("program", program.name)]).increment(by: Int64(runs))
                l.programs[program.name] = program
            }
        }
        processes.set(Int64(state.directory.count))
        sealed.set(Int64(sealedNow ? 1 : 0))
        statsEnabled.set(Int64(enabled ? 1 : 0))
    }
}

/// A metrics endpoint that cannot be set up.
struct MetricsError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
