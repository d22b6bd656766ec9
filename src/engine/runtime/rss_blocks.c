/* rss_blocks.c: peaks of blocks open at once over one kernel mark (see
 * rss_blocks.h). */
#include "runtime/rss_blocks.h"

#include "core/rss.h"

/* The open blocks, newest first. */
static pyro_rss_block *open_blocks;
/* The largest mark read before a reset lowered it: with getrusage's, the
 * process's peak since it began. */
static uint64_t marks_before_resets;

static void give_peak(pyro_rss_block *b, uint64_t bytes)
{
    if (!b->known_peak || bytes > b->peak) {
        b->peak = bytes;
        b->known_peak = 1;
    }
}

int pyro_rss_process_peak(uint64_t *bytes)
{
    uint64_t peak = marks_before_resets, v;
    if (pyro_rss_maxrss(&v) && v > peak)
        peak = v;
    if (pyro_rss_mark(&v) && v > peak)
        peak = v;
    if (peak == 0)
        return 0;
    *bytes = peak;
    return 1;
}

void pyro_rss_block_drop(pyro_rss_block *b)
{
    if (!b->open)
        return;
    if (b->prev != NULL)
        b->prev->next = b->next;
    else
        open_blocks = b->next;
    if (b->next != NULL)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
    b->open = 0;
}

void pyro_rss_block_start(pyro_rss_block *b, int reset)
{
    pyro_rss_block_drop(b);
    b->before = b->after = b->peak = 0;
    b->known_now = b->known_peak = b->own_peak = 0;
    uint64_t mark;
    /* A mark that cannot be read is not reset: nothing could read the
     * peak afterwards, and the open blocks would lose theirs. */
    if (reset && pyro_rss_mark(&mark)) {
        for (pyro_rss_block *o = open_blocks; o != NULL; o = o->next)
            if (o->own_peak)
                give_peak(o, mark);
        if (pyro_rss_reset_mark()) {
            b->own_peak = 1;
            if (mark > marks_before_resets)
                marks_before_resets = mark;
        }
    }
    /* Read after the reset: the mark now starts at about this RSS. */
    b->known_now = pyro_rss_now(&b->before);
    if (b->known_now)
        give_peak(b, b->before);
    b->open = 1;
    b->next = open_blocks;
    if (open_blocks != NULL)
        open_blocks->prev = b;
    open_blocks = b;
}

void pyro_rss_block_stop(pyro_rss_block *b)
{
    uint64_t v;
    if (!b->open)
        return;
    pyro_rss_block_drop(b);
    if (b->known_now && pyro_rss_now(&v)) {
        b->after = v;
        give_peak(b, v);
    }
    else {
        b->known_now = 0;
    }
    if (b->own_peak && pyro_rss_mark(&v)) {
        give_peak(b, v);
        return;
    }
    b->own_peak = 0;
    if (pyro_rss_process_peak(&v))
        give_peak(b, v);
}
