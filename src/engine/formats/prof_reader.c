/* prof_reader.c: read a .prof file (pstats' marshal format) into a dict.
 *
 * The result is what marshal.load would give, reached faster and more
 * safely: a direct parser decodes the marshal subset profiles are made of
 * (dict, tuple, str, int, float, refs), and only data with a code object
 * in it (the profile module names one entry with one) goes to PyMarshal.
 * Marshal data no profile can hold (lists, sizes beyond the end of the
 * data, cyclic refs, huge ints) is refused before it is built: PyMarshal
 * would first allocate whatever damaged sizes claim, and hash a tuple
 * holding itself until the C stack overflows.  Only the first marshal
 * object is the stats: pyrometer appends its call tree as a second one
 * (tree_reader.c reads it), which pstats ignores.
 *
 * Every failure is one line: OSError (of the errno's subclass) when the
 * file cannot be read, FormatError when it is not a profile. */
#include "prof_file.h"
#include "tree_file.h"

#include <errno.h>
#include <limits.h>
#include <marshal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

PyObject *pyro_FormatError = NULL;

/* ---- reading the file ------------------------------------------------- */

int pyro_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno ? errno : EIO;
    size_t cap = 1 << 16, n = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;   /* +1: the read that meets EOF fits */
    char *buf = PyMem_RawMalloc(cap);
    if (buf == NULL) {
        fclose(f);
        return ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            char *bigger = PyMem_RawRealloc(buf, cap * 2);
            if (bigger == NULL) {
                PyMem_RawFree(buf);
                fclose(f);
                return ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - n;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (got < want) {
            if (ferror(f)) {
                int err = errno ? errno : EIO;
                PyMem_RawFree(buf);
                fclose(f);
                return err;
            }
            break;
        }
    }
    fclose(f);
    *data = buf;
    *len = n;
    return 0;
}

/* OSError of the subclass Python would pick for `err` (so callers can catch
 * FileNotFoundError), with our one-line message and .errno set. */
void pyro_raise_read_error(const char *path, int err)
{
    if (err == ENOMEM) {
        PyErr_NoMemory();
        return;
    }
    PyObject *type = PyExc_OSError;
    if (err == ENOENT)
        type = PyExc_FileNotFoundError;
    else if (err == EACCES || err == EPERM)
        type = PyExc_PermissionError;
    else if (err == EISDIR)
        type = PyExc_IsADirectoryError;
    else if (err == ENOTDIR)
        type = PyExc_NotADirectoryError;
    PyObject *msg = PyUnicode_FromFormat("pyrometer: cannot read %s: %s", path, strerror(err));
    if (msg == NULL)
        return;
    /* One argument, so str(exc) is just the message; errno set after. */
    PyObject *exc = PyObject_CallFunctionObjArgs(type, msg, NULL);
    Py_DECREF(msg);
    if (exc == NULL)
        return;
    PyObject *code = PyLong_FromLong(err);
    if (code == NULL || PyObject_SetAttrString(exc, "errno", code) < 0)
        PyErr_Clear();   /* the message alone is still right */
    Py_XDECREF(code);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
}

/* ---- the marshal subset ------------------------------------------------- */

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

/* Every code some Python's marshal reads; others are damage. */
#define MARSHAL_CODES "0NFTS.iIlfgxysturaAzZ()[{c<>:"

/* A profile nests five deep (dict, entry, callers, caller stats, number);
 * deeper data is refused before it can exhaust the C stack. */
#define MAX_DEPTH 32

enum { MR_OK, MR_FALLBACK, MR_CORRUPT, MR_INVALID, MR_PYERR };

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
        int top = r->depth == 1;
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

/* Marshal types that exist but never occur in a profile: the data is not
 * one, and PyMarshal would trust the sizes they claim.  (Code objects do
 * occur: the profile module names its entry for the profiled code with
 * the code object.  PyMarshal decodes them.) */
