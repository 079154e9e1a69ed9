// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI

/// O_PATH (not exported by the Glibc module without _GNU_SOURCE): an fd that names a file
/// without opening it, enough to key inode storage.
let oPath: Int32 = 0o10_000_000

/// Whether the guard is sealed, and since when.
public struct GuardState: Hashable, Sendable {
    /// Sealed: until reboot only the sealed iumd may touch the guard (README, "Sealed mode").
    public var sealed: Bool
    /// When it was sealed (boot clock, nanoseconds).
    public var sealedNanoseconds: UInt64
}

/// A file by the identity the guard checks: device (kernel encoding), inode, ctime.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The path it was read from.
    public var path: String
    /// `super_block.s_dev`: major << 20 | minor.
    public var device: UInt64
    /// The inode number.
    public var inode: UInt64
    /// The inode's change time (a write, truncate, chmod or rename updates it).
    public var ctimeSeconds: Int64
    /// Nanoseconds of the change time.
    public var ctimeNanoseconds: UInt32

    /// Reads a file's identity (stat; follows symlinks).
    /// - Parameter path: The file.
    public init(path: String) throws(GuardError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw GuardError(.io, "cannot stat \(path)", errno: errno) }
        let major = UInt64((st.st_dev >> 8) & 0xFFF | (st.st_dev >> 32) & ~0xFFF)
        let minor = UInt64(st.st_dev & 0xFF | (st.st_dev >> 12) & ~0xFF)
        self.path = path
        device = major << 20 | minor
        inode = UInt64(st.st_ino)
        ctimeSeconds = Int64(st.st_ctim.tv_sec)
        ctimeNanoseconds = UInt32(st.st_ctim.tv_nsec)
    }

    /// `path (dev:ino)`.
    public var description: String { "\(path) (\(device >> 20):\(device & 0xFFFFF) inode \(inode))" }
}

extension KernelGuard {
    /// The guard's state.
    public func state() throws(GuardError) -> GuardState {
        var zero: UInt32 = 0
        var state = ium_state()
        guard bpf_map_lookup_elem(try mapFD(Self.statePin), &zero, &state) == 0 else {
            throw GuardError(.mapFailed, "cannot read the guard's state", errno: errno)
        }
        return GuardState(sealed: state.sealed != 0, sealedNanoseconds: state.sealed_ns)
    }

