/* SPDX-License-Identifier: Apache-2.0 */
/*
 * victim: a process holding a secret, driven by commands on stdin (one per line):
 *   check     prints "intact" or "CHANGED" (the secret compared with its original)
 *   apc       prints "apc-received" if a SIGUSR2 with a sigqueue payload (SI_QUEUE) arrived
 *   selfread  reads its own /proc/self/mem at the secret: prints "selfread ok" or the errno
 *   spawn     forks a child and starts a thread; prints "child <pid> thread <tid>"
 *   exec      execs itself (a new image; prints a new "victim" line)
 *   traceme   calls ptrace(PTRACE_TRACEME): prints "traceme ok" or "traceme <errno name>"
 * At start it prints: victim pid <pid> tid <second thread> addr <secret address> fd <fd>
 * (fd: an open file, the target of pidfd_getfd). `victim --uid N` runs as uid N, dumpable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char original[] = "IUM-SECRET-0123456789";
static char *secret;
static volatile sig_atomic_t apc_received;

static void on_usr2(int sig, siginfo_t *info, void *ctx) {
    (void)sig; (void)ctx;
    if (info->si_code == SI_QUEUE) apc_received = 1;
}

static void *idle_thread(void *arg) {
    long *tid = arg;
    *tid = syscall(SYS_gettid);
    for (;;) pause();
    return NULL;
}

static long start_thread(void) {
    static long tids[8];
    static int n;
    pthread_t t;
    long *slot = &tids[n++ % 8];
    *slot = 0;
    pthread_create(&t, NULL, idle_thread, slot);
    while (!__atomic_load_n(slot, __ATOMIC_SEQ_CST)) usleep(1000);
    return *slot;
}

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "--uid")) {
        uid_t uid = (uid_t)atoi(argv[2]);
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* so the kernel itself would allow same-uid access */
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    secret = malloc(64);
    strcpy(secret, original);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO | SA_RESTART; /* an APC must not end the command loop */
    sigaction(SIGUSR2, &sa, NULL);
    int fd = open("/proc/version", O_RDONLY);
    printf("victim pid %d tid %ld addr %p fd %d\n", getpid(), start_thread(), (void *)secret, fd);

    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "check", 5)) {
            puts(strcmp(secret, original) ? "CHANGED" : "intact");
        } else if (!strncmp(line, "apc", 3)) {
            puts(apc_received ? "apc-received" : "no-apc");
        } else if (!strncmp(line, "selfread", 8)) {
            char buf[sizeof original];
            int m = open("/proc/self/mem", O_RDONLY);
            ssize_t r = m < 0 ? -1 : pread(m, buf, sizeof buf, (off_t)(unsigned long)secret);
            if (r == (ssize_t)sizeof buf && !memcmp(buf, original, sizeof buf)) puts("selfread ok");
            else printf("selfread failed errno %d\n", errno);
            if (m >= 0) close(m);
        } else if (!strncmp(line, "spawn", 5)) {
            pid_t child = fork();
            if (child == 0) { for (;;) pause(); }
            printf("child %d thread %ld\n", child, start_thread());
        } else if (!strncmp(line, "exec", 4)) {
            execv("/proc/self/exe", argv);
            printf("exec failed errno %d\n", errno);
        } else if (!strncmp(line, "traceme", 7)) {
            long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
            printf("traceme %s\n", r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno));
        }
    }
    return 0;
}
