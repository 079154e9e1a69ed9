// SPDX-License-Identifier: Apache-2.0

/// `PROCESS_BASIC_INFORMATION`, 48 bytes on x64 (phnt `ntpsapi.h`:385).
///
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | 4 | ExitStatus (NTSTATUS), then 4 bytes of padding |
/// | 8 | 8 | PebBaseAddress |
/// | 16 | 8 | AffinityMask (KAFFINITY) |
/// | 24 | 4 | BasePriority (KPRIORITY), then 4 bytes of padding |
/// | 32 | 8 | UniqueProcessId |
/// | 40 | 8 | InheritedFromUniqueProcessId |
public struct ProcessBasicInformation: Hashable, Sendable {
    /// `sizeof(PROCESS_BASIC_INFORMATION)` on x64.
    public static let size = 48

    /// The exit code, or `STATUS_PENDING` (0x103) while the process runs.
    public var exitStatus: NTStatus
    /// Address of the process environment block in the target's address space.
    public var pebBaseAddress: UInt64
    /// The processors the process may run on.
    public var affinityMask: UInt64
    /// Base priority of the process's threads (8 for a normal process).
    public var basePriority: Int32
    /// The process id.
    public var uniqueProcessId: UInt64
    /// The id of the process that created this one, recorded at creation.
    public var inheritedFromUniqueProcessId: UInt64

    /// Creates the structure from its fields.
    /// - Parameters:
    ///   - exitStatus: `ExitStatus`.
    ///   - pebBaseAddress: `PebBaseAddress`.
    ///   - affinityMask: `AffinityMask`.
    ///   - basePriority: `BasePriority`.
    ///   - uniqueProcessId: `UniqueProcessId`.
    ///   - inheritedFromUniqueProcessId: `InheritedFromUniqueProcessId`.
    public init(
        exitStatus: NTStatus, pebBaseAddress: UInt64, affinityMask: UInt64, basePriority: Int32,
        uniqueProcessId: UInt64, inheritedFromUniqueProcessId: UInt64
    ) {
        self.exitStatus = exitStatus
        self.pebBaseAddress = pebBaseAddress
        self.affinityMask = affinityMask
        self.basePriority = basePriority
        self.uniqueProcessId = uniqueProcessId
        self.inheritedFromUniqueProcessId = inheritedFromUniqueProcessId
    }

    /// The 48 little-endian bytes of the structure.
    public var bytes: [UInt8] {
        var w = LittleEndianWriter(size: Self.size)
        encode(into: &w, at: 0)
        return w.bytes
    }

    func encode(into w: inout LittleEndianWriter, at base: Int) {
        w.put(exitStatus.rawValue, at: base + 0)
        w.put(pebBaseAddress, at: base + 8)
        w.put(affinityMask, at: base + 16)
        w.put(basePriority, at: base + 24)
        w.put(uniqueProcessId, at: base + 32)
        w.put(inheritedFromUniqueProcessId, at: base + 40)
    }

    /// Decodes the structure from bytes laid out as on x64.
    /// - Parameter bytes: At least 48 bytes.
    public init(decoding bytes: [UInt8]) throws(LayoutDecodingError) {
        try self.init(LittleEndianReader(bytes: bytes), at: 0)
    }

    init(_ r: LittleEndianReader, at base: Int) throws(LayoutDecodingError) {
        let t = "PROCESS_BASIC_INFORMATION"
        exitStatus = NTStatus(rawValue: try r.require(UInt32.self, at: base + 0, t, "ExitStatus"))
        pebBaseAddress = try r.require(UInt64.self, at: base + 8, t, "PebBaseAddress")
        affinityMask = try r.require(UInt64.self, at: base + 16, t, "AffinityMask")
        basePriority = try r.require(Int32.self, at: base + 24, t, "BasePriority")
        uniqueProcessId = try r.require(UInt64.self, at: base + 32, t, "UniqueProcessId")
        inheritedFromUniqueProcessId = try r.require(UInt64.self, at: base + 40, t, "InheritedFromUniqueProcessId")
    }
}

