/* rss_blocks.h: the RSS before, after and at the peak of blocks of code,
 * any number of them open at once (nested, or in other threads).
 *
 * The kernel keeps one high-water mark of RSS per process.  A block
 * resets it at its start to measure its own peak, which would lose the
 * peak of every block still open around it.  So before each reset the
 * mark is read and given to every open block, each keeping the largest
 * RSS it was given; at its end a block takes the mark once more.  Since
 * every block reset the mark at its start, the stretch of time a mark
 * covers (since the last reset) lies inside every block open then: no
 * block is given a peak from before it began, none loses one.  What
 * another tool's reset hides, and the growth between a read and the reset
 * that follows it (a few microseconds), is not seen.
 *
 * Where the mark cannot be reset (no /proc, a sandbox refuses, or the
 * caller asks not to), a block's peak is the process's peak so far:
 * flagged, as it may come from before the block.  The list of open blocks
 * is kept under the GIL (the readers hold it: they take microseconds). */
#ifndef PYRO_RSS_BLOCKS_H
#define PYRO_RSS_BLOCKS_H

#include "core/compat.h"

#include <stdint.h>

typedef struct pyro_rss_block {
    uint64_t before, after, peak;  /* bytes */
    int known_now;                 /* the RSS now is known: before, after */
    int known_peak;                /* peak is known */
    int own_peak;                  /* the peak is the block's own, not the process's */
    int open;
    struct pyro_rss_block *prev, *next;
} pyro_rss_block;

/* Open `b`: RSS before; with `reset`, the mark reset (the other open
 * blocks given the mark first) so that the peak is the block's own. */
void pyro_rss_block_start(pyro_rss_block *b, int reset);

/* Close `b` (if open): RSS after, and its peak (at least before and after). */
void pyro_rss_block_stop(pyro_rss_block *b);

/* Take `b` out of the open blocks without reading anything (a block
 * abandoned open). */
void pyro_rss_block_drop(pyro_rss_block *b);

/* The process's peak RSS since it began: getrusage's, or, if a block
 * lowered the kernel's mark, the largest mark read before a reset: 1, or
 * 0 where unknown. */
int pyro_rss_process_peak(uint64_t *bytes);

#endif
