/* collapsed_reader.h: collapsed stacks read into a call tree.
 *
 * Collapsed stacks are text, one sampled stack a line, root first, frames
 * joined by ';', then whitespace and the number of samples:
 *
 *     tid:4242;runpy.py:_run_code:87;prog.py:main:13;prog.py:leaf:4 130
 *     main (app.py:10);parse (app.py:42);{built-in method builtins.len} 12
 *     perl;Perl_runops_standard;Perl_pp_padsv 3
 *
 * CPython 3.15's `profiling.sampling --collapsed` writes the first kind
 * (a thread, then `file:function:line` frames, the line being the one the
 * frame was running), pyrometer's `convert -f collapsed` and py-spy the
 * second, Brendan Gregg's stackcollapse scripts the third.  A frame reads
 * as the pstats key (file, line, name) it names; any other text as a
 * function of its own, ('~', 0, text), which pstats prints as the text.
 * The thread frame that 3.15 puts first is left out: the stacks of all
 * threads add up, as in 3.15's own pstats output. */
#ifndef PYRO_COLLAPSED_READER_H
#define PYRO_COLLAPSED_READER_H

#include "core/compat.h"

/* More distinct call paths than this is refused: pyrometer's own call
 * tree holds no more, and each costs a few dozen bytes in the tree. */
#define PYRO_COLLAPSED_MAX_NODES ((size_t)1 << 21)
/* The counts of a line, and all of them added, stay exact in a double. */
#define PYRO_COLLAPSED_MAX_COUNT 999999999999999LL
#define PYRO_COLLAPSED_MAX_TOTAL ((long long)1 << 53)

/* The call tree (docs/tree-format.md, version 2, one metric "samples" in
 * samples; a node's calls are the samples that went through it) of the
 * collapsed stacks in data[0:len), read from `path`.
 *
 * 0 with *tree a new dict; 1 with *why (a new str) when the data is no
 * collapsed stacks at all (its first line is none), so that the caller can
 * say what else it is not; -1 + FormatError, one line naming `path` and
 * the line, for stacks that go wrong further on, or MemoryError. */
int pyro_collapsed_read(const char *path, const char *data, size_t len, PyObject **tree,
                        PyObject **why);

#endif
