// SPDX-License-Identifier: GPL-2.0-only
// The floor under the guard's per-program cost on this machine (make bench): programs on the
// guard's fork tracepoint that do nothing, only read the boot clock, only make one trivial
// helper call, only reserve and submit a 56-byte ring buffer record (a lifecycle record's
// size), only reserve (atomic add) and write a 64-byte record in a per-CPU mapped ring (what
// the guard's lifecycle programs do instead, guard_abi.h) — the last also on the exec and exit
// tracepoints. bpf_stats measures each alone (bench floor attaches one at a time) under the
// workload the guard's own programs are measured with (fork + exec + exit), in the same run.
#include "ium_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} floor_events SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_empty, struct task_struct *parent, struct task_struct *child)
{
    return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_clock, struct task_struct *parent, struct task_struct *child)
{
    return bpf_ktime_get_boot_ns() == 1;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_helper, struct task_struct *parent, struct task_struct *child)
{
    return bpf_get_current_uid_gid() == 1;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_ringbuf, struct task_struct *parent, struct task_struct *child)
{
    u64 *e = bpf_ringbuf_reserve(&floor_events, 56, 0);
    if (!e)
        return 0;
    e[0] = child->pid;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

#define FLOOR_SLOTS 2048
struct floor_slot { u64 seq; u64 record[7]; };
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 64 * (FLOOR_SLOTS + 1));
    __type(key, u32);
    __type(value, struct floor_slot);
} floor_ring SEC(".maps");

// One 64-byte record in this CPU's mapped ring, reserved with an atomic add as the guard's
// lifecycle programs reserve theirs (lifecycle_record).
static __always_inline void slot_record(u32 pid)
{
    u32 first = bpf_get_smp_processor_id() * (FLOOR_SLOTS + 1);
    struct floor_slot *head = bpf_map_lookup_elem(&floor_ring, &first);
    if (!head)
        return;
    u64 index = __sync_fetch_and_add(&head->seq, 1);
    u32 entry = first + 1 + (u32)(index & (FLOOR_SLOTS - 1));
    struct floor_slot *slot = bpf_map_lookup_elem(&floor_ring, &entry);
    if (!slot)
        return;
    slot->seq = 0;
    for (int i = 0; i < 7; i++)
        slot->record[i] = pid;
    slot->seq = index + 1;
}

// The slot floor on each of the three lifecycle tracepoints (ium_process_fork, _exec, _exit).
SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_slot, struct task_struct *parent, struct task_struct *child)
{
    slot_record(child->pid);
    return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_slot_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    slot_record(p->pid);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_slot_exit, struct task_struct *p)
{
    slot_record(p->pid);
    return 0;
}
