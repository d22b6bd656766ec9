/* marshal_containers.c: the containers of marshal data (tuples, dicts,
 * lists, frozensets), for the decoder in marshal_reader.c.
 *
 * Most of a profile is here: function keys shared through the triple
 * table, and a pstats dict's entries checked while they are read.  Apart
 * from the type dispatch because this is where profiles' shapes are
 * known; the rest of the reader knows only marshal. */
#include "model/pstats_shape.h"
#include "formats/marshal_internal.h"

#include <stdint.h>
#include <string.h>

/* The middle item as triple.b: an exact int by its value. */
static uintptr_t triple_b(PyObject *b, int *is_int)
{
    *is_int = 0;
    if (PyLong_CheckExact(b)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(b, &overflow);
        if (overflow == 0 && (long long)(intptr_t)v == v) {
            *is_int = 1;
            return (uintptr_t)(intptr_t)v;
        }
    }
    return (uintptr_t)b;
}

static size_t triple_hash(uint32_t a, uint32_t c)
{
    uint64_t h = ((uint64_t)a << 32 | c) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 29));
}

/* Room for one more triple; -1 when memory runs out. */
static int triple_room(mreader *r)
{
    if ((r->ntriples + 1) * 2 > r->triple_cap) {
        size_t cap = r->triple_cap ? r->triple_cap * 2 : 1024;
        triple *slots = PyMem_RawCalloc(cap, sizeof(*slots));
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < r->triple_cap; i++) {
            triple *old = &r->triples[i];
            if (old->t == NULL)
                continue;
            size_t j = triple_hash(old->a, old->c) & (cap - 1);
            while (slots[j].t != NULL)
                j = (j + 1) & (cap - 1);
            slots[j] = *old;
        }
        PyMem_RawFree(r->triples);
        r->triples = slots;
        r->triple_cap = cap;
    }
    return 0;
}

/* The triple of the refs a and c with the middle item b (ref number bref
 * or NO_REF), or the empty slot where it belongs.  b is read only when it
 * is not the very object the triple holds. */
static triple *triple_slot(mreader *r, uint32_t a, PyObject *b, uint32_t bref, uint32_t c)
{
    size_t mask = r->triple_cap - 1, j = triple_hash(a, c) & mask;
    int b_known = 0, b_is_int = 0;
    long long bv = 0;
    for (;; j = (j + 1) & mask) {
        triple *t = &r->triples[j];
        if (t->t == NULL)
            return t;
        if (t->a != a || t->c != c)
            continue;
        if (bref != NO_REF && t->b == bref)
            return t;
        if (!t->b_is_int)
            continue;
        if (!b_known) {
            bv = (long long)(intptr_t)triple_b(b, &b_is_int);
            b_known = 1;
        }
        if (b_is_int && t->b_value == bv)
            return t;
    }
}

static int is_atom(PyObject *o)
{
    return PyUnicode_CheckExact(o) || PyLong_CheckExact(o) || PyFloat_CheckExact(o);
}

/* What the GC's first pass would find holding no cycle: an atom, or an
 * untracked tuple or dict. */
static int is_inert(PyObject *o)
{
    return is_atom(o)
        || ((PyTuple_CheckExact(o) || PyDict_CheckExact(o)) && !PyObject_GC_IsTracked(o));
}

static PyObject *read_triple(mreader *r, int flag);

/* The items of call stats, most of the file, without a round through
 * pyro_marshal_read_object(): a float, a small int or a ref, none of them
 * itself a ref target.  NULL (status unchanged) for anything else:
 * pyro_marshal_read_object() decodes it. */
static inline PyObject *read_number(mreader *r)
{
    const unsigned char *p = r->p;
    size_t left = (size_t)(r->end - p);
    if (left >= 9 && *p == M_BINARY_FLOAT) {
        uint64_t bits = le64(p + 1);
        double x;
        memcpy(&x, &bits, sizeof x);
        r->p += 9;
        PyObject *v = PyFloat_FromDouble(x);
        return v != NULL ? v : stop(r, MR_PYERR, NULL);
    }
    if (left >= 5 && *p == M_INT) {
        r->p += 5;
        PyObject *v = PyLong_FromLong((long)(int32_t)le32(p + 1));
        return v != NULL ? v : stop(r, MR_PYERR, NULL);
    }
    if (left >= 5 && *p == M_REF) {
        uint32_t i = le32(p + 1);
        if (i < r->nrefs && r->done[i]) {
            r->p += 5;
            return Py_NewRef(r->refs[i]);
        }
    }
    return NULL;   /* including bad refs: pyro_marshal_read_object() says why */
}

