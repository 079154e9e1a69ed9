/* SPDX-License-Identifier: Apache-2.0 */
/*
 * freshness: NtQueryInformationProcess(ProcessBasicInformation) answered in the client (libium's
 * task view) and by iumd over its socket give what the kernel shows, right after each change
 * to the process completed — many times, under load (issue: the NT query at kernel speed).
 *
 *   freshness ROUNDS IUMD_PID [IUM]     as root (IUMD_PID 0: skip the stopped-iumd check)
 *
 * A target process (uid 65534) is changed at random, one change per round, each complete
 * before the queries start: renice (setpriority), sched_setscheduler (OTHER, BATCH, IDLE,
 * FIFO), ioprio_set (idle / best effort), sched_setaffinity, SIGSTOP/SIGCONT (waited for with
 * waitpid), cgroup v2 freeze/thaw (waited for in cgroup.events), prctl(PR_SET_DUMPABLE) in the
 * target. Then the in-client answer, the socket answer (a helper process with IUM_IN_CLIENT=0)
 * and the kernel's own view (/proc, sched_getaffinity, ioprio_get) must agree on every field.
 * At the end: the in-client query answers while iumd is stopped (SIGSTOP: no round trip), the
 * target is tagged with IUM (IsSecureProcess), and killed: both paths agree on ExitStatus (137,
 * or 0 where the kernel hides a secure zombie's exit code) and IsProcessDeleting.
 * Two busy loops run throughout. Prints FAIL lines and a summary; exit 0 when all agree.
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include "proc_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int checks, failures;

static void fail(int round, const char *what, const char *detail) {
    failures++;
    if (failures <= 20) printf("FAIL round %d: %s: %s\n", round, what, detail);
}

/* ---- The kernel's view (the oracle), read independently of ium ------------------------ */

struct truth {
    int32_t base_priority;
    uint64_t affinity;
    uint64_t start_stack;
    int stopped, frozen, background, protected;
};

static const char *cgroup_dir; /* the target's own cgroup v2, or NULL */

static int cgroup_frozen(void) {
    char path[512], buf[256];
    if (!cgroup_dir) return 0;
    snprintf(path, sizeof path, "%s/cgroup.events", cgroup_dir);
    return read_text(path, buf, sizeof buf) > 0 && strstr(buf, "frozen 1") != NULL;
}

static int truth_of(pid_t pid, struct truth *t) {
    char path[64], statline[2048], status[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_text(path, statline, sizeof statline) <= 0) return -1;
    char *p = strrchr(statline, ')');
    if (!p) return -1;
    p += 2;
    char state = *p;
    long nice = 0;
    unsigned long long start_stack = 0, policy = 0;
    for (int field = 3; field <= 41 && p; field++) {
        if (field == 19) nice = strtol(p, NULL, 10);
        if (field == 28) start_stack = strtoull(p, NULL, 10);
        if (field == 41) policy = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
        if (p) p++;
    }
    /* NT BasePriority: REALTIME 24 for FIFO/RR/DEADLINE, IDLE 4 for SCHED_IDLE, else by nice. */
    t->base_priority = (policy == 1 || policy == 2 || policy == 6) ? 24 : policy == 5 ? 4
        : nice <= -15 ? 13 : nice < 0 ? 10 : nice == 0 ? 8 : nice <= 9 ? 6 : 4;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(pid, sizeof set, &set) != 0) return -1;
    t->affinity = 0;
    for (int cpu = 0; cpu < 64; cpu++)
        if (CPU_ISSET(cpu, &set)) t->affinity |= 1ull << cpu;
    t->start_stack = start_stack;
    t->stopped = state == 'T';
    t->frozen = t->stopped || cgroup_frozen();
    long ioprio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
    t->background = policy == 3 || policy == 5 || (ioprio >= 0 && (ioprio >> 13) == 3);
    /* Not dumpable: /proc/PID/status belongs to root instead of the (non-root) owner. */
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    struct stat st;
    if (read_text(path, status, sizeof status) <= 0 || stat(path, &st) != 0) return -1;
    char *uid = strstr(status, "\nUid:");
    unsigned euid = 0;
    if (uid) sscanf(uid + 5, "%*u %u", &euid);
    t->protected = euid != 0 && st.st_uid != euid;
    return 0;
}

/* ---- The two paths -------------------------------------------------------------------- */

