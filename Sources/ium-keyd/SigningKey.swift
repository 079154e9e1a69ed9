// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
import Crypto
import LinuxEdge
import SystemPackage

/// The trustlet's one secret: an Ed25519 private key (its 32-byte seed) that lives only in
/// secret memory. It is never copied out: each signature builds swift-crypto's key from the
/// secret pages in place, and swift-crypto keeps its expanded copy in `SecureBytes`, which it
/// zeroes when the signature is done. Only the public half is ordinary memory.
struct SigningKey: ~Copyable {
    private let seed: SecretMemory
    /// The public key (32 bytes), computed once.
    let publicKey: [UInt8]

    /// A new random key, generated straight into secret memory.
    init() throws(KeyError) {
        let seed = try Self.secretSeed()
        // The kernel writes the random bytes straight into the secret pages.
        do { try seed.fillRandom() } catch { throw KeyError("cannot get random bytes: \(error)") }
        publicKey = try Self.publicKey(of: seed)
        self.seed = seed
    }

    /// The key in `path` (exactly 32 raw bytes, the Ed25519 seed, mode 0600 or stricter), read
    /// once straight into secret memory; the file is then overwritten with zeros, synced and
    /// removed, so the only copy left is in secret memory. Anything unexpected (a symlink, a
    /// wrong size, a file others may read, a wipe that fails) is an error and no key is kept.
    init(importing path: String) throws(KeyError) {
        let fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw KeyError("cannot open the key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw KeyError("\(path) is not a regular file") }
        guard st.st_size == 32 else {
            throw KeyError("\(path) holds \(st.st_size) bytes: a key file is the 32-byte Ed25519 seed, raw")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw KeyError("\(path) is open to other users (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 it")
        }
        let seed = try Self.secretSeed()
        do { try seed.read(from: fd) } catch { throw KeyError("cannot read \(path): \(error)") }
        let zeros = [UInt8](repeating: 0, count: 32)
        guard pwrite(fd, zeros, zeros.count, 0) == zeros.count, fsync(fd) == 0, unlink(path) == 0 else {
            throw KeyError("read the key but could not wipe \(path) (\(String(cString: strerror(errno)))): remove it yourself; no key is kept")
        }
        publicKey = try Self.publicKey(of: seed)
        self.seed = seed
    }

    /// Signs `message` (Ed25519, 64 bytes).
    func sign(_ message: ArraySlice<UInt8>) throws(KeyError) -> [UInt8] {
        do {
            return try seed.withUnsafeBytes { bytes in
                try [UInt8](Curve25519.Signing.PrivateKey(rawRepresentation: bytes).signature(for: message))
            }
        } catch {
            throw KeyError("signing failed: \(error)")
        }
    }

    private static func secretSeed() throws(KeyError) -> SecretMemory {
        do { return try SecretMemory(size: 32) } catch { throw KeyError("no secret memory for the key: \(error.message)") }
    }

    private static func publicKey(of seed: borrowing SecretMemory) throws(KeyError) -> [UInt8] {
        do {
            return try seed.withUnsafeBytes { bytes in
                try [UInt8](Curve25519.Signing.PrivateKey(rawRepresentation: bytes).publicKey.rawRepresentation)
            }
        } catch {
            throw KeyError("not an Ed25519 seed: \(error)")
        }
    }
}

/// Whether `signature` is `publicKey`'s signature of `message`.
func isValidSignature(_ signature: ArraySlice<UInt8>, of message: ArraySlice<UInt8>, by publicKey: [UInt8]) -> Bool {
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
    return key.isValidSignature(signature, for: message)
}

/// A key that could not be made, loaded or used, with what to do about it.
struct KeyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
