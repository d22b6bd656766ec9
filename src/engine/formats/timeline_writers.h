/* timeline_writers.h: what a timeline is written as: its plot (SVG, or an
 * HTML page holding it), memory_profiler's mprof .dat and valgrind
 * massif's massif.out.  Each takes a valid view (model/timeline_view.h)
 * and writes the file atomically: 0, or -1 + OSError / MemoryError. */
#ifndef PYRO_TIMELINE_WRITERS_H
#define PYRO_TIMELINE_WRITERS_H

#include "core/compat.h"
#include "model/timeline_view.h"

/* Memory against time (timeline_plot.c): the RSS (and the traced heap when
 * there is one), the calls of marked functions as mprof brackets them,
 * the peak marked and labelled, ticks in MiB and seconds.  html: a page
 * with the plot, a readout under the mouse and a table of the calls.
 * `title` NULL: from the command line. */
int pyro_timeline_plot_write(PyObject *path, const pyro_timeline_view *v, const char *title,
                             int html);

/* mprof's .dat (timeline_exports.c): CMDLINE, MEM <MiB> <Unix time> per
 * sample, FUNC <name> <MiB> <start> <MiB> <end> <depth> per call. */
int pyro_timeline_mprof_write(PyObject *path, const pyro_timeline_view *v);

/* massif's massif.out (timeline_exports.c): at most 100 snapshots in ms,
 * the peak's detailed with the heap's breakdown when the view has one. */
int pyro_timeline_massif_write(PyObject *path, const pyro_timeline_view *v);

#endif