/// The Flags union of PROCESS_EXTENDED_BASIC_INFORMATION (offset 56), one bit per field as in
/// the WDK 10.0.15063 `ntddk.h` (docs/NT-SEMANTICS.md §4). Bits 9-31 (`SpareBits`) are always 0.
public struct ProcessFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The raw 32-bit Flags value.
    public let rawValue: UInt32
    /// Creates flags from the raw union value.
    /// - Parameter rawValue: The ULONG Flags.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bit 0, `IsProtectedProcess`. Linux: the process is not dumpable.
    public static let isProtectedProcess = ProcessFlags(rawValue: 1 << 0)
    /// Bit 1, `IsWow64Process`. Linux: its executable is a 32-bit ELF on a 64-bit kernel.
    public static let isWow64Process = ProcessFlags(rawValue: 1 << 1)
    /// Bit 2, `IsProcessDeleting`. Linux: exiting, a zombie, or exited.
    public static let isProcessDeleting = ProcessFlags(rawValue: 1 << 2)
    /// Bit 3, `IsCrossSessionCreate`. Linux: its session differed from its creator's.
    public static let isCrossSessionCreate = ProcessFlags(rawValue: 1 << 3)
    /// Bit 4, `IsFrozen`. Linux: its cgroup v2 is frozen, or it is stopped.
    public static let isFrozen = ProcessFlags(rawValue: 1 << 4)
    /// Bit 5, `IsBackground`. Linux: SCHED_IDLE/SCHED_BATCH or idle I/O priority.
    public static let isBackground = ProcessFlags(rawValue: 1 << 5)
    /// Bit 6, `IsStronglyNamed`. Linux: runs under an application identity.
    public static let isStronglyNamed = ProcessFlags(rawValue: 1 << 6)
    /// Bit 7, `IsSecureProcess`. Linux: tagged secure in the kernel tag store.
    public static let isSecureProcess = ProcessFlags(rawValue: 1 << 7)
    /// Bit 8, `IsSubsystemProcess`. Linux: runs in another PID namespace (a container).
    public static let isSubsystemProcess = ProcessFlags(rawValue: 1 << 8)

    /// The nine named bits, in bit order, with their WDK names.
    public static let named: [(flag: ProcessFlags, name: String)] = [
        (.isProtectedProcess, "IsProtectedProcess"), (.isWow64Process, "IsWow64Process"),
        (.isProcessDeleting, "IsProcessDeleting"), (.isCrossSessionCreate, "IsCrossSessionCreate"),
        (.isFrozen, "IsFrozen"), (.isBackground, "IsBackground"),
        (.isStronglyNamed, "IsStronglyNamed"), (.isSecureProcess, "IsSecureProcess"),
        (.isSubsystemProcess, "IsSubsystemProcess"),
    ]

    /// `SpareBits`: bits 9-31 of the union.
    public var spareBits: UInt32 { rawValue >> 9 }

    /// The names of the bits that are set, joined with `|`, or `0`.
    public var description: String {
        let set = Self.named.filter { contains($0.flag) }.map(\.name)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }
}

/// `PROCESS_EXTENDED_BASIC_INFORMATION`, 64 bytes on x64 (phnt `ntpsapi.h`:398, WDK 15063).
///
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | 8 | Size (SIZE_T): ignored on input, written as 64 on output |
/// | 8 | 48 | BasicInfo (PROCESS_BASIC_INFORMATION) |
/// | 56 | 4 | Flags (ULONG union, see ``ProcessFlags``) |
/// | 60 | 4 | tail padding (the structure is 8-aligned) |
public struct ProcessExtendedBasicInformation: Hashable, Sendable {
    /// `sizeof(PROCESS_EXTENDED_BASIC_INFORMATION)` on x64.
    public static let size = 64

    /// The basic information.
    public var basicInfo: ProcessBasicInformation
    /// The Flags union.
    public var flags: ProcessFlags

    /// Creates the structure.
    /// - Parameters:
    ///   - basicInfo: `BasicInfo`.
    ///   - flags: `Flags`.
    public init(basicInfo: ProcessBasicInformation, flags: ProcessFlags) {
        self.basicInfo = basicInfo
        self.flags = flags
    }

    /// The 64 little-endian bytes. `Size` is always written as 64, whatever the caller set.
    public var bytes: [UInt8] {
        var w = LittleEndianWriter(size: Self.size)
        w.put(UInt64(Self.size), at: 0)
        basicInfo.encode(into: &w, at: 8)
        w.put(flags.rawValue, at: 56)
        return w.bytes
    }

    /// Decodes the structure. The `Size` field is read but not checked, as NT ignores it on input.
    /// - Parameter bytes: At least 64 bytes.
    public init(decoding bytes: [UInt8]) throws(LayoutDecodingError) {
        let r = LittleEndianReader(bytes: bytes)
        _ = try r.require(UInt64.self, at: 0, "PROCESS_EXTENDED_BASIC_INFORMATION", "Size")
        basicInfo = try ProcessBasicInformation(r, at: 8)
        flags = ProcessFlags(rawValue: try r.require(UInt32.self, at: 56, "PROCESS_EXTENDED_BASIC_INFORMATION", "Flags"))
        _ = try r.require(UInt32.self, at: 60, "PROCESS_EXTENDED_BASIC_INFORMATION", "(padding)")
    }
}

/// `KERNEL_USER_TIMES` (class 4, `ProcessTimes`), 32 bytes: four LARGE_INTEGERs in 100 ns units.
/// `CreateTime` and `ExitTime` are FILETIMEs (since 1601-01-01 UTC); `ExitTime` is 0 while running.
public struct KernelUserTimes: Hashable, Sendable {
    /// `sizeof(KERNEL_USER_TIMES)`.
    public static let size = 32
    /// FILETIME of the process's creation.
    public var createTime: Int64
    /// FILETIME of its exit, or 0 while it runs.
    public var exitTime: Int64
    /// Time spent in the kernel, in 100 ns units.
    public var kernelTime: Int64
    /// Time spent in user mode, in 100 ns units.
    public var userTime: Int64

