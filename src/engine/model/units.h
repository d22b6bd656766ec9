/* units.h: the units of metric columns, and how values in them read.
 *
 * A view's metric (time, bytes, calls, samples...) says its unit; writers
 * label and scale values by it, so that a flame graph of bytes says bytes
 * and one of seconds says seconds. */
#ifndef PYRO_UNITS_H
#define PYRO_UNITS_H

#include "core/compat.h"
#include "core/text_out.h"

typedef enum {
    PYRO_UNIT_SECONDS,
    PYRO_UNIT_BYTES,
    PYRO_UNIT_CALLS,
    PYRO_UNIT_SAMPLES,
    PYRO_UNIT_COUNT,           /* allocations, objects: a plain number */
    PYRO_UNIT_N
} pyro_unit;

/* "seconds", "bytes", "calls", "samples", "count". */
const char *pyro_unit_name(pyro_unit u);
/* The unit a name says, or -1. */
int pyro_unit_of(const char *name);

/* A value as people read it: "1.234 s", "12.500 ms", "3.0 MiB", "1,234". */
void pyro_unit_text(pyro_text *t, pyro_unit u, double value);

/* Whole numbers of the unit's smallest step for integer formats
 * (collapsed stacks, callgrind): microseconds or nanoseconds for seconds,
 * as `time_scale` says; the value itself for the others. */
double pyro_unit_scale(pyro_unit u, double time_scale);

#endif
