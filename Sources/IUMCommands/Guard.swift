// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser
import IUMClient
import IUMProtocol
import NTModel

extension IUM {
    /// `ium guard …`: the kernel guard, through iumd (its only owner).
    public struct Guard: ParsableCommand {
        /// The group's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Inspect or unload the kernel guard (through iumd, its only owner).",
            discussion: """
                iumd loads the guard when it starts (or adopts the one pinned under /sys/fs/bpf/ium) \
                and is the only process that tags through it and reads its events: use 'ium tag', \
                'ium run' and 'ium events'. The guard keeps enforcing while iumd is stopped.
                """,
            subcommands: [Status.self, Unload.self]
        )
        /// Creates the command (argument-parser).
        public init() {}
    }
}

extension IUM.Guard {
    /// `ium guard status`: the same as `ium status`.
    public struct Status: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(abstract: "Show the backend, its gaps and the counters (as 'ium status').")
        @Flag(help: "Print the result as JSON.") var json = false
        /// Creates the command (argument-parser).
        public init() {}
        /// Prints the status.
        public func run() throws {
            var status = IUM.Status()
            status.json = json
            try status.run()
        }
    }

    /// `ium guard unload`: a request to iumd (root).
    public struct Unload: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Unload the guard (root): enforcement stops, every tag is gone, and iumd stops.",
            discussion: "With no iumd running, 'iumd --unload' removes a pinned guard.")
        /// Creates the command (argument-parser).
        public init() {}
        /// Asks iumd to unload the guard.
        public func run() throws {
            let client = try connectDaemon()
            let reply = try daemonCall { () throws(ClientError) in try client.unload() }
            guard reply.status == .success else {
                Output.err("ium: " + reply.message)
                throw ExitCode.failure
            }
            Output.out(reply.message)
        }
    }
}