static const char *foreign_type(int code)
{
    switch (code) {
    case '[': return "list";
    case '<': return "set";
    case '>': return "frozenset";
    case 's': return "bytes";
    case 'x': case 'y': return "complex";
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
    if (++r->depth > MAX_DEPTH) {
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
    default: {
        const char *what = foreign_type(code);
        if (what == NULL) {
            if (code != 0 && strchr(MARSHAL_CODES, code) != NULL)
                stop(r, MR_FALLBACK, NULL);   /* valid but not decoded here */
            else
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

/* ---- the shape of a pstats dict ---------------------------------------- */

static int fits_ll(PyObject *o)
{
    int overflow;
    PyLong_AsLongLongAndOverflow(o, &overflow);
    return overflow == 0;
}

/* Counts are exact ints (pstats prints them with str(), which a bool
 * would spell "True"); times are ints or floats. */
static int is_count(PyObject *o)
{
    return PyLong_CheckExact(o) && fits_ll(o);
}

static int is_time(PyObject *o)
{
    return PyFloat_Check(o) || (PyLong_CheckExact(o) && fits_ll(o));
}

/* Why `k` is not a (filename, lineno, funcname) key, or NULL if it is. */
static const char *key_problem(PyObject *k)
{
    if (!PyTuple_Check(k) || PyTuple_GET_SIZE(k) != 3)
        return "is not a (filename, lineno, funcname) tuple";
    if (!PyUnicode_Check(PyTuple_GET_ITEM(k, 0)))
        return "has a file name that is not a str";
    PyObject *line = PyTuple_GET_ITEM(k, 1);
    if (!PyLong_Check(line) || !fits_ll(line))
        return "has a line number that is not an int";
    /* The profile module's ('profile', 0, name) entry for the profiled
     * command takes the command as given: often a code object. */
    if (!PyUnicode_Check(PyTuple_GET_ITEM(k, 2))
        && !(PyLong_AsLongLong(line) == 0
             && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(k, 0), "profile") == 0))
        return "has a function name that is not a str";
    return NULL;
}

static int invalid(PyObject **reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    return *reason != NULL ? 1 : -1;
}

int pyro_check_call(PyObject *key, PyObject *ckey, PyObject *cvalue, int ckey_checked,
                    PyObject **reason)
{
    *reason = NULL;
    const char *why = ckey_checked ? NULL : key_problem(ckey);
    if (why != NULL)
        return invalid(reason, "a caller of %.200R %s", key, why);
    if (is_count(cvalue))
        return 0;   /* the pure-Python profile module: a call count */
    if (!PyTuple_Check(cvalue) || PyTuple_GET_SIZE(cvalue) != 4
        || !is_count(PyTuple_GET_ITEM(cvalue, 0)) || !is_count(PyTuple_GET_ITEM(cvalue, 1))
        || !is_time(PyTuple_GET_ITEM(cvalue, 2)) || !is_time(PyTuple_GET_ITEM(cvalue, 3)))
        return invalid(reason, "the call %.200R -> %.200R has stats that are not (nc, cc, tt, ct)",
                       ckey, key);
    return 0;
}

int pyro_check_entry(PyObject *key, PyObject *value, int callers_too, PyObject **reason)
{
    *reason = NULL;
    const char *why = key_problem(key);
    if (why != NULL)
        return invalid(reason, "the key %.200R %s", key, why);
    if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 5)
        return invalid(reason, "the entry of %.200R is not a (cc, nc, tt, ct, callers) tuple", key);
    if (!is_count(PyTuple_GET_ITEM(value, 0)) || !is_count(PyTuple_GET_ITEM(value, 1)))
        return invalid(reason, "the entry of %.200R has call counts that are not ints", key);
    if (!is_time(PyTuple_GET_ITEM(value, 2)) || !is_time(PyTuple_GET_ITEM(value, 3)))
        return invalid(reason, "the entry of %.200R has times that are not numbers", key);
    PyObject *callers = PyTuple_GET_ITEM(value, 4);
    if (!PyDict_Check(callers))
        return invalid(reason, "the entry of %.200R has callers that are not a dict", key);
    if (!callers_too)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *ckey, *cvalue;
    while (PyDict_Next(callers, &pos, &ckey, &cvalue)) {
        int rc = pyro_check_call(key, ckey, cvalue, 0, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pyro_check_stats(PyObject *stats, PyObject **reason)
{
    *reason = NULL;
    if (!PyDict_Check(stats))
        return invalid(reason, "it is a %s, not a dict", Py_TYPE(stats)->tp_name);
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        int rc = pyro_check_entry(key, value, 1, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- load_stats ---------------------------------------------------------- */

/* The cyclic GC is paused while the dict is built: the data is acyclic, and
 * collections triggered by a million new tuples would cost as much as the
 * parse.  Goes through the gc module, the same on every version. */
static int gc_pause(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        PyErr_Clear();
        return 0;
    }
    int was_enabled = 0;
    PyObject *r = PyObject_CallMethod(gc, "isenabled", NULL);
    if (r != NULL && PyObject_IsTrue(r) == 1) {
        PyObject *d = PyObject_CallMethod(gc, "disable", NULL);
        was_enabled = d != NULL;
        Py_XDECREF(d);
    }
    Py_XDECREF(r);
    PyErr_Clear();
    Py_DECREF(gc);
    return was_enabled;
}

static void gc_resume(int was_enabled)
{
    if (!was_enabled)
        return;
    pyro_saved_exc saved;
    pyro_exc_save(&saved);
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *r = gc != NULL ? PyObject_CallMethod(gc, "enable", NULL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(gc);
    PyErr_Clear();
    pyro_exc_restore(&saved);
}

static PyObject *not_a_profile(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (reason == NULL)
        return NULL;
    PyErr_Format(pyro_FormatError, "pyrometer: %s is not a profile file (%U)", path, reason);
    Py_DECREF(reason);
    return NULL;
}

/* Name of the marshal type `code` starts, for a file holding something
 * other than a dict; NULL if the byte starts no marshal object. */
static const char *marshal_type_name(int code)
{
    switch (code) {
    case M_NONE: return "None";
    case M_TRUE: case M_FALSE: return "bool";
    case M_INT: case M_INT64: case M_LONG: return "int";
    case M_FLOAT: case M_BINARY_FLOAT: return "float";
    case M_UNICODE: case M_INTERNED: case M_ASCII: case M_ASCII_INTERNED:
    case M_SHORT_ASCII: case M_SHORT_ASCII_INTERNED: return "str";
    case M_TUPLE: case M_SMALL_TUPLE: return "tuple";
    case 'c': return "code object";
    default: return foreign_type(code);
    }
}

/* Where the first marshal object of `data` ends, for data PyMarshal read:
 * marshal.load() on a BytesIO tells.  `len` when that fails. */
static size_t marshal_end(const char *data, size_t len)
{
    size_t end = len;
    pyro_saved_exc saved;
    pyro_exc_save(&saved);
    PyObject *io = PyImport_ImportModule("io");
    PyObject *marshal = PyImport_ImportModule("marshal");
    PyObject *f = io ? PyObject_CallMethod(io, "BytesIO", "y#", data, (Py_ssize_t)len) : NULL;
    PyObject *obj = f && marshal ? PyObject_CallMethod(marshal, "load", "O", f) : NULL;
    PyObject *pos = obj ? PyObject_CallMethod(f, "tell", NULL) : NULL;
    if (pos != NULL) {
        Py_ssize_t at = PyLong_AsSsize_t(pos);
        if (at >= 0 && (size_t)at <= len)
            end = (size_t)at;
    }
    Py_XDECREF(pos);
    Py_XDECREF(obj);
    Py_XDECREF(f);
    Py_XDECREF(marshal);
    Py_XDECREF(io);
    PyErr_Clear();
    pyro_exc_restore(&saved);
    return end;
}

/* The stats of `path`; with `rest`, also the file's data: *rest a PyMem_Raw
 * buffer of *rest_len bytes, which the caller frees, where the first
 * object ends at *rest_at. */
static PyObject *load_first(const char *path, char **rest, size_t *rest_len, size_t *rest_at)
{
    char *data = NULL;
    size_t len = 0;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = pyro_read_file(path, &data, &len);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        pyro_raise_read_error(path, err);
        return NULL;
    }
    PyObject *stats = NULL;
    size_t end = len;
    if (len == 0) {
        not_a_profile(path, "it is empty");
        goto done;
    }
    /* A profile is a marshal dict.  Deciding from the first byte keeps
     * text, images and marshal data of other kinds away from PyMarshal,
     * which would believe whatever sizes they seem to claim. */
    int first = (unsigned char)data[0] & ~M_FLAG_REF;
    if (first != M_DICT) {
        const char *what = marshal_type_name(first);
        if (what != NULL)
            not_a_profile(path, "its marshal data is a %s, not a dict", what);
        else
            not_a_profile(path, "it is not marshal data");
        goto done;
    }

    int gc_was_enabled = gc_pause();
    mreader r = {.p = (const unsigned char *)data, .end = (const unsigned char *)data + len};
    stats = read_object(&r);
    end = (size_t)((const char *)r.p - data);
    for (size_t i = 0; i < r.nrefs; i++)
        Py_XDECREF(r.refs[i]);
    PyMem_RawFree(r.refs);
    PyMem_RawFree(r.done);
    for (size_t i = 0; i < r.triple_cap; i++)
        Py_XDECREF(r.triples[i].t);
    PyMem_RawFree(r.triples);
    if (r.status == MR_FALLBACK) {
        Py_CLEAR(stats);
        stats = PyMarshal_ReadObjectFromString(data, (Py_ssize_t)len);
        if (stats == NULL && !PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "NULL object in marshal data");
        if (stats == NULL)
            r.status = MR_PYERR;
        else if (rest != NULL)
            end = marshal_end(data, len);
    }
    gc_resume(gc_was_enabled);

    if (r.status == MR_INVALID || r.status == MR_CORRUPT)
        Py_CLEAR(stats);
    if (r.status == MR_INVALID) {
        not_a_profile(path, "%U", r.reason);
        Py_CLEAR(r.reason);
        goto done;
    }
    Py_CLEAR(r.reason);
    if (r.status == MR_CORRUPT) {
        if (r.foreign != NULL)
            not_a_profile(path, "its marshal data holds a %s, which no profile has", r.foreign);
        else
            not_a_profile(path, "%s", r.why);
        goto done;
    }
    if (stats == NULL) {
        /* PyMarshal's error, or PyDict_SetItem's on an unhashable key:
         * MemoryError stays, the rest says which it was. */
        PyObject *type = PyErr_Occurred();
        if (type == NULL)
            not_a_profile(path, "its marshal data is corrupt");
        else if (!PyErr_GivenExceptionMatches(type, PyExc_MemoryError)) {
            const char *name = PyExceptionClass_Check(type)
                ? PyExceptionClass_Name(type) : "error";
            const char *dot = strrchr(name, '.');
            PyErr_Clear();
            not_a_profile(path, "its marshal data is corrupt (%s while decoding it)",
                          dot != NULL ? dot + 1 : name);
        }
        goto done;
    }
    if (r.status == MR_OK)
        goto done;   /* checked entry by entry as it was read */
    PyObject *reason = NULL;
    int bad = pyro_check_stats(stats, &reason);
    if (bad != 0) {
        if (bad > 0)
            not_a_profile(path, "%U", reason);
        Py_XDECREF(reason);
        Py_CLEAR(stats);
    }
done:
    if (stats != NULL && rest != NULL) {
        *rest = data;
        *rest_at = end;
        *rest_len = len;
        return stats;
    }
    PyMem_RawFree(data);
    return stats;
}

PyObject *pyro_load_stats(const char *path)
{
    return load_first(path, NULL, NULL, NULL);
}

PyObject *pyro_load_profile(const char *path, PyObject **tree)
{
    char *data = NULL;
    size_t len = 0, at = 0;
    *tree = NULL;
    PyObject *stats = load_first(path, &data, &len, &at);
    if (stats == NULL)
        return NULL;
    int rc = pyro_read_tree(path, data + at, len - at, tree);
    PyMem_RawFree(data);
    if (rc < 0)
        Py_CLEAR(stats);
    return stats;
}

PyObject *pyro_py_load_profile(PyObject *module, PyObject *path_obj)
{
    (void)module;
    PyObject *path_bytes = NULL, *tree = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    PyObject *stats = pyro_load_profile(PyBytes_AS_STRING(path_bytes), &tree);
    Py_DECREF(path_bytes);
    if (stats == NULL)
        return NULL;
    return Py_BuildValue("(NN)", stats, tree != NULL ? tree : Py_NewRef(Py_None));
}

PyObject *pyro_py_load_stats(PyObject *module, PyObject *path_obj)
{
    (void)module;
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    PyObject *stats = pyro_load_stats(PyBytes_AS_STRING(path_bytes));
    Py_DECREF(path_bytes);
    return stats;
}
