// SPDX-License-Identifier: Apache-2.0

/// A `PROCESSINFOCLASS` value: what `NtQueryInformationProcess` is asked for.
///
/// Numbering from phnt `ntpsapi.h` (docs/NT-SEMANTICS.md §6). ium serves the classes that have a
/// ``rule``; every other value gives `STATUS_INVALID_INFO_CLASS`.
public struct ProcessInfoClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw class number.
    public let rawValue: UInt32
    /// Creates a class from its number.
    /// - Parameter rawValue: The `PROCESSINFOCLASS` value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `ProcessBasicInformation` (0): PROCESS_BASIC_INFORMATION (48 bytes) or
    /// PROCESS_EXTENDED_BASIC_INFORMATION (64 bytes), chosen by the buffer length.
    public static let basicInformation = ProcessInfoClass(rawValue: 0)
    /// `ProcessTimes` (4): KERNEL_USER_TIMES, 32 bytes.
    public static let times = ProcessInfoClass(rawValue: 4)
    /// `ProcessDebugPort` (7): a ULONG_PTR, 0 or -1 when the process is debugged.
    public static let debugPort = ProcessInfoClass(rawValue: 7)
    /// `ProcessSessionInformation` (24): the ULONG session id.
    public static let sessionInformation = ProcessInfoClass(rawValue: 24)
    /// `ProcessWow64Information` (26): a ULONG_PTR, 0 for a native process.
    public static let wow64Information = ProcessInfoClass(rawValue: 26)
    /// `ProcessImageFileName` (27): UNICODE_STRING + the image path (NT form).
    public static let imageFileName = ProcessInfoClass(rawValue: 27)
    /// `ProcessBreakOnTermination` (29): ULONG, 1 for a critical process.
    public static let breakOnTermination = ProcessInfoClass(rawValue: 29)
    /// `ProcessDebugObjectHandle` (30): a HANDLE to the debug object.
    public static let debugObjectHandle = ProcessInfoClass(rawValue: 30)
    /// `ProcessDebugFlags` (31): ULONG, 1 when not debugged (PROCESS_DEBUG_INHERIT).
    public static let debugFlags = ProcessInfoClass(rawValue: 31)
    /// `ProcessImageFileNameWin32` (43): UNICODE_STRING + the image path (Win32 form).
    public static let imageFileNameWin32 = ProcessInfoClass(rawValue: 43)
    /// `ProcessCommandLineInformation` (60): UNICODE_STRING + the command line.
    public static let commandLineInformation = ProcessInfoClass(rawValue: 60)
    /// `ProcessProtectionInformation` (61): PS_PROTECTION, 1 byte.
    public static let protectionInformation = ProcessInfoClass(rawValue: 61)
    /// `ProcessSubsystemInformation` (75): ULONG SUBSYSTEM_INFORMATION_TYPE (0 Win32, 1 WSL).
    public static let subsystemInformation = ProcessInfoClass(rawValue: 75)

    /// Every class ium serves (those with a rule), in numeric order.
    public static let served: [ProcessInfoClass] = rules.keys.sorted().map(ProcessInfoClass.init(rawValue:))

    /// The phnt name, such as `ProcessBasicInformation`, or `ProcessInfoClass(N)`.
    public var description: String { Self.names[rawValue] ?? "ProcessInfoClass(\(rawValue))" }

    /// Looks a class up by its phnt name or its number.
    /// - Parameter name: `ProcessTimes`, `Times` or `4`.
    public init?(name: String) {
        if let number = UInt32(name) { self.init(rawValue: number); return }
        let lower = name.lowercased()
        let wanted = lower.hasPrefix("process") ? lower : "process" + lower
        guard let value = Self.names.first(where: { $0.value.lowercased() == wanted })?.key
        else { return nil }
        self.init(rawValue: value)
    }

    /// How ium answers this class, or nil when it is not served (`STATUS_INVALID_INFO_CLASS`).
    public var rule: ClassRule? { Self.rules[rawValue] }

    static let rules: [UInt32: ClassRule] = [
        0: ClassRule(lengths: .oneOf([48, 64]), alignment: 4, access: .queryLimited),
        4: ClassRule(lengths: .oneOf([32]), alignment: 4, access: .queryLimited),
        7: ClassRule(lengths: .oneOf([8]), alignment: 4, access: .query),
        24: ClassRule(lengths: .oneOf([4]), alignment: 4, access: .queryLimited),
        26: ClassRule(lengths: .oneOf([8]), alignment: 4, access: .queryLimited),
        27: ClassRule(lengths: .variable, alignment: 4, access: .queryLimited),
        29: ClassRule(lengths: .oneOf([4]), alignment: 4, access: .query),
        30: ClassRule(lengths: .oneOf([8]), alignment: 4, access: .query),
        31: ClassRule(lengths: .oneOf([4]), alignment: 4, access: .query),
        43: ClassRule(lengths: .variable, alignment: 8, access: .queryLimited),
        60: ClassRule(lengths: .variable, alignment: 4, access: .queryLimited),
        61: ClassRule(lengths: .oneOf([1]), alignment: 1, access: .queryLimited),
        75: ClassRule(lengths: .oneOf([4]), alignment: 4, access: .queryLimited),
    ]

    static let names: [UInt32: String] = [
        0: "ProcessBasicInformation", 1: "ProcessQuotaLimits", 2: "ProcessIoCounters",
        3: "ProcessVmCounters", 4: "ProcessTimes", 5: "ProcessBasePriority",
        6: "ProcessRaisePriority", 7: "ProcessDebugPort", 8: "ProcessExceptionPort",
        9: "ProcessAccessToken", 10: "ProcessLdtInformation", 11: "ProcessLdtSize",
        12: "ProcessDefaultHardErrorMode", 13: "ProcessIoPortHandlers",
        14: "ProcessPooledUsageAndLimits", 15: "ProcessWorkingSetWatch",
        16: "ProcessUserModeIOPL", 17: "ProcessEnableAlignmentFaultFixup",
        18: "ProcessPriorityClass", 19: "ProcessWx86Information", 20: "ProcessHandleCount",
        21: "ProcessAffinityMask", 22: "ProcessPriorityBoost", 23: "ProcessDeviceMap",
        24: "ProcessSessionInformation", 25: "ProcessForegroundInformation",
        26: "ProcessWow64Information", 27: "ProcessImageFileName",
        28: "ProcessLUIDDeviceMapsEnabled", 29: "ProcessBreakOnTermination",
        30: "ProcessDebugObjectHandle", 31: "ProcessDebugFlags", 32: "ProcessHandleTracing",
        33: "ProcessIoPriority", 34: "ProcessExecuteFlags", 35: "ProcessTlsInformation",
        36: "ProcessCookie", 37: "ProcessImageInformation", 38: "ProcessCycleTime",
        39: "ProcessPagePriority", 40: "ProcessInstrumentationCallback",
        41: "ProcessThreadStackAllocation", 42: "ProcessWorkingSetWatchEx",
        43: "ProcessImageFileNameWin32", 44: "ProcessImageFileMapping",
        45: "ProcessAffinityUpdateMode", 46: "ProcessMemoryAllocationMode",
        47: "ProcessGroupInformation", 48: "ProcessTokenVirtualizationEnabled",
        49: "ProcessConsoleHostProcess", 50: "ProcessWindowInformation",
        51: "ProcessHandleInformation", 52: "ProcessMitigationPolicy",
        53: "ProcessDynamicFunctionTableInformation", 54: "ProcessHandleCheckingMode",
        55: "ProcessKeepAliveCount", 56: "ProcessRevokeFileHandles",
        57: "ProcessWorkingSetControl", 58: "ProcessHandleTable", 59: "ProcessCheckStackExtentsMode",
        60: "ProcessCommandLineInformation", 61: "ProcessProtectionInformation",
        62: "ProcessMemoryExhaustion", 63: "ProcessFaultInformation",
        64: "ProcessTelemetryIdInformation", 65: "ProcessCommitReleaseInformation",
        66: "ProcessDefaultCpuSetsInformation", 67: "ProcessAllowedCpuSetsInformation",
        68: "ProcessSubsystemProcess", 69: "ProcessJobMemoryInformation",
        70: "ProcessInPrivate", 71: "ProcessRaiseUMExceptionOnInvalidHandleClose",
        72: "ProcessIumChallengeResponse", 73: "ProcessChildProcessInformation",
        74: "ProcessHighGraphicsPriorityInformation", 75: "ProcessSubsystemInformation",
    ]
}

