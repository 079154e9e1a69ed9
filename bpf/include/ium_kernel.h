/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ium_kernel.h — the kernel types and fields the guard uses, and nothing else.
 *
 * Every struct is declared with preserve_access_index: libbpf relocates each field access
 * against the running kernel's BTF (CO-RE), so the object does not depend on the build
 * machine's kernel. Only the fields listed exist for the programs; their order and the
 * structs' sizes here do not matter. A `___flavor` suffix names a layout of one kernel
 * version (6.1's struct inode timestamps, 6.1's embedded f_owner).
 */
#ifndef IUM_KERNEL_H
#define IUM_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int fmode_t;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct { int counter; } atomic_t;

struct qstr {
    union {
        struct { u32 hash; u32 len; };
        u64 hash_len;
    };
    const unsigned char *name;
};

struct timespec64 { s64 tv_sec; long tv_nsec; };

struct super_block {
    u32 s_dev;
    unsigned long s_magic;
    struct dentry *s_root;
};
struct address_space { atomic_t i_mmap_writable; };
struct inode {
    unsigned short i_mode;
    unsigned long i_ino;
    struct super_block *i_sb;
    void *i_private;
    atomic_t i_writecount;
    s64 i_ctime_sec;  /* 6.11+ */
    u32 i_ctime_nsec; /* 6.11+ */
};
struct inode___61 { struct timespec64 i_ctime; }; /* 6.1: one timespec64 */
struct dentry { struct qstr d_name; struct inode *d_inode; struct super_block *d_sb; };
struct vfsmount { struct dentry *mnt_root; struct super_block *mnt_sb; };
struct path { struct vfsmount *mnt; struct dentry *dentry; };
struct fown_struct { struct file *file; struct pid *pid; int signum; }; /* 6.12: allocated, with a back pointer */
struct file {
    struct path f_path;
    struct inode *f_inode;
    fmode_t f_mode;
    unsigned int f_flags;
    struct address_space *f_mapping;
    void *private_data;
    struct fown_struct *f_owner; /* 6.12 */
};
struct file___61 { struct fown_struct f_owner; }; /* 6.1: embedded */

struct vm_area_struct { unsigned long vm_flags; struct file *vm_file; };

struct fdtable { unsigned int max_fds; struct file **fd; };
struct files_struct { atomic_t count; struct fdtable *fdt; };

struct pid_namespace { unsigned int level; };
struct upid { int nr; struct pid_namespace *ns; };
struct pid { unsigned int level; struct upid numbers[1]; };

struct proc_inode { struct pid *pid; struct inode vfs_inode; };

struct rlimit { unsigned long rlim_cur; unsigned long rlim_max; };

struct core_state;
struct signal_struct {
    atomic_t live;
    unsigned int flags;
    int group_exit_code;
    struct core_state *core_state;
    struct rlimit rlim[16];
};

struct mm_struct { unsigned long flags; unsigned long start_stack; };
/* 6.18: mm->flags became a bitmap (mm_flags_t); its first word holds the same bits. */
struct mm_flags_t___618 { unsigned long __mm_flags[1]; };
struct mm_struct___618 { struct mm_flags_t___618 flags; };

struct thread_info { unsigned long flags; };
struct cpumask { unsigned long bits[1]; }; /* the first 64 CPUs */
typedef struct { unsigned int val; } kuid_t;
struct cred { kuid_t uid; kuid_t suid; kuid_t euid; };
struct kernfs_node { u64 id; };
struct cgroup { unsigned long flags; struct kernfs_node *kn; };
struct css_set { struct cgroup *dfl_cgrp; };
struct io_context { unsigned short ioprio; };

struct seccomp_filter { struct seccomp_filter *prev; void *notif; };
struct seccomp { int mode; struct seccomp_filter *filter; };

struct bpf_local_storage;
struct task_struct {
    struct thread_info thread_info;
    unsigned int __state;
    int exit_state;
    int static_prio;
    unsigned int policy;
    struct cpumask cpus_mask;
    u64 self_exec_id;
    struct css_set *cgroups;
    struct io_context *io_context;
    const struct cred *real_cred;
    unsigned int flags;
    unsigned int ptrace;
    pid_t pid;
    pid_t tgid;
    struct task_struct *group_leader;
    struct task_struct *real_parent;
    struct task_struct *parent;
    struct mm_struct *mm;
    struct files_struct *files;
    struct signal_struct *signal;
    struct pid *thread_pid;
    struct seccomp seccomp;
    int exit_code;
    u64 start_boottime;
    char comm[16];
    struct bpf_local_storage *bpf_storage; /* NULL: the task has no task storage at all */
};

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

