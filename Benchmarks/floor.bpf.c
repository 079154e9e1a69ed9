// SPDX-License-Identifier: GPL-2.0-only
// The floor under the guard's per-program cost on this machine (make bench): programs on the
// guard's fork tracepoint that do nothing, only read the boot clock, only reserve and submit
// a 56-byte ring buffer record (a lifecycle record's size). bpf_stats measures them in the same
// run as the guard's own programs.
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
int BPF_PROG(floor_ringbuf, struct task_struct *parent, struct task_struct *child)
{
    u64 *e = bpf_ringbuf_reserve(&floor_events, 56, 0);
    if (!e)
        return 0;
    e[0] = child->pid;
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}
