/* ntime.c: timestamp arithmetic and ISO 8601 formatting. */
#include "util/ntime.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

int64_t nt_time_diff_us(const struct nt_time *a, const struct nt_time *b)
{
    if (a->kind == NT_TIME_NONE || b->kind == NT_TIME_NONE)
        return 0;
    /* Times come from untrusted input (an epoch of 99999999999 in tcpdump -tt text), so the
     * difference saturates instead of overflowing; 292 years of nanoseconds fit in 63 bits. */
    const int64_t max_s = 9000000000LL;
    int64_t ds;
    if (__builtin_sub_overflow(b->sec, a->sec, &ds) || ds > max_s || ds < -max_s)
        return b->sec > a->sec ? INT64_MAX : -INT64_MAX;
    return (ds * 1000000000LL + ((int64_t)b->nsec - (int64_t)a->nsec)) / 1000;
}

int nt_time_cmp(const struct nt_time *a, const struct nt_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

void nt_time_widen(struct nt_time *first, struct nt_time *last, const struct nt_time *t)
{
    if (t->kind == NT_TIME_NONE || (first->kind != NT_TIME_NONE && first->kind != t->kind))
        return;
    if (first->kind == NT_TIME_NONE || nt_time_cmp(t, first) < 0)
        *first = *t;
    if (last->kind == NT_TIME_NONE || nt_time_cmp(t, last) > 0)
        *last = *t;
}

struct nt_time nt_time_add_us(struct nt_time t, int64_t us)
{
    int64_t ns = (int64_t)t.nsec + (us % 1000000) * 1000;
    t.sec += us / 1000000;
    if (ns < 0) {
        ns += 1000000000LL;
        t.sec--;
    } else if (ns >= 1000000000LL) {
        ns -= 1000000000LL;
        t.sec++;
    }
    t.nsec = (uint32_t)ns;
    return t;
}

size_t nt_time_format(const struct nt_time *t, char *buf, size_t n)
{
    int w = 0;
    uint32_t usec = t->nsec / 1000;
    if (n == 0)
        return 0;
    switch (t->kind) {
    case NT_TIME_ABSOLUTE: {
        time_t s = (time_t)t->sec;
        struct tm tm;
        if (!gmtime_r(&s, &tm)) {
            w = snprintf(buf, n, "%" PRId64 ".%06" PRIu32, t->sec, usec);
            break;
        }
        w = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRIu32 "Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
        break;
    }
    case NT_TIME_OF_DAY: {
        int64_t day = t->sec / 86400, s = t->sec % 86400;
        if (s < 0) {
            s += 86400;
            day--;
        }
        if (day != 0)
            w = snprintf(buf, n, "+%" PRId64 "d %02d:%02d:%02d.%06" PRIu32, day, (int)(s / 3600),
                         (int)(s / 60 % 60), (int)(s % 60), usec);
        else
            w = snprintf(buf, n, "%02d:%02d:%02d.%06" PRIu32, (int)(s / 3600), (int)(s / 60 % 60),
                         (int)(s % 60), usec);
        break;
    }
    case NT_TIME_RELATIVE:
        w = snprintf(buf, n, "+%" PRId64 ".%06" PRIu32 "s", t->sec, usec);
        break;
    default:
        buf[0] = '\0';
        return 0;
    }
    if (w < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)w < n ? (size_t)w : n - 1;
}

size_t nt_duration_format(int64_t us, char *buf, size_t n)
{
    int w;
    const char *sign = us < 0 ? "-" : "";
    if (us < 0)
        us = -us;
    if (us < 1000)
        w = snprintf(buf, n, "%s%" PRId64 " µs", sign, (int64_t)us);
    else if (us < 1000000)
        w = snprintf(buf, n, "%s%.1f ms", sign, (double)us / 1000.0);
    else if (us < 60000000)
        w = snprintf(buf, n, "%s%.1f s", sign, (double)us / 1e6);
    else if (us < 3600000000LL)
        w = snprintf(buf, n, "%s%" PRId64 " min %" PRId64 " s", sign, (int64_t)(us / 60000000),
                     (int64_t)(us / 1000000 % 60));
    else
        w = snprintf(buf, n, "%s%" PRId64 " h %" PRId64 " min", sign, (int64_t)(us / 3600000000LL),
                     (int64_t)(us / 60000000 % 60));
    if (w < 0 || n == 0)
        return 0;
    return (size_t)w < n ? (size_t)w : n - 1;
}
