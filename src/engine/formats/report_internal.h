/* report_internal.h: what the parts of pstats' text report share (not for
 * other files; formats/report.h is the report's interface).
 *
 * report.c loads the entries and prints the stats table, report_sort.c
 * orders them, report_calls.c prints their callers and callees,
 * report_columns.c chooses how each column of numbers is written,
 * report_terminal.c styles the table for a terminal: one
 * report passed between them, described here, with the few helpers they
 * all call on their hot paths kept inline. */
#ifndef PYRO_REPORT_INTERNAL_H
#define PYRO_REPORT_INTERNAL_H

#include "formats/report.h"
#include "formats/text_buffer.h"

#include <string.h>

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

/* str order of two names: UTF-8 byte order is code point order. */
static inline int cmp_utf8(const utf8_span *a, const utf8_span *b)
{
    Py_ssize_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, (size_t)n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* `key` has been checked (pyro_check_entry/call): its file, line and name
 * as text in `k`.  0, or -1 + exception. */
int pyro_report_key_of(rctx *c, PyObject *key, fkey *k);

/* pstats' func_std_string() of `k`, into `o`. */
void pyro_report_ob_std(outbuf *o, const fkey *k);

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

/* A time of a stats tuple (float, or the profile module's int). */
static inline double num(PyObject *o)
{
    return PyFloat_CheckExact(o) ? PyFloat_AS_DOUBLE(o) : PyFloat_AsDouble(o);
}

/* ValueError "stats is not a pstats dict (reason)", the reason consumed;
 * returns -1. */
int pyro_report_not_pstats(PyObject *reason);

/* ---- columns of numbers (report_columns.c) ------------------------------- */

/* A column printed in one notation: fixed point with the decimals its
 * values need, right-justified in the width of its widest value or its
 * title.  Values are added first (pyro_col_add), then the width is known
 * (pyro_col_finish). */
typedef struct {
    int decimals, max_decimals;
    int any;                   /* a finite value was added */
    double hi, lo;             /* the largest and the smallest of them */
    Py_ssize_t width;
} num_col;

/* A column printing at least min_decimals, at most max_decimals. */
void pyro_col_init(num_col *c, int min_decimals, int max_decimals);

/* Whether v (finite, non-zero) shows three significant digits at `d`
 * decimals (it rounds to 100 units of the last one or more), or all of its
 * digits (a test clock's 0.0035 needs no "0.00350"; float noise aside). */
static inline int pyro_col_shows(double v, int d)
{
    double y = fabs(v) * pow10_of(d);
    return y >= 99.5 || fabs(floor(y + 0.5) - y) <= 1e-6 * y;
}

/* The decimals `c` needs to show v (finite, non-zero), found from
 * c->decimals up. */
void pyro_col_widen(num_col *c, double v);

static inline void pyro_col_add(num_col *c, double v)
{
    if (!isfinite(v))
        return;    /* "nan" and "inf" fit any column */
    if (!c->any || v > c->hi)
        c->hi = v;
    if (!c->any || v < c->lo)
        c->lo = v;
    c->any = 1;
    if (c->decimals < c->max_decimals && v != 0.0 && !pyro_col_shows(v, c->decimals))
        pyro_col_widen(c, v);
}

/* The width of `c`: its widest value, or min_width, or `title`. */
void pyro_col_finish(num_col *c, Py_ssize_t min_width, const char *title);

/* " " and the title right-justified in the column. */
void pyro_col_title(outbuf *o, const num_col *c, const char *title);

static inline void pyro_col_put(outbuf *o, const num_col *c, double v)
{
    ob_fixed(o, v, c->decimals, c->width);
}

/* ---- the report --------------------------------------------------------- */

typedef struct {
    int nkeys;
    int keys[64][2];
    int random;                /* sort_stats() with no key: dict order */
} sort_spec;

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
    int kind;                  /* PYRO_KIND_*: what the counts count */
    int layout;                /* PYRO_LAYOUT_* */
    pyro_report_style style;   /* colour and width, in the columns layout */
    struct fkey_chunk *others; /* keys of callers without an entry */
} report;

/* Stable storage for the key of a caller that has no entry, freed with the
 * report; NULL + MemoryError. */
fkey *pyro_report_other_key(report *r);

/* Start r->out once all the text the report holds is known; `hint`: about
 * the bytes it will take.  0, or -1 + exception. */
int pyro_report_start_output(report *r, size_t hint);

/* sort_stats() (report_sort.c): `sort` parsed into `spec`, its title
 * ("cumulative time, ...") written to `title`; then the listed entries
 * put in that order; the words and titles of pstats or, for samples
 * (`kind`), of 3.15's SampledStats.  0, or -1 + exception. */
int pyro_report_parse_sort(PyObject *sort, sort_spec *spec, outbuf *title, int kind);
int pyro_report_sort_entries(report *r, const sort_spec *spec);

/* On a terminal (report_terminal.c): the colour escape a row starts with
 * (NULL: plain); whether a name will be shortened, which makes the text
 * other than ASCII (r->ascii cleared); and the end of a row: its name,
 * shortened from the left to fit after `prefix` columns, the colour reset
 * and the line's end. */
const char *pyro_report_row_color(const report *r, const entry *e);
void pyro_report_check_fit(report *r, Py_ssize_t prefix);
void pyro_report_end_row(report *r, const entry *e, Py_ssize_t prefix, const char *color);

/* print_callers() and print_callees() (report_calls.c) of the listed
 * entries, into r->out; name_size: the width of the name column.  0, or
 * -1 + exception. */
int pyro_report_print_callers(report *r, Py_ssize_t name_size);
int pyro_report_print_callees(report *r, Py_ssize_t name_size);

#endif
