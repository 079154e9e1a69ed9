// SPDX-License-Identifier: Apache-2.0

/// An NT access mask (`ACCESS_MASK`): the rights a handle grants.
///
/// Values are those of `winnt.h` (docs/NT-SEMANTICS.md §2). The generic rights map to specific
/// process rights through ``processGenericMapping``.
public struct AccessMask: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The raw 32-bit mask.
    public let rawValue: UInt32
    /// Creates a mask from its raw value.
    /// - Parameter rawValue: The 32-bit `ACCESS_MASK`.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `PROCESS_TERMINATE` (0x0001).
    public static let terminate = AccessMask(rawValue: 0x0001)
    /// `PROCESS_CREATE_THREAD` (0x0002).
    public static let createThread = AccessMask(rawValue: 0x0002)
    /// `PROCESS_SET_SESSIONID` (0x0004).
    public static let setSessionId = AccessMask(rawValue: 0x0004)
    /// `PROCESS_VM_OPERATION` (0x0008).
    public static let vmOperation = AccessMask(rawValue: 0x0008)
    /// `PROCESS_VM_READ` (0x0010).
    public static let vmRead = AccessMask(rawValue: 0x0010)
    /// `PROCESS_VM_WRITE` (0x0020).
    public static let vmWrite = AccessMask(rawValue: 0x0020)
    /// `PROCESS_DUP_HANDLE` (0x0040).
    public static let dupHandle = AccessMask(rawValue: 0x0040)
    /// `PROCESS_CREATE_PROCESS` (0x0080).
    public static let createProcess = AccessMask(rawValue: 0x0080)
    /// `PROCESS_SET_QUOTA` (0x0100).
    public static let setQuota = AccessMask(rawValue: 0x0100)
    /// `PROCESS_SET_INFORMATION` (0x0200).
    public static let setInformation = AccessMask(rawValue: 0x0200)
    /// `PROCESS_QUERY_INFORMATION` (0x0400).
    public static let queryInformation = AccessMask(rawValue: 0x0400)
    /// `PROCESS_SUSPEND_RESUME` (0x0800).
    public static let suspendResume = AccessMask(rawValue: 0x0800)
    /// `PROCESS_QUERY_LIMITED_INFORMATION` (0x1000).
    public static let queryLimitedInformation = AccessMask(rawValue: 0x1000)
    /// `PROCESS_SET_LIMITED_INFORMATION` (0x2000).
    public static let setLimitedInformation = AccessMask(rawValue: 0x2000)
    /// `DELETE` (0x10000).
    public static let delete = AccessMask(rawValue: 0x0001_0000)
    /// `READ_CONTROL` (0x20000).
    public static let readControl = AccessMask(rawValue: 0x0002_0000)
    /// `WRITE_DAC` (0x40000).
    public static let writeDAC = AccessMask(rawValue: 0x0004_0000)
    /// `WRITE_OWNER` (0x80000).
    public static let writeOwner = AccessMask(rawValue: 0x0008_0000)
    /// `SYNCHRONIZE` (0x100000).
    public static let synchronize = AccessMask(rawValue: 0x0010_0000)
    /// `MAXIMUM_ALLOWED` (0x2000000): grant every right the caller may have.
    public static let maximumAllowed = AccessMask(rawValue: 0x0200_0000)
    /// `GENERIC_ALL` (0x10000000).
    public static let genericAll = AccessMask(rawValue: 0x1000_0000)
    /// `GENERIC_EXECUTE` (0x20000000).
    public static let genericExecute = AccessMask(rawValue: 0x2000_0000)
    /// `GENERIC_WRITE` (0x40000000).
    public static let genericWrite = AccessMask(rawValue: 0x4000_0000)
    /// `GENERIC_READ` (0x80000000).
    public static let genericRead = AccessMask(rawValue: 0x8000_0000)

    /// `STANDARD_RIGHTS_REQUIRED` (0xF0000): DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER.
    public static let standardRightsRequired = AccessMask(rawValue: 0x000F_0000)
    /// `PROCESS_ALL_ACCESS` since Vista (0x1FFFFF).
    public static let processAllAccess = AccessMask(rawValue: 0x001F_FFFF)

    /// The generic mapping of the Windows 10 process object type
    /// (`Read 0x20410, Write 0x20BEA, Execute 0x121001, All 0x1FFFFF`).
    public static let processGenericMapping = GenericMapping(
        read: AccessMask(rawValue: 0x0002_0410),
        write: AccessMask(rawValue: 0x0002_0BEA),
        execute: AccessMask(rawValue: 0x0012_1001),
        all: .processAllAccess
    )

    /// The mask with its generic bits replaced by the rights they map to (`RtlMapGenericMask`),
    /// and the rights Vista+ implies: QUERY_INFORMATION implies QUERY_LIMITED_INFORMATION,
    /// SET_INFORMATION implies SET_LIMITED_INFORMATION.
    /// - Parameter mapping: The object type's generic mapping.
    public func mapped(by mapping: GenericMapping = AccessMask.processGenericMapping) -> AccessMask {
        var result = self.subtracting([.genericRead, .genericWrite, .genericExecute, .genericAll])
        if contains(.genericRead) { result.formUnion(mapping.read) }
        if contains(.genericWrite) { result.formUnion(mapping.write) }
        if contains(.genericExecute) { result.formUnion(mapping.execute) }
        if contains(.genericAll) { result.formUnion(mapping.all) }
        if result.contains(.queryInformation) { result.insert(.queryLimitedInformation) }
        if result.contains(.setInformation) { result.insert(.setLimitedInformation) }
        return result
    }

    /// `PROCESS_VM_READ | PROCESS_QUERY_INFORMATION`-style names joined with `|`.
    public var description: String {
        if self == .processAllAccess { return "PROCESS_ALL_ACCESS" }
        var names: [String] = []
        var rest = rawValue
        for (bit, name) in Self.names where rawValue & bit != 0 {
            names.append(name)
            rest &= ~bit
        }
        if rest != 0 { names.append("0x" + String(rest, radix: 16, uppercase: true)) }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }

    static let names: [(UInt32, String)] = [
        (0x0001, "PROCESS_TERMINATE"), (0x0002, "PROCESS_CREATE_THREAD"),
        (0x0004, "PROCESS_SET_SESSIONID"), (0x0008, "PROCESS_VM_OPERATION"),
        (0x0010, "PROCESS_VM_READ"), (0x0020, "PROCESS_VM_WRITE"),
        (0x0040, "PROCESS_DUP_HANDLE"), (0x0080, "PROCESS_CREATE_PROCESS"),
        (0x0100, "PROCESS_SET_QUOTA"), (0x0200, "PROCESS_SET_INFORMATION"),
        (0x0400, "PROCESS_QUERY_INFORMATION"), (0x0800, "PROCESS_SUSPEND_RESUME"),
        (0x1000, "PROCESS_QUERY_LIMITED_INFORMATION"), (0x2000, "PROCESS_SET_LIMITED_INFORMATION"),
        (0x1_0000, "DELETE"), (0x2_0000, "READ_CONTROL"), (0x4_0000, "WRITE_DAC"),
        (0x8_0000, "WRITE_OWNER"), (0x10_0000, "SYNCHRONIZE"), (0x200_0000, "MAXIMUM_ALLOWED"),
        (0x1000_0000, "GENERIC_ALL"), (0x2000_0000, "GENERIC_EXECUTE"),
        (0x4000_0000, "GENERIC_WRITE"), (0x8000_0000, "GENERIC_READ"),
    ]
}

/// `GENERIC_MAPPING`: the specific rights each generic right stands for, per object type.
public struct GenericMapping: Hashable, Sendable {
    /// What `GENERIC_READ` maps to.
    public var read: AccessMask
    /// What `GENERIC_WRITE` maps to.
    public var write: AccessMask
    /// What `GENERIC_EXECUTE` maps to.
    public var execute: AccessMask
    /// What `GENERIC_ALL` maps to.
    public var all: AccessMask
    /// Creates a mapping.
    /// - Parameters:
    ///   - read: The rights for `GENERIC_READ`.
    ///   - write: The rights for `GENERIC_WRITE`.
    ///   - execute: The rights for `GENERIC_EXECUTE`.
    ///   - all: The rights for `GENERIC_ALL`.
    public init(read: AccessMask, write: AccessMask, execute: AccessMask, all: AccessMask) {
        self.read = read; self.write = write; self.execute = execute; self.all = all
    }
}
