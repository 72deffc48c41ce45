/* test_incident.c: the incident tracker of `nettriage watch` (detect/incident.h) fed with final
 * outcomes as the correlator hands them on, and its alert lines (report/alert.h): it opens only
 * at the min_failures-th failure in a row, never on a failure among answers; one update per
 * interval and only with new failures; closes on recovery and on quiet; a late failure older
 * than the recovery is stale; a lookup retransmitted forever is one failure; state stays within
 * max_services with evictions counted, and idle services expire. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "detect/incident.h"
#include "report/alert.h"

#define S(x) ((int64_t)((x)*1000000.0))

struct rec {
    struct incident_event ev[64];
    size_t n;
};

static void record(void *ctx, const struct incident_event *ev)
{
    struct rec *r = ctx;
    assert_true(r->n < 64);
    r->ev[r->n++] = *ev;
}

static struct nt_time at(int64_t us)
{
    struct nt_time t = {.sec = 1790000000 + us / 1000000,
                        .nsec = (uint32_t)(us % 1000000) * 1000,
                        .kind = NT_TIME_ABSOLUTE};
    return t;
}

static struct nt_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct nt_addr x = {.family = NT_AF_INET, .a = {a, b, c, d}};
    return x;
}

/* A DNS lookup from client .15+k to server 198.51.100.s, port 53/udp, final with outcome. */
static struct dns_lookup lookup(int s, int k, enum lookup_outcome outcome, int64_t t_us)
{
    struct dns_lookup l;
    memset(&l, 0, sizeof l);
    l.server = v4(198, 51, (uint8_t)(100 + s / 256), (uint8_t)(s % 256));
    l.client = v4(198, 51, 100, (uint8_t)(15 + k));
    l.server_port = 53;
    l.transport = 17;
    l.query_flags = 0x0100;
    l.first_tx = l.last_tx = at(t_us);
    l.transmissions = 1;
    l.outcome = (uint8_t)outcome;
    if (outcome == LOOKUP_ANSWERED) {
        l.answer.ts = at(t_us + 1000);
        l.rcode = 0;
    } else if (outcome == LOOKUP_ICMP_ERROR) {
        l.error.ts = at(t_us + 200);
        l.icmp_kind = ICMP_K_PORT_UNREACH;
        l.icmp_sender = ICMP_SENDER_SERVER;
        l.n_errors = 1;
    }
    return l;
}

static void feed(struct incident_tracker *t, int s, int k, enum lookup_outcome o, int64_t us)
{
    struct dns_lookup l = lookup(s, k, o, us);
    incident_lookup(t, &l);
}

static void tick(struct incident_tracker *t, int64_t us)
{
    struct nt_time n = at(us);
    incident_tick(t, &n);
}

static struct incident_tracker *tracker(struct rec *r, uint32_t min_failures, double interval,
                                        double quiet, uint32_t max_services)
{
    struct incident_config cfg;
    incident_config_default(&cfg);
    cfg.min_failures = min_failures;
    cfg.interval_us = S(interval);
    cfg.quiet_close_us = S(quiet);
    cfg.max_services = max_services;
    memset(r, 0, sizeof *r);
    struct incident_tracker *t = incident_new(&cfg, S(120), record, r); /* late window */
    assert_non_null(t);
    return t;
}

static void test_opens_at_min_failures_not_before(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 300, 100);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(1));
    tick(t, S(1.5));
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(2));
    tick(t, S(2.5));
    feed(t, 2, 1, LOOKUP_ICMP_ERROR, S(3));
    tick(t, S(3.5));
    assert_int_equal(r.n, 0);
    feed(t, 2, 1, LOOKUP_ICMP_ERROR, S(4));
    assert_int_equal(r.n, 1);
    const struct incident_event *e = &r.ev[0];
    assert_int_equal(e->action, INCIDENT_OPENED);
    assert_int_equal(e->incident, 1);
    assert_string_equal(e->rule, "dns.port_unreachable");
    assert_int_equal(e->failures, 3);
    assert_int_equal(e->clients, 2);
    assert_true(e->dns);
    /* The first failure is the first error, not the answer before it. */
    struct nt_time first = at(S(2) + 200);
    assert_int_equal(nt_time_cmp(&e->first_failure, &first), 0);
    assert_true(nt_time_cmp(&e->now, &e->first_failure) >= 0);
    incident_free(t);
}

