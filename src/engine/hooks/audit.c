/* audit.c: the engine's one audit hook and its subscribers (see audit.h). */
#include "hooks/audit.h"

#define MAX_SUBSCRIBERS 8

static struct {
    const char *event;
    pyro_audit_fn fn;
} subscribers[MAX_SUBSCRIBERS];
static int nsubscribers;
static int hook_added;

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    for (int i = 0; i < nsubscribers; i++)
        if (event[0] == subscribers[i].event[0] && strcmp(event, subscribers[i].event) == 0) {
            pyro_saved_exc exc;
            pyro_exc_save(&exc);
            subscribers[i].fn(event, args);
            PyErr_Clear();
            pyro_exc_restore(&exc);
        }
    return 0;
}

int pyro_audit_subscribe(const char *event, pyro_audit_fn fn)
{
    for (int i = 0; i < nsubscribers; i++)
        if (subscribers[i].fn == fn && strcmp(subscribers[i].event, event) == 0)
            return 0;
    if (nsubscribers == MAX_SUBSCRIBERS) {
        PyErr_SetString(PyExc_RuntimeError, "pyrometer: too many audit subscribers");
        return -1;
    }
    if (!hook_added) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0)
            return -1;
        hook_added = 1;
    }
    subscribers[nsubscribers].event = event;
    subscribers[nsubscribers].fn = fn;
    nsubscribers++;
    return 0;
}
