// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small, allocation-light readers of `/proc` and `/sys` files.
///
/// Every reader maps ENOENT and ESRCH to ``ProcessTableError/Code/noSuchProcess``: a process
/// that exits while it is read is normal, not an error.
public enum ProcFS {
    /// Reads a whole (small) file.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(ProcessTableError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error(path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path)
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Reads a file as UTF-8 text.
    public static func text(_ path: String) throws(ProcessTableError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// The target of a symbolic link.
    public static func readlink(_ path: String) throws(ProcessTableError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw error(path) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The owner uid of a path (not following a final symlink).
    static func ownerUID(_ path: String) throws(ProcessTableError) -> UInt32 {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw error(path) }
        return st.st_uid
    }

    /// The error for the current errno.
    static func error(_ path: String) -> ProcessTableError {
        let e = errno
        switch e {
        case ENOENT, ESRCH: return ProcessTableError(.noSuchProcess, path: path, errno: e)
        case EACCES, EPERM: return ProcessTableError(.permissionDenied, path: path, errno: e)
        default: return ProcessTableError(.io, path: path, errno: e)
        }
    }

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/PID/stat` times.
    static let clockTicksPerSecond: UInt64 = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
}

/// The fields of `/proc/PID/stat` that ium uses (proc(5) numbering in comments).
public struct ProcStat: Hashable, Sendable {
    /// (1) pid.
    public var pid: Int32
    /// (2) comm, without the parentheses.
    public var comm: String
    /// (3) state: R, S, D, T, t, Z, X, I, …
    public var state: Character
    /// (4) ppid: the current parent (after any reparenting).
    public var ppid: Int32
    /// (6) session id.
    public var session: Int32
    /// (9) the kernel's PF_* task flags.
    public var flags: UInt32
    /// (14) user time, clock ticks.
    public var utime: UInt64
    /// (15) system time, clock ticks.
    public var stime: UInt64
    /// (19) nice value.
    public var nice: Int32
    /// (22) start time after boot, clock ticks: with the pid, the process's identity.
    public var startTime: UInt64
    /// (28) start of the initial stack; 0 when the reader may not see it.
    public var startStack: UInt64
    /// (41) scheduling policy (SCHED_*).
    public var policy: UInt32
    /// (52) exit status in waitpid(2) form; nil when the kernel hides it or it is absent.
    public var exitCode: Int32?

    /// `PF_EXITING`: the task is exiting.
    public static let pfExiting: UInt32 = 0x4
    /// `PF_KTHREAD`: a kernel thread.
    public static let pfKthread: UInt32 = 0x0020_0000

    /// Parses the text of `/proc/PID/stat`.
    /// - Parameter text: The file's contents.
    public init?(parsing text: String) {
        // comm may hold spaces and parentheses: it ends at the last ')'.
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int32(text[..<open].trimmingSpaces) else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field (3).
        func field(_ n: Int) -> Substring? { n - 3 < fields.count ? fields[n - 3] : nil }
        guard let state = field(3)?.first, let ppid = field(4).flatMap({ Int32($0) }),
              let session = field(6).flatMap({ Int32($0) }), let flags = field(9).flatMap({ UInt32($0) }),
              let utime = field(14).flatMap({ UInt64($0) }), let stime = field(15).flatMap({ UInt64($0) }),
              let nice = field(19).flatMap({ Int32($0) }), let start = field(22).flatMap({ UInt64($0) }),
              let policy = field(41).flatMap({ UInt32($0) })
        else { return nil }
        self.pid = pid
        self.comm = String(text[text.index(after: open)..<close])
        self.state = state
        self.ppid = ppid
        self.session = session
        self.flags = flags
        self.utime = utime
        self.stime = stime
        self.nice = nice
        self.startTime = start
        self.startStack = field(28).flatMap { UInt64($0) } ?? 0
        self.policy = policy
        self.exitCode = field(52).flatMap { Int32($0.trimmingSpaces) }
    }
}

/// The fields of `/proc/PID/status` that ium uses.
public struct ProcStatus: Hashable, Sendable {
    /// Real, effective, saved and filesystem uids.
    public var uids: [UInt32] = []
    /// Real, effective, saved and filesystem gids.
    public var gids: [UInt32] = []
    /// Supplementary group ids.
    public var groups: [UInt32] = []
    /// The tracer's pid, 0 when not traced.
    public var tracerPid: Int32 = 0
    /// The process's pid in each PID namespace from the reader's down to its own.
    public var nsPids: [Int32] = []
    /// The first 64 CPUs of `Cpus_allowed`.
    public var cpusAllowed: UInt64 = 0

    /// Parses the text of `/proc/PID/status`.
    /// - Parameter text: The file's contents.
    public init(parsing text: String) {
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...]
            switch key {
            case "Uid": uids = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
            case "Gid": gids = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
            case "Groups": groups = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
            case "TracerPid": tracerPid = Int32(value.trimmingSpaces) ?? 0
            case "NSpid": nsPids = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
            case "Cpus_allowed":
                // Comma-separated 32-bit groups, most significant first.
                let groups = value.trimmingSpaces.split(separator: ",")
                var mask: UInt64 = 0
                for (i, group) in groups.reversed().prefix(2).enumerated() {
                    mask |= (UInt64(group, radix: 16) ?? 0) << (32 * UInt64(i))
                }
                cpusAllowed = mask
            default: continue
            }
        }
    }

    /// The effective uid.
    public var euid: UInt32? { uids.count > 1 ? uids[1] : nil }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let s = self[...]
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\0" }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) })
        else { return Substring() }
        return Substring(s[first...last])
    }
}
