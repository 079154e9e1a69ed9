/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caller_view: for every process this user's /proc shows, compares what iumd answers through
 * libium with what the kernel itself shows this user (issue: iumd must never tell a caller
 * what the kernel would hide from it).
 *
 *   caller_view [--uid N] [--shared-files BACKEND]
 *       --uid N                 run as uid N (root only), then compare
 *       --shared-files BACKEND  with a second thread (the file table shared): under the kill
 *                               backend the guard records no read probe from a shared table (a
 *                               thread could swap the pidfd under the kernel's lookup), so iumd
 *                               must show no field that check guards for another process: the
 *                               expected view is the kernel's without them. Under lsm the
 *                               kernel's own check is seen: the kernel's view, as without it.
 *
 * Per process, read from /proc before and after the NT calls (a process that changed or
 * exited in between is skipped and counted):
 *   class 0 (64)   PebBaseAddress = /proc/P/stat field 28 (start_stack, 0 when hidden);
 *                  UniqueProcessId; ExitStatus STATUS_PENDING; IsWow64Process = the ELF class
 *                  of /proc/P/exe when this user may open it, else 0
 *   class 26       0, or the start_stack of a readable 32-bit image
 *   class 27, 43   the readlink of /proc/P/exe when this user may read it, else "[comm]"
 *   class 24       the session, field 6
 *   class 60       the arguments of /proc/P/cmdline, space-joined (as libium quotes them)
 *   class 4        CreateTime = the start time (field 22) after boot, as a FILETIME
 *   class 7, 31    debugged = TracerPid of /proc/P/status (when the handle has QUERY_INFORMATION)
 *   class 29, 75   init of its PID namespace / another PID namespace (NSpid of status)
 *   class 61       0 (Linux has no protected-process signers)
 * Prints one line per mismatch and "compared N processes as uid U (S skipped): F mismatches".
 * Exit 0 when nothing differs.
 */
#define _GNU_SOURCE
#include "ntddk.h"
#include "proc_text.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct view {
    char state;
    unsigned long long start_stack;
    unsigned long long start_ticks;
    long session;
    long tracer;
    int nspid_count, nspid_last;
    char comm[64];
    char exe[4096]; /* "" when unreadable */
    int elf32;      /* -1 unknown */
    char *cmdline; /* the whole command line, arguments joined by spaces (malloc'd) */
};

/* The kernel's view of process pid for this user; 0, or -1 when the process is gone. */
static int kernel_view(pid_t pid, struct view *v) {
    char path[64], stat[4096];
    memset(v, 0, sizeof *v);
    v->elf32 = -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_text(path, stat, sizeof stat) <= 0) return -1;
    char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
    if (!open_paren || !close_paren) return -1;
    snprintf(v->comm, sizeof v->comm, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    /* Fields after ") ": 3 state, 4 ppid, 5 pgrp, 6 session, … 28 startstack. */
    char *p = close_paren + 2;
    v->state = *p;
    for (int field = 3; field <= 28 && p; field++) {
        if (field == 6) v->session = strtol(p, NULL, 10);
        if (field == 22) v->start_ticks = strtoull(p, NULL, 10);
        if (field == 28) v->start_stack = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
        if (p) p++;
    }
    char status[8192];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (read_text(path, status, sizeof status) <= 0) return -1;
    char *line = strstr(status, "TracerPid:");
    v->tracer = line ? strtol(line + 10, NULL, 10) : 0;
    line = strstr(status, "NSpid:");
    if (line) {
        char *q = line + 6, *end;
        for (;;) {
            long n = strtol(q, &end, 10);
            if (end == q) break;
            v->nspid_count++;
            v->nspid_last = (int)n;
            q = end;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, v->exe, sizeof v->exe - 1);
    v->exe[n > 0 ? n : 0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        unsigned char ident[5];
        if (pread(fd, ident, 5, 0) == 5 && !memcmp(ident, "\177ELF", 4)) v->elf32 = ident[4] == 1;
        close(fd);
    }
    /* The whole command line, however long (CI agents have ones of many kilobytes). */
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    size_t len = 0, size = 4096;
    v->cmdline = malloc(size);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got;
        while ((got = read(fd, v->cmdline + len, size - len - 1)) > 0) {
            len += (size_t)got;
            if (len + 1 == size) v->cmdline = realloc(v->cmdline, size *= 2);
        }
        close(fd);
    }
    if (len > 0 && v->cmdline[len - 1] == 0) len--;
    for (size_t i = 0; i < len; i++)
        if (v->cmdline[i] == 0) v->cmdline[i] = ' ';
    v->cmdline[len] = 0;
    return 0;
}

