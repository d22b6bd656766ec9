/* fold_imports.c: the import system's frames folded away (see
 * fold_imports.h).
 *
 * An import is a call of importlib's `_find_and_load`; the outermost one
 * on a path is where the program asked for a module.  Its subtree holds
 * the import system's own frames (finding, loading, compiling) and the
 * bodies (`<module>`) of the modules it ran, each with the imports of its
 * own.  The subtree becomes, under the importing frame, one node per
 * module whose body it ran at its top (`<import json>`, its time the
 * body's, nested imports included) and one `<import system>` node with the
 * rest.  The nodes keep their calls and times; their frames are gone. */
#include "model/fold_imports.h"
#include "model/tree_values.h"
#include "model/portable_path.h"

#include <string.h>

#define NOT_IN (-1)

static int is_named(PyObject *key, const char *file, const char *name)
{
    return PyUnicode_Check(PyTuple_GET_ITEM(key, 0)) && PyUnicode_Check(PyTuple_GET_ITEM(key, 2))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(key, 0), file) == 0
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(key, 2), name) == 0;
}

static int is_module_body(PyObject *key)
{
    return PyUnicode_Check(PyTuple_GET_ITEM(key, 2))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(key, 2), "<module>") == 0;
}

/* `<import json>` for a module's body in .../json/__init__.py: the key of
 * the node that stands for its import.  A new tuple, or NULL + exception. */
static PyObject *import_key(PyObject *body)
{
    PyObject *file = PyTuple_GET_ITEM(body, 0);
    const char *f = PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    if (f == NULL) {
        PyErr_Clear();
        return Py_BuildValue("(Ois)", file, 0, "<import>");
    }
    const char *label, *rest;
    int library = pyro_path_split(f, &label, &rest) && *label != '\0';
    const char *from = rest;
    if (!library) {
        /* the program's own module: its file's name, or its package's */
        const char *slash = strrchr(f, '/');
        from = slash != NULL ? slash + 1 : f;
        if (strcmp(from, "__init__.py") == 0 && slash != NULL) {
            const char *up = slash;
            while (up > f && up[-1] != '/')
                up--;
            from = up;
        }
    }
    char name[200];
    size_t k = 0;
    for (const char *c = from; *c && k + 1 < sizeof(name); c++)
        name[k++] = *c == '/' ? '.' : *c;
    name[k] = '\0';
    char *dot = strstr(name, ".__init__.py");
    if (dot != NULL)
        *dot = '\0';
    size_t len = strlen(name);
    if (len > 3 && strcmp(name + len - 3, ".py") == 0)
        name[len - 3] = '\0';
    PyObject *shown = PyUnicode_FromFormat("<import %s>", name);
    if (shown == NULL)
        return NULL;
    PyObject *key = Py_BuildValue("(OiO)", file, 0, shown);
    Py_DECREF(shown);
    return key;
}

/* Growable arrays of the new tree. */
/* The new tree's nodes; vals holds per node, per metric, self then total. */
typedef struct {
    size_t n, cap, m;          /* m: the view's metrics */
    int64_t *parent;
    PyObject **func;           /* borrowed from the view's funcs, or owned in `made` */
    uint64_t *calls;
    double *vals;
} new_nodes;

static inline double *vals_of(const new_nodes *t, size_t i)
{
    return t->vals + i * 2 * t->m;
}

