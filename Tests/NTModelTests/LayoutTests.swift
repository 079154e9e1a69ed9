// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import NTModel

@Suite("Binary layouts (x64, little-endian) against golden bytes")
struct LayoutTests {
    let basic = ProcessBasicInformation(
        exitStatus: .pending, pebBaseAddress: 0x1122_3344_5566_7788, affinityMask: 0x3, basePriority: 8,
        uniqueProcessId: 0x1234, inheritedFromUniqueProcessId: 0x56)

    @Test("PROCESS_BASIC_INFORMATION is 48 bytes with padding after ExitStatus and BasePriority")
    func basicGolden() throws {
        let expected: [UInt8] = [
            0x03, 0x01, 0, 0, 0, 0, 0, 0,
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
            0x03, 0, 0, 0, 0, 0, 0, 0,
            0x08, 0, 0, 0, 0, 0, 0, 0,
            0x34, 0x12, 0, 0, 0, 0, 0, 0,
            0x56, 0, 0, 0, 0, 0, 0, 0,
        ]
        #expect(basic.bytes == expected)
        #expect(try ProcessBasicInformation(decoding: expected) == basic)
    }

    @Test("PROCESS_EXTENDED_BASIC_INFORMATION is 64 bytes: Size 64, BasicInfo at 8, Flags at 56")
    func extendedGolden() throws {
        let pebi = ProcessExtendedBasicInformation(basicInfo: basic, flags: [.isSecureProcess, .isProtectedProcess])
        let bytes = pebi.bytes
        #expect(bytes.count == 64)
        #expect(Array(bytes[0..<8]) == [64, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[8..<56]) == basic.bytes)
        #expect(Array(bytes[56..<64]) == [0x81, 0, 0, 0, 0, 0, 0, 0])
        #expect(try ProcessExtendedBasicInformation(decoding: bytes) == pebi)
    }

    @Test("decoding ignores the Size a caller put in the structure")
    func sizeIgnoredOnInput() throws {
        var bytes = ProcessExtendedBasicInformation(basicInfo: basic, flags: []).bytes
        bytes.replaceSubrange(0..<8, with: [0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0])
        #expect(try ProcessExtendedBasicInformation(decoding: bytes).basicInfo == basic)
    }

    @Test("a short buffer is a decoding error naming the structure and the field")
    func shortBuffer() {
        #expect(throws: LayoutDecodingError(type: "PROCESS_BASIC_INFORMATION", field: "UniqueProcessId", available: 39)) {
            try ProcessBasicInformation(decoding: [UInt8](repeating: 0, count: 39))
        }
    }

    @Test("the nine Flags bits are at positions 0 to 8 with the WDK names; SpareBits are zero")
    func flagBits() {
        let names = ProcessFlags.named.map(\.name)
        #expect(names == ["IsProtectedProcess", "IsWow64Process", "IsProcessDeleting", "IsCrossSessionCreate",
                          "IsFrozen", "IsBackground", "IsStronglyNamed", "IsSecureProcess", "IsSubsystemProcess"])
        for (bit, entry) in ProcessFlags.named.enumerated() { #expect(entry.flag.rawValue == 1 << bit) }
        let all = ProcessFlags.named.reduce(ProcessFlags()) { $0.union($1.flag) }
        #expect(all.rawValue == 0x1FF)
        #expect(all.spareBits == 0)
    }

    @Test("KERNEL_USER_TIMES is four little-endian LARGE_INTEGERs")
    func timesGolden() throws {
        let t = KernelUserTimes(createTime: 0x0102, exitTime: 0, kernelTime: -1, userTime: 5)
        #expect(t.bytes == [2, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
                + [UInt8](repeating: 0xFF, count: 8) + [5, 0, 0, 0, 0, 0, 0, 0])
        #expect(try KernelUserTimes(decoding: t.bytes) == t)
    }

    @Test("an inline UNICODE_STRING has Length, MaximumLength = Length + 2, Buffer = address + 16 and a NUL")
    func unicodeStringGolden() {
        let s = InlineUnicodeString("ab")
        #expect(s.bytes(bufferAddress: 0x1000) == [4, 0, 6, 0, 0, 0, 0, 0, 0x10, 0x10, 0, 0, 0, 0, 0, 0,
                                                   0x61, 0, 0x62, 0, 0, 0])
        #expect(s.requiredSize == 22)
    }

    @Test("a string longer than a USHORT length can hold is cut, never split inside a surrogate pair")
    func longStringIsCut() {
        let s = InlineUnicodeString(String(repeating: "a", count: 32_765) + "😀😀")
        #expect(Int(s.length) <= InlineUnicodeString.maximumLength)
        #expect(!UTF16.isLeadSurrogate(s.units.last!))
    }
}
