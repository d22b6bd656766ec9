/* tree_export.c: the call tree as the dict of docs/tree-format.md.
 *
 * The arena holds one node per (parent node, code object or PyMethodDef):
 * the export walks every thread's tree depth first, leaves out aliases of
 * folded recursion (their calls were counted on the node they fold to) and
 * pyrometer's own frames, and merges what pstats merges: functions with
 * one label are one function, so two sibling nodes of such functions
 * become one node (their subtrees merge the same way, level by level), and
 * the first calls of all threads are roots merged by function.  Paths that
 * never completed a call are dropped.  Per function, the nodes' calls and
 * self times add up to pstats' nc and tt (pstats_export.c counts a node's
 * self time the same way: ticks of both modes, never below zero). */
#include "model/calltree_export.h"

typedef struct {
    int64_t parent;            /* index of the parent, -1 for a root */
    uint32_t func;             /* canonical function id (first with its label) */
    uint64_t calls;
    int64_t self_time, total_time;
    uint64_t alloc_bytes, alloc_count, net_bytes, peak_bytes;   /* the node's own */
} out_node;

typedef struct {
    uint64_t key;              /* (parent + 1) << 32 | func, +1 so 0 is empty */
    size_t index;
} out_slot;

typedef struct {
    out_node *nodes;
    size_t count, cap;
    out_slot *slots;
    size_t slot_cap;
    int64_t *path;             /* output index of the open ancestor, by depth */
    size_t path_cap;
} tree_out;

static size_t slot_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

static int grow_slots(tree_out *x)
{
    size_t cap = x->slot_cap ? x->slot_cap * 2 : 1024;
    out_slot *slots = PyMem_RawCalloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < x->slot_cap; i++) {
        if (x->slots[i].key == 0)
            continue;
        size_t j = slot_hash(x->slots[i].key) & (cap - 1);
        while (slots[j].key != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = x->slots[i];
    }
    PyMem_RawFree(x->slots);
    x->slots = slots;
    x->slot_cap = cap;
    return 0;
}

/* The output node for `func` under `parent`, made if new.  -1: no memory. */
static int64_t node_for(tree_out *x, int64_t parent, uint32_t func)
{
    if ((x->count + 1) * 2 > x->slot_cap && grow_slots(x) < 0)
        return -1;
    uint64_t key = (((uint64_t)(parent + 1) << 32) | func) + 1;
    size_t j = slot_hash(key) & (x->slot_cap - 1);
    while (x->slots[j].key != 0) {
        if (x->slots[j].key == key)
            return (int64_t)x->slots[j].index;
        j = (j + 1) & (x->slot_cap - 1);
    }
    if (x->count == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        out_node *nodes = PyMem_RawRealloc(x->nodes, cap * sizeof(*nodes));
        if (nodes == NULL)
            return -1;
        x->nodes = nodes;
        x->cap = cap;
    }
    out_node *t = &x->nodes[x->count];
    memset(t, 0, sizeof(*t));
    t->parent = parent;
    t->func = func;
    x->slots[j].key = key;
    x->slots[j].index = x->count;
    return (int64_t)x->count++;
}

static int set_path(tree_out *x, uint32_t depth, int64_t index)
{
    if (depth >= x->path_cap) {
        size_t cap = x->path_cap ? x->path_cap : 64;
        while (cap <= depth)
            cap *= 2;
        int64_t *path = PyMem_RawRealloc(x->path, cap * sizeof(*path));
        if (path == NULL)
            return -1;
        x->path = path;
        x->path_cap = cap;
    }
    x->path[depth] = index;
    return 0;
}

/* Add one arena node (not an alias, not hidden) to its output node. */
static int add_node(tree_out *x, const uint32_t *canon, pyro_node *n)
{
    int64_t parent = n->depth <= 1 ? -1 : x->path[n->depth - 1];
    int64_t i = node_for(x, parent, canon[n->func_id]);
    if (i < 0 || set_path(x, n->depth, i) < 0)
        return -1;
    uint64_t calls = n->calls;
    int64_t self_time = n->self_time, total_time = n->total_time;
    if (n->dyn != NULL) {
        calls += n->dyn->calls;
        self_time += n->dyn->self_time;
        total_time += n->dyn->total_time;
    }
    out_node *t = &x->nodes[i];
    if (n->mem != NULL) {
        t->alloc_bytes += n->mem->alloc_bytes;
        t->alloc_count += n->mem->alloc_count;
        t->net_bytes += n->mem->alloc_bytes - n->mem->freed_bytes;
        t->peak_bytes += n->mem->at_peak;
    }
    t->calls += calls;
    t->self_time += self_time > 0 ? self_time : 0;
    t->total_time += total_time > 0 ? total_time : 0;
    return 0;
}

