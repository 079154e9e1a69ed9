// SPDX-License-Identifier: Apache-2.0
//
// Runs the built `ium` binary (make test builds it first; IUM_BIN overrides the path) and
// compares its output and exit code. Queries go to a test iumd of their own (root: it loads a
// guard under its own pin directory).

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import TestSupport

/// The `ium` under test: $IUM_BIN, else the one `make` built (never one found on PATH).
let iumBinary: String = getenv("IUM_BIN").map { String(cString: $0) } ?? builtBinaries + "/ium"

/// Runs `ium` against a test daemon's socket.
func ium(_ daemon: TestDaemon, _ args: String...) throws -> CommandResult {
    try runCommand(["env", "IUM_SOCKET=\(daemon.socket)", iumBinary] + args)
}

@Suite("ium is the binary make built")
struct IUMBinaryTests {
    @Test("the binary under test exists")
    func exists() {
        #expect(access(iumBinary, X_OK) == 0, "build it with make build (or set IUM_BIN)")
    }
}

@Suite("ium query through iumd", .enabled(if: TestDaemon.canRun, "needs root and a built iumd: queries go through a test iumd with its own guard"))
struct QueryCommandTests {
    @Test("the default query decodes PROCESS_EXTENDED_BASIC_INFORMATION with every Flags bit by name and the raw bytes")
    func defaultQuery() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        let r = try ium(d, "query", String(child.pid))
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "ProcessBasicInformation (class 0), length 64: STATUS_SUCCESS (0x00000000), ReturnLength 64")
        #expect(lines.contains("  Size                          64"))
        #expect(lines.contains("  ExitStatus                    STATUS_PENDING (0x00000103)"))
        #expect(lines.contains("  UniqueProcessId               \(child.pid)"))
        #expect(lines.contains("  InheritedFromUniqueProcessId  \(getpid())"))
        for (_, name) in ProcessFlags.named {
            #expect(lines.contains("    " + name + String(repeating: " ", count: 22 - name.count) + "0"), "\(name)")
        }
        #expect(lines.contains("  Raw (64 bytes):"))
        #expect(lines.contains("    0000  40 00 00 00 00 00 00 00 03 01 00 00 00 00 00 00"))
        #expect(r.stderr.isEmpty)
    }

    @Test("a flag that is set prints 1: a stopped process is IsFrozen")
    func flagSet() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        child.signal(SIGSTOP)
        for _ in 0..<500 where !(try runCommand(["cat", "/proc/\(child.pid)/stat"]).stdout.contains(") T ")) { usleep(10_000) }
        let r = try ium(d, "query", String(child.pid))
        #expect(r.stdout.contains("  Flags                         0x00000010 (IsFrozen)\n"))
        #expect(r.stdout.contains("    IsFrozen              1\n"))
    }

    @Test("--json prints the status, fields, flags and raw bytes with sorted keys")
    func json() throws {
        let d = try TestDaemon()
        let (child, _) = try startFixture(["sleep"])
        let r = try ium(d, "query", String(child.pid), "--json")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("{\"class\":{\"name\":\"ProcessBasicInformation\",\"value\":0},\"fields\":{\"AffinityMask\":"))
        #expect(r.stdout.contains("\"UniqueProcessId\":\(child.pid)"))
        #expect(r.stdout.contains("\"flags\":{\"IsBackground\":false,\"IsCrossSessionCreate\":false,\"IsFrozen\":false,\"IsProcessDeleting\":false,\"IsProtectedProcess\":false,\"IsSecureProcess\":false,\"IsStronglyNamed\":false,\"IsSubsystemProcess\":false,\"IsWow64Process\":false,\"SpareBits\":0}"))
        #expect(r.stdout.contains("\"status\":{\"name\":\"STATUS_SUCCESS\",\"success\":true,\"value\":0}"))
        #expect(r.stdout.contains("\"returnLength\":64"))
    }

    @Test("--length 48 returns PROCESS_BASIC_INFORMATION")
    func length48() throws {
        let d = try TestDaemon()
        let r = try ium(d, "query", String(getpid()), "--length", "48")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("ProcessBasicInformation (class 0), length 48: STATUS_SUCCESS (0x00000000), ReturnLength 48\n"))
        #expect(!r.stdout.contains("Size"))
    }

    @Test("--length with a wrong size prints the NT status and ReturnLength and exits 1", arguments: ["0", "47", "49", "63", "65", "4096"])
    func wrongLength(length: String) throws {
        let d = try TestDaemon()
        let r = try ium(d, "query", String(getpid()), "--length", length)
        #expect(r.status == 1)
        #expect(r.stdout == "ProcessBasicInformation (class 0), length \(length): STATUS_INFO_LENGTH_MISMATCH (0xC0000004), ReturnLength not written\n")
    }

    @Test("--class with a variable-length class and a small length reports the length needed")
    func variableClass() throws {
        let d = try TestDaemon()
        let r = try ium(d, "query", String(getpid()), "--class", "ImageFileName", "--length", "16")
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("ProcessImageFileName (class 27), length 16: STATUS_INFO_LENGTH_MISMATCH (0xC0000004), ReturnLength "))
        #expect(!r.stdout.contains("not written"))
    }

    @Test("an unserved class gives STATUS_INVALID_INFO_CLASS and exits 1")
    func invalidClass() throws {
        let d = try TestDaemon()
        let r = try ium(d, "query", String(getpid()), "--class", "ProcessQuotaLimits")
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("ProcessQuotaLimits (class 1), length 64: STATUS_INVALID_INFO_CLASS (0xC0000003)"))
    }

    @Test("a process that does not exist: one line on stderr and exit code 64")
    func noSuchProcess() throws {
        let d = try TestDaemon()
        let r = try ium(d, "query", "99999999")
        #expect(r.status == 64)
        #expect(r.stderr == "ium: no process with id 99999999 (NtOpenProcess: STATUS_INVALID_CID (0xC000000B)).\n")
        #expect(r.stdout.isEmpty)
    }
}

