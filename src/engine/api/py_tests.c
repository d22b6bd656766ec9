/* py_tests.c: the call-tree table driven by a script (see py_tests.h):
 *
 *   _calltree_run([("call", code), ("return", code), ("resync", code), ...],
 *                 fold_depth=64, node_limit=0, cost=0, floor=0) -> (stats, tree, info)
 *
 * Each call and return reads the test clock once, as the hooks do; the
 * result is what a Profiler would export for those events, and info tells
 * {"nodes", "folded_calls", "out_of_memory", "floored"}.  `cost` is charged
 * at every call (ns of compensation, as a calibration would set it) and
 * `floor` is a call's least own time (pyro_settle runs before the export). */
#include "api/py_tests.h"
#include "core/clock.h"
#include "model/calltree_export.h"
#include "tables/calltree.h"

static int count_folded(pyro_node *n, void *arg)
{
    if (n->fold_to != NULL)
        *(uint64_t *)arg += n->calls;
    return 0;
}

PyObject *pyro_py_calltree_run(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"script", "fold_depth", "node_limit", "cost", "floor", NULL};
    PyObject *script;
    unsigned int fold_depth = 64;
    Py_ssize_t node_limit = 0;
    long long cost = 0, floor = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|InLL:_calltree_run", kwlist, &script,
                                     &fold_depth, &node_limit, &cost, &floor))
        return NULL;
    PyObject *ops = PySequence_Fast(script, "pyrometer: the script is a sequence of (op, code)");
    if (ops == NULL)
        return NULL;
    pyro_clock_kind saved = pyro_clock_mode;
    pyro_clock_use(PYRO_CLOCK_TEST);
    pyro_state st;
    PyObject *stats = NULL, *tree = NULL, *result = NULL;
    if (pyro_state_init(&st) < 0)
        goto done;
    st.fold_depth = fold_depth < 2 ? 2 : fold_depth;
    st.node_limit = node_limit > 0 ? (size_t)node_limit : 0;
    st.cost_enter[PYRO_PY] = cost > 0 ? cost : 0;
    st.floor_py = floor > 0 ? floor : 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(ops); i++) {
        PyObject *op = PySequence_Fast_GET_ITEM(ops, i);
        const char *what;
        PyObject *code;
        if (!PyArg_ParseTuple(op, "sO!", &what, &PyCode_Type, &code))
            goto done;
        if (strcmp(what, "call") == 0)
            pyro_enter(&st, PYRO_PY, code, code, NULL);
        else if (strcmp(what, "return") == 0)
            pyro_leave(&st, PYRO_PY, code);
        else if (strcmp(what, "resync") == 0)
            pyro_resync(&st, code);
        else {
            PyErr_Format(PyExc_ValueError, "pyrometer: unknown op '%s'", what);
            goto done;
        }
    }
    pyro_flush_all(&st);
    uint64_t folded = 0;
    pyro_for_each_node(&st, count_folded, &folded);
    pyro_settle(&st);
    stats = pyro_export_pstats(&st, 1e-9);
    tree = stats != NULL ? pyro_export_tree(&st, 1e-9) : NULL;
    if (tree != NULL)
        result = Py_BuildValue("(OO{s:K,s:K,s:O,s:K})", stats, tree,
                               "nodes", (unsigned long long)st.node_count,
                               "folded_calls", (unsigned long long)folded,
                               "out_of_memory", st.nomemory ? Py_True : Py_False,
                               "floored", (unsigned long long)st.floored);
done:
    Py_XDECREF(stats);
    Py_XDECREF(tree);
    pyro_state_clear(&st);
    pyro_clock_use(saved);
    Py_DECREF(ops);
    return result;
}
