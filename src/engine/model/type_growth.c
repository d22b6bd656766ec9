/* type_growth.c: snapshots by type name and their growth (see
 * type_growth.h). */
#include "model/type_growth.h"

#include "core/text_out.h"
#include "tables/type_census.h"

#include <stdlib.h>
#include <string.h>

static Py_ssize_t add_sat(Py_ssize_t a, Py_ssize_t b)
{
    return b > PY_SSIZE_T_MAX - a ? PY_SSIZE_T_MAX : a + b;
}

/* "a" + "." + "b" in a PyMem_Raw buffer, or NULL + MemoryError. */
static char *join(const char *a, size_t na, const char *b, size_t nb)
{
    char *s = PyMem_RawMalloc(na + 1 + nb + 1);
    if (s == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(s, a, na);
    s[na] = '.';
    memcpy(s + na + 1, b, nb);
    s[na + 1 + nb] = '\0';
    return s;
}

static char *copy(const char *a, size_t n)
{
    char *s = PyMem_RawMalloc(n + 1);
    if (s == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(s, a, n);
    s[n] = '\0';
    return s;
}

/* A class's names are strs in its heap type (its __module__ in its dict);
 * read there, no attribute lookup runs code. */
static char *heap_type_name(PyTypeObject *type, int shortnames)
{
    PyHeapTypeObject *ht = (PyHeapTypeObject *)type;
    PyObject *own = shortnames ? ht->ht_name : ht->ht_qualname;
    char *name = own != NULL && PyUnicode_Check(own) ? pyro_utf8_dup(own, NULL)
                                                     : copy("?", 1);
    if (name == NULL || shortnames)
        return name;
    PyObject *dict = pyro_type_dict(type), *module = NULL;
    if (dict != NULL && PyDict_Check(dict))
        module = PyDict_GetItemString(dict, "__module__");
    char *full = name;
    if (module != NULL && PyUnicode_Check(module)
        && PyUnicode_CompareWithASCIIString(module, "builtins") != 0) {
        size_t n;
        char *m = pyro_utf8_dup(module, &n);
        full = m == NULL ? NULL : join(m, n, name, strlen(name));
        PyMem_RawFree(m);
        PyMem_RawFree(name);
    }
    Py_XDECREF(dict);
    return full;
}

/* A static type's tp_name is "module.Name", or "Name" for builtins. */
static char *type_name(PyTypeObject *type, int shortnames)
{
    if (type->tp_flags & Py_TPFLAGS_HEAPTYPE)
        return heap_type_name(type, shortnames);
    const char *full = type->tp_name != NULL ? type->tp_name : "?";
    const char *dot = strrchr(full, '.');
    if (dot != NULL && shortnames)
        return copy(dot + 1, strlen(dot + 1));
    return copy(full, strlen(full));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pyro_type_total *)a)->name, ((const pyro_type_total *)b)->name);
}

void pyro_heap_snapshot_release(pyro_heap_snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        PyMem_RawFree(s->types[i].name);
    PyMem_RawFree(s->types);
    memset(s, 0, sizeof *s);
}

int pyro_heap_snapshot_init(pyro_heap_snapshot *s, const struct pyro_type_census *c,
                            int shortnames)
{
    memset(s, 0, sizeof *s);
    s->partial = c->failed;
    if (c->used == 0)
        return 0;
    s->types = PyMem_RawCalloc(c->used, sizeof(pyro_type_total));
    if (s->types == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i <= c->mask; i++) {
        const pyro_type_tally *t = &c->slots[i];
        if (t->type == NULL)
            continue;
        char *name = type_name(t->type, shortnames);
        if (name == NULL) {
            pyro_heap_snapshot_release(s);
            return -1;
        }
        s->types[s->n++] = (pyro_type_total){name, t->count, t->bytes};
        s->objects = add_sat(s->objects, t->count);
        s->bytes = add_sat(s->bytes, t->bytes);
    }
    /* One row per name. */
    qsort(s->types, s->n, sizeof(pyro_type_total), by_name);
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (kept > 0 && strcmp(s->types[kept - 1].name, s->types[i].name) == 0) {
            pyro_type_total *into = &s->types[kept - 1];
            into->count = add_sat(into->count, s->types[i].count);
            into->bytes = add_sat(into->bytes, s->types[i].bytes);
            PyMem_RawFree(s->types[i].name);
        }
        else {
            s->types[kept++] = s->types[i];
        }
    }
    s->n = kept;
    return 0;
}

static int by_growth(const void *pa, const void *pb)
{
    const pyro_type_growth *a = pa, *b = pb;
    if (a->growth != b->growth)
        return a->growth > b->growth ? -1 : 1;
    if (a->bytes_growth != b->bytes_growth)
        return a->bytes_growth > b->bytes_growth ? -1 : 1;
    return strcmp(a->name, b->name);
}

int pyro_type_growth_rows(const pyro_heap_snapshot *earlier, const pyro_heap_snapshot *later,
                          pyro_type_growth **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (later->n == 0)
        return 0;
    pyro_type_growth *out = PyMem_RawMalloc(later->n * sizeof(pyro_type_growth));
    if (out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    size_t kept = 0, j = 0;
    for (size_t i = 0; i < later->n; i++) {
        const pyro_type_total *now = &later->types[i];
        Py_ssize_t count = 0, bytes = 0;
        /* Both sorted by name: walk them side by side. */
        while (earlier != NULL && j < earlier->n && strcmp(earlier->types[j].name, now->name) < 0)
            j++;
        if (earlier != NULL && j < earlier->n && strcmp(earlier->types[j].name, now->name) == 0) {
            count = earlier->types[j].count;
            bytes = earlier->types[j].bytes;
        }
        if (now->count <= count && now->bytes <= bytes)
            continue;
        out[kept++] = (pyro_type_growth){now->name, now->count, now->count - count,
                                         now->bytes, now->bytes - bytes};
    }
    qsort(out, kept, sizeof(pyro_type_growth), by_growth);
    if (kept == 0) {
        PyMem_RawFree(out);
        out = NULL;
    }
    *rows = out;
    *n = kept;
    return 0;
}
