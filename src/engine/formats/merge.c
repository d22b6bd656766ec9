/* merge.c: add profiles together, as `pyrometer merge` does.
 *
 * The statistics are added the way pstats.Stats.add() adds them, to the
 * same numbers: Stats(a).add(b) computes every sum as `b + a` (the new
 * item first), which for ints and IEEE floats is `a + b`, so merging
 * a, b, c here gives what Stats(a).add(b).add(c) gives.  The call trees
 * (docs/tree-format.md) are merged path by path: a node of the result is
 * a (parent node, function) pair, so two runs' nodes meet when they are
 * the same call path; calls, self and total are summed and `folded` is
 * or-ed.  What a tree's self and total add up is its first metric (time,
 * or samples for stacks of samples): every tree must have it.  A profile
 * of the same program from another folder (checkout, virtualenv, machine)
 * has its functions renamed to the first's before it is added
 * (model/relocate.h). */
#include "formats/merge.h"
#include "core/errors.h"
#include "model/pstats_add.h"
#include "model/pstats_shape.h"
#include "model/relocate.h"
#include "model/stack_view.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- call trees: path by path ------------------------------------------ */

typedef struct {
    PyObject *funcs;           /* list of function keys */
    PyObject *fids;            /* {key: index in funcs} */
    Py_ssize_t *parent, *func;
    uint64_t *calls;
    double *self, *total;
    size_t n, cap;
    size_t *slots;             /* open addressing: node + 1, 0 when empty */
    size_t nslots;
    int folded;
    char metric[32];           /* what adds up: the first tree's first metric */
    pyro_unit unit;
} tree_acc;

static void tree_acc_free(tree_acc *a)
{
    Py_CLEAR(a->funcs);
    Py_CLEAR(a->fids);
    PyMem_RawFree(a->parent);
    PyMem_RawFree(a->func);
    PyMem_RawFree(a->calls);
    PyMem_RawFree(a->self);
    PyMem_RawFree(a->total);
    PyMem_RawFree(a->slots);
    memset(a, 0, sizeof(*a));
}

static size_t node_hash(Py_ssize_t parent, Py_ssize_t func)
{
    uint64_t h = (uint64_t)(parent + 1) * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)func * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h ^ (h >> 31));
}

/* The slot of (parent, func): the node's, or the empty one it would take. */
static size_t *node_slot(tree_acc *a, Py_ssize_t parent, Py_ssize_t func)
{
    size_t mask = a->nslots - 1;
    for (size_t j = node_hash(parent, func) & mask;; j = (j + 1) & mask) {
        size_t s = a->slots[j];
        if (s == 0 || (a->parent[s - 1] == parent && a->func[s - 1] == func))
            return &a->slots[j];
    }
}

static int grow_nodes(tree_acc *a)
{
    size_t cap = a->cap ? a->cap * 2 : 1024;
    Py_ssize_t *parent = PyMem_RawRealloc(a->parent, cap * sizeof(*parent));
    if (parent != NULL)
        a->parent = parent;
    Py_ssize_t *func = PyMem_RawRealloc(a->func, cap * sizeof(*func));
    if (func != NULL)
        a->func = func;
    uint64_t *calls = PyMem_RawRealloc(a->calls, cap * sizeof(*calls));
    if (calls != NULL)
        a->calls = calls;
    double *self = PyMem_RawRealloc(a->self, cap * sizeof(*self));
    if (self != NULL)
        a->self = self;
    double *total = PyMem_RawRealloc(a->total, cap * sizeof(*total));
    if (total != NULL)
        a->total = total;
    if (!parent || !func || !calls || !self || !total) {
        PyErr_NoMemory();
        return -1;
    }
    a->cap = cap;
    /* the hash table stays at most half full */
    size_t *slots = PyMem_RawCalloc(cap * 2, sizeof(*slots));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyMem_RawFree(a->slots);
    a->slots = slots;
    a->nslots = cap * 2;
    for (size_t i = 0; i < a->n; i++)
        *node_slot(a, a->parent[i], a->func[i]) = i + 1;
    return 0;
}