struct kernel_siginfo { int si_signo; int si_errno; int si_code; };
struct linux_binprm { struct file *file; const char *filename; int unsafe; };
struct pt_regs { unsigned long r10; unsigned long dx; unsigned long orig_ax; };

struct perf_event_attr { u32 type; u64 sample_type; };
struct hw_perf_event { struct task_struct *target; };
struct perf_event { struct perf_event *parent; struct perf_event_attr attr; struct hw_perf_event hw; };

struct btf;
struct bpf_map { struct btf *btf; };
struct bpf_prog_aux { struct btf *btf; };
struct bpf_prog { struct bpf_prog_aux *aux; };

#pragma clang attribute pop

/* Syscall tracepoint contexts (tracefs format, a stable ABI: common fields, nr, args). */
struct ium_sys_enter { u64 common; long nr; unsigned long args[6]; };
struct ium_sys_exit { u64 common; long nr; long ret; };

/* Constants the programs use (include/linux/…, uapi/…); values are the same in 6.1 and 6.12. */
#define PTRACE_MODE_READ 0x01
#define PTRACE_MODE_ATTACH 0x02
#define PTRACE_MODE_NOAUDIT 0x04
#define PTRACE_TRACEME 0
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206
#define SI_TKILL (-6)
#define SIGKILL 9
#define SIGCONT 18
#define EPERM 1
#define ESRCH 3
#define EACCES 13
#define PROC_SUPER_MAGIC 0x9fa0
#define PID_FS_MAGIC 0x50494446
#define BPF_FS_MAGIC 0xcafe4a11
#define SYSFS_MAGIC 0x62656572
#define SIGNAL_GROUP_EXIT 0x00000004
#define PF_EXITING 0x00000004
#define PF_DUMPCORE 0x00000200
#define PF_SIGNALED 0x00000400
#define PF_KTHREAD 0x00200000
#define FMODE_WRITE 0x2
#define MAY_WRITE 0x2
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_SHARED_VALIDATE 0x03
#define VM_SHARED 0x00000008
#define LSM_UNSAFE_PTRACE 2
#define RLIMIT_CORE 4
#define NR_process_madvise 440 /* x86_64 */
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1
#define BPF_F_BPRM_SECUREEXEC 1
#define PERF_SAMPLE_REGS_USER (1ULL << 12)
#define PERF_SAMPLE_STACK_USER (1ULL << 13)
#define PERF_SAMPLE_REGS_INTR (1ULL << 18)
#define PERF_SAMPLE_AUX (1ULL << 20)
/* enum lockdown_reason (include/linux/security.h, identical in 6.1 and 6.12) */
#define LOCKDOWN_DEV_MEM 2
#define LOCKDOWN_KEXEC 4
#define LOCKDOWN_HIBERNATION 5
#define LOCKDOWN_PCI_ACCESS 6
#define LOCKDOWN_IOPORT 7
#define LOCKDOWN_MSR 8
#define LOCKDOWN_ACPI_TABLES 9
#define LOCKDOWN_MODULE_PARAMETERS 13
#define LOCKDOWN_MMIOTRACE 14
#define LOCKDOWN_DEBUGFS 15
#define LOCKDOWN_BPF_WRITE_USER 17
#define LOCKDOWN_DBG_WRITE_KERNEL 18
#define LOCKDOWN_KCORE 22
#define LOCKDOWN_KPROBES 23
#define LOCKDOWN_BPF_READ_KERNEL 24
#define LOCKDOWN_DBG_READ_KERNEL 25
#define LOCKDOWN_PERF 26
#define LOCKDOWN_TRACEFS 27
/* enum kernel_read_file_id / kernel_load_data_id */
#define READING_MODULE 2
#define READING_KEXEC_IMAGE 3
#define READING_KEXEC_INITRAMFS 4

#endif /* IUM_KERNEL_H */
