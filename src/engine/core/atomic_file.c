/* atomic_file.c: temp file + fsync + rename. */
#define _GNU_SOURCE
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pyro_write_atomic(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, n, "%s.%ld.pyrometer-tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        goto fail_nofd;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
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
fail_nofd:
    free(tmp);
    return -1;
}
