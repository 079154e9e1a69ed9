/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench: the measurements behind `make bench`. Each mode prints one JSON object; the latency
 * modes (query, cycle, echo, proc) also give the CPU time per operation of this thread and,
 * with BENCH_SERVER_PID set, of the server's threads (their schedstat).
 *
 *   bench query N [PID]           NtQueryInformationProcess(PEBI) x N via libium on one handle to PID
 *                                 (default: itself); IUM_IN_CLIENT=0 sends every query to iumd
 *   bench cycle N PID             open + query + close of PID x N (the WDK sample's path)
 *   bench echo-server PATH        a minimal SOCK_SEQPACKET echo server (the baseline)
 *   bench echo PATH N             64-byte round trips to it x N
 *   bench wire-floor-server PATH  a server of ium's wire format that does only the syscalls iumd
 *                                 cannot answer a query without (the query's floor; IUM_SOCKET=PATH)
 *   bench proc PID N              read and parse /proc/PID/stat and status for the same facts x N
 *   bench throughput CLIENTS SEC  CLIENTS processes doing open+query+close for SEC seconds
 *   bench getpid N                mean ns per getpid()
 *   bench probe PID N             mean ns per read probe of PID (process_madvise through a pidfd,
 *                                 guard_abi.h: view-only and recording) and per
 *                                 sched_getscheduler(PID): the syscalls under the in-client query
 *                                 (this process is no client of iumd: no view is written)
 *   bench forkexec N              mean us per fork + exec /bin/true + wait
 *   bench rw4k N                  mean ns per 4 KiB pwrite + pread of an unrelated file (/tmp)
 *   bench bpfcall N               mean ns per bpf(BPF_MAP_LOOKUP_ELEM) on an array map of its own
 *   bench storm RATE SEC          fork short-lived children at RATE per second for SEC seconds
 *   bench many N                  N sleeping children; prints "ready"; SIGTERM kills them and it
 *   bench tag SOCKET PIDFILE      tag every pid listed in PIDFILE through iumd; prints ms
 *   bench floor OBJECT N          attach each of OBJECT's programs (floor.bpf.o) alone, fork N children that
 *                                 exec /bin/true (the forkexec workload), print each program's ns per run
 *                                 (bpf_stats must be on)
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include <ium_wire.h>
#include <sched.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* This thread's CPU time: with the server's (run.sh reads its schedstat), where a same-CPU
 * round trip's time goes, far steadier than latency on a noisy machine. */
static uint64_t cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The CPU time the threads of process $BENCH_SERVER_PID (iumd, the echo server) have run, from
 * their schedstat, in ns; 0 without it. Read while connected: a connection's thread is alive. */
static uint64_t server_cpu_ns(void) {
    const char *pid = getenv("BENCH_SERVER_PID");
    char path[320];
    if (!pid) return 0;
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    uint64_t sum = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%s/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long run = 0;
        if (f && fscanf(f, "%llu", &run) == 1) sum += run;
        if (f) fclose(f);
    }
    closedir(d);
    return sum;
}

/* CPU time so far: this thread's and the server's. */
struct cpu_mark { uint64_t self, server; };
static struct cpu_mark cpu_mark(void) { return (struct cpu_mark){cpu_ns(), server_cpu_ns()}; }

/* `since`: the cpu_mark() taken just before the measured loop, which has just ended. */
static void report(const char *name, uint64_t *samples, long n, struct cpu_mark since) {
    struct cpu_mark now = cpu_mark();
    qsort(samples, (size_t)n, sizeof *samples, cmp_u64);
    double mean = 0;
    for (long i = 0; i < n; i++) mean += (double)samples[i];
    mean /= (double)n;
    printf("{\"bench\":\"%s\",\"n\":%ld,\"p50_ns\":%llu,\"p99_ns\":%llu,\"mean_ns\":%.0f,\"cpu_ns_per_op\":%.0f,"
           "\"server_cpu_ns_per_op\":%.0f}\n",
           name, n, (unsigned long long)samples[n / 2], (unsigned long long)samples[(n * 99) / 100], mean,
           (double)(now.self - since.self) / (double)n, (double)(now.server - since.server) / (double)n);
}

static int connect_seqpacket(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); exit(2); }
    return fd;
}

