// SPDX-License-Identifier: Apache-2.0

import NTModel

/// Little-endian writer for protocol frames.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// Creates an empty writer with room for a query's reply (no reallocation on the hot path).
    public init() { bytes.reserveCapacity(128) }

    /// Appends an integer, little-endian.
    /// - Parameter value: The integer.
    public mutating func put<T: FixedWidthInteger>(_ value: T) {
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    /// Appends a string: UInt16 length, then UTF-8 (cut at 65,535 bytes).
    /// - Parameter value: The string.
    public mutating func put(_ value: String) {
        let utf8 = Array(value.utf8.prefix(Int(UInt16.max)))
        put(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Appends raw bytes: UInt32 length, then the bytes.
    /// - Parameter value: The bytes.
    public mutating func putBlob(_ value: [UInt8]) {
        put(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
}

/// Little-endian reader for protocol frames; every read checks the bounds.
public struct WireReader: Sendable {
    let bytes: [UInt8]
    /// The read position.
    public private(set) var offset: Int

    /// Creates a reader.
    /// - Parameters:
    ///   - bytes: The frame.
    ///   - offset: Where to start.
    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Reads an integer.
    public mutating func get<T: FixedWidthInteger>(_ type: T.Type = T.self) throws(ProtocolError) -> T {
        guard let value = bytes.littleEndian(type, at: offset) else { throw ProtocolError.truncated(at: offset) }
        offset += MemoryLayout<T>.size
        return value
    }

    /// Reads a string written by ``WireWriter/put(_:)-(String)``.
    public mutating func getString() throws(ProtocolError) -> String {
        let count = Int(try get(UInt16.self))
        guard offset + count <= bytes.count else { throw ProtocolError.truncated(at: offset) }
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }

    /// The bytes after the read position (a frame that follows this one in the same message).
    public var rest: [UInt8] { Array(bytes[min(offset, bytes.count)...]) }

    /// Reads bytes written by ``WireWriter/putBlob(_:)``.
    public mutating func getBlob() throws(ProtocolError) -> [UInt8] {
        let count = Int(try get(UInt32.self))
        guard count <= bytes.count - offset else { throw ProtocolError.truncated(at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// A frame that cannot be decoded.
public enum ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The frame ends before a field at this offset.
    case truncated(at: Int)
    /// The first four bytes are not `IUM1`.
    case badMagic(UInt32)
    /// A protocol version this side does not speak.
    case unsupportedVersion(UInt16)
    /// An unknown message type.
    case unknownType(UInt16)
    /// The frame is larger than ``Frame/maximumSize``.
    case tooLarge(Int)
    /// A field holds a value outside its range.
    case invalidField(String)

    /// One line for the error reply and the logs.
    public var description: String {
        switch self {
        case .truncated(let at): "truncated frame (a field at offset \(at) is missing)"
        case .badMagic(let m): "not an ium frame (magic 0x\(String(m, radix: 16)))"
        case .unsupportedVersion(let v): "unsupported protocol version \(v) (this side speaks \(Frame.version))"
        case .unknownType(let t): "unknown message type \(t)"
        case .tooLarge(let n): "frame of \(n) bytes exceeds \(Frame.maximumSize)"
        case .invalidField(let f): "invalid field: \(f)"
        }
    }
}
