// SPDX-License-Identifier: Apache-2.0
//
// The Linux edge (docs/ARCHITECTURE.md, "One Linux edge"): every system call, raw pointer and C
// shim the Swift modules need is wrapped here, typed, so that no other module handles memory
// by address. Failures are swift-system's `Errno`.

#if canImport(Glibc)
import Glibc
#endif
public import SystemPackage
internal import CLinuxShims

/// Files, links and directories.
public enum Files {
    /// Reads a whole (small) file, at most `limit` bytes.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(Errno) -> [UInt8] {
        let fd = try systemCall { try FileDescriptor.open(path, .readOnly, options: .closeOnExec) }
        defer { try? fd.close() }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let n = try systemCall { try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and EINTR).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        _ = try systemCall { try FileDescriptor(rawValue: fd).writeAll(bytes) }
    }

    /// The target of a symbolic link.
    public static func readLink(_ path: String) throws(Errno) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw Errno.current }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a directory, "." and ".." left out. A directory that cannot be opened or
    /// read to its end is an error, never a short list.
    public static func entryNames(_ path: String) throws(Errno) -> [String] {
        var names: [String] = []
        try forEachEntry(path) { name in
            let string = String(decoding: name, as: UTF8.self)
            if string != "." && string != ".." { names.append(string) }
        }
        return names
    }

    /// The names in a directory that are decimal numbers (pids under `/proc`, tids under
    /// `task`), parsed without building strings.
    public static func numericEntries(_ path: String) throws(Errno) -> [Int32] {
        var numbers: [Int32] = []
        try forEachEntry(path) { name in
            var value: Int32 = 0
            for byte in name {
                guard byte >= 48 && byte <= 57, value < Int32.max / 10 else { return }
                value = value * 10 + Int32(byte - 48)
            }
            if !name.isEmpty { numbers.append(value) }
        }
        return numbers
    }

    private static func forEachEntry(_ path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(Errno) {
        guard let dir = opendir(path) else { throw Errno.current }
        defer { closedir(dir) }
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Errno.current }
                return
            }
            withUnsafeBytes(of: entry.pointee.d_name) { raw in
                body(UnsafeRawBufferPointer(rebasing: raw.prefix(while: { $0 != 0 })))
            }
        }
    }

    /// The file system magic of a path (statfs f_type), 0 when it cannot be read.
    public static func fileSystemMagic(_ path: String) -> UInt { UInt(ium_fs_magic(path)) }

    /// The owner uid of a path (not following a final symlink).
    public static func ownerUID(_ path: String) throws(Errno) -> UInt32 {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw Errno.current }
        return st.st_uid
    }
}

/// Runs swift-system calls, whose errors are untyped but always `Errno`.
func systemCall<T>(_ body: () throws -> T) throws(Errno) -> T {
    do { return try body() } catch let error as Errno { throw error } catch { throw Errno.ioError }
}

extension Errno {
    /// The calling thread's errno.
    static var current: Errno { Errno(rawValue: errno) }
}
