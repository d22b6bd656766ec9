/* py_files.c: profile files as functions of the _engine module (see
 * py_files.h): paths converted, the formats called. */
#include "api/py_files.h"
#include "core/file_read.h"
#include "core/text_out.h"
#include "formats/lines_file.h"
#include "formats/lines_merge.h"
#include "formats/lprof_reader.h"
#include "model/pstats_shape.h"
#include "formats/prof_file.h"

/* The path of a str, bytes or os.PathLike argument as bytes, or NULL. */
static PyObject *path_bytes_of(PyObject *path)
{
    PyObject *b = NULL;
    return PyUnicode_FSConverter(path, &b) ? b : NULL;
}

PyObject *pyro_py_load_stats(PyObject *module, PyObject *path)
{
    (void)module;
    PyObject *b = path_bytes_of(path);
    if (b == NULL)
        return NULL;
    PyObject *stats = pyro_load_stats(PyBytes_AS_STRING(b));
    Py_DECREF(b);
    return stats;
}

PyObject *pyro_py_load_profile(PyObject *module, PyObject *path)
{
    (void)module;
    PyObject *b = path_bytes_of(path), *tree = NULL;
    if (b == NULL)
        return NULL;
    PyObject *stats = pyro_load_profile(PyBytes_AS_STRING(b), &tree, NULL, 1);
    Py_DECREF(b);
    if (stats == NULL)
        return NULL;
    return Py_BuildValue("(NN)", stats, tree != NULL ? tree : Py_NewRef(Py_None));
}

PyObject *pyro_py_read_profile(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "tree", NULL};
    PyObject *path, *tree = NULL;
    int need_tree = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$p:read_profile", kwlist, &path,
                                     &need_tree))
        return NULL;
    PyObject *b = path_bytes_of(path);
    if (b == NULL)
        return NULL;
    pyro_profile_info info;
    PyObject *stats = pyro_load_profile(PyBytes_AS_STRING(b), &tree, &info, need_tree);
    Py_DECREF(b);
    if (stats == NULL)
        return NULL;
    return Py_BuildValue("{s:N,s:N,s:O,s:s,s:s}", "stats", stats, "tree",
                         tree != NULL ? tree : Py_NewRef(Py_None), "sampled",
                         info.sampled ? Py_True : Py_False, "unit",
                         info.counts ? "samples" : "seconds", "format", info.format);
}

PyObject *pyro_py_dump_stats(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *kwlist[] = {"path", "stats", "tree", "sampled", NULL};
    PyObject *path, *stats, *tree = Py_None;
    int sampled = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!|O$p:dump_stats", kwlist,
                                     &path, &PyDict_Type, &stats, &tree, &sampled))
        return NULL;
    /* stats that carry the marker stay sampled */
    int marked;
    PyObject *plain = pyro_stats_unmark(stats, &marked);
    PyObject *b = plain != NULL ? path_bytes_of(path) : NULL;
    if (b == NULL) {
        Py_XDECREF(plain);
        return NULL;
    }
    int rc = pyro_write_prof_tree(PyBytes_AS_STRING(b), plain, tree == Py_None ? NULL : tree,
                                  sampled || marked);
    Py_DECREF(b);
    Py_DECREF(plain);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *pyro_py_read_lines(PyObject *module, PyObject *path)
{
    (void)module;
    return pyro_lines_read(path);
}

PyObject *pyro_py_read_lprof(PyObject *module, PyObject *path)
{
    (void)module;
    return pyro_lprof_read(path);
}

PyObject *pyro_py_merge_lines(PyObject *module, PyObject *profiles)
{
    (void)module;
    return pyro_lines_merge(profiles);
}

PyObject *pyro_py_write_lines(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path, *stats;
    if (!PyArg_ParseTuple(args, "OO!:write_lines", &path, &PyDict_Type, &stats))
        return NULL;
    if (pyro_lines_write(path, stats) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The first bytes of a regular file: how a command tells a line profile
 * from a .prof. */
PyObject *pyro_py_file_head(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path;
    Py_ssize_t want;
    if (!PyArg_ParseTuple(args, "On:file_head", &path, &want))
        return NULL;
    PyObject *b = path_bytes_of(path);
    if (b == NULL)
        return NULL;
    char buf[64];
    if (want < 0 || want > (Py_ssize_t)sizeof(buf))
        want = (Py_ssize_t)sizeof(buf);
    size_t got = 0;
    int err = pyro_read_head(PyBytes_AS_STRING(b), buf, (size_t)want, &got);
    PyObject *r = NULL;
    if (err != 0)
        pyro_raise_read_error(PyBytes_AS_STRING(b), err);
    else
        r = PyBytes_FromStringAndSize(buf, (Py_ssize_t)got);
    Py_DECREF(b);
    return r;
}

PyObject *pyro_py_write_file(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_obj;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "Oy*:write_file", &path_obj, &data))
        return NULL;
    pyro_text t = {0};
    int ok = pyro_text_room(&t, (size_t)data.len + 1);
    if (ok) {
        memcpy(t.data, data.buf, (size_t)data.len);
        t.len = (size_t)data.len;
    }
    PyBuffer_Release(&data);
    if (pyro_text_write(&t, path_obj) < 0)
        return NULL;
    Py_RETURN_NONE;
}

