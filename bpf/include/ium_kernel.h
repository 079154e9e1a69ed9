/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ium_kernel.h — the kernel types and fields the guard uses, and nothing else.
 *
 * Every struct is declared with preserve_access_index: libbpf relocates each field access
 * against the running kernel's BTF (CO-RE), so the object does not depend on the build
 * machine's kernel. Only the fields listed exist for the programs; their order and the
 * structs' sizes here do not matter.
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

struct super_block { unsigned long s_magic; };
struct inode { struct super_block *i_sb; void *i_private; };
struct dentry { struct qstr d_name; };
struct path { void *mnt; struct dentry *dentry; };
struct file {
    struct path f_path;
    struct inode *f_inode;
    void *private_data;
};

struct fdtable { unsigned int max_fds; struct file **fd; };
struct files_struct { struct fdtable *fdt; };

struct pid_namespace { unsigned int level; };
struct upid { int nr; struct pid_namespace *ns; };
struct pid { unsigned int level; struct upid numbers[1]; };

struct proc_inode { struct pid *pid; struct inode vfs_inode; };

struct signal_struct {
    atomic_t live;
    unsigned int flags;
    int group_exit_code;
};

struct mm_struct { unsigned long flags; unsigned long start_stack; };

struct task_struct {
    unsigned int flags;
    pid_t pid;
    pid_t tgid;
    struct task_struct *group_leader;
    struct task_struct *real_parent;
    struct mm_struct *mm;
    struct files_struct *files;
    struct signal_struct *signal;
    struct pid *thread_pid;
    int exit_code;
    u64 start_boottime;
    char comm[16];
};

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

struct kernel_siginfo { int si_signo; int si_errno; int si_code; };
struct pt_regs { unsigned long dx; unsigned long orig_ax; };
struct cred;
struct linux_binprm { const char *filename; };

#pragma clang attribute pop

/* Syscall tracepoint contexts (tracefs format, a stable ABI: common fields, nr, args). */
struct ium_sys_enter { u64 common; long nr; unsigned long args[6]; };
struct ium_sys_exit { u64 common; long nr; long ret; };

/* Constants the programs use (include/linux/ptrace.h, uapi/asm-generic/siginfo.h, …). */
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
#define PROC_SUPER_MAGIC 0x9fa0
#define PID_FS_MAGIC 0x50494446
#define SIGNAL_GROUP_EXIT 0x00000004
#define PF_KTHREAD 0x00200000
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1
#define NR_process_madvise 440 /* x86_64 */
#define EACCES 13
#define ESRCH 3

#endif /* IUM_KERNEL_H */