static HANDLE open_handle(pid_t pid) {
    OBJECT_ATTRIBUTES oa;
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)pid, NULL};
    HANDLE h = NULL;
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    NTSTATUS s = NtOpenProcess(&h, PROCESS_QUERY_INFORMATION, &oa, &cid);
    if (s != STATUS_SUCCESS) {
        printf("FAIL NtOpenProcess(%d): 0x%08X\n", pid, (unsigned)s);
        exit(1);
    }
    return h;
}

struct answer {
    NTSTATUS status;
    ULONG returned;
    PROCESS_EXTENDED_BASIC_INFORMATION info;
};

static void query(HANDLE h, struct answer *a) {
    memset(a, 0xA5, sizeof *a);
    a->status = NtQueryInformationProcess(h, ProcessBasicInformation, &a->info, sizeof a->info, &a->returned);
}

/* The socket path: a helper connected with IUM_IN_CLIENT=0 answers "query" requests. */
static int to_helper[2], from_helper[2];

static void helper(pid_t target) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(to_helper[1]); /* so that the parent's close ends the loop */
    close(from_helper[0]);
    HANDLE h = open_handle(target);
    char c;
    while (read(to_helper[0], &c, 1) == 1) {
        struct answer a;
        query(h, &a);
        if (write(from_helper[1], &a, sizeof a) != (ssize_t)sizeof a) break;
    }
    _exit(0);
}

static void socket_query(struct answer *a) {
    char c = 'q';
    if (write(to_helper[1], &c, 1) != 1 || read(from_helper[0], a, sizeof *a) != (ssize_t)sizeof *a) {
        printf("FAIL the socket helper is gone\n");
        exit(1);
    }
}

/* ---- The target ------------------------------------------------------------------------ */

static int to_target[2], from_target[2];

static void target_main(void) {
    if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) _exit(3);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* after the credential change, which clears it */
    prctl(PR_SET_DUMPABLE, 1);        /* a credential change cleared it too */
    char c;
    while (read(to_target[0], &c, 1) == 1) {
        prctl(PR_SET_DUMPABLE, c == '1');
        if (write(from_target[1], &c, 1) != 1) break;
    }
    _exit(0);
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0) { /* checked by the caller's wait */ }
        close(fd);
    }
}

/* A cgroup v2 directory of our own for the target, or NULL (no cgroup v2, no freezer). */
static char cgroup_path[512];
static const char *make_cgroup(pid_t pid) {
    FILE *m = fopen("/proc/self/mounts", "r");
    char line[1024], mnt[400] = "";
    while (m && fgets(line, sizeof line, m)) {
        char dev[200], dir[400], type[64];
        if (sscanf(line, "%199s %399s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2")) {
            strcpy(mnt, dir);
            break;
        }
    }
    if (m) fclose(m);
    if (!mnt[0]) return NULL;
    snprintf(cgroup_path, sizeof cgroup_path, "%s/ium-freshness-%d", mnt, (int)getpid());
    if (mkdir(cgroup_path, 0755) != 0) return NULL;
    char file[600], text[32];
    snprintf(file, sizeof file, "%s/cgroup.freeze", cgroup_path);
    if (access(file, W_OK) != 0) { rmdir(cgroup_path); return NULL; }
    snprintf(file, sizeof file, "%s/cgroup.procs", cgroup_path);
    snprintf(text, sizeof text, "%d", (int)pid);
    write_file(file, text);
    return cgroup_path;
}

static void set_frozen(int frozen) {
    char file[600];
    snprintf(file, sizeof file, "%s/cgroup.freeze", cgroup_dir);
    write_file(file, frozen ? "1" : "0");
    for (int i = 0; i < 5000 && cgroup_frozen() != frozen; i++) usleep(1000);
}

/* ---- Comparison ------------------------------------------------------------------------ */

