/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nt_rules: every rule of NtOpenProcess / NtQueryInformationProcess / NtClose that a caller
 * can observe, checked through libium against a running iumd (docs/NT-SEMANTICS.md §3 and §5).
 *   nt_rules              run the rules as the current user; prints "N passed, N failed"
 *   nt_rules access PID   print the status of class 0, of class 7 (QUERY_INFORMATION) and of
 *                         opening PID with PROCESS_VM_READ
 *   nt_rules hold PID     open PID, print "ready", wait for a line on stdin, then print the
 *                         status of a query with that handle and with a new one ("old S new S");
 *                         meanwhile four threads query the handle without pause, so an iumd
 *                         that goes away meets them inside the in-client query
 * --uid N before the mode runs it as uid N.
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;
#define CHECK(name, cond)                                                   \
    do {                                                                    \
        if (cond) passed++;                                                 \
        else { failed++; printf("FAIL %s (line %d)\n", name, __LINE__); }  \
    } while (0)

static HANDLE open_pid(pid_t pid, ACCESS_MASK access, NTSTATUS *status) {
    OBJECT_ATTRIBUTES oa;
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)pid, NULL};
    HANDLE h = (HANDLE)(ULONG_PTR)0x5555;
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    *status = NtOpenProcess(&h, access, &oa, &cid);
    return h;
}

static void *hammer(void *arg) {
    (void)arg;
    long ok = 0;
    for (int i = 0; i < 200; i++) {
        PROCESS_EXTENDED_BASIC_INFORMATION info;
        if (NtQueryInformationProcess(NtCurrentProcess(), ProcessBasicInformation, &info, sizeof info, NULL) == STATUS_SUCCESS &&
            info.BasicInfo.UniqueProcessId == (ULONG_PTR)getpid())
            ok++;
    }
    return (void *)ok;
}

/* Asks iumd (a class never answered in the client) until *stop: the library's lock is held for
 * most of each round trip. */
static void *ask_iumd(void *stop) {
    char image[512];
    ULONG ret;
    while (!__atomic_load_n((int *)stop, __ATOMIC_RELAXED))
        NtQueryInformationProcess(NtCurrentProcess(), ProcessImageFileName, image, sizeof image, &ret);
    return NULL;
}

static int access_mode(pid_t pid) {
    NTSTATUS s;
    HANDLE h = open_pid(pid, MAXIMUM_ALLOWED, &s);
    if (!NT_SUCCESS(s)) { printf("open 0x%08X\n", (unsigned)s); return 1; }
    PROCESS_BASIC_INFORMATION pbi;
    ULONG_PTR port;
    NTSTATUS c0 = NtQueryInformationProcess(h, ProcessBasicInformation, &pbi, sizeof pbi, NULL);
    NTSTATUS c7 = NtQueryInformationProcess(h, ProcessDebugPort, &port, sizeof port, NULL);
    NTSTATUS vm;
    HANDLE v = open_pid(pid, PROCESS_VM_READ, &vm);
    if (NT_SUCCESS(vm)) NtClose(v);
    printf("class0 0x%08X class7 0x%08X vmread 0x%08X\n", (unsigned)c0, (unsigned)c7, (unsigned)vm);
    NtClose(h);
    return 0;
}

static int hold_stop;
static void *hold_querying(void *handle) {
    PROCESS_BASIC_INFORMATION pbi;
    while (!__atomic_load_n(&hold_stop, __ATOMIC_RELAXED))
        if (NtQueryInformationProcess(handle, ProcessBasicInformation, &pbi, sizeof pbi, NULL) != STATUS_SUCCESS) usleep(1000);
    return NULL;
}

