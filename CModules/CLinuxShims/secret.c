/* SPDX-License-Identifier: Apache-2.0 */
/* Secret memory (ium_secret.h): memfd_secret, locked, not dumped, optionally sealed. */
#define _GNU_SOURCE
#include "ium_secret.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

int ium_secret_alloc(size_t size, unsigned int flags, ium_secret *out) {
    if (!out) return EINVAL;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (size == 0) return EINVAL;
    long page = sysconf(_SC_PAGESIZE);
    size_t mapped = (size + (size_t)page - 1) & ~((size_t)page - 1);
    int fd = (int)syscall(SYS_memfd_secret, 0x80000U /* FD_CLOEXEC for memfd_secret: O_CLOEXEC */);
    if (fd < 0) return errno;
    if (ftruncate(fd, (off_t)mapped) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    void *data = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
        int e = errno;
        close(fd);
        return e == EAGAIN ? ENOMEM : e;
    }
    /* Secret pages are never in a core dump; say so for any reader of the mapping too. */
    madvise(data, mapped, MADV_DONTDUMP);
    int sealed = 0;
    if ((flags & IUM_SECRET_SEAL) && syscall(SYS_mseal, data, mapped, 0) == 0) sealed = 1;
    out->data = data;
    out->size = size;
    out->mapped = mapped;
    out->fd = fd;
    out->sealed = sealed;
    return 0;
}

void ium_secret_free(ium_secret *secret) {
    if (!secret || !secret->data) return;
    explicit_bzero(secret->data, secret->mapped);
    if (!secret->sealed) munmap(secret->data, secret->mapped);
    if (secret->fd >= 0) close(secret->fd);
    memset(secret, 0, sizeof *secret);
    secret->fd = -1;
}

const char *ium_secret_strerror(int err) {
    switch (err) {
    case 0: return "no error";
    case ENOSYS:
        return "this kernel has no secret memory (memfd_secret): it needs CONFIG_SECRETMEM, and on Linux 6.1 "
               "the boot option secretmem.enable=1";
    case EINVAL: return "a secret region needs a size above 0";
    case ENOMEM: case EAGAIN:
        return "secret memory is locked in RAM and counts against RLIMIT_MEMLOCK: raise it (ulimit -l) or ask for less";
    case EMFILE: case ENFILE: return "out of file descriptors";
    default: return strerror(err);
    }
}
