/* timeline_file.c: saved timelines, written whole and read as hostile
 * input (see timeline_file.h and docs/timeline-format.md). */
#include "formats/timeline_file.h"
#include "core/errors.h"
#include "core/file_read.h"
#include "core/text_out.h"

#include <errno.h>
#include <string.h>

#define MAGIC_LEN (sizeof(PYRO_TIMELINE_MAGIC) - 1)
#define HEAD_LEN 48
#define POINT_LEN 24
#define CALL_LEN (16 + 2 * POINT_LEN)
#define NODE_LEN 16

/* ---- writing ------------------------------------------------------------- */

static void put_u32(pyro_text *t, uint32_t x)
{
    char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (char)(x >> (8 * i));
    pyro_text_put(t, b, 4);
}

static void put_u64(pyro_text *t, uint64_t x)
{
    char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (char)(x >> (8 * i));
    pyro_text_put(t, b, 8);
}

static void put_f64(pyro_text *t, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    put_u64(t, bits);
}

static void put_point(pyro_text *t, const pyro_mem_point *p)
{
    put_u64(t, (uint64_t)p->t);
    put_u64(t, p->rss);
    put_u64(t, p->heap);
}

static void chunk(pyro_text *t, const char *tag, size_t len)
{
    pyro_text_put(t, tag, 4);
    put_u32(t, (uint32_t)len);
}

int pyro_timeline_file_write(PyObject *path, const pyro_timeline_view *v)
{
    const char *bad = pyro_timeline_view_check(v);
    if (bad != NULL) {
        PyErr_Format(PyExc_ValueError, "pyrometer: not a timeline to save: %s", bad);
        return -1;
    }
    pyro_text t = PYRO_TEXT_INIT;
    pyro_text_put(&t, PYRO_TIMELINE_MAGIC, MAGIC_LEN);
    chunk(&t, "HEAD", HEAD_LEN);
    put_u32(&t, PYRO_TIMELINE_VERSION);
    put_u32(&t, v->halvings);
    put_f64(&t, v->start_epoch);
    put_u64(&t, (uint64_t)v->interval);
    put_u64(&t, (uint64_t)v->base_interval);
    put_u64(&t, v->dropped_spans);
    put_u32(&t, (uint32_t)v->tree_kind);
    put_u32(&t, 0);
    size_t cmd_len = v->cmd != NULL ? strlen(v->cmd) : 0;
    if (cmd_len > PYRO_MEM_MAX_CMD)
        cmd_len = PYRO_MEM_MAX_CMD;
    chunk(&t, "CMD ", cmd_len);
    pyro_text_put(&t, v->cmd, cmd_len);
    size_t names_len = 4;
    for (size_t i = 0; i < v->nnames; i++)
        names_len += 4 + strlen(v->names[i]);
    chunk(&t, "NAME", names_len);
    put_u32(&t, (uint32_t)v->nnames);
    for (size_t i = 0; i < v->nnames; i++) {
        size_t n = strlen(v->names[i]);
        put_u32(&t, (uint32_t)n);
        pyro_text_put(&t, v->names[i], n);
    }
    chunk(&t, "SAMP", v->npoints * POINT_LEN);
    for (size_t i = 0; i < v->npoints; i++)
        put_point(&t, &v->points[i]);
    chunk(&t, "PEAK", 2 * POINT_LEN);
    put_point(&t, &v->peak_rss);
    put_point(&t, &v->peak_heap);
    chunk(&t, "CALL", v->nspans * CALL_LEN);
    for (size_t i = 0; i < v->nspans; i++) {
        const pyro_mem_span *s = &v->spans[i];
        put_u32(&t, s->name);
        put_u32(&t, s->depth);
        put_u32(&t, s->flags);
        put_u32(&t, 0);
        put_point(&t, &s->start);
        put_point(&t, &s->end);
    }
    if (v->tree_kind != PYRO_MEM_TREE_NONE) {
        chunk(&t, "TREE", v->nnodes * NODE_LEN);
        for (size_t i = 0; i < v->nnodes; i++) {
            put_u32(&t, (uint32_t)v->nodes[i].parent);
            put_u32(&t, v->nodes[i].name);
            put_u64(&t, v->nodes[i].bytes);
        }
    }
    chunk(&t, "END ", 0);
    return pyro_text_write(&t, path);
}

