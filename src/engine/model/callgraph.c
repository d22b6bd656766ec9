/* callgraph.c: a pstats dict as functions and caller->callee calls.
 *
 * A pstats dict names each call from its callee's side (callers dicts); the
 * writers want it from the caller's side, so the calls are gathered, then
 * grouped by caller with a counting sort that keeps their order.  Callers
 * are found by the identity of their key tuples first: load_stats() makes
 * a function's key and the keys naming it as a caller one tuple. */
#include "model/callgraph.h"
#include "core/errors.h"
#include "model/pstats_shape.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>


/* ---- building the graph ------------------------------------------------- */

typedef struct {
    pyro_callgraph *g;
    size_t cap;                /* of g->funcs */
    PyObject **ids;            /* identity table of the dict's keys */
    size_t *id_func;
    size_t id_mask;
    PyObject *by_key;          /* {key: index}, made at the first identity miss */
} builder;

static int keep(pyro_callgraph *g, PyObject *o)
{
    if (g->keep == NULL && (g->keep = PyList_New(0)) == NULL)
        return -1;
    return PyList_Append(g->keep, o);
}

/* UTF-8 of a str: the cached one, or for lone surrogates (undecodable file
 * names) a backslashreplace copy, so the output stays valid UTF-8. */
static int utf8_of(pyro_callgraph *g, PyObject *s, pyro_utf8_span *out)
{
    out->s = PyUnicode_AsUTF8AndSize(s, &out->len);
    if (out->s != NULL)
        return 0;
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return -1;
    PyErr_Clear();
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    if (b == NULL)
        return -1;
    int rc = keep(g, b);
    Py_DECREF(b);
    if (rc < 0)
        return -1;
    out->s = PyBytes_AS_STRING(b);
    out->len = PyBytes_GET_SIZE(b);
    return 0;
}

/* A function for the checked key `key`, at the end of g->funcs. */
static int add_func(builder *b, PyObject *key, size_t *index)
{
    pyro_callgraph *g = b->g;
    if (g->nfuncs == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        pyro_cg_func *f = PyMem_RawRealloc(g->funcs, cap * sizeof(*f));
        if (f == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        g->funcs = f;
        b->cap = cap;
    }
    pyro_cg_func *f = &g->funcs[g->nfuncs];
    memset(f, 0, sizeof(*f));
    f->key = key;
    PyObject *name = PyTuple_GET_ITEM(key, 2);
    if (!PyUnicode_Check(name)) {
        /* the profile module's ('profile', 0, <code>) entry */
        name = PyObject_Str(name);
        if (name == NULL)
            return -1;
        int rc = keep(g, name);
        Py_DECREF(name);
        if (rc < 0)
            return -1;
    }
    if (utf8_of(g, PyTuple_GET_ITEM(key, 0), &f->file) < 0 || utf8_of(g, name, &f->name) < 0)
        return -1;
    f->line = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
    f->builtin = f->line == 0 && f->file.len == 1 && f->file.s[0] == '~';
    *index = g->nfuncs++;
    return 0;
}

static size_t ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 32));
}

static int build_ids(builder *b)
{
    size_t n = b->g->nfuncs, cap = 16;
    while (cap < n * 2)
        cap *= 2;
    b->ids = PyMem_RawCalloc(cap, sizeof(*b->ids));
    b->id_func = PyMem_RawMalloc(cap * sizeof(*b->id_func));
    if (b->ids == NULL || b->id_func == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->id_mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t j = ptr_hash(b->g->funcs[i].key) & b->id_mask;
        while (b->ids[j] != NULL)
            j = (j + 1) & b->id_mask;
        b->ids[j] = b->g->funcs[i].key;
        b->id_func[j] = i;
    }
    return 0;
}

/* The function a caller key names, added if it has no entry.  0 or -1. */
static int find_func(builder *b, PyObject *key, size_t *index)
{
    size_t j = ptr_hash(key) & b->id_mask;
    while (b->ids[j] != NULL) {
        if (b->ids[j] == key) {
            *index = b->id_func[j];
            return 0;
        }
        j = (j + 1) & b->id_mask;
    }
    if (b->by_key == NULL) {
        if ((b->by_key = PyDict_New()) == NULL)
            return -1;
        for (size_t i = 0; i < b->g->nfuncs; i++) {
            PyObject *v = PyLong_FromSize_t(i);
            if (v == NULL || PyDict_SetItem(b->by_key, b->g->funcs[i].key, v) < 0) {
                Py_XDECREF(v);
                return -1;
            }
            Py_DECREF(v);
        }
    }
    PyObject *v = PyDict_GetItemWithError(b->by_key, key);
    if (v != NULL) {
        *index = PyLong_AsSize_t(v);
        return 0;
    }
    if (PyErr_Occurred() || add_func(b, key, index) < 0)
        return -1;
    v = PyLong_FromSize_t(*index);
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(b->by_key, key, v);
    Py_DECREF(v);
    return rc;
}

