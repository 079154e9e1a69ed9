// SPDX-License-Identifier: Apache-2.0
//
// Test helpers: start real processes (posix_spawn, no Foundation), read their output, and
// build the C fixture programs the tests put into each process state.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The output of a finished command.
public struct CommandResult: Sendable {
    /// The exit code (128 + signal when killed).
    public var status: Int32
    /// Everything written to stdout.
    public var stdout: String
    /// Everything written to stderr.
    public var stderr: String
}

/// A child process started by a test, with a pipe from its stdout.
public final class Child {
    /// Its process id.
    public let pid: Int32
    private let stdoutFD: Int32
    private var reaped = false
    /// The wait status once reaped.
    public private(set) var waitStatus: Int32 = 0

    init(pid: Int32, stdoutFD: Int32) {
        self.pid = pid
        self.stdoutFD = stdoutFD
    }

    /// Reads one line from the child's stdout, without the newline; nil at end of file or when
    /// no byte comes for `timeoutSeconds` (a fixture that never answers fails its test instead
    /// of stalling the whole run).
    public func readLine(timeoutSeconds: Int32 = 60) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            var p = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, timeoutSeconds * 1000)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            let n = read(stdoutFD, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// Sends a signal.
    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for the child (reaps it) and returns the raw wait status.
    @discardableResult
    public func wait() -> Int32 {
        guard !reaped else { return waitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        waitStatus = status
        return status
    }

    /// Waits until the child has exited without reaping it (it stays a zombie).
    public func waitUntilZombie() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            wait()
        }
        close(stdoutFD)
    }
}

/// Starts a program with its stdout on a pipe the test reads.
/// - Parameters:
///   - argv: The program (a path or a name looked up in PATH) and its arguments.
///   - setsid: Whether to start it in a new session (POSIX_SPAWN_SETSID).
public func spawnChild(_ argv: [String], setsid: Bool = false) throws -> Child {
    var fds: [Int32] = [0, 0]
    guard cloexecPipe(&fds) else { throw SpawnError(message: "pipe2: errno \(errno)") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    var attr = posix_spawnattr_t()
    initSpawnAttributes(&attr, setsid: setsid)
    defer { posix_spawnattr_destroy(&attr) }
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, environ)
    close(fds[1])
    guard rc == 0 else {
        close(fds[0])
        throw SpawnError(message: "cannot start \(argv[0]): errno \(rc)")
    }
    return Child(pid: pid, stdoutFD: fds[0])
}

