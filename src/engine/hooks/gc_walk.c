/* gc_walk.c: the collector's objects, one by one (see gc_walk.h). */
#include "hooks/gc_walk.h"

#if PYRO_HAVE_GC_VISIT

typedef struct {
    pyro_gc_visit visit;
    void *arg;
} walk_state;

static int visit_one(PyObject *obj, void *arg)
{
    walk_state *w = arg;
    w->visit(obj, w->arg);
    return 1;                  /* go on */
}

int pyro_gc_walk(pyro_gc_visit visit, void *arg)
{
    walk_state w = {visit, arg};
    PyUnstable_GC_VisitObjects(visit_one, &w);
    return 0;
}

#else

int pyro_gc_walk(pyro_gc_visit visit, void *arg)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL)
        return -1;
    PyObject *objects = PyObject_CallMethod(gc, "get_objects", NULL);
    Py_DECREF(gc);
    if (objects == NULL)
        return -1;
    if (!PyList_Check(objects)) {
        Py_DECREF(objects);
        PyErr_SetString(PyExc_TypeError, "pyrometer: gc.get_objects() gave no list");
        return -1;
    }
    /* The list holds every object: none can go away while it is walked. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++)
        visit(PyList_GET_ITEM(objects, i), arg);
    Py_DECREF(objects);
    return 0;
}

#endif
