/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "linux_shims.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
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
