// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import ArgumentParser
import IUMClient
import IUMProtocol
import NTModel

/// The exit code when iumd cannot be reached (EX_UNAVAILABLE).
let daemonUnreachableExitCode: Int32 = 69

/// Connects to iumd, or prints how to start it and exits 69.
func connectDaemon() throws -> IUMClient {
    do { return try IUMClient() } catch { throw daemonFailure(error) }
}

/// Prints a client error as one line; 69 when iumd is unreachable, 1 otherwise.
func daemonFailure(_ error: ClientError) -> ExitCode {
    Output.err("ium: " + error.message)
    return error.unreachable ? ExitCode(daemonUnreachableExitCode) : .failure
}

func daemonCall<T>(_ body: () throws(ClientError) -> T) throws -> T {
    do { return try body() } catch { throw daemonFailure(error) }
}

extension IUM {
    /// `ium status`.
    public struct Status: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Show iumd's backend, coverage, gaps, counters and uptime.")
        @Flag(help: "Print the result as JSON.") var json = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Prints the status.
        public func run() throws {
            let client = try connectDaemon()
            let s = try daemonCall { () throws(ClientError) in try client.status() }
            if json {
                Output.out(JSONValue.object([
                    "backend": .string(s.backend), "reason": .string(s.reason), "gaps": .array(s.gaps.map(JSONValue.string)),
                    "kernel": .string(s.kernel), "uptimeMilliseconds": .unsigned(s.uptimeMilliseconds),
                    "processes": .unsigned(UInt64(s.processes)), "auditRows": .unsigned(s.auditRows),
                    "sealed": .bool(s.sealedSince != 0), "sealedSince": s.sealedSince != 0 ? .number(s.sealedSince) : .null,
                    "counters": .object(["denials": .unsigned(s.denials), "kills": .unsigned(s.kills),
                                         "eventsDropped": .unsigned(s.eventsDropped), "tagsInherited": .unsigned(s.tagsInherited),
                                         "rescans": .unsigned(s.rescans), "repairs": .unsigned(s.repairs)]),
                ]).rendered)
                return
            }
            Output.out("backend:   \(s.backend) (\(s.backend == "lsm" ? "full contract" : "best effort")) — \(s.reason)")
            Output.out("kernel:    \(s.kernel)")
            Output.out("sealed:    " + (s.sealedSince != 0 ? "since \(Output.utc(nanoseconds: s.sealedSince)), until reboot" : "no"))
            Output.out("coverage:  ptrace attach/seize, process_vm_readv/writev, /proc/PID/{mem,environ,maps,…}, pidfd_getfd"
                + (s.backend == "lsm" ? ", io_uring, payload signals, PTRACE_TRACEME" : ""))
            for gap in s.gaps { Output.out("gap:       " + gap) }
            Output.out("counters:  \(s.denials) denials, \(s.kills) killed, \(s.eventsDropped) events dropped, \(s.tagsInherited) tags inherited, \(s.rescans) rescans (\(s.repairs) repairs)")
            Output.out("table:     \(s.processes) processes; audit store: \(s.auditRows) denials")
            Output.out("uptime:    \(s.uptimeMilliseconds / 1000) s")
        }
    }

    /// `ium tag PID`.
    public struct Tag: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Tag a running process secure (irreversible; root or the 'ium' group).",
            discussion: "A process that is being traced cannot be tagged. To protect a program from its first instruction, use 'ium run'.")
        @Argument(help: "The process to tag.") var pid: String
        /// Creates the command (argument-parser).
        public init() {}
        /// Checks the arguments.
        public func validate() throws { _ = try processID(pid) }
        /// Tags the process.
        public func run() throws {
            let pid = try processID(self.pid)
            let client = try connectDaemon()
            let reply = try daemonCall { () throws(ClientError) in try client.tag(pid: pid) }
            guard reply.status == .success else {
                Output.err("ium: " + reply.message)
                throw reply.status == .invalidCID ? usageError("no process with id \(pid).") : ExitCode.failure
            }
            // The first line is the result; the daemon's warnings follow, one per line.
            let lines = reply.message.split(separator: "\n").map(String.init)
            Output.out(lines.first ?? "")
            for warning in lines.dropFirst() { Output.err("ium: " + warning) }
            if !(lines.first ?? "").contains("lsm backend") {
                Output.err("ium: warning: the kill backend is best effort; 'ium status' lists its gaps")
            }
        }
    }

    /// `ium ps`.
    public struct PS: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes iumd tracks, with their Flags.")
        @Flag(help: "Only secure processes.") var secure = false
        @Flag(help: "Print the result as JSON.") var json = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Lists processes.
        public func run() throws {
            let client = try connectDaemon()
            let rows = try daemonCall { () throws(ClientError) in try client.list(secureOnly: secure) }
            if json {
                Output.out(JSONValue.array(rows.map { r in
                    .object(["pid": .number(Int64(r.pid)), "creatorPid": .number(Int64(r.creatorPid)), "uid": .unsigned(UInt64(r.uid)),
                             "flags": .unsigned(UInt64(r.flags.rawValue)), "flagNames": .string(r.flags.description),
                             "secure": .bool(r.flags.contains(.isSecureProcess)), "comm": .string(r.comm)])
                }).rendered)
                return
            }
            Output.out(pad("PID", 8) + pad("CREATOR", 9) + pad("UID", 7) + pad("FLAGS", 12) + "COMMAND")
            for r in rows {
                Output.out(pad(String(r.pid), 8) + pad(String(r.creatorPid), 9) + pad(String(r.uid), 7)
                    + pad("0x" + Output.hex(r.flags.rawValue, digits: 3) + (r.flags.contains(.isSecureProcess) ? " S" : ""), 12) + r.comm)
            }
        }
    }

    /// `ium events`.
    public struct Events: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Show the audit store's denials (who, what, target, when).")
        @Flag(help: "Keep printing new denials until interrupted.") var follow = false
        @Option(help: "Only denials from the last N seconds (s), minutes (m), hours (h) or days (d), e.g. 10m.") var since: String?
        @Flag(help: "Print one JSON object per line (schema: docs/EVENTS.md).") var json = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Checks the arguments.
        public func validate() throws {
            if let since, Self.seconds(since) == nil { throw usageError("--since must look like 30s, 10m, 2h or 7d, not '\(since)'.") }
        }
        static func seconds(_ text: String) -> Int64? {
            guard let unit = text.last, let n = Int64(text.dropLast()), n >= 0 else { return Int64(text) }
            switch unit { case "s": return n; case "m": return n * 60; case "h": return n * 3600; case "d": return n * 86400; default: return nil }
        }
        /// Prints denials.
        public func run() throws {
            let client = try connectDaemon()
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let sinceTime = since.flatMap(Self.seconds).map { (Int64(now.tv_sec) - $0) * 1_000_000_000 } ?? 0
            try daemonCall { () throws(ClientError) in
                try client.events(EventsRequest(sinceTime: sinceTime, follow: follow)) { rows in
                    for r in rows { Output.out(json ? Self.json(r).rendered : Self.line(r)) }
                    return true
                }
            }
        }
        static func line(_ r: AuditRecord) -> String {
            return "\(Output.utc(nanoseconds: r.time)) #\(r.id) \(r.action) \(r.operation) by \(r.callerPid)/\(r.callerTid) (\(r.comm), uid \(r.uid)) on \(r.targetPid)/\(r.targetTid)"
                + (r.filename.isEmpty ? "" : " file \(r.filename)") + " mode 0x" + String(r.mode, radix: 16) + " [\(r.backend)]"
        }
        /// One denial as a JSON object in ium's event schema (docs/EVENTS.md): Elastic Common
        /// Schema field names where ECS has them, ium's own under `ium`; version 1.
        static func json(_ r: AuditRecord) -> JSONValue {
            var ium: [String: JSONValue] = [
                "schema_version": .number(eventSchemaVersion), "action": .string(r.action), "backend": .string(r.backend),
                "mode": .unsigned(UInt64(r.mode)),
                "target": .object(["pid": .number(Int64(r.targetPid)), "thread": .object(["id": .number(Int64(r.targetTid))])]),
            ]
            if !r.filename.isEmpty { ium["proc_file"] = .string(r.filename) }
            return .object([
                "@timestamp": .string(Output.utc(nanoseconds: r.time, fractionDigits: 9)),
                "ecs": .object(["version": .string("8.11.0")]),
                "event": .object([
                    "kind": .string("event"), "category": .array([.string("intrusion_detection"), .string("process")]),
                    "type": .array([.string("denied")]), "action": .string(r.operation), "outcome": .string("failure"),
                    "id": .string(String(r.id)), "module": .string("ium"), "dataset": .string("ium.denial"),
                ]),
                "process": .object(["pid": .number(Int64(r.callerPid)), "thread": .object(["id": .number(Int64(r.callerTid))]),
                                    "name": .string(r.comm)]),
                "user": .object(["id": .string(String(r.uid))]),
                "ium": .object(ium),
            ])
        }
        /// Bumped when a field of docs/EVENTS.md is renamed, removed or changes type; new fields
        /// keep the version.
        static let eventSchemaVersion: Int64 = 1
    }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
