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
#include <sys/wait.h>

/* A wait status as the shell reports it: the exit code, or 128 + the signal that ended it. */
static inline int ium_exit_code(int wait_status) {
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

/* pidfd_open(2): a file descriptor that refers to the process `pid`. */
int ium_pidfd_open(pid_t pid, unsigned int flags);

/* The calling thread's id (asked of the kernel once per thread; right in a fork's child). */
pid_t ium_gettid(void);

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

/* SO_PEERCRED of a connected Unix socket: 0, or -1 with errno. */
int ium_peer_cred(int fd, int *pid, unsigned int *uid, unsigned int *gid);

/* A SOCK_SEQPACKET Unix socket: listening on `path` (mode 0666), or connected to it.
 * Returns the fd, or -1 with errno. */
int ium_seqpacket_listen(const char *path, int backlog);
int ium_seqpacket_connect(const char *path);

/* One frame with one file descriptor attached (SCM_RIGHTS): the bytes sent, or -1. */
ssize_t ium_send_with_fd(int sock, const void *buf, size_t len, int fd);
/* Receives one frame and at most one attached file descriptor (*fd: it, or -1). */
ssize_t ium_recv_with_fd(int sock, void *buf, size_t len, int *fd);

/* accept4(fd, NULL, NULL, SOCK_CLOEXEC). */
int ium_accept(int fd);

/* Starts a detached thread running fn(arg). 0, or an errno value. */
int ium_thread_start(void *(*fn)(void *), void *arg);

/* prlimit(pid, RLIMIT_CORE, {1, 1}): no file core (below the kernel's one-page minimum) and
 * no core_pattern pipe (do_coredump aborts a pipe core at exactly 1, its recursion guard). */
int ium_limit_core_dumps(pid_t pid);

/* ium_spawn_secure's options. */
#define IUM_SPAWN_NO_NEW_PRIVS 1u /* prctl(PR_SET_NO_NEW_PRIVS): no set-id or file-capability gain */
#define IUM_SPAWN_MDWE 2u         /* prctl(PR_SET_MDWE, REFUSE_EXEC_GAIN): no writable-then-executable memory (6.3+) */

/* `ium run`: forks; the child connects to the SOCK_SEQPACKET socket, sends `frame` (a tag
 * request for itself), and on STATUS_SUCCESS (struct ium_wire_status_reply) sets RLIMIT_CORE
 * to 1, applies `options` and execvpe(argv[0], argv, envp). It exits 126 when the tag is
 * refused (after printing the reply's message) or an option cannot be applied (saying which
 * and why), and 127 when the exec fails. Returns the child's pid or -1. */
pid_t ium_spawn_secure(const char *socket_path, const unsigned char *frame, size_t frame_len,
                       char *const argv[], char *const envp[], unsigned int options);

/* statfs(2) f_type of a path (the file system's magic), 0 on failure. */
unsigned long ium_fs_magic(const char *path);

#endif
