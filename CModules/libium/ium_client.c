/* SPDX-License-Identifier: Apache-2.0 OR BSD-2-Clause */
/*
 * libium: NtOpenProcess, NtQueryInformationProcess and NtClose (and their Zw names) for
 * WDK-style C code, served by iumd over /run/ium/iumd.sock ($IUM_SOCKET overrides it).
 *
 * - Thread-safe: one connection per process, used under a mutex; it connects on first use,
 *   again after fork (the child must not speak with its parent's identity; a fork while
 *   another thread waits for iumd leaves the child a free lock), and once more when iumd
 *   restarted (handles of the old connection are gone: STATUS_INVALID_HANDLE, except to a
 *   close this library answers itself, below).
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
 *   STATUS_ACCESS_VIOLATION, never a crash; the results are written the same way. Pointers
 *   into the live part of the calling thread's stack (above its stack pointer: mapped and
 *   writable for sure) need no probe and are read and written directly.
 *   Alignment is checked by iumd, which gets the addresses.
 *
 * - Class 0 without a round trip: after the first NtOpenProcess the library asks iumd for this
 *   process's task view table (task_view.h) and maps it read-only. A query of
 *   ProcessBasicInformation (48 or 64 bytes, valid pointers) on a handle it holds is then
 *   answered here from what the kernel writes into the table during the read probe or
 *   sched_getscheduler — the same mapping iumd uses, so the bytes, status and ReturnLength
 *   are the socket path's. Anything else (another class, a bad length or pointer, an exited
 *   process, a process that exec'd, changed cgroup or user ids since the open, no guard) goes
 *   to iumd, which keeps the caller's last view of it (what an exited process shows the caller).
 * - NtClose of a handle this connection opened (from an iumd whose views reply says it reads a
 *   close batch leading a request) answers STATUS_SUCCESS at once; iumd frees it when the next
 *   request goes out (a close batch at the head of the same message, never answered): open +
 *   query + close is one round trip and one receive in iumd. Until then the handle is closed
 *   for this process (the library answers STATUS_INVALID_HANDLE for it and sends it to iumd
 *   first). Handle values are taken without their two tag bits, as NT (and iumd) take them.
 *
 * The wire format is ium_wire.h (docs/PROTOCOL.md; Sources/IUMProtocol is the other side).
 */
#define _GNU_SOURCE
#include "ntddk.h"
#include "task_view.h"
#include "ium_wire.h"

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


static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t self_pid(void);
static int conn = -1;
static pid_t conn_pid;
static uint32_t next_id = 1;

/* What this connection knows of each process handle it opened (handle values are multiples
 * of 4, at most 4,096 per connection): the process, a pidfd of it for the read probe (-1 when
 * none could be kept), and the open reply's facts for the in-client query. */
#define IUM_MAX_HANDLES 4096
struct handle_entry {
    pid_t pid; /* 0: not a handle of this connection */
    int pidfd;
    uint32_t granted;
    uint32_t table_flags;
    uint64_t creator_pid;
    uint64_t start_ticks;
    uint64_t exec_id;
    uint64_t cgroup_id;
    uint32_t uids[3];
};
static struct handle_entry handles[IUM_MAX_HANDLES + 1];

/* pidfds of handles closed here, kept for the next open of the same process id (a loop of
 * open + query + close on one process opens none): used only after a read probe through it
 * passes or is refused, which says its process still runs (ESRCH: gone, a new pidfd then). */
#define IUM_SPARE_PIDFDS 8
static struct { pid_t pid; int fd; } spare_pidfds[IUM_SPARE_PIDFDS];
static unsigned spare_next;

/* Handles closed here and not yet told to iumd (sent with the next request). */
static uint64_t pending_closes[IUM_WIRE_CLOSE_BATCH_MAX];
static uint32_t pending_count;

/* The task view table of this process (NULL: none; asked once per connection), and whether
 * iumd reads a close batch leading a request in one message (its views reply says so).
 * Another thread may be reading the table without the lock (the in-client query), so the
 * range it is mapped at is never unmapped: a new connection maps zeros over it (a record of
 * zeros answers nothing, and the query asks iumd), the next table goes at the same address. */
