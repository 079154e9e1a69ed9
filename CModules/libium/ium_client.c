/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * libium: NtOpenProcess, NtQueryInformationProcess and NtClose (and their Zw names) for
 * WDK-style C code, served by iumd over /run/ium/iumd.sock ($IUM_SOCKET overrides it).
 *
 * - Thread-safe: one connection per process, used under a mutex; it connects on first use,
 *   again after fork (the child must not speak with its parent's identity), and once more
 *   when iumd restarted (handles of the old connection are gone: STATUS_INVALID_HANDLE).
 * - Every failure is an NTSTATUS. When iumd cannot be reached the calls return
 *   STATUS_DEVICE_NOT_READY (0xC00000A3).
 * - The caller's view: iumd returns the fields the kernel guards with the ptrace read check
 *   (PebBaseAddress, the image, its bitness, a non-child's exit code) only to a caller that
 *   passes that check. Before NtOpenProcess and before a query of those classes, the library
 *   runs the check itself, on this process's credentials: process_madvise(pidfd, NULL, 0,
 *   MADV_COLD, 0), which changes nothing and fails with EACCES when the check fails; the
 *   request says whether it passed, and iumd believes it only with the guard's record of the
 *   kernel's verdict (docs/PROTOCOL.md).
 * - User space has no SEH: pointers are probed the way ProbeForWrite touches pages, by
 *   copying the caller's bytes onto themselves with process_vm_writev(getpid()), which
 *   reports EFAULT instead of faulting. An unreadable or unwritable pointer gives
 *   STATUS_ACCESS_VIOLATION, never a crash; the results are written the same way.
 *   Alignment is checked by iumd, which gets the addresses.
 *
 * The wire format is docs/PROTOCOL.md (Sources/IUMProtocol is the other side).
 */
#define _GNU_SOURCE
#include "ntddk.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define IUM_MAGIC 0x314D5549u
#define IUM_VERSION 1
#define IUM_MSG_OPEN 1
#define IUM_MSG_QUERY 2
#define IUM_MSG_CLOSE 3
#define IUM_MSG_ERROR 0xFFFF
#define IUM_MAX_FRAME 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int conn = -1;
static pid_t conn_pid;
static uint32_t next_id = 1;

/* The process each open handle of this connection names (handle values are multiples of 4,
 * at most 4,096 per connection), for the read probe before a query. */
#define IUM_MAX_HANDLES 4096
static pid_t handle_pids[IUM_MAX_HANDLES + 1];

/* ---- The caller's view ----------------------------------------------------------------- */

/* Runs the kernel's ptrace read check (PTRACE_MODE_READ_FSCREDS) of this process on `pid`:
 * 1 when it passes (0, or EPERM for a missing CAP_SYS_NICE, which is checked after it). */
static int read_probe(pid_t pid) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return 0;
    long r = syscall(SYS_process_madvise, fd, NULL, 0, MADV_COLD, 0);
    int passed = r == 0 || errno == EPERM;
    close(fd);
    return passed;
}

static int class_needs_probe(PROCESSINFOCLASS c) {
    return c == ProcessBasicInformation || c == ProcessWow64Information || c == ProcessImageFileName ||
           c == ProcessImageFileNameWin32;
}

static pid_t pid_of_handle(HANDLE h) {
    uintptr_t index = (uintptr_t)h >> 2;
    if (index == 0 || index > IUM_MAX_HANDLES) return 0;
    pthread_mutex_lock(&lock);
    pid_t pid = conn_pid == getpid() ? handle_pids[index] : 0;
    pthread_mutex_unlock(&lock);
    return pid;
}

static void remember_handle(HANDLE h, pid_t pid) {
    uintptr_t index = (uintptr_t)h >> 2;
    if (index == 0 || index > IUM_MAX_HANDLES) return;
    pthread_mutex_lock(&lock);
    handle_pids[index] = pid;
    pthread_mutex_unlock(&lock);
}

/* ---- Pointer probes ------------------------------------------------------------------ */

