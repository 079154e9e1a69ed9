// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import KernelGuard
public import Logging
import IUMProtocol
import NTModel
import ProcessTable
public import ServiceLifecycle
import Synchronization
import LinuxEdge
import SystemPackage

/// iumd's settings.
public struct DaemonConfiguration: Sendable {
    /// The request socket (SOCK_SEQPACKET, mode 0666).
    public var socketPath = "/run/ium/iumd.sock"
    /// The audit store.
    public var databasePath = "/var/lib/ium/audit.sqlite"
    /// The backend to load; nil picks lsm when possible.
    public var backend: Backend?
    /// The bpffs directory the guard is pinned under (tests use their own).
    public var pinDirectory = KernelGuard.defaultPinDirectory
    /// Tag iumd itself secure (and INSPECTOR, so it can read /proc/PID/exe of secure processes).
    public var selfProtect = true
    /// Seal the guard until reboot (lsm backend only).
    public var seal = false
    /// The most simultaneous connections of users that are neither root nor in the `ium`
    /// group, all together; root and `ium` members are always served.
    public var maxConnections = 1024
    /// The most simultaneous connections one such user may hold.
    public var maxConnectionsPerUser = 64
    /// The most handles one connection may hold.
    public var handleLimit = 4096
    /// Days of audit history kept.
    public var retentionDays = 90
    /// Where the metrics go (`--metrics`, `--metrics-textfile`): none by default.
    var metrics: [MetricsEndpoint] = []
    /// Creates the default configuration.
    public init() {}
}

/// What the request handlers share.
final class DaemonState: Sendable {
    let configuration: DaemonConfiguration
    let guardRef: KernelGuard
    let tagger: Tagger
    let visibility = ProcVisibility()
    let reader: ProcReader
    let directory: ProcessDirectory
    let audit: AuditStore
    let logger: Logger
    let metrics = DaemonMetrics()
    let started: UInt64 = monotonicMilliseconds()
    let kernel: String
    /// Set once the guard was unloaded through a request.
    let unloaded = Atomic<Bool>(false)
    /// Lifecycle records the guard overwrote before the event thread read them (it sets this;
    /// `ium status` counts them with the ring buffer's drops).
    let lifecycleLost = Atomic<UInt64>(0)
    private let stopHandler = Locked<(@Sendable () -> Void)?>(nil)

    /// The clients' task view tables (nil: this guard has none, e.g. an older pinned one).
    let viewSlots: ViewSlots?

    init(configuration: DaemonConfiguration, guard: KernelGuard, audit: AuditStore, logger: Logger) {
        self.configuration = configuration
        self.guardRef = `guard`
        // Task views: a new iumd forgets the last one's clients (they reconnect), then maps
        // its own table (slot 0).
        var daemonViews: TaskViewTable?
        do {
            try `guard`.resetViews()
            let start = try ProcReader().stat(getpid()).startTime
            daemonViews = try `guard`.daemonViewTable(startTicks: start)
        } catch {
            logger.warning("no task views: queries read /proc and clients ask iumd for every query", metadata: ["error": "\(error)"])
        }
        self.viewSlots = daemonViews == nil ? nil : ViewSlots(guardRef: `guard`)
        self.reader = ProcReader(kernel: GuardKernelFacts(guardRef: `guard`, views: daemonViews))
        self.tagger = Tagger(guardRef: `guard`, reader: reader)
        self.directory = ProcessDirectory(reader: reader)
        self.audit = audit
        self.logger = logger
        var u = utsname()
        uname(&u)
        kernel = string(fromCArray: u.release)
    }

    /// What ends the daemon's run loop (set by the daemon when it starts serving).
    var onStop: (@Sendable () -> Void)? {
        get { stopHandler.withLock { $0 } }
        set { stopHandler.withLock { $0 = newValue } }
    }

    /// Root, or a member of the `ium` group (primary or supplementary): may tag, unload, and
    /// always gets a connection.
    func isPrivileged(_ peer: Peer) -> Bool {
        if peer.uid == 0 { return true }
        guard let group = getgrnam("ium") else { return false }
        let gid = group.pointee.gr_gid
        if peer.gid == gid { return true }
        return (try? reader.status(peer.pid).groups.contains(gid)) ?? false
    }

    /// Unloads the guard (an administrator asked); the caller then stops the daemon. Refused
    /// while the guard is sealed.
    func unloadGuard(requestedBy peer: Peer) throws(GuardError) {
        try guardRef.unload()
        unloaded.store(true, ordering: .relaxed)
        logger.notice("guard unloaded on request", metadata: ["by": "pid \(peer.pid) uid \(peer.uid)", "pins": "\(guardRef.pinDirectory)"])
    }

