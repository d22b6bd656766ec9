/* callgrind_writer.c: a pstats dict in the Callgrind format (valgrind's
 * "Callgrind Format Specification", version 1), for KCachegrind,
 * QCachegrind and callgrind_annotate.
 *
 * One event: "ns", time in nanoseconds, for a time profile; for another
 * metric its own unit ("B" for bytes, a count as it is).  A function's self
 * cost is its tottime (self value), on the line of its definition; each call it makes is a
 * calls= line with the call count and, as the format wants, the inclusive
 * cost of those calls: the callee's cumtime under this caller.  Positions
 * are lines; a pstats dict knows no call sites, so a call is placed on its
 * caller's first line.
 *
 * - Self costs are rounded so that they add up to the profile's total
 *   rounded once (each within a nanosecond of its tottime), and the total
 *   is the summary: viewers show the total pstats shows.
 * - A function calling itself is not written as a call: a viewer adds the
 *   cost of the calls into a function to get its inclusive cost, and the
 *   inner calls' time is inside the outer call's already (pstats' cumtime
 *   counts it once).  The spec's calls= counts nonrecursive calls too.
 *   Mutual recursion (f -> g -> f) cannot be told from a pstats dict, whose
 *   edges do not say which calls were nested: there the viewers count the
 *   inner calls twice, as they do for callgrind's own recursive data.
 * - Names are compressed ("fn=(7) name" the first time, "fn=(7)" after).
 *   Functions of one file with the same name (two classes' __init__) get
 *   their line added, "__init__:12", so that viewers keep them apart;
 *   built-ins (pstats' file "~") are in the file "<built-in>". */
#include "formats/graph_writers.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>

#define BUILTIN_FILE "<built-in>"

/* ---- tables of names ------------------------------------------------------ */