/* Neumaier's compensated sum: a hundred thousand times added stay exact
 * to the nanosecond. */
typedef struct {
    double sum, comp;
} ksum;

static void ksum_add(ksum *k, double x)
{
    double t = k->sum + x;
    if (fabs(k->sum) >= fabs(x))
        k->comp += (k->sum - t) + x;
    else
        k->comp += (x - t) + k->sum;
    k->sum = t;
}

int pyro_callgraph_build(PyObject *stats, pyro_callgraph *g)
{
    memset(g, 0, sizeof(*g));
    if (!PyDict_Check(stats)) {
        PyErr_Format(PyExc_TypeError, "pyrometer: stats must be a dict, not %.100s",
                     Py_TYPE(stats)->tp_name);
        return -1;
    }
    builder b = {.g = g};
    size_t n = (size_t)PyDict_GET_SIZE(stats);
    PyObject **callers_of = NULL;
    pyro_cg_call *raw = NULL;
    size_t *start = NULL;
    int rc = -1;

    b.cap = n + 16;
    g->funcs = PyMem_RawMalloc(b.cap * sizeof(*g->funcs));
    callers_of = PyMem_RawMalloc((n + 1) * sizeof(*callers_of));
    if (g->funcs == NULL || callers_of == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    ksum total = {0.0, 0.0};
    size_t nraw = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *reason = NULL;
        int bad = pyro_check_entry(key, value, 1, &reason);
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: not a pstats dict (%U)", reason);
            Py_XDECREF(reason);
            goto done;
        }
        size_t i;
        if (add_func(&b, key, &i) < 0)
            goto done;
        pyro_cg_func *f = &g->funcs[i];
        f->listed = 1;
        f->cc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 0));
        f->nc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 1));
        f->tt = PyFloat_AsDouble(PyTuple_GET_ITEM(value, 2));
        f->ct = PyFloat_AsDouble(PyTuple_GET_ITEM(value, 3));
        if (PyErr_Occurred())
            goto done;
        ksum_add(&total, f->tt);
        if (i == 0 || f->ct > g->max_ct)
            g->max_ct = f->ct;
        callers_of[i] = PyTuple_GET_ITEM(value, 4);
        nraw += (size_t)PyDict_GET_SIZE(callers_of[i]);
    }
    g->total_tt = total.sum + total.comp;
    g->unit = PYRO_UNIT_SECONDS;
    snprintf(g->metric, sizeof(g->metric), "time");
    size_t nlisted = g->nfuncs;
    if (build_ids(&b) < 0)
        goto done;

    /* the calls, from the callees' side */
    raw = PyMem_RawMalloc((nraw + 1) * sizeof(*raw));
    if (raw == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < nlisted; i++) {
        pos = 0;
        PyObject *ckey, *cvalue;
        while (PyDict_Next(callers_of[i], &pos, &ckey, &cvalue)) {
            pyro_cg_call *c = &raw[k++];
            if (find_func(&b, ckey, &c->caller) < 0)
                goto done;
            c->callee = i;
            const pyro_cg_func *f = &g->funcs[i];
            if (PyTuple_Check(cvalue)) {   /* cProfile's (nc, cc, tt, ct) */
                c->nc = PyLong_AsLongLong(PyTuple_GET_ITEM(cvalue, 0));
                c->cc = PyLong_AsLongLong(PyTuple_GET_ITEM(cvalue, 1));
                c->tt = PyFloat_AsDouble(PyTuple_GET_ITEM(cvalue, 2));
                c->ct = PyFloat_AsDouble(PyTuple_GET_ITEM(cvalue, 3));
            } else {                       /* the profile module's call count */
                c->nc = c->cc = PyLong_AsLongLong(cvalue);
                double share = f->nc > 0 ? (double)c->nc / (double)f->nc : 1.0;
                share = share < 0.0 ? 0.0 : share > 1.0 ? 1.0 : share;
                c->ct = f->ct * share;
                c->tt = f->tt * share;
            }
            if (PyErr_Occurred())
                goto done;
        }
    }

    /* grouped by caller, keeping their order */
    start = PyMem_RawCalloc(g->nfuncs + 1, sizeof(*start));
    g->calls = PyMem_RawMalloc((nraw + 1) * sizeof(*g->calls));
    if (start == NULL || g->calls == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t j = 0; j < nraw; j++)
        start[raw[j].caller + 1]++;
    for (size_t i = 0; i < g->nfuncs; i++) {
        g->funcs[i].first_call = start[i];
        g->funcs[i].ncalls = start[i + 1];
        start[i + 1] += start[i];
    }
    for (size_t j = 0; j < nraw; j++)
        g->calls[start[raw[j].caller]++] = raw[j];
    g->ncalls = nraw;
    rc = 0;
