// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
internal import CLinuxShims
public import ProcessTable
import Synchronization

/// How the guard enforces the contract on this kernel.
public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// BPF LSM hooks: the kernel call fails with EPERM. The full contract.
    case lsm
    /// Syscall tracepoints: the caller gets SIGKILL. Best effort, with known gaps.
    case kill

    var abiValue: UInt32 {
        switch self {
        case .lsm: UInt32(IUM_BACKEND_LSM.rawValue)
        case .kill: UInt32(IUM_BACKEND_KILL.rawValue)
        }
    }

    init?(abiValue: UInt32) {
        switch abiValue {
        case UInt32(IUM_BACKEND_LSM.rawValue): self = .lsm
        case UInt32(IUM_BACKEND_KILL.rawValue): self = .kill
        default: return nil
        }
    }

    /// `lsm` or `kill`.
    public var description: String { rawValue }

    /// What this backend does not cover, said plainly (README "Threat model" lists the same).
    public var gaps: [String] {
        switch self {
        case .lsm:
            return []
        case .kill:
            return [
                "io_uring: an IORING_OP_OPENAT of /proc/PID/mem is not seen (no syscall tracepoint runs), so its reads succeed",
                "a process sharing the attacker's fd table (clone CLONE_FILES without CLONE_THREAD) keeps an fd the attacker opened before it was killed",
                "sigqueue/rt_sigqueueinfo/pidfd_send_signal with a payload are not intercepted: the signal is delivered",
                "the tag reaches a new child after it is visible (sched_process_fork), a window the lsm backend does not have",
                "pids in a child PID namespace are only resolved on Linux 6.13+ (bpf_task_from_vpid)",
                "a PTRACE_ATTACH whose target dequeues SIGSTOP before the attacker's syscall returns can leave the target stopped",
            ]
        }
    }
}

