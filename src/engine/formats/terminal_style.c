/* terminal_style.c: see terminal_style.h. */
#include "formats/terminal_style.h"

#include <string.h>

const char *pyro_heat_color(double share)
{
    if (share >= PYRO_HOT_SHARE)
        return "\x1b[1;31m";
    if (share >= PYRO_WARM_SHARE)
        return "\x1b[33m";
    return NULL;
}

Py_ssize_t pyro_utf8_columns(const char *s, size_t len)
{
    Py_ssize_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t pyro_fit_left(const char *s, size_t len, size_t folder_bytes, Py_ssize_t room)
{
    Py_ssize_t width = pyro_utf8_columns(s, len);
    if (width <= room || room < PYRO_FIT_MIN_ROOM)
        return 0;
    /* the last room - 1 code points stay, "…" the first column */
    Py_ssize_t drop = width - (room - 1);
    size_t cut = 0;
    for (Py_ssize_t seen = 0; cut < len; cut++) {
        if (((unsigned char)s[cut] & 0xC0) != 0x80 && seen++ == drop)
            break;
    }
    if (cut < folder_bytes) {
        const char *slash = memchr(s + cut, '/', folder_bytes - cut);
        if (slash != NULL)
            cut = (size_t)(slash - s);
    }
    return cut;
}
