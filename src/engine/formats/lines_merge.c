/* lines_merge.c: line profiles added up (see lines_merge.h).  Each
 * function's rows are gathered from every input, then sorted by line and
 * the rows of one line added: inputs may list their lines in any order. */
#include "formats/lines_merge.h"
#include "model/line_view.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long long line, hits;
    long long value[PYRO_MAX_LINE_METRICS];
} mrow;

typedef struct {
    PyObject *file, *name, *source;   /* borrowed from the inputs */
    long long first;
    mrow *rows;
    size_t n, cap;
} mfunc;

typedef struct {
    pyro_line_view *views;
    size_t nviews;
    size_t nmetrics;
    pyro_line_metric metrics[PYRO_MAX_LINE_METRICS];   /* the finest scales */
    int version;
    mfunc *funcs;
    size_t nfuncs, cap;
    PyObject *index;           /* {(file, first line, name): function} */
} merger;

static int add_to(long long *acc, long long v)
{
    if (*acc > LLONG_MAX - v) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: the merged counts of a line overflow");
        return -1;
    }
    *acc += v;
    return 0;
}

/* The metrics every input measures, at the finest scale among them. */
static int choose_metrics(merger *m)
{
    const pyro_line_view *a = &m->views[0];
    m->nmetrics = a->nmetrics;
    memcpy(m->metrics, a->metrics, sizeof m->metrics);
    m->version = 1;
    for (size_t i = 0; i < m->nviews; i++) {
        const pyro_line_view *v = &m->views[i];
        int same = v->nmetrics == a->nmetrics;
        for (size_t k = 0; same && k < a->nmetrics; k++)
            same = v->metrics[k].unit == a->metrics[k].unit
                && strcmp(v->metrics[k].name, a->metrics[k].name) == 0;
        if (!same) {
            PyErr_Format(PyExc_ValueError, "pyrometer: profile %zu measures other things than "
                         "the first (%s, not %s): they do not add up", i + 1,
                         v->metrics[0].name, a->metrics[0].name);
            return -1;
        }
        for (size_t k = 0; k < a->nmetrics; k++)
            if (v->metrics[k].scale < m->metrics[k].scale)
                m->metrics[k].scale = v->metrics[k].scale;
        if (v->version != 1)
            m->version = 2;
    }
    return 0;
}

/* The function of (file, first, name), met before or new. */
static mfunc *function_for(merger *m, const pyro_line_function *f)
{
    PyObject *key = Py_BuildValue("(OLO)", f->file, f->first_line, f->name);
    if (key == NULL)
        return NULL;
    PyObject *at = PyDict_GetItemWithError(m->index, key);
    mfunc *out = NULL;
    if (at != NULL) {
        out = &m->funcs[PyLong_AsSsize_t(at)];
    } else if (!PyErr_Occurred()) {
        if (m->nfuncs == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 16;
            mfunc *grown = PyMem_Realloc(m->funcs, cap * sizeof(*grown));
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            m->funcs = grown;
            m->cap = cap;
        }
        PyObject *i = PyLong_FromSize_t(m->nfuncs);
        if (i == NULL || PyDict_SetItem(m->index, key, i) < 0) {
            Py_XDECREF(i);
            goto done;
        }
        Py_DECREF(i);
        out = &m->funcs[m->nfuncs++];
        *out = (mfunc){.file = f->file, .name = f->name, .first = f->first_line};
    }
    if (out != NULL && out->source == NULL)
        out->source = f->source;
done:
    Py_DECREF(key);
    return out;
}

/* One input's row in the merged scale. */
static int convert_row(const merger *m, const pyro_line_view *v, const pyro_line_row *r,
                       mrow *out)
{
    out->line = r->line;
    out->hits = r->hits;
    for (size_t k = 0; k < m->nmetrics; k++) {
        double factor = v->metrics[k].scale / m->metrics[k].scale;
        if (factor == 1.0) {
            out->value[k] = r->value[k];
            continue;
        }
        double x = (double)r->value[k] * factor;
        if (!(x < 9.2e18)) {
            PyErr_SetString(PyExc_ValueError, "pyrometer: a line's value overflows in the "
                            "merged profile's finer unit");
            return -1;
        }
        out->value[k] = llround(x);
    }
    return 0;
}

