/* units.c: unit names and values as people read them (see units.h). */
#include "model/units.h"

#include <math.h>
#include <string.h>

static const char *const names[PYRO_UNIT_N] = {
    [PYRO_UNIT_SECONDS] = "seconds",
    [PYRO_UNIT_BYTES] = "bytes",
    [PYRO_UNIT_CALLS] = "calls",
    [PYRO_UNIT_SAMPLES] = "samples",
    [PYRO_UNIT_COUNT] = "count",
};

const char *pyro_unit_name(pyro_unit u)
{
    return u < PYRO_UNIT_N ? names[u] : "count";
}

int pyro_unit_of(const char *name)
{
    for (int u = 0; u < PYRO_UNIT_N; u++)
        if (strcmp(name, names[u]) == 0)
            return u;
    return -1;
}

/* 1234567 as "1,234,567". */
static void grouped(pyro_text *t, double value)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%.0f", value);
    const char *p = digits;
    if (*p == '-') {
        pyro_text_char(t, '-');
        p++;
    }
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            pyro_text_char(t, ',');
        pyro_text_char(t, p[i]);
    }
}

void pyro_unit_text(pyro_text *t, pyro_unit u, double value)
{
    if (!isfinite(value))
        value = 0.0;
    switch (u) {
    case PYRO_UNIT_SECONDS:
        if (value >= 1.0)
            pyro_text_printf(t, "%.3f s", value);
        else if (value >= 1e-3)
            pyro_text_printf(t, "%.3f ms", value * 1e3);
        else
            pyro_text_printf(t, "%.3f \xc2\xb5s", value * 1e6);
        return;
    case PYRO_UNIT_BYTES: {
        static const char *const steps[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double a = fabs(value);
        int k = 0;
        while (a >= 1024.0 && k < 4) {
            a /= 1024.0;
            value /= 1024.0;
            k++;
        }
        if (k == 0)
            pyro_text_printf(t, "%.0f B", value);
        else
            pyro_text_printf(t, "%.1f %s", value, steps[k]);
        return;
    }
    default:
        grouped(t, value);
        pyro_text_char(t, ' ');
        pyro_text_str(t, names[u]);
        return;
    }
}

double pyro_unit_scale(pyro_unit u, double time_scale)
{
    return u == PYRO_UNIT_SECONDS ? time_scale : 1.0;
}
