// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser

/// `ium`: the command-line client of Isolated User Mode for Linux.
public struct IUM: ParsableCommand {
    /// The root command: configuration only.
    public static let configuration = CommandConfiguration(
        commandName: "ium",
        abstract: "Isolated User Mode for Linux: secure processes and the NT process query API.",
        discussion: """
            Exit codes: 0 success; 1 the NT call returned a failure status (or the request \
            failed); 64 usage error (bad arguments, no such process); 69 iumd is not running.
            """,
        version: "0.1.0",
        subcommands: [Status.self, Tag.self, Run.self, Query.self, PS.self, Events.self, Guard.self]
    )

    /// Creates the command (argument-parser).
    public init() {}
}
