/* calibrate.c: measure what the profiler itself costs per event, so that
 * the cost can be taken off the clock (overhead compensation).
 *
 * A loop calls a trivial Python function (and, with built-ins, abs() and
 * a dict's get()) n times, alternately without and with the hooks.  The difference per call
 * is the whole cost of one call's events.  Of that cost, the part that
 * falls between the enter and the leave clock reads is what the profiler
 * measured for the trivial function itself: it is charged at enter, the
 * rest at leave.  The loops have the shape of ordinary code (a global
 * function, one argument, the result kept); the median of several
 * repetitions, each an off run next to an on run, resists a machine busy
 * with other work.
 *
 * Some interpreters (3.11) run every instruction slower while a profile
 * hook is set, calls or not.  That slowdown is measured first, on a loop
 * without calls; it is taken out of the per-call cost, and all times are
 * divided by it on export, so that reported times are those of the program
 * running without the profiler.  Built-ins' own C code is not slowed: its
 * time is stretched by the slowdown as it is recorded (pyro_leave). */
#include "profiler.h"

#define CAL_CALLS 5000
#define CAL_REPS 11

static const char cal_source[] =
    "def _pyro_empty(x):\n"
    "    return x\n"
    "def _pyro_loop_py(n):\n"
    "    s = 0\n"
    "    for _ in range(n):\n"
    "        s = _pyro_empty(s)\n"
    "def _pyro_loop_c(n):\n"
    "    x = 1\n"
    "    for _ in range(n):\n"
    "        s = abs(x)\n"
    "def _pyro_loop_flat(n):\n"
    "    s = 0\n"
    "    for _ in range(n):\n"
    "        s = s + 1\n"
    "def _pyro_loop_none(n):\n"
    "    x = 1\n"
    "    for _ in range(n):\n"
    "        s = abs, x\n"
    "def _pyro_loop_method(n):\n"
    "    d = {}\n"
    "    for x in range(n):\n"
    "        s = d.get(x)\n"
    "def _pyro_loop_method_none(n):\n"
    "    d = {}\n"
    "    for x in range(n):\n"
    "        s = d, x\n"
    "_pyro_method = dict.get\n";

static PyObject *cal_namespace;   /* compiled once per process */

static PyObject *get(const char *name)
{
    return PyDict_GetItemString(cal_namespace, name);   /* borrowed */
}

static int load_namespace(void)
{
    if (cal_namespace != NULL)
        return 0;
    PyObject *code = Py_CompileString(cal_source, "<pyrometer-calibration>", Py_file_input);
    if (code == NULL)
        return -1;
    PyObject *ns = PyDict_New();
    PyObject *builtins = PyEval_GetBuiltins();
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", builtins) < 0) {
        Py_XDECREF(ns);
        Py_DECREF(code);
        return -1;
    }
    PyObject *r = PyEval_EvalCode(code, ns, ns);
    Py_DECREF(code);
    if (r == NULL) {
        Py_DECREF(ns);
        return -1;
    }
    Py_DECREF(r);
    cal_namespace = ns;
    return 0;
}

/* Ticks for one call of loop(n), with or without the hooks. */
static int64_t time_loop(pyro_profiler *p, PyObject *loop, PyObject *n, int hooked)
{
    if (hooked && pyro_events_start(p) < 0)
        return -1;
    int64_t t0 = pyro_clock_now();
    PyObject *r = PyObject_CallOneArg(loop, n);
    int64_t t1 = pyro_clock_now();
    if (hooked) {
        pyro_events_stop(p);
        pyro_flush_all(&p->st);
    }
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return t1 - t0;
}

typedef struct {
    const void *key;
    int64_t self_time;
    uint64_t calls;
} find_arg;

static int find_node(pyro_node *node, void *arg)
{
    find_arg *fa = arg;
    if (node->key == fa->key && node->fold_to == NULL) {
        fa->self_time += node->self_time;
        fa->calls += node->calls;
        if (node->dyn != NULL) {
            fa->self_time += node->dyn->self_time;
            fa->calls += node->dyn->calls;
        }
    }
    return 0;
}

