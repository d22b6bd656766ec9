/* audit.h: one audit hook (PEP 578) for the whole engine.
 *
 * Audit hooks cannot be removed, so the engine adds one, once, and hands
 * the events it cares about to whoever subscribed: the runner's name watch
 * ("exec"), and before 3.12 the profile hook's guard ("sys.setprofile",
 * "sys.settrace"). */
#ifndef PYRO_AUDIT_H
#define PYRO_AUDIT_H

#include "core/compat.h"

/* Called with the event's arguments (a tuple) and the GIL; never raises
 * (an audit hook that fails makes the program's call fail). */
typedef void (*pyro_audit_fn)(const char *event, PyObject *args);

/* Call `fn` for each audit event named `event` (a string that lives as
 * long as the process) from now on.  Subscribing twice is once.  0, or -1
 * with an exception. */
int pyro_audit_subscribe(const char *event, pyro_audit_fn fn);

#endif
