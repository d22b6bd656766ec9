/* html_json.h: JSON text for the HTML page's data block, escaped beyond
 * what JSON needs so that nothing in it can end the <script> element that
 * holds it: <, > and & as \u00XX (no "</script" or "<!--"), U+2028/2029
 * as \uXXXX; a byte that was not UTF-8 in a file name (decoded with
 * surrogateescape) as the text \xNN, other lone surrogates as U+FFFD (a
 * browser may crash on lone surrogates in its DOM); other text is UTF-8. */
#ifndef PYRO_HTML_JSON_H
#define PYRO_HTML_JSON_H

#include "core/compat.h"
#include "core/text_out.h"

/* A str as a JSON string.  0, or -1 + exception. */
int pyro_json_str(pyro_text *b, PyObject *s);

/* Any object as a JSON string: str() of what is not a str (the profile
 * module names its command entry with a code object). */
int pyro_json_any_str(pyro_text *b, PyObject *o);

/* A UTF-8 string as a JSON string. */
int pyro_json_cstr(pyro_text *b, const char *s);

/* "key": -- a key with its colon, after a comma unless it is the first. */
void pyro_json_key(pyro_text *b, const char *key, int first);

/* {str: str} of a dict (None or NULL: {}).  0, or -1 + exception. */
int pyro_json_meta(pyro_text *b, PyObject *meta);

#endif