static int64_t min_of(const int64_t *v, int n)
{
    int64_t m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The middle value (v is reordered). */
static int64_t median_of(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    return v[n / 2];
}

/* Calibrate one kind of call.  `key` is what the hooks record for the
 * called function.  `body_ticks` is the function's own cost without the
 * profiler per call, kept out of the enter cost.  A built-in's body is C,
 * which the interpreter's slowdown does not touch. */
static int calibrate_kind(pyro_profiler *p, int kind, PyObject *loop,
                          const void *key, int64_t body_ticks, double slowdown)
{
    double body_slowdown = kind == PYRO_C ? 1.0 : slowdown;
    PyObject *n = PyLong_FromLong(CAL_CALLS);
    if (n == NULL)
        return -1;
    int64_t off[CAL_REPS], on[CAL_REPS], inner[CAL_REPS];
    uint64_t seen_calls = 0;
    int64_t seen_self = 0;
    for (int rep = 0; rep < CAL_REPS; rep++) {
        off[rep] = time_loop(p, loop, n, 0);
        on[rep] = time_loop(p, loop, n, 1);
        if (off[rep] < 0 || on[rep] < 0) {
            Py_DECREF(n);
            return -1;
        }
        /* The tree is kept from one repetition to the next, as it is
         * while a program runs: rebuilt each time, its memory would sit
         * elsewhere and cost otherwise. */
        find_arg fa = {key, 0, 0};
        pyro_for_each_node(&p->st, find_node, &fa);
        uint64_t calls = fa.calls - seen_calls;
        inner[rep] = calls ? (fa.self_time - seen_self) / (int64_t)calls : 0;
        seen_calls = fa.calls;
        seen_self = fa.self_time;
    }
    pyro_state_clear(&p->st);
    Py_DECREF(n);

    /* Each repetition's on and off runs are next to each other in time, so
     * their difference sees the machine in one state; the median of those
     * differences is the cost at the machine's usual speed, which is the
     * speed the program will mostly run at. */
    int64_t diff[CAL_REPS];
    int64_t body_total = body_ticks * CAL_CALLS;
    for (int rep = 0; rep < CAL_REPS; rep++)
        diff[rep] = on[rep] - (int64_t)((off[rep] - body_total) * slowdown)
                    - (int64_t)(body_total * body_slowdown);
    int64_t per_call = median_of(diff, CAL_REPS) / CAL_CALLS;
    int64_t in = median_of(inner, CAL_REPS) - (int64_t)(body_ticks * body_slowdown);
    if (per_call < 0)
        per_call = 0;
    if (in < 0)
        in = 0;
    if (in > per_call)
        in = per_call;
    p->measured_enter[kind] = in;
    p->measured_leave[kind] = per_call - in;
    return 0;
}

/* How much slower code without calls runs with the hooks on (>= 1). */
static int measure_slowdown(pyro_profiler *p, PyObject *loop, double *out)
{
    if (loop == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: calibration code is broken");
        return -1;
    }
    PyObject *n = PyLong_FromLong(CAL_CALLS);
    if (n == NULL)
        return -1;
    int64_t off[CAL_REPS], on[CAL_REPS];
    for (int rep = 0; rep < CAL_REPS; rep++) {
        off[rep] = time_loop(p, loop, n, 0);
        on[rep] = time_loop(p, loop, n, 1);
        if (off[rep] < 0 || on[rep] < 0) {
            Py_DECREF(n);
            return -1;
        }
    }
    Py_DECREF(n);
    pyro_state_clear(&p->st);
    int64_t ratio[CAL_REPS];   /* per mille, each on run against its neighbouring off run */
    for (int rep = 0; rep < CAL_REPS; rep++)
        ratio[rep] = off[rep] > 0 ? on[rep] * 1000 / off[rep] : 1000;
    int64_t r = median_of(ratio, CAL_REPS);
    /* Below a few per cent it is noise, not a slower interpreter. */
    *out = r < 1050 ? 1.0 : (double)r / 1000.0;
    return 0;
}

/* A built-in's own work per call, without the profiler: a loop calling it
 * less a loop that only loads what the call would use.  Fastest of several
 * runs: the work is fixed, only the machine's disturbances add to it. */
static int64_t builtin_body(pyro_profiler *p, PyObject *loop_call, PyObject *loop_load)
{
    PyObject *n = PyLong_FromLong(CAL_CALLS);
    int64_t with_call[CAL_REPS], without[CAL_REPS];
    int reps = 0;
    for (int rep = 0; n != NULL && rep < CAL_REPS; rep++) {
        int64_t a = time_loop(p, loop_call, n, 0);
        int64_t b = time_loop(p, loop_load, n, 0);
        if (a >= 0 && b >= 0) {
            with_call[reps] = a;
            without[reps++] = b;
        }
    }
    Py_XDECREF(n);
    PyErr_Clear();
    int64_t body = reps ? (min_of(with_call, reps) - min_of(without, reps)) / CAL_CALLS : 0;
    return body < 0 ? 0 : body;
}

static int calibrate_builtins(pyro_profiler *p, double slowdown)
{
    /* abs(), not len(): the interpreter has an instruction of its own for
     * len() that never calls it, so its call would look dearer under the
     * hooks than other built-ins' calls do. */
    PyObject *builtin = PyDict_GetItemString(PyEval_GetBuiltins(), "abs");
    PyObject *method = get("_pyro_method");
    if (builtin == NULL || !PyCFunction_Check(builtin)
        || method == NULL || !Py_IS_TYPE(method, &PyMethodDescr_Type)) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: calibration code is broken");
        return -1;
    }
    int64_t body = builtin_body(p, get("_pyro_loop_c"), get("_pyro_loop_none"));
    if (calibrate_kind(p, PYRO_C, get("_pyro_loop_c"),
                       ((PyCFunctionObject *)builtin)->m_ml, body, slowdown) < 0)
        return -1;
    body = builtin_body(p, get("_pyro_loop_method"), get("_pyro_loop_method_none"));
    return calibrate_kind(p, PYRO_C_METHOD, get("_pyro_loop_method"),
                          ((PyMethodDescrObject *)method)->d_method, body, slowdown);
}

