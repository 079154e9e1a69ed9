/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "linux_shims.h"
#include "ium_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int ium_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

int ium_ioprio_get_process(pid_t pid) {
    return (int)syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
}

int ium_ioprio_set_process(pid_t pid, int ioprio) {
    return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pid, ioprio);
}

int ium_set_dumpable(int value) {
    return prctl(PR_SET_DUMPABLE, value, 0, 0, 0);
}

/* uapi linux/pidfd.h (6.15+), not in the 6.1 headers Debian 12 ships. */
struct ium_pidfd_info {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid;
    uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
_Static_assert(sizeof(struct ium_pidfd_info) == 64, "PIDFD_INFO_SIZE_VER0");
#define IUM_PIDFD_GET_INFO _IOWR(0xFF, 11, struct ium_pidfd_info)
#define IUM_PIDFD_INFO_EXIT (1ULL << 3)

int ium_pidfd_exit_status(int pidfd, int *status) {
    struct ium_pidfd_info info;
    memset(&info, 0, sizeof info);
    info.mask = IUM_PIDFD_INFO_EXIT;
    if (ioctl(pidfd, IUM_PIDFD_GET_INFO, &info) != 0) return -1;
    if (!(info.mask & IUM_PIDFD_INFO_EXIT)) {
        errno = ESRCH;
        return -1;
    }
    *status = info.exit_code;
    return 0;
}

int ium_pidfd_exited(int pidfd) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    if (n < 0) return -1;
    return n > 0 && (p.revents & (POLLIN | POLLHUP)) ? 1 : 0;
}

unsigned long ium_fs_magic(const char *path) {
    struct statfs s;
    return statfs(path, &s) == 0 ? (unsigned long)s.f_type : 0;
}

int ium_peer_cred(int fd, int *pid, unsigned int *uid, unsigned int *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

static int unix_address(const char *path, struct sockaddr_un *addr) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr->sun_path, path);
    return 0;
}

/* The socket appears at `path` only once it accepts connections: it is bound and listening
 * under a temporary name first, then renamed (a client that sees the file can connect). */
int ium_seqpacket_listen(const char *path, int backlog) {
    char temporary[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (snprintf(temporary, sizeof temporary, "%s.%d", path, (int)getpid()) >= (int)sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct sockaddr_un addr;
    if (unix_address(temporary, &addr) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(temporary);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || chmod(temporary, 0666) != 0 || listen(fd, backlog) != 0 ||
        rename(temporary, path) != 0) {
        int e = errno;
        close(fd);
        unlink(temporary);
        errno = e;
        return -1;
    }
    return fd;
}

int ium_seqpacket_connect(const char *path) {
    struct sockaddr_un addr;
    if (unix_address(path, &addr) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int ium_thread_start(void *(*fn)(void *), void *arg) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

int ium_accept(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

int ium_limit_core_dumps(pid_t pid) {
    struct rlimit one = {1, 1};
    return prlimit(pid, RLIMIT_CORE, &one, NULL);
}

/* The child's last words before _exit(126): MESSAGE and the errno's text (async-signal-safe
 * enough: strerror of a fixed errno reads a static table). */
static void spawn_fail(const char *message, int err) {
    (void)!write(2, message, strlen(message));
    const char *why = strerror(err);
    (void)!write(2, why, strlen(why));
    (void)!write(2, "\n", 1);
    _exit(126);
}

pid_t ium_spawn_secure(const char *socket_path, const unsigned char *frame, size_t frame_len,
                       char *const argv[], char *const envp[], unsigned int options) {
    pid_t child = fork();
    if (child != 0) return child;
    /* The child: only async-signal-safe calls until exec. */
    int fd = ium_seqpacket_connect(socket_path);
    if (fd < 0) {
        static const char msg[] = "ium run: cannot reach iumd to tag the program before it starts\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(126);
    }
    unsigned char reply[1024];
    ssize_t n = -1;
    if (send(fd, frame, frame_len, MSG_NOSIGNAL) == (ssize_t)frame_len) n = recv(fd, reply, sizeof reply, 0);
    close(fd);
    struct ium_wire_status_reply r;
    int answered = n >= (ssize_t)sizeof r;
    if (answered) memcpy(&r, reply, sizeof r);
    if (!answered || r.status != 0) {
        static const char msg[] = "ium run: iumd refused to tag the program: ";
        (void)!write(2, msg, sizeof msg - 1);
        if (answered && (ssize_t)(sizeof r + r.message_length) <= n) (void)!write(2, reply + sizeof r, r.message_length);
        (void)!write(2, "\n", 1);
        _exit(126);
    }
    /* iumd's warnings (what tagging could not do) follow the first line of its reply. */
    size_t length = (ssize_t)(sizeof r + r.message_length) <= n ? r.message_length : 0;
    const unsigned char *text = reply + sizeof r;
    const unsigned char *newline = memchr(text, '\n', length);
    while (newline) {
        const unsigned char *line = newline + 1;
        newline = memchr(line, '\n', length - (size_t)(line - text));
        size_t line_length = (newline ? (size_t)(newline - line) : length - (size_t)(line - text));
        (void)!write(2, "ium run: ", 9);
        (void)!write(2, line, line_length);
        (void)!write(2, "\n", 1);
    }
    /* RLIMIT_CORE 1: no file core and no core_pattern pipe core (the lsm backend refuses a
     * secure process's dump whatever the limit). A hard limit of 0 cannot be raised without
     * CAP_SYS_RESOURCE: say so rather than start it silently with core dumps to pipes open. */
    struct rlimit one = {1, 1}, now;
    if (setrlimit(RLIMIT_CORE, &one) != 0 && (getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur != 1)) {
        static const char msg[] = "ium run: warning: its RLIMIT_CORE could not be set to 1 (raising a hard limit of 0 needs CAP_SYS_RESOURCE): under the kill backend a core_pattern pipe could still receive its core\n";
        (void)!write(2, msg, sizeof msg - 1);
    }
    if ((options & IUM_SPAWN_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        spawn_fail("ium run: --no-new-privs: prctl(PR_SET_NO_NEW_PRIVS): ", errno);
    /* PR_SET_MDWE 65, PR_MDWE_REFUSE_EXEC_GAIN 1 (Linux 6.3; EINVAL before). */
    if ((options & IUM_SPAWN_MDWE) && prctl(65, 1UL, 0UL, 0UL, 0UL) != 0)
        spawn_fail("ium run: --mdwe needs Linux 6.3 or newer (prctl PR_SET_MDWE): ", errno);
    execvpe(argv[0], argv, envp);
    _exit(127);
}

ssize_t ium_send_with_fd(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = {(void *)buf, len};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t ium_recv_with_fd(int sock, void *buf, size_t len, int *fd) {
    struct iovec iov = {buf, len};
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    *fd = -1;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return n;
}

/* The thread id, asked once per thread (a syscall each time costs more than the task-view
 * query it serves); a fork's child forgets the parent's. */
static __thread pid_t cached_tid;
static pthread_once_t tid_once = PTHREAD_ONCE_INIT;
static void forget_tid(void) { cached_tid = 0; }
static void register_forget_tid(void) { pthread_atfork(NULL, NULL, forget_tid); }

pid_t ium_gettid(void) {
    if (!cached_tid) {
        pthread_once(&tid_once, register_forget_tid);
        cached_tid = (pid_t)syscall(SYS_gettid);
    }
    return cached_tid;
}