done:
    PyMem_RawFree(callers_of);
    PyMem_RawFree(raw);
    PyMem_RawFree(start);
    PyMem_RawFree(b.ids);
    PyMem_RawFree(b.id_func);
    Py_XDECREF(b.by_key);
    return rc;
}

/* ---- from a stack view ------------------------------------------------------ */

/* Whether each node is the outermost of its function on its path (no
 * ancestor runs the same function): a walk down the tree counting how
 * often each function is on the path, so that a deep path costs no more
 * per node than a shallow one.  A PyMem_Raw array, or NULL + MemoryError. */
static uint8_t *outermost(const pyro_stack_view *v)
{
    size_t n = v->n;
    uint8_t *outer = PyMem_RawMalloc(n + 1);
    size_t *start = PyMem_RawCalloc(n + 2, sizeof(*start));   /* children of i: group i + 1 */
    size_t *kids = PyMem_RawMalloc((n + 1) * sizeof(*kids));
    size_t *path = PyMem_RawMalloc((n + 1) * sizeof(*path));
    size_t *cursor = PyMem_RawMalloc((n + 1) * sizeof(*cursor));
    uint32_t *onpath = PyMem_RawCalloc(v->nfuncs + 1, sizeof(*onpath));
    if (outer == NULL || start == NULL || kids == NULL || path == NULL || cursor == NULL
        || onpath == NULL) {
        PyMem_RawFree(outer);
        outer = NULL;
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        start[(size_t)(v->parent[i] + 1) + 1]++;
    for (size_t g = 0; g <= n; g++)
        start[g + 1] += start[g];
    {
        size_t *fill = cursor;   /* free until the walk */
        memcpy(fill, start, (n + 1) * sizeof(*fill));
        for (size_t i = 0; i < n; i++)
            kids[fill[(size_t)(v->parent[i] + 1)]++] = i;
    }
    for (size_t k = start[0]; k < start[1]; k++) {
        size_t top = 0;
        path[top] = kids[k];
        cursor[top] = start[kids[k] + 1];
        outer[kids[k]] = onpath[v->func[kids[k]]]++ == 0;
        top++;
        while (top > 0) {
            size_t node = path[top - 1];
            if (cursor[top - 1] < start[node + 2]) {
                size_t child = kids[cursor[top - 1]++];
                outer[child] = onpath[v->func[child]]++ == 0;
                path[top] = child;
                cursor[top] = start[child + 1];
                top++;
            } else {
                onpath[v->func[node]]--;
                top--;
            }
        }
    }
done:
    PyMem_RawFree(start);
    PyMem_RawFree(kids);
    PyMem_RawFree(path);
    PyMem_RawFree(cursor);
    PyMem_RawFree(onpath);
    return outer;
}

typedef struct {
    uint64_t key;              /* (caller + 1) << 32 | callee, + 1; 0: empty */
    size_t index;
} pair_slot;

int pyro_callgraph_from_view(const pyro_stack_view *v, pyro_callgraph *g)
{
    memset(g, 0, sizeof(*g));
    builder b = {.g = g};
    int rc = -1;
    pair_slot *slots = NULL;
    pyro_cg_call *raw = NULL;
    uint8_t *outer = NULL;
    size_t *start = NULL, nraw = 0, cap = 1;
    g->unit = v->unit;
    snprintf(g->metric, sizeof(g->metric), "%s", v->metric != NULL ? v->metric->name : "time");
    b.cap = v->nfuncs + 1;
    g->funcs = PyMem_RawMalloc(b.cap * sizeof(*g->funcs));
    while (cap < 2 * (v->n + 1))
        cap *= 2;
    slots = PyMem_RawCalloc(cap, sizeof(*slots));
    raw = PyMem_RawMalloc((v->n + 1) * sizeof(*raw));
    if (g->funcs == NULL || slots == NULL || raw == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if ((outer = outermost(v)) == NULL)
        goto done;
    for (size_t f = 0; f < v->nfuncs; f++) {
        size_t i;
        if (add_func(&b, PyList_GET_ITEM(v->funcs, (Py_ssize_t)f), &i) < 0)
            goto done;
        g->funcs[i].listed = 1;
    }
    ksum total = {0.0, 0.0};
    for (size_t i = 0; i < v->n; i++) {
        uint32_t f = v->func[i];
        pyro_cg_func *fn = &g->funcs[f];
        long long calls = v->calls[i] > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)v->calls[i];
        fn->nc += calls;
        fn->tt += v->self[i];
        ksum_add(&total, v->self[i]);
        if (outer[i]) {
            fn->cc += calls;
            fn->ct += v->total[i];
        }
        if (v->parent[i] < 0)
            continue;
        uint32_t caller = v->func[v->parent[i]];
        uint64_t key = (((uint64_t)caller + 1) << 32 | f) + 1;
        size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 17) & (cap - 1);
        while (slots[j].key != 0 && slots[j].key != key)
            j = (j + 1) & (cap - 1);
        if (slots[j].key == 0) {
            slots[j].key = key;
            slots[j].index = nraw;
            memset(&raw[nraw], 0, sizeof(raw[nraw]));
            raw[nraw].caller = caller;
            raw[nraw].callee = f;
            nraw++;
        }
        pyro_cg_call *c = &raw[slots[j].index];
        c->nc += calls;
        c->tt += v->self[i];
        if (outer[i]) {
            c->cc += calls;
            c->ct += v->total[i];
        }
    }
    g->total_tt = total.sum + total.comp;
    for (size_t f = 0; f < g->nfuncs; f++)
        if (f == 0 || g->funcs[f].ct > g->max_ct)
            g->max_ct = g->funcs[f].ct;

    /* grouped by caller, keeping their order */
    start = PyMem_RawCalloc(g->nfuncs + 1, sizeof(*start));
    g->calls = PyMem_RawMalloc((nraw + 1) * sizeof(*g->calls));
    if (start == NULL || g->calls == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t j = 0; j < nraw; j++)
        start[raw[j].caller + 1]++;
    for (size_t i = 0; i < g->nfuncs; i++) {
        g->funcs[i].first_call = start[i];
        g->funcs[i].ncalls = start[i + 1];
        start[i + 1] += start[i];
    }
    for (size_t j = 0; j < nraw; j++)
        g->calls[start[raw[j].caller]++] = raw[j];
    g->ncalls = nraw;
    rc = 0;
done:
    PyMem_RawFree(slots);
    PyMem_RawFree(raw);
    PyMem_RawFree(outer);
    PyMem_RawFree(start);
    return rc;
}

