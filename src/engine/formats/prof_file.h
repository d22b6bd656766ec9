/* prof_file.h: the .prof file (pstats' marshal format): writer and reader. */
#ifndef PYRO_PROF_FILE_H
#define PYRO_PROF_FILE_H

#include "compat.h"

/* Write `stats` (a pstats dict) to `path` atomically. 0 or -1 + exception. */
int pyro_write_prof(const char *path, PyObject *stats);

/* _engine.FormatError (a ValueError): a file that is not a profile.
 * Created by the module's init. */
extern PyObject *pyro_FormatError;

/* Read all of `path` into a PyMem_Raw buffer (*data, freed with
 * PyMem_RawFree).  0, or an errno value, or one of these two: the path is
 * not a regular file (a FIFO would block, /dev/zero never ends), or it is
 * bigger than any profile.  Needs no GIL. */
#define PYRO_ENOTREG (-2)
#define PYRO_ETOOBIG (-3)
#define PYRO_MAX_INPUT ((uint64_t)1 << 30)
int pyro_read_file(const char *path, char **data, size_t *len);

/* The OSError (of errno's subclass: FileNotFoundError...) or MemoryError
 * for a pyro_read_file failure, one line naming `path`. */
void pyro_raise_read_error(const char *path, int err);

/* Read the profile in `path` as marshal.load would (first object only):
 * a new dict, or NULL + OSError / FormatError / MemoryError. */
PyObject *pyro_load_stats(const char *path);

/* Whether `stats` has pstats' shape: {(file, line, name): (cc, nc, tt, ct,
 * {caller: (nc, cc, tt, ct) or nc})}.  0 if so; 1 and *reason (a new str,
 * one line) if not; -1 + exception on failure. */
int pyro_check_stats(PyObject *stats, PyObject **reason);

/* The same for one entry, its callers dict's items only if `callers_too`;
 * and for one item (ckey: cvalue) of the callers of `key`, its key not
 * looked at if `ckey_checked` (when it is one of the stats' own keys). */
int pyro_check_entry(PyObject *key, PyObject *value, int callers_too, PyObject **reason);
int pyro_check_call(PyObject *key, PyObject *ckey, PyObject *cvalue, int ckey_checked,
                    PyObject **reason);

/* Module-level wrappers. */
PyObject *pyro_py_file_head(PyObject *module, PyObject *args);
PyObject *pyro_py_dump_stats(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *pyro_py_load_stats(PyObject *module, PyObject *path);
PyObject *pyro_py_format_report(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
