/* lines_report.c: a line profile printed in line_profiler's layout, so that
 * its users (and their scripts) read it as before:
 *
 *   Timer unit: 1e-06 s
 *
 *   Total time: 7.8453 s
 *   File: jset_profile.py
 *   Function: calc_point_val at line 42
 *
 *   Line #      Hits         Time  Per Hit   % Time  Line Contents
 *   ==============================================================
 *       45     10000       5700.0      0.6      0.1      no_iter = 0
 *
 * Columns are 6, 9, 12, 8 and 8 wide and grow to fit their widest cell;
 * a number too wide for its column switches to %5.3g as line_profiler does.
 * Functions come in (file, line, name) order.  The unit is the caller's,
 * or chosen (choose_unit) so that a line that ran never reads 0.0 per hit. */
#include "core/text_out.h"
#include "formats/lines_file.h"
#include "formats/terminal_style.h"
#include "model/line_view.h"

#include <ctype.h>
#include <limits.h>

#include <stdio.h>

enum { COL_LINE, COL_HITS, COL_TIME, COL_PERHIT, COL_PERCENT, NCOLS };
static const int default_width[NCOLS] = {6, 9, 12, 8, 8};

typedef struct {
    long long line;
    char cell[NCOLS - 1][48];   /* hits, time, per hit, % time */
} row_cells;

/* Output: a list of str pieces, joined at the end. */
typedef struct {
    PyObject *parts;
} out_text;

static int put_str(out_text *o, PyObject *s)
{
    if (s == NULL)
        return -1;
    int rc = PyList_Append(o->parts, s);
    Py_DECREF(s);
    return rc;
}

static int put(out_text *o, const char *ascii)
{
    return put_str(o, PyUnicode_FromString(ascii));
}

static int putf(out_text *o, const char *fmt, ...)
{
    char buf[512];
    va_list va;
    va_start(va, fmt);
    vsnprintf(buf, sizeof(buf), fmt, va);
    va_end(va);
    return put(o, buf);
}

/* One number as line_profiler shows it: "%5.1f", or "%5.3g" past `width`. */
static void format_number(char *out, size_t size, double v, int width)
{
    snprintf(out, size, "%5.1f", v);
    if ((int)strlen(out) > width)
        snprintf(out, size, "%5.3g", v);
}

/* Function indices in (file, line, name) order, through a sorted list of
 * tuples: a new list of (file, line, name, index), or NULL + exception. */
static PyObject *sort_functions(const pyro_line_view *v)
{
    PyObject *decorated = PyList_New((Py_ssize_t)v->nfuncs);
    if (decorated == NULL)
        return NULL;
    for (size_t i = 0; i < v->nfuncs; i++) {
        const pyro_line_function *f = &v->funcs[i];
        PyObject *t = Py_BuildValue("(OLOn)", f->file, f->first_line, f->name, (Py_ssize_t)i);
        if (t == NULL) {
            Py_DECREF(decorated);
            return NULL;
        }
        PyList_SET_ITEM(decorated, (Py_ssize_t)i, t);
    }
    if (PyList_Sort(decorated) < 0) {
        Py_CLEAR(decorated);
    }
    return decorated;
}

/* How the report names and scales its value column: line_profiler's words
 * for time; the metric's own name and unit for anything else. */
typedef struct {
    char title[40];            /* "Time", "Bytes" */
    char share[48];            /* "% Time" */
    double to_shown;           /* shown value per integer */
    int timed;
    int color;                 /* rows coloured by their share of `whole` */
    long long whole;           /* every function's value added up */
} value_column;

static void describe_column(const pyro_line_metric *m, double out_unit, value_column *c)
{
    c->timed = m->unit == PYRO_UNIT_SECONDS;
    if (c->timed) {
        strcpy(c->title, "Time");
        c->to_shown = m->scale / out_unit;
    }
    else {
        snprintf(c->title, sizeof(c->title), "%s", m->name);
        c->title[0] = (char)toupper((unsigned char)c->title[0]);
        c->to_shown = m->scale;
    }
    snprintf(c->share, sizeof(c->share), "%% %s", c->title);
}

