// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import ArgumentParser
import IUMClient
import IUMProtocol
import LinuxEdge

extension IUM {
    /// `ium run -- CMD…`: start a program secure from its first instruction.
    public struct Run: ParsableCommand {
        /// The subcommand's configuration.
        public static let configuration = CommandConfiguration(
            abstract: "Run a program secure from its first instruction.",
            discussion: """
                The child asks iumd to tag it before it execs the program, so no one can attach \
                in between. The loader's environment variables that inject code (LD_PRELOAD, \
                LD_AUDIT, LD_LIBRARY_PATH and the rest of glibc's unsecure list) are removed, core \
                dumps are disabled (RLIMIT_CORE 1), and ium exits with the program's exit code \
                (128 + signal if it was killed). For a trustlet add --no-new-privs and --mdwe. \
                Exit 126: iumd refused to tag it, or an option could not be applied; 127: it \
                could not be executed.
                """)
        @Flag(help: "No set-id or file-capability gain at exec, for it and its children (PR_SET_NO_NEW_PRIVS).")
        var noNewPrivs = false
        @Flag(help: "No memory that is writable and then executable, for it and its children (PR_SET_MDWE, Linux 6.3+).")
        var mdwe = false
        @Argument(parsing: .captureForPassthrough, help: "The program and its arguments.")
        var command: [String] = []
        /// Creates the command (argument-parser).
        public init() {}

        /// The variables glibc removes for set-id programs (sysdeps/generic/unsecvars.h), and any LD_*.
        static let unsecure: Set<String> = [
            "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH",
            "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
        ]

        static func scrubbed(_ environment: [String]) -> [String] {
            environment.filter { entry in
                let name = String(entry.prefix(while: { $0 != "=" }))
                return !name.hasPrefix("LD_") && !unsecure.contains(name)
            }
        }

        /// Checks the arguments.
        public func validate() throws {
            let args = command.first == "--" ? Array(command.dropFirst()) : command
            if args.isEmpty { throw usageError("give the program to run: ium run -- PROGRAM [ARGS…]") }
        }

        /// Runs the program and exits with its status.
        public func run() throws {
            let args = command.first == "--" ? Array(command.dropFirst()) : command
            let frame = TagRequest(pid: 0).encode(requestId: 1)
            // Ignore terminal signals while the child runs, as a shell does.
            signal(SIGINT, SIG_IGN)
            signal(SIGQUIT, SIG_IGN)
            var options: Processes.SpawnOptions = []
            if noNewPrivs { options.insert(.noNewPrivileges) }
            if mdwe { options.insert(.memoryDenyWriteExecute) }
            let child: Int32
            do {
                child = try Processes.spawnSecure(socketPath: IUMClient.defaultSocketPath, tagRequest: frame, arguments: args,
                                                  environment: Self.scrubbed(Processes.environment), options: options)
            } catch {
                Output.err("ium: cannot start \(args[0]): \(error)")
                throw ExitCode.failure
            }
            guard let status = try? Processes.wait(child) else { throw ExitCode.failure }
            throw ExitCode(Processes.exitCode(waitStatus: status))
        }
    }
}