static int query_bench(long n, pid_t pid) {
    OBJECT_ATTRIBUTES oa;
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)pid, NULL};
    HANDLE h;
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    NTSTATUS s = NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid);
    if (!NT_SUCCESS(s)) { fprintf(stderr, "open 0x%08X\n", (unsigned)s); return 2; }
    uint64_t *t = malloc(sizeof *t * (size_t)n);
    PROCESS_EXTENDED_BASIC_INFORMATION info;
    for (long i = 0; i < 200; i++) NtQueryInformationProcess(h, ProcessBasicInformation, &info, sizeof info, NULL);
    struct cpu_mark start = cpu_mark();
    for (long i = 0; i < n; i++) {
        uint64_t a = now_ns();
        s = NtQueryInformationProcess(h, ProcessBasicInformation, &info, sizeof info, NULL);
        t[i] = now_ns() - a;
        if (s != STATUS_SUCCESS) { fprintf(stderr, "query 0x%08X\n", (unsigned)s); return 2; }
    }
    report("query", t, n, start);
    return 0;
}

/* open + query + close of PID, one cycle at a time (the WDK sample's path). */
static int cycle_bench(long n, pid_t pid) {
    uint64_t *t = malloc(sizeof *t * (size_t)n);
    struct cpu_mark start = {0, 0};
    for (long i = -200; i < n; i++) {
        if (i == 0) start = cpu_mark();
        OBJECT_ATTRIBUTES oa;
        CLIENT_ID cid = {(HANDLE)(ULONG_PTR)pid, NULL};
        HANDLE h;
        PROCESS_EXTENDED_BASIC_INFORMATION info;
        InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
        uint64_t a = now_ns();
        NTSTATUS s = NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid);
        if (s == STATUS_SUCCESS) s = NtQueryInformationProcess(h, ProcessBasicInformation, &info, sizeof info, NULL);
        NtClose(h);
        if (s != STATUS_SUCCESS) { fprintf(stderr, "cycle 0x%08X\n", (unsigned)s); return 2; }
        if (i >= 0) t[i] = now_ns() - a;
    }
    report("cycle", t, n, start);
    return 0;
}

/* The lifecycle workload: a child that execs /bin/true and exits, waited for. */
static void fork_exec_exit(void) {
    pid_t c = fork();
    if (c == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
    waitpid(c, NULL, 0);
}

static int floor_bench(const char *path, int n) {
    struct bpf_object *o = bpf_object__open_file(path, NULL);
    if (!o || bpf_object__load(o)) { fprintf(stderr, "cannot load %s\n", path); return 2; }
    struct bpf_program *p;
    /* One program at a time: the first program on a tracepoint pays the cache misses the
     * others would then find warm. The children exec, as in forkexec, whose runs measure the
     * guard's programs: an exec leaves the caches far colder than a bare fork and exit (the
     * slot floor measured 141 ns after fork + exit, 178-218 ns after fork + exec, same hour). */
    bpf_object__for_each_program(p, o) {
        struct bpf_link *link = bpf_program__attach(p);
        if (!link) { fprintf(stderr, "cannot attach %s\n", bpf_program__name(p)); return 2; }
        for (int i = 0; i < n; i++) fork_exec_exit();
        bpf_link__destroy(link);
    }
    bpf_object__for_each_program(p, o) {
        struct bpf_prog_info info;
        __u32 len = sizeof info;
        memset(&info, 0, sizeof info);
        if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) || !info.run_cnt) continue;
        printf("{\"bench\":\"floor\",\"name\":\"%s\",\"run_cnt\":%llu,\"ns_per_run\":%.1f}\n", bpf_program__name(p),
               (unsigned long long)info.run_cnt, (double)info.run_time_ns / (double)info.run_cnt);
    }
    return 0;
}

/* A listening SOCK_SEQPACKET socket at PATH (anyone may connect), "ready" printed; exits on failure. */
static int listen_seqpacket(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    unlink(path);
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (bind(l, (struct sockaddr *)&addr, sizeof addr) || listen(l, 16)) { perror("bind"); exit(2); }
    chmod(path, 0666);
    printf("ready\n");
    fflush(stdout);
    return l;
}

static _Noreturn void echo_server(const char *path) {
    int l = listen_seqpacket(path);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        char buf[65536];
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) > 0) send(c, buf, (size_t)n, MSG_NOSIGNAL);
        close(c);
    }
}

