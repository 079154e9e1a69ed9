// SPDX-License-Identifier: GPL-2.0-only
// Copyright (c) 2026 the ium authors
//
// The ium guard: processes tagged secure (IUM trustlets) cannot be reached into by any other
// process, root included. One object holds two program sets; KernelGuard loads one of them:
//
//   lsm  backend  (BPF LSM active): the kernel call fails with EPERM.
//        lsm/ptrace_access_check, lsm/ptrace_traceme, lsm/task_kill, lsm/task_alloc,
//        lsm/bprm_creds_for_exec
//   kill backend  (no BPF LSM, tracepoints only): the offending caller gets SIGKILL before
//        it can use what it asked for.
//        tp/syscalls/sys_enter_{ptrace,process_vm_readv,process_vm_writev,pidfd_getfd},
//        tp/syscalls/sys_exit_{ptrace,open,openat,openat2},
//        tp/syscalls/sys_{enter,exit}_process_madvise (caller-view probes)
//        and tp/syscalls/sys_enter_{execve,execveat} (a thread that execs keeps the tag)
//   both: tp_btf/sched_process_{fork,exec,exit} (inheritance and lifecycle events).
// The lsm backend attaches no syscall tracepoint: enabling any of them sends every syscall of
// every task through the kernel's slow path (make bench measured getpid 1.7x slower).

#include "ium_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "guard_abi.h"

char LICENSE[] SEC("license") = "GPL";

// ---- Maps ------------------------------------------------------------------------------

// The tag store: one struct ium_tag per tagged task, freed with the task. User space writes
// it through a pidfd; programs read it with bpf_task_storage_get.
struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC); // required for task storage
    __type(key, int);
    __type(value, struct ium_tag);
} ium_tags SEC(".maps");

// Events for iumd: denials and process lifecycle. 1 MiB (a power of two, a page multiple):
// about 5,000 events of 208 bytes between two reads.
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} ium_events SEC(".maps");

// Counters (enum ium_counter), per CPU; user space sums them.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, IUM_COUNTER_MAX);
    __type(key, u32);
    __type(value, u64);
} ium_counters SEC(".maps");

// Runtime settings (struct ium_config), one record.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct ium_config);
} ium_config SEC(".maps");

// kill backend: the target of a PTRACE_ATTACH/SEIZE that was answered with SIGKILL, keyed
// by the caller's thread id, so the syscall's exit can resume the target.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u32);
} ium_resume SEC(".maps");

// Caller-view probes (guard_abi.h): the kernel's verdict on a client's own ptrace read check.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, struct ium_probe_key);
    __type(value, struct ium_probe);
} ium_probes SEC(".maps");

// kill backend: a probe's target between the syscall's entry and exit, keyed by thread id.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u32);
} ium_probe_pending SEC(".maps");

// kfuncs that resolve a pid (6.2+: global; 6.13+: in the caller's namespace) and send a
// signal to another task (6.13+). Weak: the object still loads on 6.1 for the lsm backend.
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern struct task_struct *bpf_task_from_vpid(s32 vpid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, u64 value) __ksym __weak;

#define ium_ksym_exists(sym) (!!(sym))

// ---- Helpers ---------------------------------------------------------------------------

static __always_inline void count(u32 counter)
{
    u64 *value = bpf_map_lookup_elem(&ium_counters, &counter);
    if (value)
        __sync_fetch_and_add(value, 1);
}

static __always_inline struct ium_tag *tag_of(struct task_struct *task)
{
    return bpf_task_storage_get(&ium_tags, task, 0, 0);
}

// The tag that applies to a task: its own, or its thread-group leader's (threads that
// existed before the process was tagged have none of their own).
static __always_inline u32 tag_flags(struct task_struct *task)
{
    struct ium_tag *tag = tag_of(task);
    if (tag)
        return tag->flags;
    struct task_struct *leader = task->group_leader;
    if (!leader)
        return 0;
    tag = tag_of(leader);
    return tag ? tag->flags : 0;
}

static __always_inline bool is_secure(struct task_struct *task)
{
    return tag_flags(task) & IUM_TAG_SECURE;
}

// INSPECTOR is set by user space on iumd's leader only (its threads inherit SECURE alone), so
// it is read from the caller's thread-group leader.
static __always_inline bool is_inspector(struct task_struct *task)
{
    struct task_struct *leader = task->group_leader;
    struct ium_tag *tag = leader ? tag_of(leader) : 0;
    return tag && (tag->flags & IUM_TAG_INSPECTOR);
}