static void compare(int round, pid_t pid, const struct answer *fast, const struct answer *slow, const struct truth *t,
                    int secure) {
    char detail[300];
    checks++;
    if (memcmp(fast, slow, sizeof *fast) != 0) {
        snprintf(detail, sizeof detail,
                 "in-client status 0x%08X len %lu prio %ld affinity %#lx flags %#x peb %#lx; socket 0x%08X len %lu prio %ld affinity %#lx flags %#x peb %#lx",
                 (unsigned)fast->status, (unsigned long)fast->returned, (long)fast->info.BasicInfo.BasePriority,
                 (unsigned long)fast->info.BasicInfo.AffinityMask, (unsigned)fast->info.Flags,
                 (unsigned long)(uintptr_t)fast->info.BasicInfo.PebBaseAddress, (unsigned)slow->status,
                 (unsigned long)slow->returned, (long)slow->info.BasicInfo.BasePriority,
                 (unsigned long)slow->info.BasicInfo.AffinityMask, (unsigned)slow->info.Flags,
                 (unsigned long)(uintptr_t)slow->info.BasicInfo.PebBaseAddress);
        fail(round, "in-client and socket answers differ", detail);
        return;
    }
    const PROCESS_EXTENDED_BASIC_INFORMATION *i = &fast->info;
    int ok = fast->status == STATUS_SUCCESS && fast->returned == sizeof *i && i->Size == sizeof *i &&
             i->BasicInfo.ExitStatus == STATUS_PENDING && i->BasicInfo.UniqueProcessId == (ULONG_PTR)pid &&
             i->BasicInfo.BasePriority == t->base_priority && i->BasicInfo.AffinityMask == t->affinity &&
             (uintptr_t)i->BasicInfo.PebBaseAddress == t->start_stack && i->IsFrozen == t->frozen &&
             i->IsBackground == t->background && i->IsProtectedProcess == t->protected && !i->IsProcessDeleting &&
             i->IsSecureProcess == secure;
    if (!ok) {
        snprintf(detail, sizeof detail,
                 "status 0x%08X prio %ld/%d affinity %#lx/%#lx peb %#lx/%#llx frozen %d/%d background %d/%d protected %d/%d secure %d/%d",
                 (unsigned)fast->status, (long)i->BasicInfo.BasePriority, t->base_priority,
                 (unsigned long)i->BasicInfo.AffinityMask, (unsigned long)t->affinity,
                 (unsigned long)(uintptr_t)i->BasicInfo.PebBaseAddress, (unsigned long long)t->start_stack, i->IsFrozen,
                 t->frozen, i->IsBackground, t->background, i->IsProtectedProcess, t->protected, i->IsSecureProcess, secure);
        fail(round, "the answer differs from the kernel's view", detail);
    }
}

/* Every child dies with this process, however it ends (a timeout's SIGKILL included): no busy
 * loop may outlive the test. */
