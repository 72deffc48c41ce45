/* test_render.c: the terminal text and HTML renderers on a model holding hostile strings (what
 * no input path delivers whole: ESC, BEL, newline and bidi controls inside a finding's title,
 * names, facts, evidence line, path and --reported), and the traffic model behind the HTML
 * report (timeline bins, answer-time percentiles, capped rows). */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"

static struct nt_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct nt_addr x;
    const uint8_t bytes[4] = {a, b, c, d};
    nt_addr_set_v4(&x, bytes);
    return x;
}

static struct nt_time at(int64_t sec, uint32_t usec)
{
    struct nt_time t = {.sec = sec, .nsec = usec * 1000, .kind = NT_TIME_ABSOLUTE};
    return t;
}

#define T0 1795267472 /* 2026-11-21T13:24:32Z */

static char h_summary[] = "Summary \x1b[2J<script>alert(1)</script>\nnext `dig '\x1b]0;t\x07'`.";
static char h_fact[] = "fact \"q\" 'q' | `a` \xe2\x80\xae<b>";
static char h_name[] = "evil\x1b[31m\n<i>\xff.example. A";
static char h_line[] = "13:00:00 IP 1.2.3.4 > 5.6.7.8: \x1b[31m<script>x</script> \xc3\xa9";
static char h_cause[] = "cause <u>";
static char h_reason[] = "reason \x07";
static char h_step[] = "Run `dig \"<x>\"`.";
static char h_path[] = "in\x1b[31m\n\"<p>\".pcap";
static char h_reported[] = "rep \x1b]0;title\x07 <script>";

/* A finding whose lists the test fills itself (static strings: not finding_free). */
static void shell_free(struct finding *f)
{
    free(f->clients);
    free(f->names);
    free(f->evidence);
    free(f);
}

static struct finding *hostile_finding(void)
{
    struct finding *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_true(finding_reserve(f, 1, 1, 1));
    f->id = "dns.port_unreachable";
    f->title = "Title \x1b[1m<h1>";
    f->severity = SEV_HIGH;
    f->transport = 17;
    f->port = 53;
    f->service = "DNS";
    f->has_server = true;
    f->server = v4(198, 51, 100, 2);
    f->clients[0] = v4(198, 51, 100, 15);
    f->n_clients = 1;
    f->names[0] = h_name;
    f->n_names = 1;
    f->first_seen = at(T0, 1);
    f->last_seen = at(T0 + 2, 2);
    f->lookups = 3;
    f->packets = 6;
    f->summary = h_summary;
    f->facts[0] = h_fact;
    f->n_facts = 1;
    f->causes[0].text = h_cause;
    f->causes[0].reason = h_reason;
    f->n_causes = 1;
    f->next_steps[0] = h_step;
    f->n_next_steps = 1;
    f->evidence[0].pkt = 3;
    f->evidence[0].role = EV_QUERY;
    f->evidence[0].ts = at(T0, 1);
    f->evidence[0].text = h_line;
    f->n_evidence = 1;
    return f;
}

/* Bytes below 0x20 other than '\n', and DEL; ESC only as "ESC [ digits ; m" when sgr_ok. */
static void assert_no_controls(const char *s, bool sgr_ok)
{
    for (const char *p = s; *p; p++) {
        unsigned char b = (unsigned char)*p;
        if (b == 0x1b && sgr_ok && p[1] == '[') {
            const char *q = p + 2;
            while ((*q >= '0' && *q <= '9') || *q == ';')
                q++;
            assert_int_equal(*q, 'm');
            p = q;
            continue;
        }
        if ((b < 0x20 && b != '\n') || b == 0x7f)
            fail_msg("control byte 0x%02x at offset %td", b, p - s);
    }
}

