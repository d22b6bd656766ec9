/* timeline.h: memory over time, as the timeline's sampler and brackets
 * fill it.
 *
 * Samples (the RSS and the traced heap's bytes alive, at a time) go into a
 * buffer that grows up to a bound; a buffer at its bound is halved, every
 * other sample dropped, and the caller doubles its interval: a run of any
 * length keeps between half the bound and the bound of evenly spaced
 * samples.  The largest RSS and heap ever sampled are kept apart, so a
 * halving never loses the peak.  Brackets are the calls of functions
 * marked for the timeline (@profile), each with its start and end; a full
 * set of brackets is halved too, each pair of neighbours keeping the
 * longer one (the ones a plot shows).  Not thread-safe: the caller
 * serializes (the sampler thread and the GIL's holders share a lock for
 * the samples; brackets are only touched under the GIL).  Memory comes
 * from the C library, not even from Python's RAW domain: tracemalloc
 * hooks that one and takes the GIL in it, which the sampler, holding the
 * samples' lock, must never wait for. */
#ifndef PYRO_TIMELINE_H
#define PYRO_TIMELINE_H

#include "core/compat.h"

#include <stdint.h>

/* A value nobody measured: the RSS where the system does not tell it, the
 * heap when no memory mode traced it. */
#define PYRO_TL_UNKNOWN UINT64_MAX

typedef struct {
    int64_t t;                 /* ns since the timeline began */
    uint64_t rss;              /* bytes, or PYRO_TL_UNKNOWN */
    uint64_t heap;             /* bytes alive of the traced blocks, or PYRO_TL_UNKNOWN */
} pyro_tl_sample;

/* The bracket did not end before the timeline stopped (sys.exit inside). */
#define PYRO_TL_UNFINISHED 1u

typedef struct {
    uint32_t name;             /* index into the owner's names */
    uint32_t depth;            /* brackets open at its start, itself included */
    uint32_t flags;            /* PYRO_TL_* */
    pyro_tl_sample start, end;
    uint64_t token;            /* open brackets: what exit() names it by */
} pyro_tl_bracket;

#define PYRO_TL_MAX_OPEN 256

typedef struct pyro_timeline {
    pyro_tl_sample *samples;
    size_t nsamples, cap, max_samples;
    unsigned halvings;
    pyro_tl_sample peak_rss, peak_heap;   /* .t < 0: none yet */
    pyro_tl_bracket *brackets;
    size_t nbrackets, bcap, max_brackets;
    uint64_t dropped_brackets;            /* halved away, or refused (too deep) */
    pyro_tl_bracket open[PYRO_TL_MAX_OPEN];
    size_t nopen;
    uint64_t next_token;
    int nomemory;                         /* a buffer could not grow */
} pyro_timeline;

/* An empty timeline keeping up to `max_samples` samples and `max_brackets`
 * brackets (each at least 16, even). */
void pyro_timeline_init(pyro_timeline *tl, size_t max_samples, size_t max_brackets);
void pyro_timeline_release(pyro_timeline *tl);

/* Add a sample (times never go back).  1 when the buffer was halved to
 * make room (the caller doubles its interval), 0, or -1 when memory ran
 * out (nothing added, nomemory set). */
int pyro_timeline_add(pyro_timeline *tl, pyro_tl_sample s);

/* A call of function `name` begins at `s`: its token (never 0), or 0 when
 * PYRO_TL_MAX_OPEN brackets are open already (counted as dropped). */
uint64_t pyro_timeline_enter(pyro_timeline *tl, uint32_t name, pyro_tl_sample s);

/* The call of `token` ends at `s` (a token not open is ignored: dropped
 * at a stop, or given twice).  0, or -1 when memory ran out. */
int pyro_timeline_exit(pyro_timeline *tl, uint64_t token, pyro_tl_sample s);

/* End every open bracket at `s`, flagged PYRO_TL_UNFINISHED. */
void pyro_timeline_close_all(pyro_timeline *tl, pyro_tl_sample s);

#endif
