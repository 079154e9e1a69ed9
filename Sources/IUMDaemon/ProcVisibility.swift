// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import ProcessTable
import LinuxEdge

/// The `hidepid` and `gid` options of iumd's `/proc`, as the kernel applies them
/// (`has_pid_permissions`, fs/proc/base.c): with `hidepid=1` (noaccess), `2` (invisible) or
/// `4` (ptraceable) a user sees another user's process only when it passes the ptrace read
/// check, or (1 and 2) belongs to the `gid=` group. Re-read at most once a second, so a
/// remount takes effect without restarting iumd.
final class ProcVisibility: Sendable {
    struct Options: Hashable, Sendable {
        /// 0 off, 1 noaccess, 2 invisible, 4 ptraceable.
        var hidepid: Int = 0
        /// The `gid=` group that sees everything.
        var gid: UInt32?
    }

    private let state = Locked<(options: Options, read: UInt64)>((Options(), 0))
    let mountinfo: String

    init(mountinfo: String = "/proc/self/mountinfo") { self.mountinfo = mountinfo }

    /// The options now. When mountinfo cannot be read, the last options read stand, and
    /// before any were read the strictest (hidepid=4: only what the caller may read): a read
    /// failure never shows everything to everyone.
    var options: Options {
        let now = monotonicMilliseconds()
        if let fresh = state.withLock({ now &- $0.read < 1000 && $0.read != 0 ? $0.options : nil }) { return fresh }
        guard let text = try? ProcFS.text(mountinfo) else {
            return state.withLock { $0.read != 0 ? $0.options : Options(hidepid: 4, gid: nil) }
        }
        let options = Self.parse(text)
        state.withLock { $0 = (options, now) }
        return options
    }

    /// Whether a caller with these groups sees a process it may (or may not) read.
    func visible(mayRead: Bool, callerGroups: Set<UInt32>) -> Bool {
        let o = options
        switch o.hidepid {
        case 0: return true
        case 4: return mayRead
        default: return mayRead || o.gid.map(callerGroups.contains) == true
        }
    }

    /// The options of the procfs mounted on /proc, from mountinfo
    /// (`… /proc … - proc proc rw,hidepid=invisible,gid=4`): the last such line, the mount on
    /// top when several are stacked there.
    static func parse(_ text: String) -> Options {
        var found = Options()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == "/proc", let dash = fields.firstIndex(of: "-"),
                  dash + 3 < fields.count, fields[dash + 1] == "proc" else { continue }
            var options = Options()
            for option in fields[dash + 3].split(separator: ",") {
                let kv = option.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "hidepid":
                    options.hidepid = switch kv[1] {
                    case "1", "noaccess": 1
                    case "2", "invisible": 2
                    case "4", "ptraceable": 4
                    default: 0
                    }
                case "gid": options.gid = UInt32(kv[1])
                default: break
                }
            }
            found = options
        }
        return found
    }
}
