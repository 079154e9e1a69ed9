// SPDX-License-Identifier: Apache-2.0

/// An NT status code (`NTSTATUS`), the result of every NT call ium serves.
///
/// The two top bits are the severity (success, informational, warning, error); `NT_SUCCESS`
/// is true for success and informational codes (the value, read as a signed 32-bit integer,
/// is not negative). Values are those of `ntstatus.h`; see docs/NT-SEMANTICS.md §2.
public struct NTStatus: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw 32-bit status value, as stored in an `NTSTATUS`.
    public let rawValue: UInt32

    /// Creates a status from its raw value.
    /// - Parameter rawValue: The 32-bit `NTSTATUS` value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The four NT severities, from the two top bits of the value.
    public enum Severity: UInt32, Sendable {
        case success = 0, informational = 1, warning = 2, error = 3
    }

    /// The severity of this status.
    public var severity: Severity {
        switch rawValue >> 30 {
        case 0: .success
        case 1: .informational
        case 2: .warning
        default: .error
        }
    }

    /// `NT_SUCCESS(status)`: true when the value, read as a signed integer, is not negative.
    public var isSuccess: Bool { Int32(bitPattern: rawValue) >= 0 }

    /// The `STATUS_*` name of a status ium knows, or nil.
    public var name: String? { Self.names[rawValue] }

    /// `STATUS_INFO_LENGTH_MISMATCH (0xC0000004)`, or just the hex value for an unknown code.
    public var description: String {
        let hex = hex32(rawValue)
        if let name { return "\(name) (\(hex))" }
        return hex
    }

    /// Looks a status up by its `STATUS_*` name.
    /// - Parameter name: A name such as `STATUS_ACCESS_DENIED`.
    public init?(name: String) {
        guard let value = Self.names.first(where: { $0.value == name })?.key else { return nil }
        self.init(rawValue: value)
    }

    /// The operation completed successfully. The corresponding NT status is `STATUS_SUCCESS`.
    public static let success = NTStatus(rawValue: 0x0000_0000)
    /// The operation is still in progress; the `ExitStatus` of a running process.
    /// The corresponding NT status is `STATUS_PENDING`.
    public static let pending = NTStatus(rawValue: 0x0000_0103)
    /// A buffer or pointer is not aligned as the call requires.
    /// The corresponding NT status is `STATUS_DATATYPE_MISALIGNMENT`.
    public static let datatypeMisalignment = NTStatus(rawValue: 0x8000_0002)
    /// The requested operation is not implemented. The corresponding NT status is `STATUS_NOT_IMPLEMENTED`.
    public static let notImplemented = NTStatus(rawValue: 0xC000_0002)
    /// The information class is unknown or cannot be queried.
    /// The corresponding NT status is `STATUS_INVALID_INFO_CLASS`.
    public static let invalidInfoClass = NTStatus(rawValue: 0xC000_0003)
    /// The buffer length does not match what the information class needs.
    /// The corresponding NT status is `STATUS_INFO_LENGTH_MISMATCH`.
    public static let infoLengthMismatch = NTStatus(rawValue: 0xC000_0004)
    /// A pointer argument is not accessible. The corresponding NT status is `STATUS_ACCESS_VIOLATION`.
    public static let accessViolation = NTStatus(rawValue: 0xC000_0005)
    /// The handle is not in the caller's handle table. The corresponding NT status is `STATUS_INVALID_HANDLE`.
    public static let invalidHandle = NTStatus(rawValue: 0xC000_0008)
    /// The client id names no process or thread. The corresponding NT status is `STATUS_INVALID_CID`.
    public static let invalidCID = NTStatus(rawValue: 0xC000_000B)
    /// A parameter is not valid. The corresponding NT status is `STATUS_INVALID_PARAMETER`.
    public static let invalidParameter = NTStatus(rawValue: 0xC000_000D)
    /// The caller lacks the access right the operation needs.
    /// The corresponding NT status is `STATUS_ACCESS_DENIED`.
    public static let accessDenied = NTStatus(rawValue: 0xC000_0022)
    /// The handle refers to an object of another type.
    /// The corresponding NT status is `STATUS_OBJECT_TYPE_MISMATCH`.
    public static let objectTypeMismatch = NTStatus(rawValue: 0xC000_0024)
    /// Two parameters that exclude each other were both given, or neither was.
    /// The corresponding NT status is `STATUS_INVALID_PARAMETER_MIX`.
    public static let invalidParameterMix = NTStatus(rawValue: 0xC000_0030)
    /// The request failed for a reason of the system's, not the caller's (iumd could not read
    /// `/proc`, the tag store or the audit store). The corresponding NT status is
    /// `STATUS_UNSUCCESSFUL`.
    public static let unsuccessful = NTStatus(rawValue: 0xC000_0001)
    /// Not enough resources (for example the handle table is full).
    /// The corresponding NT status is `STATUS_INSUFFICIENT_RESOURCES`.
    public static let insufficientResources = NTStatus(rawValue: 0xC000_009A)
    /// The request is not supported for this caller (iumd: a caller in another PID namespace,
    /// whose process ids name other processes than iumd's). The corresponding NT status is
    /// `STATUS_NOT_SUPPORTED`.
    public static let notSupported = NTStatus(rawValue: 0xC000_00BB)
    /// The process is terminating. The corresponding NT status is `STATUS_PROCESS_IS_TERMINATING`.
    public static let processIsTerminating = NTStatus(rawValue: 0xC000_010A)
    /// A device (here: the ium daemon) is not reachable.
    /// The corresponding NT status is `STATUS_DEVICE_NOT_READY`.
    public static let deviceNotReady = NTStatus(rawValue: 0xC000_00A3)
    /// The process has no debug port. The corresponding NT status is `STATUS_PORT_NOT_SET`.
    public static let portNotSet = NTStatus(rawValue: 0xC000_0353)

    @available(*, unavailable, renamed: "success")
    public static var STATUS_SUCCESS: NTStatus { success }
    @available(*, unavailable, renamed: "pending")
    public static var STATUS_PENDING: NTStatus { pending }
    @available(*, unavailable, renamed: "infoLengthMismatch")
    public static var STATUS_INFO_LENGTH_MISMATCH: NTStatus { infoLengthMismatch }
    @available(*, unavailable, renamed: "accessDenied")
    public static var STATUS_ACCESS_DENIED: NTStatus { accessDenied }
    @available(*, unavailable, renamed: "invalidHandle")
    public static var STATUS_INVALID_HANDLE: NTStatus { invalidHandle }

    static let names: [UInt32: String] = [
        0x0000_0000: "STATUS_SUCCESS",
        0x0000_0103: "STATUS_PENDING",
        0x8000_0002: "STATUS_DATATYPE_MISALIGNMENT",
        0xC000_0001: "STATUS_UNSUCCESSFUL",
        0xC000_0002: "STATUS_NOT_IMPLEMENTED",
        0xC000_0003: "STATUS_INVALID_INFO_CLASS",
        0xC000_0004: "STATUS_INFO_LENGTH_MISMATCH",
        0xC000_0005: "STATUS_ACCESS_VIOLATION",
        0xC000_0008: "STATUS_INVALID_HANDLE",
        0xC000_000B: "STATUS_INVALID_CID",
        0xC000_000D: "STATUS_INVALID_PARAMETER",
        0xC000_0022: "STATUS_ACCESS_DENIED",
        0xC000_0024: "STATUS_OBJECT_TYPE_MISMATCH",
        0xC000_0030: "STATUS_INVALID_PARAMETER_MIX",
        0xC000_009A: "STATUS_INSUFFICIENT_RESOURCES",
        0xC000_00BB: "STATUS_NOT_SUPPORTED",
        0xC000_00A3: "STATUS_DEVICE_NOT_READY",
        0xC000_010A: "STATUS_PROCESS_IS_TERMINATING",
        0xC000_0353: "STATUS_PORT_NOT_SET",
    ]
}

/// `0x` and eight upper-case hex digits.
func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