/* Copies len bytes from src to dst in this process without faulting: 0, or -1 (EFAULT). */
static int safe_copy(void *dst, const void *src, size_t len) {
    if (len == 0) return 0;
    struct iovec local = {(void *)src, len};
    struct iovec remote = {dst, len};
    ssize_t n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

/* Whether len bytes at p can be read and written (ProbeForWrite). */
static int writable(void *p, size_t len) {
    return p != NULL && safe_copy(p, p, len) == 0;
}

/* Reads a caller structure without faulting. */
static int readable_into(void *dst, const void *src, size_t len) {
    return src != NULL && safe_copy(dst, src, len) == 0;
}

/* ---- Connection ---------------------------------------------------------------------- */

static const char *socket_path(void) {
    const char *env = getenv("IUM_SOCKET");
    return env && *env ? env : "/run/ium/iumd.sock";
}

static int connect_locked(void) {
    if (conn >= 0 && conn_pid == getpid()) return 0;
    if (conn >= 0) close(conn); /* inherited across fork: the parent keeps its own */
    conn = -1;
    memset(handle_pids, 0, sizeof handle_pids); /* a new connection has no handles yet */
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const char *path = socket_path();
    if (strlen(path) >= sizeof addr.sun_path) return -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    conn = fd;
    conn_pid = getpid();
    return 0;
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void header(unsigned char *frame, uint16_t type, uint32_t id) {
    uint16_t version = IUM_VERSION;
    put32(frame, IUM_MAGIC);
    memcpy(frame + 4, &version, 2);
    memcpy(frame + 6, &type, 2);
    put32(frame + 8, id);
}

/* Sends a request and receives its reply (reconnecting once if iumd went away).
 * Returns the reply length, or -1 when iumd cannot be reached. Called with the lock held. */
static ssize_t exchange_locked(unsigned char *frame, size_t len, unsigned char *reply) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connect_locked() != 0) return -1;
        uint32_t id = next_id++;
        put32(frame + 8, id);
        if (send(conn, frame, len, MSG_NOSIGNAL) == (ssize_t)len) {
            ssize_t n;
            do { n = recv(conn, reply, IUM_MAX_FRAME, 0); } while (n < 0 && errno == EINTR);
            if (n >= 16 && get32(reply) == IUM_MAGIC && get32(reply + 8) == id) return n;
        }
        close(conn); /* iumd restarted or the reply was garbled: a fresh connection */
        conn = -1;
        conn_pid = 0;
    }
    return -1;
}

static NTSTATUS exchange(unsigned char *frame, size_t len, unsigned char *reply, ssize_t *reply_len) {
    pthread_mutex_lock(&lock);
    ssize_t n = exchange_locked(frame, len, reply);
    pthread_mutex_unlock(&lock);
    if (n < 0) return STATUS_DEVICE_NOT_READY;
    uint16_t type;
    memcpy(&type, reply + 6, 2);
    if (type == IUM_MSG_ERROR) return (NTSTATUS)get32(reply + 12);
    *reply_len = n;
    return STATUS_SUCCESS;
}

/* ---- The calls ----------------------------------------------------------------------- */

NTSTATUS NTAPI NtOpenProcess(PHANDLE ProcessHandle, ACCESS_MASK DesiredAccess,
                             POBJECT_ATTRIBUTES ObjectAttributes, PCLIENT_ID ClientId) {
    OBJECT_ATTRIBUTES oa;
    CLIENT_ID cid;
    HANDLE none = NULL;
    if (!writable(ProcessHandle, sizeof *ProcessHandle)) return STATUS_ACCESS_VIOLATION;
    /* ReactOS reads ObjectAttributes without a NULL check: NULL faults. */
    if (!readable_into(&oa, ObjectAttributes, sizeof oa)) return STATUS_ACCESS_VIOLATION;
    if (ClientId != NULL && !readable_into(&cid, ClientId, sizeof cid)) return STATUS_ACCESS_VIOLATION;

    pid_t pid = ClientId && (uintptr_t)cid.UniqueProcess <= 0x7FFFFFFF ? (pid_t)(uintptr_t)cid.UniqueProcess : 0;
    int probed = pid > 0 && pid != getpid() && read_probe(pid);

    unsigned char frame[36], reply[IUM_MAX_FRAME];
    memset(frame, 0, sizeof frame);
    header(frame, IUM_MSG_OPEN, 0);
    put64(frame + 12, ClientId ? (uint64_t)(uintptr_t)cid.UniqueProcess : 0);
    put64(frame + 20, ClientId ? (uint64_t)(uintptr_t)cid.UniqueThread : 0);
    put32(frame + 28, DesiredAccess);
    put32(frame + 32, (ClientId ? 1u : 0u) | (oa.ObjectName ? 2u : 0u) | (probed ? 4u : 0u));
    ssize_t n = 0;
    NTSTATUS status = exchange(frame, sizeof frame, reply, &n);
    if (!NT_SUCCESS(status)) {
        safe_copy(ProcessHandle, &none, sizeof none);
        return status;
    }
    if (n < 28) return STATUS_DEVICE_NOT_READY;
    /* status u32 at 12, 4 bytes of padding, handle u64 at 20 */
    status = (NTSTATUS)get32(reply + 12);
    HANDLE h = NT_SUCCESS(status) ? (HANDLE)(uintptr_t)get64(reply + 20) : NULL;
    if (h) remember_handle(h, pid);
    if (safe_copy(ProcessHandle, &h, sizeof h) != 0) return STATUS_ACCESS_VIOLATION;
    return status;
}