static void free_view(struct view *v) {
    free(v->cmdline);
    v->cmdline = NULL;
}

static int same(const struct view *a, const struct view *b) {
    return a->start_stack == b->start_stack && a->tracer == b->tracer && a->session == b->session && !strcmp(a->comm, b->comm) &&
           !strcmp(a->exe, b->exe) && a->elf32 == b->elf32 && !strcmp(a->cmdline, b->cmdline);
}

/* UNICODE_STRING + text as UTF-8 (ASCII is enough for these comparisons). */
static void unicode_text(const unsigned char *buf, char *out, size_t size) {
    const UNICODE_STRING *s = (const UNICODE_STRING *)buf;
    size_t n = s->Length / 2, i;
    for (i = 0; i < n && i + 1 < size; i++) out[i] = (char)s->Buffer[i];
    out[i] = 0;
}

static int failures;
static long long boot_filetime; /* the FILETIME of boot */
static int public_only;         /* expect no field the read check guards of another process */

static void mismatch(pid_t pid, const char *what, const char *got, const char *want) {
    printf("FAIL pid %d %s: iumd %s, kernel %s\n", pid, what, got, want);
    failures++;
}

/* Compares one process; 1 compared, 0 skipped (it changed or went away). */
static int compare_views(pid_t pid, struct view *before, struct view *after);
static int compare(pid_t pid) {
    struct view before = {0}, after = {0};
    int result = compare_views(pid, &before, &after);
    free_view(&before);
    free_view(&after);
    return result;
}

