// SPDX-License-Identifier: Apache-2.0

import IUMProtocol
import LinuxEdge
import NTModel

/// One NtQueryInformationProcess call made through a session, with its decoded result.
struct QueryResult {
    var infoClass: ProcessInfoClass
    var length: UInt32
    var outcome: QueryOutcome

    /// Makes the call with a real, 16-byte aligned buffer of `length` bytes and a ReturnLength,
    /// as a C caller would pass them (their addresses are what the alignment rules check); the
    /// answer is the outcome's bytes.
    /// - Parameter call: Performs the query given the buffer's and ReturnLength's addresses.
    static func run<E: Error>(infoClass: ProcessInfoClass, length: UInt32, call: (UInt64, UInt64) throws(E) -> QueryOutcome) throws(E) -> QueryResult {
        let outcome = try withQueryBuffers(length: length, call)
        return QueryResult(infoClass: infoClass, length: length, outcome: outcome)
    }

    /// The decoded fields, in layout order: (name, display text, JSON value).
    var fields: [(String, String, JSONValue)] {
        let bytes = outcome.output
        guard outcome.status.isSuccess || outcome.status == .portNotSet, !bytes.isEmpty else { return [] }
        switch infoClass {
        case .basicInformation:
            var basicBytes = bytes
            var size: UInt64?
            if bytes.count == ProcessExtendedBasicInformation.size {
                size = le(UInt64.self, bytes, at: 0)
                basicBytes = Array(bytes[8..<56])
            }
            guard let basic = try? ProcessBasicInformation(decoding: basicBytes) else { return [] }
            var rows: [(String, String, JSONValue)] = []
            if let size { rows.append(("Size", String(size), .unsigned(size))) }
            rows += [
                ("ExitStatus", basic.exitStatus.description, .unsigned(UInt64(basic.exitStatus.rawValue))),
                ("PebBaseAddress", "0x" + Output.hex(basic.pebBaseAddress), .unsigned(basic.pebBaseAddress)),
                ("AffinityMask", "0x" + Output.hex(basic.affinityMask), .unsigned(basic.affinityMask)),
                ("BasePriority", String(basic.basePriority), .number(Int64(basic.basePriority))),
                ("UniqueProcessId", String(basic.uniqueProcessId), .unsigned(basic.uniqueProcessId)),
                ("InheritedFromUniqueProcessId", String(basic.inheritedFromUniqueProcessId),
                 .unsigned(basic.inheritedFromUniqueProcessId)),
            ]
            if let flags = flags {
                rows.append(("Flags", "0x" + Output.hex(flags.rawValue, digits: 8) + " (\(flags))", .unsigned(UInt64(flags.rawValue))))
            }
            return rows
        case .times:
            guard let t = try? KernelUserTimes(decoding: bytes) else { return [] }
            return [("CreateTime", String(t.createTime), .number(t.createTime)),
                    ("ExitTime", String(t.exitTime), .number(t.exitTime)),
                    ("KernelTime", String(t.kernelTime), .number(t.kernelTime)),
                    ("UserTime", String(t.userTime), .number(t.userTime))]
        case .imageFileName, .imageFileNameWin32, .commandLineInformation:
            guard let s = try? InlineUnicodeString(decoding: bytes) else { return [] }
            return [("Length", String(s.length), .unsigned(UInt64(s.length))),
                    ("MaximumLength", String(s.length + 2), .unsigned(UInt64(s.length) + 2)),
                    ("Buffer", s.text, .string(s.text))]
        default:
            let value: UInt64 = bytes.count == 8 ? le(UInt64.self, bytes, at: 0)
                : bytes.count == 4 ? UInt64(le(UInt32.self, bytes, at: 0)) : UInt64(bytes[0])
            return [("Value", "0x" + Output.hex(value) + " (\(value))", .unsigned(value))]
        }
    }

    /// The Flags of an extended structure, when the output is one.
    var flags: ProcessFlags? {
        guard infoClass == .basicInformation, outcome.output.count == ProcessExtendedBasicInformation.size else { return nil }
        return ProcessFlags(rawValue: le(UInt32.self, outcome.output, at: 56))
    }

    var statusLine: String {
        "\(infoClass) (class \(infoClass.rawValue)), length \(length): \(outcome.status), ReturnLength "
            + (outcome.returnLength.map(String.init) ?? "not written")
    }

    var text: [String] {
        var lines = [statusLine]
        let rows = fields
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value, _) in rows {
            lines.append("  " + name + String(repeating: " ", count: width - name.count + 2) + value)
        }
        if let flags {
            for (flag, name) in ProcessFlags.named {
                lines.append("    " + name + String(repeating: " ", count: 22 - name.count) + (flags.contains(flag) ? "1" : "0"))
            }
            lines.append("    SpareBits" + String(repeating: " ", count: 13) + String(flags.spareBits))
        }
        if !outcome.output.isEmpty {
            lines.append("  Raw (\(outcome.output.count) bytes):")
            lines += Output.hexDump(outcome.output, indent: "    ")
        }
        return lines
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "class": .object(["name": .string(infoClass.description), "value": .unsigned(UInt64(infoClass.rawValue))]),
            "length": .unsigned(UInt64(length)),
            "status": .object([
                "name": outcome.status.name.map(JSONValue.string) ?? .null,
                "value": .unsigned(UInt64(outcome.status.rawValue)),
                "success": .bool(outcome.status.isSuccess),
            ]),
            "returnLength": outcome.returnLength.map { .unsigned(UInt64($0)) } ?? .null,
            "raw": .string(outcome.output.map { Output.hex($0, digits: 2) }.joined()),
            "fields": .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.0, $0.2) })),
        ]
        if let flags {
            var bits: [String: JSONValue] = [:]
            for (flag, name) in ProcessFlags.named { bits[name] = .bool(flags.contains(flag)) }
            bits["SpareBits"] = .unsigned(UInt64(flags.spareBits))
            object["flags"] = .object(bits)
        }
        return .object(object)
    }
}

/// A little-endian integer at `offset` (0 when the bytes are short).
private func le<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var r = WireReader(bytes, offset: offset)
    return (try? r.get(type)) ?? 0
}
