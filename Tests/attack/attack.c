/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack: one technique to read or write another process's memory, or to reach into it.
 *   attack [--uid N] MODE ARGS…
 *     attach PID ADDR | seize PID ADDR    ptrace, then PEEKDATA the secret (ADDR 0: attach only)
 *     vmread PID ADDR | vmwrite PID ADDR  process_vm_readv / process_vm_writev
 *     mem PATH ADDR                       open(PATH) (a /proc/…/mem path in any form), read + write
 *     memdirfd PID ADDR                   openat(open("/proc/PID"), "mem")
 *     iouring PATH ADDR                   IORING_OP_OPENAT + IORING_OP_READ of PATH
 *     getfd PID FD                        pidfd_getfd
 *     sigqueue PID                        sigqueue(SIGUSR2) with a payload (an "APC")
 * Exit status: 0 the attack worked, 1 it was refused with EPERM/EACCES, 2 another failure.
 * (A caller killed by the kill backend exits with 137 as seen by the shell.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char payload[] = "PWNED";

static int refused(const char *what, int err) {
    printf("%s: %s\n", what, strerror(err));
    return err == EPERM || err == EACCES ? 1 : 2;
}

static int worked(const char *what) {
    printf("%s: worked\n", what);
    return 0;
}

static int via_ptrace(pid_t pid, unsigned long addr, int seize) {
    long r = seize ? ptrace(PTRACE_SEIZE, pid, 0, 0) : ptrace(PTRACE_ATTACH, pid, 0, 0);
    if (r != 0) return refused(seize ? "PTRACE_SEIZE" : "PTRACE_ATTACH", errno);
    if (seize) ptrace(PTRACE_INTERRUPT, pid, 0, 0);
    waitpid(pid, NULL, __WALL);
    if (!addr) {
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return worked("ptrace attach");
    }
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, 0);
    int ok = errno == 0;
    ptrace(PTRACE_DETACH, pid, 0, 0);
    (void)word;
    return ok ? worked("ptrace peek") : refused("PTRACE_PEEKDATA", errno);
}

static int via_vm(pid_t pid, unsigned long addr, int write) {
    char buf[sizeof payload];
    struct iovec local = {write ? (void *)payload : buf, sizeof payload};
    struct iovec remote = {(void *)addr, sizeof payload};
    ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) : process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return refused(write ? "process_vm_writev" : "process_vm_readv", errno);
    return worked(write ? "process_vm_writev" : "process_vm_readv");
}

static int via_fd(int fd, const char *what, unsigned long addr) {
    if (fd < 0) return refused(what, errno);
    char buf[8];
    if (pread(fd, buf, sizeof buf, (off_t)addr) < 0) return refused("pread", errno);
    close(fd);
    return worked(what);
}

static int via_iouring(const char *path, unsigned long addr) {
    struct io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) < 0) return 2;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY, 0);
    io_uring_submit(&ring);
    struct io_uring_cqe *cqe;
    io_uring_wait_cqe(&ring, &cqe);
    int fd = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (fd < 0) return refused("io_uring openat", -fd);
    char buf[8];
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buf, sizeof buf, addr);
    io_uring_submit(&ring);
    io_uring_wait_cqe(&ring, &cqe);
    int n = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    io_uring_queue_exit(&ring);
    return n < 0 ? refused("io_uring read", -n) : worked("io_uring openat+read");
}

int main(int argc, char **argv) {
    int a = 1;
    if (argc > 3 && !strcmp(argv[1], "--uid")) {
        uid_t uid = (uid_t)atoi(argv[2]);
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
        a = 3;
    }
    if (argc - a < 2) { fprintf(stderr, "usage: attack [--uid N] MODE ARGS\n"); return 64; }
    const char *mode = argv[a];
    const char *x = argv[a + 1];
    unsigned long addr = argc - a > 2 ? strtoul(argv[a + 2], NULL, 0) : 0;
    pid_t pid = (pid_t)atoi(x);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "attach")) return via_ptrace(pid, addr, 0);
    if (!strcmp(mode, "seize")) return via_ptrace(pid, addr, 1);
    if (!strcmp(mode, "vmread")) return via_vm(pid, addr, 0);
    if (!strcmp(mode, "vmwrite")) return via_vm(pid, addr, 1);
    if (!strcmp(mode, "mem")) return via_fd(open(x, O_RDONLY), x, addr);
    if (!strcmp(mode, "memdirfd")) {
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d", pid);
        int d = open(dir, O_RDONLY | O_DIRECTORY);
        return via_fd(d < 0 ? -1 : openat(d, "mem", O_RDONLY), "openat(/proc/PID, mem)", addr);
    }
    if (!strcmp(mode, "iouring")) return via_iouring(x, addr);
    if (!strcmp(mode, "getfd")) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) return refused("pidfd_open", errno);
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)addr, 0);
        return fd < 0 ? refused("pidfd_getfd", errno) : worked("pidfd_getfd");
    }
    if (!strcmp(mode, "sigqueue")) {
        union sigval v = {.sival_int = 42};
        return sigqueue(pid, SIGUSR2, v) ? refused("sigqueue", errno) : worked("sigqueue");
    }
    fprintf(stderr, "attack: unknown mode %s\n", mode);
    return 64;
}
