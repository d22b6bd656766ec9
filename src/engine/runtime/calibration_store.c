/* calibration_store.c: calibrations kept between processes (see
 * calibration_store.h). */
#include "runtime/calibration_store.h"
#include "core/atomic_file.h"
#include "core/file_read.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define STORE_VERSION 1
#define MAX_FILE 4096

/* The folder, made if missing; 0 when there is none we may trust. */
static int store_folder(char *out, size_t size)
{
    const char *dir = getenv("PYROMETER_CACHE_DIR");
    int n;
    if (dir != NULL) {
        if (dir[0] == '\0')
            return 0;
        n = snprintf(out, size, "%s", dir);
    }
    else if ((dir = getenv("XDG_CACHE_HOME")) != NULL && dir[0] == '/')
        n = snprintf(out, size, "%s/pyrometer", dir);
    else if ((dir = getenv("HOME")) != NULL && dir[0] == '/') {
        char parent[1024];
        snprintf(parent, sizeof(parent), "%s/.cache", dir);
        mkdir(parent, 0700);   /* may exist: the check below is on ours */
        n = snprintf(out, size, "%s/.cache/pyrometer", dir);
    }
    else
        return 0;
    if (n <= 0 || (size_t)n >= size)
        return 0;
    if (mkdir(out, 0700) < 0 && errno != EEXIST)
        return 0;
    struct stat st;
    if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()
        || (st.st_mode & 022) != 0)
        return 0;   /* a link, or a folder others could plant files in */
    return 1;
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
    size_t k = strlen(s);
    if (*len + k + 1 < size) {
        memcpy(buf + *len, s, k);
        *len += k;
        buf[*len] = '\0';
    }
}

/* What a stored calibration is valid for, on one line: the CPU, the
 * interpreter, and this engine's build (its file's size and time). */
static void identity(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    char part[512];
#if defined(__x86_64__) || defined(__i386__)
    unsigned int regs[12] = {0};
    unsigned int top = __get_cpuid_max(0x80000000, NULL);
    if (top >= 0x80000004) {
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                        &regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = '\0';
        append(buf, size, &len, brand);
    }
#endif
    snprintf(part, sizeof(part), "|cpus %ld|", sysconf(_SC_NPROCESSORS_ONLN));
    append(buf, size, &len, part);
    append(buf, size, &len, Py_GetVersion());
    Dl_info info;
    struct stat st;
    if (dladdr((void *)identity, &info) && info.dli_fname != NULL
        && stat(info.dli_fname, &st) == 0) {
        snprintf(part, sizeof(part), "|engine %s %lld %lld", info.dli_fname,
                 (long long)st.st_size, (long long)st.st_mtime);
        append(buf, size, &len, part);
    }
    for (size_t i = 0; i < len; i++)   /* one line */
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The file for `name` and this identity: 1, or 0 without a folder. */
static int store_path(const char *name, const char *id, char *out, size_t size)
{
    char folder[1024];
    if (!store_folder(folder, sizeof(folder)))
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return 0;
    int n = snprintf(out, size, "%s/calibration-%s-%016llx", folder, name,
                     (unsigned long long)fnv1a(id));
    return n > 0 && (size_t)n < size;
}

int pyro_calibration_load(const char *name, double *values, int n)
{
    if (n <= 0 || n > PYRO_STORE_MAX_VALUES)
        return 0;
    char id[1024], path[1200], text[MAX_FILE + 1];
    identity(id, sizeof(id));
    if (!store_path(name, id, path, sizeof(path)))
        return 0;
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return 0;
    size_t got = 0;
    if (pyro_read_head(path, text, MAX_FILE, &got) != 0 || got == 0 || got >= MAX_FILE)
        return 0;
    text[got] = '\0';
    /* pyrometer-calibration 1 \n id <identity> \n values v1 ... vn \n */
    char head[64];
    snprintf(head, sizeof(head), "pyrometer-calibration %d\nid ", STORE_VERSION);
    size_t hl = strlen(head), il = strlen(id);
    if (strncmp(text, head, hl) != 0 || strncmp(text + hl, id, il) != 0
        || strncmp(text + hl + il, "\nvalues", 7) != 0)
        return 0;
    const char *p = text + hl + il + 7;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0 || !isfinite(v) || v < 0 || v > 1e6 || *end != (i + 1 < n ? ' ' : '\n'))
            return 0;
        values[i] = v;
        p = end;
    }
    return p[1] == '\0';
}

void pyro_calibration_save(const char *name, const double *values, int n)
{
    if (n <= 0 || n > PYRO_STORE_MAX_VALUES)
        return;
    char id[1024], path[1200], text[MAX_FILE];
    identity(id, sizeof(id));
    if (!store_path(name, id, path, sizeof(path)))
        return;
    int len = snprintf(text, sizeof(text), "pyrometer-calibration %d\nid %s\nvalues",
                       STORE_VERSION, id);
    for (int i = 0; i < n && len > 0 && (size_t)len < sizeof(text); i++)
        len += snprintf(text + len, sizeof(text) - (size_t)len, " %.17g", values[i]);
    if (len <= 0 || (size_t)len + 1 >= sizeof(text))
        return;
    text[len++] = '\n';
    int saved = errno;
    (void)pyro_write_atomic(path, text, (size_t)len);
    errno = saved;
}
