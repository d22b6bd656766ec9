/* lines_diff.c: two line profiles compared line by line (see
 * lines_diff.h).
 *
 *   Function: parse (app.py:12)    total 5.300 s -> 1.500 s (-71.7%)
 *
 *     Line   Hits old   Hits new   Time old   Time new    Change  Line Contents
 *       14      10000      10000      5.300      1.500    -71.7%  x = compute(y)
 *
 * Functions meet by name and file name, then by name alone; lines by their
 * text (stripped), in
 * order, so that an edit above a line, which moves it, does not part it
 * from its old self.  A line on one side only reads "-" on the other.
 * Functions are ordered by the change of their total time, largest first. */
#include "formats/lines_diff.h"
#include "core/text_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const pyro_line_view *v;
    size_t f;                  /* function index */
} side_fn;

/* The text of a row's source line, stripped (a new str), or NULL + no
 * error when the source is not there. */
static PyObject *line_text(const pyro_line_view *v, const pyro_line_function *fn,
                           long long line)
{
    if (fn->source == NULL)
        return NULL;
    long long at = line - fn->first_line;
    if (at < 0 || at >= PyList_GET_SIZE(fn->source))
        return NULL;
    (void)v;
    PyObject *s = PyList_GET_ITEM(fn->source, (Py_ssize_t)at);
    if (!PyUnicode_Check(s))
        return NULL;
    return PyObject_CallMethod(s, "strip", NULL);
}

static double fn_total(const pyro_line_view *v, const pyro_line_function *fn)
{
    double sum = 0.0;
    for (size_t r = fn->first_row; r < fn->first_row + fn->nrows; r++)
        sum += (double)v->rows[r].value[0] * v->metrics[0].scale;
    return sum;
}

/* Same function: one name and one file name (its folder may differ). */
static int same_function(const pyro_line_function *a, const pyro_line_function *b)
{
    if (PyUnicode_Compare(a->name, b->name) != 0)
        return 0;
    const char *fa = PyUnicode_AsUTF8(a->file), *fb = PyUnicode_AsUTF8(b->file);
    if (fa == NULL || fb == NULL) {
        PyErr_Clear();
        return PyUnicode_Compare(a->file, b->file) == 0;
    }
    const char *ba = strrchr(fa, '/'), *bb = strrchr(fb, '/');
    return strcmp(ba ? ba + 1 : fa, bb ? bb + 1 : fb) == 0;
}

typedef struct {
    long long line;            /* the new side's line number, or the old's when gone */
    int has_old, has_new;
    long long hits_old, hits_new;
    double time_old, time_new;
    PyObject *text;            /* owned, or NULL */
} diff_line;

static void put_pct(pyro_text *t, double old, double new)
{
    if (old > 0.0) {
        double pct = (new - old) / old * 100.0;
        if (fabs(pct) < 1e4)
            pyro_text_printf(t, " %+8.1f%%", pct);
        else
            pyro_text_printf(t, " %+8.0e%%", pct);
    } else {
        pyro_text_printf(t, " %9s", new > 0.0 ? "new" : "-");
    }
}

static void put_cell_ll(pyro_text *t, int present, long long x)
{
    if (present)
        pyro_text_printf(t, " %10lld", x);
    else
        pyro_text_printf(t, " %10s", "-");
}

