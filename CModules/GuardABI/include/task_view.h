/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * task_view.h — the one reader of task views (guard_abi.h) and the one mapping from a view to
 * NtQueryInformationProcess class 0. Used by libium's in-client query, by IUMClient and by
 * iumd's socket path, so the three cannot disagree.
 *
 * Asking: the calling thread's record is records[tid % IUM_VIEW_RECORDS] of its private,
 * read-only mapped table. The thread first runs its read probe of the process (when it has a
 * pidfd of it): process_madvise(pidfd, NULL, 0, IUM_PROBE_VIEW_ONLY, 0) reaches the kernel's ptrace
 * read check and, when the check passes, the guard fills the record with the fields that
 * check guards (start_stack, ADDR32). When it fails (or without a pidfd),
 * sched_getscheduler(pid) has the guard fill the record without them. Either syscall returns
 * after the write: the record is as fresh as the call. The sequence count must have moved
 * (else the guard did not answer: no grant, not a client) and be even and unchanged around
 * the copy, and the record must name this thread and this process.
 */
#ifndef IUM_TASK_VIEW_H
#define IUM_TASK_VIEW_H

#include "guard_abi.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The size to mmap for a client's table: IUM_VIEW_RECORDS * sizeof(struct ium_view). */

/* Runs the kernel's ptrace read check (PTRACE_MODE_READ_FSCREDS) of the calling process on the
 * process `pidfd` names, with `advice` IUM_PROBE_RECORD or IUM_PROBE_VIEW_ONLY (guard_abi.h):
 * 1 when it passes (0, or EPERM for a missing CAP_SYS_NICE, which the kernel checks after
 * it), else 0. */
static inline int ium_probe_advised(int pidfd, int advice) {
    long r = syscall(SYS_process_madvise, pidfd, NULL, 0, advice, 0);
    return r == 0 || errno == EPERM;
}

/* The probe before a request to iumd: the guard records a pass for iumd. */
static inline int ium_read_probe_pidfd(int pidfd) {
    return ium_probe_advised(pidfd, IUM_PROBE_RECORD);
}

/* The same probe, telling a refusal from a process that is gone (ESRCH: it exited, or has no
 * address space): 1 passed, 0 refused, -1 gone. */
static inline int ium_probe_pidfd(int pidfd) {
    if (ium_read_probe_pidfd(pidfd)) return 1;
    return errno == ESRCH ? -1 : 0;
}

/* The same check on process `pid`, through a pidfd opened for it: 1 when it passes, else 0. */
static inline int ium_read_probe(pid_t pid) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return 0;
    int passed = ium_read_probe_pidfd(fd);
    close(fd);
    return passed;
}

/*
 * Asks the kernel for the view of process `pid` into *out, from thread `tid` (the caller's
 * gettid()). pidfd: a pidfd of the process for the read probe, or -1 to skip it (the caller's
 * own process, which the check always lets through, or no pidfd). 0 on success; -1 with errno
 * ESRCH (no such process: the caller's slow path knows its exit) or EAGAIN (the guard did not
 * answer: ask iumd instead).
 */
static inline int ium_view_ask(const volatile struct ium_view *table, uint32_t tid, int32_t pid, int pidfd,
                               struct ium_view *out) {
    const volatile struct ium_view *r = &table[tid % IUM_VIEW_RECORDS];
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t before = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        int readable = pidfd >= 0 && ium_probe_advised(pidfd, IUM_PROBE_VIEW_ONLY);
        if (!readable && syscall(SYS_sched_getscheduler, pid) < 0) return -1;
        uint32_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        if (seq == before) break; /* nothing was written: no answer */
        if (seq & 1) continue;    /* another thread's write is under way */
        memcpy(out, (const void *)r, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) != seq || out->tid != tid || out->pid != (uint32_t)pid) continue;
        if (!readable && pidfd >= 0) { /* a later LSM refused what the guard let pass: show nothing it guards */
            out->flags &= ~(IUM_VIEW_READABLE | IUM_VIEW_ADDR32);
            out->start_stack = 0;
        }
        return 0;
    }
    errno = EAGAIN;
    return -1;
}

/* iumd's read of the guard's probe cache (guard_abi.h), mapped read-only: 1 with *out when
 * the entry of (caller, target) holds that pair's record, else 0 (look in ium_probes). */
static inline int ium_probe_cache_read(const volatile struct ium_probe_cache_entry *cache, uint32_t caller_tgid,
                                       uint32_t target_tgid, struct ium_probe *out) {
    const volatile struct ium_probe_cache_entry *e = &cache[ium_probe_slot(caller_tgid, target_tgid)];
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if (seq & 1) continue; /* the guard is writing it */
        uint32_t caller = e->caller_tgid, target = e->target_tgid;
        memcpy(out, (const void *)&e->probe, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq) continue;
        return caller == caller_tgid && target == target_tgid;
    }
    return 0;
}

