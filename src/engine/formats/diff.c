/* diff.c: compare two profiles function by function (`pyrometer diff`).
 *
 * Every function of either profile becomes a row: calls, tottime and
 * cumtime in the old and the new profile, with the change in seconds and
 * percent, and a status: slower, faster, same, new or gone.  A function
 * whose key is on one side only is matched with one of the other side
 * when the same file holds a function of that name that moved: an edit
 * above a function changes its line, not what it is.  What is still on one
 * side only is then matched by its portable path: the same program
 * profiled from two checkouts, virtualenvs or machines has its files in
 * other folders, not other functions (model/portable_path.h; the
 * program's own files are taken relative to the folder each side's
 * unmatched files share).  The rows are
 * sorted by the absolute change of the chosen quantity and printed as a
 * fixed-width table, pstats' function names last.  With a threshold, the
 * total and every function with a share of the time of at least
 * `min_share` percent are checked for a slowdown beyond it. */
#include "formats/diff.h"
#include "formats/merge.h"
#include "formats/report.h"
#include "core/text_out.h"
#include "core/errors.h"
#include "model/portable_path.h"
#include "model/pstats_shape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text --------------------------------------------------------------- */

/* `label` centred in a field of `width` filled with dashes. */
static void tx_group(pyro_text *t, const char *label, int width)
{
    int n = (int)strlen(label) + 2, left = (width - n) / 2, right = width - n - left;
    for (int i = 0; i < left; i++)
        pyro_text_put(t, "-", 1);
    pyro_text_printf(t, " %s ", label);
    for (int i = 0; i < right; i++)
        pyro_text_put(t, "-", 1);
}

/* ---- rows ----------------------------------------------------------------- */

enum { ST_SLOWER, ST_FASTER, ST_SAME, ST_NEW, ST_GONE };
static const char *status_words[] = {"slower", "faster", "same", "new", "gone"};
/* samples without time: more or fewer of them */
static const char *count_words[] = {"more", "fewer", "same", "new", "gone"};

enum { BY_TOTTIME, BY_CUMTIME, BY_CALLS };

typedef struct {
    PyObject *okey, *nkey;     /* borrowed from the stats dicts; NULL: not on that side */
    long long onc, nnc;
    double ott, ntt, oct, nct;
    double order, order2;      /* |change| of the sort quantity; of the tie-breaker */
    double noise_tt, noise_ct; /* with several runs a side: the larger side's spread */
    PyObject *label;           /* bytes: the function's name, UTF-8 */
    int status;
    int dead;                  /* a new-only row merged into its moved old one */
} drow;

typedef struct {
    drow *rows;
    Py_ssize_t n;
    PyObject *old_name, *new_name;
} diff;

static double seconds(PyObject *o)
{
    return PyFloat_Check(o) ? PyFloat_AS_DOUBLE(o) : PyLong_AsDouble(o);
}

static void take_side(drow *r, PyObject *value, int is_new)
{
    long long nc = PyLong_AsLongLong(PyTuple_GET_ITEM(value, 1));
    double tt = seconds(PyTuple_GET_ITEM(value, 2)), ct = seconds(PyTuple_GET_ITEM(value, 3));
    if (is_new) {
        r->nnc = nc;
        r->ntt = tt;
        r->nct = ct;
    } else {
        r->onc = nc;
        r->ott = tt;
        r->oct = ct;
    }
}

static int check_profile(PyObject *stats, PyObject *name)
{
    if (!PyDict_Check(stats)) {
        PyErr_Format(PyExc_TypeError, "pyrometer: stats must be a dict, not %.100s",
                     Py_TYPE(stats)->tp_name);
        return -1;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value, *reason = NULL;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        int bad = pyro_check_entry(key, value, 0, &reason);
        if (bad != 0) {
            if (bad > 0)
                PyErr_Format(pyro_FormatError, "pyrometer: %U is not a profile (%U)", name, reason);
            Py_XDECREF(reason);
            return -1;
        }
    }
    return 0;
}

