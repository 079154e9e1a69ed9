// SPDX-License-Identifier: Apache-2.0
@testable import NTModel

/// A process with fixed facts, for the decision procedure.
struct FakeProcess: ProcessInformationSource {
    var basic = ProcessBasicInformation(
        exitStatus: .pending, pebBaseAddress: 0x7FFD_0000_1000, affinityMask: 0x3, basePriority: 8,
        uniqueProcessId: 4242, inheritedFromUniqueProcessId: 1)
    var flags: ProcessFlags = [.isSecureProcess]
    var debugged = false
    var debugHandle: Handle = Handle(rawValue: 0x40)
    var image = "/usr/bin/sleep"
    var cmdline = "sleep 100"

    func basicInformation() -> ProcessBasicInformation { basic }
    func extendedFlags() -> ProcessFlags { flags }
    func times() -> KernelUserTimes { KernelUserTimes(createTime: 1, exitTime: 0, kernelTime: 2, userTime: 3) }
    func isBeingDebugged() -> Bool { debugged }
    func openDebugObject() -> Result<Handle, NTStatus>? { debugged ? .success(debugHandle) : nil }
    func sessionId() -> UInt32 { 77 }
    func wow64PebAddress() -> UInt64 { 0 }
    func imageFileName() -> String { image }
    func commandLine() -> String { cmdline }
    func breakOnTermination() -> Bool { false }
    func protection() -> UInt8 { 0 }
    func subsystem() -> UInt32 { 0 }
}

let aligned: UInt64 = 0x7000_0000_1000
let retlenAddress: UInt64 = 0x7000_0000_2000

/// Runs the procedure with a writable buffer and ReturnLength unless told otherwise.
func query(
    _ cls: UInt32 = 0, length: UInt32 = 64, buffer: BufferPointer = .writable(address: aligned),
    returnLength: ReturnLengthPointer = .writable(address: retlenAddress),
    handle: HandleResolution = .process(granted: .processAllAccess, source: FakeProcess())
) -> QueryOutcome {
    queryInformationProcess(infoClass: cls, length: length, buffer: buffer, returnLength: returnLength, handle: handle)
}