/* A whole number of samples of a sum of them (exact below 2**53). */
static long long whole(double x)
{
    return x >= 9.2e18 ? LLONG_MAX : (long long)llround(x);
}

/* The graph as a pstats dict: pstats' counts, or with `sampled` 3.15's
 * sampled shape. */
static PyObject *as_stats(const pyro_callgraph *g, int sampled)
{
    PyObject *stats = PyDict_New();
    PyObject **callers = PyMem_RawCalloc(g->nfuncs + 1, sizeof(*callers));
    if (stats == NULL || callers == NULL)
        goto fail;
    for (size_t i = 0; i < g->nfuncs; i++)
        if ((callers[i] = PyDict_New()) == NULL)
            goto fail;
    for (size_t k = 0; k < g->ncalls; k++) {
        const pyro_cg_call *c = &g->calls[k];
        PyObject *v = sampled ? PyLong_FromLongLong(whole(c->ct))
                              : Py_BuildValue("(LLdd)", c->nc, c->cc, c->tt, c->ct);
        if (v == NULL || PyDict_SetItem(callers[c->callee], g->funcs[c->caller].key, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    for (size_t i = 0; i < g->nfuncs; i++) {
        const pyro_cg_func *f = &g->funcs[i];
        PyObject *v = sampled ? Py_BuildValue("(LLddO)", whole(f->tt), whole(f->ct), f->tt, f->ct,
                                              callers[i])
                              : Py_BuildValue("(LLddO)", f->cc, f->nc, f->tt, f->ct, callers[i]);
        if (v == NULL || PyDict_SetItem(stats, f->key, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    for (size_t i = 0; i < g->nfuncs; i++)
        Py_DECREF(callers[i]);
    PyMem_RawFree(callers);
    return stats;
fail:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    for (size_t i = 0; callers != NULL && i < g->nfuncs; i++)
        Py_XDECREF(callers[i]);
    PyMem_RawFree(callers);
    Py_XDECREF(stats);
    return NULL;
}

PyObject *pyro_callgraph_as_stats(const pyro_callgraph *g)
{
    return as_stats(g, 0);
}

PyObject *pyro_callgraph_as_sampled(const pyro_callgraph *g)
{
    return as_stats(g, 1);
}

void pyro_callgraph_free(pyro_callgraph *g)
{
    PyMem_RawFree(g->funcs);
    PyMem_RawFree(g->calls);
    Py_CLEAR(g->keep);
    memset(g, 0, sizeof(*g));
}
