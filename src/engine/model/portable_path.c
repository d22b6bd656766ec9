/* portable_path.c: see portable_path.h. */
#include "model/portable_path.h"

#include <string.h>

/* `at` points at "/python3..." in `file`: is it a lib/ or lib64/ folder? */
static int under_lib(const char *file, const char *at)
{
    return (at >= file + 4 && strncmp(at - 4, "/lib", 4) == 0)
        || (at >= file + 6 && strncmp(at - 6, "/lib64", 6) == 0);
}

int pyro_path_split(const char *file, const char **label, const char **rest)
{
    static const char *const sites[] = {"/site-packages/", "/dist-packages/"};
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        const char *at = strstr(file, sites[i]);
        if (at != NULL) {
            *label = "<site-packages>/";
            *rest = at + strlen(sites[i]);
            return 1;
        }
    }
    /* .../lib/python3.12/json/__init__.py (also lib64, python3.13t) */
    for (const char *at = strstr(file, "/python3"); at != NULL; at = strstr(at + 1, "/python3")) {
        const char *slash = strchr(at + 1, '/');
        if (slash != NULL && under_lib(file, at)) {
            *label = "<stdlib>/";
            *rest = slash + 1;
            return 1;
        }
    }
    *label = "";
    *rest = file;
    return strncmp(file, "<frozen ", 8) == 0;
}

int pyro_path_widen_root(char **root, PyObject *file)
{
    const char *f = PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    if (f == NULL) {
        PyErr_Clear();
        return 0;
    }
    const char *label, *rest;
    if (f[0] != '/' || pyro_path_split(f, &label, &rest))
        return 0;
    size_t n = (size_t)(strrchr(f, '/') - f);
    if (*root == NULL) {
        *root = PyMem_RawMalloc(n + 1);
        if (*root == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(*root, f, n);
        (*root)[n] = '\0';
        return 0;
    }
    char *r = *root;
    size_t k = 0;
    while (r[k] != '\0' && k < n && r[k] == f[k])
        k++;
    if (r[k] != '\0' || (k < n && f[k] != '/'))
        while (k > 0 && r[k] != '/')   /* back to a whole folder */
            k--;
    r[k] = '\0';
    return 0;
}

/* The library form of `file`, or what is below `root` after `root_label`. */
static PyObject *path_below(PyObject *file, const char *root, const char *root_label)
{
    const char *f = PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    if (f == NULL) {
        PyErr_Clear();   /* a name that is not UTF-8 is matched as it is */
        return Py_NewRef(file);
    }
    const char *label, *rest;
    if (pyro_path_split(f, &label, &rest) && *label != '\0')
        return PyUnicode_FromFormat("%s%s", label, rest);
    size_t n = root != NULL ? strlen(root) : 0;
    if (n > 0 && strncmp(f, root, n) == 0 && f[n] == '/')
        return PyUnicode_FromFormat("%s%s", root_label, f + n + 1);
    return Py_NewRef(file);
}

PyObject *pyro_path_portable(PyObject *file, const char *root)
{
    return path_below(file, root, "<root>/");
}

PyObject *pyro_path_shown(PyObject *file, const char *root)
{
    return path_below(file, root, "");
}
