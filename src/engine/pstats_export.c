/* pstats_export.c: derive pstats' statistics from the call tree.
 *
 * Per function: calls and primitive calls, self time (tottime) and the time
 * of its outermost activations (cumtime).  Per caller->callee pair the same
 * four numbers, keyed as cProfile keys them.  Functions whose pstats label
 * coincides (two code objects of one lambda line, say) are merged. */
#include "profiler.h"

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

static int visit(pyro_node *n, void *arg)
{
    export_ctx *x = arg;
    if (n->fold_to != NULL || n->calls == 0)
        return 0;
    uint32_t f = x->canon[n->func_id];
    pyro_sums *s = &x->funcs[f];
    s->nc += n->calls;
    s->cc += n->prim_calls;
    s->tt += n->self_time;
    s->ct += n->func_time;
    if (n->parent->func == NULL)
        return 0;   /* called from outside the profile: no caller entry */
    uint32_t caller = x->canon[n->parent->func_id];
    edge_slot *e = edge_find(x, (((uint64_t)caller << 32) | f) + 1);
    if (e == NULL) {
        x->failed = 1;
        return -1;
    }
    e->sums.nc += n->calls;
    e->sums.cc += n->edge_prim_calls;
    e->sums.tt += n->self_time;
    if (!n->edge_recursive)
        e->sums.ct += n->total_time;
    return 0;
}

PyObject *pyro_export_pstats(pyro_profiler *p)
{
    pyro_functable *t = &p->st.funcs;
    double spt = pyro_clock_seconds_per_tick();
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
    if (pyro_for_each_node(&p->st, visit, &x) < 0 || x.failed) {
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
                                    e->sums.tt * spt, e->sums.ct * spt);
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
                                    s->tt * spt, s->ct * spt, callers[i]);
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
