/* args.c: the option-value parsers every command shares (cli.h), so that a count or a number
 * of seconds is read, bounded and refused the same way by report, watch, explain and the
 * ClickHouse options. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli/cli.h"

bool cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    /* strtoull takes "-1" as a huge number: refused. */
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool cli_parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool cli_parse_us(const char *s, double lo, double hi, int64_t *out)
{
    double v;
    if (!cli_parse_seconds(s, lo, hi, &v))
        return false;
    *out = (int64_t)(v * 1e6 + 0.5);
    return true;
}

bool cli_parse_count(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!cli_parse_uint(s, 1, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}
