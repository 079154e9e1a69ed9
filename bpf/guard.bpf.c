// SPDX-License-Identifier: GPL-2.0-only
// Copyright (c) 2026 the ium authors
//
// The ium guard: processes tagged secure (IUM trustlets) cannot be reached into by any other
// process, root included. This one source builds two objects (the Makefile compiles it twice
// and generates a skeleton for each); KernelGuard loads the one the kernel supports:
//
//   -DIUM_LSM  the lsm backend (BPF LSM active): the kernel call fails with EPERM. Also sealed
//              mode (only iumd may touch the guard, load tracing-class programs, or pass the
//              lockdown reasons that read kernel memory) and the side doors (core dumps, code
//              changed on disk, supervised exec, SIGIO payloads, /proc fds opened before the
//              tag, perf). No bpf_probe_read_kernel anywhere: it loads under
//              lockdown=confidentiality.
//   -DIUM_KILL the kill backend (no BPF LSM, tracepoints only): the offending caller gets
//              SIGKILL before it can use what it asked for. Best effort (Backend.gaps).
//   both:      tp_btf/sched_process_{fork,exec,exit}: inheritance and lifecycle records.
// The lsm object attaches no syscall tracepoint: enabling any of them sends every syscall of
// every task through the kernel's slow path (make bench measured getpid 1.7x slower).

#include "ium_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "guard_abi.h"

#if defined(IUM_LSM) == defined(IUM_KILL)
#error "build with exactly one of -DIUM_LSM and -DIUM_KILL"
#endif

// A compiler barrier: keeps the stores on either side in program order (x86 keeps them so).
#define ium_barrier() asm volatile("" ::: "memory")

char LICENSE[] SEC("license") = "GPL";

// ---- Settings (fixed at load) and state (iumd writes it) -------------------------------

const volatile struct ium_settings settings = {};
struct ium_state state = {};

// ---- Maps ------------------------------------------------------------------------------

// The tag store: one struct ium_tag per tagged task, freed with the task. Read on the task
// and on its thread-group leader (threads made before the tag carry none of their own).
struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC); // required for task storage
    __type(key, int);
    __type(value, struct ium_tag);
} ium_tags SEC(".maps");

// Records for iumd: denials (192 bytes) and the lifecycle ring's wake records (16 bytes).
// 1 MiB (a power of two, a page multiple): about 5,000 denials between two reads.
#define IUM_RINGBUF_BYTES (1 << 20)
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, IUM_RINGBUF_BYTES);
} ium_events SEC(".maps");

// Fork, exec and exit records, one ring per CPU (guard_abi.h). The loader sizes it to the
// possible CPUs (max_entries = CPUs * (IUM_LIFECYCLE_SLOTS + 1)); this is the size of one.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, IUM_LIFECYCLE_SLOTS + 1);
    __type(key, u32);
    __type(value, struct ium_lifecycle_slot);
} ium_lifecycle_ring SEC(".maps");

// Counters (enum ium_counter), per CPU; user space sums them.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, IUM_COUNTER_MAX);
    __type(key, u32);
    __type(value, u64);
} ium_counters SEC(".maps");

// Caller-view probes (guard_abi.h): the kernel's verdict on a client's own ptrace read check.
#define IUM_PROBES 16384
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, IUM_PROBES);
    __type(key, struct ium_probe_key);
    __type(value, struct ium_probe);
} ium_probes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, IUM_PROBE_CACHE);
    __type(key, u32);
    __type(value, struct ium_probe_cache_entry);
} ium_probe_cache SEC(".maps");

// Task views (guard_abi.h): a private mmapable array per client of iumd, each client's slot
// (by tgid), and what each slot may ask about (pid -> start time).
struct ium_view_records {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, IUM_VIEW_RECORDS);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(struct ium_view)); // sizes, not BTF: iumd creates the tables without BTF
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, IUM_VIEW_CLIENTS);
    __type(key, u32);
    __array(values, struct ium_view_records);
} ium_views SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IUM_VIEW_CLIENTS);
    __type(key, u32);
    __type(value, struct ium_view_client);
} ium_view_clients SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IUM_VIEW_GRANTS);
    __type(key, struct ium_view_grant_key);
    __type(value, u64);
} ium_view_grants SEC(".maps");

// Maps of requests in flight, keyed by the requesting thread or pid: at most one entry per
// concurrent request (a tag request, a resumed ptrace, a probe between syscall entry and exit).
#define IUM_INFLIGHT_ENTRIES 1024

#ifdef IUM_LSM
// Tag requests (guard_abi.h): iumd asks, the task_kill hook checks and tags.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IUM_INFLIGHT_ENTRIES);
    __type(key, u32);
    __type(value, struct ium_tag_request);
} ium_tag_requests SEC(".maps");

// The address spaces of secure processes (mm address -> tgid): a /proc/PID/mem, environ or
// auxv fd holds its process's mm, so a read through an fd opened before the tag is found by it.
#define IUM_SECURE_PROCESSES 65536
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IUM_SECURE_PROCESSES);
    __type(key, u64);
    __type(value, u32);
} ium_secure_mms SEC(".maps");

// Files (struct file addresses) a secure task maps executable -> their inode address; an entry
// lives until the file is freed, that is until its last mapping is gone.
#define IUM_CODE_FILES 65536
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, IUM_CODE_FILES);
    __type(key, u64);
    __type(value, u64);
} ium_code_files SEC(".maps");

// Inodes (addresses) of those files -> how many such files are alive (guard_abi.h).
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, IUM_CODE_FILES);
    __type(key, u64);
    __type(value, struct ium_code_inode);
} ium_code_inodes SEC(".maps");

// Marks on inodes (IUM_INODE_*): the fast test on every write, and the pins when sealed.
struct {
    __uint(type, BPF_MAP_TYPE_INODE_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, u32);
} ium_inode_marks SEC(".maps");

// Files whose SIGIO owner (F_SETOWN) a secure process set (struct file address -> its tgid).
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, u64);
    __type(value, u32);
} ium_fowners SEC(".maps");

// Sealed mode: the files iumd runs from (guard_abi.h).
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct ium_file_key);
    __type(value, struct ium_file_identity);
} ium_daemon_code SEC(".maps");
#endif

#ifdef IUM_KILL
// The target of a PTRACE_ATTACH/SEIZE that was answered with SIGKILL, keyed by the caller's
// thread id, so the syscall's exit can resume the target.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, IUM_INFLIGHT_ENTRIES);
    __type(key, u32);
    __type(value, u32);
} ium_resume SEC(".maps");

// A caller-view probe's target between the syscall's entry and exit, on the probing thread
// (kill backend): IUM_PROBE_PENDING, the pidfd's global pid number, IUM_PROBE_SHARED_FILES
// when the caller's file table is shared, IUM_PROBE_NO_RECORD for a view-only probe. Task
// storage: no hash update and delete per probe.
#define IUM_PROBE_NO_RECORD (1ull << 34)
#define IUM_PROBE_PENDING (1ull << 33)
#define IUM_PROBE_SHARED_FILES (1ull << 32)
struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC); // required for task storage
    __type(key, int);
    __type(value, u64);
} ium_probe_pending SEC(".maps");

// kfuncs that resolve a pid (6.2+: global; 6.13+: in the caller's namespace) and send a
// signal to another task (6.13+).
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern struct task_struct *bpf_task_from_vpid(s32 vpid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, u64 value) __ksym __weak;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak; // 6.2+
#define ium_ksym_exists(sym) (!!(sym))
#endif

#ifdef IUM_LSM
#define IUM_BACKEND IUM_BACKEND_LSM
#else
#define IUM_BACKEND IUM_BACKEND_KILL
#endif

// ---- Helpers ---------------------------------------------------------------------------

static __always_inline void count(u32 counter)
{
    u64 *value = bpf_map_lookup_elem(&ium_counters, &counter);
    if (value)
        __sync_fetch_and_add(value, 1);
}

static __always_inline struct ium_tag *tag_of(struct task_struct *task)
{
    // Most tasks have no task storage at all: no tag, without the helper call (which costs
    // more than the rest of a lifecycle program where returns run a Spectre/SRSO thunk).
    if (!task->bpf_storage)
        return 0;
    return bpf_task_storage_get(&ium_tags, task, 0, 0);
}

// The tag bits of a task's process: its own tag's, or its leader's.
static __always_inline u32 tag_flags(struct task_struct *task)
{
    struct ium_tag *tag = tag_of(task);
    if (tag)
        return tag->flags;
    struct task_struct *leader = task->group_leader;
    tag = leader && leader != task ? tag_of(leader) : 0;
    return tag ? tag->flags : 0;
}

static __always_inline bool is_secure(struct task_struct *task)
{
    return tag_flags(task) & IUM_TAG_SECURE;
}

