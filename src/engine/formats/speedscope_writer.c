/* speedscope_writer.c: the call tree in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json), a "sampled"
 * profile:
 *
 *   - shared.frames: one frame per function, {name, file, line}; a
 *     built-in has only its name, as pstats prints it;
 *   - samples: for every call path with self time, the stack of frame
 *     indexes from the root; weights: that self time, in "seconds" or
 *     "microseconds";
 *   - startValue 0, endValue the sum of the weights.
 *
 * Speedscope's importer adds each stack's weight to its last frame, so its
 * views show the tree's self and total times. */
#include "core/text_out.h"
#include "model/tree_view.h"
#include "formats/stack_writers.h"

static void json_str(pyro_text *out, const char *s)
{
    pyro_text_char(out, '"');
    pyro_text_json(out, s, strlen(s));
    pyro_text_char(out, '"');
}

/* One frame: the function's own name, file and line, or for a built-in
 * the name pstats shows. */
static int write_frame(pyro_text *out, PyObject *label, const char *shown)
{
    long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(label, 1));
    if (line == -1 && PyErr_Occurred())
        return -1;
    PyObject *file = PyTuple_GET_ITEM(label, 0);
    int builtin = line == 0 && PyUnicode_CompareWithASCIIString(file, "~") == 0;
    pyro_text_str(out, "{\"name\":");
    if (builtin) {
        json_str(out, shown);
        pyro_text_char(out, '}');
        return 0;
    }
    char *name = pyro_utf8_dup(PyTuple_GET_ITEM(label, 2), NULL);
    char *path = name != NULL ? pyro_utf8_dup(file, NULL) : NULL;
    if (path == NULL) {
        PyMem_RawFree(name);
        return -1;
    }
    json_str(out, name);
    pyro_text_str(out, ",\"file\":");
    json_str(out, path);
    if (line > 0) {
        pyro_text_str(out, ",\"line\":");
        pyro_text_ll(out, line);
    }
    pyro_text_char(out, '}');
    PyMem_RawFree(name);
    PyMem_RawFree(path);
    return 0;
}

PyObject *pyro_py_write_speedscope(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", "name", "unit", "exporter", NULL};
    PyObject *path_obj, *tree, *path_bytes = NULL, *name_obj = NULL, *exporter_obj = NULL;
    const char *unit = "seconds";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$UsU:write_speedscope", kwlist,
                                     &path_obj, &tree, &name_obj, &unit, &exporter_obj))
        return NULL;
    double scale;
    if (strcmp(unit, "seconds") == 0)
        scale = 1.0;
    else if (strcmp(unit, "microseconds") == 0)
        scale = 1e6;
    else {
        PyErr_Format(PyExc_ValueError,
                     "pyrometer: unknown unit '%s' (choose seconds or microseconds)", unit);
        return NULL;
    }
    if (!PyUnicode_FSConverter(path_obj, &path_bytes))
        return NULL;
    pyro_tree_view v;
    if (pyro_tree_view_of_arg(&v, tree) < 0) {
        Py_DECREF(path_bytes);
        return NULL;
    }
    PyObject *result = NULL;
    pyro_text out = PYRO_TEXT_INIT;
    char *name = NULL, *exporter = NULL, **shown = NULL;
    uint32_t *depth = NULL, *path = NULL;
    if ((name_obj != NULL && (name = pyro_utf8_dup(name_obj, NULL)) == NULL)
        || (exporter_obj != NULL && (exporter = pyro_utf8_dup(exporter_obj, NULL)) == NULL))
        goto done;
    depth = pyro_tree_depths(&v);
    path = PyMem_RawMalloc((v.n + 1) * sizeof(*path));
    shown = depth != NULL ? pyro_tree_frame_names(&v, 0) : NULL;
    if (shown == NULL || path == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }

    pyro_text_str(&out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n");
    pyro_text_str(&out, "\"exporter\":");
    json_str(&out, exporter != NULL ? exporter : "pyrometer");
    pyro_text_str(&out, ",\n\"name\":");
    json_str(&out, name != NULL ? name : "profile");
    pyro_text_str(&out, ",\n\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[\n");
    for (size_t f = 0; f < v.nfuncs; f++) {
        if (f > 0)
            pyro_text_str(&out, ",\n");
        if (write_frame(&out, PyList_GET_ITEM(v.funcs, (Py_ssize_t)f), shown[f]) < 0)
            goto done;
    }
    pyro_text_str(&out, "]},\n\"profiles\":[{\"type\":\"sampled\",\"name\":");
    json_str(&out, name != NULL ? name : "profile");
    pyro_text_str(&out, ",\"unit\":");
    json_str(&out, unit);
    pyro_text_str(&out, ",\n\"samples\":[\n");
    double end = 0.0;
    int first = 1;
    for (size_t i = 0; i < v.n; i++) {
        if (!(v.self_time[i] > 0))
            continue;
        pyro_tree_path(&v, i, depth[i], path);
        pyro_text_str(&out, first ? "[" : ",\n[");
        first = 0;
        for (uint32_t d = 0; d <= depth[i]; d++) {
            if (d > 0)
                pyro_text_char(&out, ',');
            pyro_text_ll(&out, (long long)path[d]);
        }
        pyro_text_char(&out, ']');
    }
    pyro_text_str(&out, "],\n\"weights\":[");
    first = 1;
    for (size_t i = 0; i < v.n; i++) {
        if (!(v.self_time[i] > 0))
            continue;
        double w = v.self_time[i] * scale;
        end += w;
        if (!first)
            pyro_text_char(&out, ',');
        first = 0;
        pyro_text_double(&out, w);
    }
    pyro_text_str(&out, "],\n\"startValue\":0,\"endValue\":");
    pyro_text_double(&out, end);
    pyro_text_str(&out, "}]}\n");
    if (pyro_text_finish(&out, PyBytes_AS_STRING(path_bytes)) == 0)
        result = Py_NewRef(Py_None);
done:
    pyro_text_free(&out);
    PyMem_RawFree(name);
    PyMem_RawFree(exporter);
    pyro_tree_free_names(&v, shown);
    PyMem_RawFree(path);
    PyMem_RawFree(depth);
    pyro_tree_view_release(&v);
    Py_DECREF(path_bytes);
    return result;
}