@Suite("ium run", .serialized, .enabled(if: TestDaemon.canRun, "needs root and a built iumd: ium run is tagged by a test iumd"))
struct RunCommandTests {
    @Test("the loader's code-injecting variables never reach the program (every LD_*, glibc's unsecure list); the rest does")
    func scrubsEnvironment() throws {
        let d = try TestDaemon()
        let r = try runCommand(["env", "IUM_SOCKET=\(d.socket)", "LD_PRELOAD=/nonexistent/evil.so", "LD_LIBRARY_PATH=/tmp",
                                "LD_AUDIT=/nonexistent/audit.so", "LD_ANYTHING=1", "GCONV_PATH=/tmp", "TMPDIR=/tmp/x",
                                "MALLOC_TRACE=/tmp/t", "IUM_KEEP=kept", iumBinary, "run", "--", "env"])
        #expect(r.status == 0, "\(r.stderr)")
        let names = Set(r.stdout.split(separator: "\n").map { String($0.prefix(while: { $0 != "=" })) })
        #expect(names.contains("IUM_KEEP"), "ordinary variables pass")
        #expect(names.filter { $0.hasPrefix("LD_") }.isEmpty, "\(names)")
        #expect(names.isDisjoint(with: ["GCONV_PATH", "TMPDIR", "MALLOC_TRACE"]))
    }

    @Test("the program runs tagged secure and ium exits with its status")
    func runsSecure() throws {
        let d = try TestDaemon()
        let r = try runCommand(["env", "IUM_SOCKET=\(d.socket)", iumBinary, "run", "--", "sh", "-c",
                                "\(iumBinary) query $$ --json | grep -q '\"IsSecureProcess\":true' && exit 3"])
        #expect(r.status == 3, "\(r.stderr)")
    }
}

@Suite("ium without a daemon")
struct CommandLineTests {
    @Test("bad input gives one line on stderr and exit code 64, before any request", arguments: [
        (["query", "abc"], "ium: 'abc' is not a process id: give a positive number such as 1.\n"),
        (["query", "0"], "ium: '0' is not a process id: give a positive number such as 1.\n"),
        (["query", "1", "--length", "-1"], "ium: --length must be a byte count from 0 to 4294967295, not '-1'.\n"),
        (["query", "1", "--class", "Bogus"], "ium: unknown information class 'Bogus': use a number or a name such as ProcessBasicInformation.\n"),
    ])
    func badInput(args: [String], message: String) throws {
        let r = try runCommand(["env", "IUM_SOCKET=/nonexistent/iumd.sock", iumBinary] + args)
        #expect(r.status == 64)
        #expect(r.stderr == message)
        #expect(r.stdout.isEmpty)
    }

    @Test("without iumd, a command that needs it prints one line saying how to start it and exits 69", arguments: [
        ["query", "1"], ["status"], ["tag", "1"], ["ps"], ["events"], ["guard", "unload"], ["guard", "status"],
    ])
    func daemonDown(args: [String]) throws {
        let r = try runCommand(["env", "IUM_SOCKET=/nonexistent/iumd.sock", iumBinary] + args)
        #expect(r.status == 69)
        #expect(r.stderr == "ium: iumd is not running (cannot connect to /nonexistent/iumd.sock: No such file or directory): start it with 'sudo systemctl start iumd' or 'sudo iumd &'\n")
        #expect(r.stdout.isEmpty)
    }

    @Test("an option-like pid is rejected by the parser with the usage exit code")
    func dashPid() throws {
        #expect(try runCommand([iumBinary, "query", "-5"]).status == 64)
    }
}
