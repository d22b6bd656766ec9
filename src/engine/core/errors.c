/* errors.c: the engine's own exception type. */
#include "core/errors.h"

PyObject *pyro_FormatError = NULL;