int pyro_calibrate(pyro_profiler *p)
{
    if (load_namespace() < 0)
        return -1;
    static const char *const loop_names[] = {
        "_pyro_loop_py", "_pyro_loop_c", "_pyro_loop_none", "_pyro_loop_flat",
        "_pyro_loop_method", "_pyro_loop_method_none",
    };
    PyObject *empty = get("_pyro_empty");
    if (empty == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: calibration code is broken");
        return -1;
    }
    /* Warm up: let the adaptive interpreter specialise the loops. */
    PyObject *warm = PyLong_FromLong(CAL_CALLS);
    if (warm == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(loop_names) / sizeof(loop_names[0]); i++) {
        PyObject *loop = get(loop_names[i]);
        PyObject *r = loop != NULL ? PyObject_CallOneArg(loop, warm) : NULL;
        if (r == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "pyrometer: calibration code is broken");
            Py_DECREF(warm);
            return -1;
        }
        Py_DECREF(r);
    }
    Py_DECREF(warm);

    int64_t saved_enter[PYRO_KINDS], saved_leave[PYRO_KINDS];
    memcpy(saved_enter, p->st.cost_enter, sizeof(saved_enter));
    memcpy(saved_leave, p->st.cost_leave, sizeof(saved_leave));
    memset(p->st.cost_enter, 0, sizeof(saved_enter));
    memset(p->st.cost_leave, 0, sizeof(saved_leave));
    int64_t saved_stretch = p->st.c_stretch;
    p->st.c_stretch = 0;
    pyro_state_clear(&p->st);

    double slowdown = 1.0;
    int rc = measure_slowdown(p, get("_pyro_loop_flat"), &slowdown);
    if (rc == 0) {
        p->slowdown = slowdown;
        rc = calibrate_kind(p, PYRO_PY, get("_pyro_loop_py"), PyFunction_GetCode(empty),
                            0, slowdown);
    }
    if (rc == 0 && p->builtins)
        rc = calibrate_builtins(p, slowdown);
    memcpy(p->st.cost_enter, saved_enter, sizeof(saved_enter));
    memcpy(p->st.cost_leave, saved_leave, sizeof(saved_leave));
    p->st.c_stretch = saved_stretch;
    if (rc == 0)
        p->calibrated = 1;
    return rc;
}
