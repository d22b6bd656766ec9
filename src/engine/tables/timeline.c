/* timeline.c: the samples and brackets of memory over time (see
 * timeline.h). */
#include "tables/timeline.h"

#include <stdlib.h>
#include <string.h>

static const pyro_tl_sample none = {-1, PYRO_TL_UNKNOWN, PYRO_TL_UNKNOWN};

void pyro_timeline_init(pyro_timeline *tl, size_t max_samples, size_t max_brackets)
{
    memset(tl, 0, sizeof(*tl));
    tl->max_samples = max_samples < 16 ? 16 : max_samples & ~(size_t)1;
    tl->max_brackets = max_brackets < 16 ? 16 : max_brackets & ~(size_t)1;
    tl->peak_rss = tl->peak_heap = none;
    tl->next_token = 1;
}

void pyro_timeline_release(pyro_timeline *tl)
{
    free(tl->samples);
    free(tl->brackets);
    tl->samples = NULL;
    tl->brackets = NULL;
    tl->nsamples = tl->cap = tl->nbrackets = tl->bcap = tl->nopen = 0;
}

/* Room for one more item in an array of `*cap` items of `size` bytes,
 * doubling up to `max`: 0, or -1 when memory ran out. */
static int room(void **items, size_t *cap, size_t used, size_t max, size_t size)
{
    if (used < *cap)
        return 0;
    size_t want = *cap ? *cap * 2 : 256;
    if (want > max)
        want = max;
    void *grown = realloc(*items, want * size);
    if (grown == NULL)
        return -1;
    *items = grown;
    *cap = want;
    return 0;
}

static void keep_peaks(pyro_timeline *tl, pyro_tl_sample s)
{
    if (s.rss != PYRO_TL_UNKNOWN && (tl->peak_rss.t < 0 || s.rss > tl->peak_rss.rss))
        tl->peak_rss = s;
    if (s.heap != PYRO_TL_UNKNOWN && (tl->peak_heap.t < 0 || s.heap > tl->peak_heap.heap))
        tl->peak_heap = s;
}

int pyro_timeline_add(pyro_timeline *tl, pyro_tl_sample s)
{
    int halved = 0;
    keep_peaks(tl, s);
    if (tl->nsamples == tl->max_samples) {
        /* Every other sample goes: the rest are evenly spaced at twice the
         * interval, which the caller now samples at. */
        for (size_t i = 1; i < tl->nsamples / 2; i++)
            tl->samples[i] = tl->samples[2 * i];
        tl->nsamples /= 2;
        tl->halvings++;
        halved = 1;
    }
    if (room((void **)&tl->samples, &tl->cap, tl->nsamples, tl->max_samples,
             sizeof(*tl->samples)) < 0) {
        tl->nomemory = 1;
        return -1;
    }
    tl->samples[tl->nsamples++] = s;
    return halved;
}

uint64_t pyro_timeline_enter(pyro_timeline *tl, uint32_t name, pyro_tl_sample s)
{
    keep_peaks(tl, s);
    if (tl->nopen == PYRO_TL_MAX_OPEN) {
        tl->dropped_brackets++;
        return 0;
    }
    pyro_tl_bracket *b = &tl->open[tl->nopen++];
    memset(b, 0, sizeof(*b));
    b->name = name;
    b->depth = (uint32_t)tl->nopen;
    b->start = s;
    b->end = s;
    b->token = tl->next_token++;
    return b->token;
}

/* A finished bracket into the kept ones; a full set is halved first, each
 * pair of neighbours keeping its longer bracket. */
static int keep_bracket(pyro_timeline *tl, const pyro_tl_bracket *b)
{
    if (tl->nbrackets == tl->max_brackets) {
        size_t half = tl->nbrackets / 2;
        for (size_t i = 0; i < half; i++) {
            const pyro_tl_bracket *x = &tl->brackets[2 * i], *y = &tl->brackets[2 * i + 1];
            tl->brackets[i] = (y->end.t - y->start.t > x->end.t - x->start.t) ? *y : *x;
        }
        tl->dropped_brackets += tl->nbrackets - half;
        tl->nbrackets = half;
    }
    if (room((void **)&tl->brackets, &tl->bcap, tl->nbrackets, tl->max_brackets,
             sizeof(*tl->brackets)) < 0) {
        tl->nomemory = 1;
        return -1;
    }
    tl->brackets[tl->nbrackets] = *b;
    tl->brackets[tl->nbrackets].token = 0;
    tl->nbrackets++;
    return 0;
}

int pyro_timeline_exit(pyro_timeline *tl, uint64_t token, pyro_tl_sample s)
{
    keep_peaks(tl, s);
    /* The innermost open bracket is the usual one; threads and generators
     * may end others first. */
    for (size_t i = tl->nopen; i > 0; i--) {
        if (tl->open[i - 1].token != token)
            continue;
        pyro_tl_bracket b = tl->open[i - 1];
        memmove(&tl->open[i - 1], &tl->open[i], (tl->nopen - i) * sizeof(tl->open[0]));
        tl->nopen--;
        b.end = s;
        return keep_bracket(tl, &b);
    }
    return 0;
}

void pyro_timeline_close_all(pyro_timeline *tl, pyro_tl_sample s)
{
    while (tl->nopen > 0) {
        pyro_tl_bracket b = tl->open[--tl->nopen];
        b.end = s;
        b.flags |= PYRO_TL_UNFINISHED;
        if (keep_bracket(tl, &b) < 0)
            break;
    }
    tl->nopen = 0;
}
