/* stack_writers.h: the writers of call stacks (collapsed stacks,
 * speedscope, the flame graph).  Each draws the selected metric of a stack
 * view into a text buffer, its values labelled by the metric's unit. */
#ifndef PYRO_STACK_WRITERS_H
#define PYRO_STACK_WRITERS_H

#include "core/compat.h"
#include "core/text_out.h"
#include "model/stack_view.h"

/* One `frame;frame;frame value` line per call path, root first; value the
 * path's self value in whole units: microseconds for time, else the
 * metric's own unit (bytes, counts).  Files named short unless
 * `full_paths`; paths that read the same are one line.  0, or -1 +
 * exception. */
int pyro_write_collapsed(const pyro_stack_view *v, int full_paths, pyro_text *out);

typedef struct {
    const char *name;          /* the profile's name; NULL: "profile" */
    const char *exporter;      /* NULL: "pyrometer" */
    int microseconds;          /* time in microseconds rather than seconds */
} pyro_speedscope_opts;

/* speedscope's file format: one sampled profile weighted by self values,
 * in the metric's unit (seconds or microseconds, bytes, or "none" for a
 * count).  0, or -1 + exception. */
int pyro_write_speedscope(const pyro_stack_view *v, const pyro_speedscope_opts *o,
                          pyro_text *out);

typedef struct {
    const char *title;         /* NULL: "Flame graph" */
    const char *subtitle;      /* NULL: none */
    int width;                 /* px, 200 to 100000 */
    double min_width;          /* px: narrower paths are left out */
} pyro_flame_opts;

/* An interactive, self-contained SVG flame graph.  0, or -1 + exception. */
int pyro_write_flamegraph(const pyro_stack_view *v, const pyro_flame_opts *o, pyro_text *out);

#endif