/// The loaded (or adopted) BPF guard: its maps and, when this process loaded it, its links.
///
/// Programs, links and maps are pinned under ``pinRoot`` so enforcement and tags survive the
/// process that loaded them; a new process adopts the pinned guard (``adopt()``).
public final class KernelGuard: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; file descriptors are
    // closed in deinit and libbpf objects are never shared across threads.

    /// Where the guard is pinned.
    public static let pinRoot = "/sys/fs/bpf/ium"
    static let mapNames = ["ium_tags", "ium_events", "ium_counters", "ium_config", "ium_resume"]

    /// The backend in force.
    public let backend: Backend
    /// Why this backend was chosen (for `ium status`).
    public let reason: String
    let tagsFD: Int32
    let eventsFD: Int32
    let countersFD: Int32
    let configFD: Int32

    private init(backend: Backend, reason: String, fds: [String: Int32]) {
        self.backend = backend
        self.reason = reason
        tagsFD = fds["ium_tags"] ?? -1
        eventsFD = fds["ium_events"] ?? -1
        countersFD = fds["ium_counters"] ?? -1
        configFD = fds["ium_config"] ?? -1
    }

    deinit {
        for fd in [tagsFD, eventsFD, countersFD, configFD] where fd >= 0 { close(fd) }
    }

    // MARK: - Loading

    /// Where the compiled guard is looked for: `$IUM_BPF_OBJECT`, beside the running
    /// executable, then `/usr/local/lib/ium` and `/usr/lib/ium`.
    public static func defaultObjectPath() -> String? {
        if let env = getenv("IUM_BPF_OBJECT") { return String(cString: env) }
        var candidates: [String] = []
        if let exe = try? readlinkString("/proc/self/exe") {
            candidates.append(String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]) + "/ium-guard.bpf.o")
        }
        candidates += ["/usr/local/lib/ium/ium-guard.bpf.o", "/usr/lib/ium/ium-guard.bpf.o"]
        return candidates.first { access($0, R_OK) == 0 }
    }

    /// Adopts the guard pinned under ``pinRoot``, or nil when none is loaded.
    public static func adopt() throws(GuardError) -> KernelGuard? {
        guard access(pinRoot + "/ium_tags", F_OK) == 0 else { return nil }
        var fds: [String: Int32] = [:]
        for name in mapNames {
            let fd = bpf_obj_get(pinRoot + "/" + name)
            guard fd >= 0 else {
                fds.values.forEach { close($0) }
                throw GuardError(.notLoaded, "cannot open the pinned map \(pinRoot)/\(name)", errno: errno,
                                 hint: "remove \(pinRoot) (ium guard unload) and load the guard again")
            }
            fds[name] = fd
        }
        let config = try readConfig(fd: fds["ium_config", default: -1])
        let backend = Backend(abiValue: config.backend) ?? .kill
        let reason = backend == .lsm ? "BPF LSM active; adopted the guard pinned at \(pinRoot)"
            : BackendProbe.run().reason + "; adopted the kill guard pinned at \(pinRoot)"
        return KernelGuard(backend: backend, reason: reason, fds: fds)
    }

    /// Loads, attaches and pins the guard, or adopts the one already pinned.
    /// - Parameters:
    ///   - backend: The backend to use; nil picks `lsm` when the kernel allows it, else `kill`.
    ///   - objectPath: The compiled `ium-guard.bpf.o`.
    ///   - lifecycleEvents: Whether the guard emits fork/exec/exit events.
    public static func load(backend wanted: Backend? = nil, objectPath: String? = nil, lifecycleEvents: Bool = true) throws(GuardError) -> KernelGuard {
        if let existing = try adopt() {
            if let wanted, wanted != existing.backend {
                throw GuardError(.refused, "the \(existing.backend) guard is already loaded",
                                 hint: "run 'ium guard unload' first to switch to \(wanted)")
            }
            return existing
        }
        guard geteuid() == 0 else {
            throw GuardError(.notRoot, "loading the guard needs root", hint: "run it as root (sudo)")
        }
        _ = LibBPF.setUp
        guard let path = objectPath ?? defaultObjectPath() else {
            throw GuardError(.objectMissing, "ium-guard.bpf.o not found",
                             hint: "build it with 'make bpf' or set IUM_BPF_OBJECT to its path")
        }
        try Mounts.ensureBPFFS()
        Mounts.ensureTraceFS()
        let probe = BackendProbe.run()
        let order: [Backend]
        if let wanted { order = [wanted] } else { order = probe.lsmAvailable ? [.lsm, .kill] : [.kill] }
        var reason = probe.reason
        var lastError: GuardError?
        for backend in order {
            do {
                let fds = try loadObject(path: path, backend: backend, lifecycleEvents: lifecycleEvents)
                if backend == .lsm { reason = "BPF LSM active (\(probe.lsmList ?? "?"))" }
                return KernelGuard(backend: backend, reason: reason, fds: fds)
            } catch {
                lastError = error
                if backend == .lsm {
                    reason = "the kernel refused the lsm programs: "
                        + (error.errno.map { GuardError.errnoName($0) } ?? "error")
                        + " (BPF trampolines unavailable?); using the kill backend"
                }
            }
        }
        throw lastError ?? GuardError(.loadFailed, "no backend could be loaded")
    }

    /// Program sections that belong to each backend: `lsm/` to lsm, syscall tracepoints to
    /// kill (they would slow every syscall under lsm), `tp_btf/` to both.
    static func belongs(section: String, to backend: Backend) -> Bool {
        if section.hasPrefix("tp_btf/") { return true }
        return backend == .lsm ? section.hasPrefix("lsm/") : !section.hasPrefix("lsm/")
    }

    private static func loadObject(path: String, backend: Backend, lifecycleEvents: Bool) throws(GuardError) -> [String: Int32] {
        libbpfMessages.withLock { $0.removeAll() }
        guard let object = bpf_object__open_file(path, nil) else {
            throw GuardError(.objectMissing, "cannot open \(path)", errno: errno, hint: LibBPF.recentErrors())
        }
        defer { bpf_object__close(object) }
        var program = bpf_object__next_program(object, nil)
        while let p = program {
            let section = String(cString: bpf_program__section_name(p))
            bpf_program__set_autoload(p, belongs(section: section, to: backend))
            program = bpf_object__next_program(object, p)
        }
        try LibBPF.check(bpf_object__load(object), .loadFailed, "the kernel refused the \(backend) programs")

        // Attach everything before pinning anything, so a failure leaves no half guard.
        var links: [(String, OpaquePointer)] = []
        defer { links.forEach { bpf_link__destroy($0.1) } }
        program = bpf_object__next_program(object, nil)
        while let p = program {
            if bpf_program__autoload(p) {
                let name = String(cString: bpf_program__name(p))
                guard let link = bpf_program__attach(p) else {
                    throw GuardError(.attachFailed, "cannot attach \(name)", errno: errno, hint: LibBPF.recentErrors())
                }
                links.append((name, link))
            }
            program = bpf_object__next_program(object, p)
        }

        var config = ium_config()
        config.lifecycle_events = lifecycleEvents ? 1 : 0
        config.backend = backend.abiValue
        guard let configMap = bpf_object__find_map_by_name(object, "ium_config") else {
            throw GuardError(.loadFailed, "the object has no ium_config map")
        }
        var zero: UInt32 = 0
        try LibBPF.check(bpf_map_update_elem(bpf_map__fd(configMap), &zero, &config, UInt64(BPF_ANY)), .mapFailed, "cannot write the guard's config")

        _ = mkdir(pinRoot, 0o700)
        do throws(GuardError) {
            for name in mapNames {
                guard let map = bpf_object__find_map_by_name(object, name) else {
                    throw GuardError(.loadFailed, "the object has no map \(name)")
                }
                try LibBPF.check(bpf_map__pin(map, pinRoot + "/" + name), .pinFailed, "cannot pin \(name)")
            }
            for (name, link) in links {
                try LibBPF.check(bpf_link__pin(link, pinRoot + "/link_" + name), .pinFailed, "cannot pin \(name)")
            }
        } catch {
            unpinAll()
            throw error
        }
        // Open the maps through their pins: the fds outlive the object.
        var fds: [String: Int32] = [:]
        for name in mapNames { fds[name] = bpf_obj_get(pinRoot + "/" + name) }
        return fds
    }

    /// Removes the pinned guard: links detach and, once no process holds them, programs and
    /// maps (with every tag) are freed. Enforcement stops.
    public static func unload() throws(GuardError) {
        guard access(pinRoot, F_OK) == 0 else {
            throw GuardError(.notLoaded, "no guard is loaded (\(pinRoot) does not exist)")
        }
        unpinAll()
    }

    private static func unpinAll() {
        guard let dir = opendir(pinRoot) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names { unlink(pinRoot + "/" + name) }
        rmdir(pinRoot)
    }

    // MARK: - Tags

    /// The tag flags of a process (`IUM_TAG_*`), 0 when untagged.
    /// - Parameter pid: The process id.
    public func tagFlags(pid: Int32) throws(GuardError) -> UInt32 {
        let pidfd = try openPidfd(pid)
        defer { close(pidfd) }
        var key = pidfd
        var tag = ium_tag()
        if bpf_map_lookup_elem(tagsFD, &key, &tag) != 0 {
            if errno == ENOENT { return 0 }
            throw GuardError(.mapFailed, "cannot read the tag of process \(pid)", errno: errno)
        }
        return tag.flags
    }

    /// Whether a process is tagged secure.
    /// - Parameter pid: The process id.
    public func isSecure(pid: Int32) -> Bool {
        ((try? tagFlags(pid: pid)) ?? 0) & UInt32(IUM_TAG_SECURE) != 0
    }

    /// Tags a process secure. Irreversible: a trustlet cannot stop being one.
    ///
    /// Refused for pid 1, kernel threads, a process that is gone, and a process that is being
    /// traced (its tracer would keep its access).
    /// - Parameters:
    ///   - pid: The process to tag.
    ///   - inspector: Also mark it as iumd (may pass PTRACE_MODE_READ checks); for iumd itself.
    public func tag(pid: Int32, inspector: Bool = false) throws(GuardError) {
        guard pid != 1 else {
            throw GuardError(.refused, "pid 1 (init) cannot be tagged", hint: "tag the service's own process instead")
        }
        let reader = ProcReader()
        let stat: ProcStat
        do { stat = try reader.stat(pid) } catch {
            throw GuardError(.noSuchProcess, "no process with id \(pid)")
        }
        guard stat.pid == pid, stat.flags & ProcStat.pfKthread == 0 else {
            throw GuardError(.refused, "process \(pid) is a kernel thread and cannot be tagged")
        }
        try refuseIfTraced(pid, reader: reader)
        let pidfd = try openPidfd(pid)
        defer { close(pidfd) }
        var key = pidfd
        var tag = ium_tag()
        if bpf_map_lookup_elem(tagsFD, &key, &tag) != 0 { tag = ium_tag() }
        tag.flags |= UInt32(IUM_TAG_SECURE) | (inspector ? UInt32(IUM_TAG_INSPECTOR) : 0)
        guard bpf_map_update_elem(tagsFD, &key, &tag, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot tag process \(pid)", errno: errno)
        }
        // No core dumps: RLIMIT_CORE 0, inherited by children and kept across exec.
        _ = ium_disable_core_dumps(pid)
        // A tracer that attached between the check and the tag keeps its access: say so.
        if let tracer = try? reader.status(pid).tracerPid, tracer != 0 {
            throw GuardError(.refused, "process \(pid) is tagged, but process \(tracer) attached as its tracer before the tag took effect",
                             hint: "the tracer keeps its access until it detaches")
        }
    }

    private func refuseIfTraced(_ pid: Int32, reader: ProcReader) throws(GuardError) {
        guard let status = try? reader.status(pid) else {
            throw GuardError(.noSuchProcess, "no process with id \(pid)")
        }
        if status.tracerPid != 0 {
            throw GuardError(.refused, "process \(pid) is being traced by process \(status.tracerPid)",
                             hint: "a tracer would keep its access: detach it (or start the program with 'ium run') and tag again")
        }
    }

    private func openPidfd(_ pid: Int32) throws(GuardError) -> Int32 {
        let fd = ium_pidfd_open(pid, 0)
        guard fd >= 0 else {
            throw GuardError(errno == ESRCH || errno == EINVAL ? .noSuchProcess : .mapFailed, "no process with id \(pid)", errno: errno)
        }
        return fd
    }

    // MARK: - Counters and config

    /// The guard's counters, summed over CPUs.
    public func counters() -> GuardCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var values = [UInt64](repeating: 0, count: Int(IUM_COUNTER_MAX.rawValue))
        var buffer = [UInt64](repeating: 0, count: cpus)
        for index in 0..<values.count {
            var key = UInt32(index)
            if bpf_map_lookup_elem(countersFD, &key, &buffer) == 0 { values[index] = buffer.reduce(0, &+) }
        }
        return GuardCounters(
            denials: values[Int(IUM_COUNTER_DENIALS.rawValue)], kills: values[Int(IUM_COUNTER_KILLS.rawValue)],
            eventsDropped: values[Int(IUM_COUNTER_EVENTS_DROPPED.rawValue)],
            tagsInherited: values[Int(IUM_COUNTER_TAGS_INHERITED.rawValue)],
            resumes: values[Int(IUM_COUNTER_RESUMES.rawValue)])
    }

    static func readConfig(fd: Int32) throws(GuardError) -> ium_config {
        var zero: UInt32 = 0
        var config = ium_config()
        try LibBPF.check(bpf_map_lookup_elem(fd, &zero, &config) == 0 ? 0 : -errno, .mapFailed, "cannot read the guard's config")
        return config
    }

    /// Opens a reader of the guard's event ring buffer.
    public func events() throws(GuardError) -> GuardEventReader {
        try GuardEventReader(mapFD: eventsFD)
    }
}

/// The guard's counters.
public struct GuardCounters: Hashable, Sendable {
    /// Accesses refused.
    public var denials: UInt64
    /// Callers killed (kill backend).
    public var kills: UInt64
    /// Events lost because the ring buffer was full.
    public var eventsDropped: UInt64
    /// Tags copied to new threads and processes.
    public var tagsInherited: UInt64
    /// Targets resumed after a killed PTRACE_ATTACH.
    public var resumes: UInt64
}

/// A `KernelFactsProvider` that reads the tag store.
public struct GuardKernelFacts: KernelFactsProvider {
    let guardRef: KernelGuard
    /// Creates the provider.
    /// - Parameter guard: The loaded guard.
    public init(_ guard: KernelGuard) { self.guardRef = `guard` }
    /// Whether the process is tagged secure in the kernel.
    public func isTaggedSecure(pid: Int32) -> Bool { guardRef.isSecure(pid: pid) }
    /// Not read from the kernel yet: nil.
    public func isDumpable(pid: Int32) -> Bool? { nil }
}

func readlinkString(_ path: String) throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n >= 0 else { throw GuardError(.noSuchProcess, "readlink \(path)", errno: errno) }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