static long long key_line(PyObject *key)
{
    return PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
}

/* Where a one-sided row's file is looked for on the other side: the file
 * itself, or (portable) its library form or its path under `root`. */
static PyObject *file_of(PyObject *key, int portable, const char *root)
{
    PyObject *file = PyTuple_GET_ITEM(key, 0);
    return portable ? pyro_path_portable(file, root) : Py_NewRef(file);
}

/* Append row index i to the list at groups[(file, name) of key]. */
static int group_add(PyObject *groups, PyObject *key, Py_ssize_t i, int portable,
                     const char *root)
{
    PyObject *file = file_of(key, portable, root);
    if (file == NULL)
        return -1;
    PyObject *g = PyTuple_Pack(2, file, PyTuple_GET_ITEM(key, 2));
    Py_DECREF(file);
    if (g == NULL)
        return -1;
    PyObject *list = PyDict_GetItemWithError(groups, g);
    int rc = -1;
    if (list == NULL) {
        if (PyErr_Occurred() || (list = PyList_New(0)) == NULL)
            goto done;
        if (PyDict_SetItem(groups, g, list) < 0) {
            Py_DECREF(list);
            goto done;
        }
        Py_DECREF(list);   /* the dict holds it */
    }
    PyObject *idx = PyLong_FromSsize_t(i);
    if (idx == NULL)
        goto done;
    rc = PyList_Append(list, idx);
    Py_DECREF(idx);
done:
    Py_DECREF(g);
    return rc;
}

/* The folder the program's own one-sided files of one side share (a new
 * PyMem_Raw string, NULL if none or + MemoryError). */
static char *shared_folder(diff *d, int is_new)
{
    char *root = NULL;
    for (Py_ssize_t i = 0; i < d->n; i++) {
        drow *r = &d->rows[i];
        PyObject *key = is_new ? r->nkey : r->okey;
        if (r->dead || key == NULL || (is_new ? r->okey : r->nkey) != NULL)
            continue;
        if (pyro_path_widen_root(&root, PyTuple_GET_ITEM(key, 0)) < 0) {
            PyMem_RawFree(root);
            return NULL;
        }
    }
    return root;
}

/* Row indices of a group in line order (n is small: insertion sort). */
static int group_rows(diff *d, PyObject *list, int is_new, Py_ssize_t *out)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(PyList_GET_ITEM(list, i));
        if (v == -1 && PyErr_Occurred())
            return -1;
        long long line = key_line(is_new ? d->rows[v].nkey : d->rows[v].okey);
        Py_ssize_t j = i;
        while (j > 0 && key_line(is_new ? d->rows[out[j - 1]].nkey : d->rows[out[j - 1]].okey) > line) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = v;
    }
    return 0;
}

/* Functions on one side only that are the same (file, name) on the other
 * side at another line: paired in line order when both sides have as
 * many of them.  `portable`: the files compared by their portable form. */
