/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret memory for trustlets (ntddk.h's companion; in libium and, for Swift, in CLinuxShims):
 * pages from memfd_secret(2), which the kernel removes from its own direct map, so neither
 * another process (root's process_vm_readv, /proc/PID/mem, ptrace PEEKDATA), nor a core dump,
 * nor a /proc/kcore scan reaches them; locked in RAM (never swapped); MADV_DONTDUMP; and, where
 * the kernel has mseal(2) (6.10+) and IUM_SECRET_SEAL is asked, sealed: the range cannot be
 * unmapped, remapped or have its protection changed until the process exits.
 *
 *   ium_secret s;
 *   int err = ium_secret_alloc(32, IUM_SECRET_SEAL, &s);
 *   if (err) { fprintf(stderr, "%s\n", ium_secret_strerror(err)); exit(1); }
 *   ... use s.data (s.size bytes) ...
 *   ium_secret_free(&s);      // zeroes the pages first
 *
 * There is no fallback to ordinary memory: when the kernel has no secret memory the call
 * fails (ENOSYS: not built in; on Linux 6.1, boot with secretmem.enable=1).
 */
#ifndef IUM_SECRET_H
#define IUM_SECRET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Seal the range with mseal(2) where the kernel has it (ENOSYS otherwise is not an error:
 * ium_secret.sealed says whether it was). A sealed range stays mapped until exit:
 * ium_secret_free zeroes it and releases the file, but cannot unmap it. */
#define IUM_SECRET_SEAL 1u

typedef struct ium_secret {
    void *data;   /* page-aligned, readable and writable by this process only */
    size_t size;  /* the size asked for (the mapping is rounded up to whole pages) */
    size_t mapped;
    int fd;
    int sealed;   /* 1 when mseal(2) sealed the range */
} ium_secret;

/* 0, or an errno: ENOSYS (no secret memory in this kernel), EINVAL (size 0), ENOMEM or
 * EAGAIN (RLIMIT_MEMLOCK: secret pages are locked), EMFILE. */
int ium_secret_alloc(size_t size, unsigned int flags, ium_secret *out);

/* Zeroes the region and releases it (unmapped unless sealed). Safe on a zeroed struct. */
void ium_secret_free(ium_secret *secret);

/* What an errno of ium_secret_alloc means, with what to do about it. */
const char *ium_secret_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* IUM_SECRET_H */
