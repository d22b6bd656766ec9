/* marshal_reader.c: decode marshal data from files, safely (see
 * marshal_reader.h).
 *
 * One reader for every file: the general subset (None, bools, ints that fit
 * 64 bits, floats, str, tuples, dicts, lists where the rules allow them,
 * references to finished objects), and two things for pstats dicts, which
 * are most of what is ever read: keys shared as marshal shares their
 * items, and each entry checked as it is read.  Inside a code object the
 * types its constants can have (bytes, frozensets, complex numbers,
 * Ellipsis, big ints) are read too, and the code object becomes a str. */
#include "formats/marshal_reader.h"
#include "model/pstats_shape.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

const pyro_marshal_rules pyro_marshal_pstats = {.pstats = 1, .code_objects = 1, .max_depth = 32};
const pyro_marshal_rules pyro_marshal_data = {.lists = 1, .max_depth = 16};

/* marshal's type codes (Python/marshal.c). */
#define M_NULL '0'
#define M_NONE 'N'
#define M_FALSE 'F'
#define M_TRUE 'T'
#define M_INT 'i'
#define M_INT64 'I'
#define M_LONG 'l'
#define M_FLOAT 'f'
#define M_BINARY_FLOAT 'g'
#define M_UNICODE 'u'
#define M_INTERNED 't'
#define M_ASCII 'a'
#define M_ASCII_INTERNED 'A'
#define M_SHORT_ASCII 'z'
#define M_SHORT_ASCII_INTERNED 'Z'
#define M_TUPLE '('
#define M_SMALL_TUPLE ')'
#define M_DICT '{'
#define M_REF 'r'
#define M_FLAG_REF 0x80

#define M_LIST '['
#define M_CODE 'c'
#define M_BYTES 's'
#define M_SET '<'
#define M_FROZENSET '>'
#define M_COMPLEX 'x'
#define M_BINARY_COMPLEX 'y'
#define M_ELLIPSIS '.'

/* Deeper data is refused before it can exhaust the C stack: a profile
 * nests five deep (dict, entry, callers, caller stats, number); code
 * objects add two levels per nested function. */
#define CODE_EXTRA_DEPTH 64

enum { MR_OK = PYRO_MARSHAL_OK, MR_CORRUPT = PYRO_MARSHAL_CORRUPT,
       MR_INVALID = PYRO_MARSHAL_INVALID, MR_PYERR = PYRO_MARSHAL_PYERR };

/* Tuples of three atoms, by the identity of their items (by value for an
 * int: cProfile's line numbers are new ints each time).  cProfile makes a
 * new (file, line, name) tuple for every caller, but marshal writes the
 * strs in them as refs to those of the function's own key: one tuple can
 * serve them all, equal as before, with a fifth fewer objects to build,
 * free and chase through memory (and format_report() finds the callers'
 * entries by the identity of their keys).  Items are known by their ref
 * numbers (one object each), the table is hashed on the file's and the
 * name's, and it keeps the tuple's hash: a caller's key made of refs is
 * found, and put in its dict, without reading any of its items, each a
 * cache miss somewhere in the heap. */
#define NO_REF UINT32_MAX
typedef struct {
    uint32_t a, c, b;          /* ref numbers of the items; b may be NO_REF */
    int b_is_int;
    int plain;                 /* (str, int, str), exactly: plain_key() */
    long long b_value;         /* an exact int's value */
    PyObject *t;               /* a strong reference */
    Py_hash_t hash;            /* hash(t) */
} triple;