/* Answers and failures within one second: the tracker keeps each second's first and last
 * success, so answers earlier in the second than the failures do not split them (the scenario
 * watch.sh met this: a stop 0.2 s after an answer), and an answer between two failures does. */
static void test_same_second(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 300, 100);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(10) + 50000);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(10) + 100000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(10) + 400000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(10) + 600000);
    assert_int_equal(r.n, 0);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(10) + 800000);
    assert_int_equal(r.n, 1);
    struct nt_time first = at(S(10) + 400200);
    assert_int_equal(nt_time_cmp(&r.ev[0].first_failure, &first), 0);
    incident_free(t);

    /* failure, answer, failure, failure in one second: the answer splits the run */
    t = tracker(&r, 3, 60, 300, 100);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 100000);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(20) + 300000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 500000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 700000);
    assert_int_equal(r.n, 0);
    /* the same, the answer becoming final after the failures (its guard) */
    incident_free(t);
    t = tracker(&r, 3, 60, 300, 100);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 100000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 500000);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(20) + 300000);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(20) + 700000);
    assert_int_equal(r.n, 0);
    incident_free(t);
}

/* A lost answer now and then among answers is never min_failures in a row. */
static void test_failures_among_answers_never_open(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 300, 100);
    for (int i = 0; i < 1000; i++) {
        int64_t base = S(i);
        feed(t, 2, i % 7, LOOKUP_ANSWERED, base);
        /* Unanswered lookups become final late (the late window): their times are before
         * answers already seen, or between them. */
        if (i % 3 == 0)
            feed(t, 2, i % 5, LOOKUP_UNANSWERED, base + 500000);
        if (i % 3 == 1)
            feed(t, 2, i % 5, LOOKUP_UNANSWERED, base - S(100));
        tick(t, base + 900000);
    }
    assert_int_equal(r.n, 0);
    assert_true(incident_stats(t)->stale > 0);
    assert_int_equal(incident_stats(t)->opened, 0);
    incident_free(t);
}

static void test_one_update_per_interval(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 3, 300, 100);
    for (int i = 0; i < 3; i++)
        feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(i));
    assert_int_equal(r.n, 1);
    /* A failure every second for 20 s, ticks every 0.25 s. */
    int64_t now = S(2);
    for (int i = 3; i < 23; i++) {
        feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(i));
        for (int k = 0; k < 4; k++) {
            now = S(i) + k * 250000;
            tick(t, now);
        }
    }
    /* The failures of 21 and 22 s come in one more update, 3 s after the last. */
    tick(t, now + S(1));
    size_t updates = 0;
    struct nt_time prev = r.ev[0].now;
    for (size_t i = 1; i < r.n; i++) {
        assert_int_equal(r.ev[i].action, INCIDENT_UPDATE);
        assert_true(nt_time_diff_us(&prev, &r.ev[i].now) >= S(3));
        assert_true(r.ev[i].failures > r.ev[i - 1].failures);
        prev = r.ev[i].now;
        updates++;
    }
    /* Opened at 2 s; updates at 5.25, 8.25, 11.25, 14.25, 17.25, 20.25 and 23.75 s. */
    assert_int_equal(updates, 7);
    assert_int_equal(r.ev[r.n - 1].failures, 23);
    /* No new failure: no update, however long (until the quiet close). */
    size_t before = r.n;
    for (int i = 2; i < 100; i++)
        tick(t, now + S(i));
    assert_int_equal(r.n, before);
    assert_int_equal(incident_stats(t)->updates, updates);
    incident_free(t);
}

