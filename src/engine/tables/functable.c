/* functable.c: function entries and their pstats labels. */
#include "tables/functable.h"

/* What a code object's extra slot holds: which table made it, and the
 * entry.  The slot outlives the table, so the session is checked before
 * the entry is touched. */
typedef struct {
    uint64_t session;
    pyro_func *func;
} code_slot;

static Py_ssize_t code_extra_index = -1;
static PyObject *own_prefix;

int pyro_functable_set_own_prefix(PyObject *prefix)
{
    if (!PyUnicode_Check(prefix)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: prefix must be a str");
        return -1;
    }
    Py_INCREF(prefix);
    Py_XSETREF(own_prefix, prefix);
    return 0;
}

static int is_own(PyObject *filename)
{
    if (own_prefix == NULL || !PyUnicode_Check(filename))
        return 0;
    int r = (int)PyUnicode_Tailmatch(filename, own_prefix, 0, PY_SSIZE_T_MAX, -1);
    if (r < 0) {
        PyErr_Clear();
        return 0;
    }
    return r;
}
static uint64_t next_session = 1;

static void code_slot_free(void *p)
{
    PyMem_RawFree(p);
}

int pyro_functable_init(pyro_functable *t)
{
    memset(t, 0, sizeof(*t));
    if (code_extra_index < 0) {
        code_extra_index = pyro_code_extra_index(code_slot_free);
        if (code_extra_index < 0)
            return -1;
    }
    t->session = next_session++;
    return 0;
}

void pyro_functable_release(pyro_functable *t)
{
    for (uint32_t i = 0; i < t->count; i++) {
        pyro_func *f = t->items[i];
        Py_XDECREF(f->code);
        Py_XDECREF(f->label);
        PyMem_RawFree(f);
    }
    PyMem_RawFree(t->items);
    PyMem_RawFree(t->builtin_slots);
    memset(t, 0, sizeof(*t));
    /* Code objects still point at the freed entries: a new session makes
     * their slots stale. */
    t->session = next_session++;
}

static pyro_func *table_add(pyro_functable *t, const void *key)
{
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        pyro_func **items = PyMem_RawRealloc(t->items, cap * sizeof(*items));
        if (items == NULL)
            return NULL;
        t->items = items;
        t->cap = cap;
    }
    pyro_func *f = PyMem_RawCalloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->key = key;
    f->id = t->count;
    t->items[t->count++] = f;
    return f;
}

pyro_func *pyro_func_of_code(pyro_functable *t, PyCodeObject *code)
{
    void *extra = NULL;
    code_slot *slot;
    pyro_saved_exc exc;

    pyro_exc_save(&exc);
    if (pyro_code_get_extra((PyObject *)code, code_extra_index, &extra) < 0) {
        PyErr_Clear();
        extra = NULL;
    }
    slot = extra;
    if (slot != NULL && slot->session == t->session && slot->func != NULL) {
        pyro_exc_restore(&exc);
        return slot->func;
    }

    pyro_func *f = NULL;
    PyObject *label = Py_BuildValue("(OiO)", code->co_filename,
                                    code->co_firstlineno, code->co_name);
    if (label == NULL)
        goto fail;
    if (slot == NULL) {
        slot = PyMem_RawMalloc(sizeof(*slot));
        if (slot == NULL)
            goto fail;
        if (pyro_code_set_extra((PyObject *)code, code_extra_index, slot) < 0) {
            PyMem_RawFree(slot);
            goto fail;
        }
    }
    f = table_add(t, code);
    if (f == NULL)
        goto fail;
    f->code = Py_NewRef((PyObject *)code);
    f->label = label;
    f->own = (uint8_t)is_own(code->co_filename);
    slot->session = t->session;
    slot->func = f;
    pyro_exc_restore(&exc);
    return f;

fail:
    Py_XDECREF(label);
    PyErr_Clear();
    pyro_exc_restore(&exc);
    return NULL;
}

/* ---- built-ins ---------------------------------------------------------- */

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static int builtin_grow(pyro_functable *t)
{
    size_t cap = t->builtin_cap ? t->builtin_cap * 2 : 256;
    pyro_func **slots = PyMem_RawCalloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < t->builtin_cap; i++) {
        pyro_func *f = t->builtin_slots[i];
        if (f == NULL)
            continue;
        size_t j = ptr_hash(f->key) & (cap - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = f;
    }
    PyMem_RawFree(t->builtin_slots);
    t->builtin_slots = slots;
    t->builtin_cap = cap;
    return 0;
}

/* Look up `name` along the MRO of `type`, as attribute lookup on the
 * type would, without invoking descriptors. New reference or NULL. */
static PyObject *mro_lookup(PyTypeObject *type, PyObject *name)
{
    PyObject *mro = type->tp_mro;
    if (mro == NULL || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *dict = pyro_type_dict((PyTypeObject *)PyTuple_GET_ITEM(mro, i));
        if (dict == NULL)
            continue;
        PyObject *found = PyDict_GetItemWithError(dict, name);
        Py_XINCREF(found);
        Py_DECREF(dict);
        if (found != NULL || PyErr_Occurred())
            return found;
    }
    return NULL;
}