static const volatile struct ium_view *view_table;
static void *view_range;
#define IUM_VIEW_TABLE_SIZE (IUM_VIEW_RECORDS * sizeof(struct ium_view))
static int views_asked;
static int batch_closes;
/* Bumped by every new connection: an open whose reply came on an earlier one records nothing. */
static unsigned connection_generation;

/* ---- The caller's view ----------------------------------------------------------------- */

static int class_needs_probe(PROCESSINFOCLASS c) {
    return c == ProcessBasicInformation || c == ProcessWow64Information || c == ProcessImageFileName ||
           c == ProcessImageFileNameWin32;
}

/* The entry index of a handle value: NT ignores its two low (tag) bits; 0 for none. */
static uintptr_t handle_index(HANDLE h) {
    uintptr_t index = (uintptr_t)h >> 2;
    return index <= IUM_MAX_HANDLES ? index : 0;
}

/* The entry of a handle of this connection (a copy), or 0 when it is not one. */
static int handle_of(HANDLE h, struct handle_entry *out) {
    uintptr_t index = handle_index(h);
    if (index == 0) return 0;
    pthread_mutex_lock(&lock);
    int known = conn_pid == self_pid() && handles[index].pid != 0;
    if (known) *out = handles[index];
    pthread_mutex_unlock(&lock);
    return known;
}

/* Forgets every handle (a new connection has none); closes their pidfds. Lock held. */
static void forget_handles_locked(void) {
    for (size_t i = 1; i <= IUM_MAX_HANDLES; i++) {
        if (handles[i].pid != 0 && handles[i].pidfd >= 0) close(handles[i].pidfd);
        handles[i].pid = 0;
    }
}

/* Keeps the pidfd of a closed handle (closing the oldest spare). Lock held. */
static void keep_spare_pidfd_locked(pid_t pid, int fd) {
    unsigned i = spare_next++ % IUM_SPARE_PIDFDS;
    if (spare_pidfds[i].pid != 0) close(spare_pidfds[i].fd);
    spare_pidfds[i].pid = pid;
    spare_pidfds[i].fd = fd;
}

/* A spare pidfd kept for process id `pid` (the caller owns it now), or -1. */
static int take_spare_pidfd(pid_t pid) {
    int fd = -1;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < IUM_SPARE_PIDFDS && fd < 0; i++) {
        if (spare_pidfds[i].pid != pid) continue;
        fd = spare_pidfds[i].fd;
        spare_pidfds[i].pid = 0;
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

/* ---- This thread ------------------------------------------------------------------- */

/* The process and thread ids, cached per thread (getpid and gettid are syscalls); a forked
 * child forgets them. */
static __thread pid_t my_pid, my_tid;
static __thread uintptr_t stack_low, stack_high; /* this thread's stack, once known */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a forked child: new ids, and the lock free. When another thread of the parent held the
 * lock at the fork, what it guards may be half-written: the child forgets the handles and the
 * spare pidfds without closing anything (their fds are close-on-exec) rather than trust them. */
static void child_after_fork(void) {
    my_pid = 0;
    my_tid = 0;
    if (pthread_mutex_trylock(&lock) != 0) {
        pthread_mutex_init(&lock, NULL);
        pthread_mutex_lock(&lock);
        for (size_t i = 1; i <= IUM_MAX_HANDLES; i++) handles[i].pid = 0;
        for (unsigned i = 0; i < IUM_SPARE_PIDFDS; i++) spare_pidfds[i].pid = 0;
    }
    pthread_mutex_unlock(&lock);
}
static void register_atfork(void) { pthread_atfork(NULL, NULL, child_after_fork); }

static pid_t self_pid(void) {
    if (!my_pid) {
        pthread_once(&atfork_once, register_atfork);
        my_pid = getpid();
    }
    return my_pid;
}

static uint32_t self_tid(void) {
    if (!my_tid) {
        pthread_once(&atfork_once, register_atfork);
        my_tid = (pid_t)syscall(SYS_gettid);
    }
    return (uint32_t)my_tid;
}

/* Whether [p, p+len) lies in the live part of this thread's stack (above the stack pointer):
 * mapped and writable for sure, so results go there with a plain copy. Not when running on
 * another stack (a signal stack, a coroutine's). */
static int on_live_stack(const void *p, size_t len) {
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (!stack_high) {
        pthread_attr_t attr;
        void *base;
        size_t size;
        stack_high = 1; /* unknown: never */
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &base, &size) == 0) {
                stack_low = (uintptr_t)base;
                stack_high = (uintptr_t)base + size;
            }
            pthread_attr_destroy(&attr);
        }
    }
    uintptr_t b = (uintptr_t)p;
    return sp >= stack_low && sp < stack_high && b > sp && b + len > b && b + len <= stack_high;
}

