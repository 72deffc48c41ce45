/* ntime.c: timestamp arithmetic and ISO 8601 formatting. */
#include "util/ntime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct nt_zone display_zone; /* UTC */

void nt_time_set_zone(const struct nt_zone *z)
{
    display_zone = *z;
}

const struct nt_zone *nt_time_zone(void)
{
    return &display_zone;
}

static bool two_digits(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

bool nt_zone_parse(const char *s, struct nt_zone *z)
{
    int h, m;
    if (strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0) {
        *z = (struct nt_zone){NT_ZONE_UTC, 0};
        return true;
    }
    if (strcmp(s, "local") == 0) {
        *z = (struct nt_zone){NT_ZONE_LOCAL, 0};
        return true;
    }
    if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':' || !two_digits(s + 1, &h) ||
        !two_digits(s + 4, &m) || m > 59 || h * 60 + m > 14 * 60)
        return false;
    *z = (struct nt_zone){NT_ZONE_FIXED, (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60)};
    return true;
}

int32_t nt_zone_offset_at(const struct nt_zone *z, int64_t sec)
{
    if (z->kind == NT_ZONE_FIXED)
        return z->offset_s;
    if (z->kind != NT_ZONE_LOCAL)
        return 0;
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

void nt_zone_offset_format(int32_t offset_s, char *buf, size_t n)
{
    if (offset_s == 0) {
        snprintf(buf, n, "UTC");
        return;
    }
    int32_t a = offset_s < 0 ? -offset_s : offset_s;
    snprintf(buf, n, "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a / 60 % 60));
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool nt_date_parse(const char *s, int *y, int *m, int *d)
{
    int c, yy, mm, dd;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !two_digits(s, &c) ||
        !two_digits(s + 2, &yy) || !two_digits(s + 5, &mm) || !two_digits(s + 8, &dd))
        return false;
    int year = c * 100 + yy;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || mm < 1 || mm > 12 || dd < 1 ||
        dd > mdays[mm - 1] + (mm == 2 && leap ? 1 : 0))
        return false;
    *y = year;
    *m = mm;
    *d = dd;
    return true;
}

bool nt_zone_to_unix(const struct nt_zone *z, int y, int m, int d, int64_t sec_of_day, int64_t *out)
{
    if (y < 1970 || y > 9999 || sec_of_day < 0 || sec_of_day > 400LL * 86400)
        return false;
    if (z->kind != NT_ZONE_LOCAL) {
        *out = days_from_civil(y, m, d) * 86400 + sec_of_day -
               (z->kind == NT_ZONE_FIXED ? z->offset_s : 0);
        return true;
    }
    /* The machine's zone: mktime finds whether daylight saving time was in force at that
     * wall-clock time (from fields in their ranges: glibc judges it before normalising, an hour
     * off for seconds past the day on the day the clocks change). */
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + (int)(sec_of_day / 86400);
    tm.tm_hour = (int)(sec_of_day % 86400 / 3600);
    tm.tm_min = (int)(sec_of_day % 3600 / 60);
    tm.tm_sec = (int)(sec_of_day % 60);
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t;
    return true;
}

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
        /* In the display zone: the wall clock there, and its offset ("Z" for UTC itself). */
        int32_t off = nt_zone_offset_at(&display_zone, t->sec);
        time_t s = (time_t)(t->sec + off);
        struct tm tm;
        if (!gmtime_r(&s, &tm)) {
            w = snprintf(buf, n, "%" PRId64 ".%06" PRIu32, t->sec, usec);
            break;
        }
        char zone[8] = "Z";
        if (display_zone.kind != NT_ZONE_UTC) {
            int32_t a = off < 0 ? -off : off;
            snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600 % 100),
                     (int)(a / 60 % 60));
        }
        w = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRIu32 "%s", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec, zone);
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
