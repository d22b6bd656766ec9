/* tstate.c: per-thread state, made at a thread's first event (see
 * tstate.h).  States live as long as the process: a thread-local pointer
 * to one never dangles, and a profiler enabled again finds its stacks. */
#include "runtime/tstate.h"
#include "runtime/session.h"
#include "runtime/speed.h"

PYRO_TLS pyro_tstate *pyro_tls_tstate;
pyro_tstate pyro_tstate_none = {.next_probe = INT64_MAX, .gap_ticks = INT64_MAX};
static pyro_tstate *all;
static int64_t probe_interval = INT64_MAX;
static int64_t gap_ticks = INT64_MAX;

pyro_tstate *pyro_tstate_attach(void)
{
    pyro_tstate *t = PyMem_RawCalloc(1, sizeof(*t));
    if (t == NULL)
        return &pyro_tstate_none;   /* tried again at the next event */
    t->next_probe = 0;   /* at its first event */
    t->gap_ticks = gap_ticks;
    t->wait_seen = -1;
    t->next = all;
    all = t;
    pyro_tls_tstate = t;
    return t;
}

void pyro_tstate_restart_probes(int64_t interval, int64_t gap)
{
    probe_interval = interval;
    gap_ticks = gap;
    for (pyro_tstate *t = all; t != NULL; t = t->next) {
        t->next_probe = 0;
        t->gap_ticks = gap;
        t->wait_seen = -1;   /* the first event of the session sets the baseline */
    }
}

/* Leave out of the gap since the thread's last event the time it waited
 * for a CPU since its scheduler times were last read, when that wait fits
 * in the gap: a wait found later in a longer stretch (many short waits,
 * none a gap) is not placed here, only forgotten. */
static void leave_out_wait(pyro_tstate *t, int64_t raw)
{
    int64_t run, wait;
    if (!pyro_speed_sched(&run, &wait)) {
        t->gap_ticks = INT64_MAX;   /* the system does not tell: stop asking */
        return;
    }
    int64_t gap = raw - t->last_raw;
    if (t->wait_seen >= 0 && wait > t->wait_seen && t->last_raw != 0 && gap > 0) {
        double per_ns = pyro_clock_ticks_per_ns();
        int64_t ticks = (int64_t)((double)(wait - t->wait_seen) * per_ns);
        if (ticks > gap)
            ticks = gap;
        if (ticks > 0) {
            t->overhead += ticks;
            pyro_session_add_waited(ticks);
        }
    }
    t->wait_seen = wait;
}

int64_t pyro_tstate_slow(pyro_tstate *t, int64_t raw)
{
    if (t == &pyro_tstate_none)
        return raw;
    if (probe_interval == INT64_MAX) {
        t->next_probe = INT64_MAX;   /* no clock read: the test clock stays exact */
        t->gap_ticks = INT64_MAX;
        return raw;
    }
    if (raw - t->last_raw > t->gap_ticks || t->wait_seen < 0)
        leave_out_wait(t, raw);
    if (raw >= t->next_probe) {
        pyro_session_speed_sample();
        /* Waits too short to make a gap are not placed; they start no
         * later than here. */
        int64_t run, wait;
        if (t->gap_ticks != INT64_MAX && pyro_speed_sched(&run, &wait))
            t->wait_seen = wait;
    }
    int64_t after = pyro_clock_now();
    t->overhead += after - raw;
    if (raw >= t->next_probe)
        t->next_probe = after + probe_interval;
    return after;
}
