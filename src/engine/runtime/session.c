/* session.c: the modes that are on, and the rules for running them
 * together (see session.h). */
#include "runtime/session.h"
#include "runtime/speed.h"
#include "runtime/tstate.h"

#include <stdatomic.h>
#include <string.h>

static PyObject *owners[PYRO_MODE_N];   /* borrowed: an owner leaves before it dies */
static pyro_mode_stop stops[PYRO_MODE_N];
static pyro_mode_rescale rescales[PYRO_MODE_N];
static unsigned failures;                /* PYRO_FAIL_* met since the session began */
static int active;                       /* modes on */
static pyro_clock_kind session_clock;    /* theirs */

static const char *const mode_names[PYRO_MODE_N] = {
    [PYRO_MODE_FUNCTION] = "function",
    [PYRO_MODE_LINES] = "line",
};

/* A clock as users name it. */
static const char *user_clock_name(pyro_clock_kind kind)
{
    return kind == PYRO_CLOCK_CPU ? "cpu" : kind == PYRO_CLOCK_TEST ? "test" : "wall";
}

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

/* ---- speed -------------------------------------------------------------
 * Probes from every thread go into a small ring; the median of the ring is
 * the speed.  Costs follow it only when it moved by more than SPEED_SLACK
 * per cent: a probe's noise must not make the costs jitter. */
#define SPEED_RING 5
#define SPEED_SLACK 3

static int64_t ring[SPEED_RING];
static int ring_count, ring_next;
static int64_t speed_applied;     /* the probe ticks the modes' costs follow */
static unsigned speed_changes;
static int64_t waited;            /* ticks of waits for a CPU left out */

static void speed_restart(void)
{
    ring_count = ring_next = 0;
    speed_applied = 0;
    speed_changes = 0;
    waited = 0;
    pyro_tstate_restart_probes(pyro_speed_interval(), pyro_speed_gap());
}

static int64_t ring_median(void)
{
    int64_t v[SPEED_RING];
    for (int i = 0; i < ring_count; i++)
        v[i] = ring[i];
    for (int i = 1; i < ring_count; i++)   /* five values: insertion sort */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return v[ring_count / 2];
}

static void speed_add(int64_t probe)
{
    ring[ring_next] = probe;
    ring_next = (ring_next + 1) % SPEED_RING;
    if (ring_count < SPEED_RING)
        ring_count++;
}

int64_t pyro_session_speed(void)
{
    if (speed_applied == 0) {
        speed_add(pyro_speed_probe());
        speed_applied = ring_median();
    }
    return speed_applied;
}

void pyro_session_speed_sample(void)
{
    speed_add(pyro_speed_probe());
    int64_t now = ring_median();
    if (speed_applied != 0) {
        int64_t moved = now > speed_applied ? now - speed_applied : speed_applied - now;
        if (moved * 100 <= speed_applied * SPEED_SLACK)
            return;
        speed_changes++;
    }
    speed_applied = now;
    for (int m = 0; m < PYRO_MODE_N; m++)
        if (owners[m] != NULL && rescales[m] != NULL)
            rescales[m](owners[m], now);
}

void pyro_session_add_waited(int64_t ticks)
{
    waited += ticks;
}

double pyro_session_waited_seconds(void)
{
    return waited > 0 ? (double)waited * pyro_clock_seconds_per_tick() : 0.0;
}

unsigned pyro_session_speed_changes(void)
{
    return speed_changes;
}

int pyro_session_join(pyro_mode m, PyObject *owner, const char *clock_name, pyro_mode_stop stop,
                      pyro_mode_rescale rescale)
{
    int kind = pyro_clock_kind_of(clock_name);
    if (kind < 0) {
        PyErr_Format(PyExc_ValueError, "pyrometer: unknown clock '%s' (choose 'wall' or 'cpu')",
                     clock_name);
        return -1;
    }
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
    if (active > 0 && (pyro_clock_kind)kind != session_clock) {
        for (int other = 0; other < PYRO_MODE_N; other++)
            if (owners[other] != NULL) {
                PyErr_Format(PyExc_ValueError,
                             "pyrometer: the %s profiler that is on measures %s time: a %s "
                             "profiler on %s time cannot run beside it (give both one clock)",
                             mode_names[other], user_clock_name(session_clock), mode_names[m],
                             user_clock_name((pyro_clock_kind)kind));
                return -1;
            }
    }
    if (active == 0) {
        session_clock = (pyro_clock_kind)kind;
        pyro_clock_use(session_clock);
        failures = 0;
        speed_restart();
    }
    owners[m] = owner;
    stops[m] = stop;
    rescales[m] = rescale;
    active++;
    return 0;
}

void pyro_session_leave(pyro_mode m, PyObject *owner)
{
    if (owner != NULL && owners[m] == owner) {
        owners[m] = NULL;
        stops[m] = NULL;
        rescales[m] = NULL;
        active--;
    }
}

PyObject *pyro_session_owner(pyro_mode m)
{
    return owners[m];
}

void pyro_session_fail(unsigned failure)
{
    if ((failures & failure) == failure)
        return;   /* already stopped for it (a stop may report it again) */
    failures |= failure;
    for (int m = 0; m < PYRO_MODE_N; m++)
        if (owners[m] != NULL && stops[m] != NULL)
            stops[m](owners[m], failure);
}

unsigned pyro_session_failures(void)
{
    return failures;
}

/* ---- the traced heap ------------------------------------------------- */

static _Atomic uint64_t heap_live;
static _Atomic int heap_traced;

void pyro_session_heap_begin(void)
{
    atomic_store_explicit(&heap_live, 0, memory_order_relaxed);
    atomic_store_explicit(&heap_traced, 1, memory_order_release);
}

void pyro_session_heap_end(void)
{
    atomic_store_explicit(&heap_traced, 0, memory_order_release);
}

void pyro_session_heap_set(uint64_t live)
{
    atomic_store_explicit(&heap_live, live, memory_order_relaxed);
}

int pyro_session_heap_live(uint64_t *bytes)
{
    if (!atomic_load_explicit(&heap_traced, memory_order_acquire))
        return 0;
    *bytes = atomic_load_explicit(&heap_live, memory_order_relaxed);
    return 1;
}
