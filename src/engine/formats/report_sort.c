/* report_sort.c: sort_stats() for pstats' text report: the sort words
 * parsed as pstats parses them, its multi-key compare in a stable merge
 * sort, and a radix sort for the common one-number orders.  Apart from the
 * rest because the order is one question, asked before anything prints. */
#include "formats/report_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- sort_stats() --------------------------------------------------------- */

/* Columns of pstats' sort tuple (cc, nc, tt, ct, file, line, name, stdname). */
enum { F_CC, F_NC, F_TT, F_CT, F_FILE, F_LINE, F_NAME, F_STD };

typedef struct {
    const char *word, *title;
    int nkeys;
    int keys[3][2];            /* (column, direction) */
} sort_def;

/* Stats.sort_arg_dict_default, in its order (the order matters below). */
static const sort_def call_defs[] = {
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
    {NULL, NULL, 0, {{0, 0}}},
};

/* 3.15's SampledStats.sort_arg_dict, its titles too; the call words last,
 * as synonyms, so that they claim no prefix of a sample word. */
static const sort_def sampled_defs[] = {
    {"samples", "sample count", 1, {{F_NC, -1}}},
    {"nsamples", "sample count", 1, {{F_NC, -1}}},
    {"cumtime", "cumulative time", 1, {{F_CT, -1}}},
    {"cumulative", "cumulative time", 1, {{F_CT, -1}}},
    {"filename", "file name", 1, {{F_FILE, 1}}},
    {"line", "line number", 1, {{F_LINE, 1}}},
    {"module", "file name", 1, {{F_FILE, 1}}},
    {"name", "function name", 1, {{F_NAME, 1}}},
    {"nfl", "name/file/line", 3, {{F_NAME, 1}, {F_FILE, 1}, {F_LINE, 1}}},
    {"psamples", "primitive call count", 1, {{F_CC, -1}}},
    {"stdname", "standard name", 1, {{F_STD, 1}}},
    {"time", "internal time", 1, {{F_TT, -1}}},
    {"tottime", "internal time", 1, {{F_TT, -1}}},
    {"calls", "sample count", 1, {{F_NC, -1}}},
    {"ncalls", "sample count", 1, {{F_NC, -1}}},
    {"pcalls", "primitive call count", 1, {{F_CC, -1}}},
    {NULL, NULL, 0, {{0, 0}}},
};

/* Samples without time (collapsed stacks): the times are the counts, so
 * every word orders by direct or cumulative samples, and says so. */
static const char *counts_title(const sort_def *d)
{
    switch (d->keys[0][0]) {
    case F_CC: case F_TT: return "direct samples";
    case F_NC: case F_CT: return "cumulative samples";
    default: return d->title;
    }
}

/* Stats.get_sort_arg_defs(), replayed: each word claims its prefixes,
 * longest first, until it meets one already claimed; that one is dropped as
 * ambiguous, the shorter ones stay with their first claimant (so "cu" is
 * cumtime and "cum" is nothing). */
static const sort_def *find_sort_def(const sort_def *defs, const char *w, size_t wlen)
{
    struct {
        const char *s;
        size_t len;
        int def, bad;
    } frags[192];
    size_t nfrags = 0;
    for (size_t i = 0; defs[i].word != NULL; i++) {
        const char *word = defs[i].word;
        for (size_t len = strlen(word); len > 0 && nfrags < 192; len--) {
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
            return frags[j].bad ? NULL : &defs[frags[j].def];
    return NULL;
}

static int sort_word(sort_spec *spec, outbuf *title, PyObject *word, int kind)
{
    Py_ssize_t n;
    const char *w = PyUnicode_Check(word) ? PyUnicode_AsUTF8AndSize(word, &n) : NULL;
    if (w == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "pyrometer: sort keys are str, not %.100s",
                         Py_TYPE(word)->tp_name);
        return -1;
    }
    const sort_def *d = find_sort_def(kind == PYRO_KIND_TRACED ? call_defs : sampled_defs, w,
                                      (size_t)n);
    if (d == NULL) {
        PyErr_Format(PyExc_ValueError,
                     "pyrometer: unknown or ambiguous sort key %R (one of: %s, cumulative, "
                     "cumtime, file, filename, module, %s, line, name, nfl, stdname, "
                     "time, tottime, or a unique prefix)", word,
                     kind == PYRO_KIND_TRACED ? "calls" : "samples, nsamples",
                     kind == PYRO_KIND_TRACED ? "ncalls, pcalls" : "psamples");
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
    ob_str(title, kind == PYRO_KIND_SAMPLE_COUNTS ? counts_title(d) : d->title);
    return 0;
}

/* `sort`: a key, a sequence of keys, or pstats' legacy -1/0/1/2. */
int pyro_report_parse_sort(PyObject *sort, sort_spec *spec, outbuf *title, int kind)
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
        int rc = sort_word(spec, title, w, kind);
        Py_DECREF(w);
        return rc;
    }
    if (PyUnicode_Check(sort))
        return sort_word(spec, title, sort, kind);
    PyObject *seq = PySequence_Fast(sort, "pyrometer: sort must be a str or a tuple of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sort_word(spec, title, PySequence_Fast_GET_ITEM(seq, i), kind) < 0) {
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

int pyro_report_sort_entries(report *r, const sort_spec *spec)
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
