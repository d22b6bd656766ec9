/* rss.h: the process's resident set size, as the system tells it.
 *
 * Linux: the RSS now from /proc/self/statm (resident pages x page size),
 * the peak since the last reset from VmHWM in /proc/self/status, and the
 * reset itself by writing "5" to /proc/self/clear_refs (Linux 4.0+, where
 * the sandbox permits it).  Everywhere with getrusage: ru_maxrss, the
 * process's peak (the kernel's mark, so lowered by a reset on Linux too).
 * Elsewhere nothing is known.  The files are read with bounded reads and
 * parsed defensively: a missing, short or strange file means "unknown",
 * never an error nor a crash.  Needs no GIL; sets no exception. */
#ifndef PYRO_RSS_H
#define PYRO_RSS_H

#include "core/compat.h"

#include <stdint.h>

/* The RSS now, in bytes: 1, or 0 where unknown. */
int pyro_rss_now(uint64_t *bytes);

/* The largest RSS since the mark was last reset (or since the process
 * began), in bytes: 1, or 0 where unknown. */
int pyro_rss_mark(uint64_t *bytes);

/* Lower the mark to the RSS now: 1 if done, 0 if refused or unknown. */
int pyro_rss_reset_mark(void);

/* getrusage's ru_maxrss in bytes (KiB on Linux and the BSDs, bytes on
 * macOS): 1, or 0 where unknown. */
int pyro_rss_maxrss(uint64_t *bytes);

#endif
