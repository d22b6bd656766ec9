/* errors.h: the exception the engine raises for a file that is not what
 * it should be. */
#ifndef PYRO_ERRORS_H
#define PYRO_ERRORS_H

#include "core/compat.h"

/* _engine.FormatError (a ValueError): a file that is not a profile, or a
 * damaged one.  Created by the module's init. */
extern PyObject *pyro_FormatError;

#endif