// Copies SECURE from `from` to a new task. A new process never inherits INSPECTOR or DAEMON.
static __always_inline struct ium_tag *inherit(struct task_struct *from, struct task_struct *to)
{
    if (!is_secure(from))
        return 0;
    struct ium_tag *tag = bpf_task_storage_get(&ium_tags, to, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (tag && !(tag->flags & IUM_TAG_SECURE)) {
        tag->flags |= IUM_TAG_SECURE;
        tag->tagged_ns = bpf_ktime_get_boot_ns();
        count(IUM_COUNTER_TAGS_INHERITED);
    }
    return tag;
}

// Records a refusal by the current task against `target` (the guard itself when NULL).
static __always_inline struct ium_denial *deny_record(struct task_struct *target, u32 operation, u32 mode, u32 action)
{
    count(IUM_COUNTER_DENIALS);
    if (action == IUM_ACTION_KILLED)
        count(IUM_COUNTER_KILLS);
    struct ium_denial *e = bpf_ringbuf_reserve(&ium_events, sizeof(*e), 0);
    if (!e) {
        count(IUM_COUNTER_EVENTS_DROPPED);
        return 0;
    }
    count(IUM_COUNTER_RECORDS);
    __builtin_memset(e, 0, sizeof(*e));
    u64 id = bpf_get_current_pid_tgid();
    e->header.type = IUM_RECORD_DENIAL;
    e->header.pid = id >> 32;
    e->header.time_ns = bpf_ktime_get_boot_ns();
    e->tid = (u32)id;
    e->uid = (u32)bpf_get_current_uid_gid();
    if (target) {
        e->target_pid = target->tgid;
        e->target_tid = target->pid;
    }
    e->operation = operation;
    e->mode = mode;
    e->backend = IUM_BACKEND;
    e->action = action;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    return e;
}

// Lifecycle records are frequent (every fork, exec, exit) and only feed iumd's table: each
// CPU writes them to its own ring in ium_lifecycle_ring (guard_abi.h says why and how iumd
// reads them). A record is reserved by an atomic add on the CPU's head, so two writers on one
// CPU never share a slot (the fork/exec/exit tracepoints run with preemption disabled today;
// this does not depend on it), then written between its slot's seq going to 0 and to its
// index + 1. The stores are ordered for the reader by x86's TSO (the guard is built for
// x86-64) and the compiler barriers.
static __always_inline struct ium_lifecycle_slot *lifecycle_record(u32 type, struct task_struct *p,
                                                                  struct task_struct *current, u64 *index)
{
    if (!settings.lifecycle_events)
        return 0;
    u32 cpu = bpf_get_smp_processor_id();
    u32 first = cpu * (IUM_LIFECYCLE_SLOTS + 1);
    struct ium_lifecycle_slot *head = bpf_map_lookup_elem(&ium_lifecycle_ring, &first);
    if (!head)
        return 0;
    *index = __sync_fetch_and_add(&head->seq, 1);
    u32 entry = ium_lifecycle_entry(cpu, *index);
    struct ium_lifecycle_slot *slot = bpf_map_lookup_elem(&ium_lifecycle_ring, &entry);
    if (!slot) // never: the entry is in the same CPU's block as its head
        return 0;
    *(volatile u64 *)&slot->seq = 0;
    ium_barrier();
    struct ium_lifecycle *e = &slot->record;
    e->header.type = type;
    e->header.pid = p->tgid;
    // A fork's time is the child's start (copy_process set it just now); exec and exit records
    // carry none: a clock read is the costliest step a lifecycle program would have (a helper
    // call), and iumd's table does not depend on the order of records (ProcessDirectory.apply).
    // An exec is ordered by its exec id instead (code).
    e->header.time_ns = type == IUM_RECORD_FORK ? p->start_boottime : 0;
    e->tid = p->pid;
    e->code = type == IUM_RECORD_EXEC ? (s32)p->self_exec_id : 0;
    e->start_ns = p->group_leader->start_boottime;
    // The creating (fork) or acting task's uid, what bpf_get_current_uid_gid() would give,
    // read directly: one helper call fewer.
    const struct cred *cred = current->real_cred;
    e->uid = cred ? cred->uid.val : 0;
    e->reserved = 0;
    __builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
    return slot;
}

// Publishes the record lifecycle_record() returned (record `index` of this CPU); every
// IUM_LIFECYCLE_WAKE_EVERY records, a wake record for iumd.
static __always_inline void submit_lifecycle(struct ium_lifecycle_slot *slot, u64 index)
{
    u64 written = index + 1;
    ium_barrier();
    *(volatile u64 *)&slot->seq = written;
    if ((written & (IUM_LIFECYCLE_WAKE_EVERY - 1)) == 0) {
        struct ium_record_header wake = {.type = IUM_RECORD_WAKE};
        bpf_ringbuf_output(&ium_events, &wake, sizeof(wake), BPF_RB_FORCE_WAKEUP);
    }
}

// Records that the kernel let `caller`'s read probe of `target` pass, and what
// /proc/PID/stat would then have shown the caller as start_stack.
static __always_inline void record_probe(u32 caller_tgid, u64 caller_start, u32 target_tgid, u64 target_start,
                                         u64 start_stack, u64 target_exec_id)
{
    struct ium_probe_key key = {.caller_tgid = caller_tgid, .target_tgid = target_tgid};
    struct ium_probe probe = {
        .time_ns = bpf_ktime_get_boot_ns(), .caller_start_ns = caller_start, .target_start_ns = target_start,
        .start_stack = start_stack, .target_exec_id = target_exec_id,
    };
    bpf_map_update_elem(&ium_probes, &key, &probe, BPF_ANY);
    u32 slot = ium_probe_slot(caller_tgid, target_tgid);
    struct ium_probe_cache_entry *c = bpf_map_lookup_elem(&ium_probe_cache, &slot);
    if (!c)
        return;
    u32 seq = c->seq;
    if ((seq & 1) || __sync_val_compare_and_swap(&c->seq, seq, seq + 1) != seq)
        return;
    c->caller_tgid = caller_tgid;
    c->target_tgid = target_tgid;
    c->probe = probe;
    __sync_fetch_and_add(&c->seq, 1);
}

// get_dumpable(mm): the two low bits of mm->flags (a bitmap since 6.18).
static __always_inline u32 mm_dumpable(struct mm_struct *mm)
{
    if (bpf_core_field_exists(((struct mm_struct___618 *)mm)->flags.__mm_flags))
        return ((struct mm_struct___618 *)mm)->flags.__mm_flags[0] & 3;
    return mm->flags & 3;
}

#define TASK_REPORT 0x7f
#define IUM_CGRP_FROZEN 3 /* enum { CGRP_NOTIFY_ON_RELEASE, CGRP_CPUSET_CLONE_CHILDREN, CGRP_FREEZE, CGRP_FROZEN } */
#define IUM_TIF_ADDR32 29
#define IUM_IOPRIO_CLASS_IDLE 3

/*
 * The current thread `me` asked the kernel about `target` (its read probe, or sched_getscheduler):
 * when its process is a client of iumd allowed to ask about target's process, writes what the
 * kernel knows of that process now into the thread's record (guard_abi.h: task views).
 * `readable`: the kernel's ptrace read check of target passed in this same call.
 */
static __always_inline void fill_view(struct task_struct *me, struct task_struct *target, bool readable)
{
    u32 me_tgid = me->tgid;
    struct ium_view_client *client = bpf_map_lookup_elem(&ium_view_clients, &me_tgid);
    struct task_struct *me_leader = me->group_leader;
    if (!client || !me_leader || client->start_ticks != me_leader->start_boottime / IUM_NSEC_PER_TICK)
        return;
    u32 slot = client->slot;
    struct task_struct *p = target->group_leader;
    if (!p)
        return;
    u64 start = p->start_boottime / IUM_NSEC_PER_TICK;
    // The kernel's read check always passes within a thread group (and iumd sees everything).
    if (p->tgid == me_tgid)
        readable = true;
    if (slot == IUM_VIEW_DAEMON_SLOT) {
        readable = true;
    } else {
        struct ium_view_grant_key key = {.slot = slot, .pid = p->tgid};
        u64 *granted = bpf_map_lookup_elem(&ium_view_grants, &key);
        if (!granted || *granted != start)
            return;
    }
    void *records = bpf_map_lookup_elem(&ium_views, &slot);
    if (!records)
        return;
    u32 index = (u32)me->pid % IUM_VIEW_RECORDS;
    struct ium_view *v = bpf_map_lookup_elem(records, &index);
    if (!v)
        return;

    u32 flags = readable ? IUM_VIEW_READABLE : 0;
    if (tag_flags(p) & IUM_TAG_SECURE)
        flags |= IUM_VIEW_SECURE;
    if (p->flags & PF_EXITING)
        flags |= IUM_VIEW_EXITING;
    if (p->exit_state)
        flags |= IUM_VIEW_ZOMBIE;
    // The state letter of /proc/PID/stat is the highest bit of (__state & TASK_REPORT) |
    // exit_state: 'T' is bit 2 alone at the top.
    u32 state = (p->__state & TASK_REPORT) | (u32)p->exit_state;
    if ((state & 4) && !(state & ~7u))
        flags |= IUM_VIEW_STOPPED;
    struct css_set *cgroups = p->cgroups;
    struct cgroup *cgroup = cgroups ? cgroups->dfl_cgrp : 0;
    u64 cgroup_id = 0;
    if (cgroup) {
        if (cgroup->flags & (1ul << IUM_CGRP_FROZEN))
            flags |= IUM_VIEW_FROZEN;
        struct kernfs_node *kn = cgroup->kn;
        cgroup_id = kn ? kn->id : 0;
    }
    struct io_context *io = p->io_context;
    if (io && (io->ioprio >> 13) == IUM_IOPRIO_CLASS_IDLE)
        flags |= IUM_VIEW_IDLE_IO;
    if (p->flags & PF_KTHREAD)
        flags |= IUM_VIEW_KTHREAD;
    struct pid *pid = p->thread_pid;
    if (pid && pid->level > 0)
        flags |= IUM_VIEW_CHILD_PIDNS;
    struct mm_struct *mm = p->mm;
    u32 dumpable = 0;
    u64 start_stack = 0;
    if (mm) {
        flags |= IUM_VIEW_HAS_MM;
        dumpable = mm_dumpable(mm);
        if (readable) {
            start_stack = mm->start_stack;
            if (p->thread_info.flags & (1ul << IUM_TIF_ADDR32))
                flags |= IUM_VIEW_ADDR32;
        }
    }

    // One writer per record: take it from even to odd, or leave it to the thread writing it
    // (two threads of one client whose tids collide modulo IUM_VIEW_RECORDS; the reader sees
    // another thread's tid and asks again).
    u32 seq = v->seq;
    if ((seq & 1) || __sync_val_compare_and_swap(&v->seq, seq, seq + 1) != seq)
        return;
    v->tid = me->pid;
    v->pid = p->tgid;
    v->flags = flags;
    v->start_ticks = start;
    v->exec_id = p->self_exec_id;
    v->cgroup_id = cgroup_id;
    v->cpus = p->cpus_mask.bits[0];
    v->start_stack = start_stack;
    v->policy = p->policy;
    v->nice = p->static_prio - 120;
    v->dumpable = dumpable;
    const struct cred *cred = p->real_cred;
    v->uid = cred ? cred->uid.val : 0;
    v->euid = cred ? cred->euid.val : 0;
    v->suid = cred ? cred->suid.val : 0;
    __sync_fetch_and_add(&v->seq, 1);
}

// ---- Both backends: inheritance and the lifecycle --------------------------------------

#ifdef IUM_LSM
static __always_inline void register_mm(struct ium_tag *tag, struct task_struct *p);
static __always_inline void forget_mm(struct ium_tag *tag);
#endif

/*
 * sched_process_fork — inheritance (the kill backend's only chance; under lsm task_alloc has
 * already tagged the child before it was visible), and the fork record with the creator
 * captured at creation.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ium_process_fork, struct task_struct *parent, struct task_struct *child)
{
#ifdef IUM_LSM
    struct ium_tag *tag = inherit(parent, child);
    // A new secure process (its own mm; a thread shares its leader's).
    if (tag && child->pid == child->tgid)
        register_mm(tag, child);
#else
    inherit(parent, child);
#endif
    // Processes only: not threads, and not kernel threads (iumd's table holds neither, and the
    // exit program emits no record for a kernel thread, so its entry would outlive it).
    if (child->pid != child->tgid || (child->flags & PF_KTHREAD))
        return 0;
    u64 index;
    struct ium_lifecycle_slot *slot = lifecycle_record(IUM_RECORD_FORK, child, parent, &index);
    if (!slot)
        return 0;
    slot->record.code = parent->tgid;
    submit_lifecycle(slot, index);
    return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ium_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    u64 index;
    struct ium_lifecycle_slot *slot = lifecycle_record(IUM_RECORD_EXEC, p, p, &index);
    if (slot)
        submit_lifecycle(slot, index);
    return 0;
}

// The last thread of a process exits: the exit record with the process's wait status.
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ium_process_exit, struct task_struct *p)
{
    if (p->flags & PF_KTHREAD)
        return 0;
    struct signal_struct *signal = p->signal;
    if (signal->live.counter != 0)
        return 0;
#ifdef IUM_LSM
    struct ium_tag *tag = tag_of(p->group_leader);
    if (tag)
        forget_mm(tag);
#endif
    u64 index;
    struct ium_lifecycle_slot *slot = lifecycle_record(IUM_RECORD_EXIT, p, p, &index);
    if (!slot)
        return 0;
    slot->record.code = (signal->flags & SIGNAL_GROUP_EXIT) ? signal->group_exit_code : p->exit_code;
    submit_lifecycle(slot, index);
    return 0;
}

// =========================================================================================
#ifdef IUM_LSM
// ---- lsm backend: helpers ---------------------------------------------------------------

// INSPECTOR and DAEMON are set on iumd's leader only (new threads inherit SECURE alone).
static __always_inline u32 leader_flags(struct task_struct *task)
{
    struct task_struct *leader = task->group_leader;
    struct ium_tag *tag = leader ? tag_of(leader) : 0;
    return tag ? tag->flags : 0;
}

static __always_inline bool is_inspector(struct task_struct *task)
{
    return leader_flags(task) & IUM_TAG_INSPECTOR;
}

static __always_inline bool is_daemon(struct task_struct *task)
{
    return leader_flags(task) & IUM_TAG_DAEMON;
}

static __always_inline void report(struct task_struct *target, u32 operation, u32 mode)
{
    struct ium_denial *e = deny_record(target, operation, mode, IUM_ACTION_DENIED);
    if (e)
        bpf_ringbuf_submit(e, 0);
}


static __always_inline void register_mm(struct ium_tag *tag, struct task_struct *p)
{
    u64 mm = (u64)p->mm;
    u32 tgid = p->tgid;
    if (!mm)
        return;
    bpf_map_update_elem(&ium_secure_mms, &mm, &tgid, BPF_ANY);
    tag->mm = mm;
}

static __always_inline void forget_mm(struct ium_tag *tag)
{
    u64 mm = tag->mm;
    if (!mm)
        return;
    bpf_map_delete_elem(&ium_secure_mms, &mm);
    tag->mm = 0;
}

// Whether a task's seccomp filter chain has a user-notification listener: a supervisor that
// could answer the task's syscalls and hand it file descriptors (SECCOMP_IOCTL_NOTIF_ADDFD).
// notif is set only while some process holds the listener fd. The first 64 filters are read.
static __always_inline bool supervised(struct task_struct *t)
{
    struct seccomp_filter *f = t->seccomp.filter;
    for (int i = 0; i < 64 && f; i++) {
        if (f->notif)
            return true;
        f = f->prev;
    }
    return false;
}

// Two tasks of one process (thread group): the kernel never checks access within one.
static __always_inline bool same_process(struct task_struct *a, struct task_struct *b)
{
    return a->tgid == b->tgid;
}

static __always_inline bool is_init(struct task_struct *t)
{
    return t->tgid == 1 && t->thread_pid->level == 0;
}

// Whether the current syscall is a caller-view probe: process_madvise with no iovec (it reaches
// ptrace_access_check through mm_access(PTRACE_MODE_READ_FSCREDS) and changes nothing).
static __always_inline bool is_read_probe(struct task_struct *caller)
{
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(caller);
    return regs && regs->orig_ax == NR_process_madvise && regs->dx == 0;
}

// Whether the current probe asks for a record for iumd (its advice, guard_abi.h).
static __always_inline bool probe_records(struct task_struct *caller)
{
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(caller);
    return regs && regs->r10 != IUM_PROBE_VIEW_ONLY;
}

static __always_inline u32 inode_marks(struct inode *inode)
{
    u32 *marks = inode ? bpf_inode_storage_get(&ium_inode_marks, inode, 0, 0) : 0;
    return marks ? *marks : 0;
}

// The code record of an inode a secure task maps executable now, or NULL. The inode mark is
// the cheap first test (every write passes here); a mark whose files are all gone is cleared.
static __always_inline struct ium_code_inode *code_inode(struct inode *inode)
{
    if (!(inode_marks(inode) & IUM_INODE_CODE))
        return 0;
    u64 key = (u64)inode;
    struct ium_code_inode *code = bpf_map_lookup_elem(&ium_code_inodes, &key);
    if (code && code->files > 0)
        return code;
    u32 *marks = bpf_inode_storage_get(&ium_inode_marks, inode, 0, 0);
    if (marks)
        __sync_fetch_and_and(marks, ~IUM_INODE_CODE);
    return 0;
}

// A secure task maps `file` executable: count the file once, mark its inode.
static __always_inline void remember_code(struct file *file, struct task_struct *me)
{
    u64 key = (u64)file;
    if (bpf_map_lookup_elem(&ium_code_files, &key))
        return;
    struct inode *inode = file->f_inode;
    u64 ino = (u64)inode;
    if (bpf_map_update_elem(&ium_code_files, &key, &ino, BPF_NOEXIST) != 0)
        return;
    struct ium_code_inode *code = bpf_map_lookup_elem(&ium_code_inodes, &ino);
    if (code) {
        __sync_fetch_and_add(&code->files, 1);
    } else {
        struct ium_code_inode fresh = {.files = 1, .first_tgid = me->tgid};
        if (bpf_map_update_elem(&ium_code_inodes, &ino, &fresh, BPF_NOEXIST) != 0) {
            code = bpf_map_lookup_elem(&ium_code_inodes, &ino);
            if (code)
                __sync_fetch_and_add(&code->files, 1);
        }
    }
    u32 *marks = bpf_inode_storage_get(&ium_inode_marks, inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (marks)
        __sync_fetch_and_or(marks, IUM_INODE_CODE);
}

// A refused write to code a secure process runs: the record names that process.
static __always_inline int deny_code_write(struct ium_code_inode *code, struct inode *inode)
{
    struct ium_denial *e = deny_record(0, IUM_OP_CODE_WRITE, (u32)inode->i_ino, IUM_ACTION_DENIED);
    if (e) {
        e->target_pid = code->first_tgid;
        bpf_ringbuf_submit(e, 0);
    }
    return -EPERM;
}

// A file's identity: device, inode, ctime (6.1 keeps a timespec64, 6.11+ two scalars).
static __always_inline void file_identity(struct inode *inode, struct ium_file_key *key, s64 *sec, u32 *nsec)
{
    key->dev = inode->i_sb->s_dev;
    key->ino = inode->i_ino;
    if (bpf_core_field_exists(inode->i_ctime_sec)) {
        *sec = inode->i_ctime_sec;
        *nsec = inode->i_ctime_nsec;
    } else {
        struct inode___61 *old = (void *)inode;
        *sec = old->i_ctime.tv_sec;
        *nsec = (u32)old->i_ctime.tv_nsec;
    }
}

// Sealed: whether an inode is one of the files iumd runs from, unchanged since sealing.
static __always_inline bool is_daemon_code(struct inode *inode, u32 need)
{
    struct ium_file_key key = {};
    s64 sec;
    u32 nsec;
    file_identity(inode, &key, &sec, &nsec);
    struct ium_file_identity *id = bpf_map_lookup_elem(&ium_daemon_code, &key);
    return id && id->ctime_sec == sec && id->ctime_nsec == nsec && (id->flags & need) == need;
}

static __always_inline bool sealed(void)
{
    return state.sealed != 0;
}

// Sealed, and the current task is not iumd.
static __always_inline bool sealed_against_current(void)
{
    return sealed() && !is_daemon(bpf_get_current_task_btf());
}

// One of the guard's own maps (or its .bss/.rodata: same BTF object).
static __always_inline bool is_guard_map(struct bpf_map *map)
{
    struct bpf_map *tags = (struct bpf_map *)&ium_tags;
    return map == tags || map == (struct bpf_map *)&ium_events || map == (struct bpf_map *)&ium_counters ||
           map == (struct bpf_map *)&ium_probes || map == (struct bpf_map *)&ium_tag_requests ||
           map == (struct bpf_map *)&ium_secure_mms || map == (struct bpf_map *)&ium_code_files ||
           map == (struct bpf_map *)&ium_code_inodes || map == (struct bpf_map *)&ium_inode_marks ||
           map == (struct bpf_map *)&ium_fowners || map == (struct bpf_map *)&ium_daemon_code ||
           (map->btf && map->btf == tags->btf);
}

// Tags the process whose leader is `leader`: the flags, the tag time, its address space.
static __always_inline int tag_process(struct task_struct *leader, u32 flags)
{
    struct ium_tag *tag = bpf_task_storage_get(&ium_tags, leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!tag)
        return -1;
    if ((flags & IUM_TAG_SECURE) && !(tag->flags & IUM_TAG_SECURE))
        register_mm(tag, leader);
    tag->flags |= flags;
    tag->tagged_ns = bpf_ktime_get_boot_ns();
    return 0;
}

// iumd sent signal 0 to a process it asked to tag (ium_tag_requests): check and tag it here,
// in the kernel, so nothing can attach or start supervising between the check and the tag.
static __always_inline void serve_tag_request(struct task_struct *p, struct task_struct *sender)
{
    u32 tgid = p->tgid;
    struct ium_tag_request *request = bpf_map_lookup_elem(&ium_tag_requests, &tgid);
    if (!request || request->status != IUM_TAG_PENDING || !is_daemon(sender))
        return;
    struct task_struct *leader = p->group_leader;
    if (leader->flags & PF_KTHREAD) {
        request->status = IUM_TAG_REFUSED_KTHREAD;
    } else if ((leader->flags & PF_EXITING) || !leader->mm) {
        request->status = IUM_TAG_REFUSED_EXITING;
    } else if (leader->ptrace || p->ptrace) {
        request->detail = leader->ptrace ? leader->parent->tgid : p->parent->tgid;
        request->status = IUM_TAG_REFUSED_TRACED;
    } else if (supervised(leader) || supervised(p)) {
        request->status = IUM_TAG_REFUSED_SUPERVISED;
    } else if (tag_process(leader, request->flags) == 0) {
        request->status = IUM_TAG_DONE;
    }
}

// ---- lsm backend: reaching into a secure process ----------------------------------------

/*
 * lsm/ptrace_access_check — every access that passes the kernel's ptrace check: PTRACE_ATTACH
 * and SEIZE, process_vm_readv/writev, /proc/PID/{mem,environ,maps,…} (any path form, io_uring
 * too), pidfd_getfd, kcmp, /proc/PID/fd links.
 * child: the task reached into (tracee); current: the caller (tracer).
 * Denied when child or its leader is secure and the caller is another thread group.
 * Exception: iumd (IUM_TAG_INSPECTOR, itself secure so nobody can borrow its access) may pass
 * PTRACE_MODE_READ checks to read /proc/PID/exe and stat of secure processes; never ATTACH.
 * PTRACE_MODE_NOAUDIT checks (ps reading /proc/PID/stat) and caller-view probes are denied
 * without a record; a probe that passes is recorded in ium_probes.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(ium_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *caller = bpf_get_current_task_btf();
    bool probe = (mode & PTRACE_MODE_READ) && is_read_probe(caller);
    if (!is_secure(child) || same_process(caller, child) ||
        ((mode & PTRACE_MODE_READ) && !(mode & PTRACE_MODE_ATTACH) && is_inspector(caller))) {
        if (probe) {
            struct mm_struct *mm = child->mm;
            if (probe_records(caller))
                record_probe(caller->tgid, caller->group_leader->start_boottime, child->tgid,
                             child->group_leader->start_boottime, mm ? mm->start_stack : 0,
                             child->group_leader->self_exec_id);
            fill_view(caller, child, true);
        }
        return 0;
    }
    if ((mode & PTRACE_MODE_NOAUDIT) || probe) {
        count(IUM_COUNTER_DENIALS);
        return -EPERM;
    }
    report(child, IUM_OP_PTRACE_ACCESS, mode);
    return -EPERM;
}

// sched_getscheduler(pid) (and the other sched_get* calls) by a client of iumd: its task view
// of pid (no ptrace check passed). Never refuses.
SEC("lsm/task_getscheduler")
int BPF_PROG(ium_task_getscheduler, struct task_struct *p, int ret)
{
    if (ret == 0)
        fill_view(bpf_get_current_task_btf(), p, false);
    return ret;
}

/*
 * lsm/ptrace_traceme — PTRACE_TRACEME by a secure process would hand it to its parent.
 * current: the secure process (tracee); parent: the would-be tracer.
 */
SEC("lsm/ptrace_traceme")
int BPF_PROG(ium_ptrace_traceme, struct task_struct *parent, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    if (!is_secure(me))
        return 0;
    report(me, IUM_OP_PTRACE_TRACEME, 0);
    return -EPERM;
}

/*
 * lsm/task_kill — p: the receiver; current: the sender.
 * - signal 0 from iumd serves a tag request (serve_tag_request).
 * - a signal that carries a caller-supplied siginfo (sigqueue, rt_sigqueueinfo,
 *   rt_tgsigqueueinfo, pidfd_send_signal with info) is the Linux analog of a user-mode APC:
 *   refused when it comes from another process. Ordinary signals (kill, tgkill: SI_USER /
 *   SI_TKILL, and kernel-generated ones) are untouched: killing a secure process is denial of
 *   service, not a leak.
 * - sealed: iumd takes signals only from PID 1 (the service manager) and itself.
 */
SEC("lsm/task_kill")
int BPF_PROG(ium_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
             const struct cred *cred, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *sender = bpf_get_current_task_btf();
    if (sig == 0) {
        serve_tag_request(p, sender);
        return 0;
    }
    if (same_process(sender, p))
        return 0;
    if (sealed() && is_daemon(p) && !is_init(sender)) {
        report(p, IUM_OP_SIGNAL_DAEMON, sig);
        return -EPERM;
    }
    // SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are not pointers.
    if ((unsigned long)info <= 1 || !is_secure(p))
        return 0;
    int code = info->si_code;
    if (code >= 0 || code == SI_TKILL)
        return 0;
    report(p, IUM_OP_SIGNAL_PAYLOAD, sig);
    return -EPERM;
}

/*
 * lsm/task_alloc — a new thread or process of a secure process is secure from before it is
 * visible (copy_process has not yet published it), so no attacker can race its creation.
 */
SEC("lsm/task_alloc")
int BPF_PROG(ium_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
    if (ret != 0)
        return ret;
    inherit(bpf_get_current_task_btf(), task);
    return 0;
}

/*
 * lsm/bprm_creds_for_exec — in the exec'ing thread, before the point of no return:
 * - exec keeps the tag: a thread that execs becomes the leader; copy its leader's tag first;
 * - sealed: exec'ing the sealed daemon's image (device, inode, ctime: never a name) makes the
 *   task iumd (SECURE, INSPECTOR, DAEMON);
 * - a secure task may not exec while traced or while a seccomp filter of its chain has a
 *   user-notification listener (a supervisor that could answer its syscalls and inject fds);
 * - a secure task's exec is a secure exec (AT_SECURE): the loader ignores LD_PRELOAD,
 *   LD_LIBRARY_PATH, LD_AUDIT and the rest of glibc's unsecure list, whoever set them.
 */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(ium_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    if (me->pid != me->tgid)
        inherit(me, me);
    if (sealed() && is_daemon_code(bprm->file->f_inode, IUM_DAEMON_FILE_IMAGE)) {
        struct ium_tag *tag = bpf_task_storage_get(&ium_tags, me, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (tag) {
            tag->flags |= IUM_TAG_SECURE | IUM_TAG_INSPECTOR | IUM_TAG_DAEMON;
            tag->tagged_ns = bpf_ktime_get_boot_ns();
        }
    }
    if (!is_secure(me))
        return 0;
    if ((bprm->unsafe & LSM_UNSAFE_PTRACE) || supervised(me)) {
        report(me, IUM_OP_EXEC_SUPERVISED, (u32)bprm->unsafe);
        return -EPERM;
    }
    bpf_bprm_opts_set(bprm, BPF_F_BPRM_SECUREEXEC);
    return 0;
}

// After the point of no return, with the new address space in place: it replaces the old one
// in ium_secure_mms.
SEC("lsm/bprm_committing_creds")
int BPF_PROG(ium_bprm_committing_creds, struct linux_binprm *bprm)
{
    struct task_struct *me = bpf_get_current_task_btf();
    struct ium_tag *tag = tag_of(me);
    if (!tag || !(tag->flags & IUM_TAG_SECURE))
        return 0;
    forget_mm(tag);
    register_mm(tag, me);
    return 0;
}

// ---- lsm backend: side doors -------------------------------------------------------------

/*
 * lsm/cred_prepare — no core dump of a secure process, to a file or a core_pattern pipe,
 * whatever RLIMIT_CORE, fs.suid_dumpable or kernel.core_pattern say: do_coredump starts by
 * preparing credentials in the dying thread (PF_SIGNALED is set just before); refusing them
 * ends the dump before anything is written or any helper is started.
 */
SEC("lsm/cred_prepare")
int BPF_PROG(ium_cred_prepare, struct cred *new, const struct cred *old, unsigned int gfp, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    if (!(me->flags & PF_SIGNALED) || !is_secure(me))
        return 0;
    report(me, IUM_OP_CORE_DUMP, 0);
    return -EPERM;
}

/*
 * lsm/task_setrlimit — another process may not raise a secure process's RLIMIT_CORE (prlimit
 * --core=unlimited --pid P); lowering stays allowed. (cred_prepare refuses the dump anyway.)
 */
SEC("lsm/task_setrlimit")
int BPF_PROG(ium_task_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim, int ret)
{
    if (ret != 0)
        return ret;
    if (resource != RLIMIT_CORE || !is_secure(p) || same_process(bpf_get_current_task_btf(), p))
        return 0;
    struct rlimit *old = &p->signal->rlim[RLIMIT_CORE];
    if (new_rlim->rlim_cur <= old->rlim_cur && new_rlim->rlim_max <= old->rlim_max)
        return 0;
    report(p, IUM_OP_RLIMIT_CORE, 0);
    return -EPERM;
}

/*
 * lsm/mmap_file — code a secure process runs cannot change under it:
 * - a secure task mapping a file executable counts the file (ium_code_files) and marks its
 *   inode; it is refused when the file is mapped shared-writable somewhere (those writes
 *   would not pass file_permission);
 * - nobody may map a marked inode shared and writable;
 * - sealed: iumd's image may map only the files it was sealed with; anything else ends its
 *   claim to be iumd (the map fails and the DAEMON bit is gone).
 */
SEC("lsm/mmap_file")
int BPF_PROG(ium_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags, int ret)
{
    if (ret != 0 || !file)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    struct inode *inode = file->f_inode;
    u32 type = flags & 0xf;
    if ((prot & PROT_WRITE) && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE)) {
        struct ium_code_inode *code = code_inode(inode);
        if (code)
            return deny_code_write(code, inode);
    }
    if (!(prot & PROT_EXEC))
        return 0;
    if (sealed() && is_daemon(me) && !is_daemon_code(inode, 0)) {
        struct ium_tag *tag = tag_of(me->group_leader);
        if (tag)
            tag->flags &= ~IUM_TAG_DAEMON;
        report(me, IUM_OP_DAEMON_CODE, (u32)inode->i_ino);
        return -EPERM;
    }
    if (!is_secure(me))
        return 0;
    if (file->f_mapping->i_mmap_writable.counter > 0) {
        report(me, IUM_OP_CODE_MAP, (u32)inode->i_ino);
        return -EPERM;
    }
    remember_code(file, me);
    return 0;
}

// lsm/file_mprotect — the same rules when an existing mapping gains PROT_EXEC or PROT_WRITE.
SEC("lsm/file_mprotect")
int BPF_PROG(ium_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot, int ret)
{
    if (ret != 0)
        return ret;
    struct file *file = vma->vm_file;
    if (!file)
        return 0;
    struct inode *inode = file->f_inode;
    if ((prot & PROT_WRITE) && (vma->vm_flags & VM_SHARED)) {
        struct ium_code_inode *code = code_inode(inode);
        if (code)
            return deny_code_write(code, inode);
    }
    struct task_struct *me = bpf_get_current_task_btf();
    if ((prot & PROT_EXEC) && is_secure(me))
        remember_code(file, me);
    return 0;
}

// lsm/file_free_security — a file's last reference is gone (so are its mappings): it no
// longer counts for its inode.
SEC("lsm/file_free_security")
int BPF_PROG(ium_file_free_security, struct file *file)
{
    u64 key = (u64)file;
    u64 *ino = bpf_map_lookup_elem(&ium_code_files, &key);
    if (!ino)
        return 0;
    struct ium_code_inode *code = bpf_map_lookup_elem(&ium_code_inodes, ino);
    if (code && code->files > 0)
        __sync_fetch_and_sub(&code->files, 1);
    bpf_map_delete_elem(&ium_code_files, &key);
    return 0;
}

/*
 * lsm/file_open — refused: opening for write a file a secure process runs; a secure process
 * opening its core file (PF_DUMPCORE: belt and braces behind cred_prepare).
 */
SEC("lsm/file_open")
int BPF_PROG(ium_file_open, struct file *file, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    if ((me->flags & PF_DUMPCORE) && is_secure(me)) {
        report(me, IUM_OP_CORE_DUMP, 1);
        return -EPERM;
    }
    if (file->f_mode & FMODE_WRITE) {
        struct ium_code_inode *code = code_inode(file->f_inode);
        if (code)
            return deny_code_write(code, file->f_inode);
    }
    return 0;
}

/*
 * lsm/file_permission — every read and write (rw_verify_area, fallocate, copy_file_range,
 * splice, io_uring, aio). Refused:
 * - writing a file a secure process runs, through an fd opened before it was mapped;
 * - reading or writing a secure process's memory, environment or auxv through a
 *   /proc/PID/{mem,environ,auxv} (or task/TID/…) fd opened before the process was tagged:
 *   such an fd holds the process's mm in private_data, found in ium_secure_mms.
 */
SEC("lsm/file_permission")
int BPF_PROG(ium_file_permission, struct file *file, int mask, int ret)
{
    if (ret != 0)
        return ret;
    struct inode *inode = file->f_inode;
    if (mask & MAY_WRITE) {
        struct ium_code_inode *code = code_inode(inode);
        if (code)
            return deny_code_write(code, inode);
    }
    if (inode->i_sb->s_magic != PROC_SUPER_MAGIC || !file->private_data)
        return 0;
    u64 mm = (u64)file->private_data;
    u32 *owner = bpf_map_lookup_elem(&ium_secure_mms, &mm);
    struct task_struct *me = bpf_get_current_task_btf();
    if (!owner || *owner == me->tgid)
        return 0;
    struct ium_denial *e = deny_record(0, IUM_OP_PROC_FD, mask, IUM_ACTION_DENIED);
    if (e) {
        e->target_pid = *owner;
        e->target_tid = *owner;
        bpf_ringbuf_submit(e, 0);
    }
    return -EPERM;
}

// Truncation: path_truncate (truncate(2) in both kernels; ftruncate and O_TRUNC on 6.1) and
// file_truncate (ftruncate and O_TRUNC on 6.2+; not autoloaded where the hook is missing).
SEC("lsm/path_truncate")
int BPF_PROG(ium_path_truncate, const struct path *path, int ret)
{
    if (ret != 0)
        return ret;
    struct inode *inode = path->dentry->d_inode;
    struct ium_code_inode *code = code_inode(inode);
    return code ? deny_code_write(code, inode) : 0;
}

SEC("lsm/file_truncate")
int BPF_PROG(ium_file_truncate, struct file *file, int ret)
{
    if (ret != 0)
        return ret;
    struct ium_code_inode *code = code_inode(file->f_inode);
    return code ? deny_code_write(code, file->f_inode) : 0;
}

// lsm/file_set_fowner — F_SETOWN (and FIOSETOWN): remember which files a secure process
// itself set a SIGIO owner on; anyone else's setting forgets the file.
SEC("lsm/file_set_fowner")
int BPF_PROG(ium_file_set_fowner, struct file *file)
{
    u64 key = (u64)file;
    struct task_struct *me = bpf_get_current_task_btf();
    if (is_secure(me)) {
        u32 tgid = me->tgid;
        bpf_map_update_elem(&ium_fowners, &key, &tgid, BPF_ANY);
    } else {
        bpf_map_delete_elem(&ium_fowners, &key);
    }
    return 0;
}

/*
 * lsm/file_send_sigiotask — SIGIO, SIGURG and F_SETSIG signals (which carry si_fd and band,
 * chosen by whoever owns the file) reach a secure process only from files it set the owner
 * of itself: another process's F_SETOWN pointing at it is refused (silently: the I/O works).
 */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(ium_file_send_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
    if (ret != 0 || !is_secure(tsk))
        return ret;
    u64 file = bpf_core_field_exists(fown->file) ? (u64)fown->file
                                                 : (u64)fown - bpf_core_field_offset(struct file___61, f_owner);
    u32 *setter = bpf_map_lookup_elem(&ium_fowners, &file);
    if (setter && *setter == tsk->tgid)
        return 0;
    report(tsk, IUM_OP_SIGIO, sig);
    return -EPERM;
}

/*
 * lsm/perf_event_alloc — after event->hw.target is set, before the ptrace check that root
 * (CAP_PERFMON) skips:
 * - a perf event on a secure task from another process is refused (user registers and stack
 *   samples are a direct read of its memory), sealed or not;
 * - sealed: the uprobe and kprobe PMUs, and CPU-wide events that sample user registers, the
 *   user stack, interrupted registers or AUX data, are refused to all but iumd.
 * Events inherited at fork (event->parent) were checked when they were created.
 */
SEC("lsm/perf_event_alloc")
int BPF_PROG(ium_perf_event_alloc, struct perf_event *event, int ret)
{
    if (ret != 0 || event->parent)
        return ret;
    struct task_struct *me = bpf_get_current_task_btf();
    struct task_struct *target = event->hw.target;
    if (target && is_secure(target) && target->tgid != me->tgid) {
        report(target, IUM_OP_PERF, event->attr.type);
        return -EPERM;
    }
    if (!sealed_against_current())
        return 0;
    u32 type = event->attr.type;
    if ((settings.uprobe_pmu && type == settings.uprobe_pmu) || (settings.kprobe_pmu && type == settings.kprobe_pmu)) {
        report(0, IUM_OP_PERF, type);
        return -EPERM;
    }
    if (!target && (event->attr.sample_type &
                    (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER | PERF_SAMPLE_REGS_INTR | PERF_SAMPLE_AUX))) {
        report(0, IUM_OP_PERF, type);
        return -EPERM;
    }
    return 0;
}

// ---- lsm backend: sealed mode -------------------------------------------------------------

/*
 * lsm/bpf — every bpf() command, before it runs. Sealed, for all but iumd: no program of a
 * type that can read or write another process's memory or change what kernel functions
 * return (kprobe, tracepoint, perf_event, raw tracepoint, tracing: fentry/fexit/fmod_ret/iter,
 * struct_ops, extension, lsm, syscall), and no BPF token; the types systemd and networking
 * use (cgroup_*, socket filters, sched_cls, xdp, …) keep loading.
 */
SEC("lsm/bpf")
int BPF_PROG(ium_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
    if (ret != 0 || !sealed_against_current())
        return ret;
    if (cmd == BPF_PROG_LOAD) {
        u32 type = attr->prog_type;
        switch (type) {
        case BPF_PROG_TYPE_KPROBE:
        case BPF_PROG_TYPE_TRACEPOINT:
        case BPF_PROG_TYPE_PERF_EVENT:
        case BPF_PROG_TYPE_RAW_TRACEPOINT:
        case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
        case BPF_PROG_TYPE_TRACING:
        case BPF_PROG_TYPE_STRUCT_OPS:
        case BPF_PROG_TYPE_EXT:
        case BPF_PROG_TYPE_LSM:
        case BPF_PROG_TYPE_SYSCALL:
            report(0, IUM_OP_BPF_LOAD, type);
            return -EPERM;
        default:
            return 0;
        }
    }
    if (cmd == 36 /* BPF_TOKEN_CREATE, 6.9+ */) {
        report(0, IUM_OP_BPF_LOAD, 1000 + cmd);
        return -EPERM;
    }
    return 0;
}

// lsm/bpf_map — sealed: no new fd to the guard's maps (by id or by pin) for all but iumd, so
// no tag can be removed, no map frozen or replaced. (Links of LSM and tp_btf programs cannot be
// detached or updated through an fd at all; programs: lsm/bpf_prog.)
SEC("lsm/bpf_map")
int BPF_PROG(ium_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
    if (ret != 0 || !sealed_against_current() || !is_guard_map(map))
        return ret;
    report(0, IUM_OP_TAMPER_BPF, BPF_MAP_GET_FD_BY_ID);
    return -EPERM;
}

// lsm/bpf_prog — sealed: no new fd to the guard's programs (an extension program would need
// one to replace them; the cgroup/sysctl program could be detached with one).
SEC("lsm/bpf_prog")
int BPF_PROG(ium_bpf_prog, struct bpf_prog *prog, int ret)
{
    if (ret != 0 || !sealed_against_current())
        return ret;
    struct bpf_map *tags = (struct bpf_map *)&ium_tags;
    if (!prog->aux->btf || prog->aux->btf != tags->btf)
        return 0;
    report(0, IUM_OP_TAMPER_BPF, BPF_PROG_GET_FD_BY_ID);
    return -EPERM;
}

/*
 * lsm/locked_down — sealed, for all but iumd: the lockdown reasons that read or write kernel
 * memory or replace the kernel, whatever the lockdown LSM's own level: /dev/mem and
 * /dev/port, kexec, hibernation, PCI BARs, I/O ports, MSRs, ACPI tables, module parameters,
 * mmiotrace, debugfs, bpf_probe_write_user, kernel debugger writes and reads, /proc/kcore,
 * kprobes, bpf_probe_read_kernel, perf's kernel data, tracefs.
 */
SEC("lsm/locked_down")
int BPF_PROG(ium_locked_down, int what, int ret)
{
    if (ret != 0 || !sealed_against_current())
        return ret;
    switch (what) {
    case LOCKDOWN_DEV_MEM:
    case LOCKDOWN_KEXEC:
    case LOCKDOWN_HIBERNATION:
    case LOCKDOWN_PCI_ACCESS:
    case LOCKDOWN_IOPORT:
    case LOCKDOWN_MSR:
    case LOCKDOWN_ACPI_TABLES:
    case LOCKDOWN_MODULE_PARAMETERS:
    case LOCKDOWN_MMIOTRACE:
    case LOCKDOWN_DEBUGFS:
    case LOCKDOWN_BPF_WRITE_USER:
    case LOCKDOWN_DBG_WRITE_KERNEL:
    case LOCKDOWN_KCORE:
    case LOCKDOWN_KPROBES:
    case LOCKDOWN_BPF_READ_KERNEL:
    case LOCKDOWN_DBG_READ_KERNEL:
    case LOCKDOWN_PERF:
    case LOCKDOWN_TRACEFS:
        report(0, IUM_OP_LOCKDOWN, what);
        return -EPERM;
    default:
        return 0;
    }
}

// Sealed: the pins (and their directory) cannot be removed, renamed or have their mode or
// owner changed by anyone but iumd: the links live as long as their pins.
static __always_inline int refuse_pin(struct dentry *dentry)
{
    if (!dentry || !sealed_against_current() || !(inode_marks(dentry->d_inode) & IUM_INODE_PIN))
        return 0;
    report(0, IUM_OP_TAMPER_PIN, 0);
    return -EPERM;
}

SEC("lsm/path_unlink")
int BPF_PROG(ium_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
    return ret != 0 ? ret : refuse_pin(dentry);
}

SEC("lsm/path_rmdir")
int BPF_PROG(ium_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
    return ret != 0 ? ret : refuse_pin(dentry);
}

SEC("lsm/path_rename")
int BPF_PROG(ium_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
             struct dentry *new_dentry, unsigned int flags, int ret)
{
    if (ret != 0)
        return ret;
    int refused = refuse_pin(old_dentry);
    return refused ? refused : refuse_pin(new_dentry);
}

SEC("lsm/path_chmod")
int BPF_PROG(ium_path_chmod, const struct path *path, unsigned short mode, int ret)
{
    return ret != 0 ? ret : refuse_pin(path->dentry);
}

SEC("lsm/path_chown")
int BPF_PROG(ium_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
    return ret != 0 ? ret : refuse_pin(path->dentry);
}

// lsm/sb_umount — sealed: the bpffs holding the pins cannot be unmounted, nor (lazily, which
// would free it with everything under it) sysfs, by anyone but iumd.
SEC("lsm/sb_umount")
int BPF_PROG(ium_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
    if (ret != 0 || !sealed_against_current())
        return ret;
    struct super_block *sb = mnt->mnt_sb;
    if (sb->s_magic == SYSFS_MAGIC ||
        (sb->s_magic == BPF_FS_MAGIC && (inode_marks(sb->s_root->d_inode) & IUM_INODE_PIN_FS))) {
        report(0, IUM_OP_TAMPER_PIN, (u32)sb->s_magic);
        return -EPERM;
    }
    return 0;
}

// Sealed: no kernel module and no kexec image, from a file or from memory, and no module
// autoload, for anyone but iumd (load the modules the machine needs before sealing).
static __always_inline int refuse_kernel_code(u32 id)
{
    if (!sealed_against_current() || (id != READING_MODULE && id != READING_KEXEC_IMAGE && id != READING_KEXEC_INITRAMFS))
        return 0;
    report(0, IUM_OP_KMOD, id);
    return -EPERM;
}

SEC("lsm/kernel_read_file")
int BPF_PROG(ium_kernel_read_file, struct file *file, int id, bool contents, int ret)
{
    return ret != 0 ? ret : refuse_kernel_code(id);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(ium_kernel_load_data, int id, bool contents, int ret)
{
    return ret != 0 ? ret : refuse_kernel_code(id);
}

SEC("lsm/kernel_module_request")
int BPF_PROG(ium_kernel_module_request, char *kmod_name, int ret)
{
    return ret != 0 ? ret : refuse_kernel_code(READING_MODULE);
}

/*
 * cgroup/sysctl — attached (BPF_F_ALLOW_MULTI) to the root cgroup when the guard is sealed:
 * no writes to kernel.core_pattern and fs.suid_dumpable (where cores go), nor to
 * kernel.ftrace_enabled (0 would silently stop every BPF LSM and fentry trampoline). Returns
 * 1 to allow, 0 to refuse with EPERM.
 */
SEC("cgroup/sysctl")
int ium_sysctl(struct bpf_sysctl *ctx)
{
    if (!ctx->write || !state.sealed)
        return 1;
    char name[24] = {};
    if (bpf_sysctl_get_name(ctx, name, sizeof(name), 0) < 0)
        return 1;
#define IS(s) (__builtin_memcmp(name, s, sizeof(s)) == 0)
    if (!IS("kernel/core_pattern") && !IS("fs/suid_dumpable") && !IS("kernel/ftrace_enabled"))
        return 1;
#undef IS
    count(IUM_COUNTER_DENIALS);
    struct ium_denial *e = bpf_ringbuf_reserve(&ium_events, sizeof(*e), 0);
    if (!e) {
        count(IUM_COUNTER_EVENTS_DROPPED);
        return 0;
    }
    count(IUM_COUNTER_RECORDS);
    __builtin_memset(e, 0, sizeof(*e));
    u64 id = bpf_get_current_pid_tgid();
    e->header.type = IUM_RECORD_DENIAL;
    e->header.pid = id >> 32;
    e->header.time_ns = bpf_ktime_get_boot_ns();
    e->tid = (u32)id;
    e->uid = (u32)bpf_get_current_uid_gid();
    e->operation = IUM_OP_SYSCTL;
    e->backend = IUM_BACKEND_LSM;
    e->action = IUM_ACTION_DENIED;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    __builtin_memcpy(e->filename, name, sizeof(name));
    bpf_ringbuf_submit(e, 0);
    return 0;
}

#endif // IUM_LSM

// =========================================================================================
#ifdef IUM_KILL
// ---- kill backend -------------------------------------------------------------------------

// Exec keeps the tag: the syscall tracepoints run before anything else of the exec.
static __always_inline int keep_tag_across_exec(void)
{
    struct task_struct *me = bpf_get_current_task_btf();
    if (me->pid != me->tgid)
        inherit(me, me);
    return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int ium_enter_execve(struct ium_sys_enter *ctx)
{
    return keep_tag_across_exec();
}

SEC("tp/syscalls/sys_enter_execveat")
int ium_enter_execveat(struct ium_sys_enter *ctx)
{
    return keep_tag_across_exec();
}

// The task a pid names in the caller's PID namespace (acquired: release it), or NULL.
static __always_inline struct task_struct *task_from_caller_pid(s32 pid)
{
    if (ium_ksym_exists(bpf_task_from_vpid))
        return bpf_task_from_vpid(pid);
    // Before 6.13 only global pids resolve: right for callers in the initial namespace.
    struct task_struct *me = bpf_get_current_task_btf();
    if (ium_ksym_exists(bpf_task_from_pid) && BPF_CORE_READ(me, thread_pid, level) == 0)
        return bpf_task_from_pid(pid);
    return 0;
}

static __always_inline void report_kill(struct task_struct *target, u32 operation, u32 mode, const char *name)
{
    struct ium_denial *e = deny_record(target, operation, mode, IUM_ACTION_KILLED);
    if (!e)
        return;
    if (name)
        bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name);
    bpf_ringbuf_submit(e, 0);
}

// SIGKILL the caller (its whole thread group) when the acquired `target` is a secure task of
// another process, and report it. Releases `target`. Returns whether it killed.
static __always_inline bool kill_caller_if_secure(struct task_struct *target, u32 operation, u32 mode,
                                                  const char *name)
{
    struct task_struct *me = bpf_get_current_task_btf();
    bool hit = is_secure(target) && target->tgid != me->tgid;
    if (hit) {
        bpf_send_signal(SIGKILL);
        report_kill(target, operation, mode, name);
    }
    bpf_task_release(target);
    return hit;
}

// The same, for a pid number in the caller's namespace.
static __always_inline bool kill_if_secure(s32 pid, u32 operation, u32 mode)
{
    struct task_struct *target = task_from_caller_pid(pid);
    return target ? kill_caller_if_secure(target, operation, mode, 0) : false;
}

/*
 * sys_enter_ptrace — any request on a secure target, and PTRACE_TRACEME by a secure process.
 * The caller is killed, but the kernel still completes PTRACE_ATTACH (it stops the target
 * with SIGSTOP): remember the target so sys_exit_ptrace can send it SIGCONT.
 */
SEC("tp/syscalls/sys_enter_ptrace")
int ium_enter_ptrace(struct ium_sys_enter *ctx)
{
    long request = (long)ctx->args[0];
    s32 pid = (s32)ctx->args[1];
    if (request == PTRACE_TRACEME) {
        struct task_struct *me = bpf_get_current_task_btf();
        if (is_secure(me)) {
            bpf_send_signal(SIGKILL);
            report_kill(me, IUM_OP_PTRACE_TRACEME, 0, 0);
        }
        return 0;
    }
    if (kill_if_secure(pid, IUM_OP_PTRACE, (u32)request) &&
        (request == PTRACE_ATTACH || request == PTRACE_SEIZE)) {
        u32 tid = (u32)bpf_get_current_pid_tgid();
        u32 target = (u32)pid;
        bpf_map_update_elem(&ium_resume, &tid, &target, BPF_ANY);
    }
    return 0;
}

SEC("tp/syscalls/sys_exit_ptrace")
int ium_exit_ptrace(struct ium_sys_exit *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u32 *pid = bpf_map_lookup_elem(&ium_resume, &tid);
    if (!pid)
        return 0;
    s32 target_pid = (s32)*pid;
    bpf_map_delete_elem(&ium_resume, &tid);
    if (!ium_ksym_exists(bpf_send_signal_task))
        return 0;
    struct task_struct *target = task_from_caller_pid(target_pid);
    if (!target)
        return 0;
    // SIGCONT removes the pending SIGSTOP the attach queued (or wakes a stopped target).
    if (bpf_send_signal_task(target, SIGCONT, PIDTYPE_TGID, 0) == 0)
        count(IUM_COUNTER_RESUMES);
    bpf_task_release(target);
    return 0;
}

// sys_enter_process_vm_readv/writev — the caller is killed before the copy: the kernel pins
// the remote pages in a loop that stops at a fatal signal, so nothing is read or written.
SEC("tp/syscalls/sys_enter_process_vm_readv")
int ium_enter_process_vm_readv(struct ium_sys_enter *ctx)
{
    kill_if_secure((s32)ctx->args[0], IUM_OP_VM_READ, 0);
    return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_writev")
int ium_enter_process_vm_writev(struct ium_sys_enter *ctx)
{
    kill_if_secure((s32)ctx->args[0], IUM_OP_VM_WRITE, 0);
    return 0;
}

// The file the current task has open as `fd`, or NULL. One helper call: the fd array's
// index is not a constant, which a direct load needs.
static __always_inline struct file *current_file(long fd)
{
    if (fd < 0)
        return 0;
    struct task_struct *me = bpf_get_current_task_btf();
    struct fdtable *fdt = me->files->fdt;
    if (!fdt || fd >= fdt->max_fds)
        return 0;
    struct file **fds = fdt->fd;
    struct file *file = 0;
    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
    return file;
}

// A kernel pointer read as a number, typed for direct loads: a read-only cast the verifier
// inlines (no helper call, where each costs ~40-100 ns: returns run the SRSO thunk; a probe
// read per field made the process_madvise entry program 418 ns, now 178). bpf_rdonly_cast
// came in 6.2, with bpf_task_from_pid: the kill backend's minimum (README).
#define ium_cast(type, ptr) ((struct type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(struct type)))

// The global pid number of the process or thread a pidfd of the current task names, or 0:
// the struct pid is the inode's i_private on pidfs (6.9+), the file's private_data on an
// anon-inode pidfd before.
static __always_inline u32 pidfd_nr(long fd)
{
    struct file *f = current_file(fd);
    if (!f || !ium_ksym_exists(bpf_rdonly_cast))
        return 0;
    struct file *file = ium_cast(file, f);
    struct inode *inode = file->f_inode;
    struct pid *pid = ium_cast(pid, inode->i_sb->s_magic == PID_FS_MAGIC ? inode->i_private : file->private_data);
    return pid->numbers[0].nr;
}

// The task (acquired) a pidfd of the current task names, or NULL.
static __always_inline struct task_struct *task_of_pidfd(long fd)
{
    u32 nr = pidfd_nr(fd);
    return nr && ium_ksym_exists(bpf_task_from_pid) ? bpf_task_from_pid(nr) : 0;
}

SEC("tp/syscalls/sys_enter_pidfd_getfd")
int ium_enter_pidfd_getfd(struct ium_sys_enter *ctx)
{
    struct task_struct *target = task_of_pidfd((long)ctx->args[0]);
    if (target)
        kill_caller_if_secure(target, IUM_OP_PIDFD_GETFD, (u32)ctx->args[1], 0);
    return 0;
}

/*
 * sys_enter/exit_process_madvise — caller-view probes under the kill backend (no LSM hook sees
 * the kernel's ptrace check): the target at entry, the kernel's verdict at exit. mm_access
 * fails a denied read check with EACCES (ESRCH: no address space); EPERM afterwards only
 * means the caller lacks CAP_SYS_NICE, so the read check passed.
 *
 * The kernel looks the pidfd up after the entry program: another task sharing the caller's
 * file table (a thread, an io_uring worker) could put a readable process's pidfd under that
 * number in between and the old one back before the exit, and the verdict on the readable
 * process would be recorded for the unreadable one — its stack address then shown to the
 * caller. A table no other task shares cannot change during the call, so only a probe from
 * one is recorded; from a shared table the caller gets the public view (its record without
 * the fields the check guards), never more than it may see.
 */
SEC("tp/syscalls/sys_enter_process_madvise")
int ium_enter_process_madvise(struct ium_sys_enter *ctx)
{
    if (ctx->args[2] != 0) // an iovec: a real madvise, not a probe
        return 0;
    u32 nr = pidfd_nr((long)ctx->args[0]);
    if (!nr)
        return 0;
    struct task_struct *me = bpf_get_current_task_btf();
    u64 *pending = bpf_task_storage_get(&ium_probe_pending, me, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!pending)
        return 0;
    u64 value = IUM_PROBE_PENDING | nr;
    struct files_struct *files = me->files;
    if (!files || files->count.counter != 1)
        value |= IUM_PROBE_SHARED_FILES;
    if (ctx->args[3] == IUM_PROBE_VIEW_ONLY)
        value |= IUM_PROBE_NO_RECORD;
    *pending = value;
    return 0;
}

SEC("tp/syscalls/sys_exit_process_madvise")
int ium_exit_process_madvise(struct ium_sys_exit *ctx)
{
    struct task_struct *me = bpf_get_current_task_btf();
    u64 *pending = bpf_task_storage_get(&ium_probe_pending, me, 0, 0);
    if (!pending || !(*pending & IUM_PROBE_PENDING))
        return 0;
    u64 value = *pending;
    *pending = 0;
    bool shared = value & IUM_PROBE_SHARED_FILES;
    if ((ctx->ret != 0 && ctx->ret != -EPERM) || !ium_ksym_exists(bpf_task_from_pid))
        return 0;
    // The pidfd's global pid number, whatever the caller's PID namespace.
    struct task_struct *target = bpf_task_from_pid((s32)(u32)value);
    if (!target)
        return 0;
    if (!shared && !(value & IUM_PROBE_NO_RECORD))
        record_probe(me->tgid, me->group_leader->start_boottime, target->tgid, target->group_leader->start_boottime,
                     target->mm->start_stack, target->group_leader->self_exec_id);
    fill_view(me, target, !shared);
    bpf_task_release(target);
    return 0;
}

// sched_getscheduler(pid) by a client of iumd: its task view of pid (no ptrace check passed).
SEC("tp/syscalls/sys_enter_sched_getscheduler")
int ium_enter_sched_getscheduler(struct ium_sys_enter *ctx)
{
    struct task_struct *target = task_from_caller_pid((s32)ctx->args[0]);
    if (!target)
        return 0;
    fill_view(bpf_get_current_task_btf(), target, false);
    bpf_task_release(target);
    return 0;
}

// The /proc/PID files that expose a process's memory or its secrets (each passes a ptrace
// access check in the kernel). Compared on the opened file's dentry, so every path form
// (absolute, dirfd-relative, /proc/self/.., /proc/PID/task/TID/…) is caught.
static __always_inline bool is_guarded_proc_name(const char *name)
{
    char n[16] = {};
    bpf_probe_read_kernel_str(n, sizeof(n), name);
#define IS(s) (__builtin_memcmp(n, s, sizeof(s)) == 0)
    return IS("mem") || IS("environ") || IS("auxv") || IS("maps") || IS("smaps") ||
           IS("smaps_rollup") || IS("pagemap") || IS("numa_maps") || IS("stack") ||
           IS("syscall") || IS("personality") || IS("io") || IS("timers");
#undef IS
}

/*
 * sys_exit_open/openat/openat2 — an open that returned a guarded /proc file of a secure
 * process: the caller is killed before it returns to user space, so it never reads the fd.
 */
static __always_inline int check_proc_open(struct ium_sys_exit *ctx)
{
    struct file *f = current_file(ctx->ret);
    if (!f || !ium_ksym_exists(bpf_rdonly_cast) || !ium_ksym_exists(bpf_task_from_pid))
        return 0;
    struct file *file = ium_cast(file, f);
    struct inode *inode = file->f_inode;
    if (inode->i_sb->s_magic != PROC_SUPER_MAGIC)
        return 0;
    const unsigned char *name = file->f_path.dentry->d_name.name;
    if (!is_guarded_proc_name((const char *)name))
        return 0;
    // container_of(inode, struct proc_inode, vfs_inode)
    struct proc_inode *proc = ium_cast(proc_inode, (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode));
    struct task_struct *target = bpf_task_from_pid(proc->pid->numbers[0].nr);
    if (target)
        kill_caller_if_secure(target, IUM_OP_PROC_OPEN, 0, (const char *)name);
    return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int ium_exit_openat(struct ium_sys_exit *ctx)
{
    return check_proc_open(ctx);
}

SEC("tp/syscalls/sys_exit_openat2")
int ium_exit_openat2(struct ium_sys_exit *ctx)
{
    return check_proc_open(ctx);
}

SEC("tp/syscalls/sys_exit_open")
int ium_exit_open(struct ium_sys_exit *ctx)
{
    return check_proc_open(ctx);
}

#endif // IUM_KILL