static int pair_moved(diff *d, int portable)
{
    int rc = -1;
    PyObject *olds = PyDict_New(), *news = PyDict_New();
    Py_ssize_t *a = NULL, *b = NULL;
    char *oroot = NULL, *nroot = NULL;
    if (olds == NULL || news == NULL)
        goto done;
    if (portable) {
        oroot = shared_folder(d, 0);
        nroot = shared_folder(d, 1);
        if (PyErr_Occurred())
            goto done;
    }
    for (Py_ssize_t i = 0; i < d->n; i++) {
        drow *r = &d->rows[i];
        if (r->dead)
            continue;
        if (r->okey != NULL && r->nkey == NULL && group_add(olds, r->okey, i, portable, oroot) < 0)
            goto done;
        if (r->okey == NULL && r->nkey != NULL && group_add(news, r->nkey, i, portable, nroot) < 0)
            goto done;
    }
    Py_ssize_t pos = 0;
    PyObject *g, *olist;
    while (PyDict_Next(olds, &pos, &g, &olist)) {
        PyObject *nlist = PyDict_GetItemWithError(news, g);
        if (nlist == NULL) {
            if (PyErr_Occurred())
                goto done;
            continue;
        }
        Py_ssize_t n = PyList_GET_SIZE(olist);
        if (PyList_GET_SIZE(nlist) != n)
            continue;
        PyMem_RawFree(a);
        PyMem_RawFree(b);
        a = PyMem_RawMalloc((size_t)n * sizeof(*a));
        b = PyMem_RawMalloc((size_t)n * sizeof(*b));
        if (a == NULL || b == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        if (group_rows(d, olist, 0, a) < 0 || group_rows(d, nlist, 1, b) < 0)
            goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            drow *o = &d->rows[a[i]], *nw = &d->rows[b[i]];
            o->nkey = nw->nkey;
            o->nnc = nw->nnc;
            o->ntt = nw->ntt;
            o->nct = nw->nct;
            nw->dead = 1;
        }
    }
    rc = 0;
done:
    Py_XDECREF(olds);
    Py_XDECREF(news);
    PyMem_RawFree(a);
    PyMem_RawFree(b);
    PyMem_RawFree(oroot);
    PyMem_RawFree(nroot);
    return rc;
}

/* pstats' func_std_string() of the row's key, "file:old->new(name)" when
 * it moved; UTF-8 (lone surrogates passed through) as bytes. */
static PyObject *row_label(const drow *r)
{
    PyObject *key = r->nkey != NULL ? r->nkey : r->okey;
    PyObject *file = PyTuple_GET_ITEM(key, 0), *name = PyTuple_GET_ITEM(key, 2), *s;
    long long line = key_line(key);
    if (line == 0 && PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(file, "~") == 0) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(name);
        if (n >= 2 && PyUnicode_READ_CHAR(name, 0) == '<' && PyUnicode_READ_CHAR(name, n - 1) == '>') {
            PyObject *inner = PyUnicode_Substring(name, 1, n - 1);
            if (inner == NULL)
                return NULL;
            s = PyUnicode_FromFormat("{%U}", inner);
            Py_DECREF(inner);
        } else {
            s = Py_NewRef(name);
        }
    } else if (r->okey != NULL && r->nkey != NULL && key_line(r->okey) != line) {
        s = PyUnicode_FromFormat("%U:%lld->%lld(%S)", file, key_line(r->okey), line, name);
    } else {
        s = PyUnicode_FromFormat("%U:%lld(%S)", file, line, name);
    }
    if (s == NULL)
        return NULL;
    Py_SETREF(s, pyro_escape_controls(s, 0));   /* the report goes to a terminal */
    if (s == NULL)
        return NULL;
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
    Py_DECREF(s);
    return b;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const drow *a = *(const drow *const *)pa, *b = *(const drow *const *)pb;
    if (a->order != b->order)
        return a->order > b->order ? -1 : 1;
    if (a->order2 != b->order2)
        return a->order2 > b->order2 ? -1 : 1;
    Py_ssize_t la = PyBytes_GET_SIZE(a->label), lb = PyBytes_GET_SIZE(b->label);
    int c = memcmp(PyBytes_AS_STRING(a->label), PyBytes_AS_STRING(b->label),
                   (size_t)(la < lb ? la : lb));
    if (c != 0)
        return c;
    return (la > lb) - (la < lb);
}

/* ---- numbers ---------------------------------------------------------------- */

/* The change from `old` to `new` in percent into buf: "+12.5%", or "-"
 * where there is no old value to compare with. */
static const char *pct_text(char *buf, size_t size, double old, double new)
{
    if (old == 0.0) {
        snprintf(buf, size, "%s", new == 0.0 ? "+0.0%" : "-");
        return buf;
    }
    /* at most 8 characters, so the column stays aligned for any change */
    double pct = (new - old) / old * 100.0;
    if (fabs(pct) < 1e4)
        snprintf(buf, size, "%+.1f%%", pct);
    else if (fabs(pct) < 1e6)
        snprintf(buf, size, "%+.0f%%", pct);
    else
        snprintf(buf, size, "%+.0e%%", pct);
    return buf;
}