static void test_closes_on_recovery_and_late_failure_is_stale(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 300, 100);
    for (int i = 0; i < 4; i++)
        feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(10 + i));
    assert_int_equal(r.n, 1);
    /* An answer older than the first failure arriving late closes nothing. */
    feed(t, 2, 0, LOOKUP_ANSWERED, S(5));
    assert_int_equal(r.n, 1);
    feed(t, 2, 0, LOOKUP_ANSWERED, S(20));
    assert_int_equal(r.n, 2);
    const struct incident_event *c = &r.ev[1];
    assert_int_equal(c->action, INCIDENT_CLOSED);
    assert_int_equal(c->close_reason, INCIDENT_CLOSE_RECOVERED);
    struct nt_time answer = at(S(20) + 1000);
    assert_int_equal(nt_time_cmp(&c->end, &answer), 0);
    assert_int_equal(c->duration_us, S(20) + 1000 - (S(10) + 200));
    assert_int_equal(c->failures, 4);
    /* Silent lookups sent before the recovery become final 120 s later: stale. */
    uint64_t stale = incident_stats(t)->stale;
    for (int i = 0; i < 5; i++)
        feed(t, 2, 0, LOOKUP_UNANSWERED, S(14 + i));
    tick(t, S(140));
    assert_int_equal(r.n, 2);
    assert_int_equal(incident_stats(t)->stale, stale + 5);
    assert_int_equal(incident_stats(t)->open, 0);
    incident_free(t);
}

static void test_closes_on_quiet(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 30, 100);
    for (int i = 0; i < 3; i++)
        feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(i));
    tick(t, S(2.1));
    assert_int_equal(r.n, 1);
    /* Other traffic moves the clock; no failure comes. */
    tick(t, S(31.9));
    assert_int_equal(r.n, 1);
    tick(t, S(32.2));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.ev[1].action, INCIDENT_CLOSED);
    assert_int_equal(r.ev[1].close_reason, INCIDENT_CLOSE_QUIET);
    struct nt_time last = at(S(2) + 200);
    assert_int_equal(nt_time_cmp(&r.ev[1].end, &last), 0);
    assert_int_equal(r.ev[1].duration_us, S(2));
    /* The next failures open a new incident. */
    for (int i = 0; i < 3; i++)
        feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(40 + i));
    assert_int_equal(r.n, 3);
    assert_int_equal(r.ev[2].action, INCIDENT_OPENED);
    assert_int_equal(r.ev[2].incident, 2);
    /* The end of the input closes what is open. */
    incident_end(t);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.ev[3].close_reason, INCIDENT_CLOSE_ENDED);
    incident_free(t);
}

/* A server silent from 100 s to 200 s, answering before and after: its silent lookups become
 * final only after the late window (120 s), when it already answers again. The incident is still
 * alerted (opened when the third becomes final, as already recovered), holds every silent
 * lookup sent before the recovery, and closes, recovered at the first answer after the silence,
 * once all of them are final; it is not opened twice. */
static void test_silence_shorter_than_late_window(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 30, 300, 100);
    for (int k = 0; k < 500; k++) {
        /* at k s: the answer of k - 1 s is final (guard), and the silent lookup sent at
         * k - 120 s (the late window) */
        if (k >= 1 && (k - 1 < 100 || k - 1 >= 200))
            feed(t, 2, 0, LOOKUP_ANSWERED, S(k - 1));
        if (k - 120 >= 100 && k - 120 < 200)
            feed(t, 2, 1, LOOKUP_UNANSWERED, S(k - 120));
        tick(t, S(k));
    }
    size_t opened = 0, closed = 0;
    for (size_t i = 0; i < r.n; i++) {
        const struct incident_event *e = &r.ev[i];
        if (e->action == INCIDENT_OPENED) {
            opened++;
            assert_string_equal(e->rule, "dns.no_response");
            struct nt_time now = at(S(221) + 1000); /* the answer of 221 s, fed first */
            assert_int_equal(nt_time_cmp(&e->now, &now), 0);
            assert_int_equal(e->failures, 3);
        }
        if (e->action == INCIDENT_CLOSED) {
            closed++;
            assert_int_equal(e->close_reason, INCIDENT_CLOSE_RECOVERED);
            struct nt_time end = at(S(200) + 1000), first = at(S(100));
            assert_int_equal(nt_time_cmp(&e->end, &end), 0);
            assert_int_equal(nt_time_cmp(&e->first_failure, &first), 0);
            assert_int_equal(e->failures, 100);
            assert_int_equal(e->clients, 1);
            /* closed once every lookup sent before the recovery was final */
            assert_true(nt_time_diff_us(&end, &e->now) > S(120));
            assert_true(nt_time_diff_us(&end, &e->now) <= S(122));
        }
    }
    assert_int_equal(opened, 1);
    assert_int_equal(closed, 1);
    assert_int_equal(incident_stats(t)->open, 0);
    incident_free(t);
}

