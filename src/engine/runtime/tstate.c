/* tstate.c: per-thread state, made at a thread's first event (see
 * tstate.h).  States live as long as the process: a thread-local pointer
 * to one never dangles, and a profiler enabled again finds its stacks. */
#include "runtime/tstate.h"
#include "runtime/session.h"
#include "runtime/speed.h"

PYRO_TLS pyro_tstate *pyro_tls_tstate;
pyro_tstate pyro_tstate_none;
static pyro_tstate *all;
static int64_t probe_interval = INT64_MAX;

pyro_tstate *pyro_tstate_attach(void)
{
    pyro_tstate *t = PyMem_RawCalloc(1, sizeof(*t));
    if (t == NULL)
        return &pyro_tstate_none;   /* tried again at the next event */
    t->next_probe = 0;   /* at its first event */
    t->next = all;
    all = t;
    pyro_tls_tstate = t;
    return t;
}

void pyro_tstate_restart_probes(int64_t interval)
{
    probe_interval = interval;
    for (pyro_tstate *t = all; t != NULL; t = t->next)
        t->next_probe = 0;
    pyro_tstate_none.next_probe = INT64_MAX;
}

int64_t pyro_tstate_probe(pyro_tstate *t, int64_t raw)
{
    if (probe_interval == INT64_MAX || t == &pyro_tstate_none) {
        t->next_probe = INT64_MAX;   /* no clock read: the test clock stays exact */
        return raw;
    }
    /* How much of the wall clock this thread ran since its last probe. */
    int64_t run = 0, wait = 0, ran = 0, waited = 0;
    if (pyro_clock_mode != PYRO_CLOCK_CPU && pyro_speed_sched(&run, &wait)) {
        if (t->sched_run > 0 && run >= t->sched_run && wait >= t->sched_wait) {
            ran = run - t->sched_run;
            waited = wait - t->sched_wait;
        }
        t->sched_run = run;
        t->sched_wait = wait;
    }
    pyro_session_speed_sample(ran, waited);
    int64_t after = pyro_clock_now();
    t->overhead += after - raw;
    t->next_probe = after + probe_interval;
    return after;
}
