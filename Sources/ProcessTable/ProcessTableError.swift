// SPDX-License-Identifier: Apache-2.0

/// A failure while reading a process from `/proc` or the kernel.
public struct ProcessTableError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable { case noSuchProcess, permissionDenied, malformed, io }
        private let value: Value
        /// The process does not exist (or vanished while it was read). This is normal.
        public static let noSuchProcess = Code(value: .noSuchProcess)
        /// The kernel refused to show this fact to the caller.
        public static let permissionDenied = Code(value: .permissionDenied)
        /// A `/proc` file did not have the expected format.
        public static let malformed = Code(value: .malformed)
        /// Another I/O error.
        public static let io = Code(value: .io)
        /// The code's name.
        public var description: String { "\(value)" }
    }

    /// The kind of failure.
    public var code: Code
    /// What was being read, such as `/proc/42/stat`.
    public var path: String
    /// The errno, when a system call failed.
    public var errno: Int32?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - path: What was being read.
    ///   - errno: The system call's errno, if any.
    public init(_ code: Code, path: String, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.errno = errno
    }

    /// `no such process: /proc/42/stat (errno 2)`.
    public var description: String {
        let what: String = switch code {
        case .noSuchProcess: "no such process"
        case .permissionDenied: "permission denied"
        case .malformed: "unexpected format"
        default: "I/O error"
        }
        return "\(what): \(path)" + (errno.map { " (errno \($0))" } ?? "")
    }
}
