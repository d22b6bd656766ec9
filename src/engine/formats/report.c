/* report.c: pstats' text reports, byte for byte, from a pstats dict.
 *
 * format_report() prints what Stats.sort_stats(*sort).print_stats(),
 * print_callers() or print_callees() print, including their quirks.
 * pstats spends microseconds of Python per line; here the sort is a
 * stable C merge sort with pstats' multi-key compare, and the text goes
 * into one UTF-8 buffer decoded to str at the end.  Comments name the
 * pstats method each part mirrors. */
#include "core/text_out.h"
#include "model/pstats_shape.h"
#include "formats/report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* ---- output buffer ------------------------------------------------------ */

/* UTF-8 text in a growing buffer; or, for a report known to be ASCII, the
 * characters of the str to return, written in place: the text is tens of
 * megabytes for a big profile, and a second copy of it costs as much in
 * page faults as the formatting. */
typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
    PyObject *str;             /* the ASCII str being written, or NULL */
} outbuf;

/* Room for n more bytes: the check inline, the growing out of line. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int ob_grow(outbuf *o, size_t n)
{
    if (o->failed)
        return 0;
    size_t cap = o->cap ? o->cap : 1 << 16;
    while (cap < o->len + n)
        cap *= 2;
    if (o->str != NULL) {
        if (PyUnicode_Resize(&o->str, (Py_ssize_t)cap) < 0) {
            PyErr_Clear();   /* reported as MemoryError at the end */
            o->failed = 1;
            return 0;
        }
        o->buf = PyUnicode_DATA(o->str);
    } else {
        char *b = PyMem_RawRealloc(o->buf, cap);
        if (b == NULL) {
            o->failed = 1;
            return 0;
        }
        o->buf = b;
    }
    o->cap = cap;
    return 1;
}

static inline int ob_room(outbuf *o, size_t n)
{
    return PYRO_LIKELY(o->len + n <= o->cap) || ob_grow(o, n);
}

/* Start `o` as an ASCII str with room for `hint` characters. */
static int ob_start_str(outbuf *o, size_t hint)
{
    o->str = PyUnicode_New((Py_ssize_t)(hint > 0 ? hint : 1), 127);
    if (o->str == NULL)
        return -1;
    o->buf = PyUnicode_DATA(o->str);
    o->cap = (size_t)PyUnicode_GET_LENGTH(o->str);
    o->len = 0;
    return 0;
}

/* The text as a str; `o` is left empty.  NULL + exception on failure. */
static PyObject *ob_finish(outbuf *o)
{
    PyObject *s;
    if (o->failed) {
        s = PyErr_NoMemory();
    } else if (o->str != NULL) {
        if (PyUnicode_Resize(&o->str, (Py_ssize_t)o->len) < 0)
            return NULL;
        s = o->str;
        o->str = NULL;
        o->buf = NULL;
        return s;
    } else {
        s = PyUnicode_DecodeUTF8(o->buf ? o->buf : "", (Py_ssize_t)o->len, "surrogatepass");
    }
    return s;
}

static void ob_free(outbuf *o)
{
    if (o->str != NULL)
        Py_CLEAR(o->str);
    else
        PyMem_RawFree(o->buf);
    o->buf = NULL;
}

static void ob_put(outbuf *o, const char *s, size_t n)
{
    if (ob_room(o, n)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
    }
}

static void ob_str(outbuf *o, const char *s)
{
    ob_put(o, s, strlen(s));
}

static void ob_char(outbuf *o, char c)
{
    if (ob_room(o, 1))
        o->buf[o->len++] = c;
}

static void ob_spaces(outbuf *o, Py_ssize_t n)
{
    if (n > 0 && ob_room(o, (size_t)n)) {
        memset(o->buf + o->len, ' ', (size_t)n);
        o->len += (size_t)n;
    }
}

/* Decimal digits of v into the end of buf[24]; returns the start. */
static char *fmt_ll(char *end, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

/* Numbers are built right-aligned against the middle of a 64-byte buffer
 * of spaces, then stored 32 bytes at once, padding included: fixed-size
 * copies the compiler inlines, where two libc calls per number (spaces,
 * digits) cost more than the bytes.  Only `total` of them count. */
enum { NUM_END = 32 };
typedef struct {
    char b[64];
} numbuf;

static char *num_end(numbuf *t)
{
    memset(t->b, ' ', sizeof t->b);
    return t->b + NUM_END;
}

/* The text p .. num_end(t), right-justified in `width`. */
static void ob_num(outbuf *o, numbuf *t, const char *p, size_t width)
{
    const char *e = t->b + NUM_END;
    size_t n = (size_t)(e - p), total = n > width ? n : width;
    if (!ob_room(o, NUM_END))
        return;
    memcpy(o->buf + o->len, e - total, NUM_END);
    o->len += total;
}

static void ob_ll(outbuf *o, long long v)
{
    numbuf t;
    char *e = num_end(&t);
    ob_num(o, &t, fmt_ll(e, v), 0);
}

static Py_ssize_t ll_width(long long v)
{
    char tmp[24];
    return tmp + sizeof tmp - fmt_ll(tmp + sizeof tmp, v);
}

/* "%*.3f" % x as Python formats it: correctly rounded, "nan" unsigned. */
static void ob_fixed3(outbuf *o, double x, int width)
{
    /* Fast path: round x*1000 to an integer.  The product is off from the
     * exact one by at most half an ulp (< 2**-13 below 1e9), so away from a
     * half the integer is the one exact decimal rounding gives; near a
     * half, let printf decide.  Rounding is symmetric: the digits of |x|,
     * then the sign.  (NaN fails the first test.) */
    double y = fabs(x) * 1000.0;
    if (y < 1e12 && width <= 16) {
        unsigned long long m = (unsigned long long)(y + 0.5);
        if (fabs(y - (double)m) < 0.499) {
            numbuf t;
            char *p = num_end(&t) - 4;
            unsigned frac = (unsigned)(m % 1000);
            m /= 1000;
            p[0] = '.';
            p[1] = (char)('0' + frac / 100);
            p[2] = (char)('0' + frac / 10 % 10);
            p[3] = (char)('0' + frac % 10);
            do {
                *--p = (char)('0' + m % 10);
                m /= 10;
            } while (m);
            if (signbit(x))
                *--p = '-';   /* Python keeps the sign of -0.0001: "-0.000" */
            ob_num(o, &t, p, (size_t)width);
            return;
        }
    }
    char tmp[400];
    const char *s;
    size_t n;
    if (isnan(x)) {
        s = "nan";
        n = 3;
    } else if (isinf(x)) {
        s = x < 0 ? "-inf" : "inf";
        n = strlen(s);
    } else {
        int k = snprintf(tmp, sizeof tmp, "%.3f", x);
        s = tmp;
        n = k > 0 ? (size_t)k : 0;
    }
    if ((size_t)width > n)
        ob_spaces(o, (Py_ssize_t)((size_t)width - n));
    ob_put(o, s, n);
}

/* pstats' f8() */
static void ob_f8(outbuf *o, double x)
{
    ob_fixed3(o, x, 8);
}

/* ---- function keys ------------------------------------------------------ */

typedef struct {
    const char *s;
    Py_ssize_t len;
} utf8_span;

typedef struct {
    utf8_span file, name;
    long long line;
    int builtin;          /* ('~', 0, name): how cProfile keys C functions */
    int ascii;            /* file and name are */
} fkey;

typedef struct {
    PyObject *stats;
    PyObject *keep;       /* UTF-8 copies of strs with lone surrogates */
} rctx;

/* UTF-8 of a str: the cached one, or for lone surrogates (undecodable file
 * names) a surrogatepass copy; the output is decoded the same way, so they
 * come back unchanged.  Byte order is code point order either way. */
static int utf8_of(rctx *c, PyObject *s, utf8_span *out)
{
    out->s = PyUnicode_AsUTF8AndSize(s, &out->len);
    PyObject *b = NULL;
    if (out->s != NULL) {
        /* Control characters reach no terminal: spelt \xNN. */
        if (!pyro_utf8_has_controls(out->s, (size_t)out->len, 0))
            return 0;
        b = pyro_escape_controls_utf8(out->s, (size_t)out->len, 0);
        if (b == NULL)
            return -1;
    }
    else {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return -1;
        PyErr_Clear();
        PyObject *raw = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
        if (raw == NULL)
            return -1;
        b = pyro_escape_controls_utf8(PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw), 0);
        if (b == NULL && PyErr_Occurred()) {
            Py_DECREF(raw);
            return -1;
        }
        if (b == NULL)
            b = raw;
        else
            Py_DECREF(raw);
    }
    if (c->keep == NULL && (c->keep = PyList_New(0)) == NULL) {
        Py_DECREF(b);
        return -1;
    }
    int rc = PyList_Append(c->keep, b);
    Py_DECREF(b);
    if (rc < 0)
        return -1;
    out->s = PyBytes_AS_STRING(b);
    out->len = PyBytes_GET_SIZE(b);
    return 0;
}

