/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * guard_abi.h — the only definition of what the BPF guard (bpf/) and user space (KernelGuard)
 * share: tag values, event records, counter slots, the config record. Fixed-width types,
 * explicit padding, sizes pinned by static assertions (checked again from Swift).
 */
#ifndef IUM_GUARD_ABI_H
#define IUM_GUARD_ABI_H

#ifdef __bpf__
/* The BPF side gets __u32 & co. from linux/types.h through ium_kernel.h. */
#else
#include <linux/types.h>
#endif

/* ---- Tag store (BPF_MAP_TYPE_TASK_STORAGE, keyed by a pidfd from user space). ---- */
#define IUM_TAG_SECURE    (1u << 0) /* a trustlet: nobody else may reach into it */
#define IUM_TAG_INSPECTOR (1u << 1) /* iumd itself: may make PTRACE_MODE_READ checks (never ATTACH) */

struct ium_tag {
    __u32 flags;      /* IUM_TAG_* */
    __u32 reserved;
    __u64 tagged_ns;  /* bpf_ktime_get_boot_ns() when tagged or inherited; 0 from user space */
};

/* ---- Events (ring buffer). ---- */
enum ium_event_type {
    IUM_EVENT_DENIAL = 1, /* an access into a secure process was refused */
    IUM_EVENT_FORK = 2,   /* a new process: pid, creator_pid */
    IUM_EVENT_EXEC = 3,   /* pid ran filename */
    IUM_EVENT_EXIT = 4,   /* the last thread of pid exited with exit_code (wait status) */
};

enum ium_operation {
    IUM_OP_NONE = 0,
    IUM_OP_PTRACE_ACCESS = 1, /* lsm: ptrace_access_check; mode = PTRACE_MODE_* */
    IUM_OP_PTRACE_TRACEME = 2, /* a secure process asked to be traced; creator_pid = the would-be tracer */
    IUM_OP_SIGNAL_PAYLOAD = 3, /* a signal with a caller-supplied siginfo (sigqueue); mode = signal */
    IUM_OP_PTRACE = 4,         /* kill: the ptrace syscall on a secure target; mode = request */
    IUM_OP_VM_READ = 5,        /* kill: process_vm_readv */
    IUM_OP_VM_WRITE = 6,       /* kill: process_vm_writev */
    IUM_OP_PIDFD_GETFD = 7,    /* kill: pidfd_getfd; mode = the fd asked for */
    IUM_OP_PROC_OPEN = 8,      /* kill: open of /proc/<secure>/<filename> */
};

enum ium_backend {
    IUM_BACKEND_LSM = 1,
    IUM_BACKEND_KILL = 2,
};

enum ium_action {
    IUM_ACTION_NONE = 0,
    IUM_ACTION_DENIED = 1, /* the kernel call failed with EPERM */
    IUM_ACTION_KILLED = 2, /* the caller was sent SIGKILL before it could use the access */
};

#define IUM_COMM_LEN 16
#define IUM_FILENAME_LEN 128

struct ium_event {
    __u64 time_ns;      /* bpf_ktime_get_boot_ns() */
    __u32 type;         /* enum ium_event_type */
    __u32 operation;    /* enum ium_operation (denials) */
    __u32 pid;          /* denial: the caller's tgid; lifecycle: the process */
    __u32 tid;          /* the caller's (or exiting) thread id */
    __u32 uid;          /* the caller's uid */
    __u32 target_pid;   /* denial: the secure process (tgid) */
    __u32 target_tid;   /* denial: the thread that was targeted */
    __u32 mode;         /* ptrace mode, ptrace request, signal number or fd */
    __u32 backend;      /* enum ium_backend */
    __u32 action;       /* enum ium_action */
    __s32 exit_code;    /* exit: wait status (exit code << 8 | signal) */
    __u32 creator_pid;  /* fork: the creating process (tgid); traceme: the would-be tracer */
    __u64 start_ns;     /* the process's start time after boot (task->start_boottime) */
    char comm[IUM_COMM_LEN];         /* the caller's (or process's) comm */
    char filename[IUM_FILENAME_LEN]; /* exec: the program; proc open: the /proc file name */
};

/* ---- Caller-view probes (BPF_MAP_TYPE_LRU_HASH, read by iumd). ----
 * A client shows iumd what the kernel would let it see of another process by running the
 * kernel's own ptrace read check (PTRACE_MODE_READ_FSCREDS, the check that hides start_stack
 * in /proc/PID/stat) on itself: process_madvise(pidfd, NULL, 0, MADV_COLD, 0), which changes
 * nothing and fails with EACCES when the check fails. When the kernel lets such a probe pass,
 * the guard records it here, with the target's start_stack as the kernel would have shown it;
 * iumd gives a caller the fields that check guards only when a recent record for
 * (caller, target) exists, and then the start_stack recorded. */
struct ium_probe_key {
    __u32 caller_tgid;
    __u32 target_tgid;
};

struct ium_probe {
    __u64 time_ns;         /* bpf_ktime_get_boot_ns() of the probe */
    __u64 caller_start_ns; /* the caller's start time (start_boottime): its identity */
    __u64 target_start_ns; /* the target's start time */
    __u64 start_stack;     /* the target's mm->start_stack at the probe (0: no address space) */
};

/* ---- Counters (BPF_MAP_TYPE_PERCPU_ARRAY of __u64, summed by user space). ---- */
enum ium_counter {
    IUM_COUNTER_DENIALS = 0,        /* accesses refused (events or not) */
    IUM_COUNTER_KILLS = 1,          /* callers killed by the kill backend */
    IUM_COUNTER_EVENTS_DROPPED = 2, /* events lost: the ring buffer was full */
    IUM_COUNTER_TAGS_INHERITED = 3, /* tags copied to a new thread or process */
    IUM_COUNTER_RESUMES = 4,        /* targets sent SIGCONT after a killed PTRACE_ATTACH */
    IUM_COUNTER_MAX = 8,
};

/* ---- Config (BPF_MAP_TYPE_ARRAY, one record). ---- */
struct ium_config {
    __u32 lifecycle_events; /* emit fork/exec/exit events (the daemon's process table) */
    __u32 backend;          /* enum ium_backend the loader attached (read by a new daemon) */
    __u32 reserved[2];
};

#ifdef __cplusplus
#define IUM_ABI_ASSERT(e, m) static_assert(e, m)
#else
#define IUM_ABI_ASSERT(e, m) _Static_assert(e, m)
#endif
IUM_ABI_ASSERT(sizeof(struct ium_tag) == 16, "struct ium_tag");
IUM_ABI_ASSERT(sizeof(struct ium_event) == 208, "struct ium_event");
IUM_ABI_ASSERT(sizeof(struct ium_config) == 16, "struct ium_config");
IUM_ABI_ASSERT(sizeof(struct ium_probe_key) == 8, "struct ium_probe_key");
IUM_ABI_ASSERT(sizeof(struct ium_probe) == 32, "struct ium_probe");

#endif /* IUM_GUARD_ABI_H */
