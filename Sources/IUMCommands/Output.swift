// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import LinuxEdge

/// A JSON value rendered with sorted keys, so `--json` output is stable.
public enum JSONValue: Hashable, Sendable {
    case string(String)
    case number(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as compact JSON text, object keys sorted.
    public var rendered: String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .number(let n): return String(n)
        case .unsigned(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.sorted { $0.key < $1.key }.map { Self.quote($0.key) + ":" + $0.value.rendered }
                .joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Where commands write: results to stdout, diagnostics to stderr (file descriptors, as
/// Swift 6 rejects the C `stdout`/`stderr` globals).
enum Output {
    static func out(_ text: String) { write(1, text + "\n") }
    static func err(_ text: String) { write(2, text + "\n") }

    private static func write(_ fd: Int32, _ text: String) {
        try? Files.writeAll(fd, Array(text.utf8))
    }

    /// `0000  40 00 00 00 …` rows of 16 bytes.
    static func hexDump(_ bytes: [UInt8], indent: String = "  ") -> [String] {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            let row = bytes[start..<min(start + 16, bytes.count)]
            let offset = String(start, radix: 16)
            return indent + String(repeating: "0", count: 4 - offset.count) + offset + "  "
                + row.map { hex($0, digits: 2) }.joined(separator: " ")
        }
    }

    static func hex<T: BinaryInteger>(_ value: T, digits: Int = 0) -> String {
        let s = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}

/// A positive pid from the command line, or the one usage error every command gives for it.
func processID(_ text: String) throws -> Int32 {
    guard let pid = Int32(text), pid > 0 else { throw usageError("'\(text)' is not a process id: give a positive number such as 1.") }
    return pid
}

/// Prints `ium: <message>` as the one line on stderr and returns the usage exit code (64,
/// argument-parser's `EX_USAGE`), for bad input found after parsing.
func usageError(_ message: String) -> ExitCode {
    Output.err("ium: " + message)
    return .validationFailure
}

extension Output {
    /// `2026-11-30T05:12:01Z` for a Unix time in nanoseconds, or with `fractionDigits` (1 to 9)
    /// of the second: `2026-11-30T05:12:01.123456789Z` (RFC 3339).
    static func utc(nanoseconds: Int64, fractionDigits: Int = 0) -> String {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var text = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
        if fractionDigits > 0 {
            let fraction = String(nanoseconds - seconds * 1_000_000_000)
            text += "." + (String(repeating: "0", count: 9 - fraction.count) + fraction).prefix(min(fractionDigits, 9))
        }
        return text + "Z"
    }
}
