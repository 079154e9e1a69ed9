// SPDX-License-Identifier: Apache-2.0
//
// Task views (guard_abi.h, task_view.h): each client of iumd gets a private table the guard
// writes when the client asks the kernel about a process it holds a handle to, so
// NtQueryInformationProcess class 0 needs no round trip to iumd. iumd owns the slots and the
// grants; the tables are frozen at creation, so only the guard's programs ever write them.

#if canImport(Glibc)
import Glibc
#endif
internal import CLibbpf
internal import GuardABI
public import LinuxEdge
import SystemPackage

extension KernelGuard {
    /// Forgets every client, table and grant (a new iumd: the old one's clients reconnect).
    public func resetViews() throws(GuardError) {
        let outer = try mapFD("ium_views")
        for slot in 0..<UInt32(IUM_VIEW_CLIENTS) {
            var key = slot
            _ = bpf_map_delete_elem(outer, &key)
        }
        try deleteAll(mapFD("ium_view_clients"), keySize: MemoryLayout<UInt32>.size)
        try deleteAll(mapFD("ium_view_grants"), keySize: MemoryLayout<ium_view_grant_key>.size)
    }

    private func deleteAll(_ fd: Int32, keySize: Int) throws(GuardError) {
        var key = [UInt8](repeating: 0, count: keySize)
        while bpf_map_get_next_key(fd, nil, &key) == 0 {
            guard bpf_map_delete_elem(fd, &key) == 0 else {
                throw GuardError(.mapFailed, "cannot clear a task view map", errno: errno)
            }
        }
    }

    /// Creates the table of slot `slot` for process `pid` (its start time in ticks, /proc/PID/stat
    /// field 22: its identity) and
    /// registers the process as that slot's client. Returns the table's fd (frozen: only the
    /// guard writes it; the client maps it read-only).
    public func createViewTable(slot: UInt32, pid: Int32, startTicks: UInt64) throws(GuardError) -> Int32 {
        var opts = bpf_map_create_opts()
        opts.sz = MemoryLayout<bpf_map_create_opts>.size
        opts.map_flags = UInt32(BPF_F_MMAPABLE)
        let fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ium_view_table", 4, UInt32(MemoryLayout<ium_view>.size),
                                UInt32(IUM_VIEW_RECORDS), &opts)
        try LibBPF.check(fd, .mapFailed, "cannot create a task view table")
        do throws(GuardError) {
            try LibBPF.check(bpf_map_freeze(fd), .mapFailed, "cannot freeze a task view table")
            var key = slot
            var value = fd
            guard bpf_map_update_elem(try mapFD("ium_views"), &key, &value, UInt64(BPF_ANY)) == 0 else {
                throw GuardError(.mapFailed, "cannot install the task view table of slot \(slot)", errno: errno)
            }
            var tgid = UInt32(bitPattern: pid)
            var client = ium_view_client(slot: slot, reserved: 0, start_ticks: startTicks)
            guard bpf_map_update_elem(try mapFD("ium_view_clients"), &tgid, &client, UInt64(BPF_ANY)) == 0 else {
                throw GuardError(.mapFailed, "cannot register process \(pid) for task views", errno: errno)
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Maps iumd's own table (slot 0, this process, started at `startTicks`).
    public func daemonViewTable(startTicks: UInt64) throws(GuardError) -> TaskViewTable {
        let fd = try createViewTable(slot: UInt32(IUM_VIEW_DAEMON_SLOT), pid: getpid(), startTicks: startTicks)
        defer { close(fd) }
        do { return try TaskViewTable(fd: fd) } catch {
            throw GuardError(.mapFailed, "cannot map the task view table", errno: error.rawValue)
        }
    }

    /// Removes slot `slot`'s table and its client `pid`.
    public func releaseViewSlot(_ slot: UInt32, pid: Int32) {
        var key = slot
        if let outer = maps["ium_views"] { _ = bpf_map_delete_elem(outer, &key) }
        var tgid = UInt32(bitPattern: pid)
        if let clients = maps["ium_view_clients"] { _ = bpf_map_delete_elem(clients, &tgid) }
    }

    /// Lets slot `slot` ask about process `pid` while it is the process started at `startTicks`.
    public func grantView(slot: UInt32, pid: Int32, startTicks: UInt64) throws(GuardError) {
        var key = ium_view_grant_key(slot: slot, pid: UInt32(bitPattern: pid))
        var start = startTicks
        guard bpf_map_update_elem(try mapFD("ium_view_grants"), &key, &start, UInt64(BPF_ANY)) == 0 else {
            throw GuardError(.mapFailed, "cannot grant a task view of process \(pid)", errno: errno)
        }
    }

    /// Withdraws slot `slot`'s grant on process `pid`.
    public func revokeView(slot: UInt32, pid: Int32) {
        var key = ium_view_grant_key(slot: slot, pid: UInt32(bitPattern: pid))
        if let grants = maps["ium_view_grants"] { _ = bpf_map_delete_elem(grants, &key) }
    }
}