typedef struct {
    const unsigned char *p, *end;
    const pyro_marshal_rules *rules;
    int in_code;               /* inside a code object: its constants' types too */
    PyObject **refs;           /* strong references, as marshal keeps them */
    unsigned char *done;       /* 0 while a referenced container is filling */
    size_t nrefs, cap;
    int depth;
    int status;
    const char *why;           /* for MR_CORRUPT */
    const char *foreign;       /* the type, when a foreign one was met */
    PyObject *reason;          /* for MR_INVALID: why it is no pstats dict */
    triple *triples;           /* open addressing, t == NULL: empty */
    size_t ntriples, triple_cap;
    PyObject *hashed_key;      /* the last key read_triple() gave, */
    Py_hash_t hashed;          /* and its hash */
    int hashed_plain;          /* and whether it is a plain_key() */
    int in_value;              /* the profile's dict is reading a value */
    PyObject *key;             /* its key (borrowed) */
    int callers;               /* CALLERS_*: the value's callers dict, as read */
} mreader;

/* A profile entry's callers are checked item by item as they are read
 * (the items are in the cache then); a dict that is not read that way, or
 * has a bad item, is checked again as a whole, where the reason is found
 * just as pyro_check_entry() finds it. */
enum { CALLERS_NONE, CALLERS_NEXT, CALLERS_OK, CALLERS_RECHECK };

static PyObject *stop(mreader *r, int status, const char *why)
{
    if (r->status == MR_OK) {
        r->status = status;
        r->why = why;
    }
    return NULL;
}

static int have(mreader *r, size_t n)
{
    if ((size_t)(r->end - r->p) >= n)
        return 1;
    stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    return 0;
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b)
{
    return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

/* marshal's 4-byte sizes: signed, and only 0..2**31-1 is valid. */
static int read_size(mreader *r, Py_ssize_t *n)
{
    if (!have(r, 4))
        return -1;
    int32_t v = (int32_t)le32(r->p);
    r->p += 4;
    if (v < 0) {
        stop(r, MR_CORRUPT, "its marshal data is corrupt (negative size)");
        return -1;
    }
    *n = v;
    return 0;
}

/* Remember `v` for later refs; `done` is 0 for a container still filling. */
static Py_ssize_t add_ref(mreader *r, PyObject *v, int done)
{
    if (r->nrefs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        PyObject **refs = PyMem_RawRealloc(r->refs, cap * sizeof(*refs));
        if (refs == NULL) {
            PyErr_NoMemory();
            stop(r, MR_PYERR, NULL);
            return -1;
        }
        r->refs = refs;
        unsigned char *d = PyMem_RawRealloc(r->done, cap);
        if (d == NULL) {
            PyErr_NoMemory();
            stop(r, MR_PYERR, NULL);
            return -1;
        }
        r->done = d;
        r->cap = cap;
    }
    Py_XINCREF(v);   /* NULL: a slot kept for a tuple still being read */
    r->refs[r->nrefs] = v;
    r->done[r->nrefs] = (unsigned char)done;
    return (Py_ssize_t)r->nrefs++;
}

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

/* A code object's constant beyond 64 bits: checked, and stood for by None
 * (nothing outside a code object may hold one, so nothing reads it). */
static PyObject *skip_long(mreader *r, int32_t ndig)
{
    if (!have(r, (size_t)ndig * 2))
        return NULL;
    for (int32_t i = 0; i < ndig; i++)
        if (((unsigned)r->p[2 * i] | (unsigned)r->p[2 * i + 1] << 8) > 0x7fff)
            return stop(r, MR_CORRUPT, "its marshal data is corrupt (digit out of range in long)");
    r->p += (size_t)ndig * 2;
    return Py_NewRef(Py_None);
}

/* A marshal "long": base 2**15 digits, least significant first.  A
 * profile holds no int beyond 64 bits (pyro_check_entry), so up to five
 * digits are decoded and bigger numbers refused. */
static PyObject *read_long(mreader *r)
{
    if (!have(r, 4))
        return NULL;
    int32_t n = (int32_t)le32(r->p);
    r->p += 4;
    if (n == 0)
        return PyLong_FromLong(0);
    int32_t ndig = n < 0 ? -n : n;
    if (n != INT32_MIN && ndig > 5 && r->in_code)
        return skip_long(r, ndig);
    if (n == INT32_MIN || ndig > 5)
        return stop(r, MR_CORRUPT, "it holds a number too big for a profile");
    if (!have(r, (size_t)ndig * 2))
        return NULL;
    uint64_t v = 0;
    for (int32_t i = 0; i < ndig; i++) {
        unsigned d = (unsigned)r->p[2 * i] | (unsigned)r->p[2 * i + 1] << 8;
        if (d > 0x7fff)
            return stop(r, MR_CORRUPT, "its marshal data is corrupt (digit out of range in long)");
        if (d == 0 && i == ndig - 1)
            return stop(r, MR_CORRUPT, "its marshal data is corrupt (unnormalized long)");
        if (i == 4 && d > 8)
            return stop(r, MR_CORRUPT, "it holds a number too big for a profile");
        v |= (uint64_t)d << (15 * i);
    }
    r->p += (size_t)ndig * 2;
    if (v > (uint64_t)LLONG_MAX + (n < 0))
        return stop(r, MR_CORRUPT, "it holds a number too big for a profile");
    if (n > 0)
        return PyLong_FromLongLong((long long)v);
    return PyLong_FromLongLong(v > (uint64_t)LLONG_MAX ? LLONG_MIN : -(long long)v);
}

static PyObject *read_object(mreader *r);
static PyObject *read_triple(mreader *r, int flag);
static PyObject *read_list(mreader *r, Py_ssize_t n, int flag);
static PyObject *read_frozenset(mreader *r, Py_ssize_t n, int flag);
static PyObject *read_code(mreader *r, int flag);

/* The items of call stats, most of the file, without read_object()'s
 * round: a float, a small int or a ref, none of them itself a ref target.
 * NULL (status unchanged) for anything else: read_object() decodes it. */
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
    return NULL;   /* including bad refs: read_object() says why */
}

