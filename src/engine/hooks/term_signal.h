/* term_signal.h: save a profile when SIGTERM ends a forked child.
 *
 * multiprocessing's Pool.terminate() ends its workers with SIGTERM while
 * they wait on a semaphore.  A Python-level handler only runs when that
 * wait wakes up, and a signal that lands just before the wait begins never
 * wakes it: the worker, and the pool with it, would hang.  So the handler
 * here is C: it writes a byte to a pipe, and a thread of ours takes the
 * GIL (which the waiting worker has released), calls back to save the
 * profile, and then lets SIGTERM end the process as it would have.  To the
 * program, signal.getsignal(SIGTERM) still says SIG_DFL, and a handler of
 * its own replaces ours. */
#ifndef PYRO_TERM_SIGNAL_H
#define PYRO_TERM_SIGNAL_H

#include "core/compat.h"

/* term_watch(callback, grace=10.0) -> bool: take SIGTERM if its
 * disposition is the default; the callback runs on a thread of ours with
 * the GIL, and the process dies of SIGTERM after it, or after `grace`
 * seconds if the GIL cannot be had. */
PyObject *pyro_py_term_watch(PyObject *module, PyObject *args);
/* term_unwatch(): give SIGTERM back to the default action. */
PyObject *pyro_py_term_unwatch(PyObject *module, PyObject *unused);

#endif