static int gather(merger *m)
{
    for (size_t i = 0; i < m->nviews; i++) {
        const pyro_line_view *v = &m->views[i];
        for (size_t j = 0; j < v->nfuncs; j++) {
            const pyro_line_function *f = &v->funcs[j];
            mfunc *acc = function_for(m, f);
            if (acc == NULL)
                return -1;
            if (acc->n + f->nrows > acc->cap) {
                size_t cap = acc->cap ? acc->cap : 8;
                while (cap < acc->n + f->nrows)
                    cap *= 2;
                mrow *grown = PyMem_Realloc(acc->rows, cap * sizeof(*grown));
                if (grown == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                acc->rows = grown;
                acc->cap = cap;
            }
            for (size_t r = 0; r < f->nrows; r++)
                if (convert_row(m, v, &v->rows[f->first_row + r], &acc->rows[acc->n++]) < 0)
                    return -1;
        }
    }
    return 0;
}

static int by_line(const void *a, const void *b)
{
    long long x = ((const mrow *)a)->line, y = ((const mrow *)b)->line;
    return (x > y) - (x < y);
}

static PyObject *row_tuple(const merger *m, const mrow *r)
{
    long long cells[2 + PYRO_MAX_LINE_METRICS] = {r->line, r->hits};
    memcpy(cells + 2, r->value, m->nmetrics * sizeof(*cells));
    Py_ssize_t n = 2 + (Py_ssize_t)m->nmetrics;
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t k = 0; t != NULL && k < n; k++) {
        PyObject *x = PyLong_FromLongLong(cells[k]);
        if (x == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

/* [(line, hits, values...)] of a function, one row a line. */
static PyObject *timings_of(const merger *m, mfunc *f)
{
    if (f->n > 1)
        qsort(f->rows, f->n, sizeof(*f->rows), by_line);
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++) {
        mrow *last = kept > 0 ? &f->rows[kept - 1] : NULL;
        if (last == NULL || last->line != f->rows[i].line) {
            f->rows[kept++] = f->rows[i];
            continue;
        }
        if (add_to(&last->hits, f->rows[i].hits) < 0)
            return NULL;
        for (size_t k = 0; k < m->nmetrics; k++)
            if (add_to(&last->value[k], f->rows[i].value[k]) < 0)
                return NULL;
    }
    PyObject *out = PyList_New((Py_ssize_t)kept);
    for (size_t i = 0; out != NULL && i < kept; i++) {
        PyObject *t = row_tuple(m, &f->rows[i]);
        if (t == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    return out;
}

static PyObject *functions_of(merger *m)
{
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != NULL && i < m->nfuncs; i++) {
        mfunc *f = &m->funcs[i];
        PyObject *timings = timings_of(m, f);
        PyObject *d = timings == NULL ? NULL
            : Py_BuildValue("{s:O,s:L,s:O,s:N,s:O}", "file", f->file, "line", f->first,
                            "name", f->name, "timings", timings, "source",
                            f->source != NULL ? f->source : Py_None);
        if (d == NULL || PyList_Append(out, d) < 0)
            Py_CLEAR(out);
        Py_XDECREF(d);
    }
    return out;
}

/* The meta data every input agrees on, and all their notes. */
static PyObject *meta_of(const merger *m)
{
    PyObject *out = PyDict_New(), *notes = PyList_New(0);
    if (out == NULL || notes == NULL)
        goto fail;
    PyObject *first = m->views[0].meta;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (first != NULL && PyDict_Next(first, &pos, &k, &v)) {
        int agreed = !(PyUnicode_Check(k) && PyUnicode_CompareWithASCIIString(k, "note") == 0);
        for (size_t i = 1; agreed == 1 && i < m->nviews; i++) {
            PyObject *other = m->views[i].meta != NULL
                ? PyDict_GetItemWithError(m->views[i].meta, k) : NULL;
            agreed = other != NULL ? PyObject_RichCompareBool(v, other, Py_EQ)
                                   : PyErr_Occurred() ? -1 : 0;
        }
        if (agreed < 0 || (agreed == 1 && PyDict_SetItem(out, k, v) < 0))
            goto fail;
    }
    for (size_t i = 0; i < m->nviews; i++) {
        PyObject *note = m->views[i].meta != NULL
            ? PyDict_GetItemString(m->views[i].meta, "note") : NULL;
        if (note == NULL || !PyUnicode_Check(note))
            continue;
        int seen = PySequence_Contains(notes, note);
        if (seen < 0 || (seen == 0 && PyList_Append(notes, note) < 0))
            goto fail;
    }
    if (PyList_GET_SIZE(notes) > 0) {
        PyObject *sep = PyUnicode_FromString("; ");
        PyObject *joined = sep != NULL ? PyUnicode_Join(sep, notes) : NULL;
        Py_XDECREF(sep);
        if (joined == NULL || PyDict_SetItemString(out, "note", joined) < 0) {
            Py_XDECREF(joined);
            goto fail;
        }
        Py_DECREF(joined);
    }
    Py_DECREF(notes);
    return out;
fail:
    Py_XDECREF(out);
    Py_XDECREF(notes);
    return NULL;
}

static PyObject *result_of(merger *m)
{
    PyObject *functions = functions_of(m), *meta = functions != NULL ? meta_of(m) : NULL;
    if (meta == NULL) {
        Py_XDECREF(functions);
        return NULL;
    }
    if (m->version == 1)
        return Py_BuildValue("{s:d,s:N,s:N}", "unit", m->metrics[0].scale, "meta", meta,
                             "functions", functions);
    PyObject *metrics = PyList_New((Py_ssize_t)m->nmetrics);
    for (size_t k = 0; metrics != NULL && k < m->nmetrics; k++) {
        PyObject *d = Py_BuildValue("{s:s,s:s,s:d}", "name", m->metrics[k].name, "unit",
                                    pyro_unit_name(m->metrics[k].unit), "scale",
                                    m->metrics[k].scale);
        if (d == NULL)
            Py_CLEAR(metrics);
        else
            PyList_SET_ITEM(metrics, (Py_ssize_t)k, d);
    }
    if (metrics == NULL) {
        Py_DECREF(functions);
        Py_DECREF(meta);
        return NULL;
    }
    return Py_BuildValue("{s:N,s:N,s:N}", "metrics", metrics, "meta", meta,
                         "functions", functions);
}

PyObject *pyro_lines_merge(PyObject *profiles)
{
    PyObject *seq = PySequence_Fast(profiles, "pyrometer: merge_lines takes a list of line "
                                              "profiles");
    if (seq == NULL)
        return NULL;
    merger m = {0};
    PyObject *result = NULL;
    size_t n = (size_t)PySequence_Fast_GET_SIZE(seq);
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: merge_lines needs a line profile");
        goto done;
    }
    m.views = PyMem_Calloc(n, sizeof(*m.views));
    m.index = PyDict_New();
    if (m.views == NULL || m.index == NULL) {
        if (m.views == NULL)
            PyErr_NoMemory();
        goto done;
    }
    for (; m.nviews < n; m.nviews++)
        if (pyro_line_view_of_arg(&m.views[m.nviews],
                                  PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)m.nviews)) < 0)
            goto done;
    if (choose_metrics(&m) == 0 && gather(&m) == 0)
        result = result_of(&m);
done:
    for (size_t i = 0; i < m.nviews; i++)
        pyro_line_view_release(&m.views[i]);
    for (size_t i = 0; i < m.nfuncs; i++)
        PyMem_Free(m.funcs[i].rows);
    PyMem_Free(m.funcs);
    PyMem_Free(m.views);
    Py_XDECREF(m.index);
    Py_DECREF(seq);
    return result;
}
