/* callgraph.h: a profile as a call graph (functions and caller->callee
 * calls), what the callgrind and dot writers draw: from a pstats dict
 * (time in seconds) or from a stack view (its selected metric). */
#ifndef PYRO_CALLGRAPH_H
#define PYRO_CALLGRAPH_H

#include "core/compat.h"
#include "core/text_out.h"
#include "model/stack_view.h"

#include <stddef.h>
#include <string.h>

/* UTF-8 bytes owned by a str of the stats dict (or by the graph's keep). */
typedef struct {
    const char *s;
    Py_ssize_t len;
} pyro_utf8_span;

typedef struct {
    PyObject *key;             /* borrowed from the stats dict (or from keep) */
    pyro_utf8_span file, name;
    long long line;
    int builtin;               /* ('~', 0, name): how cProfile keys C functions */
    int listed;                /* a key of the dict; 0: only named as a caller */
    long long nc, cc;          /* calls, primitive calls */
    double tt, ct;             /* tottime, cumtime: self and total values, in the
                                  graph's unit (seconds for a pstats dict) */
    size_t first_call, ncalls; /* its callees: calls[first_call .. first_call + ncalls) */
} pyro_cg_func;

typedef struct {
    size_t caller, callee;     /* indices in funcs */
    long long nc, cc;
    double tt;                 /* the callee's own value under this caller */
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
    pyro_unit unit;            /* of tt and ct */
    char metric[32];           /* what they measure: "time", "allocated"... */
} pyro_callgraph;

/* Build `g` from `stats`, a pstats dict (checked: FormatError if it is not
 * one).  A caller's share of a callee named by a bare call count (the
 * profile module's callers) is the callee's cumtime in proportion to the
 * calls.  0, or -1 + exception; `g` is to be freed either way. */
int pyro_callgraph_build(PyObject *stats, pyro_callgraph *g);

/* Build `g` from the selected metric of a stack view: a function's self
 * value is the sum over its nodes, its total (and calls' primitive count)
 * that of its outermost activations; a call's total is the callee's
 * under that caller, outermost pairs only.  0, or -1 + exception. */
int pyro_callgraph_from_view(const pyro_stack_view *v, pyro_callgraph *g);

void pyro_callgraph_free(pyro_callgraph *g);

/* The graph as a pstats-shaped dict, {(file, line, name): (cc, nc, tt, ct,
 * {caller: (nc, cc, tt, ct)})}, its values in the graph's unit: what the
 * HTML page's function table reads for a profile of another metric.  A new
 * dict, or NULL + exception. */
PyObject *pyro_callgraph_as_stats(const pyro_callgraph *g);

/* The graph of a view of samples as 3.15's sampling profiler shapes its
 * pstats dict: {key: (direct, cumulative, direct, cumulative, {caller:
 * samples})}, direct the samples the function was running in, cumulative
 * those it was on the stack in (outermost activations), a caller's the
 * samples of the function under it.  The times are in samples: the
 * caller scales them when it knows the interval.  A new dict, or NULL +
 * exception. */
PyObject *pyro_callgraph_as_sampled(const pyro_callgraph *g);

#endif