/* NT's BasePriority for a Linux scheduling policy and nice value: the real-time and deadline
 * policies are 24 (REALTIME), SCHED_IDLE 4 (IDLE); otherwise by nice: ≤ -15 13 (HIGH),
 * < 0 10 (ABOVE_NORMAL), 0 8 (NORMAL), 1..9 6 (BELOW_NORMAL), ≥ 10 4 (IDLE). */
static inline int32_t ium_base_priority(uint32_t policy, int32_t nice) {
    if (policy == 1 || policy == 2 || policy == 6) return 24;
    if (policy == 5) return 4;
    if (nice <= -15) return 13;
    if (nice < 0) return 10;
    if (nice == 0) return 8;
    if (nice <= 9) return 6;
    return 4;
}

/* PROCESS_EXTENDED_BASIC_INFORMATION Flags bits (NT). */
#define IUM_NT_PROTECTED        (1u << 0)
#define IUM_NT_WOW64            (1u << 1)
#define IUM_NT_DELETING         (1u << 2)
#define IUM_NT_CROSS_SESSION    (1u << 3)
#define IUM_NT_FROZEN           (1u << 4)
#define IUM_NT_BACKGROUND       (1u << 5)
#define IUM_NT_STRONGLY_NAMED   (1u << 6)
#define IUM_NT_SECURE           (1u << 7)
#define IUM_NT_SUBSYSTEM        (1u << 8)

/* What iumd's table knows of a process beyond the view: its creator and the flags it keeps
 * (IsCrossSessionCreate, IsStronglyNamed — the latter valid while exec_id and cgroup_id are
 * the ones it was computed for). */
struct ium_view_context {
    uint64_t creator_pid;
    uint32_t table_flags; /* IUM_NT_CROSS_SESSION | IUM_NT_STRONGLY_NAMED */
    uint32_t reserved;
};

/* PROCESS_BASIC_INFORMATION + Flags of a running process, as the caller may see them. */
struct ium_basic_information {
    uint32_t exit_status; /* STATUS_PENDING */
    int32_t base_priority;
    uint64_t peb_base_address;
    uint64_t affinity_mask;
    uint64_t unique_process_id;
    uint64_t inherited_from_unique_process_id;
    uint32_t flags; /* IUM_NT_* */
    uint32_t reserved;
};

/*
 * The mapping (README "Flags"): IsProtectedProcess — has an address space and is not
 * dumpable by its owner (get_dumpable != SUID_DUMP_USER); IsWow64Process — a 32-bit address
 * space, shown only when the read check passed; IsProcessDeleting — exiting or a zombie;
 * IsFrozen — its cgroup frozen or job-control stopped; IsBackground — SCHED_BATCH, SCHED_IDLE or
 * the idle I/O class; IsSecureProcess — tagged; IsSubsystemProcess — in a child PID namespace.
 * PebBaseAddress is start_stack when the read check passed, else 0.
 */
static inline struct ium_basic_information ium_view_basic_information(const struct ium_view *v,
                                                                      const struct ium_view_context *c) {
    struct ium_basic_information b;
    memset(&b, 0, sizeof b);
    b.exit_status = 0x00000103; /* STATUS_PENDING */
    b.base_priority = ium_base_priority(v->policy, v->nice);
    b.peb_base_address = (v->flags & IUM_VIEW_READABLE) ? v->start_stack : 0;
    b.affinity_mask = v->cpus;
    b.unique_process_id = v->pid;
    b.inherited_from_unique_process_id = c->creator_pid;
    uint32_t f = c->table_flags & (IUM_NT_CROSS_SESSION | IUM_NT_STRONGLY_NAMED);
    if ((v->flags & IUM_VIEW_HAS_MM) && v->dumpable != 1) f |= IUM_NT_PROTECTED;
    if ((v->flags & IUM_VIEW_READABLE) && (v->flags & IUM_VIEW_ADDR32)) f |= IUM_NT_WOW64;
    if (v->flags & (IUM_VIEW_EXITING | IUM_VIEW_ZOMBIE)) f |= IUM_NT_DELETING;
    if ((v->flags & (IUM_VIEW_FROZEN | IUM_VIEW_STOPPED)) && !(v->flags & IUM_VIEW_ZOMBIE)) f |= IUM_NT_FROZEN;
    if (v->policy == 3 || v->policy == 5 || (v->flags & IUM_VIEW_IDLE_IO)) f |= IUM_NT_BACKGROUND;
    if (v->flags & IUM_VIEW_SECURE) f |= IUM_NT_SECURE;
    if (v->flags & IUM_VIEW_CHILD_PIDNS) f |= IUM_NT_SUBSYSTEM;
    b.flags = f;
    return b;
}

#endif /* IUM_TASK_VIEW_H */
