// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser

/// `ium`: the command-line client of Isolated User Mode for Linux.
public struct IUM: ParsableCommand {
    /// The root command: configuration only.
    public static let configuration = CommandConfiguration(
        commandName: "ium",
        abstract: "Isolated User Mode for Linux: secure processes and the NT process query API.",
        discussion: """
            Exit codes: 0 success; 1 the NT call returned a failure status; 64 usage error \
            (bad arguments, no such process).
            """,
        version: "0.1.0",
        subcommands: [Query.self, Guard.self]
    )

    /// Creates the command (argument-parser).
    public init() {}
}
