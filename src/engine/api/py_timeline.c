/* py_timeline.c: the bindings of timelines (see py_timeline.h). */
#include "api/py_timeline.h"

#include "core/text_out.h"
#include "formats/timeline_file.h"
#include "formats/timeline_writers.h"
#include "modes/timeline_mode.h"

#include <string.h>

/* What a timeline is written as: 0 .mem, 1 svg, 2 html, 3 mprof, 4 massif;
 * -1 + ValueError for another name. */
static int format_of(const char *format)
{
    static const char *const names[] = {"mem", "svg", "html", "mprof", "massif"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(format, names[i]))
            return i;
    PyErr_Format(PyExc_ValueError, "pyrometer: a timeline is written as mem, svg, html, mprof "
                 "or massif, not '%s'", format);
    return -1;
}

static int write_as(int format, PyObject *out, const pyro_timeline_view *v, const char *title)
{
    switch (format) {
    case 0: return pyro_timeline_file_write(out, v);
    case 3: return pyro_timeline_mprof_write(out, v);
    case 4: return pyro_timeline_massif_write(out, v);
    default: return pyro_timeline_plot_write(out, v, title, format == 2);
    }
}

/* A title argument (None or a str) as UTF-8: 0 and *utf8 (NULL for None),
 * or -1 + exception. */
static int title_of(PyObject *title, char **utf8)
{
    *utf8 = NULL;
    if (title == Py_None)
        return 0;
    if (!PyUnicode_Check(title)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: the title is a str");
        return -1;
    }
    return (*utf8 = pyro_utf8_dup(title, NULL)) == NULL ? -1 : 0;
}

PyObject *pyro_py_write_timeline(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "timeline", "format", "cmd", "tree", "metric", "tree_kind",
                             "title", NULL};
    PyObject *path, *timeline, *tree = Py_None, *cmd = NULL, *title = Py_None;
    const char *format = "mem", *metric = "net", *tree_kind = "net";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$sUOssO:write_timeline", kwlist, &path,
                                     &timeline, &format, &cmd, &tree, &metric, &tree_kind, &title))
        return NULL;
    int kind = !strcmp(tree_kind, "net") ? PYRO_MEM_TREE_NET
             : !strcmp(tree_kind, "peak") ? PYRO_MEM_TREE_PEAK : -1;
    if (kind < 0) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: tree_kind is 'net' or 'peak'");
        return NULL;
    }
    int which = format_of(format);
    char *title_utf8;
    if (which < 0 || title_of(title, &title_utf8) < 0)
        return NULL;
    pyro_timeline_view v;
    if (pyro_timeline_mode_view(timeline, &v) < 0) {
        PyMem_RawFree(title_utf8);
        return NULL;
    }
    int rc = 0;
    if (cmd != NULL && (v.cmd = pyro_utf8_dup(cmd, NULL)) == NULL)
        rc = -1;
    if (rc == 0 && tree != Py_None)
        rc = pyro_timeline_view_set_tree(&v, tree, metric, kind);
    if (rc == 0)
        rc = write_as(which, path, &v, title_utf8);
    pyro_timeline_view_release(&v);
    PyMem_RawFree(title_utf8);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *pyro_py_read_timeline(PyObject *module, PyObject *path)
{
    (void)module;
    pyro_timeline_view v;
    if (pyro_timeline_file_read(path, &v) < 0)
        return NULL;
    PyObject *d = pyro_timeline_view_as_dict(&v);
    pyro_timeline_view_release(&v);
    return d;
}

PyObject *pyro_py_convert_timeline(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "out", "format", "title", NULL};
    PyObject *path, *out, *title = Py_None;
    const char *format;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOs|$O:convert_timeline", kwlist, &path,
                                     &out, &format, &title))
        return NULL;
    int which = format_of(format);
    char *title_utf8;
    if (which < 0 || title_of(title, &title_utf8) < 0)
        return NULL;
    pyro_timeline_view v;
    int rc = pyro_timeline_file_read(path, &v);
    if (rc == 0) {
        rc = write_as(which, out, &v, title_utf8);
        pyro_timeline_view_release(&v);
    }
    PyMem_RawFree(title_utf8);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}
