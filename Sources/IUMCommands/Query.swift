// SPDX-License-Identifier: Apache-2.0

public import ArgumentParser
import IUMClient
import NTModel

extension IUM {
    /// `ium query PID`: runs NtQueryInformationProcess on a process and decodes the result.
    public struct Query: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Query a process with NtQueryInformationProcess and decode the result.",
            discussion: """
                Asks iumd to open PID with NtOpenProcess (MAXIMUM_ALLOWED) and query it, with the \
                caller's rights (iumd applies NT's access rules to this user). Without \
                --length, class 0 uses the 64-byte PROCESS_EXTENDED_BASIC_INFORMATION; \
                --length 48 asks for PROCESS_BASIC_INFORMATION, and any other length shows \
                the status NT returns for it. Exits 1 when the status is a failure.
                """,
            aliases: ["q"]
        )

        @Argument(help: "The process id to query.")
        var pid: String

        @Option(name: .customLong("class"), help: "Information class: a number or a name such as Times or ProcessImageFileName.")
        var infoClass: String = "0"

        @Option(parsing: .unconditional, help: "The buffer length passed to the call (bytes).")
        var length: String?

        @Flag(help: "Print the result as JSON.")
        var json = false

        /// Creates the command (argument-parser).
        public init() {}

        /// Checks the arguments.
        public func validate() throws {
            _ = try processID(pid)
            guard ProcessInfoClass(name: infoClass) != nil else {
                throw usageError("unknown information class '\(infoClass)': use a number or a name such as ProcessBasicInformation.")
            }
            if let length, UInt32(length) == nil {
                throw usageError("--length must be a byte count from 0 to \(UInt32.max), not '\(length)'.")
            }
        }

        /// Runs the query.
        public func run() throws {
            let pid = try processID(self.pid)
            guard let cls = ProcessInfoClass(name: infoClass) else { throw ExitCode.validationFailure }
            let length = self.length.flatMap { UInt32($0) } ?? Self.defaultLength(cls)
            let result = try queryDaemon(pid: pid, cls: cls, length: length)
            if json {
                Output.out(result.json.rendered)
            } else {
                result.text.forEach(Output.out)
            }
            if !result.outcome.status.isSuccess { throw ExitCode.failure }
        }

        private func opened(_ result: Result<Handle, NTStatus>, pid: Int32) throws -> Handle {
            switch result {
            case .success(let h): return h
            case .failure(.invalidCID): throw usageError("no process with id \(pid) (NtOpenProcess: \(NTStatus.invalidCID)).")
            case .failure(let status):
                Output.err("ium: NtOpenProcess(\(pid)) failed: \(status)")
                throw ExitCode.failure
            }
        }

        private func queryDaemon(pid: Int32, cls: ProcessInfoClass, length: UInt32) throws -> QueryResult {
            let client = try connectDaemon()
            let handle = try opened(try daemonCall { () throws(ClientError) in
                try client.openProcess(pid: UInt64(pid), access: .maximumAllowed)
            }, pid: pid)
            defer { _ = try? client.close(handle: handle) }
            return try QueryResult.run(infoClass: cls, length: length) { buffer, returned in
                try daemonCall { () throws(ClientError) in
                    try client.queryInformationProcess(handle: handle, infoClass: cls.rawValue, length: length,
                                                       bufferAddress: buffer, returnLengthAddress: returned)
                }
            }
        }

        static func defaultLength(_ cls: ProcessInfoClass) -> UInt32 {
            switch cls.rule?.lengths {
            case .oneOf(let sizes)?: sizes.max() ?? 0
            case .variable?: 4096
            case nil: 64
            }
        }
    }
}