/* Slowdown in percent; infinite from nothing to something. */
static double slowdown(double old, double new)
{
    if (old > 0.0)
        return (new - old) / old * 100.0;
    return new > 0.0 ? HUGE_VAL : 0.0;
}

/* A time of the table: "%8.3f" (a count of samples: "%8.0f"), or "-" for
 * a side without the function. */
static void tx_time(pyro_text *t, int present, double x, int sign, int whole)
{
    if (!present) {
        pyro_text_printf(t, " %8s", "-");
        return;
    }
    /* 8 characters whatever the size: fewer decimals for large values,
     * then an exponent */
    char buf[64];
    for (int prec = whole ? 0 : 3; prec >= 0; prec--) {
        snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", prec, x);
        if (strlen(buf) <= 8) {
            pyro_text_printf(t, " %8s", buf);
            return;
        }
    }
    snprintf(buf, sizeof buf, sign ? "%+.1e" : "%.2e", x);
    pyro_text_printf(t, " %8s", buf);
}

static void tx_calls(pyro_text *t, int present, long long n)
{
    if (present)
        pyro_text_printf(t, "%9lld", n);
    else
        pyro_text_printf(t, "%9s", "-");
}

static void tx_label(pyro_text *t, const drow *r)
{
    pyro_text_put(t, PyBytes_AS_STRING(r->label), (size_t)PyBytes_GET_SIZE(r->label));
}

/* ---- format_diff() ------------------------------------------------------------- */

static int parse_sort(PyObject *sort, int *by)
{
    static const struct {
        const char *word;
        int by;
    } words[] = {
        {"tottime", BY_TOTTIME}, {"time", BY_TOTTIME},   {"cumtime", BY_CUMTIME},
        {"cumulative", BY_CUMTIME}, {"calls", BY_CALLS}, {"ncalls", BY_CALLS},
        {"samples", BY_CALLS}, {"nsamples", BY_CALLS},
    };
    if (sort == NULL) {
        *by = BY_TOTTIME;
        return 0;
    }
    if (PyUnicode_Check(sort))
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (PyUnicode_CompareWithASCIIString(sort, words[i].word) == 0) {
                *by = words[i].by;
                return 0;
            }
    PyErr_Format(PyExc_ValueError,
                 "pyrometer: unknown diff sort key %R (choose tottime, cumtime or calls)", sort);
    return -1;
}

/* One side's runs of a function: the mean and the spread (largest less
 * smallest) of its calls, tottime and cumtime; a run without it counts 0. */
static int run_values(PyObject *runs, PyObject *key, double *nc, double *tt, double *ct,
                      double *tt_spread, double *ct_spread)
{
    Py_ssize_t n = PyList_GET_SIZE(runs);
    double lo_tt = HUGE_VAL, hi_tt = -HUGE_VAL, lo_ct = HUGE_VAL, hi_ct = -HUGE_VAL;
    *nc = *tt = *ct = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyDict_GetItemWithError(PyList_GET_ITEM(runs, i), key);
        if (v == NULL && PyErr_Occurred())
            return -1;
        double c = 0.0, x = 0.0, y = 0.0;
        if (v != NULL) {
            c = (double)PyLong_AsLongLong(PyTuple_GET_ITEM(v, 1));
            x = seconds(PyTuple_GET_ITEM(v, 2));
            y = seconds(PyTuple_GET_ITEM(v, 3));
            if (PyErr_Occurred())
                return -1;
        }
        *nc += c;
        *tt += x;
        *ct += y;
        lo_tt = x < lo_tt ? x : lo_tt;
        hi_tt = x > hi_tt ? x : hi_tt;
        lo_ct = y < lo_ct ? y : lo_ct;
        hi_ct = y > hi_ct ? y : hi_ct;
    }
    *nc /= (double)n;
    *tt /= (double)n;
    *ct /= (double)n;
    *tt_spread = hi_tt - lo_tt;
    *ct_spread = hi_ct - lo_ct;
    return 0;
}

