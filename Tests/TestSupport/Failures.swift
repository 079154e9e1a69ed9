// SPDX-License-Identifier: Apache-2.0
//
// Failures the tests inject: a tag store that cannot be read, a /proc that goes away.

#if canImport(Glibc)
import Glibc
#endif
public import ProcessTable

/// A kernel facts provider whose tag store cannot be read (EIO, not "no such process").
public struct UnreadableTagStore: KernelFactsProvider {
    /// Creates the provider.
    public init() {}
    /// Always an I/O error.
    public func isTaggedSecure(pid: Int32) throws(ProcessTableError) -> Bool {
        throw ProcessTableError(.io, path: "the guard's tag store (pid \(pid))", errno: EIO)
    }
    /// Unknown.
    public func isDumpable(pid: Int32) -> Bool? { nil }
}

/// A `/proc` root that can be taken away: a symlink to /proc in a temporary directory, and a
/// reader that uses it.
public final class VanishingProc {
    /// The symlink.
    public let path = temporaryPath("proc")
    /// A reader of /proc through the symlink.
    public var reader: ProcReader {
        var reader = ProcReader()
        reader.procRoot = path
        return reader
    }
    /// Creates the symlink.
    public init() throws {
        guard symlink("/proc", path) == 0 else { throw SpawnError(message: "symlink \(path): errno \(errno)") }
    }
    /// Removes it: every read through it fails from now on.
    public func vanish() { unlink(path) }
    deinit { unlink(path) }
}
