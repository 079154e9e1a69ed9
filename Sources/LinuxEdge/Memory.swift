// SPDX-License-Identifier: Apache-2.0
//
// Memory seen as bytes or addresses: the few places Swift code needs it, in one file. The
// generic helpers are inlinable so that callers in other modules get them specialized.

/// A NUL-terminated C string held in a fixed-size C array (a tuple in Swift), such as
/// `utsname.release` or a task's `comm`.
@inlinable
public func string<T>(fromCArray array: T) -> String {
    withUnsafeBytes(of: array) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
}

/// Whether two values of a plain C struct type (integers only, no padding left uninitialised)
/// hold the same bytes.
@inlinable
public func sameBytes<T>(_ a: T, _ b: T) -> Bool {
    withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } }
}

/// Feeds a plain C struct's bytes to a hasher.
@inlinable
public func hashBytes<T>(of value: T, into hasher: inout Hasher) {
    withUnsafeBytes(of: value) { hasher.combine(bytes: $0) }
}

/// Calls `body` with the addresses of a real, 16-byte aligned buffer of `length` bytes and a
/// ReturnLength (ULONG) that live for the call: what an NT query gets from its caller.
public func withQueryBuffers<R, E: Error>(length: UInt32, _ body: (_ buffer: UInt64, _ returnLength: UInt64) throws(E) -> R) throws(E) -> R {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(Int(length), 1), alignment: 16)
    let returned = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    defer { buffer.deallocate(); returned.deallocate() }
    return try body(UInt64(UInt(bitPattern: buffer)), UInt64(UInt(bitPattern: returned)))
}
