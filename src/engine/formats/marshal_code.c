/* marshal_code.c: code objects in marshal data, read through and stood
 * for by a str, for the decoder in marshal_reader.c.  The pure-Python
 * profile module names one entry with its command's code object; nothing
 * else in a profile is one, so its layouts (by Python version) stay here. */
#include "formats/marshal_internal.h"

#include <stdint.h>

static int is_bytes_code(unsigned char c)
{
    return (c & ~M_FLAG_REF) == M_BYTES;
}

static int read_int32(mreader *r, long *v)
{
    if (!have(r, 4))
        return -1;
    *v = (long)(int32_t)le32(r->p);
    r->p += 4;
    return 0;
}

/* A code object, read through and stood for by a str:
 * '<code object NAME, file "FILE", line N>' (its repr, less the address).
 * 3.11 and later write five ints before the bytecode, 3.8 to 3.10 six; the
 * bytecode is bytes, whose size (little-endian) cannot have 's' as its top
 * byte, so the byte where 3.8's bytecode would start tells them apart. */
PyObject *pyro_marshal_read_code(mreader *r, int flag)
{
    Py_ssize_t ref = flag ? pyro_marshal_add_ref(r, NULL, 0) : -1;
    if (flag && ref < 0)
        return NULL;
    if (!have(r, 25))
        return NULL;
    int legacy = is_bytes_code(r->p[24]);
    if (!legacy && !is_bytes_code(r->p[20]))
        return stop(r, MR_CORRUPT, "its marshal data is corrupt (bad code object)");
    r->p += legacy ? 24 : 20;
    /* the objects before the file name: bytecode, constants, names, then
     * varnames, freevars, cellvars (3.8-3.10) or local names and kinds */
    int before = legacy ? 6 : 5, after = legacy ? 1 : 2;
    PyObject *filename = NULL, *name = NULL, *v = NULL;
    long firstline = 0;
    r->in_code++;
    for (int i = 0; i < before; i++) {
        PyObject *o = pyro_marshal_read_object(r);
        if (o == NULL)
            goto done;
        Py_DECREF(o);
    }
    if ((filename = pyro_marshal_read_object(r)) == NULL
        || (name = pyro_marshal_read_object(r)) == NULL)
        goto done;
    if (!legacy) {   /* the qualified name */
        PyObject *q = pyro_marshal_read_object(r);
        if (q == NULL)
            goto done;
        Py_DECREF(q);
    }
    if (read_int32(r, &firstline) < 0)
        goto done;
    for (int i = 0; i < after; i++) {
        PyObject *o = pyro_marshal_read_object(r);
        if (o == NULL)
            goto done;
        Py_DECREF(o);
    }
    if (!PyUnicode_Check(filename) || !PyUnicode_Check(name)) {
        stop(r, MR_CORRUPT, "its marshal data is corrupt (bad code object)");
        goto done;
    }
    v = PyUnicode_FromFormat("<code object %U, file \"%U\", line %ld>", name, filename,
                             firstline);
    if (v == NULL)
        stop(r, MR_PYERR, NULL);
done:
    r->in_code--;
    Py_XDECREF(filename);
    Py_XDECREF(name);
    if (v != NULL && ref >= 0) {
        r->refs[ref] = Py_NewRef(v);
        r->done[ref] = 1;
    }
    return v;
}