/* A client that retransmits one query for ever: the correlator keeps it as one lookup and
 * hands it on once, when it ends; it neither opens an incident nor keeps one open. */
static void test_retransmitted_forever_is_one_failure(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 30, 100);
    struct dns_lookup stuck = lookup(2, 0, LOOKUP_UNANSWERED, S(0));
    stuck.transmissions = 600;
    stuck.last_tx = at(S(599));
    for (int i = 0; i < 600; i++)
        tick(t, S(i));
    incident_lookup(t, &stuck);
    tick(t, S(720));
    assert_int_equal(r.n, 0);
    /* With an incident open from other failures, it does not keep it open past the quiet. */
    for (int i = 0; i < 3; i++)
        feed(t, 3, 1, LOOKUP_ICMP_ERROR, S(800 + i));
    assert_int_equal(r.n, 1);
    struct dns_lookup stuck3 = lookup(3, 2, LOOKUP_UNANSWERED, S(803));
    stuck3.transmissions = 100;
    stuck3.last_tx = at(S(900));
    for (int i = 803; i < 1000; i++)
        tick(t, S(i));
    incident_lookup(t, &stuck3); /* handed on at last, long after the quiet close */
    tick(t, S(1020));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.ev[1].close_reason, INCIDENT_CLOSE_QUIET);
    assert_true(nt_time_cmp(&r.ev[1].now, &stuck3.last_tx) < 0);
    assert_int_equal(incident_stats(t)->opened, 1);
    incident_free(t);
}

static void test_bounded_with_evictions_counted(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 1, 60, 300, 4);
    for (int s = 1; s <= 10; s++)
        feed(t, s, 0, LOOKUP_ANSWERED, S(s));
    const struct incident_stats *st = incident_stats(t);
    assert_int_equal(st->services, 4);
    assert_int_equal(st->services_peak, 4);
    assert_int_equal(st->services_evicted, 6);
    assert_int_equal(st->incidents_evicted, 0);
    /* Four open incidents fill the table: a fifth service evicts the least recently seen
     * one, whose incident closes as evicted. */
    for (int s = 11; s <= 14; s++)
        feed(t, s, 0, LOOKUP_ICMP_ERROR, S(20 + s));
    assert_int_equal(st->open, 4);
    assert_int_equal(r.n, 4);
    feed(t, 15, 0, LOOKUP_ICMP_ERROR, S(40));
    assert_int_equal(st->services, 4);
    assert_int_equal(st->incidents_evicted, 1);
    assert_int_equal(r.ev[4].action, INCIDENT_CLOSED);
    assert_int_equal(r.ev[4].close_reason, INCIDENT_CLOSE_EVICTED);
    struct nt_addr s11 = v4(198, 51, 100, 11);
    assert_true(nt_addr_eq(&r.ev[4].server, &s11));
    assert_int_equal(r.ev[5].action, INCIDENT_OPENED);
    /* Idle services expire: after the idle time (here 600 s) nothing is kept. */
    tick(t, S(40 + 301));
    assert_int_equal(st->open, 0); /* quiet closes first */
    tick(t, S(40 + 601));
    assert_int_equal(st->services, 0);
    assert_true(st->services_expired >= 4);
    incident_free(t);
}