/*
 * The query's floor: a server that speaks ium's wire format (ium_wire.h) and does nothing but
 * what iumd's answer cannot do without — receive the frame, make the view syscall iumd makes
 * for it (sched_getscheduler of the handle's process, which the guard's programs see) and send
 * a fixed answer — so that `bench query` through libium against it costs the round trip, the
 * client's read probe and that syscall: what a query through iumd costs before any of iumd's
 * own work. Open answers handle 4 (its process remembered), query 64 zero bytes, close
 * success; a close batch is skipped and the request it leads served; views answers no table.
 */
static _Noreturn void wire_floor_server(const char *path) {
    int l = listen_seqpacket(path);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        static unsigned char buf[IUM_WIRE_MAX_FRAME], out[256];
        pid_t opened = 0;
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) >= (ssize_t)sizeof(struct ium_wire_header)) {
            unsigned char *frame = buf;
            struct ium_wire_header h;
            memcpy(&h, frame, sizeof h);
            if (h.type == IUM_WIRE_CLOSE_BATCH) {
                struct ium_wire_close_batch b;
                size_t skip = sizeof b;
                if (n >= (ssize_t)sizeof b) memcpy(&b, frame, sizeof b), skip += 8 * (size_t)b.count;
                if (n <= (ssize_t)skip) continue;
                frame += skip, n -= (ssize_t)skip;
                memcpy(&h, frame, sizeof h);
            }
            size_t len = 0;
            memset(out, 0, sizeof out);
            if (h.type == IUM_WIRE_OPEN && n >= (ssize_t)sizeof(struct ium_wire_open_request)) {
                struct ium_wire_open_request q;
                memcpy(&q, frame, sizeof q);
                opened = (pid_t)q.pid;
                struct ium_wire_open_reply r = {.header = h, .handle = 4, .granted_access = q.desired_access};
                memcpy(out, &r, len = sizeof r);
            } else if (h.type == IUM_WIRE_QUERY) {
                sched_getscheduler(opened);
                struct ium_wire_query_reply r = {.header = h, .output_length = 64};
                memcpy(out, &r, sizeof r);
                len = sizeof r + 64;
            } else if (h.type == IUM_WIRE_VIEWS) {
                struct ium_wire_views_reply r = {.header = h, .status = 0xC00000BB /* STATUS_NOT_SUPPORTED */};
                memcpy(out, &r, len = sizeof r);
            } else {
                struct ium_wire_status_reply r = {.header = h};
                memcpy(out, &r, len = sizeof r);
            }
            send(c, out, len, MSG_NOSIGNAL);
        }
        close(c);
    }
}

static int echo_bench(const char *path, long n) {
    int fd = connect_seqpacket(path);
    char msg[64] = {1}, buf[64];
    uint64_t *t = malloc(sizeof *t * (size_t)n);
    for (long i = 0; i < 200; i++) { send(fd, msg, 64, 0); recv(fd, buf, 64, 0); }
    struct cpu_mark start = cpu_mark();
    for (long i = 0; i < n; i++) {
        uint64_t a = now_ns();
        send(fd, msg, 64, 0);
        recv(fd, buf, 64, 0);
        t[i] = now_ns() - a;
    }
    report("echo", t, n, start);
    return 0;
}

/* The facts PEBI needs that /proc gives, parsed as a careful C client would. */
static int proc_once(const char *stat_path, const char *status_path, long *sink) {
    char buf[4096];
    int fd = open(stat_path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    long fields[50] = {0};
    int i = 0;
    for (char *tok = strtok(p + 2, " "); tok && i < 50; tok = strtok(NULL, " ")) fields[i++] = atol(tok);
    *sink += fields[1] + fields[3] + fields[16] + fields[19] + fields[25] + fields[38];
    fd = open(status_path, O_RDONLY);
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "TracerPid:", 10) || !strncmp(line, "NSpid:", 6) ||
            !strncmp(line, "Cpus_allowed:", 13))
            *sink += (long)strlen(line);
    }
    return 0;
}

static int proc_bench(int pid, long n) {
    char stat_path[64], status_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
    snprintf(status_path, sizeof status_path, "/proc/%d/status", pid);
    uint64_t *t = malloc(sizeof *t * (size_t)n);
    long sink = 0;
    for (long i = 0; i < 200; i++) proc_once(stat_path, status_path, &sink);
    struct cpu_mark start = cpu_mark();
    for (long i = 0; i < n; i++) {
        uint64_t a = now_ns();
        proc_once(stat_path, status_path, &sink);
        t[i] = now_ns() - a;
    }
    report("proc", t, n, start);
    return sink == 42 ? 1 : 0;
}

