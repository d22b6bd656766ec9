/* html_writer.h: the self-contained HTML report.
 *
 * The page is a static template (HTML, CSS and JS, shipped as package data
 * in pyrometer/_html/report.html) with one marker, HTML_DATA_MARKER, inside
 * a <script type="application/json"> element.  The writer turns a profile
 * into one compact JSON object, escaped so that nothing in it can close
 * that element, and writes template-before-marker + JSON + template-after
 * atomically. */
#ifndef PYRO_HTML_WRITER_H
#define PYRO_HTML_WRITER_H

#include "core/compat.h"
#include "core/text_out.h"
#include "model/units.h"

#define HTML_DATA_MARKER "@PYROMETER_DATA@"

/* _engine.write_html(path, template, *, stats=None, tree=None, lines=None,
 * meta=None): a function profile (stats, + tree) or a line profile (lines);
 * meta: {str: str} shown in the summary. */
typedef struct {
    const char *template;      /* the page, with HTML_DATA_MARKER once */
    size_t template_len;
    PyObject *stats;           /* a pstats dict, or Py_None */
    PyObject *tree;            /* a call-tree dict, or Py_None */
    PyObject *lines;           /* line statistics, or Py_None */
    PyObject *meta;            /* {str: str} for the summary, or Py_None */
    const char *metric;        /* the tree's metric to show; NULL: the first */
    pyro_unit stats_unit;      /* what the stats' times are (seconds; samples
                                  for the counts of a sampled profile) */
} pyro_html_page;

/* The page into `out`: a function profile (stats and/or a tree; a tree of
 * another metric than time makes its own function table) or a line
 * profile.  0, or -1 + exception. */
int pyro_write_html(const pyro_html_page *page, pyro_text *out);

#endif
