// SPDX-License-Identifier: Apache-2.0

public import NTModel

/// How each PROCESS_EXTENDED_BASIC_INFORMATION Flags bit is computed for a Linux process
/// (DESIGN.md §3, NT-SEMANTICS.md §4). The README's "Flags on Linux" table says the same.
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
        var flags: ProcessFlags = []
        if record.isCrossSessionCreate { flags.insert(.isCrossSessionCreate) }
        if isProtected(facts) { flags.insert(.isProtectedProcess) }
        if facts.isELF32 == true { flags.insert(.isWow64Process) }
        if isDeleting(facts.stat) { flags.insert(.isProcessDeleting) }
        if isFrozen(facts) { flags.insert(.isFrozen) }
        if isBackground(facts) { flags.insert(.isBackground) }
        if isStronglyNamed(facts) { flags.insert(.isStronglyNamed) }
        if facts.taggedSecure { flags.insert(.isSecureProcess) }
        if facts.status.nsPids.count > 1 { flags.insert(.isSubsystemProcess) }
        if exited {
            flags.insert(.isProcessDeleting)
            flags.remove(.isFrozen)
        }
        return flags
    }

    /// Bit 0, IsProtectedProcess: the process is not dumpable (`PR_SET_DUMPABLE` 0, or a
    /// set-id exec). The kernel provider's answer wins; otherwise `/proc` shows it for a
    /// process whose effective uid is not 0: the kernel makes the files of a non-dumpable
    /// process owned by root (`task_dump_owner`). For euid 0 `/proc` cannot tell (the owner is
    /// root either way) and the bit stays 0 until the kernel guard supplies the fact.
    public static func isProtected(_ facts: LinuxProcessFacts) -> Bool {
        if let dumpable = facts.kernelDumpable { return !dumpable }
        guard facts.stat.flags & ProcStat.pfKthread == 0, let euid = facts.status.euid, euid != 0,
              let owner = facts.statusOwnerUID else { return false }
        return owner != euid
    }

    /// Bit 2, IsProcessDeleting: `PF_EXITING`, or state Z (zombie) or X (dead).
    public static func isDeleting(_ stat: ProcStat) -> Bool {
        stat.flags & ProcStat.pfExiting != 0 || stat.state == "Z" || stat.state == "X"
    }

    /// Bit 4, IsFrozen: the cgroup v2 reports `frozen 1`, or the process is stopped (state T).
    public static func isFrozen(_ facts: LinuxProcessFacts) -> Bool {
        facts.cgroupFrozen || facts.stat.state == "T"
    }

    /// Bit 5, IsBackground: policy SCHED_BATCH (3) or SCHED_IDLE (5), or I/O class IDLE (3).
    public static func isBackground(_ facts: LinuxProcessFacts) -> Bool {
        facts.stat.policy == 3 || facts.stat.policy == 5 || facts.ioPriorityClass == 3
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
        return cgroup.split(separator: "/").contains { $0.hasPrefix("app-flatpak-") || $0.hasPrefix("snap.") }
    }

    /// The NT base priority for a Linux scheduling policy and nice value: realtime policies
    /// 24 (REALTIME), SCHED_IDLE 4 (IDLE), otherwise by nice: ≤ -15 → 13 (HIGH),
    /// < 0 → 10 (ABOVE_NORMAL), 0 → 8 (NORMAL), 1…9 → 6 (BELOW_NORMAL), ≥ 10 → 4 (IDLE).
    public static func basePriority(policy: UInt32, nice: Int32) -> Int32 {
        switch policy {
        case 1, 2, 6: return 24
        case 5: return 4
        default: break
        }
        switch nice {
        case ...(-15): return 13
        case ..<0: return 10
        case 0: return 8
        case 1...9: return 6
        default: return 4
        }
    }
}
