// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge
public import GuardABI

/// What the kernel knows that `/proc` does not show: supplied by the kernel guard when it is
/// loaded (KernelGuard reads its task-storage tag store and the task's mm flags).
public protocol KernelFactsProvider: Sendable {
    /// Whether the process is tagged secure in the kernel tag store. A store that cannot be
    /// read is an error (``ProcessTableError/Code/io``), never "not secure".
    func isTaggedSecure(pid: Int32) throws(ProcessTableError) -> Bool
    /// Whether the process is dumpable (`PR_GET_DUMPABLE` != 0), or nil when unknown.
    func isDumpable(pid: Int32) -> Bool?
    /// What the kernel knows of the process now (guard_abi.h: task views), or nil when no
    /// guard answers.
    func taskView(pid: Int32) -> ium_view?
}

/// The provider used when no kernel guard is loaded: nothing is tagged secure (there is no
/// tag store to read) and dumpability comes from `/proc` alone.
public struct NoKernelFacts: KernelFactsProvider {
    /// Creates the provider.
    public init() {}
    /// Always false: without the guard there is no tag store.
    public func isTaggedSecure(pid: Int32) throws(ProcessTableError) -> Bool { false }
    /// Always nil.
    public func isDumpable(pid: Int32) -> Bool? { nil }
}

extension KernelFactsProvider {
    /// No task views: the class 0 facts come from `/proc`.
    public func taskView(pid: Int32) -> ium_view? { nil }
}

/// Everything ium reads about one Linux process at one moment, from `/proc` and syscalls.
public struct LinuxProcessFacts: Hashable, Sendable {
    /// `/proc/PID/stat`.
    public var stat: ProcStat
    /// `/proc/PID/status`.
    public var status: ProcStatus
    /// The owner of `/proc/PID/status`: root when the process is not dumpable (task_dump_owner).
    public var statusOwnerUID: UInt32?
    /// The process's cgroup v2 path (`0::` line of `/proc/PID/cgroup`).
    public var cgroupPath: String?
    /// Whether that cgroup reports `frozen 1` in `cgroup.events`.
    public var cgroupFrozen: Bool
    /// The I/O priority class (0 none, 1 realtime, 2 best effort, 3 idle), nil if unreadable.
    public var ioPriorityClass: Int32?
    /// The LSM confinement label (`/proc/PID/attr/current`), nil when no LSM provides one.
    public var securityLabel: String?
    /// Whether `/proc/PID/exe` is a 32-bit ELF; nil when it cannot be read (kernel thread, gone).
    public var isELF32: Bool?
    /// Dumpability from the kernel, when a provider knows it.
    public var kernelDumpable: Bool?
    /// Whether the kernel tag store marks the process secure.
    public var taggedSecure: Bool
    /// The guard's view of the process, taken before the `/proc` reads (so a view's exec_id
    /// and cgroup_id are never newer than the label and cgroup read after it). With a view,
    /// the class 0 facts come from it (task_view.h), not from the text above.
    public var kernelView: ium_view?

    /// The process's identity.
    public var identity: ProcessIdentity { ProcessIdentity(pid: stat.pid, startTime: stat.startTime) }

    /// Takes the kernel's view of now in place of the last one, without reading `/proc`, when
    /// the view shows nothing that would change the rest: the same process, no exec, the same
    /// cgroup, the same user ids, not a zombie. False, and the facts unchanged, when a full
    /// read is needed (no view before, or any of those changed).
    ///
    /// What a view makes stale in the `/proc` text (nice, policy, state in `stat`, …) is never
    /// read where a view exists: the class 0 mapping takes them from the view (task_view.h).
    /// - Parameter view: The guard's view of the process, just taken.
    public mutating func takeView(_ view: ium_view) -> Bool {
        guard let old = kernelView, view.start_ticks == stat.startTime,
              view.flags & UInt32(IUM_VIEW_ZOMBIE) == 0, view.exec_id == old.exec_id, view.cgroup_id == old.cgroup_id,
              view.uid == old.uid, view.euid == old.euid, view.suid == old.suid
        else { return false }
        kernelView = view
        taggedSecure = view.flags & UInt32(IUM_VIEW_SECURE) != 0
        kernelDumpable = view.flags & UInt32(IUM_VIEW_HAS_MM) != 0 ? view.dumpable == 1 : nil
        return true
    }
}

