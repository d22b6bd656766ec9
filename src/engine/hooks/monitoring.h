/* monitoring.h: what both event sources need from sys.monitoring (3.12+):
 * callback objects with their own vectorcall entry, and tool ids. */
#ifndef PYRO_MONITORING_H
#define PYRO_MONITORING_H

#include "core/compat.h"

#if PYRO_HAVE_MONITORING

/* A callback: a small callable whose vectorcall entry is `fn`, so the
 * interpreter calls straight into C without the argument and recursion
 * checks a builtin function goes through.  `owner` is kept alive. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *owner;
} pyro_callback;

#define PYRO_CALLBACK_OWNER(hook) (((pyro_callback *)(hook))->owner)

PyObject *pyro_callback_new(vectorcallfunc fn, PyObject *owner);

/* New reference to sys.monitoring. */
PyObject *pyro_monitoring(void);

/* Claim a free tool id, PROFILER first; RuntimeError when all are taken. */
int pyro_claim_tool(PyObject *mon);


/* The value of sys.monitoring.events.<name>, or -1 + exception. */
long pyro_event_bit(PyObject *mon, const char *name);

/* Register `fn` (owned by `owner`) for event `name`.  0 or -1. */
int pyro_register(PyObject *mon, int id, const char *name, vectorcallfunc fn, PyObject *owner);

/* A mode's callbacks: the event (by name: CPython numbers them
 * differently from one version to the next) and the C function. */
typedef struct {
    const char *event;
    vectorcallfunc fn;
} pyro_monitoring_callback;

/* Claim a tool id and register the first `n` callbacks of `table` (each
 * keeping `owner` alive); *mask gets their events' bits.  The id, or -1 +
 * exception with nothing left behind. */
int pyro_monitoring_subscribe(PyObject *mon, PyObject *owner, const pyro_monitoring_callback *table,
                              size_t n, long *mask);

/* Unregister every callback of `table`, clear the tool's events and free
 * its id.  Keeps any exception in flight. */
void pyro_monitoring_unsubscribe(PyObject *mon, int id, const pyro_monitoring_callback *table,
                                 size_t n);

#endif
#endif