PyObject *pyro_marshal_read_tuple(mreader *r, Py_ssize_t n, int flag)
{
    /* Every item takes at least a byte: a size beyond the data is damage,
     * caught before PyTuple_New is asked for gigabytes. */
    if ((size_t)n > (size_t)(r->end - r->p))
        return stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    if (n == 3)
        return read_triple(r, flag);
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return stop(r, MR_PYERR, NULL);
    Py_ssize_t ref = -1;
    if (flag && (ref = pyro_marshal_add_ref(r, t, 0)) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    /* an entry of the profile: (cc, nc, tt, ct, callers) */
    int entry = n == 5 && r->depth == 2 && r->in_value;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (entry && i == 4)
            r->callers = CALLERS_NEXT;
        PyObject *item = read_number(r);
        if (item == NULL && r->status == MR_OK)
            item = pyro_marshal_read_object(r);
        if (entry && i == 4 && r->callers != CALLERS_OK)
            r->callers = CALLERS_RECHECK;   /* a ref, or not a clean dict */
        if (item == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, item);
    }
    if (ref >= 0)
        r->done[ref] = 1;
    /* Call stats hold only numbers, entries numbers and a callers dict of
     * such tuples: untrack them now, as the GC would at its first pass over
     * them.  The dicts then stay untracked too, and the collection that
     * follows the load has nothing of the profile to visit. */
    int inert = 1;
    for (Py_ssize_t i = 0; i < n && inert; i++)
        inert = is_inert(PyTuple_GET_ITEM(t, i));
    if (inert && n > 0 && PyObject_GC_IsTracked(t))
        PyObject_GC_UnTrack(t);
    return t;
}

/* A 3-tuple: a function key, most likely; shared when its items are. */
static PyObject *read_triple(mreader *r, int flag)
{
    /* marshal numbers a tuple's ref before its items' */
    Py_ssize_t ref = flag ? pyro_marshal_add_ref(r, NULL, 0) : -1;
    if (flag && ref < 0)
        return NULL;
    /* Items that are refs are borrowed from r->refs, which keeps them
     * alive: a caller's key is then matched without touching them. */
    PyObject *item[3] = {NULL, NULL, NULL};
    int owned[3] = {0, 0, 0};
    uint32_t id[3] = {NO_REF, NO_REF, NO_REF};   /* ref numbers */
    for (int i = 0; i < 3; i++) {
        const unsigned char *p = r->p;
        if (r->end - p >= 5 && *p == M_REF && le32(p + 1) < r->nrefs && r->done[le32(p + 1)]) {
            id[i] = le32(p + 1);
            r->p += 5;
            /* the middle item may be needed by value: the others only
             * when the triple is new */
            if (i == 1)
                item[1] = r->refs[id[1]];
            continue;
        }
        owned[i] = 1;
        size_t before = r->nrefs;
        item[i] = read_number(r);
        if (item[i] == NULL && r->status == MR_OK)
            item[i] = pyro_marshal_read_object(r);
        if (item[i] == NULL) {
            owned[i] = 0;
            goto fail;
        }
        if (r->nrefs == before + 1 && r->refs[before] == item[i] && before < NO_REF)
            id[i] = (uint32_t)before;   /* a new atom that refs may name */
    }
    PyObject *t = NULL;
    triple *slot = NULL;
    if (id[0] != NO_REF && id[2] != NO_REF) {
        if (triple_room(r) < 0) {
            PyErr_NoMemory();
            stop(r, MR_PYERR, NULL);
            goto fail;
        }
        slot = triple_slot(r, id[0], item[1], id[1], id[2]);
        if (slot->t != NULL)
            t = Py_NewRef(slot->t);
    }
    for (int i = 0; i < 3; i++)
        if (item[i] == NULL)
            item[i] = r->refs[id[i]];
    if (slot != NULL && slot->t == NULL
        && !(is_atom(item[0]) && is_atom(item[1]) && is_atom(item[2])))
        slot = NULL;
    if (t == NULL) {
        if ((t = PyTuple_New(3)) == NULL) {
            stop(r, MR_PYERR, NULL);
            goto fail;
        }
        for (int i = 0; i < 3; i++)
            PyTuple_SET_ITEM(t, i, Py_NewRef(item[i]));
        if (slot != NULL) {
            /* atoms only: untracked, as the GC would leave it */
            if (PyObject_GC_IsTracked(t))
                PyObject_GC_UnTrack(t);
            Py_hash_t h = PyObject_Hash(t);
            if (h == -1) {
                Py_DECREF(t);
                stop(r, MR_PYERR, NULL);
                goto fail;
            }
            slot->a = id[0];
            slot->b = id[1];
            slot->b_value = (long long)(intptr_t)triple_b(item[1], &slot->b_is_int);
            slot->c = id[2];
            slot->hash = h;
            slot->plain = PyUnicode_CheckExact(item[0]) && PyLong_CheckExact(item[1])
                && PyUnicode_CheckExact(item[2]);
            slot->t = Py_NewRef(t);
            r->ntriples++;
        }
    }
    if (slot != NULL) {
        r->hashed_key = t;
        r->hashed = slot->hash;
        r->hashed_plain = slot->plain;
    }
    for (int i = 0; i < 3; i++)
        if (owned[i])
            Py_DECREF(item[i]);
    if (ref >= 0) {
        r->refs[ref] = Py_NewRef(t);
        r->done[ref] = 1;
    }
    return t;
fail:
    for (int i = 0; i < 3; i++)
        if (owned[i])
            Py_DECREF(item[i]);
    return NULL;
}

