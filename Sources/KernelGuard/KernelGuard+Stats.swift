// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf

/// What the kernel counts for one of the guard's programs while `kernel.bpf_stats_enabled`
/// is 1 (both stay 0 otherwise).
public struct ProgramStats: Hashable, Sendable {
    /// The program's name (its pin without `link_`/`prog_`).
    public var name: String
    /// Time spent running it, nanoseconds.
    public var runTimeNanoseconds: UInt64
    /// Times it ran.
    public var runCount: UInt64
}

extension KernelGuard {
    /// The run time and count of each of the guard's programs, through their pins.
    public func programStats() throws(GuardError) -> [ProgramStats] {
        try pinnedPrograms().map { ProgramStats(name: String($0.pin.dropFirst(5)), runTimeNanoseconds: $0.info.run_time_ns, runCount: $0.info.run_cnt) }
            .sorted { $0.name < $1.name }
    }

    /// Each program of the guard, through its pin (`link_*`: the link's program; `prog_*`: the
    /// program), with what the kernel says of it. Every one or an error.
    func pinnedPrograms() throws(GuardError) -> [(pin: String, info: bpf_prog_info)] {
        var programs: [(pin: String, info: bpf_prog_info)] = []
        for pin in try Self.directoryEntries(pinDirectory) where pin.hasPrefix("link_") || pin.hasPrefix("prog_") {
            let fd = bpf_obj_get(pinDirectory + "/" + pin)
            guard fd >= 0 else { throw GuardError(.mapFailed, "cannot open the pin \(pinDirectory)/\(pin)", errno: errno) }
            defer { close(fd) }
            var program = fd
            if pin.hasPrefix("link_") {
                var link = bpf_link_info()
                try Self.objectInfo(fd, &link, pin)
                program = bpf_prog_get_fd_by_id(link.prog_id)
                guard program >= 0 else { throw GuardError(.mapFailed, "cannot open the program of \(pin)", errno: errno) }
            }
            defer { if program != fd { close(program) } }
            var info = bpf_prog_info()
            try Self.objectInfo(program, &info, "the program of \(pin)")
            programs.append((pin, info))
        }
        return programs
    }

    /// `bpf_obj_get_info_by_fd` into `value`, or an error naming `what`.
    static func objectInfo<T>(_ fd: Int32, _ value: inout T, _ what: String) throws(GuardError) {
        var length = UInt32(MemoryLayout<T>.size)
        guard withUnsafeMutableBytes(of: &value, { bpf_obj_get_info_by_fd(fd, $0.baseAddress, &length) }) == 0 else {
            throw GuardError(.mapFailed, "cannot read \(what)", errno: errno)
        }
    }
}
