/* marshal_internal.h: what the parts of the marshal decoder share (not for
 * other files; formats/marshal_reader.h is its interface).
 *
 * marshal_reader.c dispatches on type codes and reads the atoms,
 * marshal_containers.c the tuples, dicts, lists and frozensets (and the
 * pstats checks made while they are read), marshal_code.c code objects;
 * they recurse into one another through one reader state, described here
 * with the bounds checks every read makes, kept inline. */
#ifndef PYRO_MARSHAL_INTERNAL_H
#define PYRO_MARSHAL_INTERNAL_H

#include "formats/marshal_reader.h"

#include <stdint.h>

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
    int sampled;               /* the profile's dict held the sampled marker */
} mreader;

/* A profile entry's callers are checked item by item as they are read
 * (the items are in the cache then); a dict that is not read that way, or
 * has a bad item, is checked again as a whole, where the reason is found
 * just as pyro_check_entry() finds it. */
enum { CALLERS_NONE, CALLERS_NEXT, CALLERS_OK, CALLERS_RECHECK };

static inline PyObject *stop(mreader *r, int status, const char *why)
{
    if (r->status == MR_OK) {
        r->status = status;
        r->why = why;
    }
    return NULL;
}

static inline int have(mreader *r, size_t n)
{
    if ((size_t)(r->end - r->p) >= n)
        return 1;
    stop(r, MR_CORRUPT, "its marshal data ends early: a truncated file?");
    return 0;
}

static inline uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t le64(const unsigned char *b)
{
    return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

/* Remember `v` for later refs; `done` is 0 for a container still filling.
 * Its ref number, or -1 when memory runs out. */
Py_ssize_t pyro_marshal_add_ref(mreader *r, PyObject *v, int done);

/* The next object, whatever its type (marshal_reader.c); NULL once
 * r->status says why. */
PyObject *pyro_marshal_read_object(mreader *r);

/* Containers of n items (marshal_containers.c), the type code read:
 * `flag`, marshal's FLAG_REF, says whether refs may name them. */
PyObject *pyro_marshal_read_tuple(mreader *r, Py_ssize_t n, int flag);
PyObject *pyro_marshal_read_dict(mreader *r, int flag);
PyObject *pyro_marshal_read_list(mreader *r, Py_ssize_t n, int flag);
PyObject *pyro_marshal_read_frozenset(mreader *r, Py_ssize_t n, int flag);

/* A code object, as a str naming it (marshal_code.c). */
PyObject *pyro_marshal_read_code(mreader *r, int flag);

#endif