static uint64_t bytes_hash(uint64_t h, const pyro_utf8_span *s)
{
    const unsigned char *p = (const unsigned char *)s->s;
    for (Py_ssize_t i = 0; i < s->len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static int u8_eq(const pyro_utf8_span *a, const pyro_utf8_span *b)
{
    return a->len == b->len && (a->s == b->s || memcmp(a->s, b->s, (size_t)a->len) == 0);
}

static size_t table_cap(size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    return cap;
}

typedef struct {
    const pyro_callgraph *g;
    size_t *file_id;           /* per function: its file's id, from 1 */
    unsigned char *dup;        /* per function: another one of its file has its name */
    unsigned char *fn_named;   /* per function: its name was written */
    unsigned char *fl_named;   /* per file id */
    size_t nfiles;
} names;

/* File ids, and the functions whose (file, name) is not theirs alone. */
static int names_build(names *nm, const pyro_callgraph *g)
{
    size_t n = g->nfuncs, cap = table_cap(n);
    nm->g = g;
    nm->file_id = PyMem_RawMalloc((n + 1) * sizeof(*nm->file_id));
    nm->dup = PyMem_RawCalloc(n + 1, 1);
    nm->fn_named = PyMem_RawCalloc(n + 1, 1);
    nm->fl_named = PyMem_RawCalloc(n + 2, 1);
    size_t *files = PyMem_RawCalloc(cap, sizeof(*files));   /* function + 1 */
    size_t *pairs = PyMem_RawCalloc(cap, sizeof(*pairs));
    int rc = -1;
    if (nm->file_id == NULL || nm->dup == NULL || nm->fn_named == NULL || nm->fl_named == NULL
        || files == NULL || pairs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const pyro_cg_func *f = &g->funcs[i];
        uint64_t h = bytes_hash(1469598103934665603ULL, &f->file);
        size_t j = (size_t)(h ^ (h >> 29)) & (cap - 1);
        for (;; j = (j + 1) & (cap - 1)) {
            if (files[j] == 0) {
                files[j] = i + 1;
                nm->file_id[i] = ++nm->nfiles;
                break;
            }
            if (u8_eq(&g->funcs[files[j] - 1].file, &f->file)) {
                nm->file_id[i] = nm->file_id[files[j] - 1];
                break;
            }
        }
        h = bytes_hash(h * 31 + 7, &f->name);
        j = (size_t)(h ^ (h >> 29)) & (cap - 1);
        for (;; j = (j + 1) & (cap - 1)) {
            if (pairs[j] == 0) {
                pairs[j] = i + 1;
                break;
            }
            const pyro_cg_func *o = &g->funcs[pairs[j] - 1];
            if (nm->file_id[pairs[j] - 1] == nm->file_id[i] && u8_eq(&o->name, &f->name)) {
                if (o->line != f->line)
                    nm->dup[pairs[j] - 1] = nm->dup[i] = 1;
                break;
            }
        }
    }
    rc = 0;
done:
    PyMem_RawFree(files);
    PyMem_RawFree(pairs);
    return rc;
}

static void names_free(names *nm)
{
    PyMem_RawFree(nm->file_id);
    PyMem_RawFree(nm->dup);
    PyMem_RawFree(nm->fn_named);
    PyMem_RawFree(nm->fl_named);
}

/* A name as it goes on its line: a control character would end the line
 * or break it, so each becomes '?'. */
static void put_clean(pyro_text *t, const pyro_utf8_span *s)
{
    Py_ssize_t i = 0;
    while (i < s->len && (unsigned char)s->s[i] >= 0x20)
        i++;
    if (i == s->len) {
        pyro_text_put(t, s->s, (size_t)s->len);
        return;
    }
    for (i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->s[i];
        pyro_text_char(t, c < 0x20 ? '?' : (char)c);
    }
}

static long long position(long long line)
{
    return line < 0 ? 0 : line;
}

/* "(id)", with " name" the first time; and the end of the line. */
static void put_file(pyro_text *t, names *nm, size_t func)
{
    size_t id = nm->file_id[func];
    pyro_text_char(t, '(');
    pyro_text_ull(t, id);
    pyro_text_char(t, ')');
    if (!nm->fl_named[id]) {
        nm->fl_named[id] = 1;
        pyro_text_char(t, ' ');
        const pyro_cg_func *f = &nm->g->funcs[func];
        if (f->file.len == 1 && f->file.s[0] == '~')
            pyro_text_str(t, BUILTIN_FILE);
        else
            put_clean(t, &f->file);
    }
    pyro_text_char(t, '\n');
}

static void put_fn(pyro_text *t, names *nm, size_t func)
{
    pyro_text_char(t, '(');
    pyro_text_ull(t, func + 1);
    pyro_text_char(t, ')');
    if (!nm->fn_named[func]) {
        nm->fn_named[func] = 1;
        const pyro_cg_func *f = &nm->g->funcs[func];
        pyro_text_char(t, ' ');
        put_clean(t, &f->name);
        if (nm->dup[func]) {
            pyro_text_char(t, ':');
            pyro_text_ll(t, f->line);
        }
    }
    pyro_text_char(t, '\n');
}

/* ---- costs ------------------------------------------------------------------ */

/* A value as a whole number of the event's unit: ns for seconds. */
static unsigned long long cost_of(const pyro_callgraph *g, double value)
{
    double ns = value * (g->unit == PYRO_UNIT_SECONDS ? 1e9 : 1.0);
    if (!(ns > 0.0))             /* negative, zero or NaN */
        return 0;
    if (ns >= 1.8e19)
        return ULLONG_MAX;
    return (unsigned long long)(ns + 0.5);
}

/* Self costs in ns whose sum is the total tottime rounded once: each is
 * the step of the rounded running sum (compensated, so no error piles up
 * over a hundred thousand functions).  Negative tottimes (the profile
 * module's over-calibrated bias) count as 0: costs are unsigned. */
static void self_costs(const pyro_callgraph *g, unsigned long long *self, unsigned long long *total)
{
    double sum = 0.0, comp = 0.0;
    unsigned long long prev = 0;
    for (size_t i = 0; i < g->nfuncs; i++) {
        double x = g->funcs[i].tt > 0.0 ? g->funcs[i].tt : 0.0;
        double t = sum + x;
        comp += fabs(sum) >= x ? (sum - t) + x : (x - t) + sum;
        sum = t;
        unsigned long long now = cost_of(g, sum + comp);
        if (now < prev)
            now = prev;
        self[i] = now - prev;
        prev = now;
    }
    *total = prev;
}

/* ---- the file ------------------------------------------------------------- */

int pyro_write_callgrind(const pyro_callgraph *gr, const char *creator, pyro_text *t)
{
    const pyro_callgraph *g = gr;
    names nm = {0};
    unsigned long long *self = NULL, total = 0;
    int rc = -1;
    if (names_build(&nm, g) < 0)
        goto done;
    self = PyMem_RawMalloc((g->nfuncs + 1) * sizeof(*self));
    if (self == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    self_costs(g, self, &total);
    /* about 80 bytes per function and per call: one allocation */
    pyro_text_room(t, 256 + g->nfuncs * 96 + g->ncalls * 48);

    pyro_text_str(t, "# callgrind format\nversion: 1\ncreator: ");
    pyro_text_str(t, creator);
    pyro_text_str(t, "\npositions: line\n");
    if (g->unit == PYRO_UNIT_SECONDS)
        pyro_text_str(t, "event: ns : Time (nanoseconds)\nevents: ns\n");
    else {
        const char *ev = g->unit == PYRO_UNIT_BYTES ? "B" : g->metric;
        pyro_text_printf(t, "event: %s : %s (%s)\nevents: %s\n", ev, g->metric,
                         pyro_unit_name(g->unit), ev);
    }
    pyro_text_str(t, "summary: ");
    pyro_text_ull(t, total);
    pyro_text_str(t, "\n\n");

    size_t file = 0;   /* the current fl=, 0 for none */
    for (size_t i = 0; i < g->nfuncs; i++) {
        const pyro_cg_func *f = &g->funcs[i];
        if (nm.file_id[i] != file) {
            file = nm.file_id[i];
            pyro_text_str(t, "fl=");
            put_file(t, &nm, i);
        }
        pyro_text_str(t, "fn=");
        put_fn(t, &nm, i);
        long long here = position(f->line);
        pyro_text_ll(t, here);
        pyro_text_char(t, ' ');
        pyro_text_ull(t, self[i]);
        pyro_text_char(t, '\n');
        for (size_t k = f->first_call; k < f->first_call + f->ncalls; k++) {
            const pyro_cg_call *c = &g->calls[k];
            if (c->callee == i)
                continue;   /* recursion: see the top of the file */
            if (nm.file_id[c->callee] != file) {
                pyro_text_str(t, "cfl=");
                put_file(t, &nm, c->callee);
            }
            pyro_text_str(t, "cfn=");
            put_fn(t, &nm, c->callee);
            pyro_text_str(t, "calls=");
            pyro_text_ull(t, c->nc > 0 ? (unsigned long long)c->nc : 0);
            pyro_text_char(t, ' ');
            pyro_text_ll(t, position(g->funcs[c->callee].line));
            pyro_text_char(t, '\n');
            pyro_text_ll(t, here);
            pyro_text_char(t, ' ');
            pyro_text_ull(t, cost_of(g, c->ct));
            pyro_text_char(t, '\n');
        }
        pyro_text_char(t, '\n');
    }
    pyro_text_str(t, "totals: ");
    pyro_text_ull(t, total);
    pyro_text_char(t, '\n');
    rc = 0;
done:
    PyMem_RawFree(self);
    names_free(&nm);
    return rc;
}