/* Each side's numbers as the mean of its runs, and each row's noise: the
 * larger spread of the two sides.  The total's spread into *total_noise. */
static int with_runs(diff *d, const pyro_diff_opts *o, double *total_noise)
{
    for (Py_ssize_t i = 0; i < d->n; i++) {
        drow *r = &d->rows[i];
        if (r->dead)
            continue;
        double nc, sp_tt = 0.0, sp_ct = 0.0, a, b;
        if (r->okey != NULL) {
            if (run_values(o->old_runs, r->okey, &nc, &r->ott, &r->oct, &a, &b) < 0)
                return -1;
            r->onc = llround(nc);
            sp_tt = a;
            sp_ct = b;
        }
        if (r->nkey != NULL) {
            if (run_values(o->new_runs, r->nkey, &nc, &r->ntt, &r->nct, &a, &b) < 0)
                return -1;
            r->nnc = llround(nc);
            sp_tt = a > sp_tt ? a : sp_tt;
            sp_ct = b > sp_ct ? b : sp_ct;
        }
        r->noise_tt = sp_tt;
        r->noise_ct = sp_ct;
    }
    *total_noise = 0.0;
    PyObject *sides[2] = {o->old_runs, o->new_runs};
    for (int s = 0; s < 2; s++) {
        double lo = HUGE_VAL, hi = -HUGE_VAL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sides[s]); i++) {
            double sum = 0.0;
            Py_ssize_t pos = 0;
            PyObject *key, *value;
            while (PyDict_Next(PyList_GET_ITEM(sides[s], i), &pos, &key, &value))
                sum += seconds(PyTuple_GET_ITEM(value, 2));
            if (PyErr_Occurred())
                return -1;
            lo = sum < lo ? sum : lo;
            hi = sum > hi ? sum : hi;
        }
        if (hi - lo > *total_noise)
            *total_noise = hi - lo;
    }
    return 0;
}