static int compare_views(pid_t pid, struct view *before, struct view *after) {
    /* Zombies and dead tasks have no address space: nothing to compare but their exit. */
    if (kernel_view(pid, before) != 0 || before->state == 'Z' || before->state == 'X') return 0;

    HANDLE h = NULL;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    CLIENT_ID cid = {(HANDLE)(uintptr_t)pid, NULL};
    /* The most the caller may get: QUERY_INFORMATION for the owner and root. */
    int full = NT_SUCCESS(NtOpenProcess(&h, PROCESS_QUERY_INFORMATION, &oa, &cid));
    if (!full && !NT_SUCCESS(NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid))) return 0;
    PROCESS_EXTENDED_BASIC_INFORMATION info;
    ULONG_PTR wow64 = 0;
    static unsigned char image[8192], image32[8192];
    ULONG session = 0;
    NTSTATUS s0 = NtQueryInformationProcess(h, ProcessBasicInformation, &info, sizeof info, NULL);
    NTSTATUS s26 = NtQueryInformationProcess(h, ProcessWow64Information, &wow64, sizeof wow64, NULL);
    NTSTATUS s27 = NtQueryInformationProcess(h, ProcessImageFileName, image, sizeof image, NULL);
    NTSTATUS s43 = NtQueryInformationProcess(h, ProcessImageFileNameWin32, image32, sizeof image32, NULL);
    NTSTATUS s24 = NtQueryInformationProcess(h, ProcessSessionInformation, &session, sizeof session, NULL);
    /* The command line the WDK way: ask with a small buffer, then with the ReturnLength given. */
    static unsigned char *cmdline;
    static ULONG cmdline_size;
    if (!cmdline) cmdline = malloc(cmdline_size = 256);
    ULONG need = 0;
    NTSTATUS s60 = NtQueryInformationProcess(h, ProcessCommandLineInformation, cmdline, 256, &need);
    if (s60 == STATUS_INFO_LENGTH_MISMATCH && need > 256) {
        if (need > cmdline_size) cmdline = realloc(cmdline, cmdline_size = need);
        s60 = NtQueryInformationProcess(h, ProcessCommandLineInformation, cmdline, need, NULL);
    }
    KERNEL_USER_TIMES times;
    ULONG_PTR debug_port = 0;
    ULONG debug_flags = 0, critical = 0, subsystem = 0;
    PS_PROTECTION protection = {0};
    NTSTATUS s4 = NtQueryInformationProcess(h, ProcessTimes, &times, sizeof times, NULL);
    NTSTATUS s7 = NtQueryInformationProcess(h, ProcessDebugPort, &debug_port, sizeof debug_port, NULL);
    NTSTATUS s31 = NtQueryInformationProcess(h, ProcessDebugFlags, &debug_flags, sizeof debug_flags, NULL);
    NTSTATUS s29 = NtQueryInformationProcess(h, ProcessBreakOnTermination, &critical, sizeof critical, NULL);
    NTSTATUS s61 = NtQueryInformationProcess(h, ProcessProtectionInformation, &protection, sizeof protection, NULL);
    NTSTATUS s75 = NtQueryInformationProcess(h, ProcessSubsystemInformation, &subsystem, sizeof subsystem, NULL);
    NtClose(h);

    if (kernel_view(pid, after) != 0 || !same(before, after)) return 0;
    if (public_only && pid != getpid()) {
        after->start_stack = 0;
        after->exe[0] = 0;
        after->elf32 = -1;
    }
    /* Classes 7, 29 and 31 need QUERY_INFORMATION: the NT rule, not the kernel's view. */
    NTSTATUS want_full = full ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
    if (!NT_SUCCESS(s0) || !NT_SUCCESS(s26) || !NT_SUCCESS(s27) || !NT_SUCCESS(s43) || !NT_SUCCESS(s24) ||
        !NT_SUCCESS(s60) || !NT_SUCCESS(s4) || !NT_SUCCESS(s61) || !NT_SUCCESS(s75) || s7 != want_full ||
        s31 != want_full || s29 != want_full) {
        char got[200];
        snprintf(got, sizeof got, "0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X 0x%08X",
                 (unsigned)s0, (unsigned)s26, (unsigned)s27, (unsigned)s43, (unsigned)s24, (unsigned)s60, (unsigned)s4,
                 (unsigned)s7, (unsigned)s29, (unsigned)s31, (unsigned)s61, (unsigned)s75);
        mismatch(pid, "statuses", got, full ? "all success" : "success, ACCESS_DENIED for 7, 29, 31");
        return 1;
    }
    char got[4200], want[4200];
    if ((unsigned long long)(uintptr_t)info.BasicInfo.PebBaseAddress != after->start_stack) {
        snprintf(got, sizeof got, "0x%llx", (unsigned long long)(uintptr_t)info.BasicInfo.PebBaseAddress);
        snprintf(want, sizeof want, "0x%llx", after->start_stack);
        mismatch(pid, "PebBaseAddress", got, want);
    }
    if (info.BasicInfo.UniqueProcessId != (ULONG_PTR)pid) mismatch(pid, "UniqueProcessId", "other", "the pid");
    if (info.BasicInfo.ExitStatus != STATUS_PENDING) mismatch(pid, "ExitStatus", "not STATUS_PENDING", "running");
    int want32 = after->elf32 == 1;
    if ((int)info.IsWow64Process != want32) mismatch(pid, "IsWow64Process", info.IsWow64Process ? "1" : "0", want32 ? "1" : "0");
    unsigned long long want26 = want32 ? (after->start_stack ? after->start_stack : 1) : 0;
    if (wow64 != want26) {
        snprintf(got, sizeof got, "0x%llx", (unsigned long long)wow64);
        snprintf(want, sizeof want, "0x%llx", want26);
        mismatch(pid, "class 26", got, want);
    }
    if (after->exe[0]) snprintf(want, sizeof want, "%s", after->exe);
    else snprintf(want, sizeof want, "[%s]", after->comm);
    unicode_text(image, got, sizeof got);
    if (strcmp(got, want)) mismatch(pid, "class 27", got, want);
    unicode_text(image32, got, sizeof got);
    if (strcmp(got, want)) mismatch(pid, "class 43", got, want);
    if ((long)session != after->session) mismatch(pid, "class 24", "another session", "the session");
    size_t text_size = strlen(after->cmdline) + 4096;
    char *text = malloc(text_size);
    unicode_text(cmdline, text, text_size);
    /* libium quotes arguments with spaces; compare only unquoted command lines. */
    if (!strchr(text, '"') && strcmp(text, after->cmdline)) mismatch(pid, "class 60", text, after->cmdline);
    free(text);
    /* CreateTime: FILETIME of boot + start ticks; one tick of slack for the boot-time rounding. */
    long long ticks = sysconf(_SC_CLK_TCK);
    long long since_boot = (times.CreateTime.QuadPart - boot_filetime) * ticks / 10000000;
    if (since_boot - (long long)after->start_ticks > 1 || (long long)after->start_ticks - since_boot > 1) {
        snprintf(got, sizeof got, "%lld ticks after boot", since_boot);
        snprintf(want, sizeof want, "%llu", after->start_ticks);
        mismatch(pid, "class 4 CreateTime", got, want);
    }
    if (full && (debug_port != 0) != (after->tracer != 0)) mismatch(pid, "class 7", debug_port ? "debugged" : "not", after->tracer ? "traced" : "not");
    if (full && (debug_flags == 0) != (after->tracer != 0)) mismatch(pid, "class 31", debug_flags ? "1" : "0", after->tracer ? "0" : "1");
    if (full && (critical != 0) != (after->nspid_last == 1)) mismatch(pid, "class 29", critical ? "1" : "0", after->nspid_last == 1 ? "1" : "0");
    if (protection.Level != 0) mismatch(pid, "class 61", "a signer level", "0");
    if ((subsystem != 0) != (after->nspid_count > 1)) mismatch(pid, "class 75", subsystem ? "WSL" : "Win32", after->nspid_count > 1 ? "WSL" : "Win32");
    return 1;
}

