/* test_explain.c: `nettriage explain` (report/explain.c) through the pipeline: the readings of
 * each kind of field, the relations the correlator's facts give (retransmission n of the query
 * on line k, the answer or ICMP error answering it and how long after, unanswered), what a line
 * does not show, --only-problems, the bound on held packets, lines not understood, escaping. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "report/explain.h"

struct out {
    char *text;
    struct explain_counts n;
};

static void x_packet(void *ctx, const struct packet *pkt, const struct pkt_relation *rel)
{
    explainer_packet(ctx, pkt, rel);
}
static void x_lookup(void *ctx, const struct dns_lookup *l)
{
    explainer_lookup(ctx, l);
}
static void x_attempt(void *ctx, const struct tcp_attempt *t)
{
    explainer_tcp_attempt(ctx, t);
}
static void x_unread(void *ctx, uint32_t input, uint64_t line_no, const char *line, size_t len)
{
    (void)input;
    explainer_unread(ctx, line_no, line, len);
}

/* Runs explain over `text` (tcpdump text) and returns what it wrote. */
static void explain_text(const char *text, const struct explain_config *xc_in, struct out *o)
{
    char path[] = "/tmp/nt_explain_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    struct explain_config xc = {0};
    if (xc_in)
        xc = *xc_in;
    struct pipeline_config pc;
    pipeline_config_default(&pc);
    xc.timeout_us = pc.timeout_us;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct explainer *x = explainer_new(&xc, f);
    assert_non_null(x);
    struct pipeline_sink sink = {.ctx = x,
                                 .on_lookup = x_lookup,
                                 .on_tcp_attempt = x_attempt,
                                 .on_relation = x_packet,
                                 .on_unread = x_unread};
    struct analysis a = {0};
    struct pipeline *p = pipeline_new(&pc, &sink, &a, 1);
    assert_non_null(p);
    assert_true(pipeline_read(p, path, 0));
    explainer_finish(x);
    assert_false(explainer_oom(x));
    o->n = *explainer_counts(x);
    pipeline_free(p);
    analysis_fini(&a);
    explainer_free(x);
    fclose(f);
    unlink(path);
    o->text = buf;
}

static void has(const struct out *o, const char *s)
{
    if (!strstr(o->text, s)) {
        fprintf(stderr, "missing: %s\nin:\n%s\n", s, o->text);
        fail();
    }
}

static void lacks(const struct out *o, const char *s)
{
    if (strstr(o->text, s)) {
        fprintf(stderr, "unexpected: %s\nin:\n%s\n", s, o->text);
        fail();
    }
}