/* A str to print for `o`: itself, or str(o) kept alive in c->keep. */
static PyObject *as_str(rctx *c, PyObject *o)
{
    if (PyUnicode_Check(o))
        return o;
    PyObject *s = PyObject_Str(o);
    if (s == NULL)
        return NULL;
    if (c->keep == NULL && (c->keep = PyList_New(0)) == NULL) {
        Py_DECREF(s);
        return NULL;
    }
    int rc = PyList_Append(c->keep, s);
    Py_DECREF(s);
    return rc < 0 ? NULL : s;
}

/* `key` has been checked (pyro_check_entry/call): (str, int, name).  The
 * name is a str but in the profile module's entry for its command, which
 * pstats prints with "%s" and which sorts here as that text. */
static int key_of(rctx *c, PyObject *key, fkey *k)
{
    PyObject *file = PyTuple_GET_ITEM(key, 0), *name = as_str(c, PyTuple_GET_ITEM(key, 2));
    if (name == NULL || utf8_of(c, file, &k->file) < 0 || utf8_of(c, name, &k->name) < 0)
        return -1;
    k->ascii = k->file.len == PyUnicode_GET_LENGTH(file) && k->name.len == PyUnicode_GET_LENGTH(name);
    k->line = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
    k->builtin = k->line == 0 && k->file.len == 1 && k->file.s[0] == '~';
    return 0;
}

/* Code points in UTF-8 text (a surrogatepass surrogate is one too). */
static Py_ssize_t utf8_width(const utf8_span *s)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->len; i++)
        n += ((unsigned char)s->s[i] & 0xC0) != 0x80;
    return n;
}

/* len(func_std_string(key)), in code points as str.ljust counts. */
static Py_ssize_t std_width(PyObject *key, const fkey *k)
{
    PyObject *name_obj = PyTuple_GET_ITEM(key, 2);
    Py_ssize_t name = PyUnicode_Check(name_obj) ? PyUnicode_GetLength(name_obj)
                                                : utf8_width(&k->name);
    if (k->builtin)
        return name;
    return PyUnicode_GetLength(PyTuple_GET_ITEM(key, 0)) + ll_width(k->line) + name + 3;
}

/* pstats' func_std_string(): "file:line(name)", or for a C function its
 * name, with <...> spelt {...}. */
static void ob_std(outbuf *o, const fkey *k)
{
    if (k->builtin) {
        const char *s = k->name.s;
        Py_ssize_t n = k->name.len;
        if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
            ob_char(o, '{');
            ob_put(o, s + 1, (size_t)n - 2);
            ob_char(o, '}');
        } else {
            ob_put(o, s, (size_t)n);
        }
        return;
    }
    ob_put(o, k->file.s, (size_t)k->file.len);
    ob_char(o, ':');
    ob_ll(o, k->line);
    ob_char(o, '(');
    ob_put(o, k->name.s, (size_t)k->name.len);
    ob_char(o, ')');
}

