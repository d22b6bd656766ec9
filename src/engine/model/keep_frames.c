/* keep_frames.c: a call tree with some functions' frames taken out, or
 * grouped (see keep_frames.h). */
#include "model/keep_frames.h"
#include "model/tree_values.h"

/* What a kept node of the new tree is: its parent there, function, calls
 * and self value of each metric; totals are summed once every node is
 * placed. */
typedef struct {
    int64_t parent;
    Py_ssize_t func;           /* index into the view's funcs; -1: the other frames */
    uint64_t calls;
    double self[PYRO_MAX_METRICS], total[PYRO_MAX_METRICS];
} kept_node;

/* Node i's self values (every metric) added to kept node k. */
static void add_self(const pyro_stack_view *v, kept_node *k, size_t i)
{
    for (size_t m = 0; m < v->nmetrics; m++)
        k->self[m] += v->metrics[m].self[i];
}

static void new_node(kept_node *k, int64_t parent, Py_ssize_t func, uint64_t calls)
{
    memset(k, 0, sizeof(*k));
    k->parent = parent;
    k->func = func;
    k->calls = calls;
}

static double kept_value(const void *ctx, size_t node, size_t metric, int total)
{
    const kept_node *k = (const kept_node *)ctx + node;
    return total ? k->total[metric] : k->self[metric];
}

PyObject *pyro_reshape_tree(const pyro_stack_view *v, const Py_ssize_t *label_of,
                            PyObject *labels, int merge_same, size_t *hidden)
{
    PyObject *result = NULL, *index = PyDict_New(), *funcs = PyList_New(0), *ids = PyDict_New();
    PyObject *other = NULL;
    int64_t *placed = PyMem_RawMalloc((v->n + 1) * sizeof(*placed));
    kept_node *nodes = PyMem_RawMalloc((v->n + 2) * sizeof(*nodes));
    size_t n = 0;
    int64_t other_root = -1;
    *hidden = 0;
    if (index == NULL || funcs == NULL || ids == NULL || placed == NULL || nodes == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < v->n; i++) {
        int64_t p = v->parent[i];
        int64_t up = p >= 0 ? placed[p] : -1;   /* the nearest kept ancestor's new node */
        Py_ssize_t label = label_of[v->func[i]];
        if (merge_same && label >= 0 && up >= 0 && nodes[up].func == label) {
            /* the same group as the frame above: one frame with it */
            add_self(v, &nodes[up], i);
            placed[i] = up;
            continue;
        }
        if (label < 0) {
            (*hidden)++;
            placed[i] = up;
            if (up < 0) {
                /* hidden frames at the top: their own time goes to one root */
                if (other_root < 0) {
                    other_root = (int64_t)n;
                    new_node(&nodes[n++], -1, -1, 0);
                }
                nodes[other_root].calls += p < 0 ? v->calls[i] : 0;
                add_self(v, &nodes[other_root], i);
            } else {
                add_self(v, &nodes[up], i);
            }
            continue;
        }
        /* one node per (new parent, function) */
        PyObject *k = Py_BuildValue("(Ln)", (long long)up, label);
        if (k == NULL)
            goto done;
        PyObject *at = PyDict_GetItemWithError(index, k);
        if (at == NULL && PyErr_Occurred()) {
            Py_DECREF(k);
            goto done;
        }
        if (at != NULL) {
            int64_t j = PyLong_AsLongLong(at);
            Py_DECREF(k);
            nodes[j].calls += v->calls[i];
            add_self(v, &nodes[j], i);
            placed[i] = j;
            continue;
        }
        PyObject *jo = PyLong_FromSize_t(n);
        int rc = jo != NULL ? PyDict_SetItem(index, k, jo) : -1;
        Py_XDECREF(jo);
        Py_DECREF(k);
        if (rc < 0)
            goto done;
        new_node(&nodes[n], up, label, v->calls[i]);
        add_self(v, &nodes[n], i);
        placed[i] = (int64_t)n++;
    }
    /* totals, children before parents (a parent is always placed first) */
    for (size_t j = 0; j < n; j++)
        memcpy(nodes[j].total, nodes[j].self, sizeof(nodes[j].total));
    for (size_t j = n; j-- > 0;)
        if (nodes[j].parent >= 0)
            for (size_t m = 0; m < v->nmetrics; m++)
                nodes[nodes[j].parent].total[m] += nodes[j].total[m];
    if ((other = Py_BuildValue("(sis)", "~", 0, "<other frames>")) == NULL)
        goto done;
    PyObject *parent = PyList_New((Py_ssize_t)n), *func = PyList_New((Py_ssize_t)n),
             *calls = PyList_New((Py_ssize_t)n);
    int ok = parent != NULL && func != NULL && calls != NULL;
    for (size_t j = 0; ok && j < n; j++) {
        PyObject *key = nodes[j].func < 0 ? other : PyList_GET_ITEM(labels, nodes[j].func);
        PyObject *id = PyDict_GetItemWithError(ids, key);
        if (id == NULL) {
            id = PyErr_Occurred() ? NULL : PyLong_FromSsize_t(PyList_GET_SIZE(funcs));
            ok = id != NULL && PyDict_SetItem(ids, key, id) == 0 && PyList_Append(funcs, key) == 0;
            Py_XDECREF(id);
            if (!ok)
                break;
            id = PyDict_GetItem(ids, key);
        }
        PyObject *items[3] = {PyLong_FromLongLong(nodes[j].parent), Py_NewRef(id),
                              PyLong_FromUnsignedLongLong(nodes[j].calls)};
        PyObject *lists[3] = {parent, func, calls};
        for (int c = 0; c < 3; c++) {
            if (items[c] == NULL)
                ok = 0;
            else
                PyList_SET_ITEM(lists[c], (Py_ssize_t)j, items[c]);
        }
    }
    if (ok) {
        /* the keys in the format's order: the marker first, then the version */
        result = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O}", "pyrometer", "calltree",
                               "version", 1, "funcs", funcs, "parent", parent, "func", func,
                               "calls", calls);
        if (result != NULL && pyro_tree_put_values(result, v, n, kept_value, nodes) < 0)
            Py_CLEAR(result);
        if (result != NULL
            && PyDict_SetItemString(result, "folded", v->folded ? Py_True : Py_False) < 0)
            Py_CLEAR(result);
    }
    else if (!PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(parent);
    Py_XDECREF(func);
    Py_XDECREF(calls);
done:
    Py_XDECREF(index);
    Py_XDECREF(funcs);
    Py_XDECREF(ids);
    Py_XDECREF(other);
    PyMem_RawFree(placed);
    PyMem_RawFree(nodes);
    return result;
}

PyObject *pyro_keep_frames(const pyro_stack_view *v, const char *keep, size_t *hidden)
{
    Py_ssize_t *label_of = PyMem_RawMalloc((v->nfuncs + 1) * sizeof(*label_of));
    if (label_of == NULL)
        return PyErr_NoMemory();
    for (size_t f = 0; f < v->nfuncs; f++)
        label_of[f] = keep[f] ? (Py_ssize_t)f : -1;
    PyObject *r = pyro_reshape_tree(v, label_of, v->funcs, 0, hidden);
    PyMem_RawFree(label_of);
    return r;
}
