/* rss.c: the readers of the system's RSS figures (see rss.h). */
#include "core/rss.h"

#include <errno.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#ifdef __linux__

/* statm is one line of seven numbers; status is about 1.5 KiB, VmHWM in its
 * first 20 lines.  Reads stop at these sizes whatever the file holds. */
#define STATM_MAX 256
#define STATUS_MAX 16384

/* Up to cap - 1 bytes of a small file, NUL-terminated: the length, or -1.
 * Non-blocking, so that a FIFO in /proc's place could not hang the
 * program. */
static long read_small(const char *path, char *buf, size_t cap)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    return (long)n;
}

/* A decimal number after blanks at *p: 1 and *p moved past it, or 0 for
 * anything else (no digit, an overflow). */
static int parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 1;
}

int pyro_rss_now(uint64_t *bytes)
{
    char buf[STATM_MAX];
    if (read_small("/proc/self/statm", buf, sizeof buf) <= 0)
        return 0;
    const char *p = buf;
    uint64_t size, resident;
    if (!parse_u64(&p, &size) || !parse_u64(&p, &resident))
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || resident > UINT64_MAX / (uint64_t)page)
        return 0;
    *bytes = resident * (uint64_t)page;
    return 1;
}

int pyro_rss_mark(uint64_t *bytes)
{
    char buf[STATUS_MAX];
    if (read_small("/proc/self/status", buf, sizeof buf) <= 0)
        return 0;
    /* "VmHWM:\t  123456 kB" at the start of a line. */
    const char *line = buf;
    while (line != NULL && strncmp(line, "VmHWM:", 6) != 0) {
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (line == NULL)
        return 0;
    const char *p = line + 6;
    uint64_t kib;
    if (!parse_u64(&p, &kib) || strncmp(p, " kB", 3) != 0 || kib > UINT64_MAX / 1024)
        return 0;
    *bytes = kib * 1024;
    return 1;
}

int pyro_rss_reset_mark(void)
{
    int fd;
    do
        fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return 0;
    ssize_t put;
    do
        put = write(fd, "5", 1);   /* 5: reset the peak RSS, nothing else */
    while (put < 0 && errno == EINTR);
    close(fd);
    return put == 1;
}

#else   /* no /proc: only getrusage's peak */

int pyro_rss_now(uint64_t *bytes)
{
    (void)bytes;
    return 0;
}

int pyro_rss_mark(uint64_t *bytes)
{
    (void)bytes;
    return 0;
}

int pyro_rss_reset_mark(void)
{
    return 0;
}

#endif

int pyro_rss_maxrss(uint64_t *bytes)
{
#ifdef _WIN32
    (void)bytes;
    return 0;
#else
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0 || ru.ru_maxrss <= 0)
        return 0;
    uint64_t v = (uint64_t)ru.ru_maxrss;
#ifdef __APPLE__
    *bytes = v;                /* macOS counts bytes */
#else
    if (v > UINT64_MAX / 1024)
        return 0;
    *bytes = v * 1024;         /* Linux and the BSDs count KiB */
#endif
    return 1;
#endif
}