/* The shapes pyro_check_entry() and pyro_check_call() accept, as this
 * reader builds them: exact types, and ints that fit 64 bits (read_long
 * refuses bigger ones).  Anything else is left to those checks. */
static int plain_key(PyObject *k)
{
    return PyTuple_CheckExact(k) && PyTuple_GET_SIZE(k) == 3
        && PyUnicode_CheckExact(PyTuple_GET_ITEM(k, 0)) && PyLong_CheckExact(PyTuple_GET_ITEM(k, 1))
        && PyUnicode_CheckExact(PyTuple_GET_ITEM(k, 2));
}

static int plain_time(PyObject *o)
{
    return PyFloat_CheckExact(o) || PyLong_CheckExact(o);
}

static int plain_call(PyObject *ckey, int ckey_plain, PyObject *cvalue)
{
    if (!ckey_plain && !plain_key(ckey))
        return 0;
    if (PyLong_CheckExact(cvalue))
        return 1;
    return PyTuple_CheckExact(cvalue) && PyTuple_GET_SIZE(cvalue) == 4
        && PyLong_CheckExact(PyTuple_GET_ITEM(cvalue, 0))
        && PyLong_CheckExact(PyTuple_GET_ITEM(cvalue, 1))
        && plain_time(PyTuple_GET_ITEM(cvalue, 2)) && plain_time(PyTuple_GET_ITEM(cvalue, 3));
}

/* The entry's own shape; its callers are checked as they are read. */
static int plain_entry(PyObject *key, int key_plain, PyObject *value)
{
    return (key_plain || plain_key(key)) && PyTuple_CheckExact(value) && PyTuple_GET_SIZE(value) == 5
        && PyLong_CheckExact(PyTuple_GET_ITEM(value, 0))
        && PyLong_CheckExact(PyTuple_GET_ITEM(value, 1))
        && plain_time(PyTuple_GET_ITEM(value, 2)) && plain_time(PyTuple_GET_ITEM(value, 3))
        && PyDict_CheckExact(PyTuple_GET_ITEM(value, 4));
}

