/* SPDX-License-Identifier: Apache-2.0 */
/*
 * victim: a process holding a secret, driven by commands on stdin (one per line):
 *   check     prints "intact" or "CHANGED" (the secret compared with its original)
 *   apc       prints "apc-received" if a SIGUSR2 with a sigqueue payload (SI_QUEUE) arrived
 *   selfread  reads its own /proc/self/mem at the secret: prints "selfread ok" or the errno
 *   spawn     forks a child and starts a thread; prints "child <pid> thread <tid>"
 *   exec      execs itself (a new image; prints a new "victim" line)
 *   traceme   calls ptrace(PTRACE_TRACEME): prints "traceme ok" or "traceme <errno name>"
 *   sigio     prints "sigio-received" if a SIGIO-style signal (si_code POLL_*, from F_SETOWN/
 *             F_SETSIG on someone's file) arrived, else "no-sigio"
 *   lib PATH  dlopens PATH (once) and prints "lib <lib_answer()>"
 *   execenv VAR=VALUE  execs itself with VAR=VALUE added to its environment
 *   open PATH reads the first line of PATH: prints "open <line>" or "open <errno name>"
 *   crash     dies of SIGSEGV (a core dump, where the system makes one)
 *   spin      copies the secret onto its stack and runs for about a second (for perf samples
 *             of the user stack); prints "spun"
 * At start it prints: victim pid <pid> tid <second thread> addr <secret address> fd <fd>
 * secure <AT_SECURE> hook <file offset of compare_secret> random <secret2 as inverted hex>
 * (fd: an open file, the target of pidfd_getfd; hook: for a uprobe; random: a second secret
 * of 16 random bytes that exists only in this process's heap — printed bitwise inverted so
 * neither the output nor the test harness holds a copy a memory scan could find).
 * `victim --uid N` runs as uid N, dumpable. `victim --secretmem` keeps both secrets in secret
 * memory (ium_secret.h: memfd_secret pages, out of the kernel's direct map) instead of the heap,
 * and prints "secretmem 1" at the end of its first line (it exits 2 when the kernel has none).
 */
#define _GNU_SOURCE
#include "ium_secret.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char original[] = "IUM-SECRET-0123456789";
static char *secret;
static unsigned char *random_secret;
static volatile sig_atomic_t apc_received, sigio_received;

static void on_usr2(int sig, siginfo_t *info, void *ctx) {
    (void)sig; (void)ctx;
    if (info->si_code == SI_QUEUE) apc_received = 1;
    if (info->si_code > 0 && info->si_code <= POLL_HUP) sigio_received = 1; /* POLL_IN … POLL_HUP */
}

/* The uprobe target of the tests: called with the secret on every "check". */
__attribute__((noinline)) int compare_secret(const char *s) {
    __asm__ volatile("" ::: "memory");
    return strcmp(s, original);
}

/* The file offset of a function of this executable (for a uprobe). */
static long file_offset(void *function) {
    Dl_info info;
    if (!dladdr(function, &info)) return -1;
    unsigned long rel = (unsigned long)function - (unsigned long)info.dli_fbase;
    const ElfW(Ehdr) *eh = info.dli_fbase;
    const ElfW(Phdr) *ph = (const void *)((const char *)eh + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && rel >= ph[i].p_vaddr && rel < ph[i].p_vaddr + ph[i].p_memsz)
            return (long)(rel - ph[i].p_vaddr + ph[i].p_offset);
    return -1;
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
    int secretmem = 0;
    for (int i = 1; i < argc; i++) secretmem |= !strcmp(argv[i], "--secretmem");
    if (secretmem) {
        static ium_secret region;
        int err = ium_secret_alloc(128, IUM_SECRET_SEAL, &region);
        if (err) { printf("victim: %s\n", ium_secret_strerror(err)); return 2; }
        secret = region.data;
        random_secret = (unsigned char *)region.data + 64;
    } else {
        secret = malloc(64);
        random_secret = malloc(16);
    }
    strcpy(secret, original);
    if (getrandom(random_secret, 16, 0) != 16) return 2;
    char inverted[33];
    for (int i = 0; i < 16; i++) snprintf(inverted + 2 * i, 3, "%02x", (unsigned char)~random_secret[i]);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO | SA_RESTART; /* an APC must not end the command loop */
    sigaction(SIGUSR2, &sa, NULL);
    int fd = open("/proc/version", O_RDONLY);
    printf("victim pid %d tid %ld addr %p fd %d secure %lu hook 0x%lx random %s%s\n", getpid(), start_thread(),
           (void *)secret, fd, getauxval(AT_SECURE), file_offset((void *)compare_secret), inverted,
           secretmem ? " secretmem 1" : "");
    void *lib = NULL;

    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "check", 5)) {
            puts(compare_secret(secret) ? "CHANGED" : "intact");
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
        } else if (!strncmp(line, "sigio", 5)) {
            puts(sigio_received ? "sigio-received" : "no-sigio");
        } else if (!strncmp(line, "lib ", 4)) {
            if (!lib) lib = dlopen(line + 4, RTLD_NOW);
            int (*answer)(void) = lib ? (int (*)(void))dlsym(lib, "lib_answer") : NULL;
            if (answer) printf("lib %d\n", answer());
            else printf("lib failed %s\n", dlerror());
        } else if (!strncmp(line, "execenv ", 8)) {
            putenv(line + 8);
            execv("/proc/self/exe", argv);
            printf("exec failed errno %d\n", errno);
        } else if (!strncmp(line, "open ", 5)) {
            int ofd = open(line + 5, O_RDONLY | O_NOFOLLOW); /* flags a supervisor can pick out */
            FILE *f = ofd < 0 ? NULL : fdopen(ofd, "r");
            char text[128] = "";
            if (!f) { printf("open %s\n", strerror(errno)); continue; }
            if (!fgets(text, sizeof text, f)) text[0] = 0;
            fclose(f);
            text[strcspn(text, "\n")] = 0;
            printf("open %s\n", text);
        } else if (!strncmp(line, "spin", 4)) {
            volatile char copy[64];
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            int rounds = 0;
            do {
                for (size_t i = 0; i < sizeof original; i++) copy[i] = secret[i];
                rounds += compare_secret((const char *)copy) == 0;
                clock_gettime(CLOCK_MONOTONIC, &t);
            } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000000000L);
            printf("spun %d\n", rounds > 0);
        } else if (!strncmp(line, "crash", 5)) {
            raise(SIGSEGV);
        } else if (!strncmp(line, "traceme", 7)) {
            long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
            printf("traceme %s\n", r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno));
        }
    }
    return 0;
}