/* ---- Pointer probes ------------------------------------------------------------------ */

/* Copies len bytes from src to dst in this process without faulting: 0, or -1 (EFAULT). */
static int safe_copy(void *dst, const void *src, size_t len) {
    if (len == 0) return 0;
    struct iovec local = {(void *)src, len};
    struct iovec remote = {dst, len};
    ssize_t n = process_vm_writev(self_pid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

/* Whether len bytes at p can be read and written (ProbeForWrite): the live stack can. */
static int writable(void *p, size_t len) {
    return p != NULL && (on_live_stack(p, len) || safe_copy(p, p, len) == 0);
}

/* Reads a caller structure without faulting (from the live stack, a plain copy). */
static int readable_into(void *dst, const void *src, size_t len) {
    if (src == NULL) return 0;
    if (!on_live_stack(src, len)) return safe_copy(dst, src, len) == 0;
    memcpy(dst, src, len);
    return 1;
}

/* Writes a result to a caller pointer without faulting: 0, or -1 (into the live stack, a
 * plain store). */
static int store(void *dst, const void *src, size_t len) {
    if (!on_live_stack(dst, len)) return safe_copy(dst, src, len);
    memcpy(dst, src, len);
    return 0;
}

/* ---- Connection ---------------------------------------------------------------------- */

static const char *socket_path(void) {
    const char *env = getenv("IUM_SOCKET");
    return env && *env ? env : "/run/ium/iumd.sock";
}

static int connect_locked(void) {
    if (conn >= 0 && conn_pid == self_pid()) return 0;
    if (conn >= 0) close(conn); /* inherited across fork: the parent keeps its own */
    conn = -1;
    forget_handles_locked();
    pending_count = 0; /* the old connection's handles went with it */
    connection_generation++;
    view_table = NULL;
    if (view_range) mmap(view_range, IUM_VIEW_TABLE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    views_asked = 0;
    batch_closes = 0;
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
    conn_pid = self_pid();
    return 0;
}

/* Frames are ium_wire.h's structs. */
static struct ium_wire_header header(uint16_t type) {
    struct ium_wire_header h = {IUM_WIRE_MAGIC, IUM_WIRE_VERSION, type, 0};
    return h;
}

/* The fixed part of a reply of `size` bytes, when the reply has it (else 0). */
static int reply_as(void *out, size_t size, const unsigned char *reply, ssize_t n) {
    if (n < (ssize_t)size) return 0;
    memcpy(out, reply, size);
    return 1;
}

/* Sends the handles closed here (a close batch, never answered) and then `frame`, in one
 * message: iumd frees them, then serves the request. 0, or -1. Lock held, connected. */
static int send_with_closes_locked(void *frame, size_t len) {
    struct IUM_WIRE_PACKED { /* the handles right after the fixed part */
        struct ium_wire_close_batch batch;
        uint64_t handles[IUM_WIRE_CLOSE_BATCH_MAX];
    } closes;
    _Static_assert(offsetof(__typeof__(closes), handles) == sizeof(struct ium_wire_close_batch), "close batch");
    struct iovec iov[2];
    size_t n = 0, total = 0;
    if (pending_count) {
        closes.batch.header = header(IUM_WIRE_CLOSE_BATCH);
        closes.batch.header.request_id = next_id++;
        closes.batch.count = pending_count;
        closes.batch.reserved = 0;
        memcpy(closes.handles, pending_closes, sizeof(uint64_t) * pending_count);
        iov[n++] = (struct iovec){&closes, sizeof closes.batch + sizeof(uint64_t) * (size_t)pending_count};
        pending_count = 0;
    }
    if (frame) iov[n++] = (struct iovec){frame, len};
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) total += iov[i].iov_len;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
    return sendmsg(conn, &msg, MSG_NOSIGNAL) == (ssize_t)total ? 0 : -1;
}

/* Sends a request (a frame that starts with struct ium_wire_header) and receives its reply
 * (reconnecting once if iumd went away). Returns the reply length, or -1 when iumd cannot be
 * reached. Called with the lock held. */
static ssize_t exchange_locked(void *frame, size_t len, unsigned char *reply) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connect_locked() != 0) return -1;
        struct ium_wire_header *h = frame;
        uint32_t id = h->request_id = next_id++;
        if (send_with_closes_locked(frame, len) == 0) {
            ssize_t n;
            struct ium_wire_header got;
            do { n = recv(conn, reply, IUM_WIRE_MAX_FRAME, 0); } while (n < 0 && errno == EINTR);
            if (reply_as(&got, sizeof got, reply, n) && n >= 16 && got.magic == IUM_WIRE_MAGIC && got.request_id == id)
                return n;
        }
        close(conn); /* iumd restarted or the reply was garbled: a fresh connection */
        conn = -1;
        conn_pid = 0;
    }
    return -1;
}

