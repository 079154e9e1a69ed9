// SPDX-License-Identifier: Apache-2.0
import Testing
import libium
@testable import NTModel
import TestSupport

/// Proves that ntddk.h's C layouts are the bytes NTModel encodes: sizes, offsets, and the
/// position of every Flags bitfield.
@Suite("ntddk.h layouts equal NTModel's encodings")
struct NTDDKLayoutTests {
    let basic = ProcessBasicInformation(
        exitStatus: .pending, pebBaseAddress: 0x7FFD_1234_5000, affinityMask: 0x3, basePriority: 8,
        uniqueProcessId: 4242, inheritedFromUniqueProcessId: 77)

    @Test("sizes of the C structures match the encodings")
    func sizes() {
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.size == ProcessBasicInformation.size)
        #expect(MemoryLayout<PROCESS_EXTENDED_BASIC_INFORMATION>.size == ProcessExtendedBasicInformation.size)
        #expect(MemoryLayout<KERNEL_USER_TIMES>.size == KernelUserTimes.size)
        #expect(MemoryLayout<UNICODE_STRING>.size == InlineUnicodeString.headerSize)
        #expect(MemoryLayout<CLIENT_ID>.size == 16)
        #expect(MemoryLayout<OBJECT_ATTRIBUTES>.size == 48)
        #expect(MemoryLayout<PS_PROTECTION>.size == 1)
    }

    @Test("field offsets of PROCESS_BASIC_INFORMATION and PROCESS_EXTENDED_BASIC_INFORMATION")
    func offsets() {
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.ExitStatus) == 0)
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.PebBaseAddress) == 8)
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.AffinityMask) == 16)
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.BasePriority) == 24)
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.UniqueProcessId) == 32)
        #expect(MemoryLayout<PROCESS_BASIC_INFORMATION>.offset(of: \.InheritedFromUniqueProcessId) == 40)
        #expect(MemoryLayout<PROCESS_EXTENDED_BASIC_INFORMATION>.offset(of: \.Size) == 0)
        #expect(MemoryLayout<PROCESS_EXTENDED_BASIC_INFORMATION>.offset(of: \.BasicInfo) == 8)
    }

    @Test("the bytes NTModel encodes read back field by field through the C structure")
    func bytesThroughC() {
        let bytes = ProcessExtendedBasicInformation(basicInfo: basic, flags: [.isSecureProcess, .isWow64Process]).bytes
        var c = PROCESS_EXTENDED_BASIC_INFORMATION()
        withUnsafeMutableBytes(of: &c) { $0.copyBytes(from: bytes) }
        #expect(c.Size == 64)
        #expect(UInt32(bitPattern: c.BasicInfo.ExitStatus) == 0x103)
        #expect(UInt64(UInt(bitPattern: c.BasicInfo.PebBaseAddress)) == basic.pebBaseAddress)
        #expect(c.BasicInfo.AffinityMask == 3)
        #expect(c.BasicInfo.BasePriority == 8)
        #expect(c.BasicInfo.UniqueProcessId == 4242)
        #expect(c.BasicInfo.InheritedFromUniqueProcessId == 77)
        #expect(c.Flags == 0x82)
        #expect(c.IsSecureProcess == 1)
        #expect(c.IsWow64Process == 1)
        #expect(c.IsProtectedProcess == 0)
        #expect(c.SpareBits == 0)
    }

    @Test("each named bitfield of the Flags union sits on the bit NTModel uses")
    func bitPositions() {
        for (bit, entry) in ProcessFlags.named.enumerated() {
            #expect(ium_pebi_flag_bit(entry.name) == Int32(bit), "\(entry.name)")
        }
        #expect(ium_pebi_flag_bit("SpareBits") == 9)
    }

    @Test("every STATUS_* and access-right macro equals NTModel's value of the same name")
    func constants() throws {
        let rights = Dictionary(uniqueKeysWithValues: AccessMask.names.map { ($0.1, $0.0) })
        #expect(ium_abi_constant_count() == 43)
        for i in 0..<ium_abi_constant_count() {
            let constant = ium_abi_constant_at(i)
            let name = String(cString: constant.name)
            if name.hasPrefix("STATUS_") {
                #expect(NTStatus(name: name)?.rawValue == constant.value, "\(name)")
            } else if name == "PROCESS_ALL_ACCESS" {
                #expect(constant.value == AccessMask.processAllAccess.rawValue)
            } else {
                #expect(rights[name] == constant.value, "\(name)")
            }
        }
    }

    @Test("PROCESSINFOCLASS values equal NTModel's class numbers and names")
    func classes() {
        #expect(libium.ProcessBasicInformation.rawValue == ProcessInfoClass.basicInformation.rawValue)
        #expect(libium.ProcessTimes.rawValue == ProcessInfoClass.times.rawValue)
        #expect(libium.ProcessDebugObjectHandle.rawValue == ProcessInfoClass.debugObjectHandle.rawValue)
        #expect(libium.ProcessImageFileNameWin32.rawValue == ProcessInfoClass.imageFileNameWin32.rawValue)
        #expect(libium.ProcessSubsystemInformation.rawValue == ProcessInfoClass.subsystemInformation.rawValue)
        #expect(MaxProcessInfoClass.rawValue == 76)
    }
}

@Suite("ntddk.h compiles as C and C++ with gcc and clang at -Wall -Wextra -Werror")
struct NTDDKCompileTests {
    @Test("the header and every name WDK code uses compile", arguments: [
        ["gcc", "-std=c11"], ["gcc", "-std=c99"], ["clang", "-std=c11"],
        ["g++", "-std=c++11", "-x", "c++"], ["clang++", "-std=c++17", "-x", "c++"],
    ])
    func header(compiler: [String]) throws {
        let r = try runCommand(compiler + ["-Wall", "-Wextra", "-Werror", "-I", repositoryRoot + "/CModules/libium/include",
                                           "-c", repositoryRoot + "/Tests/Fixtures/header_check.c", "-o", "/dev/null"])
        #expect(r.status == 0, "\(compiler): \(r.stderr)")
    }

    @Test("Microsoft's IsSecureProcess sample compiles unchanged", arguments: [
        ["gcc", "-std=c11"], ["clang", "-std=c11"],
    ])
    func sample(compiler: [String]) throws {
        let r = try runCommand(compiler + ["-Wall", "-Wextra", "-Werror", "-I", repositoryRoot + "/CModules/libium/include",
                                           "-c", repositoryRoot + "/examples/IsSecureProcess.c", "-o", "/dev/null"])
        #expect(r.status == 0, "\(compiler): \(r.stderr)")
    }
}