static void test_hostile_text_html(void **state)
{
    (void)state;
    struct finding *f = hostile_finding();
    struct finding *const list[] = {f};
    struct analysis_input in = {.path = h_path, .kind = "pcap", .packets = 6};
    struct analysis a = {.version = "9.9.9",
                         .reported = h_reported,
                         .timeout_us = 5000000,
                         .inputs = &in,
                         .n_inputs = 1,
                         .has_time = true,
                         .first_ts = at(T0, 0),
                         .last_ts = at(T0 + 2, 5),
                         .findings = list,
                         .n_findings = 1};
    struct strbuf out;
    strbuf_init(&out);

    report_render_text(&a, &out, false);
    assert_false(out.oom);
    const char *s = strbuf_str(&out);
    assert_no_controls(s, false);
    assert_non_null(strstr(s, "\\x1b[2J<script>"));
    assert_non_null(strstr(s, "evil\\x1b[31m\\x0a<i>\\xff.example."));
    assert_non_null(strstr(s, "\\xe2\\x80\\xae<b>"));
    assert_non_null(strstr(s, "rep \\x1b]0;title\\x07"));
    assert_non_null(strstr(s, "in\\x1b[31m\\x0a\"<p>\".pcap"));
    assert_non_null(strstr(s, "[HIGH]"));
    assert_non_null(strstr(s, "\xc3\xa9")); /* valid UTF-8 as it is */

    strbuf_reset(&out);
    report_render_text(&a, &out, true);
    s = strbuf_str(&out);
    assert_no_controls(s, true);
    assert_non_null(strstr(s, "\x1b[1;30;101m HIGH \x1b[0m"));
    assert_non_null(strstr(s, "\\x1b]0;t\\x07"));

    strbuf_reset(&out);
    report_render_html(&a, &out); /* without a->traffic: those sections say so */
    assert_false(out.oom);
    s = strbuf_str(&out);
    assert_no_controls(s, false);
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "<h1>Title"));
    assert_null(strstr(s, "<i>"));
    assert_null(strstr(s, "<b>"));
    assert_null(strstr(s, "<u>"));
    assert_null(strstr(s, "<p>\""));
    assert_non_null(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(s, "Title \\x1b[1m&lt;h1&gt;"));
    assert_non_null(strstr(s, "<code>dig &#39;\\x1b]0;t\\x07&#39;</code>"));
    assert_non_null(strstr(s, "<code>dig &quot;&lt;x&gt;&quot;</code>"));
    assert_non_null(
        strstr(s, "&quot;q&quot; &#39;q&#39; | <code>a</code> \\xe2\\x80\\xae&lt;b&gt;"));
    assert_non_null(strstr(s, "Not collected for this report."));
    strbuf_fini(&out);
    shell_free(f);
}

/* A lookup of the given outcome at T0 + ms milliseconds, answered after rtt_us. */
static void lookup_at(struct dns_lookup *l, uint64_t pkt, int64_t ms, uint8_t outcome,
                      int64_t rtt_us, uint8_t server)
{
    memset(l, 0, sizeof *l);
    l->client = v4(192, 0, 2, 10);
    l->server = v4(198, 51, 100, server);
    l->server_port = 53;
    l->transport = 17;
    l->id = (uint16_t)pkt;
    l->outcome = outcome;
    l->rtt_us = rtt_us;
    l->transmissions = 1;
    l->query.pkt = pkt;
    l->query.ts = at(T0 + ms / 1000, (uint32_t)(ms % 1000) * 1000);
    l->answer.pkt = pkt + 1;
    l->answer.ts = l->query.ts;
}