static int cmp_utf8(const utf8_span *a, const utf8_span *b)
{
    Py_ssize_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, (size_t)n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* sorted() order of (file, line, name) tuples. */
static int cmp_fkey(const fkey *a, const fkey *b)
{
    int c = cmp_utf8(&a->file, &b->file);
    if (c == 0)
        c = (a->line > b->line) - (a->line < b->line);
    if (c == 0)
        c = cmp_utf8(&a->name, &b->name);
    return c;
}

/* ---- entries ------------------------------------------------------------ */

typedef struct {
    fkey k;
    PyObject *key, *value;     /* strong: the dict is ours to read, not to keep */
    PyObject *callers;         /* in value */
    long long cc, nc;
    double tt, ct;
    Py_ssize_t width;          /* len(func_std_string(key)) */
    utf8_span std;                    /* func_std_string(key) */
    size_t arena_off;          /* where file, name and std are copied */
} entry;

static double num(PyObject *o)
{
    return PyFloat_CheckExact(o) ? PyFloat_AS_DOUBLE(o) : PyFloat_AsDouble(o);
}

/* ---- sort_stats() --------------------------------------------------------- */

/* Columns of pstats' sort tuple (cc, nc, tt, ct, file, line, name, stdname). */
enum { F_CC, F_NC, F_TT, F_CT, F_FILE, F_LINE, F_NAME, F_STD };

typedef struct {
    const char *word, *title;
    int nkeys;
    int keys[3][2];            /* (column, direction) */
} sort_def;

/* Stats.sort_arg_dict_default, in its order (the order matters below). */
static const sort_def sort_defs[] = {
    {"calls", "call count", 1, {{F_NC, -1}}},
    {"ncalls", "call count", 1, {{F_NC, -1}}},
    {"cumtime", "cumulative time", 1, {{F_CT, -1}}},
    {"cumulative", "cumulative time", 1, {{F_CT, -1}}},
    {"filename", "file name", 1, {{F_FILE, 1}}},
    {"line", "line number", 1, {{F_LINE, 1}}},
    {"module", "file name", 1, {{F_FILE, 1}}},
    {"name", "function name", 1, {{F_NAME, 1}}},
    {"nfl", "name/file/line", 3, {{F_NAME, 1}, {F_FILE, 1}, {F_LINE, 1}}},
    {"pcalls", "primitive call count", 1, {{F_CC, -1}}},
    {"stdname", "standard name", 1, {{F_STD, 1}}},
    {"time", "internal time", 1, {{F_TT, -1}}},
    {"tottime", "internal time", 1, {{F_TT, -1}}},
};
#define N_SORT_DEFS (sizeof sort_defs / sizeof sort_defs[0])

/* Stats.get_sort_arg_defs(), replayed: each word claims its prefixes,
 * longest first, until it meets one already claimed; that one is dropped as
 * ambiguous, the shorter ones stay with their first claimant (so "cu" is
 * cumtime and "cum" is nothing). */
static const sort_def *find_sort_def(const char *w, size_t wlen)
{
    struct {
        const char *s;
        size_t len;
        int def, bad;
    } frags[128];
    size_t nfrags = 0;
    for (size_t i = 0; i < N_SORT_DEFS; i++) {
        const char *word = sort_defs[i].word;
        for (size_t len = strlen(word); len > 0; len--) {
            size_t j = 0;
            while (j < nfrags && !(frags[j].len == len && memcmp(frags[j].s, word, len) == 0))
                j++;
            if (j < nfrags) {
                frags[j].bad = 1;
                break;
            }
            frags[nfrags].s = word;
            frags[nfrags].len = len;
            frags[nfrags].def = (int)i;
            frags[nfrags].bad = 0;
            nfrags++;
        }
    }
    for (size_t j = 0; j < nfrags; j++)
        if (frags[j].len == wlen && memcmp(frags[j].s, w, wlen) == 0)
            return frags[j].bad ? NULL : &sort_defs[frags[j].def];
    return NULL;
}

typedef struct {
    int nkeys;
    int keys[64][2];
    int random;                /* sort_stats() with no key: dict order */
} sort_spec;

static int sort_word(sort_spec *spec, outbuf *title, PyObject *word)
{
    Py_ssize_t n;
    const char *w = PyUnicode_Check(word) ? PyUnicode_AsUTF8AndSize(word, &n) : NULL;
    if (w == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "pyrometer: sort keys are str, not %.100s",
                         Py_TYPE(word)->tp_name);
        return -1;
    }
    const sort_def *d = find_sort_def(w, (size_t)n);
    if (d == NULL) {
        PyErr_Format(PyExc_ValueError,
                     "pyrometer: unknown or ambiguous sort key %R (one of: calls, cumulative, "
                     "cumtime, file, filename, module, ncalls, pcalls, line, name, nfl, stdname, "
                     "time, tottime, or a unique prefix)", word);
        return -1;
    }
    if (spec->nkeys + d->nkeys > 64) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: too many sort keys");
        return -1;
    }
    for (int i = 0; i < d->nkeys; i++) {
        spec->keys[spec->nkeys][0] = d->keys[i][0];
        spec->keys[spec->nkeys][1] = d->keys[i][1];
        spec->nkeys++;
    }
    if (title->len > 0)
        ob_str(title, ", ");
    ob_str(title, d->title);
    return 0;
}

/* `sort`: a key, a sequence of keys, or pstats' legacy -1/0/1/2. */
static int parse_sort(PyObject *sort, sort_spec *spec, outbuf *title)
{
    spec->nkeys = 0;
    spec->random = 0;
    if (PyLong_Check(sort)) {
        static const char *legacy[] = {"stdname", "calls", "time", "cumulative"};
        long v = PyLong_AsLong(sort);
        if (v < -1 || v > 2) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_ValueError, "pyrometer: legacy sort key %R is not -1, 0, 1 or 2",
                             sort);
            }
            return -1;
        }
        PyObject *w = PyUnicode_FromString(legacy[v + 1]);
        if (w == NULL)
            return -1;
        int rc = sort_word(spec, title, w);
        Py_DECREF(w);
        return rc;
    }
    if (PyUnicode_Check(sort))
        return sort_word(spec, title, sort);
    PyObject *seq = PySequence_Fast(sort, "pyrometer: sort must be a str or a tuple of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sort_word(spec, title, PySequence_Fast_GET_ITEM(seq, i)) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    spec->random = n == 0;
    return 0;
}

/* TupleComp.compare() */
static int cmp_entries(const entry *a, const entry *b, const sort_spec *spec)
{
    for (int i = 0; i < spec->nkeys; i++) {
        int c;
        switch (spec->keys[i][0]) {
        case F_CC: c = (a->cc > b->cc) - (a->cc < b->cc); break;
        case F_NC: c = (a->nc > b->nc) - (a->nc < b->nc); break;
        case F_TT: c = (a->tt > b->tt) - (a->tt < b->tt); break;
        case F_CT: c = (a->ct > b->ct) - (a->ct < b->ct); break;
        case F_FILE: c = cmp_utf8(&a->k.file, &b->k.file); break;
        case F_LINE: c = (a->k.line > b->k.line) - (a->k.line < b->k.line); break;
        case F_NAME: c = cmp_utf8(&a->k.name, &b->k.name); break;
        default: c = cmp_utf8(&a->std, &b->std); break;
        }
        if (c != 0)
            return c * spec->keys[i][1];
    }
    return 0;
}

