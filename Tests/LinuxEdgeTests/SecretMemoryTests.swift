// SPDX-License-Identifier: Apache-2.0
//
// Secret memory (SecretMemory, ium_secret.h) on this kernel: a real memfd_secret region that
// holds what is written, that even this process cannot read through /proc/self/mem (the
// kernel removed the pages from its direct map), that a child sharing nothing cannot reach,
// and that is zeroed and released with its owner. The VM proves the rest as root
// (Tests/attack/secretmem.sh: process_vm_readv, ptrace, core dump, /proc/kcore).

#if canImport(Glibc)
import Glibc
#endif
import Testing
import LinuxEdge
import SystemPackage

/// Whether this kernel has secret memory (memfd_secret): the tests need it, and say so.
/// (Any other failure than ENOSYS runs the tests, which then fail.)
let hasSecretMemory: Bool = {
    do throws(SecretMemoryError) {
        _ = try SecretMemory(size: 1)
        return true
    } catch {
        return error.errno != ENOSYS
    }
}()

@Suite("Secret memory", .enabled(if: hasSecretMemory, "this kernel has no memfd_secret (CONFIG_SECRETMEM; 6.1: secretmem.enable=1)"))
struct SecretMemoryTests {
    @Test("a region holds what is written, sealed where the kernel has mseal, and /proc/self/mem cannot read it")
    func holdsAndHides() throws {
        let secret = try SecretMemory(size: 48)
        let count = secret.count, address = secret.address, sealed = secret.isSealed
        #expect(count == 48)
        secret.withUnsafeMutableBytes { bytes in
            for i in 0..<bytes.count { bytes[i] = UInt8(i) ^ 0xA5 }
        }
        let readBack = secret.withUnsafeMutableBytes { bytes in (0..<bytes.count).allSatisfy { bytes[$0] == UInt8($0) ^ 0xA5 } }
        #expect(readBack)
        let fd = open("/proc/self/mem", O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        var copy = [UInt8](repeating: 0, count: 48)
        let n = copy.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 48, off_t(Int(bitPattern: address))) }
        #expect(n < 0 && errno == EIO, "the kernel's own access to the pages fails")
        var uts = utsname()
        uname(&uts)
        let release = string(fromCArray: uts.release)
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix(while: \.isNumber)) }
        if version.count == 2, (version[0], version[1]) >= (6, 10) { #expect(sealed, "mseal on \(release)") }
    }

    @Test("random bytes and a file's bytes go straight into the region; a short file is an error")
    func fills() throws {
        let secret = try SecretMemory(size: 32)
        try secret.fillRandom()
        #expect(secret.withUnsafeBytes { $0.contains { $0 != 0 } }, "32 random bytes are not all zero")
        let path = "/tmp/ium-secret-fill-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd); unlink(path) }
        let bytes = (0..<40).map { UInt8($0) }
        try Files.writeAll(fd, bytes)
        try secret.read(from: fd, at: 8)
        #expect(secret.withUnsafeBytes { Array($0) } == Array(bytes[8..<40]))
        #expect(throws: Errno.ioError) { try secret.read(from: fd, at: 20) }
    }

    @Test("a size of 0 is an error that says so; nothing falls back to ordinary memory")
    func zeroSize() {
        #expect { _ = try SecretMemory(size: 0) } throws: { ($0 as? SecretMemoryError)?.errno == EINVAL }
    }
}