/// A process's identity: its pid and its start time (clock ticks after boot). A recycled pid
/// gets a new start time, so an identity never names two processes.
public struct ProcessIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The process id (thread-group id).
    public var pid: Int32
    /// `/proc/PID/stat` field 22.
    public var startTime: UInt64
    /// Creates an identity.
    /// - Parameters:
    ///   - pid: The process id.
    ///   - startTime: The start time in clock ticks after boot.
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }
    /// `4242@123456`.
    public var description: String { "\(pid)@\(startTime)" }
}

/// Reads ``LinuxProcessFacts`` from a `/proc` tree.
public struct ProcReader: Sendable {
    /// The procfs mount, normally `/proc`.
    public var procRoot: String
    /// The cgroup v2 mount, found in `/proc/self/mountinfo`; nil when there is none.
    public var cgroup2Root: String?
    /// The source of kernel-only facts.
    public var kernel: any KernelFactsProvider
    /// cgroup v2 paths by cgroup id (ids are never reused while the machine runs).
    let cgroupPaths = CgroupPaths()

    /// Creates a reader of the system's `/proc`.
    /// - Parameter kernel: The kernel facts provider (the guard's, or ``NoKernelFacts``).
    public init(kernel: any KernelFactsProvider = NoKernelFacts()) {
        self.procRoot = "/proc"
        self.cgroup2Root = Self.findCgroup2Mount()
        self.kernel = kernel
    }

    /// `/proc/PID/stat`.
    /// - Parameter pid: The process id.
    public func stat(_ pid: Int32) throws(ProcessTableError) -> ProcStat {
        let path = "\(procRoot)/\(pid)/stat"
        guard let stat = ProcStat(bytes: try ProcFS.read(path)) else {
            throw ProcessTableError(.malformed, path: path)
        }
        return stat
    }

    /// `/proc/PID/status`.
    /// - Parameter pid: The process id.
    public func status(_ pid: Int32) throws(ProcessTableError) -> ProcStatus {
        ProcStatus(bytes: try ProcFS.read("\(procRoot)/\(pid)/status"))
    }

    /// Every fact about a process. Facts the kernel hides from the caller are left unknown;
    /// only a process that is gone is an error (``ProcessTableError/Code/noSuchProcess``).
    /// - Parameter pid: The process id.
    public func facts(_ pid: Int32) throws(ProcessTableError) -> LinuxProcessFacts {
        let view = kernel.taskView(pid: pid)
        let stat = try stat(pid)
        let status = try status(pid)
        let base = "\(procRoot)/\(pid)"
        guard let view, view.start_ticks == stat.startTime else {
            let cgroup = try? cgroupPath(pid)
            return LinuxProcessFacts(
                stat: stat,
                status: status,
                statusOwnerUID: try? ProcFS.ownerUID("\(base)/status"),
                cgroupPath: cgroup,
                cgroupFrozen: cgroup.map(isFrozen(cgroup:)) ?? false,
                ioPriorityClass: Processes.ioPriorityClass(pid),
                securityLabel: securityLabel(pid),
                isELF32: stat.flags & ProcStat.pfKthread != 0 ? nil : elfIs32Bit("\(base)/exe"),
                kernelDumpable: kernel.isDumpable(pid: pid),
                taggedSecure: try kernel.isTaggedSecure(pid: pid),
                kernelView: nil
            )
        }
        // With the kernel's view, read only what it does not have: the label and the cgroup's
        // path (known by its id once read).
        let hasMM = view.flags & UInt32(IUM_VIEW_HAS_MM) != 0
        return LinuxProcessFacts(
            stat: stat,
            status: status,
            statusOwnerUID: nil,
            cgroupPath: cgroupPaths.path(id: view.cgroup_id, read: { try? cgroupPath(pid) },
                                         stillThere: { kernel.taskView(pid: pid)?.cgroup_id == view.cgroup_id }),
            cgroupFrozen: view.flags & UInt32(IUM_VIEW_FROZEN) != 0,
            ioPriorityClass: view.flags & UInt32(IUM_VIEW_IDLE_IO) != 0 ? 3 : nil,
            securityLabel: securityLabel(pid),
            isELF32: hasMM ? view.flags & UInt32(IUM_VIEW_ADDR32) != 0 : nil,
            kernelDumpable: hasMM ? view.dumpable == 1 : nil,
            taggedSecure: view.flags & UInt32(IUM_VIEW_SECURE) != 0,
            kernelView: view
        )
    }

