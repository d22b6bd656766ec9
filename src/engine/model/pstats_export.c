/* pstats_export.c: derive pstats' statistics from the call tree.
 *
 * Per function: calls and primitive calls, self time (tottime) and the time
 * of its outermost activations (cumtime).  Per caller->callee pair the same
 * four numbers, keyed as cProfile keys them.  Functions whose pstats label
 * coincides (two code objects of one lambda line, say) are merged. */
#include "model/calltree_export.h"

typedef struct {
    uint64_t nc, cc;
    int64_t tt, ct;
} pyro_sums;

typedef struct {
    uint64_t key;          /* caller id << 32 | callee id, +1 so 0 is empty */
    pyro_sums sums;
} edge_slot;

typedef struct {
    uint32_t *canon;       /* function id -> id of the first one with its label */
    pyro_sums *funcs;
    edge_slot *edges;
    size_t edge_cap, edge_count;
    int failed;
} export_ctx;

static size_t edge_hash(uint64_t k)
{
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ULL;
    k ^= k >> 29;
    return (size_t)k;
}

static edge_slot *edge_find(export_ctx *x, uint64_t key)
{
    if ((x->edge_count + 1) * 2 > x->edge_cap) {
        size_t cap = x->edge_cap ? x->edge_cap * 2 : 1024;
        edge_slot *slots = PyMem_RawCalloc(cap, sizeof(*slots));
        if (slots == NULL)
            return NULL;
        for (size_t i = 0; i < x->edge_cap; i++) {
            if (x->edges[i].key == 0)
                continue;
            size_t j = edge_hash(x->edges[i].key) & (cap - 1);
            while (slots[j].key != 0)
                j = (j + 1) & (cap - 1);
            slots[j] = x->edges[i];
        }
        PyMem_RawFree(x->edges);
        x->edges = slots;
        x->edge_cap = cap;
    }
    size_t j = edge_hash(key) & (x->edge_cap - 1);
    while (x->edges[j].key != 0 && x->edges[j].key != key)
        j = (j + 1) & (x->edge_cap - 1);
    if (x->edges[j].key == 0) {
        x->edges[j].key = key;
        x->edge_count++;
    }
    return &x->edges[j];
}

/* Add one node's share: `f` the function's sums, `e` the caller->callee
 * pair's (cProfile's callers tuple: calls, primitive calls, tottime,
 * cumtime of non-recursive activations). */
static void add(pyro_sums *f, pyro_sums *e, uint64_t calls, int64_t self_time,
                uint64_t prim_calls, int64_t func_time,
                uint64_t edge_prim_calls, int64_t edge_time)
{
    f->nc += calls;
    f->cc += prim_calls;
    f->tt += self_time;
    f->ct += func_time;
    if (e != NULL) {
        e->nc += calls;
        e->cc += edge_prim_calls;
        e->tt += self_time;
        e->ct += edge_time;
    }
}

static int visit(pyro_node *n, void *arg)
{
    export_ctx *x = arg;
    if (n->fold_to != NULL || n->hidden || (n->calls == 0 && n->dyn == NULL))
        return 0;
    uint32_t f = x->canon[n->func_id];
    pyro_sums *e = NULL;
    if (n->parent->func != NULL) {   /* else called from outside the profile */
        uint32_t caller = x->canon[n->parent->func_id];
        edge_slot *slot = edge_find(x, (((uint64_t)caller << 32) | f) + 1);
        if (slot == NULL) {
            x->failed = 1;
            return -1;
        }
        e = &slot->sums;
    }
    /* A node's self time, of both modes, is never below zero (the
     * compensation may overshoot by a few ticks): the call tree's export
     * counts it the same way, so the nodes of a function add up to tt. */
    pyro_folded_counts *d = n->dyn;
    int64_t self_time = n->self_time + (d != NULL ? d->self_time : 0);
    if (self_time < 0)
        self_time = 0;
    /* Normal mode: the path was the stack, the node's flags tell it all. */
    add(&x->funcs[f], e, n->calls, self_time,
        n->func_recursive ? 0 : n->calls, n->func_recursive ? 0 : n->total_time,
        n->edge_recursive ? 0 : n->calls, n->edge_recursive ? 0 : n->total_time);
    if (d != NULL)
        add(&x->funcs[f], e, d->calls, 0, d->prim_calls, d->func_time,
            d->edge_prim_calls, d->edge_time);
    return 0;
}

/* Seconds from ticks; overcompensation by a few ticks must not show as a
 * negative time. */
static double seconds(int64_t ticks, double sec_per_tick)
{
    return ticks > 0 ? ticks * sec_per_tick : 0.0;
}

PyObject *pyro_export_pstats(pyro_state *st, double sec_per_tick)
{
    pyro_functable *t = &st->funcs;
    export_ctx x = {0};
    PyObject *result = NULL, *by_label = NULL;
    PyObject **callers = NULL;
    uint32_t n = t->count;

    x.canon = PyMem_RawMalloc((n + 1) * sizeof(*x.canon));
    x.funcs = PyMem_RawCalloc(n + 1, sizeof(*x.funcs));
    callers = PyMem_RawCalloc(n + 1, sizeof(*callers));
    by_label = PyDict_New();
    result = PyDict_New();
    if (!x.canon || !x.funcs || !callers || !by_label || !result) {
        PyErr_NoMemory();
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        PyObject *id = PyLong_FromUnsignedLong(i);
        if (id == NULL)
            goto fail;
        PyObject *first = PyDict_SetDefault(by_label, t->items[i]->label, id);
        Py_DECREF(id);
        if (first == NULL)
            goto fail;
        x.canon[i] = (uint32_t)PyLong_AsUnsignedLong(first);
    }
    if (pyro_for_each_node(st, visit, &x) < 0 || x.failed) {
        PyErr_NoMemory();
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (x.canon[i] != i || x.funcs[i].nc == 0)
            continue;
        callers[i] = PyDict_New();
        if (callers[i] == NULL)
            goto fail;
    }
    for (size_t j = 0; j < x.edge_cap; j++) {
        edge_slot *e = &x.edges[j];
        if (e->key == 0)
            continue;
        uint32_t caller = (uint32_t)((e->key - 1) >> 32);
        uint32_t callee = (uint32_t)((e->key - 1) & 0xffffffffu);
        PyObject *v = Py_BuildValue("(KKdd)",
                                    (unsigned long long)e->sums.nc,
                                    (unsigned long long)e->sums.cc,
                                    seconds(e->sums.tt, sec_per_tick), seconds(e->sums.ct, sec_per_tick));
        if (v == NULL || callers[callee] == NULL
            || PyDict_SetItem(callers[callee], t->items[caller]->label, v) < 0) {
            Py_XDECREF(v);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "pyrometer: inconsistent call tree");
            goto fail;
        }
        Py_DECREF(v);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (callers[i] == NULL)
            continue;
        pyro_sums *s = &x.funcs[i];
        PyObject *v = Py_BuildValue("(KKddO)", (unsigned long long)s->cc,
                                    (unsigned long long)s->nc,
                                    seconds(s->tt, sec_per_tick), seconds(s->ct, sec_per_tick), callers[i]);
        if (v == NULL || PyDict_SetItem(result, t->items[i]->label, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    goto done;

fail:
    Py_CLEAR(result);
done:
    if (callers != NULL)
        for (uint32_t i = 0; i < n; i++)
            Py_XDECREF(callers[i]);
    PyMem_RawFree(callers);
    PyMem_RawFree(x.canon);
    PyMem_RawFree(x.funcs);
    PyMem_RawFree(x.edges);
    Py_XDECREF(by_label);
    return result;
}