/* Stable, like list.sort(): ties keep dict order. */
static void merge_sort(entry **a, entry **tmp, size_t n, const sort_spec *spec)
{
    if (n <= 12) {
        for (size_t i = 1; i < n; i++) {
            entry *x = a[i];
            size_t j = i;
            while (j > 0 && cmp_entries(a[j - 1], x, spec) > 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    merge_sort(a, tmp, h, spec);
    merge_sort(a + h, tmp, n - h, spec);
    if (cmp_entries(a[h - 1], a[h], spec) <= 0)
        return;
    memcpy(tmp, a, h * sizeof(*a));
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        a[k++] = cmp_entries(a[j], tmp[i], spec) < 0 ? a[j++] : tmp[i++];
    while (i < h)
        a[k++] = tmp[i++];
}

/* ---- calls (callers and callees) ----------------------------------------- */

/* One item of a callers dict, numbers taken out once. */
typedef struct {
    const fkey *k;             /* the other function's key */
    utf8_span std;                    /* its func_std_string() if it has an entry */
    long long nc, cc;
    double tt, ct;             /* for a plain count: ct is the function's own */
    int plain;                 /* the profile module's int instead of a tuple */
} call;

static int cmp_call(const void *a, const void *b)
{
    return cmp_fkey(((const call *)a)->k, ((const call *)b)->k);
}

static int not_pstats(PyObject *reason)
{
    PyErr_Format(PyExc_ValueError, "pyrometer: stats is not a pstats dict (%U)", reason);
    Py_DECREF(reason);
    return -1;
}

/* Check the item (ckey: cvalue) of the callers of `key`, take its numbers;
 * `ckey_checked`: ckey is one of the stats' own keys. */
static int take_call(PyObject *key, PyObject *ckey, PyObject *cvalue, int ckey_checked, call *out)
{
    /* cProfile's (int, int, float, float), its key one of the entries' */
    if (ckey_checked && PyTuple_CheckExact(cvalue) && PyTuple_GET_SIZE(cvalue) == 4) {
        PyObject *nc = PyTuple_GET_ITEM(cvalue, 0), *cc = PyTuple_GET_ITEM(cvalue, 1);
        PyObject *tt = PyTuple_GET_ITEM(cvalue, 2), *ct = PyTuple_GET_ITEM(cvalue, 3);
        if (PyLong_CheckExact(nc) && PyLong_CheckExact(cc) && PyFloat_CheckExact(tt)
            && PyFloat_CheckExact(ct)) {
            int o1, o2;
            out->nc = PyLong_AsLongLongAndOverflow(nc, &o1);
            out->cc = PyLong_AsLongLongAndOverflow(cc, &o2);
            if (o1 == 0 && o2 == 0) {
                out->plain = 0;
                out->tt = PyFloat_AS_DOUBLE(tt);
                out->ct = PyFloat_AS_DOUBLE(ct);
                return 0;
            }
        }
    }
    PyObject *reason;
    int bad = pyro_check_call(key, ckey, cvalue, ckey_checked, &reason);
    if (bad != 0)
        return bad > 0 ? not_pstats(reason) : -1;
    if (PyTuple_Check(cvalue)) {
        out->plain = 0;
        out->nc = PyLong_AsLongLong(PyTuple_GET_ITEM(cvalue, 0));
        out->cc = PyLong_AsLongLong(PyTuple_GET_ITEM(cvalue, 1));
        out->tt = num(PyTuple_GET_ITEM(cvalue, 2));
        out->ct = num(PyTuple_GET_ITEM(cvalue, 3));
    } else {
        out->plain = 1;
        out->nc = out->cc = PyLong_AsLongLong(cvalue);
        out->tt = out->ct = 0.0;
    }
    return 0;
}

/* Entries by key, for the callers' keys.  load_stats() gives a function's
 * key and the keys naming it as a caller one tuple, so the tuple's identity
 * finds the entry without reading the key (a cache miss or three per call
 * saved).  Other keys are matched by content, in a table built the first
 * time one is needed. */
typedef struct {
    PyObject *key;             /* NULL: empty */
    Py_ssize_t entry;
} id_slot;

typedef struct {
    id_slot *ids;              /* identity table: key tuples and their entries */
    size_t id_mask;
    Py_ssize_t *slots;         /* content table: entry index + 1, 0 is empty */
    size_t mask;
} key_index;

static size_t table_size(Py_ssize_t n)
{
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap *= 2;
    return cap;
}

static size_t ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 32));
}