PyObject *pyro_diff_text(PyObject *old, PyObject *new, const pyro_diff_opts *o)
{
    int by;
    if (parse_sort(o->sort, &by) < 0)
        return NULL;
    Py_ssize_t limit = o->limit;
    int check = o->check;
    double fail_above = o->fail_above, min_share = o->min_share;
    PyObject *old_name = o->old_name, *new_name = o->new_name;

    diff d = {0};
    pyro_text t = PYRO_TEXT_INIT;
    drow **list = NULL;
    PyObject *result = NULL;
    d.old_name = old_name != NULL ? Py_NewRef(old_name) : PyUnicode_FromString("old");
    d.new_name = new_name != NULL ? Py_NewRef(new_name) : PyUnicode_FromString("new");
    if (d.old_name == NULL || d.new_name == NULL)
        goto done;
    if (check_profile(old, d.old_name) < 0 || check_profile(new, d.new_name) < 0)
        goto done;
    if ((o->old_runs != NULL) != (o->new_runs != NULL)) {
        PyErr_SetString(PyExc_ValueError, "pyrometer: runs are given for both sides or neither");
        goto done;
    }
    for (int side = 0; o->old_runs != NULL && side < 2; side++) {
        PyObject *runs = side ? o->new_runs : o->old_runs;
        if (!PyList_Check(runs) || PyList_GET_SIZE(runs) == 0) {
            PyErr_SetString(PyExc_ValueError, "pyrometer: runs must be non-empty lists");
            goto done;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(runs); i++)
            if (check_profile(PyList_GET_ITEM(runs, i), side ? d.new_name : d.old_name) < 0)
                goto done;
    }

    /* rows: every old function, with its new side when it has one, then
     * the new functions not in the old profile */
    size_t cap = (size_t)PyDict_GET_SIZE(old) + (size_t)PyDict_GET_SIZE(new) + 1;
    d.rows = PyMem_RawCalloc(cap, sizeof(*d.rows));
    list = PyMem_RawMalloc(cap * sizeof(*list));
    if (d.rows == NULL || list == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    double ototal = 0.0, ntotal = 0.0;
    long long ocalls = 0, ncalls = 0, osamples = 0, nsamples = 0;
    int counts_only = o->kind == PYRO_KIND_SAMPLE_COUNTS, sampled = o->kind != PYRO_KIND_TRACED;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(old, &pos, &key, &value)) {
        drow *r = &d.rows[d.n++];
        r->okey = key;
        take_side(r, value, 0);
        ototal += r->ott;
        ocalls += r->onc;
        osamples += PyLong_AsLongLong(PyTuple_GET_ITEM(value, 0));
        PyObject *nv = PyDict_GetItemWithError(new, key);
        if (nv != NULL) {
            r->nkey = key;
            take_side(r, nv, 1);
        } else if (PyErr_Occurred()) {
            goto done;
        }
    }
    pos = 0;
    while (PyDict_Next(new, &pos, &key, &value)) {
        drow probe = {0};
        take_side(&probe, value, 1);
        ntotal += probe.ntt;
        ncalls += probe.nnc;
        nsamples += PyLong_AsLongLong(PyTuple_GET_ITEM(value, 0));
        int has = PyDict_Contains(old, key);
        if (has < 0)
            goto done;
        if (has)
            continue;
        probe.nkey = key;
        d.rows[d.n++] = probe;
    }
    if (pair_moved(&d, 0) < 0 || pair_moved(&d, 1) < 0)
        goto done;
    double total_noise = 0.0;
    int runs = o->old_runs != NULL && o->new_runs != NULL;
    if (runs) {
        if (with_runs(&d, o, &total_noise) < 0)
            goto done;
        ototal = ntotal = 0.0;
        ocalls = ncalls = 0;
        for (Py_ssize_t i = 0; i < d.n; i++) {
            if (d.rows[i].dead)
                continue;
            if (d.rows[i].okey != NULL) {
                ototal += d.rows[i].ott;
                ocalls += d.rows[i].onc;
            }
            if (d.rows[i].nkey != NULL) {
                ntotal += d.rows[i].ntt;
                ncalls += d.rows[i].nnc;
            }
        }
    }

    Py_ssize_t live = 0, in_both = 0, moved = 0, only_new = 0, only_old = 0;
    Py_ssize_t counts[5] = {0};
    for (Py_ssize_t i = 0; i < d.n; i++) {
        drow *r = &d.rows[i];
        if (r->dead)
            continue;
        if ((r->label = row_label(r)) == NULL)
            goto done;
        double ov = by == BY_CUMTIME ? r->oct : r->ott, nv = by == BY_CUMTIME ? r->nct : r->ntt;
        if (r->okey == NULL) {
            r->status = ST_NEW;
            only_new++;
        } else if (r->nkey == NULL) {
            r->status = ST_GONE;
            only_old++;
        } else {
            double noise = by == BY_CUMTIME ? r->noise_ct : r->noise_tt;
            r->status = fabs(nv - ov) <= noise ? ST_SAME
                      : nv > ov ? ST_SLOWER : nv < ov ? ST_FASTER : ST_SAME;
            in_both++;
            moved += r->okey != r->nkey && key_line(r->okey) != key_line(r->nkey);
        }
        counts[r->status]++;
        /* ties: by the change of tottime (of cumtime when that is the
         * order), then by name */
        double dtt = fabs((r->nkey ? r->ntt : 0.0) - (r->okey ? r->ott : 0.0));
        double dct = fabs((r->nkey ? r->nct : 0.0) - (r->okey ? r->oct : 0.0));
        if (by == BY_CALLS)
            r->order = fabs((double)(r->nkey ? r->nnc : 0) - (double)(r->okey ? r->onc : 0));
        else
            r->order = by == BY_CUMTIME ? dct : dtt;
        r->order2 = by == BY_TOTTIME ? dct : dtt;
        list[live++] = r;
    }
    qsort(list, (size_t)live, sizeof(*list), cmp_rows);

    /* the heading */
    static const char *by_names[] = {"tottime", "cumtime", "calls"};
    static const char *by_sampled[] = {"tottime", "cumtime", "samples"};
    static const char *by_counts[] = {"self samples", "cumulative samples", "samples"};
    const char **by_word = counts_only ? by_counts : sampled ? by_sampled : by_names;
    const char *basis = by_word[by == BY_CUMTIME ? BY_CUMTIME : BY_TOTTIME];
    const char **words = counts_only ? count_words : status_words;
    char pbuf[64];
    PyObject *on = PyUnicode_AsEncodedString(d.old_name, "utf-8", "surrogatepass");
    PyObject *nn = on ? PyUnicode_AsEncodedString(d.new_name, "utf-8", "surrogatepass") : NULL;
    if (nn == NULL) {
        Py_XDECREF(on);
        goto done;
    }
    pyro_text_printf(&t, "Old: %s\nNew: %s\n\n", PyBytes_AS_STRING(on), PyBytes_AS_STRING(nn));
    if (runs)
        pyro_text_printf(&t, "Runs: %zd old, %zd new, averaged; a change within the spread of "
                             "the runs counts as the same (total time spread %.3f s)\n",
                         PyList_GET_SIZE(o->old_runs), PyList_GET_SIZE(o->new_runs), total_noise);
    Py_DECREF(on);
    Py_DECREF(nn);
    if (!counts_only)
        pyro_text_printf(&t, "Total time: %.3f s -> %.3f s, %+.3f s (%s), %s\n", ototal, ntotal,
                  ntotal - ototal, pct_text(pbuf, sizeof pbuf, ototal, ntotal),
                  runs && fabs(ntotal - ototal) <= total_noise ? "the same within the runs' spread"
                  : ntotal > ototal ? "slower" : ntotal < ototal ? "faster" : "the same");
    if (sampled)
        pyro_text_printf(&t, "Samples: %lld -> %lld (%+lld)\n", osamples, nsamples,
                         nsamples - osamples);
    else
        pyro_text_printf(&t, "Function calls: %lld -> %lld (%+lld)\n", ocalls, ncalls,
                         ncalls - ocalls);
    pyro_text_printf(&t, "Functions: %zd in both", in_both);
    if (moved > 0)
        pyro_text_printf(&t, " (%zd moved)", moved);
    pyro_text_printf(&t, ", %zd new, %zd gone; %zd %s, %zd %s, %zd the same (%s)\n\n",
              only_new, only_old, counts[ST_SLOWER], words[ST_SLOWER], counts[ST_FASTER],
              words[ST_FASTER], counts[ST_SAME], basis);
    pyro_text_printf(&t, "   Ordered by: absolute change of %s\n", by_word[by]);
    Py_ssize_t shown = live;
    if (limit >= 0 && limit < live) {
        shown = limit;
        pyro_text_printf(&t, "   List reduced from %zd to %zd due to restriction <%zd>\n", live, limit, limit);
    }
    pyro_text_str(&t, "\n");

    /* the table */
    if (shown > 0) {
        tx_group(&t, sampled ? "nsamples" : "ncalls", 19);
        pyro_text_str(&t, "  ");
        tx_group(&t, counts_only ? "self samples" : "tottime (s)", 35);
        pyro_text_str(&t, "  ");
        tx_group(&t, counts_only ? "cumulative samples" : "cumtime (s)", 35);
        pyro_text_str(&t, "\n");
        pyro_text_printf(&t, "%9s %9s  %8s %8s %8s %8s   %8s %8s %8s %8s  %-6s  %s\n", "old", "new",
                  "old", "new", "change", "%", "old", "new", "change", "%", "status",
                  "filename:lineno(function)");
    }
    for (Py_ssize_t i = 0; i < shown; i++) {
        const drow *r = list[i];
        int o = r->okey != NULL, n = r->nkey != NULL;
        tx_calls(&t, o, r->onc);
        pyro_text_str(&t, " ");
        tx_calls(&t, n, r->nnc);
        pyro_text_str(&t, " ");
        tx_time(&t, o, r->ott, 0, counts_only);
        tx_time(&t, n, r->ntt, 0, counts_only);
        tx_time(&t, 1, (n ? r->ntt : 0.0) - (o ? r->ott : 0.0), 1, counts_only);
        pyro_text_printf(&t, " %8s  ", o ? pct_text(pbuf, sizeof pbuf, r->ott, n ? r->ntt : 0.0) : "-");
        tx_time(&t, o, r->oct, 0, counts_only);
        tx_time(&t, n, r->nct, 0, counts_only);
        tx_time(&t, 1, (n ? r->nct : 0.0) - (o ? r->oct : 0.0), 1, counts_only);
        pyro_text_printf(&t, " %8s  ", o ? pct_text(pbuf, sizeof pbuf, r->oct, n ? r->nct : 0.0) : "-");
        pyro_text_printf(&t, "%-6s  ", words[r->status]);
        tx_label(&t, r);
        pyro_text_str(&t, "\n");
    }

    /* the check */
    int failed = 0;
    if (check) {
        double total_slow = slowdown(ototal, ntotal);
        int total_failed = total_slow > fail_above && ntotal - ototal > total_noise;
        Py_ssize_t nfailed = 0;
        for (Py_ssize_t i = 0; i < live; i++) {
            const drow *r = list[i];
            if (r->okey == NULL || r->nkey == NULL)
                continue;
            double share = 0.0;
            if (ntotal > 0.0)
                share = r->ntt / ntotal * 100.0;
            if (ototal > 0.0 && r->ott / ototal * 100.0 > share)
                share = r->ott / ototal * 100.0;
            if (share >= min_share && slowdown(r->ott, r->ntt) > fail_above
                && r->ntt - r->ott > r->noise_tt)
                list[nfailed++] = list[i];   /* in table order, before i */
        }
        failed = total_failed || nfailed > 0;
        /* samples without time: their counts, whole */
        const char *self_word = counts_only ? "self samples" : "tottime";
        const char *total_word = counts_only ? "total samples" : "total time";
        const char *unit = counts_only ? "" : " s";
        int prec = counts_only ? 0 : 3;
        pyro_text_printf(&t, "\nRegression check (%s by more than %g%%; functions with at least "
                  "%g%% of the total %s): %s\n", counts_only ? "more" : "slower", fail_above,
                  min_share, self_word, failed ? "FAILED" : "passed");
        pyro_text_printf(&t, "  %s %s (%.*f%s -> %.*f%s)%s\n", total_word,
                  pct_text(pbuf, sizeof pbuf, ototal, ntotal), prec, ototal, unit, prec, ntotal,
                  unit, total_failed ? (counts_only ? ": more" : ": slower") : "");
        for (Py_ssize_t i = 0; i < nfailed; i++) {
            const drow *r = list[i];
            pyro_text_str(&t, "  ");
            tx_label(&t, r);
            pyro_text_printf(&t, ": %s %s (%.*f%s -> %.*f%s), %s\n", self_word,
                      pct_text(pbuf, sizeof pbuf, r->ott, r->ntt), prec, r->ott, unit, prec,
                      r->ntt, unit, words[ST_SLOWER]);
        }
        if (!failed)
            pyro_text_str(&t, counts_only ? "  no function got more samples beyond the threshold\n"
                                          : "  no function got slower beyond the threshold\n");
    }
    if (t.failed) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *s = PyUnicode_DecodeUTF8(t.data ? t.data : "", (Py_ssize_t)t.len, "surrogatepass");
    if (s != NULL) {
        result = Py_BuildValue("(OO)", s, failed ? Py_True : Py_False);
        Py_DECREF(s);
    }
done:
    for (Py_ssize_t i = 0; i < d.n; i++)
        Py_XDECREF(d.rows[i].label);
    PyMem_RawFree(d.rows);
    PyMem_RawFree(list);
    pyro_text_free(&t);
    Py_XDECREF(d.old_name);
    Py_XDECREF(d.new_name);
    return result;
}
