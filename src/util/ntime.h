/* ntime.h: packet timestamps that may or may not carry a date (tcpdump text often has none). */
#ifndef NT_UTIL_NTIME_H
#define NT_UTIL_NTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nt_time_kind {
    NT_TIME_NONE = 0,     /* no timestamp at all (tcpdump -t) */
    NT_TIME_ABSOLUTE = 1, /* sec is seconds since the Unix epoch, UTC */
    NT_TIME_OF_DAY = 2,   /* sec counts from the first midnight seen; the date is unknown */
    NT_TIME_RELATIVE = 3, /* sec counts from the first packet (tcpdump -ttt/-ttttt) */
};

struct nt_time {
    int64_t sec;
    uint32_t nsec;
    uint8_t kind; /* enum nt_time_kind */
};

#define NT_TIME_FMT_MAX 48

/* The zone dated times are written in (--timezone): UTC ("...Z", the default), the machine's
 * local zone (TZ; its offset at each instant, daylight saving time included), or a fixed offset
 * from UTC ("...+01:00"). Times of day without a date and relative times are written as they
 * were read: their zone is not known. */
enum nt_zone_kind { NT_ZONE_UTC = 0, NT_ZONE_LOCAL = 1, NT_ZONE_FIXED = 2 };
struct nt_zone {
    uint8_t kind;     /* enum nt_zone_kind */
    int32_t offset_s; /* NT_ZONE_FIXED: seconds east of UTC */
};
/* Parses "UTC", "local" or "+HH:MM" / "-HH:MM" (up to 14:00 either way). */
bool nt_zone_parse(const char *s, struct nt_zone *z);
/* The zone nt_time_format writes dated times in (process-wide; UTC until set). */
void nt_time_set_zone(const struct nt_zone *z);
const struct nt_zone *nt_time_zone(void);
/* Seconds east of UTC of zone z at the instant sec (Unix time). */
int32_t nt_zone_offset_at(const struct nt_zone *z, int64_t sec);
/* Writes the zone for people: "UTC", "UTC+01:00", "local time (UTC+01:00 at <instant>)" is the
 * caller's; this writes "UTC" or "UTC+HH:MM" of the offset (n >= 16). */
void nt_zone_offset_format(int32_t offset_s, char *buf, size_t n);
/* The Unix time of the wall-clock instant sec_of_day seconds after midnight (may exceed a
 * day: the days that follow) of the date y-m-d in zone z. False when the date is out of range
 * or the local time cannot be converted. */
bool nt_zone_to_unix(const struct nt_zone *z, int y, int m, int d, int64_t sec_of_day,
                     int64_t *out);
/* Parses "YYYY-MM-DD" (a real date, years 1970-9999). */
bool nt_date_parse(const char *s, int *y, int *m, int *d);

/* Microseconds from a to b (b - a); 0 if either has no time; saturates at +-INT64_MAX
 * for differences beyond 292 years. */
int64_t nt_time_diff_us(const struct nt_time *a, const struct nt_time *b);
/* -1, 0, 1 as a is before, equal to, after b. Inline, as nt_time_widen: the correlator and
 * the rules call them several times per packet and per lookup. */
static inline int nt_time_cmp(const struct nt_time *a, const struct nt_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}
/* Widens the window [first, last] to include t. Times of kind NONE are ignored, and so is a
 * time of another kind than the window's: times of day and dated times are different clocks. */
static inline void nt_time_widen(struct nt_time *first, struct nt_time *last,
                                 const struct nt_time *t)
{
    if (t->kind == NT_TIME_NONE || (first->kind != NT_TIME_NONE && first->kind != t->kind))
        return;
    if (first->kind == NT_TIME_NONE || nt_time_cmp(t, first) < 0)
        *first = *t;
    if (last->kind == NT_TIME_NONE || nt_time_cmp(t, last) > 0)
        *last = *t;
}
/* Adds microseconds to t. */
struct nt_time nt_time_add_us(struct nt_time t, int64_t us);
/* Formats t into buf: "2026-11-21T13:24:32.192571Z" when the date is known, "13:24:32.192571"
 * for a time of day (with "+Nd " before it past the first day), "+12.000300s" for relative
 * times, "" for none. Returns the length written (truncated to n-1). */
size_t nt_time_format(const struct nt_time *t, char *buf, size_t n);
/* Formats a duration in microseconds for people: "43.8 s", "2 min 18 s", "120 µs", "4.2 ms". */
size_t nt_duration_format(int64_t us, char *buf, size_t n);

#endif
