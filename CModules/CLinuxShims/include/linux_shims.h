/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Raw Linux calls Swift cannot make directly: `syscall(2)` is variadic, and some calls
 * (pidfd_open, ioprio_get, PIDFD_GET_INFO) have no glibc 2.36 wrapper. Each returns what the
 * system call returns, with errno set on failure. Symbols are prefixed `ium_`.
 */
#ifndef IUM_LINUX_SHIMS_H
#define IUM_LINUX_SHIMS_H

#include <stdint.h>
#include <sys/types.h>

/* pidfd_open(2): a file descriptor that refers to the process `pid`. */
int ium_pidfd_open(pid_t pid, unsigned int flags);

/* ioprio_get(IOPRIO_WHO_PROCESS, pid): the I/O priority (class << 13 | data). */
int ium_ioprio_get_process(pid_t pid);

/* ioprio_set(IOPRIO_WHO_PROCESS, pid, ioprio). */
int ium_ioprio_set_process(pid_t pid, int ioprio);

/* prctl(PR_SET_DUMPABLE, value). */
int ium_set_dumpable(int value);

/* The exit status the kernel keeps for a pidfd's process after it was reaped
 * (PIDFD_GET_INFO with PIDFD_INFO_EXIT, Linux 6.15+): 0 and the raw wait status in *status,
 * or -1 with errno (ENOTTY/EINVAL on older kernels, ESRCH while it runs). */
int ium_pidfd_exit_status(int pidfd, int *status);

/* Whether a pidfd's process has exited (poll says readable): 1, 0, or -1 with errno. */
int ium_pidfd_exited(int pidfd);

/* statfs(2) f_type of a path (the file system's magic), 0 on failure. */
unsigned long ium_fs_magic(const char *path);

#endif
