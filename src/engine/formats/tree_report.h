/* tree_report.h: the call tree as text for a terminal, the user's own
 * frames shown and the library frames under them folded into one line, as
 * pyinstrument prints it. */
#ifndef PYRO_TREE_REPORT_H
#define PYRO_TREE_REPORT_H

#include "core/compat.h"
#include "core/text_out.h"
#include "model/stack_view.h"

typedef struct {
    const char *root;          /* the program's folder: its files shown relative; NULL */
    double min_share;          /* paths under this share of the total are left out */
    size_t max_lines;          /* at most this many frame lines */
} pyro_tree_report_opts;

/* Library code is the standard library (`<stdlib>/...`), site-packages
 * (`<site-packages>/...`), frozen modules and built-ins.  0, or -1 +
 * exception. */
int pyro_format_tree(const pyro_stack_view *v, const pyro_tree_report_opts *o, pyro_text *out);

#endif
