// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLinuxShims
public import SystemPackage

/// Secret memory for a trustlet (`ium_secret.h`): pages the kernel removes from its own direct
/// map (memfd_secret), so no other process, root included, can read them (process_vm_readv,
/// /proc/PID/mem, ptrace), no core dump holds them and no /proc/kcore scan finds them; locked
/// in RAM; sealed with mseal(2) where the kernel has it. Noncopyable: the region has one owner,
/// and a secret cannot be copied by accident; it is zeroed when the owner goes away.
///
///     var key = try SecretMemory(size: 32)
///     key.withUnsafeMutableBytes { fill($0) }
///
/// There is no fallback to ordinary memory: without secret memory in the kernel the
/// initializer throws (on Linux 6.1, boot with `secretmem.enable=1`).
public struct SecretMemory: ~Copyable {
    private let region: ium_secret

    /// Allocates a secret region of `size` bytes (zeroed), sealed when `seal` and the kernel
    /// allows it.
    public init(size: Int, seal: Bool = true) throws(SecretMemoryError) {
        var region = ium_secret()
        let err = ium_secret_alloc(size, seal ? UInt32(IUM_SECRET_SEAL) : 0, &region)
        guard err == 0 else { throw SecretMemoryError(errno: err, message: String(cString: ium_secret_strerror(err))) }
        self.region = region
    }

    /// The size asked for.
    public var count: Int { region.size }
    /// Whether mseal(2) sealed the region (it cannot be unmapped or remapped before exit).
    public var isSealed: Bool { region.sealed != 0 }
    /// The region's address (for tests and logs: it is not a way to read it from outside).
    public var address: UInt { UInt(bitPattern: region.data) }

    /// Reads or writes the secret in place; do not let the buffer escape.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: region.data, count: region.size))
    }

    /// Reads the secret in place (e.g. to hand it to a crypto library that reads it where it
    /// is); do not let the buffer escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: region.data, count: region.size))
    }

    /// Fills the region with random bytes that the kernel writes straight into it (a read of
    /// /dev/urandom into the secret pages).
    public func fillRandom() throws(Errno) {
        let random = try systemCall { try FileDescriptor.open("/dev/urandom", .readOnly, options: .closeOnExec) }
        defer { try? random.close() }
        var filled = 0
        while filled < region.size {
            let rest = UnsafeMutableRawBufferPointer(start: region.data + filled, count: region.size - filled)
            let n = try systemCall { try random.read(into: rest) }
            guard n > 0 else { throw Errno.ioError }
            filled += n
        }
    }

    /// Fills the region with the file's bytes from `offset`, read straight into it (pread);
    /// EIO when the file holds fewer.
    public func read(from fd: Int32, at offset: Int = 0) throws(Errno) {
        let n = pread(fd, region.data, region.size, offset)
        guard n >= 0 else { throw Errno.current }
        guard n == region.size else { throw Errno.ioError }
    }

    deinit {
        var region = self.region
        ium_secret_free(&region)
    }
}

/// Secret memory that could not be allocated, with what to do about it.
public struct SecretMemoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The errno (ENOSYS: no secret memory in this kernel).
    public var errno: Int32
    /// What it means.
    public var message: String
    /// The message.
    public var description: String { message }
}
