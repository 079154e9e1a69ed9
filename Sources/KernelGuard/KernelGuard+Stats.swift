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
        var stats: [ProgramStats] = []
        for pin in try Self.directoryEntries(pinDirectory) where pin.hasPrefix("link_") || pin.hasPrefix("prog_") {
            let fd = bpf_obj_get(pinDirectory + "/" + pin)
            guard fd >= 0 else { throw GuardError(.mapFailed, "cannot open the pin \(pinDirectory)/\(pin)", errno: errno) }
            defer { close(fd) }
            var program = fd
            if pin.hasPrefix("link_") {
                var link = bpf_link_info()
                var length = UInt32(MemoryLayout<bpf_link_info>.size)
                guard bpf_obj_get_info_by_fd(fd, &link, &length) == 0 else {
                    throw GuardError(.mapFailed, "cannot read the link \(pin)", errno: errno)
                }
                program = bpf_prog_get_fd_by_id(link.prog_id)
                guard program >= 0 else { throw GuardError(.mapFailed, "cannot open the program of \(pin)", errno: errno) }
            }
            defer { if program != fd { close(program) } }
            var info = bpf_prog_info()
            var length = UInt32(MemoryLayout<bpf_prog_info>.size)
            guard bpf_obj_get_info_by_fd(program, &info, &length) == 0 else {
                throw GuardError(.mapFailed, "cannot read the program of \(pin)", errno: errno)
            }
            stats.append(ProgramStats(name: String(pin.dropFirst(5)), runTimeNanoseconds: info.run_time_ns, runCount: info.run_cnt))
        }
        return stats.sorted { $0.name < $1.name }
    }
}
