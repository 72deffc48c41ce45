/* test_ntime_zone.c: --timezone and --date: zones parsed, dated times written in the zone with
 * its offset, and times of day of a given date turned into Unix times (fixed offsets and the
 * machine's zone across a daylight saving change). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ntime.h"

static void test_zone_parse(void **state)
{
    (void)state;
    struct nt_zone z;
    assert_true(nt_zone_parse("UTC", &z));
    assert_int_equal(z.kind, NT_ZONE_UTC);
    assert_true(nt_zone_parse("local", &z));
    assert_int_equal(z.kind, NT_ZONE_LOCAL);
    assert_true(nt_zone_parse("+01:00", &z));
    assert_int_equal(z.kind, NT_ZONE_FIXED);
    assert_int_equal(z.offset_s, 3600);
    assert_true(nt_zone_parse("-05:30", &z));
    assert_int_equal(z.offset_s, -(5 * 3600 + 30 * 60));
    assert_true(nt_zone_parse("+14:00", &z));
    assert_true(nt_zone_parse("-00:00", &z));
    assert_int_equal(z.offset_s, 0);
    const char *bad[] = {"",       "utc+1", "+1:00",   "+01:0", "+0100",  "+14:01",
                         "+01:60", "01:00", "+01:00 ", "Local", "+aa:00", "Europe/Paris"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(nt_zone_parse(bad[i], &z));
}

static void test_date_parse(void **state)
{
    (void)state;
    int y, m, d;
    assert_true(nt_date_parse("2026-11-21", &y, &m, &d));
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_int_equal(d, 21);
    assert_true(nt_date_parse("2024-02-29", &y, &m, &d));
    assert_true(nt_date_parse("2000-02-29", &y, &m, &d));
    const char *bad[] = {"2026-02-29",  "1900-02-29", "2026-13-01", "2026-00-10",
                         "2026-04-31",  "1969-12-31", "2026-1-01",  "2026/11/21",
                         "2026-11-21T", "20261121",   "",           "2026-11-2x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(nt_date_parse(bad[i], &y, &m, &d));
}

static void test_format_in_zone(void **state)
{
    (void)state;
    char b[NT_TIME_FMT_MAX];
    struct nt_time t = {1763756672, 192571000, NT_TIME_ABSOLUTE}; /* 2025-11-21T20:24:32Z */
    struct nt_zone z;
    assert_true(nt_zone_parse("+01:00", &z));
    nt_time_set_zone(&z);
    nt_time_format(&t, b, sizeof b);
    assert_string_equal(b, "2025-11-21T21:24:32.192571+01:00");
    assert_true(nt_zone_parse("-05:30", &z));
    nt_time_set_zone(&z);
    nt_time_format(&t, b, sizeof b);
    assert_string_equal(b, "2025-11-21T14:54:32.192571-05:30");
    /* A time of day has no date, so no zone: written as read. */
    struct nt_time d = {13 * 3600, 0, NT_TIME_OF_DAY};
    nt_time_format(&d, b, sizeof b);
    assert_string_equal(b, "13:00:00.000000");
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    assert_true(nt_zone_parse("local", &z));
    nt_time_set_zone(&z);
    nt_time_format(&t, b, sizeof b);
    assert_string_equal(b, "2025-11-21T21:24:32.192571+01:00");
    struct nt_time summer = {1751376000, 0, NT_TIME_ABSOLUTE}; /* 2025-07-01T13:20:00Z */
    nt_time_format(&summer, b, sizeof b);
    assert_string_equal(b, "2025-07-01T15:20:00.000000+02:00");
    assert_true(nt_zone_parse("UTC", &z));
    nt_time_set_zone(&z);
    nt_time_format(&t, b, sizeof b);
    assert_string_equal(b, "2025-11-21T20:24:32.192571Z");
}

static void test_to_unix(void **state)
{
    (void)state;
    struct nt_zone z;
    int64_t u;
    assert_true(nt_zone_parse("UTC", &z));
    assert_true(nt_zone_to_unix(&z, 1970, 1, 1, 0, &u));
    assert_int_equal(u, 0);
    assert_true(nt_zone_to_unix(&z, 2025, 11, 21, 20 * 3600 + 24 * 60 + 32, &u));
    assert_int_equal(u, 1763756672);
    /* Past midnight (the text source counts days from the first): the next day. */
    assert_true(nt_zone_to_unix(&z, 2025, 11, 20, 86400 + 20 * 3600 + 24 * 60 + 32, &u));
    assert_int_equal(u, 1763756672);
    assert_true(nt_zone_parse("+01:00", &z));
    assert_true(nt_zone_to_unix(&z, 2025, 11, 21, 21 * 3600 + 24 * 60 + 32, &u));
    assert_int_equal(u, 1763756672);
    assert_false(nt_zone_to_unix(&z, 2025, 11, 21, -1, &u));
    /* The machine's zone, on the day the clocks go forward (2026-03-08 in New York): 01:30
     * is EST (-5), 13:24 is EDT (-4). */
    setenv("TZ", "America/New_York", 1);
    tzset();
    assert_true(nt_zone_parse("local", &z));
    assert_true(nt_zone_to_unix(&z, 2026, 3, 8, 1 * 3600 + 30 * 60, &u));
    assert_int_equal(u, 1772951400); /* 2026-03-08T06:30:00Z */
    assert_true(nt_zone_to_unix(&z, 2026, 3, 8, 13 * 3600 + 24 * 60, &u));
    assert_int_equal(u, 1772990640); /* 2026-03-08T17:24:00Z */
    assert_int_equal(nt_zone_offset_at(&z, u), -4 * 3600);
    setenv("TZ", "UTC", 1);
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_parse),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_format_in_zone),
        cmocka_unit_test(test_to_unix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