/// Runs a command to completion and captures its output.
/// - Parameter argv: The program and its arguments.
public func runCommand(_ argv: [String]) throws -> CommandResult {
    var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
    guard cloexecPipe(&out), cloexecPipe(&err) else { throw SpawnError(message: "pipe2") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, out[1], 1)
    posix_spawn_file_actions_adddup2(&actions, err[1], 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    var attr = posix_spawnattr_t()
    initSpawnAttributes(&attr, setsid: false)
    defer { posix_spawnattr_destroy(&attr) }
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, environ)
    close(out[1]); close(err[1])
    defer { close(out[0]); close(err[0]) }
    guard rc == 0 else { throw SpawnError(message: "cannot start \(argv[0]): errno \(rc)") }
    // Drain both pipes (stderr after stdout; outputs here are small).
    let stdout = drain(out[0]), stderr = drain(err[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return CommandResult(status: code, stdout: stdout, stderr: stderr)
}

/// Children start with no blocked signals and default dispositions: the test runner's worker
/// threads block signals, and a child would otherwise inherit that mask (and ignore SIGTERM).
private func initSpawnAttributes(_ attr: inout posix_spawnattr_t, setsid: Bool) {
    posix_spawnattr_init(&attr)
    var empty = sigset_t(), all = sigset_t()
    sigemptyset(&empty)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    // POSIX_SPAWN_SETSIGDEF 0x04 | POSIX_SPAWN_SETSIGMASK 0x08 | POSIX_SPAWN_SETSID 0x80 (glibc)
    posix_spawnattr_setflags(&attr, Int16(0x04 | 0x08 | (setsid ? 0x80 : 0)))
}

/// pipe2(O_CLOEXEC) (not exported by the Glibc module without _GNU_SOURCE).
private func cloexecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}

private func drain(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A helper failed to start something.
public struct SpawnError: Error, CustomStringConvertible {
    /// What failed.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Whether the tests run as root (CI does; some process states need it).
public var runningAsRoot: Bool { geteuid() == 0 }

/// The repository root, from this file's path (Tests/TestSupport/Subprocess.swift).
public let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let builtFixtures = Mutex<[Int: String]>([:])

/// Builds the C fixture program (Tests/Fixtures/testproc.c) once per test process and returns
/// its path (rebuilding it under running children would make their /proc/PID/exe "(deleted)").
/// - Parameter bits: 64 for the native build, 32 for an i386 ELF (needs gcc-multilib).
public func fixtureProgram(bits: Int = 64) throws -> String {
    try builtFixtures.withLock { built in
        if let path = built[bits] { return path }
        let path = try buildFixture(bits: bits)
        built[bits] = path
        return path
    }
}

private func buildFixture(bits: Int) throws -> String {
    let output = "/tmp/ium-testproc-\(getpid())-\(bits)"
    let source = repositoryRoot + "/Tests/Fixtures/testproc.c"
    let result = try runCommand(["cc", bits == 32 ? "-m32" : "-m64", "-O1", "-Wall", "-o", output + ".new", source, "-lpthread"])
    guard result.status == 0 else {
        throw SpawnError(message: "cannot build the \(bits)-bit fixture (install gcc-multilib for -m32): \(result.stderr)")
    }
    guard rename(output + ".new", output) == 0 else { throw SpawnError(message: "rename: errno \(errno)") }
    return output
}

/// Starts the fixture in a mode and waits until it reports `ready` (or another first line).
/// - Parameters:
///   - args: The fixture's mode and arguments.
///   - bits: 64 or 32.
///   - setsid: Whether to start it in a new session.
/// - Returns: The child and the first line it printed.
public func startFixture(_ args: [String], bits: Int = 64, setsid: Bool = false) throws -> (Child, String) {
    let child = try spawnChild([try fixtureProgram(bits: bits)] + args, setsid: setsid)
    guard let line = child.readLine() else { throw SpawnError(message: "fixture \(args) exited before it was ready") }
    return (child, line)
}

/// A path in a new temporary directory (mode 0755: other users reach sockets in it).
/// - Parameter name: The file name in the directory.
public func temporaryPath(_ name: String) -> String {
    var template = Array("/tmp/ium-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return "/tmp" }
        return String(cString: made)
    }
    chmod(dir, 0o755)
    return dir + "/" + name
}

/// The built binaries (`make test` builds them before the tests run).
public let builtBinaries = repositoryRoot + "/.build/debug"

private let testDaemonCount = Mutex(0)

/// A real iumd for a test, with its own guard (pinned under `/sys/fs/bpf/ium-test-<pid>-<n>`),
/// socket and audit store: the machine's own guard is never touched. Stopping it (or its
/// deinit) stops the daemon and unloads its guard.
public final class TestDaemon {
    /// The daemon process.
    public let child: Child
    /// Its socket.
    public let socket: String
    /// Its guard's pin directory.
    public let pinDirectory: String
    /// Its audit store.
    public let database: String
    private var stopped = false

    /// Whether a test daemon can run here: root, and iumd and the guard built.
    public static var canRun: Bool {
        runningAsRoot && access(builtBinaries + "/iumd", X_OK) == 0
    }

    /// Starts iumd and waits until it serves.
    /// - Parameter arguments: More iumd arguments (e.g. `--backend kill`).
    public init(_ arguments: [String] = []) throws {
        let n = testDaemonCount.withLock { n in
            n += 1
            return n
        }
        let dir = temporaryPath("daemon")
        _ = mkdir(dir, 0o755)
        socket = dir + "/iumd.sock"
        database = dir + "/audit.sqlite"
        pinDirectory = "/sys/fs/bpf/ium-test-\(getpid())-\(n)"
        child = try spawnChild([builtBinaries + "/iumd", "--pin-dir", pinDirectory, "--socket", socket, "--database", database] + arguments)
        for _ in 0..<1000 where access(socket, F_OK) != 0 && kill(child.pid, 0) == 0 { usleep(10_000) }
        guard access(socket, F_OK) == 0 else {
            stop()
            throw SpawnError(message: "iumd did not start")
        }
    }

    /// Stops the daemon (SIGTERM) and unloads its guard.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        child.signal(SIGTERM)
        child.wait()
        if access(pinDirectory, F_OK) == 0 {
            _ = try? runCommand([builtBinaries + "/iumd", "--pin-dir", pinDirectory, "--unload"])
        }
    }

    deinit { stop() }
}