    /// The cgroup v2 path of a process (`/` for the root cgroup).
    /// - Parameter pid: The process id.
    public func cgroupPath(_ pid: Int32) throws(ProcessTableError) -> String? {
        for line in try ProcFS.text("\(procRoot)/\(pid)/cgroup").split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    func isFrozen(cgroup: String) -> Bool {
        guard let root = cgroup2Root, cgroup != "/",
              let events = try? ProcFS.text(root + cgroup + "/cgroup.events") else { return false }
        return events.split(separator: "\n").contains("frozen 1")
    }

    func securityLabel(_ pid: Int32) -> String? {
        guard let raw = try? ProcFS.text("\(procRoot)/\(pid)/attr/current") else { return nil }
        let label = String(raw.trimmingSpaces)
        return label.isEmpty ? nil : label
    }

    /// The image path (`/proc/PID/exe`), or the bracketed comm of a kernel thread.
    /// - Parameter pid: The process id.
    public func imagePath(_ pid: Int32) -> String? {
        try? ProcFS.readlink("\(procRoot)/\(pid)/exe")
    }

    /// The thread ids of a process (`/proc/PID/task`). A process that is gone is
    /// ``ProcessTableError/Code/noSuchProcess``; a directory that cannot be listed is an error.
    /// - Parameter pid: The process id.
    public func threads(_ pid: Int32) throws(ProcessTableError) -> [Int32] {
        try ProcFS.numericEntries("\(procRoot)/\(pid)/task")
    }

    /// The arguments of `/proc/PID/cmdline`.
    /// - Parameter pid: The process id.
    public func arguments(_ pid: Int32) -> [String] {
        guard let bytes = try? ProcFS.read("\(procRoot)/\(pid)/cmdline") else { return [] }
        var args = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if args.last == "" { args.removeLast() }
        return args
    }

    /// Whether the ELF file is ELFCLASS32 (i386, or x32: EM_X86_64 with ELFCLASS32).
    func elfIs32Bit(_ path: String) -> Bool? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var ident = [UInt8](repeating: 0, count: 5)
        guard pread(fd, &ident, 5, 0) == 5, ident[0..<4] == [0x7F, 0x45, 0x4C, 0x46] else { return nil }
        return ident[4] == 1 // EI_CLASS: 1 ELFCLASS32, 2 ELFCLASS64
    }

    /// The mount point of the cgroup v2 hierarchy, from `/proc/self/mountinfo`.
    public static func findCgroup2Mount() -> String? {
        guard let text = try? ProcFS.text("/proc/self/mountinfo") else { return nil }
        for line in text.split(separator: "\n") {
            // "... mountpoint options - fstype source superoptions"
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 1 < parts.count, parts[dash + 1] == "cgroup2",
                  parts.count > 4 else { continue }
            return String(parts[4])
        }
        return nil
    }
}

/// Views compare by their bytes (a C struct of integers: no padding is left uninitialised by
/// the guard, and the reader copies whole records).
extension ium_view: @retroactive Equatable, @retroactive Hashable {
    public static func == (a: ium_view, b: ium_view) -> Bool {
        sameBytes(a, b)
    }
    public func hash(into hasher: inout Hasher) {
        hashBytes(of: self, into: &hasher)
    }
}

/// cgroup v2 paths by cgroup id, at most a few thousand (then forgotten and read again).
final class CgroupPaths: Sendable {
    private let paths = Locked<[UInt64: String]>([:])

    /// The path of cgroup `id`, read with `read` the first time; kept only when `stillThere`
    /// says the process did not move while it was read.
    func path(id: UInt64, read: () -> String?, stillThere: () -> Bool) -> String? {
        if id != 0, let known = paths.withLock({ $0[id] }) { return known }
        let path = read()
        if id != 0, let path, stillThere() {
            paths.withLock { p in
                if p.count >= 4096 { p.removeAll() }
                p[id] = path
            }
        }
        return path
    }
}
