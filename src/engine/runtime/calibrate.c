/* calibrate.c: the calibration harness every mode shares (see
 * calibrate.h). */
#include "runtime/calibrate.h"
#include "core/clock.h"
#include "runtime/tstate.h"

#include <stdlib.h>

PyObject *pyro_calibration_namespace(PyObject **cache, const char *source, const char *filename)
{
    if (*cache != NULL)
        return *cache;
    PyObject *code = Py_CompileString(source, filename, Py_file_input);
    if (code == NULL)
        return NULL;
    PyObject *ns = PyDict_New();
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_XDECREF(ns);
        Py_DECREF(code);
        return NULL;
    }
    PyObject *r = PyEval_EvalCode(code, ns, ns);
    Py_DECREF(code);
    if (r == NULL) {
        Py_DECREF(ns);
        return NULL;
    }
    Py_DECREF(r);
    *cache = ns;
    return ns;
}

PyObject *pyro_calibration_get(PyObject *ns, const char *name)
{
    return PyDict_GetItemString(ns, name);
}

int64_t pyro_calibration_time(PyObject *loop, PyObject *n)
{
    int64_t t0 = pyro_clock_now();
    PyObject *r = PyObject_CallOneArg(loop, n);
    int64_t t1 = pyro_clock_now();
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return t1 - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t pyro_median_i64(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    return v[n / 2];
}

int64_t pyro_min_i64(const int64_t *v, int n)
{
    int64_t m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pyro_median_d(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[n / 2];
}

double pyro_min_d(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

int64_t pyro_calibration_hold_probes(void)
{
    pyro_tstate *t = pyro_tstate_get();
    int64_t held = t->next_probe;
    t->next_probe = INT64_MAX;
    return held;
}

void pyro_calibration_release_probes(int64_t held)
{
    pyro_tstate_get()->next_probe = held;
}