/* Depth first over one thread's tree, without a stack: the nodes know
 * their parents. */
static int walk_thread(tree_out *x, const uint32_t *canon, pyro_node *root)
{
    pyro_node *n = root->first_child;
    while (n != NULL) {
        int keep = n->fold_to == NULL && !n->hidden;
        if (keep && add_node(x, canon, n) < 0)
            return -1;
        if (keep && n->first_child != NULL) {
            n = n->first_child;
            continue;
        }
        while (n != root && n->next_sibling == NULL)
            n = n->parent;
        n = n == root ? NULL : n->next_sibling;
    }
    return 0;
}

static int any_folded(pyro_node *n, void *arg)
{
    if (n->fold_to != NULL && !n->hidden && n->calls > 0)
        *(int *)arg = 1;
    return 0;
}

/* `list` = a list of `n` new objects, `expr` for each index i; NULL +
 * exception if one could not be made. */
#define FILL_LIST(list, n, expr)                                  \
    do {                                                           \
        (list) = PyList_New((Py_ssize_t)(n));                      \
        for (size_t i_ = 0; (list) != NULL && i_ < (n); i_++) {    \
            size_t i = i_;                                         \
            PyObject *item_ = (expr);                              \
            if (item_ == NULL) {                                   \
                Py_CLEAR(list);                                    \
                break;                                             \
            }                                                      \
            PyList_SET_ITEM((list), (Py_ssize_t)i, item_);         \
        }                                                          \
    } while (0)

/* One metric's dict: {"name", "unit", "self", "total"}, or NULL. */
static PyObject *metric_of(const char *name, const char *unit, PyObject *self_list,
                           PyObject *total_list)
{
    if (self_list == NULL || total_list == NULL)
        return NULL;
    return Py_BuildValue("{s:s,s:s,s:O,s:O}", "name", name, "unit", unit, "self", self_list,
                         "total", total_list);
}

/* The version 2 tree (docs/tree-format.md): time, then what the nodes
 * allocated (bytes and blocks), the net bytes still alive at the end and
 * the bytes alive at the peak.  The subtree sums go backwards, as every
 * parent comes before its children. */
#define MEM_METRICS 4

static uint64_t own_value(const out_node *nd, int m)
{
    return m == 0 ? nd->alloc_bytes : m == 1 ? nd->alloc_count : m == 2 ? nd->net_bytes
                                                                         : nd->peak_bytes;
}

static PyObject *with_memory(out_node *nd, size_t kept, PyObject *funcs, PyObject **lists,
                             int folded)
{
    static const char *const names[MEM_METRICS] = {"allocated", "allocations", "net", "peak"};
    static const char *const units[MEM_METRICS] = {"bytes", "count", "bytes", "bytes"};
    uint64_t *totals = PyMem_RawCalloc(MEM_METRICS * kept + 1, sizeof(*totals));
    if (totals == NULL)
        return PyErr_NoMemory();
    for (size_t i = kept; i-- > 0;)
        for (int m = 0; m < MEM_METRICS; m++) {
            totals[m * kept + i] += own_value(&nd[i], m);
            if (nd[i].parent >= 0)
                totals[m * kept + (size_t)nd[i].parent] += totals[m * kept + i];
        }
    PyObject *metrics = PyList_New(0), *result = NULL;
    PyObject *time = metric_of("time", "seconds", lists[3], lists[4]);
    int ok = metrics != NULL && time != NULL && PyList_Append(metrics, time) == 0;
    Py_XDECREF(time);
    for (int m = 0; ok && m < MEM_METRICS; m++) {
        PyObject *self = NULL, *total = NULL;
        FILL_LIST(self, kept, PyLong_FromUnsignedLongLong((unsigned long long)own_value(&nd[i], m)));
        FILL_LIST(total, kept, PyLong_FromUnsignedLongLong((unsigned long long)totals[m * kept + i]));
        PyObject *d = metric_of(names[m], units[m], self, total);
        ok = d != NULL && PyList_Append(metrics, d) == 0;
        Py_XDECREF(d);
        Py_XDECREF(self);
        Py_XDECREF(total);
    }
    PyMem_RawFree(totals);
    if (ok)
        result = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:O}",
                               "pyrometer", "calltree", "version", 2, "funcs", funcs,
                               "parent", lists[0], "func", lists[1], "calls", lists[2],
                               "metrics", metrics, "folded", folded ? Py_True : Py_False);
    Py_XDECREF(metrics);
    return result;
}

