// SPDX-License-Identifier: Apache-2.0

/// The state of the `ProcessInformation` pointer, as the caller's side probed it.
public enum BufferPointer: Hashable, Sendable {
    /// `NULL`.
    case null
    /// A non-NULL address whose `Length` bytes are not all writable.
    case unwritable(address: UInt64)
    /// A writable buffer at this address.
    case writable(address: UInt64)

    var address: UInt64 {
        switch self {
        case .null: 0
        case .unwritable(let a), .writable(let a): a
        }
    }
}

/// The state of the `ReturnLength` pointer, as the caller's side probed it.
public enum ReturnLengthPointer: Hashable, Sendable {
    /// `NULL`: nothing is reported.
    case absent
    /// A non-NULL address whose four bytes are not writable.
    case unwritable(address: UInt64)
    /// A writable ULONG at this address.
    case writable(address: UInt64)
}

/// What the handle passed to the query resolves to.
public enum HandleResolution {
    /// A process object, with the access its handle grants.
    case process(granted: AccessMask, source: any ProcessInformationSource)
    /// An object of another type (a thread pseudo-handle, a debug object).
    case otherObjectType
    /// Nothing: NULL, closed or never opened.
    case invalid
}

/// The facts a query reads from a process object. Each is asked only when the query has
/// passed every check and needs it.
public protocol ProcessInformationSource {
    /// PROCESS_BASIC_INFORMATION of the process.
    func basicInformation() -> ProcessBasicInformation
    /// The PROCESS_EXTENDED_BASIC_INFORMATION Flags.
    func extendedFlags() -> ProcessFlags
    /// KERNEL_USER_TIMES (class 4).
    func times() -> KernelUserTimes
    /// Whether a debugger (a tracer) is attached (classes 7, 30, 31).
    func isBeingDebugged() -> Bool
    /// A new handle to the debug object in the caller's table (class 30), or nil when
    /// the process is not being debugged.
    func openDebugObject() -> Result<Handle, NTStatus>?
    /// The session id (class 24).
    func sessionId() -> UInt32
    /// 0 for a native process, else the address of its 32-bit PEB (class 26).
    func wow64PebAddress() -> UInt64
    /// The image path (classes 27 and 43).
    func imageFileName() -> String
    /// The command line (class 60).
    func commandLine() -> String
    /// Whether the process is critical (class 29).
    func breakOnTermination() -> Bool
    /// PS_PROTECTION (class 61).
    func protection() -> UInt8
    /// SUBSYSTEM_INFORMATION_TYPE (class 75): 0 Win32, 1 WSL.
    func subsystem() -> UInt32
}

/// What a query does to the caller's memory and what it returns.
public struct QueryOutcome: Hashable, Sendable, CustomStringConvertible {
    /// The NTSTATUS returned.
    public var status: NTStatus
    /// The bytes written at the start of the caller's buffer; empty means the buffer is untouched.
    public var output: [UInt8]
    /// The value written to `*ReturnLength`, or nil when it is left untouched.
    public var returnLength: UInt32?

    /// Creates an outcome.
    /// - Parameters:
    ///   - status: The status.
    ///   - output: The bytes written to the buffer.
    ///   - returnLength: The ReturnLength written, or nil.
    public init(status: NTStatus, output: [UInt8] = [], returnLength: UInt32? = nil) {
        self.status = status
        self.output = output
        self.returnLength = returnLength
    }

    /// `STATUS_SUCCESS (0x00000000) wrote=64 ReturnLength=64`.
    public var description: String {
        "\(status) wrote=\(output.count) ReturnLength=\(returnLength.map(String.init) ?? "untouched")"
    }
}

