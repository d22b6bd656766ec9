/* report_calls.c: print_callers() and print_callees() for pstats' text
 * report: the callers dicts read once each, their keys matched to entries
 * through an index, and the call lines printed.  Apart from the stats
 * table because only these two read the callers, and most of their cost
 * is finding things in memory. */
#include "model/pstats_shape.h"
#include "formats/report_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* ---- calls (callers and callees) ----------------------------------------- */

/* One item of a callers dict, numbers taken out once. */
typedef struct {
    const fkey *k;             /* the other function's key */
    utf8_span std;                    /* its func_std_string() if it has an entry */
    long long nc, cc;
    double tt, ct;             /* for a plain count: ct is the function's own */
    int plain;                 /* the profile module's int instead of a tuple */
} call;

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

static int cmp_call(const void *a, const void *b)
{
    return cmp_fkey(((const call *)a)->k, ((const call *)b)->k);
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
        return bad > 0 ? pyro_report_not_pstats(reason) : -1;
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
        pyro_report_ob_std(o, c->k);
}

/* How the call lines write their numbers: pstats' "%7s %8.3f %8.3f", or
 * in pyrometer's columns (report.h) the count as wide as the widest and
 * tottime and cumtime each in one notation, chosen over the lines shown. */
typedef struct {
    int pstats;
    Py_ssize_t count_width;
    num_col tt, ct;
} call_columns;

static Py_ssize_t call_count_width(const call *c)
{
    return ll_width(c->nc) + (c->nc != c->cc ? 1 + ll_width(c->cc) : 0);
}

/* Stats.print_call_line() */
static void put_call_line(outbuf *o, Py_ssize_t name_size, const call_columns *cols,
                          const entry *src, call *calls, Py_ssize_t n, const char *arrow)
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
            Py_ssize_t w = call_count_width(c);
            if (i > 0)
                ob_spaces(o, name_size + 1);
            ob_spaces(o, cols->count_width + (i > 0 ? 2 : 0) - w);
            ob_ll(o, c->nc);
            if (c->nc != c->cc) {
                ob_char(o, '/');
                ob_ll(o, c->cc);
            }
            ob_char(o, ' ');
            pyro_col_put(o, &cols->tt, c->tt);
            ob_char(o, ' ');
            pyro_col_put(o, &cols->ct, c->ct);
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
            ob_fixed(o, c->ct, cols->ct.decimals, 8);
        }
        ob_char(o, '\n');
    }
}

/* ---- print_callers(), print_callees() ------------------------------------ */

/* The call_columns of the calls of the listed entries, all[start[c] ..
 * start[c + 1]] for entry c. */
static void plan_call_columns(const report *r, const call *all, const size_t *start,
                              call_columns *cols)
{
    cols->pstats = r->layout == PYRO_LAYOUT_PSTATS;
    cols->count_width = 7;
    int max_decimals = cols->pstats ? 3 : 9;
    pyro_col_init(&cols->tt, 3, max_decimals);
    pyro_col_init(&cols->ct, 3, max_decimals);
    if (cols->pstats) {
        cols->tt.width = cols->ct.width = 8;
        return;
    }
    for (Py_ssize_t i = 0; i < r->count; i++) {
        size_t e = (size_t)(r->list[i] - r->entries);
        for (size_t j = start[e]; j < start[e + 1]; j++) {
            const call *c = &all[j];
            if (!c->plain) {
                Py_ssize_t w = call_count_width(c);
                if (w > cols->count_width)
                    cols->count_width = w;
                pyro_col_add(&cols->tt, c->tt);
            }
            pyro_col_add(&cols->ct, c->ct);
        }
    }
    pyro_col_finish(&cols->tt, 8, "tottime");
    pyro_col_finish(&cols->ct, 8, "cumtime");
}

/* Stats.print_call_heading() */
static void print_call_heading(report *r, Py_ssize_t name_size, const call_columns *cols,
                               const char *column_title)
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
            const char *count = r->kind == PYRO_KIND_TRACED ? "ncalls" : "nsamples";
            if (cols->pstats) {
                /* SampledStats.print_call_subheading() for samples */
                ob_str(o, "    ");
                ob_str(o, count);
                ob_str(o, "  tottime  cumtime\n");
            } else {
                /* over the count, which starts after "<- " */
                ob_spaces(o, cols->count_width + 3 - (Py_ssize_t)strlen(count));
                ob_str(o, count);
                pyro_col_title(o, &cols->tt, "tottime");
                pyro_col_title(o, &cols->ct, "cumtime");
                ob_char(o, '\n');
            }
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
    if (pyro_report_start_output(r, need) < 0)
        return -1;
    ob_put(&r->out, r->msg.buf, r->msg.len);
    ob_char(&r->out, '\n');
    return 0;
}

/* The call lines of the listed functions, their calls in all[start[c] ..
 * start[c + 1]] for entry c.  The names come from all over the arena: they
 * are asked for a few functions ahead, so that the cache misses overlap
 * instead of following one another. */
static void put_call_lines(report *r, Py_ssize_t name_size, const call_columns *cols,
                           call *all, const size_t *start, const char *arrow)
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
        put_call_line(&r->out, name_size, cols, r->list[i], all + start[c],
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
        if (pyro_report_key_of(&r->c, ckey, &k) < 0)
            return -2;
        idx = index_find(ix, r->entries, r->n, &k);
        if (idx == -2)
            return -2;
        if (idx < 0) {
            fkey *kept = pyro_report_other_key(r);
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
int pyro_report_print_callers(report *r, Py_ssize_t name_size)
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
    call_columns cols;
    plan_call_columns(r, all, start, &cols);
    print_call_heading(r, name_size, &cols, "was called by...");
    put_call_lines(r, name_size, &cols, all, start, "<-");
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
int pyro_report_print_callees(report *r, Py_ssize_t name_size)
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
    call_columns cols;
    plan_call_columns(r, all, start, &cols);
    print_call_heading(r, name_size, &cols, "called...");
    put_call_lines(r, name_size, &cols, all, start, "->");
    ob_str(&r->out, "\n\n");
    rc = 0;
done:
    index_free(&ix);
    PyMem_RawFree(start);
    PyMem_RawFree(edges);
    PyMem_RawFree(all);
    return rc;
}