PyObject *pyro_export_tree(pyro_state *st, double sec_per_tick)
{
    pyro_functable *t = &st->funcs;
    uint32_t nfuncs = t->count;
    tree_out x = {0};
    PyObject *result = NULL, *by_label = NULL, *funcs = NULL;
    PyObject *lists[5] = {NULL};
    pyro_thread **threads = NULL;
    uint8_t *keep = NULL;
    int64_t *remap = NULL;
    int32_t *func_out = NULL;
    uint32_t *canon = PyMem_RawMalloc((nfuncs + 1) * sizeof(*canon));
    by_label = PyDict_New();
    if (canon == NULL || by_label == NULL)
        goto nomem;
    for (uint32_t i = 0; i < nfuncs; i++) {
        PyObject *id = PyLong_FromUnsignedLong(i);
        if (id == NULL)
            goto fail;
        PyObject *first = PyDict_SetDefault(by_label, t->items[i]->label, id);
        Py_DECREF(id);
        if (first == NULL)
            goto fail;
        canon[i] = (uint32_t)PyLong_AsUnsignedLong(first);
    }

    /* Threads in the order they started (the list holds the newest first). */
    size_t nthreads = 0;
    for (pyro_thread *th = st->threads; th != NULL; th = th->next)
        nthreads++;
    threads = PyMem_RawMalloc((nthreads + 1) * sizeof(*threads));
    if (threads == NULL)
        goto nomem;
    size_t k = nthreads;
    for (pyro_thread *th = st->threads; th != NULL; th = th->next)
        threads[--k] = th;
    for (size_t i = 0; i < nthreads; i++)
        if (walk_thread(&x, canon, &threads[i]->root) < 0)
            goto nomem;

    /* Keep a node if it or a node below it completed a call; parents come
     * before children, so one backward pass sees every subtree first. */
    size_t n = x.count;
    keep = PyMem_RawCalloc(n + 1, 1);
    remap = PyMem_RawMalloc((n + 1) * sizeof(*remap));
    func_out = PyMem_RawMalloc((nfuncs + 1) * sizeof(*func_out));
    if (keep == NULL || remap == NULL || func_out == NULL)
        goto nomem;
    for (size_t i = n; i-- > 0;) {
        if (x.nodes[i].calls > 0 || x.nodes[i].alloc_count > 0)
            keep[i] = 1;
        if (keep[i] && x.nodes[i].parent >= 0)
            keep[x.nodes[i].parent] = 1;
    }
    for (uint32_t i = 0; i < nfuncs; i++)
        func_out[i] = -1;
    funcs = PyList_New(0);
    if (funcs == NULL)
        goto fail;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        out_node *nd = &x.nodes[i];
        nd->parent = nd->parent < 0 ? -1 : remap[nd->parent];
        if (func_out[nd->func] < 0) {
            func_out[nd->func] = (int32_t)PyList_GET_SIZE(funcs);
            if (PyList_Append(funcs, t->items[nd->func]->label) < 0)
                goto fail;
        }
        nd->func = (uint32_t)func_out[nd->func];
        remap[i] = (int64_t)kept;
        x.nodes[kept++] = *nd;
    }

    out_node *nd = x.nodes;
    FILL_LIST(lists[0], kept, PyLong_FromLongLong((long long)nd[i].parent));
    if (lists[0] != NULL)
        FILL_LIST(lists[1], kept, PyLong_FromUnsignedLong(nd[i].func));
    if (lists[1] != NULL)
        FILL_LIST(lists[2], kept, PyLong_FromUnsignedLongLong((unsigned long long)nd[i].calls));
    if (lists[2] != NULL)
        FILL_LIST(lists[3], kept, PyFloat_FromDouble((double)nd[i].self_time * sec_per_tick));
    if (lists[3] != NULL)
        FILL_LIST(lists[4], kept, PyFloat_FromDouble((double)nd[i].total_time * sec_per_tick));
    if (lists[4] == NULL)
        goto fail;
    int folded = 0;
    pyro_for_each_node(st, any_folded, &folded);
    if (st->has_memory) {
        result = with_memory(x.nodes, kept, funcs, lists, folded);
        goto done;
    }
    result = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
                           "pyrometer", "calltree", "version", 1, "funcs", funcs,
                           "parent", lists[0], "func", lists[1], "calls", lists[2],
                           "self", lists[3], "total", lists[4],
                           "folded", folded ? Py_True : Py_False);
    goto done;

nomem:
    PyErr_NoMemory();
fail:
    Py_CLEAR(result);
done:
    for (int i = 0; i < 5; i++)
        Py_XDECREF(lists[i]);
    Py_XDECREF(funcs);
    Py_XDECREF(by_label);
    PyMem_RawFree(canon);
    PyMem_RawFree(threads);
    PyMem_RawFree(keep);
    PyMem_RawFree(remap);
    PyMem_RawFree(func_out);
    PyMem_RawFree(x.nodes);
    PyMem_RawFree(x.slots);
    PyMem_RawFree(x.path);
    return result;
}