PyObject *pyro_marshal_read_dict(mreader *r, int flag)
{
    /* the callers of the entry being read, r->in_value's key */
    int callers = r->callers == CALLERS_NEXT && r->depth == 3;
    int callers_ok = callers;
    PyObject *of = r->in_value ? r->key : NULL;
    r->callers = CALLERS_NONE;
    PyObject *d = PyDict_New();
    if (d == NULL)
        return stop(r, MR_PYERR, NULL);
    Py_ssize_t ref = -1;
    if (flag && (ref = pyro_marshal_add_ref(r, d, 0)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    for (;;) {
        if (!have(r, 1))
            goto fail;
        if ((*r->p & ~M_FLAG_REF) == M_NULL) {   /* the end mark */
            r->p++;
            break;
        }
        PyObject *key = pyro_marshal_read_object(r);
        if (key == NULL)
            goto fail;
        /* a key of the triple table: its hash and shape known without
         * reading its items */
        Py_hash_t hash = key == r->hashed_key ? r->hashed : -1;
        int key_plain = hash != -1 && r->hashed_plain;
        if (r->p < r->end && (*r->p & ~M_FLAG_REF) == M_NULL) {
            /* as marshal does: the dict ends here, without the key */
            r->p++;
            Py_DECREF(key);
            break;
        }
        int top = r->depth == 1 && r->rules->pstats;
        if (top) {
            r->in_value = 1;
            r->key = key;
            r->callers = CALLERS_NONE;
        }
        PyObject *value = pyro_marshal_read_object(r);
        if (top)
            r->in_value = 0;
        if (value == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        if (callers_ok && !plain_call(key, key_plain, value)) {
            PyObject *reason = NULL;
            int bad = pyro_check_call(of, key, value, 0, &reason);
            Py_XDECREF(reason);
            if (bad < 0)
                PyErr_Clear();   /* found again by the whole check */
            callers_ok = bad == 0;
        }
        if (top && pyro_is_sampled_marker(key, value)) {
            /* 3.15's sampling profiler: told to the caller, not kept */
            r->sampled = 1;
            Py_DECREF(key);
            Py_DECREF(value);
            continue;
        }
        int rc = hash != -1 ? pyro_dict_set_hashed(d, key, value, hash)
                            : PyDict_SetItem(d, key, value);
        if (rc == 0 && top) {
            /* the profile's own dict: check each entry while it is still in
             * the cache, rather than in a second pass over the whole dict */
            if (r->callers != CALLERS_OK || !plain_entry(key, key_plain, value))
                rc = pyro_check_entry(key, value, r->callers != CALLERS_OK, &r->reason);
            if (rc > 0)
                stop(r, MR_INVALID, NULL);
        }
        Py_DECREF(key);
        Py_DECREF(value);
        if (rc != 0) {
            stop(r, MR_PYERR, NULL);
            goto fail;
        }
    }
    if (ref >= 0)
        r->done[ref] = 1;
    if (callers_ok)
        r->callers = CALLERS_OK;
    return d;
fail:
    Py_DECREF(d);
    return stop(r, MR_CORRUPT, "its marshal data is corrupt");
}

/* ---- lists, and frozensets (code objects' constants) ---------------------- */

PyObject *pyro_marshal_read_list(mreader *r, Py_ssize_t n, int flag)
{
    if ((size_t)n > (size_t)(r->end - r->p))
        return stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    PyObject *l = PyList_New(n);
    if (l == NULL)
        return stop(r, MR_PYERR, NULL);
    Py_ssize_t ref = -1;
    if (flag && (ref = pyro_marshal_add_ref(r, l, 0)) < 0) {
        Py_DECREF(l);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = read_number(r);
        if (item == NULL && r->status == MR_OK)
            item = pyro_marshal_read_object(r);
        if (item == NULL) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, item);
    }
    if (ref >= 0)
        r->done[ref] = 1;
    return l;
}

PyObject *pyro_marshal_read_frozenset(mreader *r, Py_ssize_t n, int flag)
{
    if ((size_t)n > (size_t)(r->end - r->p))
        return stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    Py_ssize_t ref = flag ? pyro_marshal_add_ref(r, NULL, 0) : -1;
    if (flag && ref < 0)
        return NULL;
    PyObject *s = PyFrozenSet_New(NULL);
    if (s == NULL)
        return stop(r, MR_PYERR, NULL);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = pyro_marshal_read_object(r);
        if (item == NULL) {
            Py_DECREF(s);
            return NULL;
        }
        int rc = PySet_Add(s, item);
        Py_DECREF(item);
        if (rc < 0) {   /* an unhashable item: no compiler makes one */
            PyErr_Clear();
            Py_DECREF(s);
            return stop(r, MR_CORRUPT, "its marshal data is corrupt (bad frozenset)");
        }
    }
    if (ref >= 0) {
        r->refs[ref] = Py_NewRef(s);
        r->done[ref] = 1;
    }
    return s;
}

