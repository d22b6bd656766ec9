/* lines_memory_report.c: a line profile with memory printed in
 * memory_profiler's layout, with pyrometer's exact columns beside it:
 *
 *   Filename: prog.py
 *
 *   Line #    Mem usage    Increment  Occurrences    Allocated     Blocks   Line Contents
 *   ======================================================================================
 *        4   48.316 MiB    7.629 MiB            1    7.629 MiB          2       a = [1] * n
 *
 * memory_profiler reads the RSS before and after each line; here every
 * column is counted from the allocator hooks, so no line reads a negative
 * or a page-rounded number:
 *   Increment    net bytes: what the line allocated (with what functions
 *                it called that are not selected) and was still alive when
 *                profiling stopped;
 *   Mem usage    the RSS when profiling began plus the most bytes alive
 *                (of those allocated since) when the line allocated;
 *   Occurrences  the line's hits;
 *   Allocated    every byte it allocated, freed since or not;
 *   Blocks       the blocks it allocated. */
#include "core/text_out.h"
#include "formats/lines_file.h"
#include "model/line_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int hits, allocated, net, blocks, usage;   /* metric indices, -1 when absent */
} memory_columns;

static int index_of(const pyro_line_view *v, const char *name)
{
    for (size_t m = 0; m < v->nmetrics; m++)
        if (strcmp(v->metrics[m].name, name) == 0)
            return (int)m;
    return -1;
}

static void mib(char *out, size_t size, double bytes)
{
    snprintf(out, size, "%.3f MiB", bytes / 1048576.0);
}

static int put(PyObject *parts, PyObject *s)
{
    if (s == NULL)
        return -1;
    int rc = PyList_Append(parts, s);
    Py_DECREF(s);
    return rc;
}

static int show_function(PyObject *parts, const pyro_line_view *v, const pyro_line_function *fn,
                         const memory_columns *mc, double rss_start)
{
    const pyro_line_row *rows = v->rows + fn->first_row;
    size_t nrows = fn->nrows;
    PyObject *efile = pyro_escape_controls(fn->file, 0);
    if (efile == NULL)
        return -1;
    int rc = put(parts, PyUnicode_FromFormat("Filename: %U\n\n", efile));
    Py_DECREF(efile);
    if (rc < 0)
        return -1;
    char head[200];
    snprintf(head, sizeof(head), "%6s %12s %12s  %11s  %11s %10s   %s", "Line #", "Mem usage",
             "Increment", "Occurrences", "Allocated", "Blocks", "Line Contents");
    size_t hl = strlen(head);
    char *rule = PyMem_Malloc(hl + 1);
    if (rule == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(rule, '=', hl);
    rule[hl] = '\0';
    rc = put(parts, PyUnicode_FromFormat("%s\n%s\n", head, rule));
    PyMem_Free(rule);
    if (rc < 0)
        return -1;
    /* Every source line, as memory_profiler prints the whole function;
     * without the source, the lines that have rows. */
    PyObject *source = fn->source;
    long long first = fn->first_line, last = first - 1;
    if (source != NULL)
        last = first + PyList_GET_SIZE(source) - 1;
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].line > last && source == NULL)
            last = rows[i].line;
    size_t k = 0;
    for (long long line = first; line <= last; line++) {
        const pyro_line_row *r = NULL;
        while (k < nrows && rows[k].line < line)
            k++;
        if (k < nrows && rows[k].line == line)
            r = &rows[k];
        if (r == NULL && source == NULL)
            continue;
        char usage[32] = "", incr[32] = "", hits[32] = "", alloc[32] = "", blocks[32] = "";
        if (r != NULL) {
            const pyro_line_metric *mt = v->metrics;
            if (mc->usage >= 0 && r->value[mc->usage] > 0)
                mib(usage, sizeof(usage),
                    rss_start + (double)r->value[mc->usage] * mt[mc->usage].scale);
            mib(incr, sizeof(incr), (double)r->value[mc->net] * mt[mc->net].scale);
            snprintf(hits, sizeof(hits), "%lld", r->hits);
            mib(alloc, sizeof(alloc), (double)r->value[mc->allocated] * mt[mc->allocated].scale);
            if (mc->blocks >= 0)
                snprintf(blocks, sizeof(blocks), "%lld", r->value[mc->blocks]);
        }
        char left[200];
        snprintf(left, sizeof(left), "%6lld %12s %12s  %11s  %11s %10s   ", line, usage, incr,
                 hits, alloc, blocks);
        PyObject *text = source != NULL && line - first < PyList_GET_SIZE(source)
            ? pyro_escape_controls(PyList_GET_ITEM(source, (Py_ssize_t)(line - first)), 1)
            : PyUnicode_FromString("");
        if (put(parts, PyUnicode_FromString(left)) < 0 || put(parts, text) < 0
            || put(parts, PyUnicode_FromString("\n")) < 0)
            return -1;
    }
    return put(parts, PyUnicode_FromString("\n\n"));
}

PyObject *pyro_lines_memory_text(PyObject *stats, double rss_start)
{
    pyro_line_view v;
    if (pyro_line_view_of_arg(&v, stats) < 0)
        return NULL;
    memory_columns mc = {0, index_of(&v, "allocated"), index_of(&v, "net"),
                         index_of(&v, "allocations"), index_of(&v, "usage")};
    PyObject *parts = NULL, *result = NULL;
    if (mc.allocated < 0 || mc.net < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: this line profile holds no memory (profile with --memory)");
        goto done;
    }
    if ((parts = PyList_New(0)) == NULL)
        goto done;
    for (size_t i = 0; i < v.nfuncs; i++)
        if (show_function(parts, &v, &v.funcs[i], &mc, rss_start) < 0)
            goto done;
    PyObject *empty = PyUnicode_FromString("");
    if (empty != NULL) {
        result = PyUnicode_Join(empty, parts);
        Py_DECREF(empty);
    }
done:
    Py_XDECREF(parts);
    pyro_line_view_release(&v);
    return result;
}
