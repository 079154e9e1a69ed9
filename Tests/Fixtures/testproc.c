/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testproc: a process that puts itself into one state and then waits, for the tests of the
 * Flags analogs and of process objects. It prints one line when the state is reached
 * ("ready", or "pid N" for a child it made), then sleeps until killed.
 *
 *   testproc sleep                 nothing special
 *   testproc nodump                PR_SET_DUMPABLE 0
 *   testproc asuser UID DUMPABLE   setgid/setuid to UID, then PR_SET_DUMPABLE DUMPABLE
 *   testproc setsid                setsid()
 *   testproc sched idle|batch      sched_setscheduler(SCHED_IDLE / SCHED_BATCH)
 *   testproc ioidle                ioprio_set(IOPRIO_CLASS_IDLE)
 *   testproc exit N                exits with N at once (after printing ready)
 *   testproc pidns                 forks a child in a new PID namespace, prints "pid <child>"
 *   testproc settid PID            clone3 with set_tid = PID (reuse a pid), prints "pid <child>"
 *   testproc thread                starts a thread, prints "tid <tid>"
 *   testproc forker                on each SIGUSR1 forks a sleeping child and prints "pid <child>"
 *   testproc wx                    prints "nnp <NoNewPrivs> mdwe <PR_GET_MDWE> wx <allowed|refused>"
 *                                  (wx: whether a writable mapping can be made executable), exits
 *   testproc forks N               forks N children that exit at once, reaps each, prints "forked N"
 *                                  and exits (a burst of guard records)
 *   testproc orphan                forks a sleeping child, prints "pid <child>", and exits on
 *                                  SIGTERM leaving the child to be reparented
 *   testproc probe PID [ADVICE]    runs the caller-view read probe of PID (task_view.h) from this
 *                                  single-threaded process with ADVICE (guard_abi.h; default 20,
 *                                  IUM_PROBE_RECORD), prints "probe passed|refused|gone"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void ready(const char *line) {
    printf("%s\n", line);
    fflush(stdout);
}

static void wait_forever(void) {
    for (;;) pause();
}

static void *thread_main(void *arg) {
    (void)arg;
    char line[64];
    snprintf(line, sizeof line, "tid %ld", (long)syscall(SYS_gettid));
    ready(line);
    wait_forever();
    return NULL;
}

struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size;
};

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "sleep";
    if (!strcmp(mode, "sleep")) {
    } else if (!strcmp(mode, "nodump")) {
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) { perror("prctl"); return 2; }
    } else if (!strcmp(mode, "asuser") && argc > 3) {
        uid_t uid = (uid_t)atoi(argv[2]);
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
        if (prctl(PR_SET_DUMPABLE, atoi(argv[3]), 0, 0, 0)) { perror("prctl"); return 2; }
    } else if (!strcmp(mode, "setsid")) {
        if (setsid() < 0) { perror("setsid"); return 2; }
    } else if (!strcmp(mode, "sched") && argc > 2) {
        struct sched_param p = {0};
        int policy = !strcmp(argv[2], "idle") ? SCHED_IDLE : SCHED_BATCH;
        if (sched_setscheduler(0, policy, &p)) { perror("sched_setscheduler"); return 2; }
    } else if (!strcmp(mode, "ioidle")) {
        if (syscall(SYS_ioprio_set, 1, 0, 3 << 13)) { perror("ioprio_set"); return 2; }
    } else if (!strcmp(mode, "exit") && argc > 2) {
        ready("ready");
        return atoi(argv[2]);
    } else if (!strcmp(mode, "pidns")) {
        if (unshare(CLONE_NEWPID)) { perror("unshare"); return 2; }
        pid_t child = fork();
        if (child == 0) wait_forever();
        char line[64];
        snprintf(line, sizeof line, "pid %d", child);
        ready(line);
        waitpid(child, NULL, 0);
        return 0;
    } else if (!strcmp(mode, "settid") && argc > 2) {
        pid_t want = (pid_t)atoi(argv[2]);
        struct clone_args_v2 args;
        memset(&args, 0, sizeof args);
        args.exit_signal = SIGCHLD;
        args.set_tid = (uint64_t)(uintptr_t)&want;
        args.set_tid_size = 1;
        long child = syscall(SYS_clone3, &args, sizeof args);
        if (child < 0) { perror("clone3"); return 2; }
        if (child == 0) wait_forever();
        char line[64];
        snprintf(line, sizeof line, "pid %ld", child);
        ready(line);
        waitpid((pid_t)child, NULL, 0);
        return 0;
    } else if (!strcmp(mode, "forker")) {
        /* SIGUSR1 stays blocked and is taken with sigwait: a request that arrives before the
         * wait stays pending instead of being lost (a handler plus pause() hung the test
         * whenever the signal came between the two). */
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        sigprocmask(SIG_BLOCK, &usr1, NULL);
        ready("ready");
        for (;;) {
            int sig;
            if (sigwait(&usr1, &sig)) continue;
            pid_t child = fork();
            if (child == 0) wait_forever();
            char line[64];
            snprintf(line, sizeof line, "pid %d", child);
            ready(line);
        }
    } else if (!strcmp(mode, "probe") && argc > 2) {
        int fd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0);
        long r = fd < 0 ? -1 : syscall(SYS_process_madvise, fd, NULL, 0, argc > 3 ? atoi(argv[3]) : 20, 0);
        ready(r == 0 || (r < 0 && errno == EPERM) ? "probe passed" : (fd < 0 || errno == ESRCH) ? "probe gone" : "probe refused");
    } else if (!strcmp(mode, "wx")) {
        long mdwe = prctl(66 /* PR_GET_MDWE */, 0, 0, 0, 0);
        int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int wx = page != MAP_FAILED && mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0;
        printf("nnp %d mdwe %ld wx %s\n", nnp, mdwe < 0 ? 0 : mdwe, wx ? "allowed" : "refused");
        return 0;
    } else if (!strcmp(mode, "forks") && argc > 2) {
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            pid_t child = fork();
            if (child == 0) _exit(0);
            if (child < 0 || waitpid(child, NULL, 0) < 0) { perror("fork"); return 2; }
        }
        printf("forked %d\n", n);
        return 0;
    } else if (!strcmp(mode, "orphan")) {
        pid_t child = fork();
        if (child == 0) wait_forever();
        char line[64];
        snprintf(line, sizeof line, "pid %d", child);
        ready(line);
        wait_forever();
    } else if (!strcmp(mode, "thread")) {
        pthread_t t;
        pthread_create(&t, NULL, thread_main, NULL);
        wait_forever();
    } else {
        fprintf(stderr, "testproc: unknown mode %s\n", mode);
        return 64;
    }
    ready("ready");
    wait_forever();
}
