// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser
import KernelGuard

extension IUM {
    /// `ium guard …`: operate the kernel guard directly (root).
    public struct Guard: ParsableCommand {
        /// The group's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Load, inspect and use the kernel guard directly (needs root).",
            discussion: """
                The guard is pinned under /sys/fs/bpf/ium: it keeps enforcing after the command \
                (or the daemon) that loaded it exits, and tags stay with their processes.
                """,
            subcommands: [Load.self, Unload.self, Status.self, Tag.self, Events.self]
        )
        /// Creates the command (argument-parser).
        public init() {}
    }
}

extension IUM.Guard {
    /// `ium guard load`.
    public struct Load: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Load, attach and pin the guard (adopts a loaded one).")

        @Option(help: "lsm or kill; by default lsm when the kernel allows it, else kill.")
        var backend: String?

        @Option(help: "The compiled guard (default: beside the executable, then /usr/local/lib/ium).")
        var object: String?

        /// Creates the command (argument-parser).
        public init() {}

        /// Checks the arguments.
        public func validate() throws {
            if let backend, Backend(rawValue: backend) == nil {
                throw usageError("--backend must be lsm or kill, not '\(backend)'.")
            }
        }

        /// Loads the guard.
        public func run() throws {
            let loaded = try guardCall { () throws(GuardError) in
                try KernelGuard.load(backend: backend.flatMap(Backend.init(rawValue:)), objectPath: object)
            }
            Output.out("guard loaded: backend \(loaded.backend) — \(loaded.reason)")
            for gap in loaded.backend.gaps { Output.out("  gap: " + gap) }
        }
    }

    /// `ium guard unload`.
    public struct Unload: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Remove the pinned guard: enforcement stops and every tag is gone.")
        /// Creates the command (argument-parser).
        public init() {}
        /// Unloads the guard.
        public func run() throws {
            try guardCall { () throws(GuardError) in try KernelGuard.unload() }
            Output.out("guard unloaded")
        }
    }

    /// `ium guard status`.
    public struct Status: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Show the backend, its gaps and the counters.")
        @Flag(help: "Print the result as JSON.")
        var json = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Prints the status.
        public func run() throws {
            guard let loaded = try guardCall({ () throws(GuardError) in try KernelGuard.adopt() }) else {
                Output.err("ium: no guard is loaded: run 'ium guard load' as root")
                throw ExitCode.failure
            }
            let c = loaded.counters()
            if json {
                Output.out(JSONValue.object([
                    "backend": .string(loaded.backend.rawValue),
                    "gaps": .array(loaded.backend.gaps.map(JSONValue.string)),
                    "counters": .object([
                        "denials": .unsigned(c.denials), "kills": .unsigned(c.kills),
                        "eventsDropped": .unsigned(c.eventsDropped), "tagsInherited": .unsigned(c.tagsInherited),
                        "resumes": .unsigned(c.resumes),
                    ]),
                ]).rendered)
                return
            }
            Output.out("backend: \(loaded.backend)" + (loaded.backend == .lsm ? " (full contract)" : " (best effort)"))
            for gap in loaded.backend.gaps { Output.out("  gap: " + gap) }
            Output.out("denials: \(c.denials)  kills: \(c.kills)  events dropped: \(c.eventsDropped)  tags inherited: \(c.tagsInherited)  resumes: \(c.resumes)")
        }
    }

    /// `ium guard tag PID`.
    public struct Tag: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Tag a running process secure (irreversible).")
        @Argument(help: "The process to tag.")
        var pid: String
        @Flag(help: "Only print whether the process is tagged.")
        var check = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Checks the arguments.
        public func validate() throws {
            guard let n = Int32(pid), n > 0 else { throw usageError("'\(pid)' is not a process id.") }
        }
        /// Tags (or checks) the process.
        public func run() throws {
            guard let pid = Int32(pid) else { throw ExitCode.validationFailure }
            guard let loaded = try guardCall({ () throws(GuardError) in try KernelGuard.adopt() }) else {
                Output.err("ium: no guard is loaded: run 'ium guard load' as root")
                throw ExitCode.failure
            }
            if check {
                let secure = loaded.isSecure(pid: pid)
                Output.out("\(pid) \(secure ? "secure" : "not secure")")
                if !secure { throw ExitCode.failure }
                return
            }
            try guardCall { () throws(GuardError) in try loaded.tag(pid: pid) }
            Output.out("process \(pid) is secure (\(loaded.backend) backend)")
            if loaded.backend != .lsm {
                Output.err("ium: warning: the kill backend is best effort; see 'ium guard status' for its gaps")
            }
        }
    }

    /// `ium guard events`.
    public struct Events: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Print the guard's events (denials, fork, exec, exit).")
        @Flag(help: "Keep printing until interrupted.")
        var follow = false
        @Flag(help: "Print denials only.")
        var denials = false
        @Option(help: "Stop after this many milliseconds without --follow.")
        var wait: Int32 = 200
        /// Creates the command (argument-parser).
        public init() {}
        /// Prints events.
        public func run() throws {
            guard let loaded = try guardCall({ () throws(GuardError) in try KernelGuard.adopt() }) else {
                Output.err("ium: no guard is loaded: run 'ium guard load' as root")
                throw ExitCode.failure
            }
            let reader = try guardCall { () throws(GuardError) in try loaded.events() }
            repeat {
                for event in reader.poll(timeoutMilliseconds: follow ? 1000 : wait) where !denials || event.kind == .denial {
                    Output.out(event.description)
                }
            } while follow
        }
    }
}

/// Runs a guard call; a failure prints one line and exits 1.
func guardCall<T>(_ body: () throws(GuardError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        Output.err("ium: " + error.description)
        throw ExitCode.failure
    }
}