    /// When the guard was sealed, Unix nanoseconds (0: not sealed).
    func sealedSince() -> Int64 {
        guard let state = try? guardRef.state(), state.sealed else { return 0 }
        return Int64(state.sealedNanoseconds) + BootClock.bootEpochNanoseconds()
    }

    func status() -> DaemonStatus {
        let c = guardRef.counters()
        let repairs = directory.repairCounts
        var auditRows: UInt64 = 0
        do { auditRows = try audit.count() } catch {
            logger.error("cannot count the audit store's rows", metadata: ["error": "\(error)"])
        }
        return DaemonStatus(
            backend: guardRef.backend.rawValue, reason: guardRef.reason, gaps: guardRef.backend.gaps, kernel: kernel,
            uptimeMilliseconds: monotonicMilliseconds() - started, processes: UInt32(directory.count),
            denials: c.denials, kills: c.kills, eventsDropped: c.eventsDropped + lifecycleLost.load(ordering: .relaxed),
            tagsInherited: c.tagsInherited,
            rescans: repairs.rescans, repairs: repairs.repairs, auditRows: auditRows,
            sealedSince: sealedSince())
    }
}

/// iumd: loads (or adopts) the guard, keeps the process table and the audit store current
/// from the guard's events, and serves requests on the socket until SIGTERM/SIGINT (or until
/// an administrator unloads the guard through it).
public final class Daemon: Service {
    let state: DaemonState
    private let stopping = Atomic<Bool>(false)
    private let listenFD: Int32
    private let connections: ConnectionLimiter
    private let stopRequests: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation
    private let metricsServer: MetricsServer?
    /// The guard's drop counter just before the seed scan.
    private let droppedAtSeed: UInt64
    /// The guard's records, read from just before the seed scan (nil: they cannot be read);
    /// the event thread takes the reader.
    private let events: Locked<GuardEventReader?>

