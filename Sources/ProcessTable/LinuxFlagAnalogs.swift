// SPDX-License-Identifier: Apache-2.0

public import NTModel
public import GuardABI

/// How each PROCESS_EXTENDED_BASIC_INFORMATION Flags bit and BasePriority are computed for a
/// Linux process. The mapping itself is `ium_view_basic_information` (task_view.h), the one
/// libium's and IUMClient's in-client query use too: from the guard's task view when there is
/// one, else from a view built here out of `/proc`. The README's "Flags on Linux" table says
/// the same.
public enum LinuxFlagAnalogs {
    /// The Flags of a process from its facts and its record.
    ///
    /// After the process has exited, its object keeps the facts last read (as an NT process
    /// object keeps its properties until it is deleted): IsProcessDeleting is set and IsFrozen
    /// cleared, the rest describe the process as it was.
    /// - Parameters:
    ///   - facts: What was last read from `/proc` and the kernel.
    ///   - record: What was captured when the process was created.
    ///   - exited: Whether the process has exited.
    public static func flags(facts: LinuxProcessFacts, record: ProcessRecord, exited: Bool) -> ProcessFlags {
        flags(of: basicInformation(facts: facts, record: record), exited: exited)
    }

    /// The Flags of the mapping's answer `basic`, for a process that has `exited` or not.
    static func flags(of basic: ium_basic_information, exited: Bool) -> ProcessFlags {
        var flags = ProcessFlags(rawValue: basic.flags)
        if exited {
            flags.insert(.isProcessDeleting)
            flags.remove(.isFrozen)
        }
        return flags
    }

    /// The mapping's whole answer for a running process (PebBaseAddress as the view allows).
    public static func basicInformation(facts: LinuxProcessFacts, record: ProcessRecord) -> ium_basic_information {
        var view = facts.kernelView ?? procView(facts)
        var context = ium_view_context(creator_pid: UInt64(UInt32(bitPattern: max(record.creatorPid, 0))),
                                       table_flags: tableFlags(facts: facts, record: record).rawValue, reserved: 0)
        return ium_view_basic_information(&view, &context)
    }

    /// The bits iumd's table keeps for the in-client query: IsCrossSessionCreate and
    /// IsStronglyNamed (valid while the view's exec_id and cgroup_id stay the same).
    public static func tableFlags(facts: LinuxProcessFacts, record: ProcessRecord) -> ProcessFlags {
        var flags: ProcessFlags = []
        if record.isCrossSessionCreate { flags.insert(.isCrossSessionCreate) }
        if isStronglyNamed(facts) { flags.insert(.isStronglyNamed) }
        return flags
    }

    /// A view out of `/proc` (no guard): what the kernel's view would say, as far as `/proc`
    /// shows it.
    static func procView(_ facts: LinuxProcessFacts) -> ium_view {
        var view = ium_view()
        view.pid = UInt32(bitPattern: facts.stat.pid)
        view.start_ticks = facts.stat.startTime
        view.policy = facts.stat.policy
        view.nice = facts.stat.nice
        view.cpus = facts.status.cpusAllowed
        view.start_stack = facts.stat.startStack
        var bits = UInt32(IUM_VIEW_READABLE)
        let kthread = facts.stat.flags & ProcStat.pfKthread != 0
        if kthread { bits |= UInt32(IUM_VIEW_KTHREAD) } else { bits |= UInt32(IUM_VIEW_HAS_MM) }
        view.dumpable = isProtected(facts) ? 0 : 1
        if facts.taggedSecure { bits |= UInt32(IUM_VIEW_SECURE) }
        if facts.stat.flags & ProcStat.pfExiting != 0 { bits |= UInt32(IUM_VIEW_EXITING) }
        if facts.stat.state == "Z" || facts.stat.state == "X" { bits |= UInt32(IUM_VIEW_ZOMBIE) }
        if facts.stat.state == "T" { bits |= UInt32(IUM_VIEW_STOPPED) }
        if facts.cgroupFrozen { bits |= UInt32(IUM_VIEW_FROZEN) }
        if facts.ioPriorityClass == 3 { bits |= UInt32(IUM_VIEW_IDLE_IO) }
        if facts.status.nsPids.count > 1 { bits |= UInt32(IUM_VIEW_CHILD_PIDNS) }
        if facts.isELF32 == true { bits |= UInt32(IUM_VIEW_ADDR32) }
        view.flags = bits
        return view
    }

    /// IsProtectedProcess: not dumpable by its owner. From the kernel when known; else from
    /// `/proc/PID/status` ownership (task_dump_owner makes it root's when not dumpable), which
    /// cannot tell for euid 0.
    public static func isProtected(_ facts: LinuxProcessFacts) -> Bool {
        if let dumpable = facts.kernelDumpable { return !dumpable }
        guard facts.stat.flags & ProcStat.pfKthread == 0, let euid = facts.status.euid, euid != 0,
              let owner = facts.statusOwnerUID else { return false }
        return owner != euid
    }

    /// Bit 6, IsStronglyNamed: an application identity. A confinement label other than
    /// `unconfined` (AppArmor `name (enforce)`, an SELinux type other than `unconfined_t`),
    /// or a flatpak (`app-flatpak-…`) or snap (`snap.…`) cgroup.
    public static func isStronglyNamed(_ facts: LinuxProcessFacts) -> Bool {
        if let label = facts.securityLabel, label != "unconfined", !label.hasPrefix("unconfined ") {
            let parts = label.split(separator: ":")
            if parts.count < 3 || !parts[2].hasPrefix("unconfined") { return true }
        }
        guard let cgroup = facts.cgroupPath else { return false }
        // Asked on every class 0 query iumd answers: a scan of the path's bytes, no allocation.
        var path = cgroup
        return path.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
                let component = bytes[start..<end]
                if component.starts(with: "app-flatpak-".utf8) || component.starts(with: "snap.".utf8) { return true }
                start = end + 1
            }
            return false
        }
    }
}