static int show_function(out_text *o, const pyro_line_view *v, const pyro_line_function *fn,
                         const value_column *col, int show_zero)
{
    PyObject *file = fn->file, *name = fn->name, *source = fn->source;
    long long first = fn->first_line;
    const pyro_line_row *trows = v->rows + fn->first_row;
    Py_ssize_t nt = (Py_ssize_t)fn->nrows;
    const pyro_line_metric *m = &v->metrics[0];

    long long total = 0, hits_all = 0, min_line = first, max_line = first;
    for (Py_ssize_t i = 0; i < nt; i++) {
        long long line = trows[i].line;
        hits_all += trows[i].hits;
        total += trows[i].value[0];
        if (line < min_line)
            min_line = line;
        if (line > max_line)
            max_line = line;
    }
    if (hits_all == 0 && !show_zero)
        return 0;

    double scalar = col->to_shown;
    row_cells *rows = PyMem_Calloc(nt ? (size_t)nt : 1, sizeof(*rows));
    if (rows == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int width[NCOLS];
    memcpy(width, default_width, sizeof(width));
    for (Py_ssize_t i = 0; i < nt; i++) {
        long long hits = trows[i].hits;
        long long time = trows[i].value[0];
        row_cells *r = &rows[i];
        r->line = trows[i].line;
        snprintf(r->cell[0], sizeof(r->cell[0]), "%lld", hits);
        if ((int)strlen(r->cell[0]) > default_width[COL_HITS])
            snprintf(r->cell[0], sizeof(r->cell[0]), "%g", (double)hits);
        format_number(r->cell[1], sizeof(r->cell[1]), (double)time * scalar, default_width[COL_TIME]);
        if (hits > 0)
            format_number(r->cell[2], sizeof(r->cell[2]), (double)time * scalar / (double)hits,
                          default_width[COL_PERHIT]);
        else
            r->cell[2][0] = '\0';
        if (total != 0)
            snprintf(r->cell[3], sizeof(r->cell[3]), "%5.1f",
                     (double)(100 * time) / (double)total);
        else
            r->cell[3][0] = '\0';
        for (int c = 0; c < 3; c++) {   /* line_profiler widens all but % Time */
            int w = (int)strlen(r->cell[c]);
            if (w > width[c + 1])
                width[c + 1] = w;
        }
    }

    int rc = -1;
    /* Names and source lines from a file reach a terminal: control
     * characters in them are spelt \xNN. */
    PyObject *efile = pyro_escape_controls(file, 0), *ename = efile ? pyro_escape_controls(name, 0) : NULL;
    if (ename == NULL) {
        Py_XDECREF(efile);
        goto done;
    }
    int hrc = (col->timed ? putf(o, "Total time: %g s\n", (double)total * m->scale)
               : putf(o, "Total %s: %.15g %s\n", m->name, (double)total * m->scale,
                      pyro_unit_name(m->unit))) < 0
        || put_str(o, PyUnicode_FromFormat("File: %U\nFunction: %U at line %lld\n",
                                           efile, ename, first)) < 0;
    if (!hrc && source == NULL)
        hrc = put_str(o, PyUnicode_FromFormat(
            "\nCould not find the source of %U; showing the timings without it.\n", efile)) < 0;
    Py_DECREF(efile);
    Py_DECREF(ename);
    if (hrc)
        goto done;

    Py_ssize_t nsrc;
    int have_source = source != NULL;
    if (have_source)
        nsrc = PyList_GET_SIZE(source);
    else {
        /* As line_profiler does when the file is gone: blank contents. */
        nsrc = nt ? (Py_ssize_t)(max_line - (min_line < first ? min_line : first) + 1) : 1;
    }

    char head[256];
    snprintf(head, sizeof(head), "%*s %*s %*s %*s %*s  %s", width[0], "Line #", width[1], "Hits",
             width[2], col->title, width[3], "Per Hit", width[4], col->share, "Line Contents");
    size_t hl = strlen(head);
    if (putf(o, "\n%s\n", head) < 0)
        goto done;
    {
        char *rule = PyMem_Malloc(hl + 2);
        if (rule == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        memset(rule, '=', hl);
        rule[hl] = '\n';
        rule[hl + 1] = '\0';
        int prc = put(o, rule);
        PyMem_Free(rule);
        if (prc < 0)
            goto done;
    }

    /* Timings are in line order (the engine emits them so); look rows up
     * with a moving index, falling back to a scan for odd input. */
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < nsrc; i++) {
        long long line = first + i;
        row_cells *r = NULL;
        while (k < nt && rows[k].line < line)
            k++;
        if (k < nt && rows[k].line == line)
            r = &rows[k];
        else
            for (Py_ssize_t j = 0; j < nt && r == NULL; j++)
                if (rows[j].line == line)
                    r = &rows[j];
        const char *color = r != NULL && col->color && col->whole > 0
            ? pyro_heat_color((double)trows[r - rows].value[0] / (double)col->whole) : NULL;
        char left[256];
        snprintf(left, sizeof(left), "%s%*lld %*s %*s %*s %*s  ", color ? color : "", width[0],
                 line, width[1], r ? r->cell[0] : "", width[2], r ? r->cell[1] : "",
                 width[3], r ? r->cell[2] : "", width[4], r ? r->cell[3] : "");
        if (put(o, left) < 0)
            goto done;
        if (have_source) {
            if (put_str(o, pyro_escape_controls(PyList_GET_ITEM(source, i), 1)) < 0)
                goto done;
        }
        if (put(o, color ? PYRO_COLOR_RESET "\n" : "\n") < 0)
            goto done;
    }
    rc = put(o, "\n");
done:
    PyMem_Free(rows);
    return rc;
}

/* The unit of a report no one gave a unit: the largest of 1e-6 (line_profiler's
 * microseconds), 1e-7, 1e-8 and 1e-9 s in which every line that ran takes
 * at least 1.0 per hit, so that none reads 0.0 and the quickest still has
 * two digits (a trivial line takes a few tens of nanoseconds: 0.0 in
 * microseconds, and 0.1 or 0.2 in 1e-7 s tell little).  The largest, not
 * the finest, for the Time column: a line's total in nanoseconds outgrows
 * its 12 characters from 10 s on and is then only "%5.3g" (line_profiler's
 * rule).  A line that ran in no time at all reads 0.0 in any unit and does
 * not count; under 1 ns per hit, 1e-9 is the finest. */
static double choose_unit(const pyro_line_view *v)
{
    static const double units[] = {1e-6, 1e-7, 1e-8, 1e-9};
    const pyro_line_metric *m = &v->metrics[0];
    double least = 0.0;        /* the smallest time per hit, in seconds */
    if (m->unit != PYRO_UNIT_SECONDS)
        return units[0];       /* not shown: bytes and counts keep their own */
    for (size_t i = 0; i < v->nrows; i++) {
        const pyro_line_row *r = &v->rows[i];
        if (r->hits > 0 && r->value[0] > 0) {
            double per_hit = (double)r->value[0] * m->scale / (double)r->hits;
            if (least == 0.0 || per_hit < least)
                least = per_hit;
        }
    }
    size_t u = 0;
    while (u + 1 < sizeof units / sizeof units[0] && least > 0.0 && least / units[u] < 1.0)
        u++;
    return units[u];
}

PyObject *pyro_lines_text(PyObject *stats, double out_unit, int show_zero, int color)
{
    if (!(out_unit >= 0.0)) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the unit must be a positive number");
        return NULL;
    }
    pyro_line_view v;
    if (pyro_line_view_of_arg(&v, stats) < 0)
        return NULL;
    if (out_unit == 0.0)
        out_unit = choose_unit(&v);
    value_column col;
    describe_column(&v.metrics[0], out_unit, &col);
    col.color = color;
    col.whole = 0;
    for (size_t i = 0; i < v.nrows; i++)
        col.whole += v.rows[i].value[0] < LLONG_MAX - col.whole ? v.rows[i].value[0] : 0;
    out_text o = {PyList_New(0)};
    PyObject *sorted = NULL, *result = NULL;
    if (o.parts == NULL)
        goto done;
    int head = col.timed ? putf(&o, "Timer unit: %g s\n\n", out_unit)
                         : putf(&o, "Unit: %s\n\n", pyro_unit_name(v.metrics[0].unit));
    if (head < 0 || (sorted = sort_functions(&v)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sorted); i++) {
        PyObject *t = PyList_GET_ITEM(sorted, i);
        Py_ssize_t index = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 3));
        if (show_function(&o, &v, &v.funcs[index], &col, show_zero) < 0)
            goto done;
    }
    PyObject *empty = PyUnicode_FromString("");
    if (empty != NULL) {
        result = PyUnicode_Join(empty, o.parts);
        Py_DECREF(empty);
    }
done:
    Py_XDECREF(sorted);
    Py_XDECREF(o.parts);
    pyro_line_view_release(&v);
    return result;
}