static uint64_t fkey_hash(const fkey *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < k->file.len; i++)
        h = (h ^ (unsigned char)k->file.s[i]) * 1099511628211ULL;
    h = (h ^ (uint64_t)k->line) * 1099511628211ULL;
    for (Py_ssize_t i = 0; i < k->name.len; i++)
        h = (h ^ (unsigned char)k->name.s[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int index_build(key_index *ix, const entry *entries, Py_ssize_t n)
{
    size_t cap = table_size(n);
    ix->ids = PyMem_RawCalloc(cap, sizeof(*ix->ids));
    if (ix->ids == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ix->id_mask = cap - 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t j = ptr_hash(entries[i].key) & ix->id_mask;
        while (ix->ids[j].key != NULL)
            j = (j + 1) & ix->id_mask;
        ix->ids[j].key = entries[i].key;
        ix->ids[j].entry = i;
    }
    return 0;
}

static void index_free(key_index *ix)
{
    PyMem_RawFree(ix->ids);
    PyMem_RawFree(ix->slots);
}

static Py_ssize_t index_find_id(const key_index *ix, PyObject *key)
{
    size_t j = ptr_hash(key) & ix->id_mask;
    while (ix->ids[j].key != NULL) {
        if (ix->ids[j].key == key)
            return ix->ids[j].entry;
        j = (j + 1) & ix->id_mask;
    }
    return -1;
}

/* The entry with the key `k` spells, -1 if none; -2 + MemoryError. */
static Py_ssize_t index_find(key_index *ix, const entry *entries, Py_ssize_t n, const fkey *k)
{
    if (ix->slots == NULL) {
        size_t cap = table_size(n);
        ix->slots = PyMem_RawCalloc(cap, sizeof(*ix->slots));
        if (ix->slots == NULL) {
            PyErr_NoMemory();
            return -2;
        }
        ix->mask = cap - 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            size_t j = fkey_hash(&entries[i].k) & ix->mask;
            while (ix->slots[j] != 0)
                j = (j + 1) & ix->mask;
            ix->slots[j] = i + 1;
        }
    }
    size_t j = fkey_hash(k) & ix->mask;
    while (ix->slots[j] != 0) {
        const fkey *e = &entries[ix->slots[j] - 1].k;
        if (e->line == k->line && cmp_utf8(&e->file, &k->file) == 0 && cmp_utf8(&e->name, &k->name) == 0)
            return ix->slots[j] - 1;
        j = (j + 1) & ix->mask;
    }
    return -1;
}

static void put_call_std(outbuf *o, const call *c)
{
    if (c->std.s != NULL)
        ob_put(o, c->std.s, (size_t)c->std.len);
    else
        ob_std(o, c->k);
}

/* Stats.print_call_line() */
static void put_call_line(outbuf *o, Py_ssize_t name_size, const entry *src,
                          call *calls, Py_ssize_t n, const char *arrow)
{
    ob_put(o, src->std.s, (size_t)src->std.len);
    ob_spaces(o, name_size - src->width);
    ob_str(o, arrow);
    ob_char(o, ' ');
    if (n == 0) {
        ob_char(o, '\n');
        return;
    }
    qsort(calls, (size_t)n, sizeof(*calls), cmp_call);
    for (Py_ssize_t i = 0; i < n; i++) {
        const call *c = &calls[i];
        if (!c->plain) {
            /* '%d/%d' or '%d', right-justified in 7 (9 after the first) */
            Py_ssize_t w = ll_width(c->nc) + (c->nc != c->cc ? 1 + ll_width(c->cc) : 0);
            if (i > 0)
                ob_spaces(o, name_size + 1);
            ob_spaces(o, (i > 0 ? 9 : 7) - w);
            ob_ll(o, c->nc);
            if (c->nc != c->cc) {
                ob_char(o, '/');
                ob_ll(o, c->cc);
            }
            ob_char(o, ' ');
            ob_f8(o, c->tt);
            ob_char(o, ' ');
            ob_f8(o, c->ct);
            ob_str(o, "  ");
            put_call_std(o, c);
        } else {
            /* the profile module's plain count: '%s(%r) %s', with the
             * function's own cumtime */
            if (i > 0)
                ob_spaces(o, name_size + 3);
            put_call_std(o, c);
            ob_char(o, '(');
            ob_ll(o, c->nc);
            ob_str(o, ") ");
            ob_f8(o, c->ct);
        }
        ob_char(o, '\n');
    }
}

/* ---- restrictions: Stats.eval_print_amount() ------------------------------ */

/* "%r" % obj; *failed set (with the exception) if repr() fails. */
static void ob_repr(outbuf *o, PyObject *obj, int *failed)
{
    PyObject *r = PyObject_Repr(obj);
    Py_ssize_t n;
    const char *s = r != NULL ? PyUnicode_AsUTF8AndSize(r, &n) : NULL;
    if (s == NULL) {
        *failed = 1;
    } else {
        ob_put(o, s, (size_t)n);
    }
    Py_XDECREF(r);
}

static PyObject *std_str(const fkey *k)
{
    outbuf t = {0};
    ob_std(&t, k);
    PyObject *s = t.failed ? PyErr_NoMemory()
                           : PyUnicode_DecodeUTF8(t.buf ? t.buf : "", (Py_ssize_t)t.len, "surrogatepass");
    PyMem_RawFree(t.buf);
    return s;
}

/* Apply one restriction to list[0:*count]; message lines go to msg. */
static int restrict_list(PyObject *sel, entry **list, Py_ssize_t *count, outbuf *msg)
{
    Py_ssize_t before = *count, after = before;
    int failed = 0;
    if (PyUnicode_Check(sel)) {
        PyObject *re = PyImport_ImportModule("re");
        if (re == NULL)
            return -1;
        PyObject *re_error = PyObject_GetAttrString(re, "error");
        if (re_error == NULL) {
            Py_DECREF(re);
            return -1;
        }
        PyObject *rex = PyObject_CallMethod(re, "compile", "O", sel);
        Py_DECREF(re);
        if (rex == NULL) {
            int bad_pattern = PyErr_ExceptionMatches(re_error);
            Py_DECREF(re_error);
            if (!bad_pattern)
                return -1;
            PyErr_Clear();
            ob_str(msg, "   <Invalid regular expression ");
            ob_repr(msg, sel, &failed);
            ob_str(msg, ">\n");
            return failed ? -1 : 0;
        }
        Py_DECREF(re_error);
        PyObject *search = PyObject_GetAttrString(rex, "search");
        Py_DECREF(rex);
        if (search == NULL)
            return -1;
        after = 0;
        for (Py_ssize_t i = 0; i < before; i++) {
            PyObject *s = std_str(&list[i]->k);
            PyObject *m = s != NULL ? PyObject_CallFunctionObjArgs(search, s, NULL) : NULL;
            Py_XDECREF(s);
            if (m == NULL) {
                Py_DECREF(search);
                return -1;
            }
            if (m != Py_None)
                list[after++] = list[i];
            Py_DECREF(m);
        }
        Py_DECREF(search);
    } else if (PyFloat_Check(sel)) {
        double f = PyFloat_AS_DOUBLE(sel);
        if (0.0 <= f && f < 1.0)
            after = (Py_ssize_t)((double)before * f + .5);
    } else if (PyLong_Check(sel)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(sel, &overflow);
        if (overflow == 0 && 0 <= v && v < before)
            after = (Py_ssize_t)v;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "pyrometer: limit must be an int, a float, a regex str or a tuple of "
                     "them, not %.100s", Py_TYPE(sel)->tp_name);
        return -1;
    }
    if (after != before) {
        ob_str(msg, "   List reduced from ");
        ob_ll(msg, before);
        ob_str(msg, " to ");
        ob_ll(msg, after);
        ob_str(msg, " due to restriction <");
        ob_repr(msg, sel, &failed);
        ob_str(msg, ">\n");
    }
    *count = after;
    return failed ? -1 : 0;
}

/* ---- format_report ---------------------------------------------------------- */

enum { MODE_STATS, MODE_CALLERS, MODE_CALLEES };

typedef struct {
    rctx c;
    entry *entries;
    entry **list;
    Py_ssize_t n, count;
    Py_ssize_t loaded;         /* entries holding references */
    unsigned long long total_calls, prim_calls;   /* wrap, not overflow */
    double total_tt;
    Py_ssize_t max_name_len;
    outbuf out, msg, title, arena;
    int ascii;                 /* every name and header line is ASCII */
    struct fkey_chunk *others; /* keys of callers without an entry */
} report;

/* Stable storage for the keys of callers that have no entry. */
typedef struct fkey_chunk {
    struct fkey_chunk *next;
    size_t used;
    fkey keys[256];
} fkey_chunk;

static fkey *other_key(report *r)
{
    if (r->others == NULL || r->others->used == 256) {
        fkey_chunk *c = PyMem_RawMalloc(sizeof(*c));
        if (c == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        c->next = r->others;
        c->used = 0;
        r->others = c;
    }
    return &r->others->keys[r->others->used++];
}

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Where the report goes, now that all the text it holds is known: straight
 * into a str if it is all ASCII.  `hint`: about the bytes it will take. */
static int start_output(report *r, size_t hint)
{
    if (r->ascii && all_ascii(r->msg.buf ? r->msg.buf : "", r->msg.len))
        return ob_start_str(&r->out, hint + r->msg.len + 256);
    ob_room(&r->out, hint);
    return 0;
}

static int load_entries(report *r)
{
    r->n = PyDict_Size(r->c.stats);
    r->entries = PyMem_RawCalloc((size_t)r->n + 1, sizeof(*r->entries));
    r->list = PyMem_RawMalloc(((size_t)r->n + 1) * sizeof(*r->list));
    if (r->entries == NULL || r->list == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    /* Stats.get_top_level_stats(): totals in dict order (float sums
     * depend on it), and the widest name. */
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(r->c.stats, &pos, &key, &value)) {
        if (i == r->n) {   /* str() of an odd name changed the dict */
            PyErr_SetString(PyExc_RuntimeError, "pyrometer: stats changed size during the report");
            return -1;
        }
        entry *e = &r->entries[i];
        PyObject *reason;
        int bad = pyro_check_entry(key, value, 0, &reason);
        if (bad != 0)
            return bad > 0 ? not_pstats(reason) : -1;
        e->key = Py_NewRef(key);
        e->value = Py_NewRef(value);
        r->loaded = i + 1;
        if (key_of(&r->c, key, &e->k) < 0)
            return -1;
        r->ascii &= e->k.ascii;
        e->cc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 0));
        e->nc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 1));
        e->tt = num(PyTuple_GET_ITEM(value, 2));
        e->ct = num(PyTuple_GET_ITEM(value, 3));
        e->callers = PyTuple_GET_ITEM(value, 4);
        e->width = std_width(key, &e->k);
        /* Copies of the names, made while they are in the cache: the sort
         * and the printing then read one dense block, not two strs per
         * function scattered over the heap. */
        e->arena_off = r->arena.len;
        ob_put(&r->arena, e->k.file.s, (size_t)e->k.file.len);
        ob_put(&r->arena, e->k.name.s, (size_t)e->k.name.len);
        size_t before_std = r->arena.len;
        ob_std(&r->arena, &e->k);
        e->std.len = (Py_ssize_t)(r->arena.len - before_std);
        r->total_calls += (unsigned long long)e->nc;
        r->prim_calls += (unsigned long long)e->cc;
        r->total_tt += e->tt;
        if (e->width > r->max_name_len)
            r->max_name_len = e->width;
        r->list[i] = e;
        i++;
    }
    r->n = r->count = i;
    if (r->arena.failed) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < r->n; i++) {
        entry *e = &r->entries[i];
        const char *base = r->arena.buf + e->arena_off;
        e->k.file.s = base;
        e->k.name.s = base + e->k.file.len;
        e->std.s = base + e->k.file.len + e->k.name.len;
    }
    return 0;
}

