/* lines_json.c: a line profile as JSON, one entry per line that ran, for
 * scripts and notebooks (`pyrometer convert prog.lines -o lines.json`):
 *
 *   {"pyrometer": "lines", "version": 1, "meta": {...},
 *    "functions": [{"file": ..., "line": 3, "name": "work",
 *                   "lines": [{"line": 4, "hits": 1, "time": 0.0031,
 *                              "allocated_bytes": 8000056, "net_bytes": 8000056,
 *                              "allocations": 2, "peak_bytes": 8000056}, ...]}]}
 *
 * Each metric of the profile is a key of every line: a time in seconds
 * under its name, bytes under name_bytes, counts under their name. */
#include "formats/html_json.h"
#include "formats/lines_file.h"
#include "model/line_view.h"

static void metric_key(pyro_text *b, const pyro_line_metric *m)
{
    char key[48];
    snprintf(key, sizeof(key), "%s%s", m->name, m->unit == PYRO_UNIT_BYTES ? "_bytes" : "");
    pyro_text_char(b, ',');
    pyro_json_cstr(b, key);
    pyro_text_char(b, ':');
}

int pyro_lines_json(PyObject *stats, pyro_text *b)
{
    pyro_line_view v;
    if (pyro_line_view_of_arg(&v, stats) < 0)
        return -1;
    int rc = -1;
    pyro_text_str(b, "{\"pyrometer\":\"lines\",\"version\":1,\"meta\":");
    if (pyro_json_meta(b, v.meta) < 0)
        goto done;
    pyro_text_str(b, ",\"functions\":[");
    for (size_t f = 0; f < v.nfuncs; f++) {
        const pyro_line_function *fn = &v.funcs[f];
        pyro_text_str(b, f ? ",{\"file\":" : "{\"file\":");
        if (pyro_json_str(b, fn->file) < 0)
            goto done;
        pyro_text_printf(b, ",\"line\":%lld,\"name\":", fn->first_line);
        if (pyro_json_str(b, fn->name) < 0)
            goto done;
        pyro_text_str(b, ",\"lines\":[");
        for (size_t r = 0; r < fn->nrows; r++) {
            const pyro_line_row *row = &v.rows[fn->first_row + r];
            pyro_text_printf(b, "%s{\"line\":%lld,\"hits\":%lld", r ? "," : "", row->line,
                             row->hits);
            for (size_t m = 0; m < v.nmetrics; m++) {
                const pyro_line_metric *mt = &v.metrics[m];
                metric_key(b, mt);
                if (mt->unit == PYRO_UNIT_SECONDS)
                    pyro_text_double(b, (double)row->value[m] * mt->scale);
                else
                    pyro_text_printf(b, "%.0f", (double)row->value[m] * mt->scale);
            }
            pyro_text_char(b, '}');
        }
        pyro_text_str(b, "]}");
    }
    pyro_text_str(b, "]}\n");
    rc = 0;
done:
    pyro_line_view_release(&v);
    return rc;
}