static void put_cell_time(pyro_text *t, int present, double x, double scale)
{
    if (!present) {
        pyro_text_printf(t, " %10s", "-");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", x / scale);
    if (strlen(buf) > 10)
        snprintf(buf, sizeof buf, "%.3e", x / scale);
    pyro_text_printf(t, " %10s", buf);
}

static int put_text(pyro_text *t, PyObject *s)
{
    if (s == NULL)
        return 0;
    PyObject *clean = pyro_escape_controls(s, 1);
    if (clean == NULL)
        return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(clean, &n);
    if (u == NULL) {
        PyErr_Clear();
        u = "?";
        n = 1;
    }
    pyro_text_put(t, u, (size_t)n);
    Py_DECREF(clean);
    return 0;
}

/* The compared rows of one pair (either side may be absent). */
static int one_function(pyro_text *t, const pyro_line_view *a, const pyro_line_function *fa,
                        const pyro_line_view *b, const pyro_line_function *fb, double scale,
                        const char *unit)
{
    size_t na = fa ? fa->nrows : 0, nb = fb ? fb->nrows : 0;
    diff_line *rows = PyMem_RawCalloc(na + nb + 1, sizeof(*rows));
    char *used = PyMem_RawCalloc(na + 1, 1);
    size_t n = 0;
    int rc = -1;
    if (rows == NULL || used == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject **old_text = PyMem_RawCalloc(na + 1, sizeof(PyObject *));
    if (old_text == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < na; i++) {
        old_text[i] = line_text(a, fa, a->rows[fa->first_row + i].line);
        if (old_text[i] == NULL && PyErr_Occurred())
            goto free_texts;
    }
    for (size_t j = 0; j < nb; j++) {
        const pyro_line_row *r = &b->rows[fb->first_row + j];
        diff_line *d = &rows[n++];
        d->line = r->line;
        d->has_new = 1;
        d->hits_new = r->hits;
        d->time_new = (double)r->value[0] * b->metrics[0].scale;
        d->text = line_text(b, fb, r->line);
        if (d->text == NULL && PyErr_Occurred())
            goto free_texts;
        /* the first unused old line of the same text (or, without
         * sources, of the same number) */
        for (size_t i = 0; i < na; i++) {
            if (used[i])
                continue;
            int eq = d->text != NULL && old_text[i] != NULL
                ? PyUnicode_Compare(d->text, old_text[i]) == 0
                : a->rows[fa->first_row + i].line == r->line;
            if (PyErr_Occurred())
                goto free_texts;
            if (eq) {
                used[i] = 1;
                d->has_old = 1;
                d->hits_old = a->rows[fa->first_row + i].hits;
                d->time_old = (double)a->rows[fa->first_row + i].value[0] * a->metrics[0].scale;
                break;
            }
        }
    }
    for (size_t i = 0; i < na; i++) {
        if (used[i])
            continue;
        diff_line *d = &rows[n++];
        d->line = a->rows[fa->first_row + i].line;
        d->has_old = 1;
        d->hits_old = a->rows[fa->first_row + i].hits;
        d->time_old = (double)a->rows[fa->first_row + i].value[0] * a->metrics[0].scale;
        d->text = old_text[i];
        old_text[i] = NULL;
    }
    const pyro_line_function *named = fb ? fb : fa;
    double told = fa ? fn_total(a, fa) : 0.0, tnew = fb ? fn_total(b, fb) : 0.0;
    pyro_text_str(t, "Function: ");
    if (put_text(t, named->name) < 0)
        goto free_texts;
    pyro_text_str(t, " (");
    if (put_text(t, named->file) < 0)
        goto free_texts;
    pyro_text_printf(t, ":%lld)    total ", named->first_line);
    put_cell_time(t, fa != NULL, told, scale);
    pyro_text_printf(t, " %s ->", unit);
    put_cell_time(t, fb != NULL, tnew, scale);
    pyro_text_printf(t, " %s", unit);
    if (fa == NULL)
        pyro_text_str(t, "  (new function)");
    else if (fb == NULL)
        pyro_text_str(t, "  (gone)");
    else
        put_pct(t, told, tnew);
    pyro_text_printf(t, "\n\n  %6s %10s %10s %10s %10s %9s  %s\n", "Line", "Hits old",
                     "Hits new", "Time old", "Time new", "Change", "Line Contents");
    for (size_t k = 0; k < n; k++) {
        diff_line *d = &rows[k];
        pyro_text_printf(t, "  %6lld", d->line);
        put_cell_ll(t, d->has_old, d->hits_old);
        put_cell_ll(t, d->has_new, d->hits_new);
        put_cell_time(t, d->has_old, d->time_old, scale);
        put_cell_time(t, d->has_new, d->time_new, scale);
        if (d->has_old && d->has_new)
            put_pct(t, d->time_old, d->time_new);
        else
            pyro_text_printf(t, " %9s", d->has_new ? "new" : "gone");
        pyro_text_str(t, "  ");
        if (put_text(t, d->text) < 0)
            goto free_texts;
        pyro_text_char(t, '\n');
    }
    pyro_text_char(t, '\n');
    rc = 0;
free_texts:
    for (size_t i = 0; i < na; i++)
        Py_XDECREF(old_text[i]);
    PyMem_RawFree(old_text);
done:
    for (size_t k = 0; rows != NULL && k < n; k++)
        Py_XDECREF(rows[k].text);
    PyMem_RawFree(rows);
    PyMem_RawFree(used);
    return rc;
}

typedef struct {
    Py_ssize_t a, b;           /* function indices, -1: not on that side */
    double change;
} fn_pair;

static int by_change(const void *x, const void *y)
{
    double p = ((const fn_pair *)x)->change, q = ((const fn_pair *)y)->change;
    return p < q ? 1 : p > q ? -1 : 0;
}

PyObject *pyro_lines_diff(const pyro_line_view *a, const pyro_line_view *b, PyObject *old_name,
                          PyObject *new_name)
{
    if (a->nmetrics == 0 || b->nmetrics == 0 || a->metrics[0].unit != PYRO_UNIT_SECONDS
        || b->metrics[0].unit != PYRO_UNIT_SECONDS) {
        PyErr_SetString(PyExc_ValueError,
                        "pyrometer: only line profiles of time compare line by line");
        return NULL;
    }
    fn_pair *pairs = PyMem_RawMalloc((a->nfuncs + b->nfuncs + 1) * sizeof(*pairs));
    char *taken = PyMem_RawCalloc(a->nfuncs + 1, 1);
    pyro_text t = PYRO_TEXT_INIT;
    PyObject *result = NULL;
    size_t np = 0;
    if (pairs == NULL || taken == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    double most = 0.0;
    for (size_t j = 0; j < b->nfuncs; j++) {
        fn_pair p = {-1, (Py_ssize_t)j, 0.0};
        for (size_t i = 0; i < a->nfuncs; i++)
            if (!taken[i] && same_function(&a->funcs[i], &b->funcs[j])) {
                taken[i] = 1;
                p.a = (Py_ssize_t)i;
                break;
            }
        pairs[np++] = p;
    }
    /* then by name alone (another file name: a renamed script, two
     * versions side by side) */
    for (size_t k = 0; k < np; k++) {
        if (pairs[k].a >= 0)
            continue;
        for (size_t i = 0; i < a->nfuncs; i++)
            if (!taken[i] && PyUnicode_Compare(a->funcs[i].name, b->funcs[pairs[k].b].name) == 0) {
                taken[i] = 1;
                pairs[k].a = (Py_ssize_t)i;
                break;
            }
        if (PyErr_Occurred())
            goto done;
    }
    for (size_t i = 0; i < a->nfuncs; i++)
        if (!taken[i])
            pairs[np++] = (fn_pair){(Py_ssize_t)i, -1, 0.0};
    for (size_t k = 0; k < np; k++) {
        double x = pairs[k].a >= 0 ? fn_total(a, &a->funcs[pairs[k].a]) : 0.0;
        double y = pairs[k].b >= 0 ? fn_total(b, &b->funcs[pairs[k].b]) : 0.0;
        pairs[k].change = fabs(y - x);
        most = x > most ? x : most;
        most = y > most ? y : most;
    }
    qsort(pairs, np, sizeof(*pairs), by_change);
    double scale = most >= 1.0 ? 1.0 : most >= 1e-3 ? 1e-3 : 1e-6;
    const char *unit = most >= 1.0 ? "s" : most >= 1e-3 ? "ms" : "us";
    pyro_text_str(&t, "Old: ");
    if (put_text(&t, old_name) < 0)
        goto done;
    pyro_text_str(&t, "\nNew: ");
    if (put_text(&t, new_name) < 0)
        goto done;
    /* no grand total: a function's lines hold the time of the functions it
     * calls, which may be profiled too */
    pyro_text_printf(&t, "\n\nTimes in %s; functions by the change of their time.\n\n", unit);
    for (size_t k = 0; k < np; k++)
        if (one_function(&t, a, pairs[k].a >= 0 ? &a->funcs[pairs[k].a] : NULL, b,
                         pairs[k].b >= 0 ? &b->funcs[pairs[k].b] : NULL, scale, unit) < 0)
            goto done;
    if (t.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyUnicode_DecodeUTF8(t.data ? t.data : "", (Py_ssize_t)t.len, "surrogatepass");
done:
    pyro_text_free(&t);
    PyMem_RawFree(pairs);
    PyMem_RawFree(taken);
    return result;
}
