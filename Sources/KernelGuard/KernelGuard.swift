// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
internal import GuardSkeleton
import LinuxEdge
import SystemPackage

/// How the guard enforces the contract on this kernel.
public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// BPF LSM hooks: the kernel call fails with EPERM. The full contract, and sealed mode.
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
                "pidfd_getfd is checked on the process the pidfd names at syscall entry: another thread can swap the pidfd before the kernel looks it up",
                "sigqueue/rt_sigqueueinfo/pidfd_send_signal with a payload, and SIGIO/F_SETSIG signals, are not intercepted: the signal is delivered",
                "the tag reaches a new child after it is visible (sched_process_fork), a window the lsm backend does not have",
                "pids in a child PID namespace are only resolved on Linux 6.13+ (bpf_task_from_vpid)",
                "a PTRACE_ATTACH whose target dequeues SIGSTOP before the attacker's syscall returns can leave the target stopped",
                "core dumps: only RLIMIT_CORE 1, set when the process is tagged, stops them; root can raise it again",
                "a file a secure process maps executable can be rewritten under it",
                "exec is not a secure exec: LD_PRELOAD put back around 'ium run' is honoured by the loader",
                "a /proc/PID/mem fd opened before the tag keeps working; perf events with CAP_PERFMON can sample a secure process",
                "tagging is checked from user space: a tracer could slip in between, a seccomp user-notification supervisor is not seen, and exec is not refused under either",
                "no sealed mode: root can unload the guard or read a secure process through BPF, perf, tracefs or /proc/kcore",
            ]
        }
    }
}

/// The BPF guard pinned under one directory of bpffs, opened by its only owner.
///
/// The programs are built into this binary (bpf/guard.bpf.c, one object per backend, through
/// bpftool's skeletons). Programs, links and maps are pinned under ``pinDirectory`` so
/// enforcement and tags survive the process that loaded them; a new owner adopts the pinned
/// guard. Only one process owns a guard at a time: ``open(pinDirectory:backend:lifecycleEvents:)``
/// takes an exclusive lock on the pin directory (`flock`) for as long as the object lives, so
/// a second loader (or a second ring-buffer reader stealing the owner's records) is refused.
/// The production guard lives at ``defaultPinDirectory``; tests use their own directories.
public final class KernelGuard: @unchecked Sendable {
    // @unchecked: the stored properties are immutable after init (file descriptors, closed in
    // deinit); the tag request path is serialised by `tagLock`.

    /// Where iumd pins the machine's guard.
    public static let defaultPinDirectory = "/sys/fs/bpf/ium"
    /// The pin names of the guard's .bss (``GuardState``) and .rodata (settings) maps.
    static let statePin = "state", settingsPin = "settings"
    /// The program a sealed guard attaches to the root cgroup (cgroup/sysctl).
    static let sysctlProgramPin = "prog_ium_sysctl"

    /// The directory the guard is pinned under.
    public let pinDirectory: String
    /// The backend in force.
    public let backend: Backend
    /// Why this backend was chosen (for `ium status`).
    public let reason: String
    let lockFD: Int32
    /// The guard's probe cache (guard_abi.h), mapped read-only, when it has one.
    let probeCache: UnsafePointer<ium_probe_cache_entry>?
    static let probeCacheBytes = Int(IUM_PROBE_CACHE) * MemoryLayout<ium_probe_cache_entry>.stride
    /// The guard's lifecycle ring (guard_abi.h), mapped read-only, when it has one, and its
    /// number of per-CPU rings.
    let lifecycleRing: UnsafePointer<ium_lifecycle_slot>?
    let lifecycleCPUs: Int
    /// The pinned maps, by pin name.
    let maps: [String: Int32]
    let tagLock = Locked(())

