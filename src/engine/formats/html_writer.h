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

#define HTML_DATA_MARKER "@PYROMETER_DATA@"

/* _engine.write_html(path, template, *, stats=None, tree=None, lines=None,
 * meta=None): a function profile (stats, + tree) or a line profile (lines);
 * meta: {str: str} shown in the summary. */
PyObject *pyro_py_write_html(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
