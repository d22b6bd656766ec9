/* timeline_view.h: memory over time, as the timeline's writers read it.
 *
 * Points (a time, the RSS, the traced heap's bytes alive), spans (a call
 * of a function marked for the timeline, its start and end points), the
 * names spans and tree nodes give, and optionally a breakdown of the heap
 * by call path (a top-down tree, each node's own bytes).  Everything is
 * C, in PyMem_Raw memory: a view is filled from the timeline's table
 * (timeline_view_of_table), from a saved file (formats/timeline_file) or
 * by hand, and every writer checks nothing twice: a view is valid by
 * construction (pyro_timeline_view_check says what a file must hold). */
#ifndef PYRO_TIMELINE_VIEW_H
#define PYRO_TIMELINE_VIEW_H

#include "core/compat.h"

#include <stdint.h>

/* A value nobody measured (the RSS where the system does not tell it, the
 * heap when no memory mode traced it). */
#define PYRO_MEM_UNKNOWN UINT64_MAX
/* No value in a view is larger (64 PiB): sums of a few million of them
 * and their conversion to doubles stay exact enough and never overflow. */
#define PYRO_MEM_MAX ((uint64_t)1 << 56)
/* Times are ns from the timeline's start, 0 to about 146 years. */
#define PYRO_MEM_TMAX ((int64_t)1 << 62)

typedef struct {
    int64_t t;                 /* ns since the start */
    uint64_t rss, heap;        /* bytes, or PYRO_MEM_UNKNOWN */
} pyro_mem_point;

#define PYRO_MEM_SPAN_UNFINISHED 1u

typedef struct {
    uint32_t name;             /* index into names */
    uint32_t depth;            /* 1: no other span was open at its start */
    uint32_t flags;            /* PYRO_MEM_SPAN_UNFINISHED: still running at the stop */
    pyro_mem_point start, end;
} pyro_mem_span;

typedef struct {
    int32_t parent;            /* -1, or an index below the node's own */
    uint32_t name;             /* index into names */
    uint64_t bytes;            /* the node's own, not its children's */
} pyro_mem_node;

/* What a tree's bytes are. */
enum {
    PYRO_MEM_TREE_NONE = 0,
    PYRO_MEM_TREE_NET = 1,     /* bytes a call path allocated and left alive at the end */
    PYRO_MEM_TREE_PEAK = 2,    /* bytes a call path held when the heap was at its peak */
};

#define PYRO_MEM_MAX_NAME 4096          /* bytes of one name */
#define PYRO_MEM_MAX_CMD 65536          /* bytes of the command line */
#define PYRO_MEM_MAX_NAMES (1u << 22)
#define PYRO_MEM_MAX_POINTS (1u << 24)
#define PYRO_MEM_MAX_SPANS (1u << 24)
#define PYRO_MEM_MAX_NODES (1u << 22)

typedef struct {
    double start_epoch;        /* Unix time of t = 0 */
    int64_t interval;          /* ns between the samples at the end */
    int64_t base_interval;     /* ns between samples asked for */
    uint32_t halvings;         /* times the samples were halved */
    uint64_t dropped_spans;    /* spans halved away or refused */
    char *cmd;                 /* UTF-8, NUL-terminated */
    size_t npoints;
    pyro_mem_point *points;    /* in time order */
    pyro_mem_point peak_rss, peak_heap;   /* t < 0: none */
    size_t nspans;
    pyro_mem_span *spans;
    size_t nnames;
    char **names;              /* UTF-8, NUL-terminated */
    int tree_kind;             /* PYRO_MEM_TREE_* */
    size_t nnodes;
    pyro_mem_node *nodes;      /* parents first */
} pyro_timeline_view;

/* An empty view (no points): every field zero, peaks none. */
void pyro_timeline_view_clear(pyro_timeline_view *v);
void pyro_timeline_view_release(pyro_timeline_view *v);

/* A copy of `s` (n bytes, or strlen when n is (size_t)-1) added to the
 * names: its index, or -1 with a MemoryError (or ValueError past
 * PYRO_MEM_MAX_NAMES). */
int64_t pyro_timeline_view_add_name(pyro_timeline_view *v, const char *s, size_t n);

struct pyro_timeline;   /* tables/timeline.h: only the export reads it */

/* Fill the samples, peaks and spans of an empty view from a table, and
 * its names from `names` (a list of str, the spans' name indexes).  0, or
 * -1 + exception. */
int pyro_timeline_view_of_table(pyro_timeline_view *v, const struct pyro_timeline *tl,
                                PyObject *names);

/* Add the heap's breakdown from a call tree (docs/tree-format.md) with a
 * metric `metric` in bytes, each node's own value as its bytes, frames
 * named as the displays name them; kind PYRO_MEM_TREE_NET or _PEAK.  0,
 * or -1 + exception (ValueError for a tree without that metric). */
int pyro_timeline_view_set_tree(pyro_timeline_view *v, PyObject *tree, const char *metric,
                                int kind);

/* Whether a view is one the writers can draw: NULL, or a phrase saying
 * what is wrong (a reader of a hostile file calls it last). */
const char *pyro_timeline_view_check(const pyro_timeline_view *v);

/* The two curves a timeline draws. */
enum { PYRO_MEM_RSS = 0, PYRO_MEM_HEAP = 1 };

/* A point's value on curve `which`. */
static inline uint64_t pyro_mem_value(const pyro_mem_point *p, int which)
{
    return which == PYRO_MEM_HEAP ? p->heap : p->rss;
}

/* The curve a timeline is about: the RSS, or the heap where the system
 * tells no RSS. */
int pyro_timeline_view_main(const pyro_timeline_view *v);

/* Whether any sample has a value on curve `which`. */
int pyro_timeline_view_has(const pyro_timeline_view *v, int which);

/* The points of curve `which`, the spans' ends and the curve's peak merged
 * in, in time order, as mprof draws them (points without a value left
 * out): a new PyMem_Raw array of *n points, or NULL (memory; *n = 0). */
pyro_mem_point *pyro_timeline_view_curve(const pyro_timeline_view *v, int which, size_t *n);

/* The curve's peak: its largest value over the curve (the kept peak
 * included): 1 and *peak, or 0 when the curve has no value. */
int pyro_timeline_view_peak(const pyro_timeline_view *v, int which, pyro_mem_point *peak);

/* The view as a dict (the Python API's read_timeline): a new reference,
 * or NULL + exception. */
PyObject *pyro_timeline_view_as_dict(const pyro_timeline_view *v);

#endif