PyObject *pyro_builtin_name(PyObject *cfunc)
{
    PyCFunctionObject *fn = (PyCFunctionObject *)cfunc;
    const char *name = fn->m_ml->ml_name;
    PyObject *modname = fn->m_module;

    if (fn->m_self != NULL) {
        /* A method: name it by its descriptor on the type, like
         * "<method 'append' of 'list' objects>"; module functions find
         * none and fall through to "<built-in method builtins.len>". */
        PyObject *attr = PyUnicode_FromString(name);
        if (attr != NULL) {
            PyObject *descr = mro_lookup(Py_TYPE(fn->m_self), attr);
            Py_DECREF(attr);
            if (descr != NULL) {
                PyObject *repr = PyObject_Repr(descr);
                Py_DECREF(descr);
                if (repr != NULL)
                    return repr;
            }
        }
        PyErr_Clear();
    }
    else {
        /* A plain function: "<len>" or "<module.func>". */
        PyObject *mname = NULL;
        if (modname != NULL && PyUnicode_Check(modname))
            mname = Py_NewRef(modname);
        else if (modname != NULL && PyModule_Check(modname)) {
            mname = PyModule_GetNameObject(modname);
            if (mname == NULL)
                PyErr_Clear();
        }
        if (mname != NULL) {
            PyObject *res = NULL;
            if (PyUnicode_CompareWithASCIIString(mname, "builtins") != 0)
                res = PyUnicode_FromFormat("<%U.%s>", mname, name);
            Py_DECREF(mname);
            if (res != NULL)
                return res;
        }
        return PyUnicode_FromFormat("<%s>", name);
    }
    if (modname != NULL && PyUnicode_Check(modname))
        return PyUnicode_FromFormat("<built-in method %U.%s>", modname, name);
    return PyUnicode_FromFormat("<built-in method %s>", name);
}

/* Drop " at 0x..." from a repr: names must not change from run to run, or
 * merged and compared profiles would not match up. */
static PyObject *without_address(PyObject *name)
{
    if (name == NULL)
        return NULL;
    const char *s = PyUnicode_AsUTF8(name);
    const char *at = s ? strstr(s, " at 0x") : NULL;
    if (at == NULL) {
        PyErr_Clear();
        return name;
    }
    const char *end = at + 6;
    while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f')
           || (*end >= 'A' && *end <= 'F'))
        end++;
    PyObject *head = PyUnicode_FromStringAndSize(s, at - s);
    PyObject *res = head ? PyUnicode_FromFormat("%U%s", head, end) : NULL;
    Py_XDECREF(head);
    Py_DECREF(name);
    return res;
}

static PyObject *builtin_label(PyObject *callable, PyObject *self_arg)
{
    PyObject *bound = NULL, *name;
    if (!PyCFunction_Check(callable)) {
        /* A method descriptor: bind it, as the call would. */
        descrgetfunc get = Py_TYPE(callable)->tp_descr_get;
        if (get != NULL && self_arg != NULL)
            bound = get(callable, self_arg, (PyObject *)Py_TYPE(self_arg));
        if (bound == NULL || !PyCFunction_Check(bound)) {
            PyErr_Clear();
            Py_XDECREF(bound);
            PyMethodDef *def = ((PyMethodDescrObject *)callable)->d_method;
            name = PyUnicode_FromFormat("<built-in method %s>", def->ml_name);
            goto done;
        }
        callable = bound;
    }
    name = without_address(pyro_builtin_name(callable));
done:
    Py_XDECREF(bound);
    if (name == NULL)
        return NULL;
    PyObject *label = Py_BuildValue("(siN)", "~", 0, name);
    return label;
}

pyro_func *pyro_func_of_builtin(pyro_functable *t, PyMethodDef *def,
                                PyObject *callable, PyObject *self_arg)
{
    if (t->builtin_cap) {
        size_t j = ptr_hash(def) & (t->builtin_cap - 1);
        pyro_func *f;
        while ((f = t->builtin_slots[j]) != NULL) {
            if (f->key == def)
                return f;
            j = (j + 1) & (t->builtin_cap - 1);
        }
    }
    if ((t->builtin_count + 1) * 2 > t->builtin_cap && builtin_grow(t) < 0)
        return NULL;

    pyro_saved_exc exc;
    pyro_exc_save(&exc);
    PyObject *label = builtin_label(callable, self_arg);
    pyro_func *f = label ? table_add(t, def) : NULL;
    if (f == NULL) {
        Py_XDECREF(label);
        PyErr_Clear();
        pyro_exc_restore(&exc);
        return NULL;
    }
    pyro_exc_restore(&exc);
    f->label = label;
    f->builtin = 1;
    size_t j = ptr_hash(def) & (t->builtin_cap - 1);
    while (t->builtin_slots[j] != NULL)
        j = (j + 1) & (t->builtin_cap - 1);
    t->builtin_slots[j] = f;
    t->builtin_count++;
    return f;
}