static void die_with_parent(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void busy(void) {
    die_with_parent();
    for (volatile unsigned long x = 0;; x++) {}
}

static void (*cleanup_cgroup)(void);
static void remove_cgroup(void) {
    if (cgroup_dir) rmdir(cgroup_dir);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: freshness ROUNDS IUMD_PID [IUM]\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    pid_t iumd = (pid_t)atoi(argv[2]); /* never 0 or negative for kill(): that would be a group */
    const char *ium = argc > 3 ? argv[3] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    srand((unsigned)time(NULL));

    pid_t load[2];
    for (int i = 0; i < 2; i++)
        if ((load[i] = fork()) == 0) busy();

    if (pipe(to_target) || pipe(from_target) || pipe(to_helper) || pipe(from_helper)) return 2;
    pid_t target = fork();
    if (target == 0) target_main();
    char ack;
    cgroup_dir = make_cgroup(target);
    cleanup_cgroup = remove_cgroup;

    pid_t helper_pid = fork();
    if (helper_pid == 0) {
        setenv("IUM_IN_CLIENT", "0", 1);
        helper(target);
    }
    usleep(100000); /* the target has dropped its privileges */
    HANDLE h = open_handle(target);
    /* The in-client path is on: libium mapped its task view table (a BPF map, read-only). */
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int mapped = 0;
    while (maps && fgets(line, sizeof line, maps))
        if (strstr(line, "bpf-map") && strstr(line, " r--s ")) mapped = 1;
    if (maps) fclose(maps);
    checks++;
    if (!mapped) fail(0, "the in-client path", "libium has no task view table mapped (it would ask iumd every time)");

    int stopped = 0, frozen = 0, dumpable = 1, kinds = cgroup_dir ? 7 : 6;
    long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct answer fast, slow;
    struct truth t;
    for (int round = 0; round < rounds; round++) {
        int kind = rand() % kinds;
        switch (kind) {
        case 0: setpriority(PRIO_PROCESS, (id_t)target, rand() % 40 - 20); break;
        case 1: {
            int policies[] = {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO};
            int policy = policies[rand() % 4];
            struct sched_param sp = {.sched_priority = policy == SCHED_FIFO ? 1 : 0};
            sched_setscheduler(target, policy, &sp);
            break;
        }
        case 2: syscall(SYS_ioprio_set, 1, target, (rand() % 2 ? 3 : 2) << 13); break;
        case 3: {
            cpu_set_t set;
            CPU_ZERO(&set);
            int any = 0;
            for (int cpu = 0; cpu < ncpus && cpu < 64; cpu++)
                if (rand() % 2) { CPU_SET(cpu, &set); any = 1; }
            if (!any) CPU_SET(0, &set);
            sched_setaffinity(target, sizeof set, &set);
            break;
        }
        case 4: { /* (a frozen task stops only once thawed: not while frozen) */
            int status;
            if (frozen) break;
            if (!stopped) { kill(target, SIGSTOP); waitpid(target, &status, WUNTRACED); }
            else { kill(target, SIGCONT); waitpid(target, &status, WCONTINUED); }
            stopped = !stopped;
            break;
        }
        case 5:
            if (stopped || frozen) break;
            dumpable = !dumpable;
            ack = dumpable ? '1' : '0';
            if (write(to_target[1], &ack, 1) != 1 || read(from_target[0], &ack, 1) != 1) return 2;
            break;
        case 6:
            if (stopped) break;
            frozen = !frozen;
            set_frozen(frozen);
            break;
        }
        query(h, &fast);
        socket_query(&slow);
        if (truth_of(target, &t) != 0) { fail(round, "the kernel's view", "unreadable"); continue; }
        compare(round, target, &fast, &slow, &t, 0);
    }
    if (frozen) set_frozen(0);
    if (stopped) { int status; kill(target, SIGCONT); waitpid(target, &status, WCONTINUED); }

    /* No round trip: with iumd stopped the in-client query still answers, and freshly (not
     * when IUMD_PID is 0: a sealed iumd takes signals only from PID 1). */
    if (iumd > 0) {
        struct sched_param normal = {.sched_priority = 0};
        sched_setscheduler(target, SCHED_OTHER, &normal);
        kill(iumd, SIGSTOP);
        setpriority(PRIO_PROCESS, (id_t)target, 7);
        alarm(5);
        query(h, &fast);
        alarm(0);
        kill(iumd, SIGCONT);
        checks++;
        if (fast.status != STATUS_SUCCESS || fast.info.BasicInfo.BasePriority != 6) {
            fail(rounds, "the in-client query while iumd is stopped", "no fresh answer");
        }
    }

    int secure = 0;
    if (ium) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "%s tag %d > /dev/null", ium, (int)target);
        secure = system(cmd) == 0;
        if (!secure) fail(rounds, "ium tag", "failed");
        query(h, &fast);
        socket_query(&slow);
        if (truth_of(target, &t) == 0) compare(rounds, target, &fast, &slow, &t, secure);
    }

    /* Exit: both paths give the exit and IsProcessDeleting (asked while it is a zombie, whose
     * exit code every kernel shows; then reaped). */
    kill(target, SIGKILL);
    siginfo_t info;
    waitid(P_PID, (id_t)target, &info, WEXITED | WNOWAIT);
    /* What the kernel shows root of the zombie's exit code (field 52; 0 when the read check
     * fails, as the lsm guard makes it for a secure process): then 137 must show. */
    char path[64], statline[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)target);
    long shown = 0;
    char *last = read_text(path, statline, sizeof statline) > 0 ? strrchr(statline, ' ') : NULL;
    if (last) shown = strtol(last + 1, NULL, 10);
    query(h, &fast);
    socket_query(&slow);
    int status;
    waitpid(target, &status, 0);
    checks++;
    NTSTATUS exit_status = fast.info.BasicInfo.ExitStatus;
    if (fast.status != STATUS_SUCCESS || slow.status != STATUS_SUCCESS || !fast.info.IsProcessDeleting ||
        !slow.info.IsProcessDeleting || exit_status != slow.info.BasicInfo.ExitStatus ||
        (exit_status != 128 + SIGKILL && exit_status != 0) || (shown && exit_status != 128 + SIGKILL)) {
        char detail[200];
        snprintf(detail, sizeof detail, "in-client 0x%08X exit %ld deleting %d; socket 0x%08X exit %ld deleting %d",
                 (unsigned)fast.status, (long)fast.info.BasicInfo.ExitStatus, fast.info.IsProcessDeleting,
                 (unsigned)slow.status, (long)slow.info.BasicInfo.ExitStatus, slow.info.IsProcessDeleting);
        fail(rounds, "after the exit", detail);
    }

    close(to_helper[1]);
    waitpid(helper_pid, &status, 0);
    for (int i = 0; i < 2; i++) { kill(load[i], SIGKILL); waitpid(load[i], &status, 0); }
    cleanup_cgroup();
    printf("%d checks after %d random changes (renice, policy, ioprio, affinity, SIGSTOP/SIGCONT, dumpable%s) under load: %d mismatches\n",
           checks, rounds, cgroup_dir ? ", cgroup freeze" : "", failures);
    return failures ? 1 : 0;
}
