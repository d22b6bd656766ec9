/* py_rss.c: the bindings of the RSS readers and of blocks (see py_rss.h). */
#include "api/py_rss.h"

#include "core/rss.h"
#include "runtime/rss_blocks.h"

typedef struct {
    PyObject_HEAD
    pyro_rss_block block;
} block_object;

static PyObject *bytes_or_none(int known, uint64_t bytes)
{
    if (!known)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong((unsigned long long)bytes);
}

static PyObject *block_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, ":RSSBlock", kwlist))
        return NULL;
    block_object *b = (block_object *)type->tp_alloc(type, 0);
    if (b != NULL)
        memset(&b->block, 0, sizeof b->block);
    return (PyObject *)b;
}

static void block_dealloc(PyObject *self)
{
    /* A block left open (a generator never finished) leaves the list. */
    pyro_rss_block_drop(&((block_object *)self)->block);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *block_start(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"reset", NULL};
    int reset = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p:start", kwlist, &reset))
        return NULL;
    pyro_rss_block *b = &((block_object *)self)->block;
    pyro_rss_block_start(b, reset);
    return bytes_or_none(b->known_now, b->before);
}

static PyObject *block_stop(PyObject *self, PyObject *unused)
{
    (void)unused;
    pyro_rss_block *b = &((block_object *)self)->block;
    pyro_rss_block_stop(b);
    PyObject *before = bytes_or_none(b->known_now, b->before);
    PyObject *after = bytes_or_none(b->known_now, b->after);
    PyObject *peak = bytes_or_none(b->known_peak, b->peak);
    if (before == NULL || after == NULL || peak == NULL) {
        Py_XDECREF(before);
        Py_XDECREF(after);
        Py_XDECREF(peak);
        return NULL;
    }
    return Py_BuildValue("(NNNO)", before, after, peak, b->own_peak ? Py_True : Py_False);
}

static PyMethodDef block_methods[] = {
    {"start", (PyCFunction)(void (*)(void))block_start, METH_VARARGS | METH_KEYWORDS,
     "start(reset=True) -> RSS before (bytes) or None: open the block; with reset, the\n"
     "kernel's peak mark is reset so that the block's peak is its own (the other open\n"
     "blocks keep theirs)."},
    {"stop", block_stop, METH_NOARGS,
     "stop() -> (before, after, peak, own_peak): bytes, None where unknown; own_peak False\n"
     "when the peak is the process's so far (the mark could not be reset)."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyro_RSSBlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._engine.RSSBlock",
    .tp_basicsize = sizeof(block_object),
    .tp_dealloc = block_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "RSSBlock(): the RSS before, after and at the peak of a block of code, blocks\n"
              "open at once sharing the kernel's one peak mark.",
    .tp_methods = block_methods,
    .tp_new = block_new,
};

PyObject *pyro_py_rss_now(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    uint64_t v = 0;
    int known = pyro_rss_now(&v);
    return bytes_or_none(known, v);
}

PyObject *pyro_py_rss_process_peak(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    uint64_t v = 0;
    int known = pyro_rss_process_peak(&v);
    return bytes_or_none(known, v);
}
