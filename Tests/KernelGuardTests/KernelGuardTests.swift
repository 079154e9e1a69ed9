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
import Synchronization
import GuardABI
@testable import KernelGuard
import TestSupport

let canLoadGuard = runningAsRoot

/// A guard pinned under a test directory of its own, unloaded when the test ends: the
/// machine's own guard (/sys/fs/bpf/ium) is never touched.
final class TestGuard {
    static let count = Mutex(0)
    let pinDirectory: String
    var guardRef: KernelGuard?
    init(backend: Backend? = nil) throws {
        let n = Self.count.withLock { n in
            n += 1
            return n
        }
        pinDirectory = "/sys/fs/bpf/ium-test-\(getpid())-g\(n)"
        guardRef = try KernelGuard.open(pinDirectory: pinDirectory, backend: backend)
    }
    var g: KernelGuard { guardRef! }
    deinit {
        try? guardRef?.unload()
        guardRef = nil
    }
}

@Suite("Kernel guard on this kernel", .serialized, .enabled(if: canLoadGuard, "needs root (BPF)"))
struct KernelGuardTests {
    @Test("open picks a backend, says why, and pins maps and links under its directory")
    func loadAndPin() throws {
        let t = try TestGuard()
        #expect(!t.g.reason.isEmpty)
        #expect(access(t.pinDirectory + "/ium_tags", F_OK) == 0)
        #expect(access(t.pinDirectory + "/link_ium_process_fork", F_OK) == 0)
        if t.g.backend == .kill { #expect(access(t.pinDirectory + "/link_ium_enter_ptrace", F_OK) == 0) }
        #expect(!KernelGuard.isLoaded(pinDirectory: t.pinDirectory + "-other"))
    }

    @Test("one owner: a second open of the same guard is refused and names the owner")
    func oneOwner() throws {
        let t = try TestGuard()
        #expect { try KernelGuard.open(pinDirectory: t.pinDirectory) } throws: { error in
            let e = error as? GuardError
            return e?.code == .busy && e?.message == "another process (pid \(getpid())) owns the guard at \(t.pinDirectory)"
        }
        #expect { try KernelGuard.openPinned(pinDirectory: t.pinDirectory) } throws: { ($0 as? GuardError)?.code == .busy }
    }

    @Test("a tag is readable by the next owner of the pinned guard (daemon restart)")
    func tagSurvivesAdoption() throws {
        let t = try TestGuard()
        let (child, _) = try startFixture(["sleep"])
        let (other, _) = try startFixture(["sleep"])
        #expect(try t.g.tag(pid: child.pid, flags: .secure) == .tagged)
        let backend = t.g.backend
        t.guardRef = nil // releases the ownership; the pins stay
        t.guardRef = try KernelGuard.openPinned(pinDirectory: t.pinDirectory)
        #expect(t.g.backend == backend)
        #expect(try t.g.tagFlags(pid: child.pid) == TagFlags.secure.rawValue)
        #expect(try t.g.tagFlags(pid: other.pid) == 0)
        #expect { try t.g.tagFlags(pid: 0x7FFF_FFF0) } throws: { ($0 as? GuardError)?.code == .noSuchProcess }
    }

    @Test("unload removes the pins (unsealed); openPinned then finds no guard")
    func unload() throws {
        let t = try TestGuard()
        #expect(try t.g.state() == GuardState(sealed: false, sealedNanoseconds: 0))
        try t.g.unload()
        #expect(access(t.pinDirectory, F_OK) != 0)
        t.guardRef = nil
        #expect { try KernelGuard.openPinned(pinDirectory: t.pinDirectory) } throws: { ($0 as? GuardError)?.code == .notLoaded }
    }

    @Test("a child forked after tagging inherits the tag; one forked before does not")
    func inheritance() throws {
        let t = try TestGuard()
        let g = t.g
        let (forker, _) = try startFixture(["forker"])
        forker.signal(SIGUSR1)
        let before = try #require(Int32(forker.readLine()?.split(separator: " ").last ?? ""))
        #expect(try g.tag(pid: forker.pid, flags: .secure) == .tagged)
        let inherited = g.counters().tagsInherited
        forker.signal(SIGUSR1)
        let after = try #require(Int32(forker.readLine()?.split(separator: " ").last ?? ""))
        #expect(try g.tagFlags(pid: before) == 0)
        #expect(try g.tagFlags(pid: after) == TagFlags.secure.rawValue)
        #expect(g.counters().tagsInherited > inherited)
        kill(before, SIGKILL)
        kill(after, SIGKILL)
    }

