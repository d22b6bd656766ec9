/* terminal_style.h: how a text report meets a terminal: its hot rows in
 * colour, and names too long for the screen shortened from the left (the
 * file's folders go, its name, line and function stay). */
#ifndef PYRO_TERMINAL_STYLE_H
#define PYRO_TERMINAL_STYLE_H

#include "core/compat.h"

/* A row holding this share of the profile's own time (or of its samples)
 * is hot, in bold red; from the second, warm, in yellow; below, plain. */
#define PYRO_HOT_SHARE 0.10
#define PYRO_WARM_SHARE 0.02

#define PYRO_COLOR_RESET "\x1b[0m"

/* Names are shortened only down to this many columns: below it, the line
 * wraps as it would have, for a name cut shorter tells nothing. */
#define PYRO_FIT_MIN_ROOM 16

/* "…" in UTF-8: what stands for the folders left out. */
#define PYRO_ELLIPSIS "\xe2\x80\xa6"

/* The escape that starts a row of this share (0 to 1), or NULL: plain. */
const char *pyro_heat_color(double share);

/* Code points of UTF-8 text. */
Py_ssize_t pyro_utf8_columns(const char *s, size_t len);

/* How many bytes to leave out of the front of the UTF-8 text s[0:len) so
 * that "…" and the rest fit `room` columns: 0 if it fits as it is or
 * `room` is under PYRO_FIT_MIN_ROOM.  The cut goes to a '/' among the
 * first `folder_bytes` bytes (the file's part) when one is there, so that
 * what is left starts with a folder or file name. */
size_t pyro_fit_left(const char *s, size_t len, size_t folder_bytes, Py_ssize_t room);

#endif
