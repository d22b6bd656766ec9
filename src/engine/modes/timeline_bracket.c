/* timeline_bracket.c: the callable that brackets a function's calls in a
 * timeline (see timeline_mode.h).
 *
 * It stands in for the function as a decorator's result: called through
 * vectorcall, it reads the timeline's figures, calls the function with
 * the same arguments and reads them again, passing the result or the
 * exception through untouched.  It binds to instances as a function does,
 * and has a __dict__ for functools.update_wrapper's names.  Being C, it
 * adds no Python frame: the profilers see the caller call the function. */
#include "modes/timeline_mode.h"

#include <stddef.h>

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *timeline;
    PyObject *func;
    PyObject *name;
    PyObject *dict;
    PyObject *weakreflist;
} bracket_object;

static PyObject *bracket_call(PyObject *self, PyObject *const *args, size_t nargsf,
                              PyObject *kwnames)
{
    bracket_object *b = (bracket_object *)self;
    uint64_t token = pyro_timeline_mode_enter(b->timeline, b->name);
    PyObject *result = PyObject_Vectorcall(b->func, args, nargsf, kwnames);
    pyro_timeline_mode_exit(b->timeline, token);
    return result;
}

static PyObject *bracket_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"timeline", "func", "name", NULL};
    PyObject *timeline, *func, *name;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OU:TimelineBracket", kwlist,
                                     &pyro_TimelineType, &timeline, &func, &name))
        return NULL;
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError, "pyrometer: a bracket wraps a callable");
        return NULL;
    }
    bracket_object *b = (bracket_object *)type->tp_alloc(type, 0);
    if (b == NULL)
        return NULL;
    b->vectorcall = bracket_call;
    b->timeline = Py_NewRef(timeline);
    b->func = Py_NewRef(func);
    b->name = Py_NewRef(name);
    return (PyObject *)b;
}

static int bracket_traverse(PyObject *self, visitproc visit, void *arg)
{
    bracket_object *b = (bracket_object *)self;
    Py_VISIT(b->timeline);
    Py_VISIT(b->func);
    Py_VISIT(b->name);
    Py_VISIT(b->dict);
    return 0;
}

static int bracket_clear(PyObject *self)
{
    bracket_object *b = (bracket_object *)self;
    Py_CLEAR(b->timeline);
    Py_CLEAR(b->func);
    Py_CLEAR(b->name);
    Py_CLEAR(b->dict);
    return 0;
}

static void bracket_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    if (((bracket_object *)self)->weakreflist != NULL)
        PyObject_ClearWeakRefs(self);
    bracket_clear(self);
    Py_TYPE(self)->tp_free(self);
}

/* As a function: bound to an instance, a method. */
static PyObject *bracket_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *bracket_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<timeline bracket of %R>", ((bracket_object *)self)->func);
}

static PyObject *get_func(PyObject *self, void *closure)
{
    (void)closure;
    return Py_NewRef(((bracket_object *)self)->func);
}

static PyGetSetDef bracket_getset[] = {
    {"__func__", get_func, NULL, "the function bracketed", NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pyro_TimelineBracketType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.TimelineBracket",
    .tp_basicsize = sizeof(bracket_object),
    .tp_dealloc = bracket_dealloc,
    .tp_vectorcall_offset = offsetof(bracket_object, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_repr = bracket_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "TimelineBracket(timeline, func, name): calls func, each call a bracket of the\n"
              "timeline named `name`.",
    .tp_traverse = bracket_traverse,
    .tp_clear = bracket_clear,
    .tp_weaklistoffset = offsetof(bracket_object, weakreflist),
    .tp_getset = bracket_getset,
    .tp_descr_get = bracket_get,
    .tp_dictoffset = offsetof(bracket_object, dict),
    .tp_new = bracket_new,
};
