/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * guard_abi.h — the only definition of what the BPF guard (bpf/) and user space (KernelGuard)
 * share: tag values, records, map values, counter slots, the guard's settings. Fixed-width
 * types, explicit padding, sizes pinned by static assertions (checked again from Swift).
 */
#ifndef IUM_GUARD_ABI_H
#define IUM_GUARD_ABI_H

#ifdef __bpf__
/* The BPF side gets __u32 & co. from linux/types.h through ium_kernel.h. */
#else
#include <linux/types.h>
#endif

/* ---- Tag store (BPF_MAP_TYPE_TASK_STORAGE on the thread-group leader). ---- */
#define IUM_TAG_SECURE    (1u << 0) /* a trustlet: nobody else may reach into it */
#define IUM_TAG_INSPECTOR (1u << 1) /* iumd: may pass PTRACE_MODE_READ checks (never ATTACH) */
#define IUM_TAG_DAEMON    (1u << 2) /* iumd: the only task that may touch a sealed guard */

struct ium_tag {
    __u32 flags;      /* IUM_TAG_* */
    __u32 reserved;
    __u64 tagged_ns;  /* bpf_ktime_get_boot_ns() when tagged or inherited; 0 from user space */
    __u64 mm;         /* the address of the process's mm while it is secure (ium_secure_mms) */
};

/* ---- Tag requests (lsm backend): iumd writes a request for a tgid and sends that process
 * signal 0; the guard's task_kill hook checks the process in the kernel (not traced, no
 * seccomp user-notification listener, not a kernel thread), tags it and writes the outcome
 * back, so nothing can slip in between the check and the tag. ---- */
enum ium_tag_status {
    IUM_TAG_PENDING = 0,
    IUM_TAG_DONE = 1,
    IUM_TAG_REFUSED_TRACED = 2,     /* detail: the tracer's tgid */
    IUM_TAG_REFUSED_SUPERVISED = 3, /* a seccomp filter with a user-notification listener */
    IUM_TAG_REFUSED_KTHREAD = 4,
    IUM_TAG_REFUSED_EXITING = 5,
};

struct ium_tag_request {
    __u32 flags;  /* IUM_TAG_* to add */
    __u32 status; /* enum ium_tag_status, written by the guard */
    __u32 detail;
    __u32 reserved;
};

/* ---- Records. Every record starts with the header; its type says which. Denials go to the
 * ium_events ring buffer (BPF_MAP_TYPE_RINGBUF) and wake iumd; lifecycle records go to the
 * per-CPU lifecycle ring below, and ium_events carries only a header-only WAKE record when a
 * CPU's lifecycle ring fills up enough for iumd to drain it. ---- */
enum ium_record_type {
    IUM_RECORD_DENIAL = 1, /* struct ium_denial */
    IUM_RECORD_FORK = 2,   /* struct ium_lifecycle: a new process; code = the creator */
    IUM_RECORD_EXEC = 3,   /* struct ium_lifecycle: the process ran a new program (comm) */
    IUM_RECORD_EXIT = 4,   /* struct ium_lifecycle: the last thread exited; code = wait status */
    IUM_RECORD_WAKE = 5,   /* struct ium_record_header alone (ium_events): drain the lifecycle ring */
};

struct ium_record_header {
    __u32 type;    /* enum ium_record_type */
    __u32 pid;     /* denial: the caller's tgid; lifecycle: the process */
    __u64 time_ns; /* bpf_ktime_get_boot_ns(); a fork record: the child's start_boottime;
                      exec and exit records: 0 (no clock read on the hot path) */
};

#define IUM_COMM_LEN 16
#define IUM_FILENAME_LEN 128

/* Fork, exec and exit: small, frequent, they feed iumd's process table. */
struct ium_lifecycle {
    struct ium_record_header header;
    __u32 tid;
    __s32 code;      /* fork: the creator's tgid; exec: the low 32 bits of the process's new
                        self_exec_id; exit: the wait status (exit code << 8 | signal) */
    __u64 start_ns;  /* the process's start time after boot (task->start_boottime) */
    __u32 uid;
    __u32 reserved;
    char comm[IUM_COMM_LEN];
};

