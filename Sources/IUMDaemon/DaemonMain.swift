// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import KernelGuard
import Logging
import ServiceLifecycle
import UnixSignals

/// `iumd [--socket PATH] [--database PATH] [--backend lsm|kill] [--object PATH] [--no-self-protect]`
public enum DaemonMain {
    static let usage = """
        usage: iumd [--socket PATH] [--database PATH] [--backend lsm|kill] [--object PATH]
                    [--retention-days N] [--no-self-protect]
          --socket PATH       request socket (default /run/ium/iumd.sock)
          --database PATH     audit store (default /var/lib/ium/audit.sqlite)
          --backend B         lsm or kill (default: lsm when the kernel allows it)
          --object PATH       the compiled guard (default: beside iumd, then /usr/local/lib/ium)
          --no-self-protect   do not tag iumd itself secure (lets you debug it)
        exit codes: 0 stopped by SIGTERM/SIGINT; 1 runtime error; 64 usage; 69 guard unavailable; 77 not root
        """

    /// Parses the arguments, runs the daemon, returns the exit code.
    public static func run(arguments: [String]) async -> Int32 {
        var config = DaemonConfiguration()
        var i = 0
        func value() -> String? {
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--socket": guard let v = value() else { return usageError("--socket needs a path") }; config.socketPath = v
            case "--database": guard let v = value() else { return usageError("--database needs a path") }; config.databasePath = v
            case "--object": guard let v = value() else { return usageError("--object needs a path") }; config.objectPath = v
            case "--backend":
                guard let v = value(), let b = Backend(rawValue: v) else { return usageError("--backend must be lsm or kill") }
                config.backend = b
            case "--retention-days":
                guard let v = value(), let n = Int(v), n > 0 else { return usageError("--retention-days needs a positive number") }
                config.retentionDays = n
            case "--no-self-protect": config.selfProtect = false
            case "-h", "--help": print(usage); return 0
            default: return usageError("unknown argument '\(arguments[i])'")
            }
            i += 1
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "iumd")
        logger.logLevel = .info
        guard geteuid() == 0 else {
            logger.critical("iumd needs root to load the guard: run it as root (systemctl start iumd, or sudo iumd)")
            return 77
        }
        let daemon: Daemon
        do { daemon = try Daemon(configuration: config, logger: logger) } catch {
            logger.critical("\(error.message)")
            return error.exitCode
        }
        let group = ServiceGroup(configuration: .init(
            services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            logger.critical("iumd failed: \(error)")
            return 1
        }
        return 0
    }

    static func usageError(_ message: String) -> Int32 {
        let text = "iumd: \(message)\n\(usage)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        return 64
    }
}