/// The rights a query class needs on the handle.
public enum RequiredAccess: Sendable, Hashable {
    /// `PROCESS_QUERY_LIMITED_INFORMATION` or `PROCESS_QUERY_INFORMATION` (Vista+ rule).
    case queryLimited
    /// `PROCESS_QUERY_INFORMATION`.
    case query

    /// Whether a handle with `granted` access may make the query.
    /// - Parameter granted: The handle's granted access.
    public func isSatisfied(by granted: AccessMask) -> Bool {
        switch self {
        case .queryLimited: !granted.isDisjoint(with: [.queryInformation, .queryLimitedInformation])
        case .query: granted.contains(.queryInformation)
        }
    }
}

/// How one information class is checked before it is answered.
public struct ClassRule: Sendable, Hashable {
    /// The buffer lengths a class accepts.
    public enum Lengths: Sendable, Hashable {
        /// Only these exact lengths; any other gives `STATUS_INFO_LENGTH_MISMATCH` before
        /// any handle or pointer check, and ReturnLength is not written.
        case oneOf([UInt32])
        /// A UNICODE_STRING followed by its characters: too small gives
        /// `STATUS_INFO_LENGTH_MISMATCH` with ReturnLength set to the length needed.
        case variable
    }
    /// The accepted lengths.
    public var lengths: Lengths
    /// The alignment the buffer must have (ReactOS `PsProcessInfoClass`), else
    /// `STATUS_DATATYPE_MISALIGNMENT`.
    public var alignment: UInt64
    /// The access right the handle needs.
    public var access: RequiredAccess
}