    /// Seals the guard until reboot (lsm backend). From then on, for every task but the
    /// daemon — a process exec'ing `image` unchanged, mapping only `code` — the guard refuses
    /// fds to its maps and programs, removing or changing its pins, unmounting bpffs or sysfs,
    /// tracing-class BPF programs and tokens, the lockdown reasons that read or write kernel
    /// memory, module and kexec loading, probe PMUs, CPU-wide user sampling, signals to the
    /// daemon from anyone but PID 1, and writes to kernel.core_pattern, fs.suid_dumpable and
    /// kernel.ftrace_enabled.
    /// - Parameters:
    ///   - image: The daemon's executable.
    ///   - code: Every file the daemon maps executable (its image, the loader, libraries).
    ///   - cgroupRoot: The cgroup v2 root the sysctl program is attached to.
    public func seal(image: FileIdentity, code: [FileIdentity], cgroupRoot: String) throws(GuardError) {
        guard backend == .lsm else {
            throw GuardError(.refused, "sealing needs the lsm backend: this kernel runs the kill backend (\(reason))",
                             hint: "boot a kernel with the BPF LSM active (bpf in lsm=) to seal")
        }
        if try state().sealed { return }
        // 1. The daemon's files, frozen: nothing can add one later.
        let daemonCode = try mapFD("ium_daemon_code")
        for file in code + [image] {
            var key = ium_file_key(dev: file.device, ino: file.inode)
            var id = ium_file_identity(ctime_sec: file.ctimeSeconds, ctime_nsec: file.ctimeNanoseconds,
                                       flags: file == image ? UInt32(IUM_DAEMON_FILE_IMAGE) : 0)
            guard bpf_map_update_elem(daemonCode, &key, &id, UInt64(BPF_ANY)) == 0 else {
                throw GuardError(.mapFailed, "cannot record \(file) as the daemon's", errno: errno)
            }
        }
        try LibBPF.check(bpf_map_freeze(daemonCode), .mapFailed, "cannot freeze the daemon's files")
        // 2. The pins, their directory, and the bpffs they live in.
        for name in try Self.directoryEntries(pinDirectory) {
            try mark(pinDirectory + "/" + name, UInt32(IUM_INODE_PIN))
        }
        try mark(pinDirectory, UInt32(IUM_INODE_PIN))
        try mark(Self.mountRoot(of: pinDirectory), UInt32(IUM_INODE_PIN_FS))
        // 3. The sysctl program on the root cgroup (multi: other programs there stay).
        let program = bpf_obj_get(pinDirectory + "/" + Self.sysctlProgramPin)
        guard program >= 0 else { throw GuardError(.notLoaded, "the guard has no sysctl program", errno: errno) }
        defer { close(program) }
        let cgroup = Glibc.open(cgroupRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { throw GuardError(.io, "cannot open the cgroup root \(cgroupRoot)", errno: errno) }
        defer { close(cgroup) }
        try LibBPF.check(bpf_prog_attach(program, cgroup, BPF_CGROUP_SYSCTL, UInt32(BPF_F_ALLOW_MULTI)), .attachFailed,
                         "cannot attach the sysctl program to \(cgroupRoot)")
        // 4. The seal itself.
        var zero: UInt32 = 0
        var state = ium_state()
        state.sealed = 1
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        state.sealed_ns = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        state.daemon_image = ium_file_key(dev: image.device, ino: image.inode)
        state.daemon_image_id = ium_file_identity(ctime_sec: image.ctimeSeconds, ctime_nsec: image.ctimeNanoseconds,
                                                  flags: UInt32(IUM_DAEMON_FILE_IMAGE))
        guard bpf_map_update_elem(try mapFD(Self.statePin), &zero, &state, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot seal the guard", errno: errno)
        }
    }

    /// Marks an inode (inode storage, keyed by an O_PATH fd of it).
    private func mark(_ path: String, _ bits: UInt32) throws(GuardError) {
        let fd = Glibc.open(path, oPath | O_CLOEXEC)
        guard fd >= 0 else { throw GuardError(.io, "cannot open \(path)", errno: errno) }
        defer { close(fd) }
        let marks = try mapFD("ium_inode_marks")
        var key = fd
        var value: UInt32 = 0
        if bpf_map_lookup_elem(marks, &key, &value) != 0 { value = 0 }
        value |= bits
        guard bpf_map_update_elem(marks, &key, &value, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot mark \(path)", errno: errno)
        }
    }

    /// The root of the mount holding `path`: the last ancestor on the same device.
    static func mountRoot(of path: String) -> String {
        var current = path
        var st = stat()
        guard stat(current, &st) == 0 else { return path }
        let device = st.st_dev
        while current != "/" {
            let parent = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
            let parentPath = parent.isEmpty ? "/" : parent
            guard stat(parentPath, &st) == 0, st.st_dev == device else { return current }
            current = parentPath
        }
        return current
    }

    /// The ids of the guard's maps and programs (for "who else holds an fd to them"). Every
    /// one or an error: a missed id would let a holder through the seal's check.
    public func objectIDs() throws(GuardError) -> (maps: Set<UInt32>, programs: Set<UInt32>) {
        var maps: Set<UInt32> = []
        for (name, fd) in self.maps {
            var map = bpf_map_info()
            try Self.objectInfo(fd, &map, "the map \(name)")
            maps.insert(map.id)
        }
        return (maps, Set(try pinnedPrograms().map(\.info.id)))
    }
}
