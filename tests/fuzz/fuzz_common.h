/* SPDX-License-Identifier: MIT */
/* Shared bits of the libFuzzer harnesses: the input as a named in-memory file (the loaders
 * under test take paths), so no disk writes per execution. */
#ifndef FID_FUZZ_COMMON_H
#define FID_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a fresh memfd; path receives "/proc/self/fd/N". Returns the fd or -1. */
static int fuzz_memfile(const uint8_t *data, size_t n, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