/* Add one tree into `a`, checked by the format's own reader. */
static int tree_acc_add(tree_acc *a, PyObject *tree, PyObject *name)
{
    pyro_stack_view v;
    PyObject *reason = NULL;
    int checked = pyro_stack_view_init(&v, tree, &reason);
    if (checked != 0) {
        if (checked > 0) {
            PyErr_Format(pyro_FormatError, "pyrometer: the call tree of %U is damaged (%U)",
                         name, reason);
            Py_DECREF(reason);
        }
        return -1;
    }
    /* What adds up is the first tree's first metric (time in seconds for
     * traced profiles, samples for sampled ones): every tree needs it. */
    if (a->metric[0] == '\0') {
        snprintf(a->metric, sizeof(a->metric), "%s", v.metric->name);
        a->unit = v.unit;
    }
    if (pyro_stack_view_select(&v, a->metric) < 0 || v.unit != a->unit) {
        PyErr_Clear();
        PyErr_Format(pyro_FormatError, "pyrometer: the call tree of %U has no %s in %s "
                     "to add up", name, a->metric, pyro_unit_name(a->unit));
        pyro_stack_view_release(&v);
        return -1;
    }
    int rc = -1;
    Py_ssize_t *fmap = PyMem_RawMalloc((v.nfuncs + 1) * sizeof(*fmap));
    Py_ssize_t *nmap = PyMem_RawMalloc((v.n + 1) * sizeof(*nmap));
    if (fmap == NULL || nmap == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* the tree's function ids -> ours */
    for (size_t i = 0; i < v.nfuncs; i++) {
        PyObject *key = PyList_GET_ITEM(v.funcs, (Py_ssize_t)i);
        PyObject *fid = PyDict_GetItemWithError(a->fids, key);
        if (fid != NULL) {
            fmap[i] = PyLong_AsSsize_t(fid);
            continue;
        }
        if (PyErr_Occurred())
            goto done;
        fmap[i] = PyList_GET_SIZE(a->funcs);
        PyObject *idx = PyLong_FromSsize_t(fmap[i]);
        if (idx == NULL)
            goto done;
        int bad = PyDict_SetItem(a->fids, key, idx) < 0 || PyList_Append(a->funcs, key) < 0;
        Py_DECREF(idx);
        if (bad)
            goto done;
    }
    /* parents come before their children, so a node's parent is mapped
     * before the node is */
    for (size_t i = 0; i < v.n; i++) {
        Py_ssize_t op = v.parent[i] < 0 ? -1 : nmap[v.parent[i]], of = fmap[v.func[i]];
        if (a->n == a->cap && grow_nodes(a) < 0)
            goto done;
        size_t *slot = node_slot(a, op, of);
        if (*slot == 0) {
            size_t k = a->n++;
            a->parent[k] = op;
            a->func[k] = of;
            a->calls[k] = 0;
            a->self[k] = 0.0;
            a->total[k] = 0.0;
            *slot = k + 1;
        }
        size_t k = *slot - 1;
        if (a->calls[k] > UINT64_MAX - v.calls[i]) {
            PyErr_SetString(pyro_FormatError, "pyrometer: too many calls to add up");
            goto done;
        }
        a->calls[k] += v.calls[i];
        a->self[k] += v.self[i];
        a->total[k] += v.total[i];
        nmap[i] = (Py_ssize_t)k;
    }
    a->folded |= v.folded;
    rc = 0;
done:
    PyMem_RawFree(fmap);
    PyMem_RawFree(nmap);
    pyro_stack_view_release(&v);
    return rc;
}

/* The tree dict of docs/tree-format.md from `a`. */
static PyObject *tree_acc_result(tree_acc *a)
{
    PyObject *lists[5] = {NULL};
    PyObject *tree = NULL;
    Py_ssize_t n = (Py_ssize_t)a->n;
    for (int f = 0; f < 5; f++)
        if ((lists[f] = PyList_New(n)) == NULL)
            goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v[5] = {
            PyLong_FromSsize_t(a->parent[i]), PyLong_FromSsize_t(a->func[i]),
            PyLong_FromUnsignedLongLong(a->calls[i]), PyFloat_FromDouble(a->self[i]),
            PyFloat_FromDouble(a->total[i]),
        };
        int bad = 0;
        for (int f = 0; f < 5; f++) {
            if (v[f] == NULL)
                bad = 1;
            else
                PyList_SET_ITEM(lists[f], i, v[f]);
        }
        if (bad)
            goto done;
    }
    if (strcmp(a->metric, "time") == 0 && a->unit == PYRO_UNIT_SECONDS)
        tree = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
                             "pyrometer", "calltree", "version", 1, "funcs", a->funcs,
                             "parent", lists[0], "func", lists[1], "calls", lists[2],
                             "self", lists[3], "total", lists[4],
                             "folded", a->folded ? Py_True : Py_False);
    else
        tree = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:[{s:s,s:s,s:O,s:O}]}",
                             "pyrometer", "calltree", "version", 2, "funcs", a->funcs,
                             "parent", lists[0], "func", lists[1], "calls", lists[2],
                             "folded", a->folded ? Py_True : Py_False, "metrics",
                             "name", a->metric, "unit", pyro_unit_name(a->unit),
                             "self", lists[3], "total", lists[4]);
