/* atomic_file.c: write a whole file or nothing, without being turned
 * against the user (see atomic_file.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/random.h>
#endif

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* A device, a pipe, a terminal: written as the shell's `>` would, never
 * replaced by a regular file. */
static int write_through(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

static uint64_t random_bits(void)
{
    uint64_t r = 0;
#ifdef __linux__
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        return r;
#endif
    static uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^ ++counter;
    r *= 0x9E3779B97F4A7C15ull;
    return r ^ (r >> 31);
}

/* A new file beside `path` that nobody could have planted: a name with 64
 * random bits, created only if nothing (not even a link) is there.  The
 * kernel gives it 0666 less the umask, as a plain open would.  fd or -1. */
static int create_temp(const char *path, char *tmp, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash != NULL ? (int)(slash - path + 1) : 0;
    const char *base = path + dirlen;
    for (int attempt = 0; attempt < 64; attempt++) {
        snprintf(tmp, cap, "%.*s.%s.%016llx.pyrometer-tmp", dirlen, path, base,
                 (unsigned long long)random_bits());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

int pyro_write_atomic(const char *path, const void *data, size_t len)
{
    struct stat lst, st;
    int keep_mode = 0;
    if (lstat(path, &lst) == 0) {
        if (S_ISDIR(lst.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        if (S_ISLNK(lst.st_mode)) {
            /* A link to a device or a pipe (/dev/stdout) is written through;
             * any other link is replaced, and what it points to untouched. */
            if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                return write_through(path, data, len);
        }
        else if (!S_ISREG(lst.st_mode)) {
            return write_through(path, data, len);
        }
        else {
            keep_mode = 1;   /* the replaced file's permissions stay */
        }
    }
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int fd = create_temp(path, tmp, n);
    if (fd < 0)
        goto fail_nofd;
    if (keep_mode && fchmod(fd, lst.st_mode & 07777) < 0)
        goto fail;
    if (write_all(fd, data, len) < 0)
        goto fail;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    free(tmp);
    return 0;

fail: {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        errno = saved;
    }
fail_nofd: {
        int saved = errno;
        free(tmp);
        errno = saved;
    }
    return -1;
}
