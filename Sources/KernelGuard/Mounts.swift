// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import LinuxEdge

/// The pseudo file systems the guard needs.
enum Mounts {
    static let bpffsMagic: UInt = 0xCAFE_4A11
    static let securityfsMagic: UInt = 0x7363_6673

    static func isMounted(_ path: String, magic: UInt) -> Bool {
        Files.fileSystemMagic(path) == magic
    }

    /// Mounts bpffs on /sys/fs/bpf unless it is there (pins live there).
    static func ensureBPFFS() throws(GuardError) {
        if isMounted("/sys/fs/bpf", magic: bpffsMagic) { return }
        guard mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0 else {
            throw GuardError(.pinFailed, "cannot mount bpffs on /sys/fs/bpf", errno: errno,
                             hint: "mount it: mount -t bpf bpf /sys/fs/bpf")
        }
    }

    /// Mounts tracefs on /sys/kernel/tracing unless it is there (syscall tracepoint ids).
    static func ensureTraceFS() {
        if isMounted("/sys/kernel/tracing", magic: 0x7472_6163) || access("/sys/kernel/debug/tracing/events", F_OK) == 0 { return }
        _ = mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nil)
    }

    /// Mounts securityfs on /sys/kernel/security unless it is there (for the LSM list).
    static func ensureSecurityFS() {
        if isMounted("/sys/kernel/security", magic: securityfsMagic) { return }
        _ = mount("securityfs", "/sys/kernel/security", "securityfs", 0, nil)
    }
}

/// What the kernel offers, for choosing a backend.
struct BackendProbe {
    var lsmList: String?
    var hasBTF: Bool
    var lsmAvailable: Bool { hasBTF && (lsmList?.split(separator: ",").contains("bpf") ?? false) }

    /// Why the lsm backend cannot be used, or that it can.
    var reason: String {
        if !hasBTF { return "no kernel BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load" }
        guard let lsmList else { return "securityfs not readable: cannot tell whether the BPF LSM is active" }
        if !lsmAvailable { return "BPF LSM not active (lsm=\(lsmList)): add bpf to lsm= on the kernel command line" }
        return "BPF LSM active (\(lsmList))"
    }

    static func run() -> BackendProbe {
        Mounts.ensureSecurityFS()
        var list: String?
        if let fd = Optional(open("/sys/kernel/security/lsm", O_RDONLY)), fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = read(fd, &buffer, buffer.count)
            close(fd)
            if n > 0 { list = String(decoding: buffer[0..<n], as: UTF8.self).trimmingTrailingNewlines }
        }
        return BackendProbe(lsmList: list, hasBTF: access("/sys/kernel/btf/vmlinux", R_OK) == 0)
    }
}
