/* marshal_reader.h: the one decoder of marshal data from files.
 *
 * Every file pyrometer reads (.prof stats and call trees, .lines) is
 * marshal data, and every byte of it is decoded here, never by CPython's
 * marshal: that one trusts the sizes it reads (a 500-byte file can ask for
 * gigabytes) and builds what it is given (a code object holding a cycle,
 * which then crashes whoever hashes or prints it).  This decoder builds
 * only the shapes profiles are made of, checks every size against the
 * bytes left before it allocates, refuses references to objects still
 * being built (cycles), bounds the nesting, and turns a code object (the
 * pure-Python profile module names one entry with one) into a str that
 * says which code it was. */
#ifndef PYRO_MARSHAL_READER_H
#define PYRO_MARSHAL_READER_H

#include "core/compat.h"

typedef struct {
    uint8_t pstats;            /* a pstats dict: entries checked and keys shared
                                  as they are read (prof_reader.c) */
    uint8_t lists;             /* lists may occur (call trees, line profiles) */
    uint8_t code_objects;      /* code objects become a str naming them */
    int max_depth;             /* nesting allowed (code objects may add 64) */
} pyro_marshal_rules;

extern const pyro_marshal_rules pyro_marshal_pstats;   /* a .prof's stats */
extern const pyro_marshal_rules pyro_marshal_data;     /* trees, line profiles */

enum {
    PYRO_MARSHAL_OK,
    PYRO_MARSHAL_CORRUPT,      /* damaged or foreign data: `why` says what */
    PYRO_MARSHAL_INVALID,      /* marshal data, but no pstats dict: `reason` */
    PYRO_MARSHAL_PYERR,        /* a Python error is set (memory) */
};

typedef struct {
    int status;
    const char *why;           /* CORRUPT: a phrase ("its marshal data ends early...") */
    const char *foreign;       /* CORRUPT on a type no profile has: its name, or NULL */
    PyObject *reason;          /* INVALID: a new str, one line; the caller frees it */
    size_t end;                /* OK: where the object ends in the data */
    int sampled;               /* OK, pstats rules: the dict held 3.15's sampled
                                  marker, which is left out of it */
} pyro_marshal_result;

/* The first marshal object of data[0:len), decoded under `rules`: a new
 * reference, or NULL with res->status saying why (an exception is set
 * only for PYRO_MARSHAL_PYERR). */
PyObject *pyro_marshal_read(const char *data, size_t len, const pyro_marshal_rules *rules,
                            pyro_marshal_result *res);

/* Name of the marshal type a byte starts ("dict", "code object"...), or
 * NULL if it starts none: for messages about what a file holds. */
const char *pyro_marshal_type_name(int code);

#endif
