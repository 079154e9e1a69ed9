// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LinuxEdge
import SystemPackage

/// Small, allocation-light readers of `/proc` and `/sys` files.
///
/// Every reader maps ENOENT and ESRCH to ``ProcessTableError/Code/noSuchProcess``: a process
/// that exits while it is read is normal, not an error.
public enum ProcFS {
    /// Reads a whole (small) file.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(ProcessTableError) -> [UInt8] {
        do { return try Files.read(path, limit: limit) } catch { throw Self.error(path, error) }
    }

    /// Reads a file as UTF-8 text.
    public static func text(_ path: String) throws(ProcessTableError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// The target of a symbolic link.
    public static func readlink(_ path: String) throws(ProcessTableError) -> String {
        do { return try Files.readLink(path) } catch { throw Self.error(path, error) }
    }

    /// The names of a directory that are numbers (pids under `/proc`, tids under `task`). A
    /// directory that cannot be opened or read to its end is an error, never a short list.
    public static func numericEntries(_ path: String) throws(ProcessTableError) -> [Int32] {
        do { return try Files.numericEntries(path) } catch { throw Self.error(path, error) }
    }

    /// The owner uid of a path (not following a final symlink).
    static func ownerUID(_ path: String) throws(ProcessTableError) -> UInt32 {
        do { return try Files.ownerUID(path) } catch { throw Self.error(path, error) }
    }

    /// The error for a failed call on `path`.
    static func error(_ path: String, _ failure: Errno) -> ProcessTableError {
        let e = failure.rawValue
        switch e {
        case ENOENT, ESRCH: return ProcessTableError(.noSuchProcess, path: path, errno: e)
        case EACCES, EPERM: return ProcessTableError(.permissionDenied, path: path, errno: e)
        default: return ProcessTableError(.io, path: path, errno: e)
        }
    }

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/PID/stat` times.
    public static let clockTicksPerSecond: UInt64 = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
    /// Nanoseconds per clock tick: a start time in nanoseconds since boot (the guard's) over
    /// this is the start time in ticks (`/proc/PID/stat` field 22).
    public static let nanosecondsPerTick: UInt64 = 1_000_000_000 / clockTicksPerSecond
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
        // Parsed as bytes (the text is ASCII but for comm): String.split over Characters made
        // this the daemon's hottest code. comm may hold spaces and parentheses: it ends at the
        // last ')'.
        guard let parsed = ProcStat(bytes: Array(text.utf8)) else { return nil }
        self = parsed
    }

    init?<C: RandomAccessCollection>(bytes b: C) where C.Element == UInt8, C.Index == Int {
        guard let open = b.firstIndex(of: UInt8(ascii: "(")), let close = b.lastIndex(of: UInt8(ascii: ")")),
              open < close, let pid = ProcBytes.integer(b, b.startIndex, open).map({ Int32(truncatingIfNeeded: $0) })
        else { return nil }
        // Field n (n >= 3) starts after n - 2 spaces following ')'.
        var starts: [Int] = []
        starts.reserveCapacity(50)
        var i = close + 1
        while i < b.endIndex {
            while i < b.endIndex && b[i] == UInt8(ascii: " ") { i += 1 }
            if i >= b.endIndex || b[i] == UInt8(ascii: "\n") { break }
            starts.append(i)
            while i < b.endIndex && b[i] != UInt8(ascii: " ") && b[i] != UInt8(ascii: "\n") { i += 1 }
        }
        func field(_ n: Int) -> Int64? {
            n - 3 < starts.count ? ProcBytes.integer(b, starts[n - 3], b.endIndex) : nil
        }
        guard starts.count > 38, let ppid = field(4), let session = field(6), let flags = field(9),
              let utime = field(14), let stime = field(15), let nice = field(19), let start = field(22),
              let policy = field(41)
        else { return nil }
        self.pid = pid
        self.comm = String(decoding: b[(open + 1)..<close], as: UTF8.self)
        self.state = Character(Unicode.Scalar(b[starts[0]]))
        self.ppid = Int32(truncatingIfNeeded: ppid)
        self.session = Int32(truncatingIfNeeded: session)
        self.flags = UInt32(truncatingIfNeeded: flags)
        self.utime = UInt64(truncatingIfNeeded: utime)
        self.stime = UInt64(truncatingIfNeeded: stime)
        self.nice = Int32(truncatingIfNeeded: nice)
        self.startTime = UInt64(truncatingIfNeeded: start)
        self.startStack = field(28).map { UInt64(truncatingIfNeeded: $0) } ?? 0
        self.policy = UInt32(truncatingIfNeeded: policy)
        self.exitCode = field(52).map { Int32(truncatingIfNeeded: $0) }
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
        self.init(bytes: Array(text.utf8))
    }

    init() {}

    init<C: RandomAccessCollection>(bytes b: C) where C.Element == UInt8, C.Index == Int {
        var lineStart = b.startIndex
        while lineStart < b.endIndex {
            let lineEnd = b[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? b.endIndex
            if let colon = b[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) {
                let key = b[lineStart..<colon]
                let value = colon + 1
                if key.elementsEqual("Uid".utf8) {
                    uids = ProcBytes.integers(b, value, lineEnd).map { UInt32(truncatingIfNeeded: $0) }
                } else if key.elementsEqual("Gid".utf8) {
                    gids = ProcBytes.integers(b, value, lineEnd).map { UInt32(truncatingIfNeeded: $0) }
                } else if key.elementsEqual("Groups".utf8) {
                    groups = ProcBytes.integers(b, value, lineEnd).map { UInt32(truncatingIfNeeded: $0) }
                } else if key.elementsEqual("TracerPid".utf8) {
                    tracerPid = Int32(truncatingIfNeeded: ProcBytes.integer(b, value, lineEnd) ?? 0)
                } else if key.elementsEqual("NSpid".utf8) {
                    nsPids = ProcBytes.integers(b, value, lineEnd).map { Int32(truncatingIfNeeded: $0) }
                } else if key.elementsEqual("Cpus_allowed".utf8) {
                    // Comma-separated 32-bit groups in hex, most significant first: the last two.
                    var mask: UInt64 = 0, shift: UInt64 = 0, groupEnd = lineEnd, i = lineEnd
                    while i > value && shift < 64 {
                        i -= 1
                        if b[i] == UInt8(ascii: ",") || i == value {
                            mask |= ProcBytes.hex(b, b[i] == UInt8(ascii: ",") ? i + 1 : i, groupEnd) << shift
                            shift += 32
                            groupEnd = i
                        }
                    }
                    cpusAllowed = mask
                }
            }
            lineStart = lineEnd + 1
        }
    }

    public var euid: UInt32? { uids.count > 1 ? uids[1] : nil }
}

/// Integers out of `/proc` text, as bytes.
enum ProcBytes {
    /// The decimal integer (optionally negative) that starts at or after `from` (skipping
    /// spaces and tabs), before `to`; nil when there is none.
    static func integer<C: RandomAccessCollection>(_ b: C, _ from: Int, _ to: Int) -> Int64? where C.Element == UInt8, C.Index == Int {
        var i = from
        while i < to && (b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "\t")) { i += 1 }
        var negative = false
        if i < to && b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var value: Int64 = 0, digits = 0
        while i < to, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            value = value &* 10 &+ Int64(b[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        return digits == 0 ? nil : negative ? -value : value
    }

    /// Every whitespace-separated decimal integer in [from, to).
    static func integers<C: RandomAccessCollection>(_ b: C, _ from: Int, _ to: Int) -> [Int64] where C.Element == UInt8, C.Index == Int {
        var result: [Int64] = []
        var i = from
        while i < to {
            while i < to && (b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "\t")) { i += 1 }
            let start = i
            while i < to && b[i] != UInt8(ascii: " ") && b[i] != UInt8(ascii: "\t") { i += 1 }
            if start < i, let n = integer(b, start, i) { result.append(n) }
        }
        return result
    }

    /// The hexadecimal number in [from, to), other characters skipped.
    static func hex<C: RandomAccessCollection>(_ b: C, _ from: Int, _ to: Int) -> UInt64 where C.Element == UInt8, C.Index == Int {
        var value: UInt64 = 0
        for i in from..<to { if let d = hexDigit(b[i]) { value = value << 4 | UInt64(d) } }
        return value
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
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
