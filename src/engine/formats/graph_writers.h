/* graph_writers.h: the writers of call graphs: Callgrind (KCachegrind,
 * QCachegrind, callgrind_annotate) and Graphviz dot (as gprof2dot draws).
 * Both draw a model/callgraph, its values labelled by its unit. */
#ifndef PYRO_GRAPH_WRITERS_H
#define PYRO_GRAPH_WRITERS_H

#include "core/compat.h"
#include "core/text_out.h"
#include "model/callgraph.h"

/* The Callgrind format: one event, time in nanoseconds or the metric's own
 * unit (bytes, counts).  0, or -1 + exception. */
int pyro_write_callgrind(const pyro_callgraph *g, const char *creator, pyro_text *out);

/* A Graphviz call graph: functions under `node_threshold` and calls under
 * `edge_threshold` (percent of the total) left out.  0, or -1 +
 * exception. */
int pyro_write_dot(const pyro_callgraph *g, double node_threshold, double edge_threshold,
                   pyro_text *out);

#endif
