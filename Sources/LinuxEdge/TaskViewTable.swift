// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif
public import GuardABI
public import SystemPackage

/// A task view table (guard_abi.h, task_view.h) mapped read-only: the guard writes a caller's
/// record when the caller asks the kernel about a process it may see, so NtQueryInformationProcess
/// class 0 needs no round trip. iumd maps its own table (slot 0), each client the one iumd
/// passed it.
public final class TaskViewTable: @unchecked Sendable {
    private let records: UnsafeRawPointer
    /// The bytes mapped: the table's records (the kernel rounds up to a page).
    public static let bytes = Int(IUM_VIEW_RECORDS) * MemoryLayout<ium_view>.stride

    /// Maps the table `fd` refers to (the descriptor may be closed afterwards).
    public init(fd: Int32) throws(Errno) {
        guard let base = mmap(nil, Self.bytes, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw Errno.current
        }
        records = UnsafeRawPointer(base)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: records), Self.bytes) }

    /// What the kernel shows this process of process `pid` now, or nil when it is gone or the
    /// guard did not answer. `pidfd`: a pidfd of `pid` for the read probe, or -1 for none (this
    /// process itself, or iumd's own slot, which sees everything).
    public func view(of pid: Int32, pidfd: Int32 = -1) -> ium_view? {
        var view = ium_view()
        let table = records.assumingMemoryBound(to: ium_view.self)
        return ium_view_ask(table, UInt32(bitPattern: Processes.threadID), pid, pidfd, &view) == 0 ? view : nil
    }
}
