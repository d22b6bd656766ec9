/* collapsed_writer.c: the call tree as collapsed stacks, the text that
 * flamegraph.pl, Pyroscope and speedscope import: one line per call path,
 *
 *     main (app.py:10);parse (app.py:42);{built-in method builtins.len} 1234
 *
 * root first, frames as pyrometer names them (pyro_frame_name, with ';'
 * and line breaks replaced), then the path's self value in whole units
 * (microseconds for time; bytes, counts for other metrics).  The values are rounded along the running sum, so that the
 * lines add up to the total self time rounded once (each line is off by
 * less than a microsecond); paths that come to 0 are left out. */
#include "formats/stack_writers.h"

#include <math.h>

int pyro_write_collapsed(const pyro_stack_view *v, pyro_text *out)
{
    int rc = -1;
    uint32_t *depth = pyro_stack_depths(v);
    uint32_t *path = PyMem_RawMalloc((v->n + 1) * sizeof(*path));
    char **names = depth != NULL ? pyro_stack_frame_names(v, 1) : NULL;
    size_t *name_len = PyMem_RawMalloc((v->nfuncs + 1) * sizeof(*name_len));
    if (names == NULL || path == NULL || name_len == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (size_t f = 0; f < v->nfuncs; f++)
        name_len[f] = strlen(names[f]);
    double scale = pyro_unit_scale(v->unit, 1e6);
    double running = 0.0;      /* whole units so far, exactly */
    long long written = 0;     /* what the lines so far add up to */
    for (size_t i = 0; i < v->n; i++) {
        running += v->self[i] * scale;
        long long value = llround(running) - written;
        if (value <= 0)
            continue;
        written += value;
        pyro_stack_path(v, i, depth[i], path);
        for (uint32_t d = 0; d <= depth[i]; d++) {
            if (d > 0)
                pyro_text_char(out, ';');
            pyro_text_put(out, names[path[d]], name_len[path[d]]);
        }
        pyro_text_char(out, ' ');
        pyro_text_ll(out, value);
        pyro_text_char(out, '\n');
    }
    rc = 0;
done:
    pyro_stack_free_names(v, names);
    PyMem_RawFree(name_len);
    PyMem_RawFree(path);
    PyMem_RawFree(depth);
    return rc;
}
