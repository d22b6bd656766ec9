/* tree_reader.c: the call tree after the stats in a .prof file.
 *
 * The second marshal object is pyrometer's tree when it is a dict whose
 * first key is "pyrometer" with the value "calltree"; anything else after
 * the stats (nothing, another tool's data) means no tree.  It is decoded by
 * marshal_reader.c, then checked against the format (tree_view.c); a marked
 * tree that fails either way is a FormatError, one line naming the file. */
#include "formats/marshal_reader.h"
#include "core/errors.h"
#include "model/stack_view.h"
#include "formats/prof_file.h"

#include <stdint.h>
#include <string.h>

static int corrupt(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *reason = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (reason != NULL) {
        PyErr_Format(pyro_FormatError, "pyrometer: %s has a corrupt call tree (%U)", path, reason);
        Py_DECREF(reason);
    }
    return -1;
}

/* Whether `o` is the str `s`. */
static int is_str(PyObject *o, const char *s)
{
    return o != NULL && PyUnicode_Check(o) && PyUnicode_CompareWithASCIIString(o, s) == 0;
}

/* Whether the data starts as a marked tree: a dict whose first key is
 * "pyrometer" with the value "calltree" (read through the decoder too). */
static int marked(const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    if (len < 2 || (p[0] & 0x7f) != '{')
        return 0;
    pyro_marshal_result res;
    PyObject *key = pyro_marshal_read(data + 1, len - 1, &pyro_marshal_data, &res);
    int ok = is_str(key, "pyrometer");
    size_t at = 1 + res.end;
    Py_XDECREF(key);
    PyObject *value = ok ? pyro_marshal_read(data + at, len - at, &pyro_marshal_data, &res) : NULL;
    ok = is_str(value, "calltree");
    Py_XDECREF(value);
    PyErr_Clear();
    return ok;
}

int pyro_read_tree(const char *path, const char *data, size_t len, PyObject **tree)
{
    *tree = NULL;
    const unsigned char *p = (const unsigned char *)data;
    if (len == 0 || (p[0] & 0x7f) != '{' || !marked(data, len))
        return 0;   /* nothing, or some other tool's data */
    pyro_marshal_result res;
    PyObject *d = pyro_marshal_read(data, len, &pyro_marshal_data, &res);
    if (d == NULL) {
        if (res.status == PYRO_MARSHAL_PYERR)
            return -1;
        return corrupt(path, "%s", res.foreign != NULL ? "it holds a type no tree has"
                                   : res.why != NULL ? res.why : "its marshal data is corrupt");
    }
    int rc = 0;
    PyObject *reason = NULL;
    pyro_stack_view view;
    int bad = PyDict_Check(d) ? pyro_stack_view_init(&view, d, &reason) : 1;
    if (bad == 0) {
        pyro_stack_view_release(&view);
        *tree = Py_NewRef(d);
    } else if (bad > 0) {
        rc = reason != NULL ? corrupt(path, "%U", reason) : corrupt(path, "it is not a dict");
        Py_XDECREF(reason);
    } else
        rc = -1;
    Py_DECREF(d);
    return rc;
}
