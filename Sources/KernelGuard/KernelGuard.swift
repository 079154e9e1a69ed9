// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
internal import CLinuxShims
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

/// The BPF guard pinned under one directory of bpffs, opened by its only owner.
///
/// Programs, links and maps are pinned under ``pinDirectory`` so enforcement and tags survive
/// the process that loaded them; a new owner adopts the pinned guard. Only one process owns a
/// guard at a time: ``open(pinDirectory:backend:objectPath:lifecycleEvents:)`` takes an
/// exclusive lock on the pin directory (`flock`) for as long as the object lives, so a second
/// loader (or a second ring-buffer consumer stealing the owner's events) is refused.
/// The production guard lives at ``defaultPinDirectory``; tests use their own directories.
public final class KernelGuard: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; file descriptors are
    // closed in deinit and libbpf objects are never shared across threads.

    /// Where iumd pins the machine's guard.
    public static let defaultPinDirectory = "/sys/fs/bpf/ium"
    static let mapNames = ["ium_tags", "ium_events", "ium_counters", "ium_config", "ium_resume", "ium_probes",
                           "ium_probe_pending"]

    /// The directory the guard is pinned under.
    public let pinDirectory: String
    /// The backend in force.
    public let backend: Backend
    /// Why this backend was chosen (for `ium status`).
    public let reason: String
    let lockFD: Int32
    let tagsFD: Int32
    let eventsFD: Int32
    let countersFD: Int32
    let configFD: Int32
    let probesFD: Int32

    private init(pinDirectory: String, lockFD: Int32, backend: Backend, reason: String, fds: [String: Int32]) {
        self.pinDirectory = pinDirectory
        self.lockFD = lockFD
        self.backend = backend
        self.reason = reason
        tagsFD = fds["ium_tags"] ?? -1
        eventsFD = fds["ium_events"] ?? -1
        countersFD = fds["ium_counters"] ?? -1
        configFD = fds["ium_config"] ?? -1
        probesFD = fds["ium_probes"] ?? -1
    }

    deinit {
        for fd in [tagsFD, eventsFD, countersFD, configFD, probesFD, lockFD] where fd >= 0 { close(fd) }
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

    /// Whether a guard is pinned under `pinDirectory`.
    public static func isLoaded(pinDirectory: String = defaultPinDirectory) -> Bool {
        access(pinDirectory + "/ium_tags", F_OK) == 0
    }

    /// Becomes the owner of the guard pinned under `pinDirectory`, loading, attaching and
    /// pinning it first when none is there.
    /// - Parameters:
    ///   - pinDirectory: The bpffs directory of this guard.
    ///   - backend: The backend to use; nil picks `lsm` when the kernel allows it, else `kill`.
    ///     A pinned guard with another backend is refused.
    ///   - objectPath: The compiled `ium-guard.bpf.o`.
    ///   - lifecycleEvents: Whether the guard emits fork/exec/exit events (when it loads one).
    /// - Throws: `.busy` when another process owns this guard, `.notRoot`, or a load failure.
    public static func open(pinDirectory: String = defaultPinDirectory, backend wanted: Backend? = nil,
                            objectPath: String? = nil, lifecycleEvents: Bool = true) throws(GuardError) -> KernelGuard {
        guard geteuid() == 0 else {
            throw GuardError(.notRoot, "owning the guard needs root", hint: "run it as root (sudo)")
        }
        _ = LibBPF.setUp
        try Mounts.ensureBPFFS()
        let lockFD = try lock(pinDirectory)
        let opened: KernelGuard
        do throws(GuardError) {
            opened = isLoaded(pinDirectory: pinDirectory)
                ? try adopt(pinDirectory: pinDirectory, lockFD: lockFD)
                : try load(pinDirectory: pinDirectory, lockFD: lockFD, backend: wanted, objectPath: objectPath,
                           lifecycleEvents: lifecycleEvents)
        } catch {
            close(lockFD)
            throw error
        }
        if let wanted, wanted != opened.backend {
            throw GuardError(.refused, "the \(opened.backend) guard is already loaded at \(pinDirectory)",
                             hint: "unload it first ('ium guard unload') to switch to \(wanted)")
        }
        return opened
    }

    /// Becomes the owner of the guard pinned under `pinDirectory` without loading one.
    /// - Throws: `.notLoaded` when nothing is pinned there, `.busy` when another process owns it.
    public static func openPinned(pinDirectory: String = defaultPinDirectory) throws(GuardError) -> KernelGuard {
        guard geteuid() == 0 else {
            throw GuardError(.notRoot, "owning the guard needs root", hint: "run it as root (sudo)")
        }
        guard isLoaded(pinDirectory: pinDirectory) else {
            throw GuardError(.notLoaded, "no guard is loaded at \(pinDirectory)")
        }
        _ = LibBPF.setUp
        let lockFD = try lock(pinDirectory)
        do { return try adopt(pinDirectory: pinDirectory, lockFD: lockFD) } catch {
            close(lockFD)
            throw error
        }
    }

    /// Creates the pin directory if needed and takes its exclusive lock.
    private static func lock(_ pinDirectory: String) throws(GuardError) -> Int32 {
        _ = mkdir(pinDirectory, 0o700)
        let fd = Glibc.open(pinDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw GuardError(.pinFailed, "cannot open the pin directory \(pinDirectory)", errno: errno)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            let holder = lockHolder(fd).map { " (pid \($0))" } ?? ""
            close(fd)
            if e == EWOULDBLOCK {
                throw GuardError(.busy, "another process\(holder) owns the guard at \(pinDirectory)",
                                 hint: "only one iumd runs per guard: stop that one, or ask it ('ium status', 'ium guard unload')")
            }
            throw GuardError(.pinFailed, "cannot lock the pin directory \(pinDirectory)", errno: e)
        }
        return fd
    }

    /// The pid holding the flock of an open file, from /proc/locks.
    static func lockHolder(_ fd: Int32) -> Int32? {
        var st = stat()
        guard fstat(fd, &st) == 0, let text = try? readSmallFile("/proc/locks") else { return nil }
        let major = UInt32(truncatingIfNeeded: (st.st_dev >> 8) & 0xFFF | (st.st_dev >> 32) & ~0xFFF)
        let minor = UInt32(truncatingIfNeeded: st.st_dev & 0xFF | (st.st_dev >> 12) & ~0xFF)
        let device = hex2(major) + ":" + hex2(minor) + ":" + String(st.st_ino)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 5, fields[1] == "FLOCK", fields[5] == device { return Int32(fields[4]) }
        }
        return nil
    }

    private static func hex2(_ n: UInt32) -> String {
        let s = String(n, radix: 16)
        return s.count < 2 ? "0" + s : s
    }

    private static func adopt(pinDirectory: String, lockFD: Int32) throws(GuardError) -> KernelGuard {
        var fds: [String: Int32] = [:]
        for name in mapNames {
            let fd = bpf_obj_get(pinDirectory + "/" + name)
            guard fd >= 0 else {
                let e = errno
                fds.values.forEach { close($0) }
                throw GuardError(.notLoaded, "cannot open the pinned map \(pinDirectory)/\(name)", errno: e,
                                 hint: "the guard there is incomplete: unload it (iumd --unload) and start iumd again")
            }
            fds[name] = fd
        }
        let config: ium_config
        do { config = try readConfig(fd: fds["ium_config", default: -1]) } catch {
            fds.values.forEach { close($0) }
            throw error
        }
        let backend = Backend(abiValue: config.backend) ?? .kill
        let reason = backend == .lsm ? "BPF LSM active; adopted the guard pinned at \(pinDirectory)"
            : BackendProbe.run().reason + "; adopted the kill guard pinned at \(pinDirectory)"
        return KernelGuard(pinDirectory: pinDirectory, lockFD: lockFD, backend: backend, reason: reason, fds: fds)
    }

    private static func load(pinDirectory: String, lockFD: Int32, backend wanted: Backend?, objectPath: String?,
                             lifecycleEvents: Bool) throws(GuardError) -> KernelGuard {
        guard let path = objectPath ?? defaultObjectPath() else {
            throw GuardError(.objectMissing, "ium-guard.bpf.o not found",
                             hint: "build it with 'make bpf' or set IUM_BPF_OBJECT to its path")
        }
        Mounts.ensureTraceFS()
        let probe = BackendProbe.run()
        let order: [Backend]
        if let wanted { order = [wanted] } else { order = probe.lsmAvailable ? [.lsm, .kill] : [.kill] }
        var reason = probe.reason
        var lastError: GuardError?
        for backend in order {
            do {
                let fds = try loadObject(path: path, pinDirectory: pinDirectory, backend: backend, lifecycleEvents: lifecycleEvents)
                if backend == .lsm { reason = "BPF LSM active (\(probe.lsmList ?? "?"))" }
                return KernelGuard(pinDirectory: pinDirectory, lockFD: lockFD, backend: backend, reason: reason, fds: fds)
            } catch {
                lastError = error
                if backend == .lsm { reason = lsmRefusal(error) }
            }
        }
        throw lastError ?? GuardError(.loadFailed, "no backend could be loaded")
    }

    private static func lsmRefusal(_ error: GuardError) -> String {
        "the kernel refused the lsm programs: " + (error.errno.map { GuardError.errnoName($0) } ?? "error")
            + " (BPF trampolines unavailable?); using the kill backend"
    }

    /// The backend this kernel accepts and why, found by loading the lsm programs into the
    /// kernel and freeing them at once (nothing is attached or pinned).
    /// - Parameter objectPath: The compiled guard.
    public static func probeBackend(objectPath: String? = nil) throws(GuardError) -> (backend: Backend, reason: String) {
        guard geteuid() == 0 else { throw GuardError(.notRoot, "probing the kernel needs root", hint: "run it as root (sudo)") }
        _ = LibBPF.setUp
        guard let path = objectPath ?? defaultObjectPath() else {
            throw GuardError(.objectMissing, "ium-guard.bpf.o not found", hint: "build it with 'make bpf'")
        }
        let probe = BackendProbe.run()
        guard probe.lsmAvailable else { return (.kill, probe.reason) }
        do {
            try withLoadedObject(path: path, backend: .lsm) { _ in }
            return (.lsm, "BPF LSM active (\(probe.lsmList ?? "?"))")
        } catch {
            return (.kill, lsmRefusal(error))
        }
    }

    /// Program sections that belong to each backend: `lsm/` to lsm, syscall tracepoints to
    /// kill (they would slow every syscall under lsm), `tp_btf/` to both.
    static func belongs(section: String, to backend: Backend) -> Bool {
        if section.hasPrefix("tp_btf/") { return true }
        return backend == .lsm ? section.hasPrefix("lsm/") : !section.hasPrefix("lsm/")
    }

    /// Opens the object, loads the backend's programs, runs `body`, and frees the object.
    private static func withLoadedObject<T>(path: String, backend: Backend, _ body: (OpaquePointer) throws(GuardError) -> T) throws(GuardError) -> T {
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
        return try body(object)
    }

    private static func loadObject(path: String, pinDirectory: String, backend: Backend, lifecycleEvents: Bool) throws(GuardError) -> [String: Int32] {
        try withLoadedObject(path: path, backend: backend) { (object) throws(GuardError) in
            // Attach everything before pinning anything, so a failure leaves no half guard.
            var links: [(String, OpaquePointer)] = []
            defer { links.forEach { bpf_link__destroy($0.1) } }
            var program = bpf_object__next_program(object, nil)
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

            do throws(GuardError) {
                for name in mapNames {
                    guard let map = bpf_object__find_map_by_name(object, name) else {
                        throw GuardError(.loadFailed, "the object has no map \(name)")
                    }
                    try LibBPF.check(bpf_map__pin(map, pinDirectory + "/" + name), .pinFailed, "cannot pin \(name)")
                }
                for (name, link) in links {
                    try LibBPF.check(bpf_link__pin(link, pinDirectory + "/link_" + name), .pinFailed, "cannot pin \(name)")
                }
            } catch {
                unpinAll(pinDirectory)
                throw error
            }
            // Open the maps through their pins: the fds outlive the object.
            var fds: [String: Int32] = [:]
            for name in mapNames {
                let fd = bpf_obj_get(pinDirectory + "/" + name)
                guard fd >= 0 else {
                    let e = errno
                    fds.values.forEach { close($0) }
                    unpinAll(pinDirectory)
                    throw GuardError(.pinFailed, "cannot open the pinned map \(name)", errno: e)
                }
                fds[name] = fd
            }
            return fds
        }
    }

    /// Removes the pinned guard: links detach and, once no process holds them, programs and
    /// maps (with every tag) are freed. Enforcement stops. This object stays usable only to
    /// be released.
    public func unload() {
        Self.unpinAll(pinDirectory)
    }

    private static func unpinAll(_ pinDirectory: String) {
        guard let dir = opendir(pinDirectory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names { unlink(pinDirectory + "/" + name) }
        rmdir(pinDirectory)
    }

    // MARK: - Tags

    /// The tag flags of a process (`IUM_TAG_*`), 0 when untagged.
    /// - Parameter pid: The process id.
    /// - Throws: `.noSuchProcess` when the process is gone; `.mapFailed` when the tag store
    ///   cannot be read (never read as "not secure").
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

    /// Adds tag flags to a process through a pidfd (so a recycled pid is never tagged: the
    /// pidfd names one process). Irreversible: nothing removes a flag.
    /// - Parameters:
    ///   - pid: The process.
    ///   - flags: `IUM_TAG_*` bits (``TagFlags``) to add.
    public func addTag(pid: Int32, flags: TagFlags) throws(GuardError) {
        let pidfd = try openPidfd(pid)
        defer { close(pidfd) }
        var key = pidfd
        var tag = ium_tag()
        if bpf_map_lookup_elem(tagsFD, &key, &tag) != 0 {
            guard errno == ENOENT else { throw GuardError(.mapFailed, "cannot read the tag of process \(pid)", errno: errno) }
            tag = ium_tag()
        }
        tag.flags |= flags.rawValue
        guard bpf_map_update_elem(tagsFD, &key, &tag, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot tag process \(pid)", errno: errno)
        }
    }

    private func openPidfd(_ pid: Int32) throws(GuardError) -> Int32 {
        let fd = ium_pidfd_open(pid, 0)
        guard fd >= 0 else {
            throw GuardError(errno == ESRCH || errno == EINVAL ? .noSuchProcess : .mapFailed, "no process with id \(pid)", errno: errno)
        }
        return fd
    }

    // MARK: - Caller-view probes

    /// The kernel's verdict on a caller's last read probe of a target (guard_abi.h): when it
    /// passed, and the two processes' start times; nil when no probe of that pair passed.
    /// - Parameters:
    ///   - caller: The probing process (tgid).
    ///   - target: The probed process (tgid).
    public func readProbe(caller: Int32, target: Int32) throws(GuardError) -> ReadProbe? {
        var key = ium_probe_key(caller_tgid: UInt32(bitPattern: caller), target_tgid: UInt32(bitPattern: target))
        var probe = ium_probe()
        guard bpf_map_lookup_elem(probesFD, &key, &probe) == 0 else {
            if errno == ENOENT { return nil }
            throw GuardError(.mapFailed, "cannot read the probe of \(caller) on \(target)", errno: errno)
        }
        return ReadProbe(timeNanoseconds: probe.time_ns, callerStartNanoseconds: probe.caller_start_ns,
                         targetStartNanoseconds: probe.target_start_ns, startStack: probe.start_stack)
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

    /// Opens a reader of the guard's event ring buffer (the owner's only).
    public func events() throws(GuardError) -> GuardEventReader {
        try GuardEventReader(mapFD: eventsFD)
    }
}

/// A read probe the kernel let pass (boot-clock nanoseconds).
public struct ReadProbe: Hashable, Sendable {
    /// When the probe passed.
    public var timeNanoseconds: UInt64
    /// The caller's start time (its identity with its pid).
    public var callerStartNanoseconds: UInt64
    /// The target's start time.
    public var targetStartNanoseconds: UInt64
    /// The target's `start_stack` when the probe passed (what `/proc/PID/stat` showed the caller).
    public var startStack: UInt64
}

/// The tag bits of a process (`IUM_TAG_*` of guard_abi.h).
public struct TagFlags: OptionSet, Hashable, Sendable {
    /// The raw bits.
    public let rawValue: UInt32
    /// Creates flags from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// A trustlet: nobody else may reach into it.
    public static let secure = TagFlags(rawValue: UInt32(IUM_TAG_SECURE))
    /// iumd itself: may make PTRACE_MODE_READ checks on secure processes (never ATTACH).
    public static let inspector = TagFlags(rawValue: UInt32(IUM_TAG_INSPECTOR))
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

func readlinkString(_ path: String) throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n >= 0 else { throw GuardError(.noSuchProcess, "readlink \(path)", errno: errno) }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func readSmallFile(_ path: String) throws(GuardError) -> String {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw GuardError(.io, "cannot open \(path)", errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw GuardError(.io, "cannot read \(path)", errno: errno) }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
