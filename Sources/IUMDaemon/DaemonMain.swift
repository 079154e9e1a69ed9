// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import Logging
import ServiceLifecycle
import UnixSignals

/// `iumd [--socket PATH] [--database PATH] [--backend lsm|kill] [--pin-dir PATH] [--seal] …`
public enum DaemonMain {
    static let usage = """
        usage: iumd [--socket PATH] [--database PATH] [--backend lsm|kill] [--pin-dir PATH]
                    [--seal] [--retention-days N] [--no-self-protect]
                    [--metrics HOST:PORT] [--metrics-textfile PATH]
               iumd --unload [--pin-dir PATH]
               iumd --probe-backend
          --socket PATH       request socket (default /run/ium/iumd.sock)
          --database PATH     audit store (default /var/lib/ium/audit.sqlite)
          --backend B         lsm or kill (default: lsm when the kernel allows it)
          --seal              seal the guard until reboot (lsm backend): only this iumd (its image,
                              unchanged) may touch it, and root can no longer switch it off or read
                              a secure process through BPF, perf, tracefs, /proc/kcore or modules
          --pin-dir PATH      where the guard is pinned in bpffs (default /sys/fs/bpf/ium; tests
                              use their own directory and never touch the machine's guard)
          --no-self-protect   do not tag iumd itself secure (lets you debug it)
          --metrics HOST:PORT serve Prometheus metrics at http://HOST:PORT/metrics (e.g.
                              127.0.0.1:9477; no authentication: bind a loopback or node address)
          --metrics-textfile PATH
                              write the same metrics to PATH every 15 s (node_exporter's textfile
                              collector: a *.prom file in its --collector.textfile.directory)
          --unload            remove the guard pinned at --pin-dir while no iumd runs, and exit
          --probe-backend     print the backend this kernel accepts (lsm or kill) and why, and exit
        Only one iumd owns a guard: a second one for the same --pin-dir exits with 69.
        exit codes: 0 stopped by SIGTERM/SIGINT or by 'ium guard unload'; 1 runtime error; 64 usage;
                    69 guard unavailable (or owned by another iumd); 77 not root
        """

    /// Parses the arguments, runs the daemon, returns the exit code.
    public static func run(arguments: [String]) async -> Int32 {
        var config = DaemonConfiguration()
        var mode = "serve"
        var i = 0
        func value() -> String? {
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--socket": guard let v = value() else { return usageError("--socket needs a path") }; config.socketPath = v
            case "--database": guard let v = value() else { return usageError("--database needs a path") }; config.databasePath = v
            case "--seal": config.seal = true
            case "--backend":
                guard let v = value(), let b = Backend(rawValue: v) else { return usageError("--backend must be lsm or kill") }
                config.backend = b
            case "--retention-days":
                guard let v = value(), let n = Int(v), n > 0 else { return usageError("--retention-days needs a positive number") }
                config.retentionDays = n
            case "--pin-dir": guard let v = value(), v.hasPrefix("/") else { return usageError("--pin-dir needs an absolute path") }; config.pinDirectory = v
            case "--no-self-protect": config.selfProtect = false
            case "--metrics":
                guard let v = value(), let endpoint = MetricsEndpoint.parse(address: v) else {
                    return usageError("--metrics needs HOST:PORT, e.g. 127.0.0.1:9477")
                }
                config.metrics.append(endpoint)
            case "--metrics-textfile":
                guard let v = value(), v.hasPrefix("/") else { return usageError("--metrics-textfile needs an absolute path") }
                config.metrics.append(.textfile(path: v))
            case "--unload": mode = "unload"
            case "--probe-backend": mode = "probe"
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
        switch mode {
        case "unload": return unload(config, logger: logger)
        case "probe": return probe(config, logger: logger)
        default: break
        }
        let daemon: Daemon
        do { daemon = try Daemon(configuration: config, logger: logger) } catch {
            logger.critical("\(error.message)")
            return error.exitCode
        }
        // The daemon's run returns on SIGTERM/SIGINT and after 'ium guard unload': both are a
        // normal stop (exit 0).
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            logger.critical("iumd failed: \(error)")
            return 1
        }
        return 0
    }

    /// `iumd --unload`: removes the guard while no iumd owns it.
    static func unload(_ config: DaemonConfiguration, logger: Logger) -> Int32 {
        do {
            let loaded = try KernelGuard.openPinned(pinDirectory: config.pinDirectory)
            try loaded.unload()
            print("guard unloaded from \(config.pinDirectory): enforcement stopped")
            return 0
        } catch {
            logger.critical("cannot unload the guard: \(error)")
            return error.code == .notLoaded || error.code == .sealed ? 1 : 69
        }
    }

    /// `iumd --probe-backend`: which backend this kernel accepts.
    static func probe(_ config: DaemonConfiguration, logger: Logger) -> Int32 {
        do {
            let (backend, reason) = try KernelGuard.probeBackend()
            print("\(backend) — \(reason)")
            return 0
        } catch {
            logger.critical("cannot probe the kernel: \(error)")
            return 69
        }
    }

    static func usageError(_ message: String) -> Int32 {
        let text = "iumd: \(message)\n\(usage)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        return 64
    }
}