/* ---- reading ------------------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static pyro_mem_point get_point(const unsigned char *p)
{
    pyro_mem_point x = {(int64_t)get_u64(p), get_u64(p + 8), get_u64(p + 16)};
    return x;
}

/* Whether s[0:n) is UTF-8 (no overlong forms, no surrogates): names and
 * the command line go into XML and text as they are. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (k == 9 || k > n - i - 1)
            return 0;
        uint32_t cp = k == 0 ? c : c & (0x3Fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

int pyro_timeline_file_is(const char *data, size_t len)
{
    return len >= MAGIC_LEN && memcmp(data, PYRO_TIMELINE_MAGIC, MAGIC_LEN) == 0;
}

/* Fill `v` from the chunks in p[0:len): NULL, or what is wrong. */
static const char *parse(const unsigned char *p, size_t len, pyro_timeline_view *v, int *nomem)
{
    /* CHUNK_ prefixed: 3.11's opcode.h defines CALL */
    enum { CHUNK_HEAD = 1, CHUNK_CMD = 2, CHUNK_NAME = 4, CHUNK_SAMP = 8, CHUNK_PEAK = 16,
           CHUNK_CALL = 32, CHUNK_TREE = 64 };
    unsigned seen = 0;
    size_t at = 0;
    for (;;) {
        if (len - at < 8)
            return "it ends early (no END chunk: the file was cut short)";
        const unsigned char *tag = p + at;
        size_t n = get_u32(p + at + 4);
        at += 8;
        if (n > len - at)
            return "a chunk runs past the end of the file";
        const unsigned char *c = p + at;
        at += n;
        unsigned which = !memcmp(tag, "HEAD", 4) ? CHUNK_HEAD
                       : !memcmp(tag, "CMD ", 4) ? CHUNK_CMD
                       : !memcmp(tag, "NAME", 4) ? CHUNK_NAME
                       : !memcmp(tag, "SAMP", 4) ? CHUNK_SAMP
                       : !memcmp(tag, "PEAK", 4) ? CHUNK_PEAK
                       : !memcmp(tag, "CALL", 4) ? CHUNK_CALL
                       : !memcmp(tag, "TREE", 4) ? CHUNK_TREE : 0;
        if (!memcmp(tag, "END ", 4)) {
            if (n != 0 || at != len)
                return "it goes on after its END chunk";
            if (!(seen & CHUNK_HEAD))
                return "it has no HEAD chunk";
            return NULL;
        }
        if (seen == 0 && which != CHUNK_HEAD)
            return "its first chunk is not HEAD";
        if (which & seen)
            return "a chunk comes twice";
        seen |= which;
        switch (which) {
        case CHUNK_HEAD:
            if (n != HEAD_LEN)
                return "its HEAD chunk has the wrong size";
            if (get_u32(c) != PYRO_TIMELINE_VERSION)
                return "it is of a format version this pyrometer does not read";
            v->halvings = get_u32(c + 4);
            {
                uint64_t bits = get_u64(c + 8);
                memcpy(&v->start_epoch, &bits, 8);
            }
            v->interval = (int64_t)get_u64(c + 16);
            v->base_interval = (int64_t)get_u64(c + 24);
            v->dropped_spans = get_u64(c + 32);
            v->tree_kind = (int)get_u32(c + 40);
            if (get_u32(c + 44) != 0 || v->tree_kind < 0 || v->tree_kind > PYRO_MEM_TREE_PEAK)
                return "its HEAD chunk holds unknown values";
            break;
        case CHUNK_CMD:
            if (n > PYRO_MEM_MAX_CMD || memchr(c, 0, n) != NULL || !utf8_ok(c, n))
                return "its command line is too long, or not text";
            if ((v->cmd = PyMem_RawMalloc(n + 1)) == NULL)
                goto nomem;
            memcpy(v->cmd, c, n);
            v->cmd[n] = '\0';
            break;
        case CHUNK_NAME: {
            if (n < 4)
                return "its NAME chunk is too short";
            uint32_t count = get_u32(c);
            /* each name takes at least its 4-byte length */
            if (count > PYRO_MEM_MAX_NAMES || count > (n - 4) / 4)
                return "its NAME chunk counts more names than it holds";
            size_t off = 4;
            for (uint32_t i = 0; i < count; i++) {
                if (n - off < 4)
                    return "its NAME chunk ends inside a name";
                size_t k = get_u32(c + off);
                off += 4;
                if (k > PYRO_MEM_MAX_NAME || k > n - off)
                    return "a name is too long or runs past its chunk";
                if (memchr(c + off, 0, k) != NULL || !utf8_ok(c + off, k))
                    return "a name holds a NUL, or is not UTF-8";
                if (pyro_timeline_view_add_name(v, (const char *)c + off, k) < 0)
                    goto nomem;
                off += k;
            }
            if (off != n)
                return "its NAME chunk holds more than its names";
            break;
        }
        case CHUNK_SAMP:
            if (n % POINT_LEN != 0 || n / POINT_LEN > PYRO_MEM_MAX_POINTS)
                return "its SAMP chunk is not a whole number of samples, or too many";
            v->npoints = n / POINT_LEN;
            if ((v->points = PyMem_RawMalloc((v->npoints ? v->npoints : 1) * sizeof(*v->points)))
                == NULL)
                goto nomem;
            for (size_t i = 0; i < v->npoints; i++)
                v->points[i] = get_point(c + i * POINT_LEN);
            break;
        case CHUNK_PEAK:
            if (n != 2 * POINT_LEN)
                return "its PEAK chunk has the wrong size";
            v->peak_rss = get_point(c);
            v->peak_heap = get_point(c + POINT_LEN);
            break;
        case CHUNK_CALL:
            if (n % CALL_LEN != 0 || n / CALL_LEN > PYRO_MEM_MAX_SPANS)
                return "its CALL chunk is not a whole number of calls, or too many";
            v->nspans = n / CALL_LEN;
            if ((v->spans = PyMem_RawMalloc((v->nspans ? v->nspans : 1) * sizeof(*v->spans)))
                == NULL)
                goto nomem;
            for (size_t i = 0; i < v->nspans; i++) {
                const unsigned char *s = c + i * CALL_LEN;
                if (get_u32(s + 12) != 0)
                    return "a call holds unknown values";
                pyro_mem_span x = {get_u32(s), get_u32(s + 4), get_u32(s + 8),
                                   get_point(s + 16), get_point(s + 16 + POINT_LEN)};
                v->spans[i] = x;
            }
            break;
        case CHUNK_TREE:
            if (n % NODE_LEN != 0 || n / NODE_LEN > PYRO_MEM_MAX_NODES)
                return "its TREE chunk is not a whole number of nodes, or too many";
            v->nnodes = n / NODE_LEN;
            if ((v->nodes = PyMem_RawMalloc((v->nnodes ? v->nnodes : 1) * sizeof(*v->nodes)))
                == NULL)
                goto nomem;
            for (size_t i = 0; i < v->nnodes; i++) {
                const unsigned char *s = c + i * NODE_LEN;
                pyro_mem_node x = {(int32_t)get_u32(s), get_u32(s + 4), get_u64(s + 8)};
                v->nodes[i] = x;
            }
            break;
        default:
            break;   /* a chunk of a later version: skipped */
        }
    }
nomem:
    *nomem = 1;
    return NULL;
}

int pyro_timeline_file_read(PyObject *path_obj, pyro_timeline_view *v)
{
    pyro_timeline_view_clear(v);
    char *data;
    size_t len;
    PyObject *path_bytes = pyro_read_path(path_obj, &data, &len);
    if (path_bytes == NULL)
        return -1;
    const char *path = PyBytes_AS_STRING(path_bytes);
    int rc = -1;
    if (!pyro_timeline_file_is(data, len)) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s is not a memory timeline (it does not "
                     "start as one)", path);
        goto done;
    }
    int nomem = 0;
    const char *why = parse((const unsigned char *)data + MAGIC_LEN, len - MAGIC_LEN, v, &nomem);
    if (nomem) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    if (why == NULL)
        why = pyro_timeline_view_check(v);
    if (why != NULL) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s is not a memory timeline (it is "
                     "damaged: %s)", path, why);
        goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        pyro_timeline_view_release(v);
    PyMem_RawFree(data);
    Py_DECREF(path_bytes);
    return rc;
}
