// SPDX-License-Identifier: Apache-2.0
//
// The guard against this machine's kernel (root and BPF needed; CI runs as root). These tests
// load the backend the kernel supports (kill on the development host, whose kernel refuses
// lsm programs), tag real processes and read the tag store, events and counters. The attack
// matrix (Tests/attack/matrix.sh) proves enforcement, on the host and in the VM.

#if canImport(Glibc)
import Glibc
#endif
import Testing
import NTModel
import ProcessTable
@testable import KernelGuard
import TestSupport

let guardObject: String? = {
    let path = repositoryRoot + "/.build/bpf/ium-guard.bpf.o"
    return access(path, R_OK) == 0 ? path : KernelGuard.defaultObjectPath()
}()

let canLoadGuard = runningAsRoot && guardObject != nil

@Suite("Kernel guard on this kernel", .serialized, .enabled(if: canLoadGuard, "needs root and the built guard (make bpf)"))
struct KernelGuardTests {
    func loaded() throws -> KernelGuard {
        try? KernelGuard.unload()
        return try KernelGuard.load(objectPath: guardObject)
    }

    @Test("load picks a backend, says why, and pins maps and links under /sys/fs/bpf/ium")
    func loadAndPin() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        #expect(!g.reason.isEmpty)
        #expect(access(KernelGuard.pinRoot + "/ium_tags", F_OK) == 0)
        #expect(access(KernelGuard.pinRoot + "/link_ium_process_fork", F_OK) == 0)
        if g.backend == .kill { #expect(access(KernelGuard.pinRoot + "/link_ium_enter_ptrace", F_OK) == 0) }
    }

    @Test("a tag is readable through the pinned maps by a new guard object (daemon restart)")
    func tagSurvivesAdoption() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        let (child, _) = try startFixture(["sleep"])
        let (other, _) = try startFixture(["sleep"])
        try g.tag(pid: child.pid)
        let adopted = try #require(try KernelGuard.adopt())
        #expect(adopted.backend == g.backend)
        #expect(adopted.isSecure(pid: child.pid))
        #expect(!adopted.isSecure(pid: other.pid))
        #expect(try adopted.tagFlags(pid: child.pid) == 1)
    }

    @Test("IsSecureProcess is read from the kernel tag store")
    func secureFlagFromTagStore() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        let (child, _) = try startFixture(["sleep"])
        let reader = ProcReader(kernel: GuardKernelFacts(g))
        #expect(try ProcessObject.open(pid: child.pid, reader: reader).snapshot().extendedFlags() == [])
        try g.tag(pid: child.pid)
        #expect(try ProcessObject.open(pid: child.pid, reader: reader).snapshot().extendedFlags() == [.isSecureProcess])
    }

    @Test("tagging is refused for pid 1, a kernel thread, a missing process and a traced process")
    func refusals() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        #expect { try g.tag(pid: 1) } throws: { ($0 as? GuardError)?.code == .refused }
        #expect { try g.tag(pid: 2) } throws: { ($0 as? GuardError)?.code == .refused }
        #expect { try g.tag(pid: 0x7FFF_FFF0) } throws: { ($0 as? GuardError)?.code == .noSuchProcess }
        let (child, _) = try startFixture(["sleep"])
        let strace = try spawnChild(["strace", "-qq", "-o", "/dev/null", "-p", String(child.pid)])
        for _ in 0..<500 where (try? ProcReader().status(child.pid).tracerPid) != strace.pid { usleep(10_000) }
        #expect { try g.tag(pid: child.pid) } throws: { error in
            let e = error as? GuardError
            return e?.code == .refused && e?.message.contains("being traced by process \(strace.pid)") == true
        }
        #expect(!g.isSecure(pid: child.pid))
        strace.signal(SIGINT)
        strace.wait()
    }

    @Test("a child forked after tagging inherits the tag; one forked before does not")
    func inheritance() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        let (forker, _) = try startFixture(["forker"])
        forker.signal(SIGUSR1)
        let before = try #require(Int32(forker.readLine()?.split(separator: " ").last ?? ""))
        try g.tag(pid: forker.pid)
        let inherited = g.counters().tagsInherited
        forker.signal(SIGUSR1)
        let after = try #require(Int32(forker.readLine()?.split(separator: " ").last ?? ""))
        #expect(!g.isSecure(pid: before))
        #expect(g.isSecure(pid: after))
        #expect(g.counters().tagsInherited > inherited)
        kill(before, SIGKILL)
        kill(after, SIGKILL)
    }

    @Test("denials are events and counters")
    func eventsAndCounters() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        let (victim, _) = try startFixture(["sleep"])
        try g.tag(pid: victim.pid)
        let reader = try g.events()
        _ = reader.poll(timeoutMilliseconds: 0)
        let before = g.counters()
        let r = try runCommand(["cat", "/proc/\(victim.pid)/environ"])
        #expect(r.status != 0)
        let events = reader.poll(timeoutMilliseconds: 500).filter { $0.kind == .denial }
        let denial = try #require(events.first, "no denial event")
        #expect(denial.targetPid == victim.pid)
        #expect(denial.comm == "cat")
        #expect(denial.backend == g.backend)
        #expect(g.counters().denials == before.denials + 1)
    }

    @Test("fork, exec and exit of a process are events with the creator and the exit status")
    func lifecycleEvents() throws {
        let g = try loaded()
        defer { try? KernelGuard.unload() }
        let reader = try g.events()
        _ = reader.poll(timeoutMilliseconds: 0)
        let r = try runCommand(["sh", "-c", "exit 7"])
        #expect(r.status == 7)
        var events: [GuardEvent] = []
        for _ in 0..<10 { events += reader.poll(timeoutMilliseconds: 100) }
        let fork = try #require(events.first { $0.kind == .fork && $0.creatorPid == getpid() })
        #expect(events.contains { $0.kind == .exec && $0.pid == fork.pid && $0.filename.hasSuffix("sh") })
        let exit = try #require(events.first { $0.kind == .exit && $0.pid == fork.pid })
        #expect(exit.exitCode == 7 << 8)
    }
}

// The guard is machine-wide: every test that loads it is in this one serialized suite.
extension KernelGuardTests {
    @Test("ium query shows IsSecureProcess 1 for a tagged process and 0 for another")
    func querySecure() throws {
        try? KernelGuard.unload()
        let g = try KernelGuard.load(objectPath: guardObject)
        defer { try? KernelGuard.unload() }
        let (secure, _) = try startFixture(["sleep"])
        let (plain, _) = try startFixture(["sleep"])
        try g.tag(pid: secure.pid)
        let ium = repositoryRoot + "/.build/debug/ium"
        let tagged = try runCommand([ium, "query", "--local", String(secure.pid)])
        #expect(tagged.stdout.contains("  Flags                         0x00000080 (IsSecureProcess)\n"))
        #expect(tagged.stdout.contains("    IsSecureProcess       1\n"))
        let untagged = try runCommand([ium, "query", "--local", String(plain.pid)])
        #expect(untagged.stdout.contains("    IsSecureProcess       0\n"))
    }
}