static void *idle_thread(void *fd) {
    char byte;
    while (read((int)(intptr_t)fd, &byte, 1) < 0) {}
    return NULL;
}

int main(int argc, char **argv) {
    const char *shared_backend = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--uid")) {
            uid_t uid = (uid_t)atoi(argv[i + 1]);
            if (setgid(uid) || setuid(uid)) {
                perror("setuid");
                return 2;
            }
        } else if (!strcmp(argv[i], "--shared-files")) {
            shared_backend = argv[i + 1];
        } else {
            fprintf(stderr, "usage: caller_view [--uid N] [--shared-files kill|lsm]\n");
            return 2;
        }
    }
    if (shared_backend) {
        int p[2];
        pthread_t thread;
        if (pipe(p) != 0 || pthread_create(&thread, NULL, idle_thread, (void *)(intptr_t)p[0]) != 0) {
            perror("thread");
            return 2;
        }
        public_only = !strcmp(shared_backend, "kill");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec real, boot;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    long long boot_ns = (real.tv_sec - boot.tv_sec) * 1000000000LL + real.tv_nsec - boot.tv_nsec;
    boot_filetime = 116444736000000000LL + boot_ns / 100;
    DIR *dir = opendir("/proc");
    if (!dir) return 2;
    int compared = 0, skipped = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (compare(pid)) compared++;
        else skipped++;
    }
    closedir(dir);
    printf("compared %d processes as uid %u%s (%d skipped: gone or changed): %d mismatches\n", compared,
           (unsigned)getuid(), shared_backend ? (public_only ? " from a shared file table (public view)" : " from a shared file table") : "",
           skipped, failures);
    return failures ? 1 : 0;
}
