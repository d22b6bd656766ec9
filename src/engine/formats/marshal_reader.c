/* marshal_reader.c: decode marshal data from files, safely (see
 * marshal_reader.h).
 *
 * One reader for every file: the general subset (None, bools, ints that fit
 * 64 bits, floats, str, tuples, dicts, lists where the rules allow them,
 * references to finished objects), and two things for pstats dicts, which
 * are most of what is ever read: keys shared as marshal shares their
 * items, and each entry checked as it is read.  Inside a code object the
 * types its constants can have (bytes, frozensets, complex numbers,
 * Ellipsis, big ints) are read too, and the code object becomes a str.
 *
 * This file holds the entry point, the dispatch on type codes, the atoms
 * (numbers, strs, refs); the containers, where a profile's shape is known,
 * are in marshal_containers.c, code objects in marshal_code.c. */
#include "formats/marshal_internal.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

const pyro_marshal_rules pyro_marshal_pstats = {.pstats = 1, .code_objects = 1, .max_depth = 32};
const pyro_marshal_rules pyro_marshal_data = {.lists = 1, .max_depth = 16};

/* Deeper data is refused before it can exhaust the C stack: a profile
 * nests five deep (dict, entry, callers, caller stats, number); code
 * objects add two levels per nested function. */
#define CODE_EXTRA_DEPTH 64

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
Py_ssize_t pyro_marshal_add_ref(mreader *r, PyObject *v, int done)
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

PyObject *pyro_marshal_read_object(mreader *r)
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
        v = pyro_marshal_read_tuple(r, n, flag);
        r->depth--;
        return v;   /* containers register their own refs */
    case M_TUPLE:
        if (read_size(r, &n) < 0)
            break;
        v = pyro_marshal_read_tuple(r, n, flag);
        r->depth--;
        return v;
    case M_DICT:
        v = pyro_marshal_read_dict(r, flag);
        r->depth--;
        return v;
    case M_LIST:
        if (!r->rules->lists && !r->in_code)
            goto foreign;
        if (read_size(r, &n) == 0)
            v = pyro_marshal_read_list(r, n, flag);
        r->depth--;
        return v;
    case M_CODE:
        if (!r->rules->code_objects)
            goto foreign;
        v = pyro_marshal_read_code(r, flag);
        r->depth--;
        return v;
    case M_FROZENSET:
        if (!r->in_code)
            goto foreign;
        if (read_size(r, &n) == 0)
            v = pyro_marshal_read_frozenset(r, n, flag);
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
    if (flag && pyro_marshal_add_ref(r, v, 1) < 0) {
        Py_DECREF(v);
        return NULL;
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
    PyObject *v = pyro_marshal_read_object(&r);
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
    res->sampled = r.sampled;
    return v;
}
