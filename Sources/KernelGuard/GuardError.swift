// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the kernel guard, with the errno name and what to do about it.
public struct GuardError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable {
        private enum Value: Hashable, Sendable {
            case notRoot, objectMissing, loadFailed, attachFailed, pinFailed, notLoaded,
                 noSuchProcess, refused, mapFailed, busy, io, sealed
        }
        private let value: Value
        /// The guard needs root (CAP_BPF, CAP_SYS_ADMIN, CAP_PERFMON).
        public static let notRoot = Code(value: .notRoot)
        /// The compiled BPF object was not found.
        public static let objectMissing = Code(value: .objectMissing)
        /// The kernel refused to load the programs.
        public static let loadFailed = Code(value: .loadFailed)
        /// A program could not be attached.
        public static let attachFailed = Code(value: .attachFailed)
        /// bpffs pinning failed.
        public static let pinFailed = Code(value: .pinFailed)
        /// No guard is loaded (nothing pinned under /sys/fs/bpf/ium).
        public static let notLoaded = Code(value: .notLoaded)
        /// The process does not exist.
        public static let noSuchProcess = Code(value: .noSuchProcess)
        /// The request is refused by ium's rules (traced process, pid 1, kernel thread).
        public static let refused = Code(value: .refused)
        /// A map operation failed.
        public static let mapFailed = Code(value: .mapFailed)
        /// Another process owns this guard (one owner per pin directory).
        public static let busy = Code(value: .busy)
        /// Reading a kernel file failed.
        public static let io = Code(value: .io)
        /// The guard is sealed: the operation is refused until reboot.
        public static let sealed = Code(value: .sealed)
    }

    /// The kind of failure.
    public var code: Code
    /// One sentence saying what failed.
    public var message: String
    /// The errno of the failing call, if any.
    public var errno: Int32?
    /// What the user can do.
    public var hint: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What failed.
    ///   - errno: The failing call's errno.
    ///   - hint: What to do about it.
    public init(_ code: Code, _ message: String, errno: Int32? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
        self.hint = hint
    }

    /// `load failed: EPERM (Operation not permitted). Hint: …`
    public var description: String {
        var text = message
        if let errno { text += ": \(Self.errnoName(errno)) (\(String(cString: strerror(errno))))" }
        if let hint { text += ". " + hint }
        return text
    }

    /// The symbolic name of an errno value.
    public static func errnoName(_ e: Int32) -> String {
        let names: [Int32: String] = [
            EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", E2BIG: "E2BIG",
            EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
            EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL", ENOSPC: "ENOSPC", ENOSYS: "ENOSYS",
            EOPNOTSUPP: "EOPNOTSUPP", ENOTDIR: "ENOTDIR", ENODEV: "ENODEV", EMFILE: "EMFILE", ENFILE: "ENFILE",
            ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY",
        ]
        return names[e] ?? "errno \(e)"
    }
}