static PyObject *read_tuple(mreader *r, Py_ssize_t n, int flag)
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
    if (flag && (ref = add_ref(r, t, 0)) < 0) {
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
            item = read_object(r);
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
    Py_ssize_t ref = flag ? add_ref(r, NULL, 0) : -1;
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
            item[i] = read_object(r);
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

static PyObject *read_dict(mreader *r, int flag)
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
    if (flag && (ref = add_ref(r, d, 0)) < 0) {
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
        PyObject *key = read_object(r);
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
        PyObject *value = read_object(r);
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

/* Marshal types that exist but never occur in a profile outside a code
 * object's constants: the data is not one. */
static const char *foreign_type(int code)
{
    switch (code) {
    case '[': return "list";
    case '<': return "set";
    case '>': return "frozenset";
    case 's': return "bytes";
    case 'x': case 'y': return "complex";
    case 'c': return "code object";
    case 'S': return "StopIteration";
    case '.': return "Ellipsis";
    case ':': return "slice";
    default: return NULL;
    }
}

static PyObject *read_object(mreader *r)
{
    if (!have(r, 1))
        return NULL;
    int code = *r->p++;
    int flag = code & M_FLAG_REF;
    code &= ~M_FLAG_REF;
    if (++r->depth > r->rules->max_depth + (r->in_code ? CODE_EXTRA_DEPTH : 0)) {
        r->depth--;
        return stop(r, MR_CORRUPT, "it nests deeper than a profile does");
    }
    PyObject *v = NULL;
    Py_ssize_t n;
    switch (code) {
    /* singletons: marshal never registers them as refs */
    case M_NONE:
        v = Py_NewRef(Py_None);
        flag = 0;
        break;
    case M_TRUE:
        v = Py_NewRef(Py_True);
        flag = 0;
        break;
    case M_FALSE:
        v = Py_NewRef(Py_False);
        flag = 0;
        break;
    case M_INT:
        if (!have(r, 4))
            break;
        v = PyLong_FromLong((long)(int32_t)le32(r->p));
        r->p += 4;
        break;
    case M_INT64:
        if (!have(r, 8))
            break;
        v = PyLong_FromLongLong((long long)(int64_t)le64(r->p));
        r->p += 8;
        break;
    case M_LONG:
        v = read_long(r);
        break;
    case M_BINARY_FLOAT: {
        if (!have(r, 8))
            break;
        /* IEEE 754 little-endian; integer and float byte order agree on
         * every platform CPython runs on. */
        uint64_t bits = le64(r->p);
        double x;
        memcpy(&x, &bits, sizeof x);
        r->p += 8;
        v = PyFloat_FromDouble(x);
        break;
    }
    case M_FLOAT: {   /* marshal version 0 and 1: the repr, as text */
        if (!have(r, 1))
            break;
        size_t len = *r->p++;
        if (!have(r, len))
            break;
        char buf[256];
        memcpy(buf, r->p, len);
        buf[len] = '\0';
        r->p += len;
        double x = PyOS_string_to_double(buf, NULL, NULL);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            stop(r, MR_CORRUPT, "its marshal data is corrupt (bad float)");
            break;
        }
        v = PyFloat_FromDouble(x);
        break;
    }
    case M_UNICODE:
    case M_INTERNED:
        if (read_size(r, &n) < 0 || !have(r, (size_t)n))
            break;
        v = PyUnicode_DecodeUTF8((const char *)r->p, n, "surrogatepass");
        r->p += n;
        if (v == NULL) {
            PyErr_Clear();
            stop(r, MR_CORRUPT, "its marshal data is corrupt (bad UTF-8)");
        }
        break;
    case M_ASCII:
    case M_ASCII_INTERNED:
    case M_SHORT_ASCII:
    case M_SHORT_ASCII_INTERNED:
        /* Not interned, unlike marshal: names of a loaded profile should go
         * away with it (3.12 makes interned strings immortal). */
        if (code == M_SHORT_ASCII || code == M_SHORT_ASCII_INTERNED) {
            if (!have(r, 1))
                break;
            n = *r->p++;
        } else if (read_size(r, &n) < 0) {
            break;
        }
        if (!have(r, (size_t)n))
            break;
        v = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, r->p, n);
        r->p += n;
        break;
    case M_SMALL_TUPLE:
        if (!have(r, 1))
            break;
        n = *r->p++;
        v = read_tuple(r, n, flag);
        r->depth--;
        return v;   /* containers register their own refs */
    case M_TUPLE:
        if (read_size(r, &n) < 0)
            break;
        v = read_tuple(r, n, flag);
        r->depth--;
        return v;
    case M_DICT:
        v = read_dict(r, flag);
        r->depth--;
        return v;
    case M_LIST:
        if (!r->rules->lists && !r->in_code)
            goto foreign;
        if (read_size(r, &n) == 0)
            v = read_list(r, n, flag);
        r->depth--;
        return v;
    case M_CODE:
        if (!r->rules->code_objects)
            goto foreign;
        v = read_code(r, flag);
        r->depth--;
        return v;
    case M_FROZENSET:
        if (!r->in_code)
            goto foreign;
        if (read_size(r, &n) == 0)
            v = read_frozenset(r, n, flag);
        r->depth--;
        return v;
    case M_BYTES:
        if (!r->in_code)
            goto foreign;
        if (read_size(r, &n) < 0 || !have(r, (size_t)n))
            break;
        v = PyBytes_FromStringAndSize((const char *)r->p, n);
        r->p += n;
        break;
    case M_BINARY_COMPLEX: {
        if (!r->in_code)
            goto foreign;
        if (!have(r, 16))
            break;
        uint64_t re = le64(r->p), im = le64(r->p + 8);
        double x, y;
        memcpy(&x, &re, sizeof x);
        memcpy(&y, &im, sizeof y);
        r->p += 16;
        v = PyComplex_FromDoubles(x, y);
        break;
    }
    case M_ELLIPSIS:
        if (!r->in_code)
            goto foreign;
        v = Py_NewRef(Py_Ellipsis);
        flag = 0;
        break;
    case M_NULL:
        stop(r, MR_CORRUPT, "its marshal data is corrupt (NULL where an object belongs)");
        break;
    case M_REF: {
        if (!have(r, 4))
            break;
        uint32_t i = le32(r->p);
        r->p += 4;
        if (i >= r->nrefs) {
            stop(r, MR_CORRUPT, "its marshal data is corrupt (invalid reference)");
            break;
        }
        if (!r->done[i]) {   /* a cycle: no profile has one */
            stop(r, MR_CORRUPT, "its marshal data is corrupt (recursive reference)");
            break;
        }
        v = Py_NewRef(r->refs[i]);
        flag = 0;
        break;
    }
    default:
    foreign: {
        const char *what = foreign_type(code);
        if (what == NULL) {
            stop(r, MR_CORRUPT, "its marshal data is corrupt (unknown type code)");
        } else {
            if (r->status == MR_OK)
                r->foreign = what;
            stop(r, MR_CORRUPT, "its marshal data holds a type no profile has");
        }
        break;
    }
    }
    r->depth--;
    if (v == NULL) {
        if (r->status == MR_OK)
            stop(r, MR_PYERR, NULL);
        return NULL;
    }
    if (flag && add_ref(r, v, 1) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}


/* ---- lists, and what code objects hold ------------------------------------ */

static PyObject *read_list(mreader *r, Py_ssize_t n, int flag)
{
    if ((size_t)n > (size_t)(r->end - r->p))
        return stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    PyObject *l = PyList_New(n);
    if (l == NULL)
        return stop(r, MR_PYERR, NULL);
    Py_ssize_t ref = -1;
    if (flag && (ref = add_ref(r, l, 0)) < 0) {
        Py_DECREF(l);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = read_number(r);
        if (item == NULL && r->status == MR_OK)
            item = read_object(r);
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

static PyObject *read_frozenset(mreader *r, Py_ssize_t n, int flag)
{
    if ((size_t)n > (size_t)(r->end - r->p))
        return stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    Py_ssize_t ref = flag ? add_ref(r, NULL, 0) : -1;
    if (flag && ref < 0)
        return NULL;
    PyObject *s = PyFrozenSet_New(NULL);
    if (s == NULL)
        return stop(r, MR_PYERR, NULL);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = read_object(r);
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

static int is_bytes_code(unsigned char c)
{
    return (c & ~M_FLAG_REF) == M_BYTES;
}

static int read_int32(mreader *r, long *v)
{
    if (!have(r, 4))
        return -1;
    *v = (long)(int32_t)le32(r->p);
    r->p += 4;
    return 0;
}

/* A code object, read through and stood for by a str:
 * '<code object NAME, file "FILE", line N>' (its repr, less the address).
 * 3.11 and later write five ints before the bytecode, 3.8 to 3.10 six; the
 * bytecode is bytes, whose size (little-endian) cannot have 's' as its top
 * byte, so the byte where 3.8's bytecode would start tells them apart. */
static PyObject *read_code(mreader *r, int flag)
{
    Py_ssize_t ref = flag ? add_ref(r, NULL, 0) : -1;
    if (flag && ref < 0)
        return NULL;
    if (!have(r, 25))
        return NULL;
    int legacy = is_bytes_code(r->p[24]);
    if (!legacy && !is_bytes_code(r->p[20]))
        return stop(r, MR_CORRUPT, "its marshal data is corrupt (bad code object)");
    r->p += legacy ? 24 : 20;
    /* the objects before the file name: bytecode, constants, names, then
     * varnames, freevars, cellvars (3.8-3.10) or local names and kinds */
    int before = legacy ? 6 : 5, after = legacy ? 1 : 2;
    PyObject *filename = NULL, *name = NULL, *v = NULL;
    long firstline = 0;
    r->in_code++;
    for (int i = 0; i < before; i++) {
        PyObject *o = read_object(r);
        if (o == NULL)
            goto done;
        Py_DECREF(o);
    }
    if ((filename = read_object(r)) == NULL || (name = read_object(r)) == NULL)
        goto done;
    if (!legacy) {   /* the qualified name */
        PyObject *q = read_object(r);
        if (q == NULL)
            goto done;
        Py_DECREF(q);
    }
    if (read_int32(r, &firstline) < 0)
        goto done;
    for (int i = 0; i < after; i++) {
        PyObject *o = read_object(r);
        if (o == NULL)
            goto done;
        Py_DECREF(o);
    }
    if (!PyUnicode_Check(filename) || !PyUnicode_Check(name)) {
        stop(r, MR_CORRUPT, "its marshal data is corrupt (bad code object)");
        goto done;
    }
    v = PyUnicode_FromFormat("<code object %U, file \"%U\", line %ld>", name, filename,
                             firstline);
    if (v == NULL)
        stop(r, MR_PYERR, NULL);
done:
    r->in_code--;
    Py_XDECREF(filename);
    Py_XDECREF(name);
    if (v != NULL && ref >= 0) {
        r->refs[ref] = Py_NewRef(v);
        r->done[ref] = 1;
    }
    return v;
}

/* ---- the entry point --------------------------------------------------- */

const char *pyro_marshal_type_name(int code)
{
    switch (code & ~M_FLAG_REF) {
    case M_NONE: return "None";
    case M_TRUE: case M_FALSE: return "bool";
    case M_INT: case M_INT64: case M_LONG: return "int";
    case M_FLOAT: case M_BINARY_FLOAT: return "float";
    case M_UNICODE: case M_INTERNED: case M_ASCII: case M_ASCII_INTERNED:
    case M_SHORT_ASCII: case M_SHORT_ASCII_INTERNED: return "str";
    case M_TUPLE: case M_SMALL_TUPLE: return "tuple";
    case M_DICT: return "dict";
    default: return foreign_type(code & ~M_FLAG_REF);
    }
}

PyObject *pyro_marshal_read(const char *data, size_t len, const pyro_marshal_rules *rules,
                            pyro_marshal_result *res)
{
    mreader r = {.p = (const unsigned char *)data, .end = (const unsigned char *)data + len,
                 .rules = rules};
    PyObject *v = read_object(&r);
    for (size_t i = 0; i < r.nrefs; i++)
        Py_XDECREF(r.refs[i]);
    PyMem_RawFree(r.refs);
    PyMem_RawFree(r.done);
    for (size_t i = 0; i < r.triple_cap; i++)
        Py_XDECREF(r.triples[i].t);
    PyMem_RawFree(r.triples);
    if (v == NULL && r.status == MR_OK)
        r.status = MR_PYERR;
    if (r.status != MR_OK)
        Py_CLEAR(v);
    if (r.status != MR_INVALID)
        Py_CLEAR(r.reason);
    if (r.status == MR_PYERR && !PyErr_Occurred())
        PyErr_NoMemory();
    if (r.status == MR_PYERR && !PyErr_ExceptionMatches(PyExc_MemoryError)) {
        /* Data that makes a Python operation fail (a dict as a dict key):
         * damage, not an error of ours. */
        r.status = MR_CORRUPT;
        r.why = PyErr_ExceptionMatches(PyExc_TypeError)
            ? "its marshal data is corrupt (TypeError while decoding it)"
            : "its marshal data is corrupt";
        PyErr_Clear();
    }
    if (r.status != MR_PYERR)
        PyErr_Clear();
    res->status = r.status;
    res->why = r.why;
    res->foreign = r.foreign;
    res->reason = r.reason;
    res->end = (size_t)((const char *)r.p - data);
    return v;
}