    /// Starts everything that can fail before serving: the guard, self-protection, the store,
    /// the socket, the `/proc` scan.
    /// - Parameters:
    ///   - configuration: The settings.
    ///   - logger: Where to log.
    public init(configuration: DaemonConfiguration, logger: Logger) throws(DaemonError) {
        // Sealing needs the lsm backend: say so before loading a guard that could not be sealed.
        if configuration.seal, configuration.backend != .lsm {
            let why: String? = configuration.backend == .kill ? "--backend kill was asked for"
                : (try? KernelGuard.probeBackend()).flatMap { $0.backend == .kill ? "this kernel runs the kill backend (\($0.reason))" : nil }
            if let why { throw DaemonError(exitCode: 69, message: "cannot seal: sealing needs the lsm backend, and \(why)") }
        }
        let guardRef: KernelGuard
        do {
            guardRef = try KernelGuard.open(pinDirectory: configuration.pinDirectory, backend: configuration.backend)
        } catch {
            throw DaemonError(exitCode: error.code == .notRoot ? 77 : 69, message: "cannot start the guard: \(error)")
        }
        logger.info("guard ready", metadata: ["backend": "\(guardRef.backend)", "reason": "\(guardRef.reason)",
                                              "pins": "\(guardRef.pinDirectory)"])
        let audit: AuditStore
        do {
            audit = try AuditStore(path: configuration.databasePath, retentionDays: configuration.retentionDays)
        } catch {
            throw DaemonError(exitCode: 1, message: "cannot open the audit store \(configuration.databasePath): \(error)")
        }
        state = DaemonState(configuration: configuration, guard: guardRef, audit: audit, logger: logger)
        // DAEMON: the guard serves iumd's tag requests (and, sealed, only iumd's). SECURE and
        // INSPECTOR unless --no-self-protect (to debug it).
        do {
            _ = try guardRef.tag(pid: getpid(), flags: configuration.selfProtect ? [.daemon, .secure, .inspector] : .daemon)
        } catch {
            throw DaemonError(exitCode: 1, message: "cannot tag iumd itself: \(error)")
        }
        if configuration.seal { try Sealing.seal(guardRef, logger: logger) }
        let limit = FileLimit.raise(toAtLeast: configuration.maxConnections * 2 + 256)
        if limit < configuration.maxConnections * 2 + 256 {
            logger.warning("the open-file limit is low: connections beyond it wait in the backlog",
                           metadata: ["RLIMIT_NOFILE": "\(limit)"])
        }
        if let slash = configuration.socketPath.lastIndex(of: "/") {
            _ = mkdir(String(configuration.socketPath[..<slash]), 0o755)
        }
        let fd: Int32
        do { fd = try Sockets.listen(path: configuration.socketPath, backlog: 128) } catch {
            throw DaemonError(exitCode: 1, message: "cannot listen on \(configuration.socketPath): \(GuardError.errnoName(error.rawValue))")
        }
        listenFD = fd
        var server: MetricsServer?
        for case .http(let host, let port) in configuration.metrics {
            do { server = try MetricsServer(host: host, port: port) } catch {
                close(fd)
                unlink(configuration.socketPath)
                throw DaemonError(exitCode: 1, message: error.message)
            }
        }
        metricsServer = server
        connections = ConnectionLimiter(total: configuration.maxConnections, perUser: configuration.maxConnectionsPerUser)
        (stopRequests, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        // Drops counted from here on are repaired by a rescan: the seed scan below sees
        // everything before it, the event thread everything after.
        droppedAtSeed = guardRef.counters().eventsDropped
        do { events = Locked(try guardRef.events()) } catch {
            logger.error("cannot read guard events: \(error)")
            events = Locked(nil)
        }
        let n: Int
        do { n = try state.directory.scan() } catch {
            close(fd)
            unlink(configuration.socketPath)
            throw DaemonError(exitCode: 1, message: "cannot seed the process table: \(error)")
        }
        logger.info("process table seeded from /proc", metadata: ["processes": "\(n)"])
    }

    /// Serves until graceful shutdown, or until the guard is unloaded through a request.
    public func run() async throws {
        startIngest()
        startAccepting()
        startMetrics()
        state.logger.notice("iumd ready", metadata: ["socket": "\(state.configuration.socketPath)"])
        await cancelWhenGracefulShutdown { [stopRequests] in
            for await _ in stopRequests { break }
        }
        stopping.store(true, ordering: .relaxed)
        metricsServer?.stop()
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        unlink(state.configuration.socketPath)
        if state.unloaded.load(ordering: .relaxed) {
            state.logger.notice("iumd stopped; the guard was unloaded")
        } else {
            state.logger.notice("iumd stopped; the guard stays loaded and keeps enforcing")
        }
    }

    /// The accept thread. It never gives up: when the process runs out of file descriptors or
    /// memory it logs, waits and tries again. Users other than root and the `ium` group are
    /// limited per user and in total, so they cannot take the slots root needs.
    private func startAccepting() {
        let state = self.state
        state.onStop = { [stopContinuation] in stopContinuation.yield() }
        let started = startThread { [self] in
            var lastWarning: UInt64 = 0
            while !stopping.load(ordering: .relaxed) {
                let fd: Int32
                do throws(Errno) { fd = try Sockets.accept(listenFD) } catch {
                    let e = error.rawValue
                    if stopping.load(ordering: .relaxed) { return }
                    switch e {
                    case EINTR, ECONNABORTED, EPROTO, EPERM: continue
                    default:
                        // EMFILE, ENFILE, ENOBUFS, ENOMEM (or anything unexpected): back off.
                        let now = monotonicMilliseconds()
                        if now - lastWarning > 10_000 {
                            state.logger.error("cannot accept connections; retrying", metadata: ["errno": "\(GuardError.errnoName(e))"])
                            lastWarning = now
                        }
                        usleep(100_000)
                        continue
                    }
                }
                guard let credentials = try? Sockets.peer(fd) else { close(fd); continue }
                let peer = Peer(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
                guard let admission = connections.admit(peer, isPrivileged: { state.isPrivileged($0) }) else {
                    let busy = StatusReply(status: .insufficientResources,
                                           message: "too many connections from uid \(peer.uid)").encode(.error, requestId: 0)
                    _ = Sockets.sendMessage(fd, busy)
                    close(fd)
                    continue
                }
                let started = startThread { [self] in
                    defer { connections.release(peer, admission) }
                    Connection(fd: fd, peer: peer, daemon: state).serve()
                }
                if !started {
                    connections.release(peer, admission)
                    state.logger.error("cannot start a thread for a connection")
                    close(fd)
                }
            }
        }
        if !started { state.logger.critical("cannot start the accept thread: no client will be served") }
    }

    /// The metrics threads: the HTTP endpoint, and the textfile rewritten every 15 seconds.
    private func startMetrics() {
        let state = self.state
        if let server = metricsServer {
            guard startThread({ server.serve { state.metrics.exposition(state) } }) else {
                state.logger.critical("cannot start the metrics thread: metrics are not served")
                return
            }
            state.logger.notice("metrics served", metadata: ["address": "http://\(server.address)/metrics"])
        }
        for case .textfile(let path) in state.configuration.metrics {
            let started = startThread { [self] in
                var failing = false
                while !stopping.load(ordering: .relaxed) {
                    do {
                        try MetricsTextfile.write(state.metrics.exposition(state), to: path)
                        failing = false
                    } catch {
                        if !failing { state.logger.error("cannot write the metrics textfile", metadata: ["error": "\(error)"]) }
                        failing = true
                    }
                    for _ in 0..<15 where !stopping.load(ordering: .relaxed) { sleep(1) }
                }
            }
            if !started { state.logger.critical("cannot start the metrics textfile thread") }
        }
    }

    /// The event thread: fork/exec/exit feed the process table, denials the audit store; a
    /// growing drop counter triggers a rescan.
    private func startIngest() {
        let state = self.state
        guard let reader = events.withLock({ $0.take() }) else { return }
        let started = startThread { [self] in
            var dropped = droppedAtSeed
            var lastRetention = monotonicMilliseconds()
            let offset = BootClock.bootEpochNanoseconds()
            var rescanFailing = false
            func applyRetention() {
                do { try state.audit.applyRetention(now: unixNanoseconds()) } catch {
                    state.logger.error("cannot apply the audit store's retention", metadata: ["error": "\(error)"])
                }
            }
            applyRetention()
            var delivered: UInt64 = 0, overwritten: UInt64 = 0
            var pollFailing = false
            while !stopping.load(ordering: .relaxed) {
                let events = reader.poll(timeoutMilliseconds: 200)
                state.metrics.delivered(reader.recordsRead - delivered)
                state.metrics.overwritten(reader.recordsLost - overwritten)
                delivered = reader.recordsRead
                overwritten = reader.recordsLost
                state.lifecycleLost.store(overwritten, ordering: .relaxed)
                // Logged once per failure streak; a failing poll returns at once, so wait
                // instead of spinning.
                if reader.lastPollError != 0 {
                    if !pollFailing {
                        state.logger.error("the guard's event ring buffer cannot be read: the process table and the audit store fall behind",
                                           metadata: ["errno": "\(GuardError.errnoName(-reader.lastPollError))"])
                    }
                    pollFailing = true
                    usleep(200_000)
                } else if pollFailing {
                    state.logger.notice("the guard's event ring buffer can be read again")
                    pollFailing = false
                }
                state.directory.apply(events)
                // Stored (or counted lost) before counted as received: a scrape never sees a
                // denial that is neither.
                let denied = events.filter { $0.kind == .denial }
                if !denied.isEmpty {
                    let denials = denied.map { event in
                        AuditRecord(
                            id: 0, time: Int64(event.timeNanoseconds) + offset, operation: event.operationName,
                            action: event.action, backend: event.backend?.rawValue ?? "", callerPid: event.pid,
                            callerTid: event.tid, uid: event.uid, comm: event.comm, targetPid: event.targetPid,
                            targetTid: event.targetTid, mode: event.mode, filename: event.filename)
                    }
                    do {
                        try state.audit.insert(denials)
                        state.metrics.stored(denials.count)
                    } catch {
                        state.metrics.lostInStore(denials.count)
                        state.logger.error("cannot store denials: \(error)", metadata: ["lost": "\(denials.count)"])
                    }
                    for event in denied {
                        state.metrics.denial(operation: event.operationName, backend: event.backend?.rawValue ?? "", action: event.action)
                        state.logger.notice("denied", metadata: ["event": "\(event)"])
                    }
                }
                let now = state.guardRef.counters().eventsDropped + reader.recordsLost
                if now > dropped {
                    // A rescan that cannot list /proc changes nothing and is tried again on
                    // the next round (logged once per failure streak).
                    do {
                        let fixed = try state.directory.rescan()
                        state.logger.warning("events lost: table rescanned", metadata: ["dropped": "\(now - dropped)", "repaired": "\(fixed)"])
                        do { try state.audit.recordDrops(total: now, repaired: fixed, time: unixNanoseconds()) } catch {
                            state.logger.error("cannot record the drop in the audit store", metadata: ["error": "\(error)"])
                        }
                        dropped = now
                        rescanFailing = false
                    } catch {
                        if !rescanFailing {
                            state.logger.error("events lost and /proc cannot be rescanned: the table keeps its entries; retrying",
                                               metadata: ["error": "\(error)"])
                        }
                        rescanFailing = true
                    }
                }
                if monotonicMilliseconds() - lastRetention > 3_600_000 {
                    applyRetention()
                    lastRetention = monotonicMilliseconds()
                }
            }
        }
        if !started { state.logger.critical("cannot start the event thread: the process table and audit store stay as they are") }
    }
}

/// A startup failure with the exit code iumd reports (77 not root, 69 no guard, 1 other).
public struct DaemonError: Error, CustomStringConvertible {
    /// The process exit code.
    public var exitCode: Int32
    /// What to tell the administrator.
    public var message: String
    /// The message.
    public var description: String { message }
}

func monotonicMilliseconds() -> UInt64 { monotonicNanoseconds() / 1_000_000 }

func unixNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