static int hold_mode(pid_t pid) {
    NTSTATUS s;
    HANDLE old = open_pid(pid, PROCESS_QUERY_LIMITED_INFORMATION, &s);
    if (!NT_SUCCESS(s)) { printf("open 0x%08X\n", (unsigned)s); return 1; }
    pthread_t querying[4];
    for (int i = 0; i < 4; i++) pthread_create(&querying[i], NULL, hold_querying, old);
    printf("ready\n");
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
    __atomic_store_n(&hold_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 4; i++) pthread_join(querying[i], NULL);
    PROCESS_BASIC_INFORMATION pbi;
    NTSTATUS before = NtQueryInformationProcess(old, ProcessBasicInformation, &pbi, sizeof pbi, NULL);
    HANDLE fresh = open_pid(pid, PROCESS_QUERY_LIMITED_INFORMATION, &s);
    NTSTATUS after = NT_SUCCESS(s) ? NtQueryInformationProcess(fresh, ProcessBasicInformation, &pbi, sizeof pbi, NULL) : s;
    printf("old 0x%08X new 0x%08X\n", (unsigned)before, (unsigned)after);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && !strcmp(argv[1], "--uid")) {
        uid_t uid = (uid_t)atoi(argv[2]);
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
        argv += 2;
        argc -= 2;
    }
    if (argc > 2 && !strcmp(argv[1], "access")) return access_mode(atoi(argv[2]));
    if (argc > 2 && !strcmp(argv[1], "hold")) return hold_mode(atoi(argv[2]));

    PROCESS_BASIC_INFORMATION pbi;
    PROCESS_EXTENDED_BASIC_INFORMATION pebi;
    ULONG ret;
    NTSTATUS s;
    HANDLE self = NtCurrentProcess();

    /* §3 step 1: class. */
    ret = 0xdeadbeef;
    CHECK("unknown class", NtQueryInformationProcess(self, (PROCESSINFOCLASS)0xFFFF, &pbi, sizeof pbi, &ret) == STATUS_INVALID_INFO_CLASS && ret == 0xdeadbeef);
    CHECK("class -1, NULL handle and buffer, length 0", NtQueryInformationProcess(NULL, (PROCESSINFOCLASS)-1, NULL, 0, NULL) == STATUS_INVALID_INFO_CLASS);
    /* Step 2: length. */
    ULONG lengths[] = {0, 1, 40, 47, 49, 56, 63, 65, 72, 4096};
    char big[4096];
    for (unsigned i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        ret = 0xdeadbeef;
        memset(big, 0x5A, sizeof big);
        s = NtQueryInformationProcess(self, ProcessBasicInformation, big, lengths[i], &ret);
        CHECK("wrong length: LENGTH_MISMATCH, nothing written", s == STATUS_INFO_LENGTH_MISMATCH && ret == 0xdeadbeef && big[0] == 0x5A);
    }
    CHECK("NULL handle, NULL buffer, length 0", NtQueryInformationProcess(NULL, ProcessBasicInformation, NULL, 0, NULL) == STATUS_INFO_LENGTH_MISMATCH);
    CHECK("bad handle, length 47", NtQueryInformationProcess((HANDLE)0x1234, ProcessBasicInformation, &pbi, 47, NULL) == STATUS_INFO_LENGTH_MISMATCH);
    /* Step 3: pointers. */
    char *raw = aligned_alloc(64, 256);
    CHECK("buffer misaligned by 1", NtQueryInformationProcess(self, ProcessBasicInformation, raw + 1, 48, NULL) == STATUS_DATATYPE_MISALIGNMENT);
    CHECK("buffer misaligned by 2", NtQueryInformationProcess(self, ProcessBasicInformation, raw + 2, 48, NULL) == STATUS_DATATYPE_MISALIGNMENT);
    CHECK("buffer 4-aligned only", NtQueryInformationProcess(self, ProcessBasicInformation, raw + 4, 48, NULL) == STATUS_SUCCESS);
    CHECK("NULL buffer, length 48", NtQueryInformationProcess(self, ProcessBasicInformation, NULL, 48, NULL) == STATUS_ACCESS_VIOLATION);
    CHECK("NULL buffer and NULL handle", NtQueryInformationProcess(NULL, ProcessBasicInformation, NULL, 48, NULL) == STATUS_ACCESS_VIOLATION);
    long page = sysconf(_SC_PAGESIZE);
    char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("read-only buffer: ACCESS_VIOLATION, no crash", NtQueryInformationProcess(self, ProcessBasicInformation, ro, 48, NULL) == STATUS_ACCESS_VIOLATION);
    CHECK("no-access buffer: ACCESS_VIOLATION, no crash", NtQueryInformationProcess(self, ProcessBasicInformation, none, 48, NULL) == STATUS_ACCESS_VIOLATION);
    char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(two + page, page, PROT_READ);
    CHECK("buffer running into a read-only page", NtQueryInformationProcess(self, ProcessBasicInformation, two + page - 24, 48, NULL) == STATUS_ACCESS_VIOLATION);
    CHECK("unwritable ReturnLength", NtQueryInformationProcess(self, ProcessBasicInformation, &pbi, sizeof pbi, (PULONG)ro) == STATUS_ACCESS_VIOLATION);
    CHECK("misaligned ReturnLength", NtQueryInformationProcess(self, ProcessBasicInformation, &pbi, sizeof pbi, (PULONG)(raw + 129)) == STATUS_DATATYPE_MISALIGNMENT);
    /* Step 4: handles. */
    ret = 0;
    CHECK("unknown handle: INVALID_HANDLE, ReturnLength 48", NtQueryInformationProcess((HANDLE)0x1234, ProcessBasicInformation, &pbi, sizeof pbi, &ret) == STATUS_INVALID_HANDLE && ret == 48);
    CHECK("NULL handle", NtQueryInformationProcess(NULL, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_INVALID_HANDLE);
    CHECK("NULL handle, length 64", NtQueryInformationProcess(NULL, ProcessBasicInformation, &pebi, sizeof pebi, NULL) == STATUS_INVALID_HANDLE);
    CHECK("NtCurrentThread: OBJECT_TYPE_MISMATCH", NtQueryInformationProcess(NtCurrentThread(), ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_OBJECT_TYPE_MISMATCH);
    /* Step 5: access. */
    HANDLE sync = open_pid(getpid(), SYNCHRONIZE, &s);
    CHECK("open self with SYNCHRONIZE", s == STATUS_SUCCESS);
    CHECK("SYNCHRONIZE only: ACCESS_DENIED", NtQueryInformationProcess(sync, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_ACCESS_DENIED);
    HANDLE qli = open_pid(getpid(), PROCESS_QUERY_LIMITED_INFORMATION, &s);
    CHECK("QLI is enough", NtQueryInformationProcess(qli, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_SUCCESS);
    /* Step 6-7: fill. */
    ret = 0;
    CHECK("PBI: success and ReturnLength 48", NtQueryInformationProcess(self, ProcessBasicInformation, &pbi, sizeof pbi, &ret) == STATUS_SUCCESS && ret == 48);
    CHECK("PBI: our pid, STATUS_PENDING, our parent", pbi.UniqueProcessId == (ULONG_PTR)getpid() && pbi.ExitStatus == STATUS_PENDING &&
          pbi.InheritedFromUniqueProcessId == (ULONG_PTR)getppid());
    pebi.Size = 0xdeadbeef;
    ret = 0;
    CHECK("PEBI: success, ReturnLength 64", NtQueryInformationProcess(qli, ProcessBasicInformation, &pebi, sizeof pebi, &ret) == STATUS_SUCCESS && ret == 64);
    CHECK("PEBI: Size written as 64", pebi.Size == 64);
    CHECK("PEBI: SpareBits zero", pebi.SpareBits == 0);
    /* Exited processes. */
    pid_t child = fork();
    if (child == 0) { pause(); _exit(0); }
    HANDLE ch = open_pid(child, PROCESS_QUERY_LIMITED_INFORMATION, &s);
    CHECK("open a child", s == STATUS_SUCCESS);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* Before Linux 6.15 the status of a reaped process comes from iumd's exit event, drained
     * every 200 ms: allow it that long (and more on a slow VM). */
    for (int i = 0; i < 40; i++) {
        s = NtQueryInformationProcess(ch, ProcessBasicInformation, &pebi, sizeof pebi, NULL);
        if (s != STATUS_SUCCESS || pebi.BasicInfo.ExitStatus == 128 + SIGKILL) break;
        usleep(50000);
    }
    CHECK("an exited child still answers: exit status and IsProcessDeleting",
          s == STATUS_SUCCESS && pebi.IsProcessDeleting && pebi.BasicInfo.ExitStatus == 128 + SIGKILL &&
          pebi.BasicInfo.UniqueProcessId == (ULONG_PTR)child);
    /* §5 NtOpenProcess. */
    open_pid(0, PROCESS_QUERY_LIMITED_INFORMATION, &s);
    CHECK("pid 0: INVALID_CID", s == STATUS_INVALID_CID);
    open_pid(0x7FFFFFF8, PROCESS_QUERY_LIMITED_INFORMATION, &s);
    CHECK("unknown pid: INVALID_CID", s == STATUS_INVALID_CID);
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING name = {0, 0, NULL};
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)getpid(), NULL};
    HANDLE h;
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    CHECK("neither ClientId nor name: PARAMETER_MIX", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, NULL) == STATUS_INVALID_PARAMETER_MIX);
    InitializeObjectAttributes(&oa, &name, 0, NULL, NULL);
    CHECK("both ClientId and name: PARAMETER_MIX", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid) == STATUS_INVALID_PARAMETER_MIX);
    InitializeObjectAttributes(&oa, NULL, 0, NULL, NULL);
    cid.UniqueThread = (HANDLE)(ULONG_PTR)syscall(SYS_gettid);
    CHECK("our own thread id", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid) == STATUS_SUCCESS && NtClose(h) == STATUS_SUCCESS);
    cid.UniqueThread = (HANDLE)(ULONG_PTR)0x7FFFFFF0;
    CHECK("a bogus thread id: INVALID_CID", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid) == STATUS_INVALID_CID);
    cid.UniqueThread = NULL;
    CHECK("ObjectAttributes NULL: ACCESS_VIOLATION", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, NULL, &cid) == STATUS_ACCESS_VIOLATION);
    CHECK("ProcessHandle unwritable: ACCESS_VIOLATION", NtOpenProcess((PHANDLE)ro, PROCESS_QUERY_LIMITED_INFORMATION, &oa, &cid) == STATUS_ACCESS_VIOLATION);
    CHECK("ClientId unreadable: ACCESS_VIOLATION", NtOpenProcess(&h, PROCESS_QUERY_LIMITED_INFORMATION, &oa, (PCLIENT_ID)none) == STATUS_ACCESS_VIOLATION);
    /* NtClose. */
    CHECK("close a handle", NtClose(qli) == STATUS_SUCCESS);
    CHECK("close it again: INVALID_HANDLE", NtClose(qli) == STATUS_INVALID_HANDLE);
    CHECK("close NULL: INVALID_HANDLE", NtClose(NULL) == STATUS_INVALID_HANDLE);
    CHECK("close NtCurrentProcess: SUCCESS, no effect", NtClose(NtCurrentProcess()) == STATUS_SUCCESS &&
          NtQueryInformationProcess(self, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_SUCCESS);
    CHECK("a closed handle no longer answers", NtQueryInformationProcess(qli, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_INVALID_HANDLE);
    /* NT ignores a handle's two low (tag) bits: h | 1, h | 2 and h | 3 are h. */
    HANDLE tagged = open_pid(getpid(), PROCESS_QUERY_LIMITED_INFORMATION, &s);
    CHECK("tag bits: a query through h | 3 answers as h",
          NtQueryInformationProcess((HANDLE)((ULONG_PTR)tagged | 3), ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_SUCCESS &&
          pbi.UniqueProcessId == (ULONG_PTR)getpid());
    CHECK("tag bits: closing h | 1 closes h", NtClose((HANDLE)((ULONG_PTR)tagged | 1)) == STATUS_SUCCESS && NtClose(tagged) == STATUS_INVALID_HANDLE &&
          NtQueryInformationProcess(tagged, ProcessBasicInformation, &pbi, sizeof pbi, NULL) == STATUS_INVALID_HANDLE);
    /* Other classes. */
    char image[512];
    ret = 0;
    CHECK("image name: too small gives the length needed", NtQueryInformationProcess(self, ProcessImageFileName, image, 16, &ret) == STATUS_INFO_LENGTH_MISMATCH && ret > 16);
    CHECK("image name: Buffer points into our buffer", NtQueryInformationProcess(self, ProcessImageFileName, image, sizeof image, &ret) == STATUS_SUCCESS &&
          ((UNICODE_STRING *)image)->Buffer == (PWSTR)(image + sizeof(UNICODE_STRING)));
    HANDLE dbg;
    CHECK("debug object: PORT_NOT_SET when not debugged", NtQueryInformationProcess(self, ProcessDebugObjectHandle, &dbg, sizeof dbg, NULL) == STATUS_PORT_NOT_SET && dbg == NULL);
    /* Thread safety and fork. */
    pthread_t threads[4];
    long total = 0;
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++) { void *r; pthread_join(threads[i], &r); total += (long)r; }
    CHECK("4 threads x 200 queries at once", total == 800);
    child = fork();
    if (child == 0) {
        PROCESS_BASIC_INFORMATION mine;
        NTSTATUS cs = NtQueryInformationProcess(NtCurrentProcess(), ProcessBasicInformation, &mine, sizeof mine, NULL);
        _exit(cs == STATUS_SUCCESS && mine.UniqueProcessId == (ULONG_PTR)getpid() ? 0 : 1);
    }
    int st;
    waitpid(child, &st, 0);
    CHECK("after fork the child is NtCurrentProcess in the child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* A fork while another thread waits for iumd's answer (holding the library's lock): the
     * child's calls work (a child that hangs is killed by its alarm). */
    int stop = 0, forks = 0, bad = 0;
    pthread_t asker;
    pthread_create(&asker, NULL, ask_iumd, &stop);
    for (; forks < 50 && !bad; forks++) {
        usleep(2000);
        child = fork();
        if (child == 0) {
            alarm(5);
            PROCESS_BASIC_INFORMATION mine;
            _exit(NtClose(NULL) == STATUS_INVALID_HANDLE &&
                  NtQueryInformationProcess(NtCurrentProcess(), ProcessImageFileName, image, sizeof image, &ret) == STATUS_SUCCESS &&
                  NtQueryInformationProcess(NtCurrentProcess(), ProcessBasicInformation, &mine, sizeof mine, NULL) == STATUS_SUCCESS
                  ? 0 : 1);
        }
        waitpid(child, &st, 0);
        bad = !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(asker, NULL);
    CHECK("50 forks while another thread waits for iumd: each child's calls answer", !bad);

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