    /// Creates the structure.
    /// - Parameters:
    ///   - createTime: `CreateTime` (FILETIME).
    ///   - exitTime: `ExitTime` (FILETIME, 0 while running).
    ///   - kernelTime: `KernelTime` (100 ns units).
    ///   - userTime: `UserTime` (100 ns units).
    public init(createTime: Int64, exitTime: Int64, kernelTime: Int64, userTime: Int64) {
        self.createTime = createTime; self.exitTime = exitTime
        self.kernelTime = kernelTime; self.userTime = userTime
    }

    /// The 32 little-endian bytes.
    public var bytes: [UInt8] {
        var w = LittleEndianWriter(size: Self.size)
        w.put(createTime, at: 0); w.put(exitTime, at: 8)
        w.put(kernelTime, at: 16); w.put(userTime, at: 24)
        return w.bytes
    }

    /// Decodes the structure.
    /// - Parameter bytes: At least 32 bytes.
    public init(decoding bytes: [UInt8]) throws(LayoutDecodingError) {
        let r = LittleEndianReader(bytes: bytes), t = "KERNEL_USER_TIMES"
        createTime = try r.require(Int64.self, at: 0, t, "CreateTime")
        exitTime = try r.require(Int64.self, at: 8, t, "ExitTime")
        kernelTime = try r.require(Int64.self, at: 16, t, "KernelTime")
        userTime = try r.require(Int64.self, at: 24, t, "UserTime")
    }

    /// 100 ns intervals between 1601-01-01 and 1970-01-01 (the FILETIME epoch offset).
    public static let unixEpochAsFileTime: Int64 = 116_444_736_000_000_000
}

/// A `UNICODE_STRING` followed inline by its UTF-16LE characters and a NUL, as classes 27,
/// 43 and 60 return it. On x64: Length (USHORT, bytes, no NUL), MaximumLength (USHORT,
/// Length + 2), 4 bytes of padding, Buffer (PWSTR) pointing at offset 16 of the caller's buffer.
public struct InlineUnicodeString: Hashable, Sendable {
    /// `sizeof(UNICODE_STRING)` on x64.
    public static let headerSize = 16
    /// The longest `Length` a USHORT can hold with room for the NUL (whole UTF-16 units).
    public static let maximumLength = 0xFFFC

    /// The UTF-16 code units, cut to ``maximumLength`` bytes.
    public let units: [UInt16]

    /// Creates the string; a text longer than 32,766 UTF-16 units is cut there.
    /// - Parameter text: The text to return.
    public init(_ text: String) {
        var units = Array(text.utf16)
        if units.count * 2 > Self.maximumLength {
            units.removeLast(units.count - Self.maximumLength / 2)
            // Do not leave half of a surrogate pair at the end.
            if let last = units.last, UTF16.isLeadSurrogate(last) { units.removeLast() }
        }
        self.units = units
    }

    /// `Length` in bytes, without the NUL.
    public var length: UInt16 { UInt16(units.count * 2) }
    /// The bytes the caller's buffer needs: header, characters and the NUL.
    public var requiredSize: UInt32 { UInt32(Self.headerSize) + UInt32(length) + 2 }

    /// The bytes to store at `bufferAddress`, with `Buffer` pointing just after the header.
    /// - Parameter bufferAddress: The address of the caller's buffer.
    public func bytes(bufferAddress: UInt64) -> [UInt8] {
        var w = LittleEndianWriter(size: Int(requiredSize))
        w.put(length, at: 0)
        w.put(length + 2, at: 2)
        w.put(bufferAddress &+ UInt64(Self.headerSize), at: 8)
        for (i, unit) in units.enumerated() { w.put(unit, at: Self.headerSize + 2 * i) }
        return w.bytes
    }

    /// Decodes the header and the inline characters (whatever `Buffer` says, the text is read
    /// from offset 16, where this encoding puts it).
    /// - Parameter bytes: The bytes a query returned.
    public init(decoding bytes: [UInt8]) throws(LayoutDecodingError) {
        let r = LittleEndianReader(bytes: bytes), t = "UNICODE_STRING"
        let length = Int(try r.require(UInt16.self, at: 0, t, "Length"))
        _ = try r.require(UInt64.self, at: 8, t, "Buffer")
        var units: [UInt16] = []
        for i in 0..<(length / 2) {
            units.append(try r.require(UInt16.self, at: Self.headerSize + 2 * i, t, "Buffer[\(i)]"))
        }
        self.units = units
    }

    /// The text (invalid UTF-16 is repaired).
    public var text: String { String(decoding: units, as: UTF16.self) }
}
