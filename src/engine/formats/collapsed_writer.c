/* collapsed_writer.c: the call tree as collapsed stacks, the text that
 * flamegraph.pl, Pyroscope and speedscope import: one line per call path,
 *
 *     main (app.py:10);parse (app.py:42);{built-in method builtins.len} 1234
 *
 * root first, frames as pyrometer names them (pyro_frame_name, with ';'
 * and line breaks replaced), then the path's self time in whole
 * microseconds.  The values are rounded along the running sum, so that the
 * lines add up to the total self time rounded once (each line is off by
 * less than a microsecond); paths that come to 0 are left out. */
#include "core/text_out.h"
#include "model/tree_view.h"
#include "formats/stack_writers.h"

#include <math.h>

PyObject *pyro_py_write_collapsed(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", NULL};
    PyObject *path_obj, *tree, *path_bytes = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:write_collapsed", kwlist,
                                     &path_obj, &tree))
        return NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    pyro_tree_view v;
    if (pyro_tree_view_of_arg(&v, tree) < 0) {
        Py_DECREF(path_bytes);
        return NULL;
    }
    PyObject *result = NULL;
    pyro_text out = PYRO_TEXT_INIT;
    uint32_t *depth = pyro_tree_depths(&v);
    uint32_t *path = PyMem_RawMalloc((v.n + 1) * sizeof(*path));
    char **names = depth != NULL ? pyro_tree_frame_names(&v, 1) : NULL;
    size_t *name_len = PyMem_RawMalloc((v.nfuncs + 1) * sizeof(*name_len));
    if (names == NULL || path == NULL || name_len == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t f = 0; f < v.nfuncs; f++)
        name_len[f] = strlen(names[f]);
    double running = 0.0;      /* microseconds so far, exactly */
    long long written = 0;     /* what the lines so far add up to */
    for (size_t i = 0; i < v.n; i++) {
        running += v.self_time[i] * 1e6;
        long long value = llround(running) - written;
        if (value <= 0)
            continue;
        written += value;
        pyro_tree_path(&v, i, depth[i], path);
        for (uint32_t d = 0; d <= depth[i]; d++) {
            if (d > 0)
                pyro_text_char(&out, ';');
            pyro_text_put(&out, names[path[d]], name_len[path[d]]);
        }
        pyro_text_char(&out, ' ');
        pyro_text_ll(&out, value);
        pyro_text_char(&out, '\n');
    }
    if (pyro_text_finish(&out, PyBytes_AS_STRING(path_bytes)) == 0)
        result = Py_NewRef(Py_None);
done:
    pyro_text_free(&out);
    pyro_tree_free_names(&v, names);
    PyMem_RawFree(name_len);
    PyMem_RawFree(path);
    PyMem_RawFree(depth);
    pyro_tree_view_release(&v);
    Py_DECREF(path_bytes);
    return result;
}
