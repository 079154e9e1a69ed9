// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import KernelGuard
import Logging
import ProcessTable

/// `iumd --seal`: makes the guard irreversible until reboot (README, "Sealed mode").
///
/// Before the seal iumd makes sure it can honour it: the lsm backend; every file it runs
/// from (its image, the loader, its libraries, the NSS modules it will need) recorded by
/// identity, so a restarted iumd is recognised by its unchanged files, never by name; and no
/// other process holding an fd to the guard's maps or programs (an fd opened before the seal
/// would outlive it).
enum Sealing {
    /// Written when the guard is sealed (for people and tests; the kernel state is the truth).
    static let marker = "/run/ium/sealed"

    /// Seals the guard, or reports that it already is.
    static func seal(_ guardRef: KernelGuard, logger: Logger) throws(DaemonError) {
        do {
            if try guardRef.state().sealed {
                logger.notice("the guard is sealed", metadata: ["pins": "\(guardRef.pinDirectory)"])
                return
            }
        } catch {
            throw DaemonError(exitCode: 69, message: "cannot read the guard's state: \(error)")
        }
        guard guardRef.backend == .lsm else {
            throw DaemonError(exitCode: 69, message: "cannot seal: sealing needs the lsm backend, and this kernel runs the kill backend (\(guardRef.reason))")
        }
        // Load what iumd maps later (NSS for the 'ium' group) before its files are recorded.
        _ = getgrnam("ium")
        let (image, code): (FileIdentity, [FileIdentity])
        do { (image, code) = try daemonFiles() } catch {
            throw DaemonError(exitCode: 1, message: "cannot seal: \(error)")
        }
        let holders: [(pid: Int32, comm: String, what: String)]
        do {
            let ids = try guardRef.objectIDs()
            holders = try foreignHolders(maps: ids.maps, programs: ids.programs)
        } catch {
            throw DaemonError(exitCode: 1, message: "cannot seal: cannot check who holds the guard's maps and programs: \(error)")
        }
        if let holder = holders.first {
            throw DaemonError(exitCode: 1, message: "cannot seal: process \(holder.pid) (\(holder.comm)) holds an fd to the guard's \(holder.what); stop it first")
        }
        guard let cgroup = ProcReader.findCgroup2Mount() else {
            throw DaemonError(exitCode: 1, message: "cannot seal: no cgroup v2 hierarchy is mounted (the sysctl guard attaches to its root)")
        }
        do {
            try guardRef.seal(image: image, code: code, cgroupRoot: cgroup)
        } catch {
            throw DaemonError(exitCode: 1, message: "cannot seal: \(error)")
        }
        let text = "sealed \(guardRef.pinDirectory) by iumd pid \(getpid())\n"
        let fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        logger.notice("guard sealed until reboot", metadata: ["image": "\(image)", "code files": "\(code.count)"])
    }

    /// iumd's image and every file it maps executable (/proc/self/maps).
    static func daemonFiles() throws(GuardError) -> (image: FileIdentity, code: [FileIdentity]) {
        let exe: String
        do { exe = try ProcFS.readlink("/proc/self/exe") } catch {
            throw GuardError(.io, "cannot read /proc/self/exe")
        }
        guard !exe.hasSuffix(" (deleted)") else { throw GuardError(.refused, "iumd's image \(exe) was deleted or replaced") }
        var paths: [String] = []
        let maps: String
        do { maps = try ProcFS.text("/proc/self/maps") } catch {
            throw GuardError(.io, "cannot read /proc/self/maps: \(error)")
        }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].contains("x") else { continue }
            let path = String(fields[5].drop(while: { $0 == " " }))
            guard path.hasPrefix("/") else { continue }
            guard !path.hasSuffix(" (deleted)") else { throw GuardError(.refused, "iumd maps \(path), which was deleted or replaced") }
            if !paths.contains(path) { paths.append(path) }
        }
        var code: [FileIdentity] = []
        for path in paths { code.append(try FileIdentity(path: path)) }
        return (try FileIdentity(path: exe), code)
    }

    /// Other processes holding an fd to one of the guard's maps or programs (links are
    /// harmless: LSM and tp_btf links cannot be detached or updated).
    /// Every listing and read must succeed, except for a process or fd that is gone: a check
    /// that cannot see is an error, not "nobody".
    static func foreignHolders(maps: Set<UInt32>, programs: Set<UInt32>, procRoot: String = "/proc")
        throws(ProcessTableError) -> [(pid: Int32, comm: String, what: String)] {
        var found: [(Int32, String, String)] = []
        let pids: [Int32]
        do { pids = try ProcFS.numericEntries(procRoot) } catch {
            throw ProcessTableError(.io, path: procRoot, errno: error.errno)
        }
        for pid in pids where pid != getpid() {
            let fds: [Int32]
            do { fds = try ProcFS.numericEntries("\(procRoot)/\(pid)/fdinfo") } catch where error.code == .noSuchProcess { continue }
            for fd in fds {
                let info: String
                do { info = try ProcFS.text("\(procRoot)/\(pid)/fdinfo/\(fd)") } catch where error.code == .noSuchProcess { continue }
                guard !info.contains("link_type:") else { continue }
                for line in info.split(separator: "\n") {
                    let kv = line.split(separator: ":", maxSplits: 1)
                    guard kv.count == 2, let id = UInt32(kv[1].trimmingCharacters(in: " \t")) else { continue }
                    if (kv[0] == "map_id" && maps.contains(id)) || (kv[0] == "prog_id" && programs.contains(id)) {
                        let comm = (try? ProcFS.text("\(procRoot)/\(pid)/comm"))?.trimmingCharacters(in: "\n") ?? "?"
                        found.append((pid, comm, "\(kv[0] == "map_id" ? "map" : "program") \(id)"))
                    }
                }
            }
        }
        return found
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return s
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { String(self[...].trimmingCharacters(in: set)) }
}