/* STATUS_SUCCESS with the reply's length, the status of an error reply, or
 * STATUS_DEVICE_NOT_READY when iumd cannot be reached. */
static NTSTATUS reply_status(ssize_t n, const unsigned char *reply) {
    struct ium_wire_status_reply r;
    if (n < 0) return STATUS_DEVICE_NOT_READY;
    if (reply_as(&r, sizeof r, reply, n) && r.header.type == IUM_WIRE_ERROR) return (NTSTATUS)r.status;
    return STATUS_SUCCESS;
}

static NTSTATUS exchange(void *frame, size_t len, unsigned char *reply, ssize_t *reply_len) {
    pthread_mutex_lock(&lock);
    ssize_t n = exchange_locked(frame, len, reply);
    pthread_mutex_unlock(&lock);
    *reply_len = n;
    return reply_status(n, reply);
}

/* Asks iumd once per connection for this process's task view table and maps it read-only;
 * without one (no guard, an old iumd) every query goes to iumd. Lock held, connected. */
static void ask_views_locked(void) {
    if (views_asked) return;
    views_asked = 1;
    const char *in_client = getenv("IUM_IN_CLIENT"); /* "0": every query asks iumd (diagnostics, tests) */
    if (in_client && !strcmp(in_client, "0")) return;
    struct ium_wire_header frame = header(IUM_WIRE_VIEWS);
    unsigned char reply[64];
    frame.request_id = next_id++;
    if (send_with_closes_locked(&frame, sizeof frame) != 0) return;
    struct iovec iov = {reply, sizeof reply};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    ssize_t n;
    do { n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
    struct ium_wire_views_reply r;
    if (fd >= 0 && reply_as(&r, sizeof r, reply, n) && r.header.type == IUM_WIRE_VIEWS && r.status == 0 &&
        r.records == IUM_VIEW_RECORDS && r.record_size == sizeof(struct ium_view)) {
        void *table = mmap(view_range, IUM_VIEW_TABLE_SIZE, PROT_READ, MAP_SHARED | (view_range ? MAP_FIXED : 0), fd, 0);
        if (table != MAP_FAILED) view_table = view_range = table;
        batch_closes = view_table && (r.features & IUM_WIRE_FEATURE_BATCH_LEADS);
    }
    if (fd >= 0) close(fd);
}

/* Writes len bytes of result (none when len is 0) and, when return_length is set, the
 * returned length, as NT does: nothing unless both can be written (ProbeForWrite first). Into
 * the live stack with plain stores; elsewhere with one probe and one copy, without faulting.
 * 0, or -1 (a fault). */
static int write_result(void *buffer, const void *result, size_t len, PULONG return_length, ULONG returned) {
    if ((len == 0 || on_live_stack(buffer, len)) && (!return_length || on_live_stack(return_length, sizeof *return_length))) {
        if (len) memcpy(buffer, result, len);
        if (return_length) *return_length = returned;
        return 0;
    }
    struct iovec probe[2], local[2];
    size_t n = 0;
    if (len) {
        probe[n] = (struct iovec){buffer, len};
        local[n++] = (struct iovec){(void *)result, len};
    }
    if (return_length) {
        probe[n] = (struct iovec){return_length, sizeof *return_length};
        local[n++] = (struct iovec){&returned, sizeof returned};
    }
    ssize_t total = (ssize_t)(len + (return_length ? sizeof returned : 0));
    if (process_vm_writev(self_pid(), probe, n, probe, n, 0) != total) return -1;
    return process_vm_writev(self_pid(), local, n, probe, n, 0) == total ? 0 : -1;
}

/* What iumd is told of a caller's output pointer (ProbeForWrite): NULL, writable (the live
 * stack is, without a probe), or faulting. */
static uint8_t pointer_state(void *p, size_t len) {
    if (p == NULL) return IUM_WIRE_POINTER_NULL;
    return len == 0 || writable(p, len) ? IUM_WIRE_POINTER_WRITABLE : IUM_WIRE_POINTER_FAULTS;
}

/*
 * NtQueryInformationProcess(ProcessBasicInformation) answered here (see the top of the file):
 * 1 with *status set when it could, 0 when iumd must answer.
 */
static int query_in_client(HANDLE h, PVOID buffer, ULONG length, PULONG return_length, NTSTATUS *status) {
    struct handle_entry e;
    const volatile struct ium_view *table = view_table; /* read once: a new connection clears it */
    if ((length != sizeof(PROCESS_BASIC_INFORMATION) && length != sizeof(PROCESS_EXTENDED_BASIC_INFORMATION)) ||
        buffer == NULL || ((uintptr_t)buffer & 7) || ((uintptr_t)return_length & 3) || !table ||
        !handle_of(h, &e) || !(e.granted & PROCESS_QUERY_LIMITED_INFORMATION))
        return 0;
    struct ium_view v;
    if (ium_view_ask(table, self_tid(), e.pid, e.pid == self_pid() ? -1 : e.pidfd, &v) != 0 || v.start_ticks != e.start_ticks ||
        (v.flags & IUM_VIEW_ZOMBIE) || v.exec_id != e.exec_id || v.cgroup_id != e.cgroup_id || v.uid != e.uids[0] ||
        v.euid != e.uids[1] || v.suid != e.uids[2])
        return 0;
    struct ium_view_context context = {e.creator_pid, e.table_flags, 0};
    struct ium_basic_information b = ium_view_basic_information(&v, &context);
    PROCESS_EXTENDED_BASIC_INFORMATION out;
    memset(&out, 0, sizeof out);
    out.Size = sizeof out;
    out.BasicInfo.ExitStatus = (NTSTATUS)b.exit_status;
    out.BasicInfo.PebBaseAddress = (PPEB)(uintptr_t)b.peb_base_address;
    out.BasicInfo.AffinityMask = (ULONG_PTR)b.affinity_mask;
    out.BasicInfo.BasePriority = b.base_priority;
    out.BasicInfo.UniqueProcessId = (ULONG_PTR)b.unique_process_id;
    out.BasicInfo.InheritedFromUniqueProcessId = (ULONG_PTR)b.inherited_from_unique_process_id;
    out.Flags = b.flags;
    const void *result = length == sizeof out ? (const void *)&out : (const void *)&out.BasicInfo;
    *status = write_result(buffer, result, length, return_length, length) == 0 ? STATUS_SUCCESS : STATUS_ACCESS_VIOLATION;
    return 1;
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
    /* The read probe, through a pidfd the handle keeps (none for this process itself: the
     * check always passes): a spare one when its process still runs, else a new one. */
    int pidfd = -1, probed = 0;
    if (pid > 0 && pid != self_pid()) {
        pidfd = take_spare_pidfd(pid);
        int verdict = pidfd >= 0 ? ium_probe_pidfd(pidfd) : -1;
        if (verdict < 0) {
            if (pidfd >= 0) close(pidfd);
            pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
            verdict = pidfd >= 0 ? ium_probe_pidfd(pidfd) : 0;
        }
        probed = verdict == 1;
    }

    struct ium_wire_open_request frame = {
        .header = header(IUM_WIRE_OPEN),
        .pid = ClientId ? (uint64_t)(uintptr_t)cid.UniqueProcess : 0,
        .tid = ClientId ? (uint64_t)(uintptr_t)cid.UniqueThread : 0,
        .desired_access = DesiredAccess,
        .flags = (ClientId ? IUM_WIRE_OPEN_CLIENT_ID : 0) | (oa.ObjectName ? IUM_WIRE_OPEN_OBJECT_NAME : 0) |
                 (probed ? IUM_WIRE_OPEN_PROBED : 0),
    };
    unsigned char reply[IUM_WIRE_MAX_FRAME];
    struct ium_wire_open_reply r = {0};
    pthread_mutex_lock(&lock);
    ssize_t n = exchange_locked(&frame, sizeof frame, reply);
    int opened = reply_status(n, reply) == STATUS_SUCCESS && reply_as(&r, sizeof r, reply, n);
    if (opened && NT_SUCCESS((NTSTATUS)r.status)) ask_views_locked();
    unsigned generation = connection_generation;
    pthread_mutex_unlock(&lock);
    NTSTATUS status = reply_status(n, reply);
    if (NT_SUCCESS(status) && !opened) status = STATUS_DEVICE_NOT_READY;
    if (!NT_SUCCESS(status)) {
        if (pidfd >= 0) close(pidfd);
        store(ProcessHandle, &none, sizeof none);
        return status;
    }
    status = (NTSTATUS)r.status;
    HANDLE h = NT_SUCCESS(status) ? (HANDLE)(uintptr_t)r.handle : NULL;
    uintptr_t index = (uintptr_t)h >> 2;
    if (h && !((uintptr_t)h & 3) && index > 0 && index <= IUM_MAX_HANDLES) {
        struct handle_entry e = {pid, pidfd, r.granted_access, r.table_flags, r.creator_pid, r.start_ticks, r.exec_id,
                                 r.cgroup_id, {r.uids[0], r.uids[1], r.uids[2]}};
        pthread_mutex_lock(&lock);
        if (conn_pid == self_pid() && connection_generation == generation) {
            if (handles[index].pid != 0 && handles[index].pidfd >= 0) close(handles[index].pidfd);
            handles[index] = e;
            pidfd = -1;
        }
        pthread_mutex_unlock(&lock);
    }
    if (pidfd >= 0) close(pidfd);
    if (store(ProcessHandle, &h, sizeof h) != 0) return STATUS_ACCESS_VIOLATION;
    return status;
}

NTSTATUS NTAPI NtQueryInformationProcess(HANDLE ProcessHandle, PROCESSINFOCLASS ProcessInformationClass,
                                         PVOID ProcessInformation, ULONG ProcessInformationLength,
                                         PULONG ReturnLength) {
    /* Probe as NT does; iumd decides the order of the checks and the alignment. */
    NTSTATUS fast;
    if (ProcessInformationClass == ProcessBasicInformation &&
        query_in_client(ProcessHandle, ProcessInformation, ProcessInformationLength, ReturnLength, &fast))
        return fast;
    uint8_t buffer_state = pointer_state(ProcessInformation, ProcessInformationLength);
    uint8_t return_state = pointer_state(ReturnLength, ReturnLength ? sizeof *ReturnLength : 0);
    struct handle_entry e;
    pid_t pid = class_needs_probe(ProcessInformationClass) && handle_of(ProcessHandle, &e) ? e.pid : 0;
    uint8_t flags = pid > 0 && pid != self_pid() && (e.pidfd >= 0 ? ium_read_probe_pidfd(e.pidfd) : ium_read_probe(pid))
        ? IUM_WIRE_QUERY_PROBED : 0;

    struct ium_wire_query_request frame = {
        .header = header(IUM_WIRE_QUERY),
        .handle = (uint64_t)(uintptr_t)ProcessHandle,
        .info_class = (uint32_t)ProcessInformationClass,
        .length = ProcessInformationLength,
        .buffer = (uint64_t)(uintptr_t)ProcessInformation,
        .return_length = (uint64_t)(uintptr_t)ReturnLength,
        .buffer_state = buffer_state,
        .return_length_state = return_state,
        .flags = flags,
    };
    unsigned char reply[IUM_WIRE_MAX_FRAME];
    struct ium_wire_query_reply r = {0};
    ssize_t n = 0;
    NTSTATUS status = exchange(&frame, sizeof frame, reply, &n);
    if (status != STATUS_SUCCESS) return status;
    if (!reply_as(&r, sizeof r, reply, n)) return STATUS_DEVICE_NOT_READY;
    ULONG returned = r.return_length;
    if (r.output_length > (uint32_t)(n - (ssize_t)sizeof r) || r.output_length > ProcessInformationLength)
        return STATUS_DEVICE_NOT_READY;
    PULONG return_to = (r.flags & IUM_WIRE_RETURN_LENGTH_WRITTEN) ? ReturnLength : NULL;
    if ((r.output_length || return_to) && write_result(ProcessInformation, reply + sizeof r, r.output_length, return_to, returned) != 0)
        return STATUS_ACCESS_VIOLATION;
    return (NTSTATUS)r.status;
}

NTSTATUS NTAPI NtClose(HANDLE Handle) {
    struct ium_wire_close_request frame = {.header = header(IUM_WIRE_CLOSE), .handle = (uint64_t)(uintptr_t)Handle};
    unsigned char reply[IUM_WIRE_MAX_FRAME];
    /* A handle this connection opened: closed here; iumd frees it when the batch goes out
     * with the next request (or now, when the batch is full). */
    uintptr_t index = handle_index(Handle);
    pthread_mutex_lock(&lock);
    int known = index > 0 && conn_pid == self_pid() && handles[index].pid != 0;
    if (known && handles[index].pidfd >= 0) keep_spare_pidfd_locked(handles[index].pid, handles[index].pidfd);
    if (known) handles[index].pid = 0; /* closed here either way (iumd, too, ignores the tag bits) */
    if (known && batch_closes) {
        pending_closes[pending_count++] = (uint64_t)index << 2;
        if (pending_count == IUM_WIRE_CLOSE_BATCH_MAX && send_with_closes_locked(NULL, 0) != 0) {
            close(conn); /* iumd did not get them: a new connection (iumd frees the old one's handles) */
            conn = -1;
            conn_pid = 0;
        }
        pthread_mutex_unlock(&lock);
        return STATUS_SUCCESS;
    }
    pthread_mutex_unlock(&lock);
    ssize_t n = 0;
    struct ium_wire_status_reply r = {0};
    NTSTATUS status = exchange(&frame, sizeof frame, reply, &n);
    if (!NT_SUCCESS(status)) return status;
    return reply_as(&r, sizeof r, reply, n) ? (NTSTATUS)r.status : STATUS_DEVICE_NOT_READY;
}

/* From user mode the Zw names behave exactly as the Nt names. */
NTSTATUS NTAPI ZwOpenProcess(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PCLIENT_ID)
    __attribute__((alias("NtOpenProcess")));
NTSTATUS NTAPI ZwQueryInformationProcess(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG)
    __attribute__((alias("NtQueryInformationProcess")));
NTSTATUS NTAPI ZwClose(HANDLE) __attribute__((alias("NtClose")));
