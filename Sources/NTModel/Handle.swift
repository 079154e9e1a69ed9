// SPDX-License-Identifier: Apache-2.0

/// An NT `HANDLE` value as a 64-bit client passes it.
///
/// Real handles are multiples of 4 starting at 4; NT ignores their two low bits
/// (`OBJ_HANDLE_TAGBITS`), so 5, 6 and 7 name the same entry as 4. Small negative values are
/// pseudo-handles: -1 `NtCurrentProcess()`, -2 `NtCurrentThread()`, -3 `NtCurrentSession()`,
/// -4..-6 the current process/thread tokens (phnt `ntpsapi.h`, `ntseapi.h`).
public struct Handle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 64-bit handle value.
    public let rawValue: UInt64
    /// Creates a handle from its value.
    /// - Parameter rawValue: The HANDLE as a 64-bit integer.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `NULL`.
    public static let null = Handle(rawValue: 0)
    /// `NtCurrentProcess()`: `(HANDLE)-1`, the calling process.
    public static let currentProcess = Handle(rawValue: UInt64(bitPattern: -1))
    /// `NtCurrentThread()`: `(HANDLE)-2`, the calling thread.
    public static let currentThread = Handle(rawValue: UInt64(bitPattern: -2))

    /// The pseudo-handles that name another kind of object than a process (-2 … -6).
    public var isNonProcessPseudoHandle: Bool {
        let v = Int64(bitPattern: rawValue)
        return v <= -2 && v >= -6
    }

    /// The value with the two tag bits cleared: the handle table entry it names.
    public var entryValue: UInt64 { rawValue & ~3 }

    /// `0x4`, or `NtCurrentProcess()` for -1.
    public var description: String {
        if self == .currentProcess { return "NtCurrentProcess()" }
        if self == .currentThread { return "NtCurrentThread()" }
        return "0x" + String(rawValue, radix: 16, uppercase: true)
    }
}

/// One open handle: the object it references and the access granted when it was opened.
public struct HandleEntry<Object>: Sendable where Object: Sendable {
    /// The referenced object (a process object, or another object type).
    public var object: Object
    /// The access granted at open time, checked at every use.
    public var grantedAccess: AccessMask
}

/// A per-client handle table with NT handle values.
///
/// Values start at 4 and grow by 4; a closed value is reused (last closed, first reused), as
/// the NT handle table's free list does. The table holds the objects, so an object that a
/// handle references stays alive (and answerable) until the handle is closed.
public struct HandleTable<Object>: Sendable where Object: Sendable {
    private var entries: [UInt64: HandleEntry<Object>] = [:]
    private var free: [UInt64] = []
    private var next: UInt64 = 4

    /// The most handles the table holds; opening more gives `STATUS_INSUFFICIENT_RESOURCES`.
    public let limit: Int

    /// Creates an empty table.
    /// - Parameter limit: The number of handles the client may hold at once.
    public init(limit: Int = 4096) { self.limit = limit }

    /// The number of open handles.
    public var count: Int { entries.count }

    /// Inserts an object and returns its new handle.
    /// - Parameters:
    ///   - object: The object the handle references.
    ///   - access: The access granted at open.
    /// - Returns: The handle, or `STATUS_INSUFFICIENT_RESOURCES` when the table is full.
    public mutating func insert(_ object: Object, access: AccessMask) -> Result<Handle, NTStatus> {
        guard entries.count < limit else { return .failure(.insufficientResources) }
        let value: UInt64
        if let reused = free.popLast() {
            value = reused
        } else {
            value = next
            next += 4
        }
        entries[value] = HandleEntry(object: object, grantedAccess: access)
        return .success(Handle(rawValue: value))
    }

    /// The entry a real handle names (tag bits ignored), or nil for NULL, pseudo, closed or
    /// unknown values.
    /// - Parameter handle: The handle to resolve.
    public func entry(for handle: Handle) -> HandleEntry<Object>? {
        entries[handle.entryValue]
    }

    /// `NtClose`: closes a handle.
    /// - Parameter handle: The handle to close.
    /// - Returns: `STATUS_SUCCESS` (closing a pseudo-handle has no effect) or
    ///   `STATUS_INVALID_HANDLE` for NULL, closed and unknown values.
    @discardableResult
    public mutating func close(_ handle: Handle) -> NTStatus {
        if handle == .currentProcess || handle.isNonProcessPseudoHandle { return .success }
        guard entries.removeValue(forKey: handle.entryValue) != nil else { return .invalidHandle }
        free.append(handle.entryValue)
        return .success
    }

    /// Every open handle with its entry, in handle order.
    public var all: [(handle: Handle, entry: HandleEntry<Object>)] {
        entries.sorted { $0.key < $1.key }.map { (Handle(rawValue: $0.key), $0.value) }
    }
}