/* The section of the output about one line ("line 3  ..." up to the blank line). */
static char *section(const struct out *o, const char *label)
{
    char key[64];
    snprintf(key, sizeof key, "%s  ", label);
    const char *s = o->text;
    while ((s = strstr(s, key)) != NULL && s != o->text && s[-1] != '\n')
        s++;
    assert_non_null(s);
    const char *e = strstr(s, "\n\n");
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *r = malloc(n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    /* unwrapped: the readings' continuation lines joined */
    for (char *p = r; (p = strstr(p, "\n    ")) != NULL;)
        memmove(p, p + 4, strlen(p + 4) + 1), *p = ' ';
    return r;
}

static void sec_has(const struct out *o, const char *label, const char *want)
{
    char *s = section(o, label);
    if (!strstr(s, want)) {
        fprintf(stderr, "%s lacks: %s\nsection:\n%s\n", label, want, s);
        free(s);
        fail();
    }
    free(s);
}

#define Q1                                                                                         \
    "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? example.com. (24)\n"

static void test_query_fields(void **state)
{
    (void)state;
    struct out o;
    explain_text(Q1 "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                    "unreachable, length 60\n",
                 NULL, &o);
    sec_has(&o, "line 1", "13:24:32.192571 = The time the packet was captured");
    sec_has(&o, "line 1",
            "192.51.100.15.52444 = The source: IP address 192.51.100.15 (the client)");
    sec_has(&o, "line 1", "UDP port 53, which tcpdump writes by its service name \"domain\"");
    sec_has(&o, "line 1", "35084+ = The DNS message ID, 35084");
    sec_has(&o, "line 1", "\"+\" means recursion desired");
    sec_has(&o, "line 1", "A? = The question: \"A?\" asks for the name's A records");
    sec_has(&o, "line 1", "(24) = The DNS message is 24 bytes long");
    /* text without -v shows no TTL: said, never invented */
    sec_has(&o, "line 1", "TTL: not shown in this line");
    sec_has(&o, "line 2", "Destination Unreachable: Port Unreachable (type 3, code 3)");
    sec_has(&o, "line 2", "(the DNS server itself, reporting the error)");
    /* the quoted query's id is not printed without -v */
    sec_has(&o, "line 2", "The DNS id and question of the quoted query: not shown in this line");
    sec_has(&o, "line 2", "the ICMP error answering the query on line 1, 3.9 s later (error 1 of");
    sec_has(&o, "line 1",
            "Outcome: this lookup failed: the ICMP error on line 2 (port unreachable)");
    assert_int_equal(o.n.packets, 2);
    assert_int_equal(o.n.problems, 2);
    free(o.text);
}

static void test_retransmissions_unanswered(void **state)
{
    (void)state;
    struct out o;
    explain_text(Q1 "13:24:33.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? "
                    "example.com. (24)\n"
                    "13:24:35.192571 IP 192.51.100.15.52445 > 203.0.113.2.domain: 35084+ A? "
                    "example.com. (24)\n"
                    "13:25:59.000000 IP 192.51.100.15.40000 > 198.51.100.9.80: Flags [P.], seq "
                    "1:10, ack 1, win 502, length 9\n",
                 NULL, &o);
    sec_has(&o, "line 1", "Relation: the first query of a new lookup");
    sec_has(&o, "line 2",
            "retransmission 1 of the query on line 1, 1.0 s after the previous transmission and "
            "1.0 s after the first");
    sec_has(&o, "line 3",
            "retransmission 2 of the query on line 1, 2.0 s after the previous transmission and "
            "3.0 s after the first");
    sec_has(&o, "line 1",
            "(sent 3 times in all) failed: no answer and no error came within the "
            "timeout (5.0 s)");
    /* the outcome is the query's; its retransmissions only relate to it */
    char *s2 = section(&o, "line 2");
    assert_null(strstr(s2, "Outcome"));
    free(s2);
    sec_has(&o, "line 4", "Relation: none");
    sec_has(&o, "line 4", "a TCP segment after the handshake");
    free(o.text);
}

static void test_answer_and_rcode(void **state)
{
    (void)state;
    struct out o;
    explain_text(Q1
                 "13:24:32.215571 IP 203.0.113.2.domain > 192.51.100.15.52444: 35084 NXDomain "
                 "0/1/0 (100)\n"
                 "13:24:40.000000 IP 192.51.100.15.52446 > 203.0.113.2.domain: 7+ A? ok.example. "
                 "(28)\n"
                 "13:24:40.010000 IP 203.0.113.2.domain > 192.51.100.15.52446: 7 1/0/0 A "
                 "192.0.2.1 (44)\n"
                 "13:24:40.500000 IP 203.0.113.2.domain > 192.51.100.15.52446: 7 1/0/0 A "
                 "192.0.2.1 (44)\n",
                 NULL, &o);
    sec_has(&o, "line 2", "NXDomain = The response code is NXDOMAIN (3): the name does not exist");
    sec_has(&o, "line 2", "0/1/0 = The response carries 0 answer records, 1 authority record");
    sec_has(&o, "line 2", "the answer to the query on line 1, 23.0 ms later");
    sec_has(&o, "line 1",
            "Outcome: this lookup failed: the answer on line 2, 23.0 ms says NXDOMAIN");
    sec_has(&o, "line 4", "the answer to the query on line 3, 10.0 ms later");
    sec_has(&o, "line 4", "The response code is NOERROR (0)");
    sec_has(&o, "line 3", "was answered on line 4, 10.0 ms after the first query");
    sec_has(&o, "line 5", "another answer to the query on line 3, which was already answered");
    free(o.text);

    /* --only-problems: the failed lookup's query and its NXDOMAIN answer stay, the answered
     * lookup's three packets go and are counted */
    struct explain_config xc = {.only_problems = true};
    explain_text(Q1
                 "13:24:32.215571 IP 203.0.113.2.domain > 192.51.100.15.52444: 35084 NXDomain "
                 "0/1/0 (100)\n"
                 "13:24:40.000000 IP 192.51.100.15.52446 > 203.0.113.2.domain: 7+ A? ok.example. "
                 "(28)\n"
                 "13:24:40.010000 IP 203.0.113.2.domain > 192.51.100.15.52446: 7 1/0/0 A "
                 "192.0.2.1 (44)\n",
                 &xc, &o);
    has(&o, "line 1  ");
    has(&o, "line 2  ");
    lacks(&o, "line 3  ");
    lacks(&o, "line 4  ");
    assert_int_equal(o.n.shown, 2);
    assert_int_equal(o.n.left_out, 2);
    assert_int_equal(o.n.problems, 2);
    free(o.text);
}

static void test_not_shown_and_not_understood(void **state)
{
    (void)state;
    struct out o;
    /* tcpdump -t: no time on any line; a line that looks like traffic but is not read */
    explain_text("IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? example.com. (24)\n"
                 "IP 192.51.100.15.52444 \xe2\x80\xae> 203.0.113.2.domain\n"
                 "IP 203.0.113.2.domain > 192.51.100.15.52444: 35084 ServFail 0/0/0 (24)\n",
                 NULL, &o);
    sec_has(&o, "line 1", "Time: not shown in this line");
    sec_has(&o, "line 2", "Not understood");
    /* the right-to-left override is shown escaped, never as it is */
    has(&o, "\\xe2\\x80\\xae");
    lacks(&o, "\xe2\x80\xae");
    sec_has(&o, "line 3", "ServFail = The response code is SERVFAIL (2)");
    /* without times no delay is claimed */
    sec_has(&o, "line 3", "Relation: the answer to the query on line 1.");
    assert_int_equal(o.n.not_understood, 1);
    assert_int_equal(o.n.packets, 2);
    /* the line not understood stays in its place, between lines 1 and 3 */
    char *l1 = strstr(o.text, "line 1  "), *l2 = strstr(o.text, "line 2  "),
         *l3 = strstr(o.text, "line 3  ");
    assert_true(l1 && l2 && l3 && l1 < l2 && l2 < l3);
    free(o.text);
}

static void test_hold_bound(void **state)
{
    (void)state;
    /* With room for one held packet, the unanswered query is written before its outcome is
     * known (marked so and counted) instead of being held until the end. */
    struct explain_config xc = {.max_pending = 1};
    struct out o;
    explain_text(Q1
                 "13:24:33.000000 IP 192.51.100.15.40000 > 198.51.100.9.80: Flags [P.], seq 1:2, "
                 "win 64240, length 0\n"
                 "13:24:34.000000 IP 192.51.100.15.40001 > 198.51.100.9.80: Flags [P.], seq 9:10, "
                 "win 64240, length 0\n",
                 &xc, &o);
    sec_has(&o, "line 1", "Outcome: not known yet when this was written (explain holds at most 1");
    assert_int_equal(o.n.outcome_unknown, 1);
    /* order kept */
    assert_true(strstr(o.text, "line 1  ") < strstr(o.text, "line 2  "));
    free(o.text);

    /* --max-packets: the rest is read but not written, and counted */
    struct explain_config xm = {.max_packets = 1};
    explain_text(Q1 "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                    "unreachable, length 60\n",
                 &xm, &o);
    lacks(&o, "line 2  ");
    sec_has(&o, "line 1", "Outcome: this lookup failed: the ICMP error on line 2");
    assert_int_equal(o.n.past_max, 1);
    free(o.text);
}

static void test_icmp_quote_without_query(void **state)
{
    (void)state;
    struct out o;
    explain_text("13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                 "unreachable, length 60\n",
                 NULL, &o);
    sec_has(&o, "line 1", "an ICMP error about a DNS query that is not in this input");
    assert_int_equal(o.n.problems, 1);
    free(o.text);
}

static void test_tcp_relations(void **state)
{
    (void)state;
    struct out o;
    explain_text("13:00:00.000000 IP 192.0.2.1.40000 > 198.51.100.2.443: Flags [S], seq 100, win "
                 "64240, length 0\n"
                 "13:00:01.000000 IP 192.0.2.1.40000 > 198.51.100.2.443: Flags [S], seq 100, win "
                 "64240, length 0\n"
                 "13:00:01.000300 IP 198.51.100.2.443 > 192.0.2.1.40000: Flags [R.], seq 0, ack "
                 "101, win 0, length 0\n"
                 "13:00:02.000000 IP 192.0.2.1.40001 > 198.51.100.2.80: Flags [S], seq 7, win "
                 "64240, length 0\n"
                 "13:00:02.020000 IP 198.51.100.2.80 > 192.0.2.1.40001: Flags [S.], seq 9, ack 8, "
                 "win 64240, length 0\n",
                 NULL, &o);
    sec_has(&o, "line 1", "Relation: the first SYN of a TCP connection attempt");
    sec_has(&o, "line 2",
            "SYN retransmission 1 of the connection attempt on line 1, 1.0 s after the previous "
            "SYN and 1.0 s after the first");
    sec_has(&o, "line 3",
            "the RST refusing the connection attempt on line 1, 0.3 ms after its "
            "latest SYN");
    sec_has(&o, "line 5",
            "the server's SYN-ACK accepting the connection attempt on line 4, 20.0 "
            "ms after its latest SYN");
    /* the SYNs wait for their attempt's outcome, as queries do */
    sec_has(&o, "line 1",
            "Outcome: this attempt (its SYN sent 2 times) failed: refused by the RST "
            "on line 3, 1.0 s after the first SYN.");
    sec_has(&o, "line 4",
            "Outcome: this attempt was accepted by the SYN-ACK on line 5, 20.0 ms "
            "after the first SYN.");
    /* the refused attempt's two SYNs and its RST */
    assert_int_equal(o.n.problems, 3);
    free(o.text);
}

static void test_json_lines(void **state)
{
    (void)state;
    /* --format json: one valid object per line, the facts and relation typed, the input's
     * bytes (a right-to-left override, bytes that are not UTF-8) escaped and given back */
    struct explain_config xc = {.json = true};
    struct out o;
    explain_text("13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? "
                 "x\xe2\x80\xaey.example. (24)\n"
                 "13:24:33.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A? "
                 "x\xe2\x80\xaey.example. (24)\n"
                 "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                 "unreachable, length 60\n"
                 "13:24:37.000000 IP 192.51.100.15.52444 \xff> 203.0.113.2.domain\n",
                 &xc, &o);
    size_t lines = 0;
    bool saw_name = false, saw_retx = false, saw_error = false, saw_unread = false;
    for (char *p = o.text; *p;) {
        char *e = strchr(p, '\n');
        assert_non_null(e);
        struct jcheck *c = json_check(p, (size_t)(e - p));
        assert_non_null(c);
        /* the name as the decoder presents it (\\DDD), the line as it was */
        saw_name |= has_string(c, "x\\226\\128\\174y.example.", 23) &&
                    strstr(p, "A? x\xe2\x80\xaey.example. (24)") != NULL;
        saw_retx |= has_string(c, "retransmission", 14);
        saw_error |= has_string(c, "icmp_error_for_query", 20);
        saw_unread |=
            strstr(p, "\"not_understood\":true") != NULL && strstr(p, "\"line\":4") != NULL;
        jcheck_fini(c);
        lines++;
        p = e + 1;
    }
    assert_int_equal(lines, 4); /* 3 packets and the line not understood */
    assert_true(saw_name);
    assert_true(saw_retx);
    assert_true(saw_error);
    assert_true(saw_unread);
    has(&o, "\"since_latest_s\":2.905993");
    free(o.text);
}

static void test_duration(void **state)
{
    (void)state;
    char b[32];
    explain_duration(50, b, sizeof b);
    assert_string_equal(b, "less than 0.1 ms");
    explain_duration(23000, b, sizeof b);
    assert_string_equal(b, "23.0 ms");
    explain_duration(3905993, b, sizeof b);
    assert_string_equal(b, "3.9 s");
    explain_duration(123400000, b, sizeof b);
    assert_string_equal(b, "2 min 3 s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_fields),
        cmocka_unit_test(test_retransmissions_unanswered),
        cmocka_unit_test(test_answer_and_rcode),
        cmocka_unit_test(test_not_shown_and_not_understood),
        cmocka_unit_test(test_hold_bound),
        cmocka_unit_test(test_icmp_quote_without_query),
        cmocka_unit_test(test_tcp_relations),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