/* A sort key and the entry it belongs to, for radix_sort(). */
typedef struct {
    uint64_t key;
    Py_ssize_t at;
} keyed;

/* Stable LSD radix sort by key, a byte a pass; passes over a byte that all
 * keys share are skipped (the exponent bytes of similar times). */
static int radix_sort(keyed *a, size_t n)
{
    keyed *tmp = PyMem_RawMalloc(n * sizeof(*tmp)), *orig = a;
    if (tmp == NULL)
        return -1;
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            count[b][(a[i].key >> (8 * b)) & 0xff]++;
    for (int b = 0; b < 8; b++) {
        size_t *c = count[b];
        if (c[(a[0].key >> (8 * b)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t k = c[v];
            c[v] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            tmp[c[(a[i].key >> (8 * b)) & 0xff]++] = a[i];
        keyed *t = a;
        a = tmp;
        tmp = t;
    }
    if (a != orig) {   /* an odd number of passes: the result is in tmp */
        memcpy(orig, a, n * sizeof(*a));
        tmp = a;
    }
    PyMem_RawFree(tmp);
    return 0;
}

/* Order-preserving unsigned image of a double (no NaN) or a long long. */
static uint64_t double_key(double x)
{
    x += 0.0;   /* -0.0 is 0.0, as the compare finds */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

static uint64_t ll_key(long long v)
{
    return (uint64_t)v ^ (1ULL << 63);
}

/* One numeric column: sort by its key, precomputed, as integers.  0 if
 * done, 1 if not possible here (a NaN: the compare treats it as equal to
 * anything, which only the merge sort's steps can reproduce), -1 on
 * failure. */
static int sort_by_number(report *r, const sort_spec *spec)
{
    int col = spec->keys[0][0];
    if (spec->nkeys != 1 || !(col == F_CC || col == F_NC || col == F_TT || col == F_CT))
        return 1;
    size_t n = (size_t)r->n;
    keyed *a = PyMem_RawMalloc(n * sizeof(*a));
    if (a == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    uint64_t flip = spec->keys[0][1] < 0 ? ~0ULL : 0;
    for (size_t i = 0; i < n; i++) {
        const entry *e = r->list[i];
        uint64_t k;
        switch (col) {
        case F_CC: k = ll_key(e->cc); break;
        case F_NC: k = ll_key(e->nc); break;
        default: {
            double x = col == F_TT ? e->tt : e->ct;
            if (isnan(x)) {
                PyMem_RawFree(a);
                return 1;
            }
            k = double_key(x);
        }
        }
        a[i].key = k ^ flip;
        a[i].at = e - r->entries;
    }
    if (radix_sort(a, n) < 0) {
        PyMem_RawFree(a);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        r->list[i] = &r->entries[a[i].at];
    PyMem_RawFree(a);
    return 0;
}

static int sort_entries(report *r, const sort_spec *spec)
{
    if (spec->random || r->n < 2)
        return 0;
    int rc = sort_by_number(r, spec);
    if (rc <= 0)
        return rc;
    entry **tmp = PyMem_RawMalloc(((size_t)r->n / 2 + 1) * sizeof(*tmp));
    if (tmp == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    merge_sort(r->list, tmp, (size_t)r->n, spec);
    PyMem_RawFree(tmp);
    return 0;
}

/* Stats.print_stats(): the header, then Stats.print_line() per function. */
static int print_stats(report *r, PyObject *files)
{
    outbuf *o = &r->out;
    Py_ssize_t nfiles = PySequence_Fast_GET_SIZE(files);
    size_t need = 256;
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        PyObject *line = PySequence_Fast_GET_ITEM(files, i);
        utf8_span s;
        if (!PyUnicode_Check(line)) {
            PyErr_Format(PyExc_TypeError, "pyrometer: files must hold str, not %.100s",
                         Py_TYPE(line)->tp_name);
            return -1;
        }
        if (utf8_of(&r->c, line, &s) < 0)
            return -1;
        r->ascii &= s.len == PyUnicode_GET_LENGTH(line);
        need += (size_t)s.len + 1;
    }
    for (Py_ssize_t i = 0; i < r->count; i++)
        need += (size_t)r->list[i]->std.len + 48;
    if (start_output(r, need) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        utf8_span s;
        if (utf8_of(&r->c, PySequence_Fast_GET_ITEM(files, i), &s) < 0)
            return -1;
        ob_put(o, s.s, (size_t)s.len);
        ob_char(o, '\n');
    }
    if (nfiles > 0)
        ob_char(o, '\n');
    /* top_level: functions called by old jprofile data's root.  pstats
     * keeps them in a set, in no order anyone can rely on: dict order. */
    PyObject *jkey = Py_BuildValue("(sis)", "jprofile", 0, "profiler");
    if (jkey == NULL)
        return -1;
    Py_hash_t jhash = PyObject_Hash(jkey);   /* once, not once a function */
    if (jhash == -1) {
        Py_DECREF(jkey);
        return -1;
    }
    for (Py_ssize_t i = 0; i < r->n; i++) {
        PyObject *callers = r->entries[i].callers;
        int has = PyDict_GET_SIZE(callers) > 0
            && _PyDict_GetItem_KnownHash(callers, jkey, jhash) != NULL;
        if (!has && PyErr_Occurred()) {
            Py_DECREF(jkey);
            return -1;
        }
        if (has) {
            ob_spaces(o, 9);
            ob_put(o, r->entries[i].k.name.s, (size_t)r->entries[i].k.name.len);
            ob_char(o, '\n');
        }
    }
    Py_DECREF(jkey);
    ob_spaces(o, 9);
    ob_ll(o, (long long)r->total_calls);
    ob_str(o, " function calls ");
    if (r->total_calls != r->prim_calls) {
        ob_char(o, '(');
        ob_ll(o, (long long)r->prim_calls);
        ob_str(o, " primitive calls) ");
    }
    ob_str(o, "in ");
    ob_fixed3(o, r->total_tt, 0);
    ob_str(o, " seconds\n\n");
    if (r->count == 0)
        return 0;
    ob_put(o, r->msg.buf, r->msg.len);
    ob_char(o, '\n');
    ob_str(o, "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n");
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const entry *e = r->list[i];
        Py_ssize_t w = ll_width(e->nc) + (e->nc != e->cc ? 1 + ll_width(e->cc) : 0);
        ob_spaces(o, 9 - w);
        ob_ll(o, e->nc);
        if (e->nc != e->cc) {
            ob_char(o, '/');
            ob_ll(o, e->cc);
        }
        ob_char(o, ' ');
        ob_f8(o, e->tt);
        ob_char(o, ' ');
        if (e->nc == 0)
            ob_spaces(o, 8);
        else
            ob_f8(o, e->tt / (double)e->nc);
        ob_char(o, ' ');
        ob_f8(o, e->ct);
        ob_char(o, ' ');
        if (e->cc == 0)
            ob_spaces(o, 8);
        else
            ob_f8(o, e->ct / (double)e->cc);
        ob_char(o, ' ');
        ob_put(o, e->std.s, (size_t)e->std.len);
        ob_char(o, '\n');
    }
    ob_str(o, "\n\n");
    return 0;
}

/* Stats.print_call_heading() */
static void print_call_heading(report *r, Py_ssize_t name_size, const char *column_title)
{
    outbuf *o = &r->out;
    ob_str(o, "Function ");
    ob_spaces(o, name_size - 9);
    ob_str(o, column_title);
    ob_char(o, '\n');
    /* The column names only for cProfile's tuples, judged on the first
     * function (in dict order) that has callers. */
    for (Py_ssize_t i = 0; i < r->n; i++) {
        PyObject *callers = r->entries[i].callers;
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        if (!PyDict_Next(callers, &pos, &k, &v))
            continue;
        if (PyTuple_Check(v)) {
            ob_spaces(o, name_size);
            ob_str(o, "    ncalls  tottime  cumtime\n");
        }
        break;
    }
}

/* Start the output of print_callers()/print_callees() with the lines of
 * get_print_list(), room made at once for all the call lines: growing tens
 * of megabytes by doubling would copy them again and again. */
static size_t entry_room(Py_ssize_t name_size, const entry *e)
{
    return (size_t)name_size + (size_t)e->std.len + 8;
}

static size_t call_room(Py_ssize_t name_size, const call *c)
{
    return (size_t)name_size + (size_t)(c->std.s ? c->std.len : 64) + 48;
}

/* `need`: the entry_room() and call_room() of what will be printed, added
 * up as the calls were read (another pass would miss the cache again). */
static int start_call_lines(report *r, size_t need)
{
    if (start_output(r, need) < 0)
        return -1;
    ob_put(&r->out, r->msg.buf, r->msg.len);
    ob_char(&r->out, '\n');
    return 0;
}

/* The call lines of the listed functions, their calls in all[start[c] ..
 * start[c + 1]] for entry c.  The names come from all over the arena: they
 * are asked for a few functions ahead, so that the cache misses overlap
 * instead of following one another. */
static void put_call_lines(report *r, Py_ssize_t name_size, call *all, const size_t *start,
                           const char *arrow)
{
    enum { AHEAD = 4 };
    for (Py_ssize_t i = 0; i < r->count; i++) {
        if (i + AHEAD < r->count) {
            size_t a = (size_t)(r->list[i + AHEAD] - r->entries);
            PREFETCH(r->list[i + AHEAD]->std.s);
            for (size_t j = start[a]; j < start[a + 1]; j++)
                if (all[j].std.s != NULL)
                    PREFETCH(all[j].std.s);
        }
        size_t c = (size_t)(r->list[i] - r->entries);
        put_call_line(&r->out, name_size, r->list[i], all + start[c],
                      (Py_ssize_t)(start[c + 1] - start[c]), arrow);
    }
}

/* One item of the callers of entry e: its numbers, the caller's key, and
 * the caller's entry index (-1 if it has none); -2 on error. */
static Py_ssize_t read_call(report *r, key_index *ix, const entry *e, PyObject *ckey,
                            PyObject *cvalue, call *c)
{
    Py_ssize_t idx = index_find_id(ix, ckey);
    if (take_call(e->key, ckey, cvalue, idx >= 0, c) < 0)
        return -2;
    if (idx < 0) {
        fkey k;
        if (key_of(&r->c, ckey, &k) < 0)
            return -2;
        idx = index_find(ix, r->entries, r->n, &k);
        if (idx == -2)
            return -2;
        if (idx < 0) {
            fkey *kept = other_key(r);
            if (kept == NULL)
                return -2;
            *kept = k;
            c->k = kept;
            c->std.s = NULL;
            c->std.len = 0;
            r->ascii &= k.ascii;
            return -1;
        }
    }
    c->k = &r->entries[idx].k;
    c->std = r->entries[idx].std;
    return idx;
}

/* Stats.print_callers().  The callers dicts are read in dict order, about
 * the order their objects lie in memory, and printed from the copies in
 * the report's order: reading them in that order would cost cache misses
 * on every object. */
static int print_callers(report *r, Py_ssize_t name_size)
{
    int rc = -1;
    key_index ix = {0};
    unsigned char *listed = PyMem_RawCalloc((size_t)r->n + 1, 1);
    size_t *start = PyMem_RawMalloc(((size_t)r->n + 1) * sizeof(*start));
    call *all = NULL;
    size_t nall = 0, cap = 0, need = 0;
    if (listed == NULL || start == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (index_build(&ix, r->entries, r->n) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < r->count; i++)
        listed[r->list[i] - r->entries] = 1;
    for (Py_ssize_t i = 0; i < r->n; i++) {
        const entry *e = &r->entries[i];
        start[i] = nall;
        if (!listed[i])
            continue;
        need += entry_room(name_size, e);
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(e->callers, &pos, &k, &v)) {
            if (nall == cap) {
                cap = cap ? cap * 2 : 1024;
                call *bigger = PyMem_RawRealloc(all, cap * sizeof(*all));
                if (bigger == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                all = bigger;
            }
            call *c = &all[nall++];
            Py_ssize_t caller = read_call(r, &ix, e, k, v, c);
            if (caller == -2)
                goto done;
            /* a plain count prints the caller's own cumtime (pstats raises
             * KeyError for a caller without an entry; 0 here) */
            if (c->plain)
                c->ct = caller >= 0 ? r->entries[caller].ct : 0.0;
            need += call_room(name_size, c);
        }
    }
    start[r->n] = nall;
    if (start_call_lines(r, need) < 0)
        goto done;
    print_call_heading(r, name_size, "was called by...");
    put_call_lines(r, name_size, all, start, "<-");
    ob_str(&r->out, "\n\n");
    rc = 0;
done:
    index_free(&ix);
    PyMem_RawFree(listed);
    PyMem_RawFree(start);
    PyMem_RawFree(all);
    return rc;
}

typedef struct {
    Py_ssize_t caller;
    call c;                    /* its key is the callee's */
} edge;

/* Stats.print_callees(); calc_callees() becomes a counting sort of all
 * calls by caller, read in dict order as print_callers() does. */
static int print_callees(report *r, Py_ssize_t name_size)
{
    int rc = -1;
    key_index ix = {0};
    size_t *start = NULL;
    edge *edges = NULL;
    call *all = NULL;
    size_t nedges = 0, cap = 0, need = 0;

    if (index_build(&ix, r->entries, r->n) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < r->n; i++) {
        const entry *e = &r->entries[i];
        need += entry_room(name_size, e);   /* listed or not: a hint */
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(e->callers, &pos, &k, &v)) {
            if (nedges == cap) {
                cap = cap ? cap * 2 : 1024;
                edge *bigger = PyMem_RawRealloc(edges, cap * sizeof(*edges));
                if (bigger == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                edges = bigger;
            }
            edge *ed = &edges[nedges];
            ed->caller = read_call(r, &ix, e, k, v, &ed->c);
            if (ed->caller == -2)
                goto done;
            if (ed->caller < 0)
                continue;   /* a caller without an entry is never printed */
            ed->c.k = &e->k;
            ed->c.std = e->std;
            if (ed->c.plain)
                ed->c.ct = e->ct;   /* pstats: the callee's own cumtime */
            need += call_room(name_size, &ed->c);
            nedges++;
        }
    }
    start = PyMem_RawCalloc((size_t)r->n + 2, sizeof(*start));
    all = PyMem_RawMalloc((nedges + 1) * sizeof(*all));
    if (start == NULL || all == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < nedges; i++)
        start[edges[i].caller + 2]++;
    for (Py_ssize_t i = 2; i < r->n + 2; i++)
        start[i] += start[i - 1];
    for (size_t i = 0; i < nedges; i++)
        all[start[edges[i].caller + 1]++] = edges[i].c;
    /* now caller c's calls are all[start[c] .. start[c + 1]] */
    PyMem_RawFree(edges);
    edges = NULL;

    if (start_call_lines(r, need) < 0)
        goto done;
    print_call_heading(r, name_size, "called...");
    put_call_lines(r, name_size, all, start, "->");
    ob_str(&r->out, "\n\n");
    rc = 0;
done:
    index_free(&ix);
    PyMem_RawFree(start);
    PyMem_RawFree(edges);
    PyMem_RawFree(all);
    return rc;
}

/* Stats.get_print_list(): the restrictions, the message, and the width of
 * the name column (over the printed names only when some were left out). */
static int print_list(report *r, PyObject *limit, const sort_spec *spec, Py_ssize_t *width)
{
    if (spec->random) {
        ob_str(&r->msg, "   Random listing order was used\n");
    } else {
        ob_str(&r->msg, "   Ordered by: ");
        ob_put(&r->msg, r->title.buf, r->title.len);
        ob_char(&r->msg, '\n');
    }
    if (limit != Py_None) {
        if (PyTuple_Check(limit)) {
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(limit); i++)
                if (restrict_list(PyTuple_GET_ITEM(limit, i), r->list, &r->count, &r->msg) < 0)
                    return -1;
        } else if (restrict_list(limit, r->list, &r->count, &r->msg) < 0) {
            return -1;
        }
    }
    *width = r->max_name_len;
    if (r->count < r->n) {
        *width = 0;
        for (Py_ssize_t i = 0; i < r->count; i++)
            if (r->list[i]->width > *width)
                *width = r->list[i]->width;
    }
    return 0;
}

PyObject *pyro_report_text(PyObject *stats, PyObject *sort, PyObject *limit, PyObject *files_arg,
                           int mode)
{
    if (!PyDict_Check(stats))
        return PyErr_Format(PyExc_TypeError, "pyrometer: stats must be a dict, not %.100s",
                            Py_TYPE(stats)->tp_name);
    /* The entries are checked as they are read, callers only where used:
     * a second pass over the whole dict would cost as much as the report.
     * The entries are then held, as pstats holds its own copy. */
    report r = {.c = {.stats = stats}, .ascii = 1};
    sort_spec spec;
    PyObject *files = NULL, *result = NULL;
    Py_ssize_t width;
    if (files_arg == NULL)
        files = PyTuple_New(0);
    else
        files = PySequence_Fast(files_arg, "pyrometer: files must be a sequence of str");
    if (files == NULL)
        goto done;
    if (sort == NULL) {
        PyObject *dflt = PyUnicode_FromString("cumulative");
        if (dflt == NULL)
            goto done;
        int rc = parse_sort(dflt, &spec, &r.title);
        Py_DECREF(dflt);
        if (rc < 0)
            goto done;
    } else if (parse_sort(sort, &spec, &r.title) < 0) {
        goto done;
    }
    if (load_entries(&r) < 0 || sort_entries(&r, &spec) < 0
        || print_list(&r, limit, &spec, &width) < 0)
        goto done;
    int rc = 0;
    if (mode == MODE_STATS)
        rc = print_stats(&r, files);
    else if (r.count == 0)
        rc = 0;   /* print_callers()/print_callees() print nothing at all */
    else if (mode == MODE_CALLERS)
        rc = print_callers(&r, width + 2);
    else
        rc = print_callees(&r, width + 2);
    if (rc < 0)
        goto done;
    if (r.msg.failed || r.title.failed || r.arena.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = ob_finish(&r.out);
done:
    Py_XDECREF(files);
    Py_XDECREF(r.c.keep);
    for (Py_ssize_t i = 0; i < r.loaded; i++) {
        Py_DECREF(r.entries[i].key);
        Py_DECREF(r.entries[i].value);
    }
    PyMem_RawFree(r.entries);
    PyMem_RawFree(r.list);
    ob_free(&r.out);
    while (r.others != NULL) {
        fkey_chunk *next = r.others->next;
        PyMem_RawFree(r.others);
        r.others = next;
    }
    PyMem_RawFree(r.msg.buf);
    PyMem_RawFree(r.title.buf);
    PyMem_RawFree(r.arena.buf);
    return result;
}