// Copies SECURE from `from` to a new task. A new process never inherits INSPECTOR.
static __always_inline void inherit(struct task_struct *from, struct task_struct *to)
{
    if (!is_secure(from))
        return;
    struct ium_tag *tag = bpf_task_storage_get(&ium_tags, to, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (tag && !(tag->flags & IUM_TAG_SECURE)) {
        tag->flags |= IUM_TAG_SECURE;
        tag->tagged_ns = bpf_ktime_get_boot_ns();
        count(IUM_COUNTER_TAGS_INHERITED);
    }
}

static __always_inline bool lifecycle_enabled(void)
{
    u32 zero = 0;
    struct ium_config *config = bpf_map_lookup_elem(&ium_config, &zero);
    return config && config->lifecycle_events;
}

static __always_inline struct ium_event *reserve(u32 type)
{
    struct ium_event *e = bpf_ringbuf_reserve(&ium_events, sizeof(*e), 0);
    if (!e) {
        count(IUM_COUNTER_EVENTS_DROPPED);
        return 0;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->time_ns = bpf_ktime_get_boot_ns();
    e->type = type;
    return e;
}

// Lifecycle events are frequent (every fork, exec, exit) and only feed iumd's table: they do
// not wake the reader (a wakeup is an IPI, costly in a VM) until 64 KiB are waiting; iumd
// also polls every 200 ms. Denials are rare and always wake it.
static __always_inline void submit_lifecycle(struct ium_event *e)
{
    u64 pending = bpf_ringbuf_query(&ium_events, BPF_RB_AVAIL_DATA);
    bpf_ringbuf_submit(e, pending >= (64 << 10) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

// Records a denial by the current task against `target`.
static __always_inline void report_denial(struct task_struct *target, u32 operation, u32 mode,
                                          u32 backend, u32 action, const char *name)
{
    count(IUM_COUNTER_DENIALS);
    if (action == IUM_ACTION_KILLED)
        count(IUM_COUNTER_KILLS);
    struct ium_event *e = reserve(IUM_EVENT_DENIAL);
    if (!e)
        return;
    u64 id = bpf_get_current_pid_tgid();
    e->operation = operation;
    e->pid = id >> 32;
    e->tid = (u32)id;
    e->uid = (u32)bpf_get_current_uid_gid();
    if (target) {
        e->target_pid = BPF_CORE_READ(target, tgid);
        e->target_tid = BPF_CORE_READ(target, pid);
    }
    e->mode = mode;
    e->backend = backend;
    e->action = action;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (name)
        bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name);
    bpf_ringbuf_submit(e, 0);
}

// Records that the kernel let `caller`'s read probe of `target` pass, and what
// /proc/PID/stat would then have shown the caller as start_stack.
static __always_inline void record_probe(u32 caller_tgid, u64 caller_start, u32 target_tgid, u64 target_start,
                                         u64 start_stack)
{
    struct ium_probe_key key = {.caller_tgid = caller_tgid, .target_tgid = target_tgid};
    struct ium_probe probe = {
        .time_ns = bpf_ktime_get_boot_ns(), .caller_start_ns = caller_start, .target_start_ns = target_start,
        .start_stack = start_stack,
    };
    bpf_map_update_elem(&ium_probes, &key, &probe, BPF_ANY);
}

// ---- lsm backend -----------------------------------------------------------------------

// Whether the current syscall is a caller-view probe: process_madvise with no iovec (it reaches
// this hook through mm_access(PTRACE_MODE_READ_FSCREDS) and changes nothing).
static __always_inline bool is_read_probe(struct task_struct *caller)
{
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(caller);
    return regs && regs->orig_ax == NR_process_madvise && regs->dx == 0;
}

/*
 * lsm/ptrace_access_check — every access that passes the kernel's ptrace check: PTRACE_ATTACH
 * and SEIZE, process_vm_readv/writev, /proc/PID/{mem,environ,maps,…} (any path form, io_uring
 * too), pidfd_getfd, kcmp, /proc/PID/fd links.
 * child: the task reached into (tracee); current: the caller (tracer).
 * Denied when child or its leader is secure and the caller is another thread group.
 * Exception: iumd (IUM_TAG_INSPECTOR, itself secure so nobody can borrow its access) may pass
 * PTRACE_MODE_READ checks to read /proc/PID/exe and stat of secure processes; never ATTACH.
 * PTRACE_MODE_NOAUDIT checks (ps reading /proc/PID/stat) and caller-view probes are denied
 * without an event; a probe that passes is recorded in ium_probes.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(ium_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
    if (ret != 0)
        return ret;
    struct task_struct *caller = bpf_get_current_task_btf();
    // A caller-view probe that passes is recorded; one that fails is refused without an
    // audit event (it is a question, not an attack: it changes nothing).
    bool probe = (mode & PTRACE_MODE_READ) && is_read_probe(caller);
    if (!is_secure(child) || caller->tgid == child->tgid ||
        ((mode & PTRACE_MODE_READ) && !(mode & PTRACE_MODE_ATTACH) && is_inspector(caller))) {
        if (probe) {
            struct mm_struct *mm = child->mm;
            record_probe(caller->tgid, caller->group_leader->start_boottime, child->tgid,
                         child->group_leader->start_boottime, mm ? mm->start_stack : 0);
        }
        return 0;
    }
    if ((mode & PTRACE_MODE_NOAUDIT) || probe) {
        count(IUM_COUNTER_DENIALS);
        return -EPERM;
    }
    report_denial(child, IUM_OP_PTRACE_ACCESS, mode, IUM_BACKEND_LSM, IUM_ACTION_DENIED, 0);
    return -EPERM;
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
    report_denial(me, IUM_OP_PTRACE_TRACEME, 0, IUM_BACKEND_LSM, IUM_ACTION_DENIED, 0);
    return -EPERM;
}

/*
 * lsm/task_kill — a signal that carries a caller-supplied siginfo (sigqueue,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal with info) is the Linux analog of
 * a user-mode APC: refused when it comes from another process. Ordinary signals (kill,
 * tgkill: SI_USER / SI_TKILL, and kernel-generated ones) are untouched.
 * p: the receiver; current: the sender.
 */
SEC("lsm/task_kill")
int BPF_PROG(ium_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
             const struct cred *cred, int ret)
{
    if (ret != 0)
        return ret;
    // SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are not pointers.
    if ((unsigned long)info <= 1 || !is_secure(p))
        return 0;
    int code = BPF_CORE_READ(info, si_code);
    if (code >= 0 || code == SI_TKILL)
        return 0;
    struct task_struct *sender = bpf_get_current_task_btf();
    if (sender->tgid == p->tgid)
        return 0;
    report_denial(p, IUM_OP_SIGNAL_PAYLOAD, sig, IUM_BACKEND_LSM, IUM_ACTION_DENIED, 0);
    return -EPERM;
}

/*
 * lsm/task_alloc — a new thread or process of a secure process is secure from before it is
 * visible (copy_process has not yet published it), so no attacker can race its creation.
 * tp_btf/sched_process_fork, used by the kill backend, runs after the child is visible.
 */
SEC("lsm/task_alloc")
int BPF_PROG(ium_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
    if (ret != 0)
        return ret;
    inherit(bpf_get_current_task_btf(), task);
    return 0;
}

// ---- Both backends ---------------------------------------------------------------------

/*
 * sched_process_fork — inheritance for the kill backend (and a second chance for lsm), and
 * the fork event with the creator captured at creation.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ium_process_fork, struct task_struct *parent, struct task_struct *child)
{
    inherit(parent, child);
    if (child->pid != child->tgid || !lifecycle_enabled())
        return 0;
    struct ium_event *e = reserve(IUM_EVENT_FORK);
    if (!e)
        return 0;
    e->pid = child->tgid;
    e->tid = child->pid;
    e->creator_pid = parent->tgid;
    e->start_ns = child->start_boottime;
    e->uid = (u32)bpf_get_current_uid_gid();
    bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), child->comm);
    submit_lifecycle(e);
    return 0;
}

/*
 * Exec keeps the tag: a thread that execs becomes the thread-group leader; if only the old
 * leader carried the tag (threads made before tagging), copy it to the exec'ing thread first.
 * lsm: bprm_creds_for_exec runs in the exec'ing thread before de_thread. kill: the syscall
 * tracepoints run before anything else of the exec.
 */
static __always_inline int keep_tag_across_exec(void)
{
    struct task_struct *me = bpf_get_current_task_btf();
    if (me->pid != me->tgid)
        inherit(me, me);
    return 0;
}

SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(ium_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
    if (ret != 0)
        return ret;
    return keep_tag_across_exec();
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

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ium_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    if (!lifecycle_enabled())
        return 0;
    struct ium_event *e = reserve(IUM_EVENT_EXEC);
    if (!e)
        return 0;
    e->pid = p->tgid;
    e->tid = p->pid;
    e->start_ns = p->start_boottime;
    e->uid = (u32)bpf_get_current_uid_gid();
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
    submit_lifecycle(e);
    return 0;
}

// The last thread of a process exits: the exit event with the process's wait status.
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ium_process_exit, struct task_struct *p)
{
    if (!lifecycle_enabled() || (p->flags & PF_KTHREAD))
        return 0;
    struct signal_struct *signal = p->signal;
    if (BPF_CORE_READ(signal, live.counter) != 0)
        return 0;
    struct ium_event *e = reserve(IUM_EVENT_EXIT);
    if (!e)
        return 0;
    unsigned int flags = BPF_CORE_READ(signal, flags);
    e->pid = p->tgid;
    e->tid = p->pid;
    e->exit_code = (flags & SIGNAL_GROUP_EXIT) ? BPF_CORE_READ(signal, group_exit_code) : p->exit_code;
    e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
    bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->comm);
    submit_lifecycle(e);
    return 0;
}

// ---- kill backend ----------------------------------------------------------------------

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

// SIGKILL the caller (its whole thread group) when the acquired `target` is a secure task of
// another process, and report it. Releases `target`. Returns whether it killed.
static __always_inline bool kill_caller_if_secure(struct task_struct *target, u32 operation, u32 mode,
                                                  const char *name)
{
    struct task_struct *me = bpf_get_current_task_btf();
    bool hit = is_secure(target) && target->tgid != me->tgid;
    if (hit) {
        bpf_send_signal(SIGKILL);
        report_denial(target, operation, mode, IUM_BACKEND_KILL, IUM_ACTION_KILLED, name);
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

// The task (acquired) a struct pid names, or NULL.
static __always_inline struct task_struct *task_of(struct pid *pid)
{
    if (!pid || !ium_ksym_exists(bpf_task_from_pid))
        return 0;
    return bpf_task_from_pid(BPF_CORE_READ(pid, numbers[0].nr));
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
            report_denial(me, IUM_OP_PTRACE_TRACEME, 0, IUM_BACKEND_KILL, IUM_ACTION_KILLED, 0);
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

// The file the current task has open as `fd`, or NULL.
static __always_inline struct file *current_file(long fd)
{
    if (fd < 0)
        return 0;
    struct task_struct *me = bpf_get_current_task_btf();
    struct fdtable *fdt = BPF_CORE_READ(me, files, fdt);
    if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
        return 0;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *file = 0;
    bpf_core_read(&file, sizeof(file), &fds[fd]);
    return file;
}

// The task (acquired) a pidfd of the current task names, or NULL: the inode's i_private on
// pidfs (6.9+), the file's private_data on an anon-inode pidfd before.
static __always_inline struct task_struct *task_of_pidfd(long fd)
{
    struct file *file = current_file(fd);
    if (!file)
        return 0;
    struct inode *inode = BPF_CORE_READ(file, f_inode);
    struct pid *pid = BPF_CORE_READ(inode, i_sb, s_magic) == PID_FS_MAGIC
        ? BPF_CORE_READ(inode, i_private) : BPF_CORE_READ(file, private_data);
    return task_of(pid);
}

// sys_enter_pidfd_getfd — the pidfd's process is read from the file's struct pid.
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
 */
SEC("tp/syscalls/sys_enter_process_madvise")
int ium_enter_process_madvise(struct ium_sys_enter *ctx)
{
    if (ctx->args[2] != 0) // an iovec: a real madvise, not a probe
        return 0;
    struct task_struct *target = task_of_pidfd((long)ctx->args[0]);
    if (!target)
        return 0;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u32 target_tgid = BPF_CORE_READ(target, tgid);
    bpf_task_release(target);
    bpf_map_update_elem(&ium_probe_pending, &tid, &target_tgid, BPF_ANY);
    return 0;
}

SEC("tp/syscalls/sys_exit_process_madvise")
int ium_exit_process_madvise(struct ium_sys_exit *ctx)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u32 *pending = bpf_map_lookup_elem(&ium_probe_pending, &tid);
    if (!pending)
        return 0;
    s32 target_tgid = (s32)*pending;
    bpf_map_delete_elem(&ium_probe_pending, &tid);
    if (ctx->ret != 0 && ctx->ret != -EPERM)
        return 0;
    struct task_struct *target = task_from_caller_pid(target_tgid);
    if (!target)
        return 0;
    struct task_struct *me = bpf_get_current_task_btf();
    record_probe(me->tgid, BPF_CORE_READ(me, group_leader, start_boottime), BPF_CORE_READ(target, tgid),
                 BPF_CORE_READ(target, group_leader, start_boottime), BPF_CORE_READ(target, mm, start_stack));
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
    struct file *file = current_file(ctx->ret);
    if (!file)
        return 0;
    struct inode *inode = BPF_CORE_READ(file, f_inode);
    if (BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC)
        return 0;
    const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
    if (!is_guarded_proc_name((const char *)name))
        return 0;
    struct pid *pid = 0;
    // container_of(inode, struct proc_inode, vfs_inode)
    void *base = (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode);
    bpf_core_read(&pid, sizeof(pid), base + bpf_core_field_offset(struct proc_inode, pid));
    struct task_struct *target = task_of(pid);
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