/// `NtQueryInformationProcess`: the NT decision procedure, as one function.
///
/// The checks run in the order Windows runs them (docs/NT-SEMANTICS.md §3; ReactOS
/// `DefaultQueryInfoBufferCheck` then the class handler):
/// 1. class not served: `STATUS_INVALID_INFO_CLASS`; nothing written.
/// 2. fixed-size class and a length it does not accept: `STATUS_INFO_LENGTH_MISMATCH`;
///    nothing written, ReturnLength untouched. For class 0, 48 selects
///    PROCESS_BASIC_INFORMATION and 64 PROCESS_EXTENDED_BASIC_INFORMATION.
/// 3. pointer probe (only when `length > 0` for the buffer): a buffer not aligned for the
///    class gives `STATUS_DATATYPE_MISALIGNMENT`; a NULL or unwritable buffer gives
///    `STATUS_ACCESS_VIOLATION`; then ReturnLength, if given: not 4-aligned gives
///    `STATUS_DATATYPE_MISALIGNMENT`, unwritable gives `STATUS_ACCESS_VIOLATION`.
/// 4. handle: unknown gives `STATUS_INVALID_HANDLE`, another object type
///    `STATUS_OBJECT_TYPE_MISMATCH`.
/// 5. access: the class's right missing gives `STATUS_ACCESS_DENIED`.
///    After steps 4 and 5 fail, a fixed-size class writes its size to ReturnLength (ReactOS).
/// 6. fill. Variable-size classes that do not fit give `STATUS_INFO_LENGTH_MISMATCH` with
///    ReturnLength set to the size needed. `Size` of the extended structure is written as 64.
/// 7. ReturnLength, if given, receives the number of bytes written.
///
/// - Parameters:
///   - infoClass: `ProcessInformationClass`, any 32-bit value.
///   - length: `ProcessInformationLength`.
///   - buffer: The probed `ProcessInformation` pointer.
///   - returnLength: The probed `ReturnLength` pointer.
///   - handle: What the `ProcessHandle` resolves to.
/// - Returns: The status, the bytes to write and the ReturnLength to write.
public func queryInformationProcess(
    infoClass: UInt32, length: UInt32, buffer: BufferPointer, returnLength: ReturnLengthPointer,
    handle: HandleResolution
) -> QueryOutcome {
    // 1. Class.
    let cls = ProcessInfoClass(rawValue: infoClass)
    guard let rule = cls.rule else { return QueryOutcome(status: .invalidInfoClass) }

    // 2. Fixed lengths.
    var fixedSize: UInt32?
    if case .oneOf(let sizes) = rule.lengths {
        guard sizes.contains(length) else { return QueryOutcome(status: .infoLengthMismatch) }
        fixedSize = length
    }

    // 3. Pointer probe: the buffer (only when there are bytes to probe), then ReturnLength.
    if length > 0 {
        if buffer.address % rule.alignment != 0 { return QueryOutcome(status: .datatypeMisalignment) }
        guard case .writable = buffer else { return QueryOutcome(status: .accessViolation) }
    }
    switch returnLength {
    case .absent, .writable: break
    case .unwritable(let address):
        return QueryOutcome(status: address % 4 != 0 ? .datatypeMisalignment : .accessViolation)
    }
    if case .writable(let address) = returnLength, address % 4 != 0 {
        return QueryOutcome(status: .datatypeMisalignment)
    }
    let reportsLength = returnLength != .absent

    // 4. Handle, 5. access.
    let failedLength = reportsLength ? fixedSize : nil
    let source: any ProcessInformationSource
    switch handle {
    case .invalid:
        return QueryOutcome(status: .invalidHandle, returnLength: failedLength)
    case .otherObjectType:
        return QueryOutcome(status: .objectTypeMismatch, returnLength: failedLength)
    case .process(let granted, let s):
        guard rule.access.isSatisfied(by: granted) else {
            return QueryOutcome(status: .accessDenied, returnLength: failedLength)
        }
        source = s
    }

    // 6. Fill.
    var status = NTStatus.success
    let output: [UInt8]
    switch cls {
    case .basicInformation:
        let basic = source.basicInformation()
        output = length == 48
            ? basic.bytes
            : ProcessExtendedBasicInformation(basicInfo: basic, flags: source.extendedFlags()).bytes
    case .times:
        output = source.times().bytes
    case .debugPort:
        output = le(source.isBeingDebugged() ? UInt64.max : 0)
    case .sessionInformation:
        output = le(source.sessionId())
    case .wow64Information:
        output = le(source.wow64PebAddress())
    case .breakOnTermination:
        output = le(UInt32(source.breakOnTermination() ? 1 : 0))
    case .debugFlags:
        output = le(UInt32(source.isBeingDebugged() ? 0 : 1))
    case .protectionInformation:
        output = [source.protection()]
    case .subsystemInformation:
        output = le(source.subsystem())
    case .debugObjectHandle:
        switch source.openDebugObject() {
        case nil:
            status = .portNotSet
            output = le(UInt64(0))
        case .failure(let failure)?:
            return QueryOutcome(status: failure)
        case .success(let handle)?:
            output = le(handle.rawValue)
        }
    case .imageFileName, .imageFileNameWin32, .commandLineInformation:
        let text = cls == .commandLineInformation ? source.commandLine() : source.imageFileName()
        let string = InlineUnicodeString(text)
        guard length >= string.requiredSize else {
            return QueryOutcome(status: .infoLengthMismatch, returnLength: reportsLength ? string.requiredSize : nil)
        }
        output = string.bytes(bufferAddress: buffer.address)
    default:
        // Every class with a rule is handled above.
        return QueryOutcome(status: .invalidInfoClass)
    }

    // 7. ReturnLength.
    return QueryOutcome(status: status, output: output, returnLength: reportsLength ? UInt32(output.count) : nil)
}

private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    var w = LittleEndianWriter(size: MemoryLayout<T>.size)
    w.put(value, at: 0)
    return w.bytes
}
