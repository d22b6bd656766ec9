/* growth_report.h: heap growth by type as text, in objgraph's
 * show_growth() layout with a column of bytes:
 *
 *     Point                          60000    +60000     +2.3 MiB
 *
 * the type's name padded to the longest shown, its objects now (9 wide),
 * the new ones (9 wide, signed), and its bytes' growth as people read it.
 * Names are shown with control characters spelled \xNN. */
#ifndef PYRO_GROWTH_REPORT_H
#define PYRO_GROWTH_REPORT_H

#include "core/compat.h"
#include "model/type_growth.h"

/* The first `n` rows as text (a str, "" for none), or NULL + exception. */
PyObject *pyro_growth_report(const pyro_type_growth *rows, size_t n);

#endif