static int throughput(int clients, int seconds) {
    int fds[2];
    if (pipe(fds)) return 2;
    for (int c = 0; c < clients; c++) {
        if (fork() == 0) {
            long ops = 0;
            uint64_t end = now_ns() + (uint64_t)seconds * 1000000000ull;
            while (now_ns() < end) {
                OBJECT_ATTRIBUTES oa;
                CLIENT_ID cid = {(HANDLE)(ULONG_PTR)getppid(), NULL};
                HANDLE h;
                PROCESS_EXTENDED_BASIC_INFORMATION info;
                InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
                if (NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid) != STATUS_SUCCESS) _exit(2);
                if (NtQueryInformationProcess(h, ProcessBasicInformation, &info, sizeof info, NULL) != STATUS_SUCCESS) _exit(2);
                NtClose(h);
                ops++;
            }
            (void)!write(fds[1], &ops, sizeof ops);
            _exit(0);
        }
    }
    long total = 0;
    for (int c = 0; c < clients; c++) {
        long ops = 0;
        if (read(fds[0], &ops, sizeof ops) == (ssize_t)sizeof ops) total += ops;
        wait(NULL);
    }
    printf("{\"bench\":\"throughput\",\"clients\":%d,\"ops_per_s\":%.0f}\n", clients, (double)total / seconds);
    return 0;
}

static int getpid_bench(long n) {
    for (long i = 0; i < 10000; i++) syscall(SYS_getpid);
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    printf("{\"bench\":\"getpid\",\"n\":%ld,\"mean_ns\":%.1f}\n", n, (double)(now_ns() - a) / (double)n);
    return 0;
}

static int probe_bench(pid_t pid, long n) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) { perror("pidfd_open"); return 2; }
    const struct { const char *name; long advice; } probes[] = {{"view_only", 21}, {"recording", 20}};
    for (int k = 0; k < 2; k++) {
        for (long i = 0; i < 1000; i++) syscall(SYS_process_madvise, fd, NULL, 0, probes[k].advice, 0);
        uint64_t a = now_ns();
        for (long i = 0; i < n; i++) syscall(SYS_process_madvise, fd, NULL, 0, probes[k].advice, 0);
        printf("{\"bench\":\"probe_%s\",\"n\":%ld,\"mean_ns\":%.1f}\n", probes[k].name, n, (double)(now_ns() - a) / (double)n);
    }
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_sched_getscheduler, pid);
    printf("{\"bench\":\"getscheduler\",\"n\":%ld,\"mean_ns\":%.1f}\n", n, (double)(now_ns() - a) / (double)n);
    close(fd);
    return 0;
}

static int forkexec_bench(long n) {
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) fork_exec_exit();
    printf("{\"bench\":\"forkexec\",\"n\":%ld,\"mean_us\":%.1f}\n", n, (double)(now_ns() - a) / (double)n / 1000.0);
    return 0;
}

static int rw4k_bench(long n) {
    char path[] = "/tmp/ium-bench-rw.XXXXXX", buf[4096];
    int fd = mkstemp(path);
    if (fd < 0) return 2;
    unlink(path);
    memset(buf, 'x', sizeof buf);
    for (long i = 0; i < 1000; i++) { (void)!pwrite(fd, buf, sizeof buf, 0); (void)!pread(fd, buf, sizeof buf, 0); }
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) { (void)!pwrite(fd, buf, sizeof buf, 0); (void)!pread(fd, buf, sizeof buf, 0); }
    printf("{\"bench\":\"rw4k\",\"n\":%ld,\"mean_ns\":%.1f}\n", n, (double)(now_ns() - a) / (double)n);
    return 0;
}

/* A bpf() call every program that uses maps makes: the cost of lsm/bpf (and, sealed, its checks). */
static int bpfcall_bench(long n) {
    union bpf_attr create = {0};
    create.map_type = BPF_MAP_TYPE_ARRAY;
    create.key_size = 4;
    create.value_size = 8;
    create.max_entries = 1;
    int map = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &create, sizeof create);
    if (map < 0) { perror("bpf map create"); return 2; }
    uint32_t key = 0;
    uint64_t value;
    union bpf_attr lookup = {0};
    lookup.map_fd = (uint32_t)map;
    lookup.key = (uint64_t)(uintptr_t)&key;
    lookup.value = (uint64_t)(uintptr_t)&value;
    for (long i = 0; i < 1000; i++) syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &lookup, sizeof lookup);
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &lookup, sizeof lookup);
    printf("{\"bench\":\"bpfcall\",\"n\":%ld,\"mean_ns\":%.1f}\n", n, (double)(now_ns() - a) / (double)n);
    return 0;
}

