/* SPDX-License-Identifier: Apache-2.0 */
/* What the kernel shows, read the plain way: the test programs' oracle. */
#ifndef IUM_TEST_PROC_TEXT_H
#define IUM_TEST_PROC_TEXT_H

#include <fcntl.h>
#include <unistd.h>

/* Reads a small file (one read, NUL-terminated): its length, or -1. */
static inline int read_text(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

#endif