/* ---- The lifecycle ring (ium_lifecycle_ring: BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, iumd maps
 * it read-only). One ring per possible CPU, IUM_LIFECYCLE_SLOTS + 1 entries each: CPU c's
 * entries start at c * (IUM_LIFECYCLE_SLOTS + 1); the first holds in `seq` how many records
 * that CPU reserved (its head), record n (from 0) is in entry 1 + n % IUM_LIFECYCLE_SLOTS with
 * seq n + 1 once complete (0, or the older record's seq, while the guard writes it). Why not
 * the BPF ring buffer: a record there costs two helper calls and a lock (~260 ns a record on
 * the reference host, where every return runs a Spectre/SRSO thunk); here it is one atomic
 * add and plain stores. The guard never waits for iumd: a ring iumd has not drained is
 * overwritten, and iumd counts what it lost (the head ran more than IUM_LIFECYCLE_SLOTS past
 * it, or a slot's seq is past the one it expects) and rescans /proc. Every
 * IUM_LIFECYCLE_WAKE_EVERY records a CPU also writes an IUM_RECORD_WAKE to ium_events. ---- */
#define IUM_LIFECYCLE_SLOTS 2048      /* per CPU (128 KiB), a power of two */
#define IUM_LIFECYCLE_WAKE_EVERY 1024 /* a power of two below IUM_LIFECYCLE_SLOTS */
struct ium_lifecycle_slot {
    __u64 seq;
    struct ium_lifecycle record;
};

static inline __u32 ium_lifecycle_entry(__u32 cpu, __u64 index) {
    return cpu * (IUM_LIFECYCLE_SLOTS + 1) + 1 + (__u32)(index & (IUM_LIFECYCLE_SLOTS - 1));
}

