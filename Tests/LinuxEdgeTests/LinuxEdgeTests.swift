// SPDX-License-Identifier: Apache-2.0
//
// The Linux edge against the real kernel: files and directories, SOCK_SEQPACKET messages with
// credentials and passed descriptors, pidfds of real children and their exit.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import LinuxEdge
import SystemPackage

@Suite("The Linux edge")
struct LinuxEdgeTests {
    @Test("a directory that cannot be listed is an error with its errno, never a short list")
    func listingFails() {
        #expect(throws: Errno.noSuchFileOrDirectory) { _ = try Files.numericEntries("/nonexistent-ium-test") }
        #expect(throws: Errno.notDirectory) { _ = try Files.entryNames("/proc/self/stat") }
    }

    @Test("numeric entries are exactly the decimal names; entry names leave out . and ..")
    func listings() throws {
        let dir = "/tmp/ium-edge-\(getpid())"
        mkdir(dir, 0o700)
        defer { for name in (try? Files.entryNames(dir)) ?? [] { unlink("\(dir)/\(name)") }; rmdir(dir) }
        for name in ["12", "007", "x1", "1x", "2147483648"] { close(creat("\(dir)/\(name)", 0o600)) }
        #expect(try Files.numericEntries(dir).sorted() == [7, 12])
        #expect(try Files.entryNames(dir).sorted() == ["007", "12", "1x", "2147483648", "x1"])
        #expect(try Files.numericEntries("/proc").contains(getpid()))
    }

    @Test("a file is read whole, a link's target and a path's owner are the kernel's")
    func files() throws {
        let path = "/tmp/ium-edge-file-\(getpid())"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { unlink(path) }
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try Files.writeAll(fd, bytes)
        close(fd)
        #expect(try Files.read(path) == bytes)
        #expect(try Files.read(path, limit: 4096).count == 4096)
        #expect(throws: Errno.noSuchFileOrDirectory) { _ = try Files.read(path + ".missing") }
        #expect(try Files.readLink("/proc/self") == "\(getpid())")
        #expect(try Files.ownerUID(path) == getuid())
    }

    @Test("one message per send, its whole length with .truncate, credentials and a passed descriptor")
    func seqpacket() throws {
        let path = "/tmp/ium-edge-sock-\(getpid())"
        let listener = try Sockets.listen(path: path, backlog: 4)
        defer { close(listener); unlink(path) }
        let client = try Sockets.connect(path: path)
        defer { close(client) }
        let server = try Sockets.accept(listener)
        defer { close(server) }
        let peer = try Sockets.peer(server)
        #expect(peer == PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()))

        #expect(Sockets.sendMessage(client, [1, 2, 3, 4, 5]))
        var small = [UInt8](repeating: 0, count: 2)
        #expect(try Sockets.receive(server, into: &small, flags: .truncate) == 5, "the message's whole length")
        #expect(small == [1, 2])

        let passed = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        #expect(Sockets.sendMessage(server, [9], passing: passed))
        close(passed)
        var buffer = [UInt8](repeating: 0, count: 8)
        let (count, descriptor) = try Sockets.receiveWithDescriptor(client, into: &buffer)
        defer { close(descriptor) }
        #expect(count == 1 && buffer[0] == 9 && descriptor >= 0)
        #expect(try Files.readLink("/proc/self/fd/\(descriptor)") == "/proc/\(getpid())/stat")

        #expect(throws: Errno.wouldBlock) { _ = try Sockets.receive(client, into: &buffer, flags: .dontWait) }
        close(server)
        #expect(try Sockets.receive(client, into: &buffer) == 0, "end of stream")
        #expect(throws: Errno.brokenPipe) { try Sockets.send(client, [1][...]) }
    }

    @Test("a pidfd follows a real child to its exit; the wait status becomes the shell's exit code")
    func pidfds() throws {
        // The child exits with 7 once the parent closes the pipe: it runs until then, whatever
        // the machine's load.
        var pipeFDs: [Int32] = [-1, -1]
        try #require(pipe(&pipeFDs) == 0)
        let child = fork()
        if child == 0 {
            close(pipeFDs[1])
            var byte: UInt8 = 0
            _ = read(pipeFDs[0], &byte, 1)
            _exit(7)
        }
        close(pipeFDs[0])
        let fd = try Processes.pidfd(child)
        defer { close(fd) }
        #expect(try Processes.hasExited(pidfd: fd) == false)
        #expect(Processes.readProbe(child), "the parent passes the read check on its own child")
        close(pipeFDs[1])
        let status = try Processes.wait(child)
        #expect(Processes.exitCode(waitStatus: status) == 7)
        #expect(try Processes.hasExited(pidfd: fd) == true)
        #expect(throws: Errno.noSuchProcess) { _ = try Processes.pidfd(child) }
        #expect(try Files.readLink("/proc/thread-self") == "\(getpid())/task/\(Processes.threadID)")
    }

    @Test("a fixed C array reads as its string up to the NUL; C structs compare by their bytes")
    func bytes() {
        var u = utsname()
        uname(&u)
        #expect(string(fromCArray: u.sysname) == "Linux")
        #expect(sameBytes(timespec(tv_sec: 1, tv_nsec: 2), timespec(tv_sec: 1, tv_nsec: 2)))
        #expect(!sameBytes(timespec(tv_sec: 1, tv_nsec: 2), timespec(tv_sec: 1, tv_nsec: 3)))
    }
}

@Suite("Locked, the one lock type")
struct LockedTests {
    struct Counts { var total = 0, inside = 0, mostInside = 0, done = 0 }

    @Test("eight threads, 50,000 increments each: none lost, never two inside at once")
    func mutualExclusion() throws {
        let counts = Locked(Counts())
        let threads = 8, increments = 50_000
        for _ in 0..<threads {
            #expect(startThread {
                for _ in 0..<increments {
                    counts.withLock { c in
                        c.inside += 1
                        c.mostInside = max(c.mostInside, c.inside)
                        c.total += 1
                        c.inside -= 1
                    }
                }
                counts.withLock { $0.done += 1 }
            })
        }
        var waited = 0
        while counts.withLock({ $0.done }) < threads, waited < 60_000 {
            usleep(1000)
            waited += 1
        }
        let final = counts.withLock { $0 }
        #expect(final.done == threads)
        #expect(final.total == threads * increments)
        #expect(final.mostInside == 1)
    }

    @Test("an error thrown inside leaves the lock free and the change made before it")
    func throwReleases() {
        let value = Locked(0)
        #expect(throws: Errno.invalidArgument) {
            try value.withLock { (v: inout Int) throws(Errno) in
                v = 7
                throw Errno.invalidArgument
            }
        }
        #expect(value.withLock { $0 } == 7)
    }
}
