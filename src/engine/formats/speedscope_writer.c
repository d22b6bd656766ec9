/* speedscope_writer.c: the call tree in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json), a "sampled"
 * profile:
 *
 *   - shared.frames: one frame per function, {name, file, line}; a
 *     built-in has only its name, as pstats prints it;
 *   - samples: for every call path with a self value, the stack of frame
 *     indexes from the root; weights: that value, in "seconds" or
 *     "microseconds" for time, "bytes", or "none" for a count;
 *   - startValue 0, endValue the sum of the weights.
 *
 * Speedscope's importer adds each stack's weight to its last frame, so its
 * views show the tree's self and total times. */
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

/* speedscope's name of a metric's unit. */
static const char *speedscope_unit(const pyro_stack_view *v, int microseconds)
{
    switch (v->unit) {
    case PYRO_UNIT_SECONDS: return microseconds ? "microseconds" : "seconds";
    case PYRO_UNIT_BYTES: return "bytes";
    default: return "none";
    }
}

int pyro_write_speedscope(const pyro_stack_view *v, const pyro_speedscope_opts *o,
                          pyro_text *out)
{
    int rc = -1;
    const char *name = o->name != NULL ? o->name : "profile";
    double scale = v->unit == PYRO_UNIT_SECONDS && o->microseconds ? 1e6 : 1.0;
    char **shown = NULL;
    uint32_t *depth = pyro_stack_depths(v);
    uint32_t *path = PyMem_RawMalloc((v->n + 1) * sizeof(*path));
    shown = depth != NULL ? pyro_stack_frame_names(v, 0) : NULL;
    if (shown == NULL || path == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    pyro_text_str(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n");
    pyro_text_str(out, "\"exporter\":");
    json_str(out, o->exporter != NULL ? o->exporter : "pyrometer");
    pyro_text_str(out, ",\n\"name\":");
    json_str(out, name);
    pyro_text_str(out, ",\n\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[\n");
    for (size_t f = 0; f < v->nfuncs; f++) {
        if (f > 0)
            pyro_text_str(out, ",\n");
        if (write_frame(out, PyList_GET_ITEM(v->funcs, (Py_ssize_t)f), shown[f]) < 0)
            goto done;
    }
    pyro_text_str(out, "]},\n\"profiles\":[{\"type\":\"sampled\",\"name\":");
    json_str(out, name);
    pyro_text_str(out, ",\"unit\":");
    json_str(out, speedscope_unit(v, o->microseconds));
    pyro_text_str(out, ",\n\"samples\":[\n");
    double end = 0.0;
    int first = 1;
    for (size_t i = 0; i < v->n; i++) {
        if (!(v->self[i] > 0))
            continue;
        pyro_stack_path(v, i, depth[i], path);
        pyro_text_str(out, first ? "[" : ",\n[");
        first = 0;
        for (uint32_t d = 0; d <= depth[i]; d++) {
            if (d > 0)
                pyro_text_char(out, ',');
            pyro_text_ll(out, (long long)path[d]);
        }
        pyro_text_char(out, ']');
    }
    pyro_text_str(out, "],\n\"weights\":[");
    first = 1;
    for (size_t i = 0; i < v->n; i++) {
        if (!(v->self[i] > 0))
            continue;
        double w = v->self[i] * scale;
        end += w;
        if (!first)
            pyro_text_char(out, ',');
        first = 0;
        pyro_text_double(out, w);
    }
    pyro_text_str(out, "],\n\"startValue\":0,\"endValue\":");
    pyro_text_double(out, end);
    pyro_text_str(out, "}]}\n");
    rc = 0;
done:
    pyro_stack_free_names(v, shown);
    PyMem_RawFree(path);
    PyMem_RawFree(depth);
    return rc;
}
