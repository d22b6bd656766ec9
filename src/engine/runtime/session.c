/* session.c: the modes that are on, and the rules for running them
 * together (see session.h). */
#include "runtime/session.h"

static PyObject *owners[PYRO_MODE_N];   /* borrowed: an owner leaves before it dies */

static const char *const taken[PYRO_MODE_N] = {
    [PYRO_MODE_FUNCTION] = "pyrometer: another profiler is already enabled",
    [PYRO_MODE_LINES] = "pyrometer: another line profiler is already enabled",
};

/* Pairs of modes that cannot run together, and why. */
static const struct {
    pyro_mode a, b;
    int applies;
    const char *why;
} exclusive[] = {
    /* Before sys.monitoring both modes need the thread's one profile or
     * trace slot and the eval-frame hook in ways that do not compose. */
    {PYRO_MODE_FUNCTION, PYRO_MODE_LINES, !PYRO_HAVE_MONITORING,
     "pyrometer: before Python 3.12 the line profiler and the function profiler cannot run "
     "at the same time"},
};

int pyro_session_join(pyro_mode m, PyObject *owner)
{
    if (owners[m] == owner)
        return 0;
    if (owners[m] != NULL) {
        PyErr_SetString(PyExc_ValueError, taken[m]);
        return -1;
    }
    for (size_t i = 0; i < sizeof(exclusive) / sizeof(exclusive[0]); i++) {
        pyro_mode other = exclusive[i].a == m ? exclusive[i].b
                        : exclusive[i].b == m ? exclusive[i].a : PYRO_MODE_N;
        if (exclusive[i].applies && other != PYRO_MODE_N && owners[other] != NULL) {
            PyErr_SetString(PyExc_ValueError, exclusive[i].why);
            return -1;
        }
    }
    owners[m] = owner;
    return 0;
}

void pyro_session_leave(pyro_mode m, PyObject *owner)
{
    if (owners[m] == owner)
        owners[m] = NULL;
}

PyObject *pyro_session_owner(pyro_mode m)
{
    return owners[m];
}