static int storm(long rate, int seconds) {
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    uint64_t start = now_ns(), period = 1000000000ull / (uint64_t)rate;
    long made = 0;
    for (uint64_t next = start; now_ns() < start + (uint64_t)seconds * 1000000000ull; next += period) {
        while (now_ns() < next) { }
        if (fork() == 0) _exit(0);
        made++;
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    printf("{\"bench\":\"storm\",\"target_rate\":%ld,\"forks\":%ld,\"achieved_rate\":%.0f}\n", rate, made, made / elapsed);
    return 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int many(long n) {
    setpgid(0, 0); /* our own process group: the cleanup below must not reach the caller */
    signal(SIGTERM, on_term);
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) { signal(SIGTERM, SIG_DFL); for (;;) pause(); }
        if (p < 0) { perror("fork"); break; }
    }
    printf("ready\n");
    fflush(stdout);
    while (!stop) pause();
    signal(SIGTERM, SIG_IGN);
    kill(0, SIGTERM);
    while (wait(NULL) > 0) { }
    return 0;
}

static int tag_all(const char *path, const char *pidfile) {
    FILE *f = fopen(pidfile, "r");
    if (!f) { perror(pidfile); return 2; }
    int fd = connect_seqpacket(path);
    unsigned char frame[16], reply[65536];
    long n = 0, ok = 0;
    int pid;
    uint64_t a = now_ns();
    while (fscanf(f, "%d", &pid) == 1) {
        uint32_t magic = 0x314D5549, id = (uint32_t)++n;
        uint16_t version = 1, type = 4;
        memcpy(frame, &magic, 4); memcpy(frame + 4, &version, 2); memcpy(frame + 6, &type, 2);
        memcpy(frame + 8, &id, 4); memcpy(frame + 12, &pid, 4);
        send(fd, frame, 16, 0);
        if (recv(fd, reply, sizeof reply, 0) >= 16 && !memcmp(reply + 12, "\0\0\0\0", 4)) ok++;
    }
    printf("{\"bench\":\"tag\",\"n\":%ld,\"tagged\":%ld,\"ms\":%.0f}\n", n, ok, (double)(now_ns() - a) / 1e6);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: see the comment at the top of bench.c\n"); return 64; }
    const char *m = argv[1];
    if (!strcmp(m, "query") && argc > 2) return query_bench(atol(argv[2]), argc > 3 ? atoi(argv[3]) : getpid());
    if (!strcmp(m, "floor") && argc > 3) return floor_bench(argv[2], atoi(argv[3]));
    if (!strcmp(m, "cycle") && argc > 3) return cycle_bench(atol(argv[2]), atoi(argv[3]));
    if (!strcmp(m, "echo-server") && argc > 2) echo_server(argv[2]);
    if (!strcmp(m, "wire-floor-server") && argc > 2) wire_floor_server(argv[2]);
    if (!strcmp(m, "echo") && argc > 3) return echo_bench(argv[2], atol(argv[3]));
    if (!strcmp(m, "proc") && argc > 3) return proc_bench(atoi(argv[2]), atol(argv[3]));
    if (!strcmp(m, "throughput") && argc > 3) return throughput(atoi(argv[2]), atoi(argv[3]));
    if (!strcmp(m, "getpid") && argc > 2) return getpid_bench(atol(argv[2]));
    if (!strcmp(m, "probe") && argc > 3) return probe_bench(atoi(argv[2]), atol(argv[3]));
    if (!strcmp(m, "forkexec") && argc > 2) return forkexec_bench(atol(argv[2]));
    if (!strcmp(m, "rw4k") && argc > 2) return rw4k_bench(atol(argv[2]));
    if (!strcmp(m, "bpfcall") && argc > 2) return bpfcall_bench(atol(argv[2]));
    if (!strcmp(m, "storm") && argc > 3) return storm(atol(argv[2]), atoi(argv[3]));
    if (!strcmp(m, "many") && argc > 2) return many(atol(argv[2]));
    if (!strcmp(m, "tag") && argc > 3) return tag_all(argv[2], argv[3]);
    fprintf(stderr, "bench: unknown mode %s\n", m);
    return 64;
}