static void test_traffic(void **state)
{
    (void)state;
    struct analysis a = {0};
    assert_true(analysis_traffic_start(&a));
    struct analysis_traffic *t = a.traffic;
    struct dns_lookup l;

    /* 100 answers from server .2 with answer times 1..100 ms, then 150 failures from .3; the
     * lookups arrive out of packet order (deadline order), so the rows must be sorted. */
    for (int i = 100; i >= 1; i--) {
        lookup_at(&l, (uint64_t)i * 2, i * 10, LOOKUP_ANSWERED, i * 1000, 2);
        analysis_traffic_lookup(t, &l);
    }
    for (int i = 0; i < 150; i++) {
        lookup_at(&l, 1000 + (uint64_t)i, 1000 + i, i % 2 ? LOOKUP_UNANSWERED : LOOKUP_ICMP_ERROR,
                  0, 3);
        analysis_traffic_lookup(t, &l);
    }
    /* SERVFAIL is a failure; an ICMP error packet. */
    lookup_at(&l, 5, 5, LOOKUP_ANSWERED, 7000, 3);
    l.rcode = DNS_RCODE_SERVFAIL;
    analysis_traffic_lookup(t, &l);
    struct evidence ev = {.pkt = 9, .ts = at(T0 + 1, 0), .icmp_type = 3, .icmp_code = 3};
    struct icmp_event e = {.ev = &ev};
    analysis_traffic_icmp(t, &e);
    analysis_traffic_finish(t);
    assert_false(t->oom);

    assert_int_equal(t->n_servers, 2);
    const struct traffic_server *s2 = &t->servers[0], *s3 = &t->servers[1];
    assert_int_equal(s2->lookups, 100);
    assert_int_equal(s2->answered, 100);
    /* Nearest rank over 1..100 ms: p50 = 50 ms, p90 = 90 ms, p99 = 99 ms, max 100 ms. */
    assert_int_equal(traffic_percentile(s2, 50), 50000);
    assert_int_equal(traffic_percentile(s2, 90), 90000);
    assert_int_equal(traffic_percentile(s2, 99), 99000);
    assert_int_equal(traffic_percentile(s2, 100), 100000);
    assert_int_equal(s3->icmp_errors, 75);
    assert_int_equal(s3->unanswered, 75);
    assert_int_equal(traffic_percentile(s3, 50), 7000); /* the SERVFAIL's answer time */

    /* 151 failures: the 100 earliest by packet kept, in order (the SERVFAIL, packet 5, first). */
    assert_int_equal(t->failing_total, 151);
    assert_int_equal(t->n_failing, TRAFFIC_FAILING_ROWS);
    assert_int_equal(t->failing[0].pkt, 5);
    assert_int_equal(t->failing[1].pkt, 1000);
    assert_int_equal(t->failing[TRAFFIC_FAILING_ROWS - 1].pkt, 1000 + TRAFFIC_FAILING_ROWS - 2);
    assert_int_equal(t->answered_total, 100);
    assert_int_equal(t->n_answered, TRAFFIC_ANSWERED_ROWS);
    assert_int_equal(t->answered[0].pkt, 2);
    assert_int_equal(t->answered[TRAFFIC_ANSWERED_ROWS - 1].pkt, 2 * TRAFFIC_ANSWERED_ROWS);
    assert_int_equal(t->icmp_total, 1);

    /* Timeline: 251 queries, 101 answers, 1 ICMP error, 75 unanswered, over 1.15 s from T0 +
     * 5 ms: bins grew from 1 ms to 10 ms (at most TRAFFIC_BINS), the origin a multiple. */
    const struct traffic_timeline *tl = &t->timeline;
    assert_int_equal(tl->total[TE_QUERY], 251);
    assert_int_equal(tl->total[TE_ANSWER], 101);
    assert_int_equal(tl->total[TE_ICMP], 1);
    assert_int_equal(tl->total[TE_UNANSWERED], 75);
    assert_int_equal(tl->width_us, 10000);
    assert_int_equal(tl->origin_us % tl->width_us, 0);
    assert_true(tl->used <= TRAFFIC_BINS);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < tl->used; i++)
        sum += tl->n[i][TE_QUERY];
    assert_int_equal(sum, 251);
    /* The first query (T0 + 5 ms) falls in bin 0, the last (T0 + 1.149 s) in the last. */
    assert_int_equal((T0 * 1000000LL + 5000 - tl->origin_us) / tl->width_us, 0);
    assert_int_equal((T0 * 1000000LL + 1149000 - tl->origin_us) / tl->width_us, tl->used - 1);

    /* The HTML shows the percentiles and says how many rows it left out. */
    struct strbuf out;
    strbuf_init(&out);
    report_render_html(&a, &out);
    const char *s = strbuf_str(&out);
    assert_non_null(strstr(s, "<td class=\"num\">50.0 ms</td><td class=\"num\">90.0 ms</td>"
                              "<td class=\"num\">99.0 ms</td><td class=\"num\">100.0 ms</td>"));
    assert_non_null(strstr(s, "51 more not shown"));
    assert_non_null(strstr(s, "80 more not shown"));
    strbuf_fini(&out);
    analysis_fini(&a);
}

/* A time before the first one shifts the bins; times of another clock are counted apart. */
static void test_timeline_edges(void **state)
{
    (void)state;
    struct analysis a = {0};
    assert_true(analysis_traffic_start(&a));
    struct analysis_traffic *t = a.traffic;
    struct dns_lookup l;
    lookup_at(&l, 10, 500, LOOKUP_UNANSWERED, 0, 2);
    analysis_traffic_lookup(t, &l);
    lookup_at(&l, 11, 100, LOOKUP_UNANSWERED, 0, 2); /* 400 ms earlier */
    analysis_traffic_lookup(t, &l);
    lookup_at(&l, 12, 0, LOOKUP_UNANSWERED, 0, 2);
    l.query.ts.kind = NT_TIME_OF_DAY;
    analysis_traffic_lookup(t, &l);
    lookup_at(&l, 13, 0, LOOKUP_UNANSWERED, 0, 2);
    l.query.ts.kind = NT_TIME_NONE;
    analysis_traffic_lookup(t, &l);
    lookup_at(&l, 14, 0, LOOKUP_UNANSWERED, 0, 2);
    l.query.ts.sec = INT64_MAX / 2; /* a damaged stamp */
    analysis_traffic_lookup(t, &l);
    const struct traffic_timeline *tl = &t->timeline;
    assert_int_equal(tl->total[TE_QUERY], 2);
    assert_int_equal(tl->off_clock, 4); /* query and unanswered, twice */
    assert_int_equal(tl->no_time, 2);
    assert_int_equal(tl->width_us, 10000);
    assert_int_equal(tl->origin_us, T0 * 1000000LL + 100000);
    assert_int_equal(tl->n[0][TE_QUERY], 1);
    assert_int_equal(tl->n[40][TE_QUERY], 1);
    assert_int_equal(tl->used, 41);
    analysis_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_text_html),
        cmocka_unit_test(test_traffic),
        cmocka_unit_test(test_timeline_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