/* A new node; its values are zero: the caller sets them. */
static int add_node(new_nodes *t, int64_t parent, PyObject *func, uint64_t calls)
{
    if (t->n == t->cap) {
        size_t cap = t->cap * 2 + 64;
        int64_t *p = PyMem_RawRealloc(t->parent, cap * sizeof(*p));
        if (p != NULL)
            t->parent = p;
        PyObject **f = PyMem_RawRealloc(t->func, cap * sizeof(*f));
        if (f != NULL)
            t->func = f;
        uint64_t *c = PyMem_RawRealloc(t->calls, cap * sizeof(*c));
        if (c != NULL)
            t->calls = c;
        double *x = PyMem_RawRealloc(t->vals, cap * 2 * t->m * sizeof(*x));
        if (x != NULL)
            t->vals = x;
        if (p == NULL || f == NULL || c == NULL || x == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->cap = cap;
    }
    t->parent[t->n] = parent;
    t->func[t->n] = func;
    t->calls[t->n] = calls;
    memset(vals_of(t, t->n), 0, 2 * t->m * sizeof(double));
    t->n++;
    return 0;
}

static void free_nodes(new_nodes *t)
{
    PyMem_RawFree(t->parent);
    PyMem_RawFree(t->func);
    PyMem_RawFree(t->calls);
    PyMem_RawFree(t->vals);
}

static double new_value(const void *ctx, size_t node, size_t metric, int total)
{
    const new_nodes *t = ctx;
    return vals_of(t, node)[2 * metric + (total ? 1 : 0)];
}

/* The tree dict of the new nodes, funcs numbered in first use. */
static PyObject *as_tree(const new_nodes *t, const pyro_stack_view *v)
{
    PyObject *ids = PyDict_New(), *funcs = PyList_New(0), *parent = PyList_New((Py_ssize_t)t->n),
             *func = PyList_New((Py_ssize_t)t->n), *calls = PyList_New((Py_ssize_t)t->n),
             *tree = NULL;
    if (ids == NULL || funcs == NULL || parent == NULL || func == NULL || calls == NULL)
        goto done;
    for (size_t i = 0; i < t->n; i++) {
        PyObject *id = PyDict_GetItemWithError(ids, t->func[i]);
        if (id == NULL) {
            if (PyErr_Occurred() || (id = PyLong_FromSsize_t(PyList_GET_SIZE(funcs))) == NULL)
                goto done;
            int rc = PyDict_SetItem(ids, t->func[i], id) < 0 ? -1
                   : PyList_Append(funcs, t->func[i]);
            Py_DECREF(id);
            if (rc < 0)
                goto done;
            id = PyDict_GetItem(ids, t->func[i]);
        }
        PyObject *p = PyLong_FromLongLong(t->parent[i]), *c = PyLong_FromUnsignedLongLong(t->calls[i]);
        if (p == NULL || c == NULL) {
            Py_XDECREF(p);
            Py_XDECREF(c);
            goto done;
        }
        PyList_SET_ITEM(parent, (Py_ssize_t)i, p);
        PyList_SET_ITEM(func, (Py_ssize_t)i, Py_NewRef(id));
        PyList_SET_ITEM(calls, (Py_ssize_t)i, c);
    }
    tree = Py_BuildValue("{s:s,s:i,s:O,s:O,s:O,s:O}", "pyrometer", "calltree",
                         "version", 1, "funcs", funcs, "parent", parent, "func", func,
                         "calls", calls);
    if (tree != NULL && pyro_tree_put_values(tree, v, t->n, new_value, t) < 0)
        Py_CLEAR(tree);
    if (tree != NULL && PyDict_SetItemString(tree, "folded", v->folded ? Py_True : Py_False) < 0)
        Py_CLEAR(tree);
done:
    Py_XDECREF(ids);
    Py_XDECREF(funcs);
    Py_XDECREF(parent);
    Py_XDECREF(func);
    Py_XDECREF(calls);
    return tree;
}

PyObject *pyro_fold_imports(const pyro_stack_view *v, size_t *imports)
{
    PyObject *result = NULL, *made = PyList_New(0), *system = NULL;
    int64_t *outer = PyMem_RawMalloc((v->n + 1) * sizeof(*outer));
    int64_t *top = PyMem_RawMalloc((v->n + 1) * sizeof(*top));
    int64_t *renum = PyMem_RawMalloc((v->n + 1) * sizeof(*renum));
    size_t nm = v->nmetrics;
    double *inside = PyMem_RawCalloc(v->n * nm + 1, sizeof(*inside));   /* per node, per metric */
    char *entry = PyMem_RawCalloc(v->nfuncs + 1, 1), *body = PyMem_RawCalloc(v->nfuncs + 1, 1);
    new_nodes t = {.m = nm};
    *imports = 0;
    if (made == NULL || outer == NULL || top == NULL || renum == NULL || inside == NULL
        || entry == NULL || body == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t f = 0; f < v->nfuncs; f++) {
        PyObject *key = PyList_GET_ITEM(v->funcs, (Py_ssize_t)f);
        entry[f] = (char)is_named(key, "<frozen importlib._bootstrap>", "_find_and_load");
        body[f] = (char)is_module_body(key);
    }
    /* outer: the outermost import a node is in (itself for one); top: the
     * topmost module body it is in within that import. */
    for (size_t i = 0; i < v->n; i++) {
        int64_t p = v->parent[i];
        outer[i] = p >= 0 && outer[p] != NOT_IN ? outer[p] : entry[v->func[i]] ? (int64_t)i : NOT_IN;
        top[i] = NOT_IN;
        if (outer[i] != NOT_IN && outer[i] != (int64_t)i)
            top[i] = top[p] != NOT_IN ? top[p] : body[v->func[i]] ? (int64_t)i : NOT_IN;
        if (top[i] == (int64_t)i)
            for (size_t k = 0; k < nm; k++)
                inside[outer[i] * nm + k] += v->metrics[k].total[i];
    }
    if ((system = Py_BuildValue("(sis)", "<frozen importlib._bootstrap>", 0,
                                "<import system>")) == NULL)
        goto done;
    for (size_t i = 0; i < v->n; i++) {
        renum[i] = NOT_IN;
        int64_t p = v->parent[i];
        int64_t np = p >= 0 ? renum[p] : -1;
        if (outer[i] == NOT_IN) {
            renum[i] = (int64_t)t.n;
            if (add_node(&t, np, PyList_GET_ITEM(v->funcs, v->func[i]), v->calls[i]) < 0)
                goto done;
            for (size_t k = 0; k < nm; k++) {
                vals_of(&t, t.n - 1)[2 * k] = v->metrics[k].self[i];
                vals_of(&t, t.n - 1)[2 * k + 1] = v->metrics[k].total[i];
            }
            continue;
        }
        if (outer[i] == (int64_t)i) {
            if (add_node(&t, np, system, v->calls[i]) < 0)
                goto done;
            for (size_t k = 0; k < nm; k++) {
                double rest = v->metrics[k].total[i] - inside[i * nm + k];
                rest = rest < 0.0 ? 0.0 : rest;
                vals_of(&t, t.n - 1)[2 * k] = vals_of(&t, t.n - 1)[2 * k + 1] = rest;
            }
            (*imports)++;
            continue;
        }
        if (top[i] != (int64_t)i)
            continue;
        /* a module body at the top of an import: one node under the
         * importing frame, shared by the bodies of one module */
        int64_t at = NOT_IN;
        int64_t under = v->parent[outer[i]] >= 0 ? renum[v->parent[outer[i]]] : -1;
        PyObject *key = import_key(PyList_GET_ITEM(v->funcs, v->func[i]));
        if (key == NULL || PyList_Append(made, key) < 0) {
            Py_XDECREF(key);
            goto done;
        }
        Py_DECREF(key);   /* `made` keeps it */
        for (size_t k = t.n; k-- > 0 && t.parent[k] == under;) {
            int eq = PyObject_RichCompareBool(t.func[k], key, Py_EQ);
            if (eq < 0)
                goto done;
            if (eq) {
                at = (int64_t)k;
                break;
            }
        }
        if (at == NOT_IN) {
            if (add_node(&t, under, key, 0) < 0)
                goto done;
            at = (int64_t)t.n - 1;
        }
        t.calls[at] += v->calls[i];
        for (size_t k = 0; k < nm; k++) {
            vals_of(&t, (size_t)at)[2 * k] += v->metrics[k].total[i];
            vals_of(&t, (size_t)at)[2 * k + 1] += v->metrics[k].total[i];
        }
    }
    result = as_tree(&t, v);
done:
    free_nodes(&t);
    Py_XDECREF(made);
    Py_XDECREF(system);
    PyMem_RawFree(outer);
    PyMem_RawFree(top);
    PyMem_RawFree(renum);
    PyMem_RawFree(inside);
    PyMem_RawFree(entry);
    PyMem_RawFree(body);
    return result;
}