NTSTATUS NTAPI NtQueryInformationProcess(HANDLE ProcessHandle, PROCESSINFOCLASS ProcessInformationClass,
                                         PVOID ProcessInformation, ULONG ProcessInformationLength,
                                         PULONG ReturnLength) {
    /* Probe as NT does; iumd decides the order of the checks and the alignment. */
    uint8_t buffer_state = ProcessInformation == NULL ? 0
        : (ProcessInformationLength == 0 || writable(ProcessInformation, ProcessInformationLength)) ? 2 : 1;
    uint8_t return_state = ReturnLength == NULL ? 0 : writable(ReturnLength, sizeof *ReturnLength) ? 2 : 1;
    pid_t pid = class_needs_probe(ProcessInformationClass) ? pid_of_handle(ProcessHandle) : 0;
    uint8_t flags = pid > 0 && pid != getpid() && read_probe(pid) ? 1 : 0;

    unsigned char frame[48], reply[IUM_MAX_FRAME];
    memset(frame, 0, sizeof frame);
    header(frame, IUM_MSG_QUERY, 0);
    put64(frame + 12, (uint64_t)(uintptr_t)ProcessHandle);
    put32(frame + 20, (uint32_t)ProcessInformationClass);
    put32(frame + 24, ProcessInformationLength);
    put64(frame + 28, (uint64_t)(uintptr_t)ProcessInformation);
    put64(frame + 36, (uint64_t)(uintptr_t)ReturnLength);
    frame[44] = buffer_state;
    frame[45] = return_state;
    frame[46] = flags;
    ssize_t n = 0;
    NTSTATUS status = exchange(frame, sizeof frame, reply, &n);
    if (status != STATUS_SUCCESS) return status;
    if (n < 28) return STATUS_DEVICE_NOT_READY;
    status = (NTSTATUS)get32(reply + 12);
    ULONG returned = get32(reply + 16);
    int has_return = get32(reply + 20) & 1;
    uint32_t out_len = get32(reply + 24);
    if (out_len > (uint32_t)(n - 28) || out_len > ProcessInformationLength) return STATUS_DEVICE_NOT_READY;
    if (out_len && safe_copy(ProcessInformation, reply + 28, out_len) != 0) return STATUS_ACCESS_VIOLATION;
    if (has_return && ReturnLength && safe_copy(ReturnLength, &returned, sizeof returned) != 0)
        return STATUS_ACCESS_VIOLATION;
    return status;
}

NTSTATUS NTAPI NtClose(HANDLE Handle) {
    unsigned char frame[20], reply[IUM_MAX_FRAME];
    remember_handle(Handle, 0);
    header(frame, IUM_MSG_CLOSE, 0);
    put64(frame + 12, (uint64_t)(uintptr_t)Handle);
    ssize_t n = 0;
    NTSTATUS status = exchange(frame, sizeof frame, reply, &n);
    if (!NT_SUCCESS(status)) return status;
    return n >= 16 ? (NTSTATUS)get32(reply + 12) : STATUS_DEVICE_NOT_READY;
}

/* From user mode the Zw names behave exactly as the Nt names. */
NTSTATUS NTAPI ZwOpenProcess(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PCLIENT_ID)
    __attribute__((alias("NtOpenProcess")));
NTSTATUS NTAPI ZwQueryInformationProcess(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG)
    __attribute__((alias("NtQueryInformationProcess")));
NTSTATUS NTAPI ZwClose(HANDLE) __attribute__((alias("NtClose")));