/* A week of a flapping service and ten thousand servers passing by stays within the bound. */
static void test_week_is_flat(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 3, 60, 300, 64);
    uint64_t opened = 0;
    for (int64_t sec = 0; sec < 7 * 86400; sec += 7) {
        int s = (int)((sec / 7) % 1000) + 2; /* 1,000 other servers, 64 kept */
        feed(t, s, (int)(sec % 13), LOOKUP_ANSWERED, S(sec));
        if ((sec / 3600) % 2 == 1) /* server 1 fails every other hour */
            feed(t, 1, 0, LOOKUP_ICMP_ERROR, S(sec) + 3000);
        else
            feed(t, 1, 0, LOOKUP_ANSWERED, S(sec) + 3000);
        tick(t, S(sec) + 5000);
        opened += r.n;
        r.n = 0;
    }
    const struct incident_stats *st = incident_stats(t);
    assert_true(st->services_peak <= 64);
    assert_true(st->services_evicted > 0);
    assert_int_equal(st->opened, 84); /* one per failing hour */
    assert_int_equal(st->open + st->closed, st->opened);
    assert_true(opened > 0);
    incident_free(t);
}

static void test_alert_lines(void **state)
{
    (void)state;
    struct rec r;
    struct incident_tracker *t = tracker(&r, 2, 60, 300, 8);
    feed(t, 2, 0, LOOKUP_ICMP_ERROR, S(1));
    feed(t, 2, 1, LOOKUP_ICMP_ERROR, S(2));
    feed(t, 2, 1, LOOKUP_ANSWERED, S(3));
    assert_int_equal(r.n, 2);
    struct strbuf b;
    strbuf_init(&b);
    alert_text(&b, &r.ev[0]);
    assert_non_null(strstr(strbuf_str(&b), " incident 1 opened: DNS 198.51.100.2 port 53/udp "
                                           "dns.port_unreachable: 2 failed lookups, 2 clients"));
    assert_int_equal(strchr(strbuf_str(&b), '\n') - strbuf_str(&b), (long)b.len - 1);
    strbuf_reset(&b);
    alert_text(&b, &r.ev[1]);
    assert_non_null(strstr(strbuf_str(&b), " closed: "));
    assert_non_null(strstr(strbuf_str(&b), "answered again at 2026-"));
    for (size_t i = 0; i < 2; i++) {
        strbuf_reset(&b);
        alert_ndjson(&b, &r.ev[i]);
        assert_true(b.len > 0 && strbuf_str(&b)[b.len - 1] == '\n');
        assert_null(memchr(strbuf_str(&b), '\n', b.len - 1));
        struct jcheck *c = json_check(strbuf_str(&b), b.len - 1);
        assert_non_null(c);
        assert_true(has_string(c, "alert", 5));
        const char *action = i == 0 ? "incident-opened" : "incident-closed";
        assert_true(has_string(c, action, strlen(action)));
        assert_true(has_string(c, "dns.port_unreachable", 20));
        assert_true(has_string(c, "198.51.100.2", 12));
        if (i == 1)
            assert_true(has_string(c, "recovered", 9));
        jcheck_fini(c);
    }
    strbuf_reset(&b);
    alert_stats_ndjson(&b, incident_stats(t));
    assert_true(json_valid(strbuf_str(&b), b.len - 1));
    strbuf_fini(&b);
    incident_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_at_min_failures_not_before),
        cmocka_unit_test(test_failures_among_answers_never_open),
        cmocka_unit_test(test_same_second),
        cmocka_unit_test(test_one_update_per_interval),
        cmocka_unit_test(test_closes_on_recovery_and_late_failure_is_stale),
        cmocka_unit_test(test_closes_on_quiet),
        cmocka_unit_test(test_silence_shorter_than_late_window),
        cmocka_unit_test(test_retransmitted_forever_is_one_failure),
        cmocka_unit_test(test_bounded_with_evictions_counted),
        cmocka_unit_test(test_week_is_flat),
        cmocka_unit_test(test_alert_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