    @Test("denials are events and counters")
    func eventsAndCounters() throws {
        let t = try TestGuard()
        let g = t.g
        let (victim, _) = try startFixture(["sleep"])
        #expect(try g.tag(pid: victim.pid, flags: .secure) == .tagged)
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

    @Test("a passed read probe is recorded for iumd and mirrored in the probe cache it maps; a refused or view-only one in neither")
    func probeRecords() throws {
        let t = try TestGuard()
        let g = t.g
        let (target, _) = try startFixture(["sleep"])
        defer { target.signal(SIGKILL); _ = target.wait() }
        // Probers are single-threaded fixtures: under kill a probe from a shared file table is not recorded.
        let (prober, line) = try startFixture(["probe", "\(target.pid)"])
        defer { prober.signal(SIGKILL); _ = prober.wait() }
        #expect(line == "probe passed")
        let recorded = try #require(try g.readProbe(caller: prober.pid, target: target.pid))
        #expect(recorded.startStack != 0)
        #expect(g.cachedProbe(caller: prober.pid, target: target.pid) == recorded, "the cache holds the same record")
        #expect(g.cachedProbe(caller: target.pid, target: prober.pid) == nil, "nor does it answer for another pair")
        let nobody = try spawnChild(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", try fixtureProgram(),
                                     "probe", "\(target.pid)"])
        defer { nobody.signal(SIGKILL); _ = nobody.wait() }
        #expect(nobody.readLine() == "probe refused")
        #expect(try g.readProbe(caller: nobody.pid, target: target.pid) == nil)
        #expect(g.cachedProbe(caller: nobody.pid, target: target.pid) == nil)
        let (viewOnly, passed) = try startFixture(["probe", "\(target.pid)", "\(IUM_PROBE_VIEW_ONLY)"])
        defer { viewOnly.signal(SIGKILL); _ = viewOnly.wait() }
        #expect(passed == "probe passed")
        #expect(try g.readProbe(caller: viewOnly.pid, target: target.pid) == nil, "the in-client query's probe: no record")
        #expect(g.cachedProbe(caller: viewOnly.pid, target: target.pid) == nil)
    }

    @Test("fork, exec and exit of a process are events with the creator and the exit status")
    func lifecycleEvents() throws {
        let t = try TestGuard()
        let g = t.g
        let reader = try g.events()
        _ = reader.poll(timeoutMilliseconds: 0)
        let r = try runCommand(["sh", "-c", "exit 7"])
        #expect(r.status == 7)
        var events: [GuardEvent] = []
        for _ in 0..<10 { events += reader.poll(timeoutMilliseconds: 100) }
        let fork = try #require(events.first { $0.kind == .fork && $0.creatorPid == getpid() })
        let exec = try #require(events.first { $0.kind == .exec && $0.pid == fork.pid && $0.comm == "sh" })
        #expect(exec.execId > 0 && exec.startNanoseconds == fork.startNanoseconds)
        let exit = try #require(events.first { $0.kind == .exit && $0.pid == fork.pid })
        #expect(exit.exitCode == 7 << 8)
    }

    @Test("a reader too slow for the lifecycle ring counts every record the guard overwrote: read + lost = written")
    func lifecycleOverwritten() throws {
        let t = try TestGuard()
        let g = t.g
        // A guard loaded just now: the reader starts at its first record.
        let reader = try g.events()
        // 2 records (fork, exit) per child: more than every CPU's ring holds.
        let children = Int(IUM_LIFECYCLE_SLOTS) * max(g.lifecycleCPUs, 2)
        let burst = try runCommand([try fixtureProgram(), "forks", "\(children)"])
        #expect(burst.status == 0, "\(burst.stderr)")
        var balanced = false
        for _ in 0..<20 where !balanced {
            _ = reader.poll(timeoutMilliseconds: 0)
            balanced = reader.recordsRead + reader.recordsLost == g.lifecycleRecordsWritten()
        }
        #expect(balanced, "read \(reader.recordsRead) + lost \(reader.recordsLost) != written \(g.lifecycleRecordsWritten())")
        #expect(reader.recordsLost > 0, "the burst outran the ring")
        #expect(reader.recordsRead >= UInt64(IUM_LIFECYCLE_SLOTS), "the newest records were kept")
    }
}

