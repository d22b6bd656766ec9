/* tstate.c: per-thread state, made at a thread's first event (see
 * tstate.h).  States live as long as the process: a thread-local pointer
 * to one never dangles, and a profiler enabled again finds its stacks. */
#include "runtime/tstate.h"

PYRO_TLS pyro_tstate *pyro_tls_tstate;
pyro_tstate pyro_tstate_none;
static pyro_tstate *all;

pyro_tstate *pyro_tstate_attach(void)
{
    pyro_tstate *t = PyMem_RawCalloc(1, sizeof(*t));
    if (t == NULL)
        return &pyro_tstate_none;   /* tried again at the next event */
    t->next = all;
    all = t;
    pyro_tls_tstate = t;
    return t;
}