done:
    for (int f = 0; f < 5; f++)
        Py_XDECREF(lists[f]);
    return tree;
}

/* ---- merge_profiles() ------------------------------------------------------ */

static PyObject *name_of(PyObject *names, Py_ssize_t i)
{
    if (names != NULL && i < PySequence_Fast_GET_SIZE(names)) {
        PyObject *s = PyObject_Str(PySequence_Fast_GET_ITEM(names, i));
        if (s != NULL)
            return s;
        PyErr_Clear();
    }
    return PyUnicode_FromFormat("profile %zd", i + 1);
}

PyObject *pyro_merge_profiles(PyObject *profiles_arg, PyObject *names_arg)
{
    PyObject *profiles = PySequence_Fast(
        profiles_arg, "pyrometer: profiles must be a sequence of (stats, tree or None)");
    if (profiles == NULL)
        return NULL;
    PyObject *names = NULL, *stats = NULL, *result = NULL, *name = NULL;
    tree_acc trees = {0};
    Py_ssize_t n = PySequence_Fast_GET_SIZE(profiles);
    if (names_arg != NULL && names_arg != Py_None
        && (names = PySequence_Fast(names_arg, "pyrometer: names must be a sequence")) == NULL)
        goto done;
    if ((stats = PyDict_New()) == NULL)
        goto done;
    int with_trees = n > 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(profiles, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError,
                            "pyrometer: profiles must be a sequence of (stats, tree or None)");
            goto done;
        }
        if (PyTuple_GET_ITEM(item, 1) == Py_None)
            with_trees = 0;
    }
    if (with_trees) {
        trees.funcs = PyList_New(0);
        trees.fids = PyDict_New();
        if (trees.funcs == NULL || trees.fids == NULL)
            goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(profiles, i), *reason = NULL;
        PyObject *src = PyTuple_GET_ITEM(item, 0);
        Py_CLEAR(name);
        if ((name = name_of(names, i)) == NULL)
            goto done;
        int bad = pyro_check_stats(src, &reason);
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: %U is not a profile (%U)", name, reason);
            Py_XDECREF(reason);
            goto done;
        }
        PyObject *map = pyro_relocation(stats, src);
        if (map == NULL)
            goto done;
        PyObject *moved = pyro_rekey_stats(src, map);
        PyObject *tree = moved != NULL && with_trees
            ? pyro_rekey_tree(PyTuple_GET_ITEM(item, 1), map) : NULL;
        Py_DECREF(map);
        int rc = moved == NULL || (with_trees && tree == NULL) ? -1
               : pyro_stats_add(stats, moved, name);
        if (rc == 0 && with_trees)
            rc = tree_acc_add(&trees, tree, name);
        Py_XDECREF(moved);
        Py_XDECREF(tree);
        if (rc < 0)
            goto done;
    }
    if (with_trees) {
        PyObject *tree = tree_acc_result(&trees);
        if (tree != NULL)
            result = PyTuple_Pack(2, stats, tree);
        Py_XDECREF(tree);
    } else {
        result = PyTuple_Pack(2, stats, Py_None);
    }
done:
    Py_XDECREF(name);
    Py_XDECREF(stats);
    Py_XDECREF(names);
    Py_DECREF(profiles);
    tree_acc_free(&trees);
    return result;
}
