/* callgraph.h: a pstats dict as a call graph (functions and caller->callee
 * calls), what the callgrind and dot writers draw, and the text buffer they
 * write into. */
#ifndef PYRO_CALLGRAPH_H
#define PYRO_CALLGRAPH_H

#include "core/compat.h"
#include "core/text_out.h"

#include <stddef.h>
#include <string.h>

/* UTF-8 bytes owned by a str of the stats dict (or by the graph's keep). */
typedef struct {
    const char *s;
    Py_ssize_t len;
} pyro_u8;

typedef struct {
    PyObject *key;             /* borrowed from the stats dict (or from keep) */
    pyro_u8 file, name;
    long long line;
    int builtin;               /* ('~', 0, name): how cProfile keys C functions */
    int listed;                /* a key of the dict; 0: only named as a caller */
    long long nc, cc;          /* calls, primitive calls */
    double tt, ct;             /* tottime, cumtime (seconds) */
    size_t first_call, ncalls; /* its callees: calls[first_call .. first_call + ncalls) */
} pyro_cg_func;

typedef struct {
    size_t caller, callee;     /* indices in funcs */
    long long nc, cc;
    double ct;                 /* the callee's cumtime under this caller */
} pyro_cg_call;

typedef struct {
    pyro_cg_func *funcs;       /* the dict's keys in its order, then callers
                                * that have no entry of their own */
    size_t nfuncs;
    pyro_cg_call *calls;       /* grouped by caller, in caller order; for one
                                * caller, in the order of the callees */
    size_t ncalls;
    double total_tt;           /* sum of tottime: pstats' total_tt */
    double max_ct;             /* the largest cumtime */
    PyObject *keep;            /* objects the pointers above live in */
} pyro_callgraph;

/* Build `g` from `stats`, a pstats dict (checked: FormatError if it is not
 * one).  A caller's share of a callee named by a bare call count (the
 * profile module's callers) is the callee's cumtime in proportion to the
 * calls.  0, or -1 + exception; `g` is to be freed either way. */
int pyro_callgraph_build(PyObject *stats, pyro_callgraph *g);
void pyro_callgraph_free(pyro_callgraph *g);

/* ---- the writers ------------------------------------------------------ */

/* callgrind_writer.c: the Callgrind format, costs in nanoseconds. */
int pyro_format_callgrind(PyObject *stats, const char *creator, pyro_text *out);
PyObject *pyro_py_write_callgrind(PyObject *module, PyObject *args, PyObject *kwargs);

/* dot_writer.c: a Graphviz call graph as gprof2dot draws one. */
int pyro_format_dot(PyObject *stats, double node_threshold, double edge_threshold,
                    pyro_text *out);
PyObject *pyro_py_write_dot(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_format_dot(PyObject *module, PyObject *args, PyObject *kwargs);

/* callgraph.c: write_file(path, data), atomically (for rendered graphs). */
PyObject *pyro_py_write_file(PyObject *module, PyObject *args);

#endif