    private init(pinDirectory: String, lockFD: Int32, backend: Backend, reason: String, maps: [String: Int32]) {
        self.pinDirectory = pinDirectory
        self.lockFD = lockFD
        self.backend = backend
        self.reason = reason
        self.maps = maps
        // The probe cache, mapped read-only (a guard pinned by an older iumd has none).
        if let fd = maps["ium_probe_cache"], let base = mmap(nil, Self.probeCacheBytes, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED {
            probeCache = UnsafeRawPointer(base).assumingMemoryBound(to: ium_probe_cache_entry.self)
        } else {
            probeCache = nil
        }
        // The lifecycle ring, mapped read-only (a guard pinned by an older iumd has none: its
        // lifecycle records come through the ring buffer).
        (lifecycleRing, lifecycleCPUs) = maps["ium_lifecycle_ring"].flatMap(Self.mapLifecycleRing) ?? (nil, 0)
    }

    /// Maps the lifecycle ring read-only: its base and number of CPUs, nil when its layout is
    /// not guard_abi.h's or it cannot be mapped.
    private static func mapLifecycleRing(_ fd: Int32) -> (UnsafePointer<ium_lifecycle_slot>, Int)? {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        let perCPU = Int(IUM_LIFECYCLE_SLOTS) + 1
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0, info.max_entries > 0, Int(info.max_entries) % perCPU == 0,
              info.value_size == UInt32(MemoryLayout<ium_lifecycle_slot>.stride),
              let base = mmap(nil, Int(info.max_entries) * MemoryLayout<ium_lifecycle_slot>.stride, PROT_READ, MAP_SHARED, fd, 0),
              base != MAP_FAILED else { return nil }
        return (UnsafeRawPointer(base).assumingMemoryBound(to: ium_lifecycle_slot.self), Int(info.max_entries) / perCPU)
    }

    deinit {
        if let probeCache {
            munmap(UnsafeMutableRawPointer(mutating: probeCache), Self.probeCacheBytes)
        }
        if let lifecycleRing {
            munmap(UnsafeMutableRawPointer(mutating: lifecycleRing),
                   lifecycleCPUs * (Int(IUM_LIFECYCLE_SLOTS) + 1) * MemoryLayout<ium_lifecycle_slot>.stride)
        }
        for fd in maps.values { close(fd) }
        close(lockFD)
    }

    func mapFD(_ name: String) throws(GuardError) -> Int32 {
        guard let fd = maps[name] else { throw GuardError(.notLoaded, "the guard at \(pinDirectory) has no map \(name)") }
        return fd
    }

    // MARK: - Opening

    /// Whether a guard is pinned under `pinDirectory`.
    public static func isLoaded(pinDirectory: String = defaultPinDirectory) -> Bool {
        access(pinDirectory + "/" + statePin, F_OK) == 0
    }

    /// Becomes the owner of the guard pinned under `pinDirectory`, loading, attaching and
    /// pinning it first when none is there.
    /// - Parameters:
    ///   - pinDirectory: The bpffs directory of this guard.
    ///   - backend: The backend to use; nil picks `lsm` when the kernel allows it, else `kill`.
    ///     A pinned guard with another backend is refused.
    ///   - lifecycleEvents: Whether the guard emits fork/exec/exit records (when it loads one).
    /// - Throws: `.busy` when another process owns this guard, `.notRoot`, or a load failure.
    public static func open(pinDirectory: String = defaultPinDirectory, backend wanted: Backend? = nil,
                            lifecycleEvents: Bool = true) throws(GuardError) -> KernelGuard {
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
                : try load(pinDirectory: pinDirectory, lockFD: lockFD, backend: wanted, lifecycleEvents: lifecycleEvents)
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

    /// Opens every pinned map of the guard (every pin that is not a link or a program).
    private static func adopt(pinDirectory: String, lockFD: Int32) throws(GuardError) -> KernelGuard {
        var maps: [String: Int32] = [:]
        func fail(_ error: GuardError) -> GuardError {
            maps.values.forEach { close($0) }
            return error
        }
        let names: [String]
        do { names = try directoryEntries(pinDirectory) } catch { throw fail(error) }
        for name in names where !name.hasPrefix("link_") && !name.hasPrefix("prog_") {
            let fd = bpf_obj_get(pinDirectory + "/" + name)
            guard fd >= 0 else {
                let e = errno
                if e == EPERM || e == EACCES {
                    throw fail(GuardError(.sealed, "the guard at \(pinDirectory) is sealed: only the sealed iumd may open its maps (\(name))",
                                          errno: e, hint: "start the iumd that sealed it (its image, unchanged); the seal lasts until reboot"))
                }
                throw fail(GuardError(.notLoaded, "cannot open the pinned map \(pinDirectory)/\(name)", errno: e,
                                      hint: "the guard there is incomplete: unload it (iumd --unload) and start iumd again"))
            }
            maps[name] = fd
        }
        guard let settingsFD = maps[settingsPin] else {
            throw fail(GuardError(.notLoaded, "the guard at \(pinDirectory) has no settings map",
                                  hint: "it was pinned by another version of iumd: unload it (iumd --unload) and start iumd again"))
        }
        var zero: UInt32 = 0
        var settings = ium_settings()
        guard bpf_map_lookup_elem(settingsFD, &zero, &settings) == 0, let backend = Backend(abiValue: settings.backend) else {
            throw fail(GuardError(.mapFailed, "cannot read the guard's settings", errno: errno))
        }
        let reason = backend == .lsm ? "BPF LSM active; adopted the guard pinned at \(pinDirectory)"
            : BackendProbe.run().reason + "; adopted the kill guard pinned at \(pinDirectory)"
        return KernelGuard(pinDirectory: pinDirectory, lockFD: lockFD, backend: backend, reason: reason, maps: maps)
    }

    private static func load(pinDirectory: String, lockFD: Int32, backend wanted: Backend?,
                             lifecycleEvents: Bool) throws(GuardError) -> KernelGuard {
        Mounts.ensureTraceFS()
        let probe = BackendProbe.run()
        let order: [Backend]
        if let wanted { order = [wanted] } else { order = probe.lsmAvailable ? [.lsm, .kill] : [.kill] }
        var reason = probe.reason
        var lastError: GuardError?
        for backend in order {
            do {
                let maps = try loadObject(pinDirectory: pinDirectory, backend: backend, lifecycleEvents: lifecycleEvents)
                if backend == .lsm { reason = "BPF LSM active (\(probe.lsmList ?? "?"))" }
                return KernelGuard(pinDirectory: pinDirectory, lockFD: lockFD, backend: backend, reason: reason, maps: maps)
            } catch {
                lastError = error
                if backend == .lsm { reason = lsmRefusal(error) }
            }
        }
        throw lastError ?? GuardError(.loadFailed, "no backend could be loaded")
    }

    private static func lsmRefusal(_ error: GuardError) -> String {
        "the kernel refused the lsm programs: " + (error.errno.map { GuardError.errnoName($0) } ?? "error")
            + " (BPF trampolines unavailable, or a sealed guard refuses them); using the kill backend"
    }

    /// The backend this kernel accepts and why, found by loading the lsm programs into the
    /// kernel and freeing them at once (nothing is attached or pinned).
    public static func probeBackend() throws(GuardError) -> (backend: Backend, reason: String) {
        guard geteuid() == 0 else { throw GuardError(.notRoot, "probing the kernel needs root", hint: "run it as root (sudo)") }
        _ = LibBPF.setUp
        let probe = BackendProbe.run()
        guard probe.lsmAvailable else { return (.kill, probe.reason) }
        do {
            try withLoadedObject(backend: .lsm, lifecycleEvents: false) { _ in }
            return (.lsm, "BPF LSM active (\(probe.lsmList ?? "?"))")
        } catch {
            return (.kill, lsmRefusal(error))
        }
    }

    /// The settings of a new guard: the backend, lifecycle records, the probe PMUs' types.
    static func settings(backend: Backend, lifecycleEvents: Bool) -> ium_settings {
        func pmuType(_ name: String) -> UInt32 {
            (try? readSmallFile("/sys/bus/event_source/devices/\(name)/type")).flatMap { UInt32($0.trimmingTrailingNewlines) } ?? 0
        }
        return ium_settings(backend: backend.abiValue, lifecycle_events: lifecycleEvents ? 1 : 0,
                            uprobe_pmu: pmuType("uprobe"), kprobe_pmu: pmuType("kprobe"))
    }

    /// Opens the backend's embedded object, loads its programs (an lsm program whose hook this
    /// kernel lacks, such as file_truncate before 6.2, is left out), runs `body`, frees it.
    private static func withLoadedObject<T>(backend: Backend, lifecycleEvents: Bool,
                                            _ body: (OpaquePointer) throws(GuardError) -> T) throws(GuardError) -> T {
        libbpfMessages.withLock { $0.removeAll() }
        let settings = settings(backend: backend, lifecycleEvents: lifecycleEvents)
        guard let guardObject = ium_guard_object_open(settings.backend, settings.lifecycle_events, settings.uprobe_pmu,
                                                      settings.kprobe_pmu),
              let object = ium_guard_object_bpf(guardObject) else {
            throw GuardError(.loadFailed, "cannot open the \(backend) programs", errno: errno, hint: LibBPF.recentErrors())
        }
        defer { ium_guard_object_close(guardObject) }
        let vmlinux = btf__load_vmlinux_btf()
        defer { btf__free(vmlinux) }
        var program = bpf_object__next_program(object, nil)
        while let p = program {
            let section = String(cString: bpf_program__section_name(p))
            if section.hasPrefix("lsm/"), let vmlinux {
                let hook = "bpf_lsm_" + section.dropFirst(4)
                bpf_program__set_autoload(p, btf__find_by_name_kind(vmlinux, hook, 12 /* BTF_KIND_FUNC */) >= 0)
            }
            program = bpf_object__next_program(object, p)
        }
        try LibBPF.check(bpf_object__load(object), .loadFailed, "the kernel refused the \(backend) programs")
        return try body(object)
    }

    /// The pin name of a map of the object: its name, or `state`/`settings` for .bss/.rodata
    /// (nil for the other internal maps, which nothing reads).
    static func pinName(_ map: OpaquePointer) -> String? {
        let name = String(cString: bpf_map__name(map))
        guard bpf_map__is_internal(map) else { return name }
        if name.hasSuffix(".bss") { return statePin }
        if name.hasSuffix(".rodata") { return settingsPin }
        return nil
    }

    private static func loadObject(pinDirectory: String, backend: Backend, lifecycleEvents: Bool) throws(GuardError) -> [String: Int32] {
        try withLoadedObject(backend: backend, lifecycleEvents: lifecycleEvents) { (object) throws(GuardError) in
            // Attach everything before pinning anything, so a failure leaves no half guard.
            // The cgroup/sysctl program is attached to the root cgroup only when sealing.
            var links: [(String, OpaquePointer)] = []
            var sysctlProgram: OpaquePointer?
            defer { links.forEach { bpf_link__destroy($0.1) } }
            var program = bpf_object__next_program(object, nil)
            while let p = program {
                let name = String(cString: bpf_program__name(p))
                if String(cString: bpf_program__section_name(p)) == "cgroup/sysctl" {
                    sysctlProgram = p
                } else if bpf_program__autoload(p) {
                    guard let link = bpf_program__attach(p) else {
                        throw GuardError(.attachFailed, "cannot attach \(name)", errno: errno, hint: LibBPF.recentErrors())
                    }
                    links.append((name, link))
                }
                program = bpf_object__next_program(object, p)
            }
            var pinned: [String] = []
            do throws(GuardError) {
                var map = bpf_object__next_map(object, nil)
                while let m = map {
                    if let name = pinName(m) {
                        try LibBPF.check(bpf_map__pin(m, pinDirectory + "/" + name), .pinFailed, "cannot pin \(name)")
                        pinned.append(name)
                    }
                    map = bpf_object__next_map(object, m)
                }
                for (name, link) in links {
                    try LibBPF.check(bpf_link__pin(link, pinDirectory + "/link_" + name), .pinFailed, "cannot pin \(name)")
                }
                if let sysctlProgram {
                    try LibBPF.check(bpf_program__pin(sysctlProgram, pinDirectory + "/" + sysctlProgramPin), .pinFailed,
                                     "cannot pin the sysctl program")
                }
            } catch {
                unpinAll(pinDirectory)
                throw error
            }
            // Open the maps through their pins: the fds outlive the object.
            var maps: [String: Int32] = [:]
            for name in pinned {
                let fd = bpf_obj_get(pinDirectory + "/" + name)
                guard fd >= 0 else {
                    let e = errno
                    maps.values.forEach { close($0) }
                    unpinAll(pinDirectory)
                    throw GuardError(.pinFailed, "cannot open the pinned map \(name)", errno: e)
                }
                maps[name] = fd
            }
            return maps
        }
    }

    /// Removes the pinned guard: links detach and, once no process holds them, programs and
    /// maps (with every tag) are freed. Enforcement stops. Refused while the guard is sealed.
    public func unload() throws(GuardError) {
        if try state().sealed {
            throw GuardError(.sealed, "the guard at \(pinDirectory) is sealed: it cannot be unloaded until reboot")
        }
        Self.unpinAll(pinDirectory)
    }

    private static func unpinAll(_ pinDirectory: String) {
        for name in (try? directoryEntries(pinDirectory)) ?? [] { unlink(pinDirectory + "/" + name) }
        rmdir(pinDirectory)
    }

    /// The names in a directory; one that cannot be opened or read to its end is an error,
    /// never a shorter list (the seal marks every pin it lists).
    static func directoryEntries(_ path: String) throws(GuardError) -> [String] {
        do { return try Files.entryNames(path) } catch {
            throw GuardError(.io, "cannot list \(path)", errno: error.rawValue)
        }
    }

    // MARK: - Counters and records

    /// The guard's counters, summed over CPUs.
    public func counters() -> GuardCounters {
        let cpus = Int(max(libbpf_num_possible_cpus(), 1))
        var values = [UInt64](repeating: 0, count: Int(IUM_COUNTER_MAX.rawValue))
        var buffer = [UInt64](repeating: 0, count: cpus)
        if let fd = maps["ium_counters"] {
            for index in 0..<values.count {
                var key = UInt32(index)
                if bpf_map_lookup_elem(fd, &key, &buffer) == 0 { values[index] = buffer.reduce(0, &+) }
            }
        }
        return GuardCounters(
            denials: values[Int(IUM_COUNTER_DENIALS.rawValue)], kills: values[Int(IUM_COUNTER_KILLS.rawValue)],
            eventsDropped: values[Int(IUM_COUNTER_EVENTS_DROPPED.rawValue)],
            tagsInherited: values[Int(IUM_COUNTER_TAGS_INHERITED.rawValue)],
            resumes: values[Int(IUM_COUNTER_RESUMES.rawValue)],
            recordsWritten: values[Int(IUM_COUNTER_RECORDS.rawValue)] &+ lifecycleRecordsWritten())
    }

    /// Lifecycle records written to the lifecycle ring: the sum of its per-CPU heads.
    func lifecycleRecordsWritten() -> UInt64 {
        guard let lifecycleRing else { return 0 }
        return (0..<lifecycleCPUs).reduce(0) { $0 &+ ium_lifecycle_head(lifecycleRing, UInt32($1)) }
    }

    /// Opens a reader of the guard's records (the owner's only).
    public func events() throws(GuardError) -> GuardEventReader {
        try GuardEventReader(owner: self, eventsFD: try mapFD("ium_events"))
    }
}

/// The guard's counters.
public struct GuardCounters: Hashable, Sendable {
    /// Accesses refused.
    public var denials: UInt64
    /// Callers killed (kill backend).
    public var kills: UInt64
    /// Records lost because the ring buffer was full.
    public var eventsDropped: UInt64
    /// Tags copied to new threads and processes.
    public var tagsInherited: UInt64
    /// Targets resumed after a killed PTRACE_ATTACH.
    public var resumes: UInt64
    /// Records written to the ring buffer (records produced = this + ``eventsDropped``).
    public var recordsWritten: UInt64
    /// All zero (before a guard counted anything).
    public static let zero = GuardCounters(denials: 0, kills: 0, eventsDropped: 0, tagsInherited: 0, resumes: 0, recordsWritten: 0)
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