enum ium_operation {
    IUM_OP_NONE = 0,
    IUM_OP_PTRACE_ACCESS = 1,  /* lsm: ptrace_access_check; mode = PTRACE_MODE_* */
    IUM_OP_PTRACE_TRACEME = 2, /* a secure process asked to be traced */
    IUM_OP_SIGNAL_PAYLOAD = 3, /* a signal with a caller-supplied siginfo; mode = signal */
    IUM_OP_PTRACE = 4,         /* kill: the ptrace syscall on a secure target; mode = request */
    IUM_OP_VM_READ = 5,        /* kill: process_vm_readv */
    IUM_OP_VM_WRITE = 6,       /* kill: process_vm_writev */
    IUM_OP_PIDFD_GETFD = 7,    /* kill: pidfd_getfd; mode = the fd asked for */
    IUM_OP_PROC_OPEN = 8,      /* kill: open of /proc/<secure>/<filename> */
    IUM_OP_PERF = 9,           /* a perf event on a secure task (or, sealed, a probe PMU / CPU-wide user sampling) */
    IUM_OP_CORE_DUMP = 10,     /* a secure task's core dump */
    IUM_OP_RLIMIT_CORE = 11,   /* another process raising a secure task's RLIMIT_CORE */
    IUM_OP_CODE_WRITE = 12,    /* a write to a file a secure task maps executable; mode = inode number */
    IUM_OP_CODE_MAP = 13,      /* a secure task mapping code that is mapped shared-writable */
    IUM_OP_SIGIO = 14,         /* SIGIO/SIGURG/F_SETSIG into a secure task from a file it does not own */
    IUM_OP_PROC_FD = 15,       /* a read/write through a /proc/<secure>/mem-like fd opened before the tag */
    IUM_OP_EXEC_SUPERVISED = 16, /* a secure task exec'ing while traced or under a seccomp listener */
    IUM_OP_TAMPER_BPF = 17,    /* sealed: an fd to the guard's maps or programs; mode = bpf command */
    IUM_OP_TAMPER_PIN = 18,    /* sealed: unlink/rename/chmod of a pin, umount of bpffs or sysfs */
    IUM_OP_BPF_LOAD = 19,      /* sealed: a tracing-class BPF program or token; mode = program type */
    IUM_OP_LOCKDOWN = 20,      /* sealed: a lockdown reason; mode = enum lockdown_reason */
    IUM_OP_KMOD = 21,          /* sealed: loading a module or a kexec image; mode = kernel_read_file_id */
    IUM_OP_SIGNAL_DAEMON = 22, /* sealed: a signal to iumd from another process than PID 1; mode = signal */
    IUM_OP_SYSCTL = 23,        /* sealed: writing core_pattern, suid_dumpable or ftrace_enabled */
    IUM_OP_DAEMON_CODE = 24,   /* sealed: iumd's image mapped code that is not the sealed daemon's */
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

/* A refusal: who, what, on whom. */
struct ium_denial {
    struct ium_record_header header;
    __u32 tid;        /* the caller's thread */
    __u32 uid;        /* the caller's uid */
    __u32 target_pid; /* the secure process (tgid); 0 when the target is the guard itself */
    __u32 target_tid;
    __u32 operation;  /* enum ium_operation */
    __u32 mode;       /* ptrace mode, request, signal, fd, program type, reason… */
    __u32 backend;    /* enum ium_backend */
    __u32 action;     /* enum ium_action */
    char comm[IUM_COMM_LEN];         /* the caller's comm */
    char filename[IUM_FILENAME_LEN]; /* kill: the /proc file name */
};

/* ---- Caller-view probes (BPF_MAP_TYPE_LRU_HASH, read by iumd). ----
 * A client shows iumd what the kernel would let it see of another process by running the
 * kernel's own ptrace read check (PTRACE_MODE_READ_FSCREDS, the check that hides start_stack
 * in /proc/PID/stat) on itself: process_madvise(pidfd, NULL, 0, MADV_COLD, 0), which changes
 * nothing and fails with EACCES when the check fails. When the kernel lets such a probe pass,
 * the guard records it here, with the target's start_stack as the kernel would have shown it;
 * iumd gives a caller the fields that check guards only when a recent record for
 * (caller, target) exists, and then the start_stack recorded. */
/* A probe's advice (process_madvise's fourth argument; either changes nothing without an
 * iovec) says what the guard does when it passes: IUM_PROBE_RECORD (MADV_COLD) fills the
 * caller's task view and records the pass for iumd, which a request to iumd relies on;
 * IUM_PROBE_VIEW_ONLY (MADV_PAGEOUT) fills the view only (the in-client query: iumd reads
 * nothing of it). */
#define IUM_PROBE_RECORD 20
#define IUM_PROBE_VIEW_ONLY 21

struct ium_probe_key {
    __u32 caller_tgid;
    __u32 target_tgid;
};

struct ium_probe {
    __u64 time_ns;         /* bpf_ktime_get_boot_ns() of the probe */
    __u64 caller_start_ns; /* the caller's start time (start_boottime): its identity */
    __u64 target_start_ns; /* the target's start time */
    __u64 start_stack;     /* the target's mm->start_stack at the probe (0: no address space) */
    __u64 target_exec_id;  /* the target leader's self_exec_id at the probe: a probe is not
                              believed after an exec it did not see */
};

/* The same records, mirrored into a direct-mapped BPF array (BPF_F_MMAPABLE) that iumd maps
 * read-only and reads without a bpf() call (~0.9 us each here): the record of (caller, target)
 * goes to entry ium_probe_slot(caller, target), under a sequence count (odd while the guard
 * writes; a write that finds it odd is skipped). An entry may hold another pair's record, or
 * an older one of this pair: iumd then looks in ium_probes. */
#define IUM_PROBE_CACHE 16384 /* a power of two */
struct ium_probe_cache_entry {
    __u32 seq;
    __u32 caller_tgid;
    __u32 target_tgid;
    __u32 reserved;
    struct ium_probe probe;
};

static inline __u32 ium_probe_slot(__u32 caller_tgid, __u32 target_tgid) {
    return ((caller_tgid * 2654435761u) ^ target_tgid) & (IUM_PROBE_CACHE - 1);
}

/* ---- Task views: the in-client query (NtQueryInformationProcess class 0 without a round
 * trip). Each client of iumd gets a private BPF array of IUM_VIEW_RECORDS records, mmapable
 * and frozen (only the guard writes it; the client maps it read-only), in slot `slot` of the
 * guard's array of maps; ium_view_clients maps the client's tgid to its slot (with its start
 * time, so a recycled pid or a stale entry after an iumd restart never writes there).
 * When a client thread asks the kernel about a process it holds a handle to (iumd granted
 * (slot, pid, start time) at NtOpenProcess) — its caller-view probe, or sched_getscheduler(pid)
 * — the guard writes what the kernel knows of that process at that moment into the thread's
 * record (tid % IUM_VIEW_RECORDS) under a sequence count: the answer is as fresh as the
 * syscall, like Windows reading the EPROCESS. start_stack and the 32-bit bit only when the
 * kernel's ptrace read check passed in that same call (the probe). Slot 0 is iumd's own: no
 * grant needed, everything filled. A grant's value is the process's start time. ---- */
#define IUM_VIEW_RECORDS 64
#define IUM_VIEW_CLIENTS 1024
#define IUM_VIEW_DAEMON_SLOT 0
#define IUM_VIEW_GRANTS 65536
/* Start times in views, clients and grants are in USER_HZ (100) ticks, the unit of
 * /proc/PID/stat field 22 (nsec_to_clock_t), so iumd can name them exactly. */
#define IUM_NSEC_PER_TICK 10000000ull

#define IUM_VIEW_READABLE    (1u << 0)  /* the ptrace read check passed: start_stack, ADDR32 valid */
#define IUM_VIEW_SECURE      (1u << 1)  /* tagged secure */
#define IUM_VIEW_EXITING     (1u << 2)  /* PF_EXITING on the leader */
#define IUM_VIEW_ZOMBIE      (1u << 3)  /* the leader has an exit_state: ask iumd (exit status) */
#define IUM_VIEW_STOPPED     (1u << 4)  /* job-control stopped: 'T' in /proc/PID/stat */
#define IUM_VIEW_FROZEN      (1u << 5)  /* its cgroup v2 is frozen (cgroup.events "frozen 1") */
#define IUM_VIEW_IDLE_IO     (1u << 6)  /* I/O priority class idle */
#define IUM_VIEW_KTHREAD     (1u << 7)
#define IUM_VIEW_CHILD_PIDNS (1u << 8)  /* in a PID namespace below the initial one */
#define IUM_VIEW_ADDR32      (1u << 9)  /* a 32-bit address space (READABLE only) */
#define IUM_VIEW_HAS_MM      (1u << 10) /* has an address space (dumpable is meaningful) */

struct ium_view {
    __u32 seq;         /* odd while the guard writes the record (one writer at a time) */
    __u32 tid;         /* the thread that asked */
    __u32 pid;         /* the process asked about (tgid) */
    __u32 flags;       /* IUM_VIEW_* */
    __u64 start_ticks; /* the leader's start time in USER_HZ ticks after boot (/proc/PID/stat field 22) */
    __u64 exec_id;     /* the leader's self_exec_id: changes at every exec */
    __u64 cgroup_id;   /* its cgroup v2 (kernfs node id) */
    __u64 cpus;        /* the first 64 CPUs of cpus_mask (Cpus_allowed) */
    __u64 start_stack; /* READABLE only, else 0 */
    __u32 policy;      /* SCHED_* */
    __s32 nice;        /* static_prio - 120 */
    __u32 dumpable;    /* get_dumpable(mm): 0 no, 1 user, 2 root-only */
    __u32 uid;         /* real_cred: the first three ids of /proc/PID/status "Uid:" */
    __u32 euid;
    __u32 suid;
};

struct ium_view_client {
    __u32 slot;
    __u32 reserved;
    __u64 start_ticks; /* the client's start time (IUM_NSEC_PER_TICK) */
};

struct ium_view_grant_key {
    __u32 slot;
    __u32 pid;
};

/* ---- Files a secure task maps executable (lsm backend). A struct file mapped PROT_EXEC by a
 * secure task is remembered until it is freed (its last mapping gone); its inode counts such
 * files and cannot be written while the count is above zero. ---- */
struct ium_code_inode {
    __u32 files;       /* struct files mapped executable by secure tasks */
    __u32 first_tgid;  /* the first secure process that mapped it (for the denial record) */
};

/* ---- Sealed mode: the files iumd runs from (its image, the loader, its libraries), by
 * device, inode and ctime. A process exec'ing the image becomes iumd (IUM_TAG_DAEMON) and
 * keeps it only while every file it maps executable is one of these. ---- */
struct ium_file_key {
    __u64 dev;  /* super_block.s_dev (kernel encoding: major << 20 | minor) */
    __u64 ino;
};

struct ium_file_identity {
    __s64 ctime_sec;
    __u32 ctime_nsec;
    __u32 flags; /* IUM_DAEMON_FILE_* */
};
#define IUM_DAEMON_FILE_IMAGE (1u << 0) /* the daemon's executable */

/* inode storage marks. */
#define IUM_INODE_CODE     (1u << 0) /* mapped executable by a secure task (see ium_code_inodes) */
#define IUM_INODE_PIN      (1u << 1) /* sealed: a pin of the guard, or its directory */
#define IUM_INODE_PIN_FS   (1u << 2) /* sealed: the root of the bpffs holding the pins */

/* ---- Counters (BPF_MAP_TYPE_PERCPU_ARRAY of __u64, summed by user space). ---- */
enum ium_counter {
    IUM_COUNTER_DENIALS = 0,        /* accesses refused (records or not) */
    IUM_COUNTER_KILLS = 1,          /* callers killed by the kill backend */
    IUM_COUNTER_EVENTS_DROPPED = 2, /* records lost: the ring buffer was full */
    IUM_COUNTER_TAGS_INHERITED = 3, /* tags copied to a new thread or process */
    IUM_COUNTER_RESUMES = 4,        /* targets sent SIGCONT after a killed PTRACE_ATTACH */
    IUM_COUNTER_RECORDS = 5,        /* records written to the ring buffer (produced = this + dropped) */
    IUM_COUNTER_MAX = 8,
};

/* ---- The guard's settings, fixed at load (.rodata: `const volatile`). ---- */
struct ium_settings {
    __u32 backend;          /* enum ium_backend */
    __u32 lifecycle_events; /* emit fork/exec/exit records (iumd's process table) */
    __u32 uprobe_pmu;       /* /sys/bus/event_source/devices/uprobe/type (0: none) */
    __u32 kprobe_pmu;       /* /sys/bus/event_source/devices/kprobe/type (0: none) */
};

/* ---- The guard's state (.bss), written by iumd only. ---- */
struct ium_state {
    __u32 sealed;        /* 1 once sealed: never written back to 0 */
    __u32 reserved;
    __u64 sealed_ns;     /* bpf clock (boot) when sealed */
    struct ium_file_key daemon_image;        /* the sealed daemon's executable */
    struct ium_file_identity daemon_image_id;
};

#ifdef __cplusplus
#define IUM_ABI_ASSERT(e, m) static_assert(e, m)
#else
#define IUM_ABI_ASSERT(e, m) _Static_assert(e, m)
#endif
IUM_ABI_ASSERT(sizeof(struct ium_tag) == 24, "struct ium_tag");
IUM_ABI_ASSERT(sizeof(struct ium_tag_request) == 16, "struct ium_tag_request");
IUM_ABI_ASSERT(sizeof(struct ium_record_header) == 16, "struct ium_record_header");
IUM_ABI_ASSERT(sizeof(struct ium_lifecycle) <= 64, "lifecycle records stay small");
IUM_ABI_ASSERT(sizeof(struct ium_lifecycle) == 56, "struct ium_lifecycle");
IUM_ABI_ASSERT(sizeof(struct ium_lifecycle_slot) == 64, "a lifecycle slot is one cache line");
IUM_ABI_ASSERT(sizeof(struct ium_denial) == 192, "struct ium_denial");
IUM_ABI_ASSERT(sizeof(struct ium_probe_key) == 8, "struct ium_probe_key");
IUM_ABI_ASSERT(sizeof(struct ium_probe) == 40, "struct ium_probe");
IUM_ABI_ASSERT(sizeof(struct ium_probe_cache_entry) == 56, "struct ium_probe_cache_entry");
IUM_ABI_ASSERT(sizeof(struct ium_view) == 80, "struct ium_view");
IUM_ABI_ASSERT(sizeof(struct ium_view_client) == 16, "struct ium_view_client");
IUM_ABI_ASSERT(sizeof(struct ium_view_grant_key) == 8, "struct ium_view_grant_key");
IUM_ABI_ASSERT(sizeof(struct ium_code_inode) == 8, "struct ium_code_inode");
IUM_ABI_ASSERT(sizeof(struct ium_file_key) == 16, "struct ium_file_key");
IUM_ABI_ASSERT(sizeof(struct ium_file_identity) == 16, "struct ium_file_identity");
IUM_ABI_ASSERT(sizeof(struct ium_settings) == 16, "struct ium_settings");
IUM_ABI_ASSERT(sizeof(struct ium_state) == 48, "struct ium_state");

#endif /* IUM_GUARD_ABI_H */
