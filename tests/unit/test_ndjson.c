/* test_ndjson.c: the NDJSON event stream: one valid JSON object per line, exact fields for a
 * lookup, escaping of hostile names, ECS conventions (names without the root dot, dates only
 * when the date is known, ATT&CK sub-techniques), and determinism. */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "report/analysis.h"
#include "report/observer.h"

/* ---- Lines ---- */

/* Checks that out holds exactly n_lines lines, each one JSON object ending in '\n', and returns
 * the checker of the last line (the caller frees it). */
static struct jcheck *check_lines(const struct strbuf *out, size_t n_lines)
{
    const char *s = strbuf_str(out);
    size_t n = out->len, lines = 0, start = 0;
    struct jcheck *last = NULL;
    assert_true(n > 0);
    assert_int_equal(s[n - 1], '\n');
    assert_int_equal(strlen(s), n); /* no NUL inside */
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n')
            continue;
        assert_true(i > start);
        assert_int_equal(s[start], '{');
        assert_int_equal(s[i - 1], '}');
        if (last)
            jcheck_fini(last);
        last = json_check(s + start, i - start);
        lines++;
        start = i + 1;
    }
    assert_int_equal(lines, n_lines);
    return last;
}

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

/* 2026-11-21T13:24:32Z */
#define T0 1795267472

static char s_qname[] = "www.example.com.";

/* An answered lookup: NXDOMAIN after one retransmission from a second port. */
static void lookup_answered(struct dns_lookup *l)
{
    memset(l, 0, sizeof *l);
    l->seq = 7;
    l->input = 1;
    l->client = v4(198, 51, 100, 15);
    l->server = v4(198, 51, 100, 2);
    l->server_port = 53;
    l->client_ports[0] = 53424;
    l->client_ports[1] = 53425;
    l->n_client_ports = 2;
    l->transport = 17;
    l->id = 17514;
    l->query_flags = DNS_FLAG_RD;
    l->has_question = true;
    l->qname = s_qname;
    l->qtype = DNS_TYPE_AAAA;
    l->qclass = 1;
    l->first_tx = at(T0, 192571);
    l->last_tx = at(T0 + 1, 192571);
    l->transmissions = 2;
    l->query.pkt = 3;
    l->query.ts = l->first_tx;
    l->outcome = LOOKUP_ANSWERED;
    l->answer.pkt = 5;
    l->answer.ts = at(T0 + 1, 193012);
    l->answer.has_dns = true;
    l->answer.dns_flags = DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD | DNS_FLAG_RA;
    l->answer.rcode = DNS_RCODE_NXDOMAIN;
    l->answer.ancount = 0;
    l->rcode = DNS_RCODE_NXDOMAIN;
    l->rtt_us = 441;
    l->elapsed_us = 1000441;
    l->extra_responses = 1;
}

static const char want_answered[] =
    "{\"@timestamp\":\"2026-11-21T13:24:32.192571Z\",\"ecs\":{\"version\":\"8.11.0\"},"
    "\"event\":{\"id\":\"5fcc1b63880c82f7864102f2fedef842\",\"kind\":\"event\",\"category\":["
    "\"network\"],"
    "\"type\":[\"protocol\"],"
    "\"outcome\":\"success\",\"dataset\":\"nettriage.dns\","
    "\"start\":\"2026-11-21T13:24:32.192571Z\",\"end\":\"2026-11-21T13:24:33.193012Z\","
    "\"duration\":1000441000},"
    "\"source\":{\"address\":\"198.51.100.15\",\"ip\":\"198.51.100.15\",\"port\":53424},"
    "\"destination\":{\"address\":\"198.51.100.2\",\"ip\":\"198.51.100.2\",\"port\":53},"
    "\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\",\"protocol\":\"dns\"},"
    "\"dns\":{\"id\":17514,\"type\":\"answer\",\"question\":{\"name\":\"www.example.com\","
    "\"type\":\"AAAA\",\"class\":\"IN\"},\"response_code\":\"NXDOMAIN\","
    "\"header_flags\":[\"AA\",\"RD\",\"RA\"],\"answers\":[],\"resolved_ip\":[]},"
    "\"related\":{\"ip\":[\"198.51.100.15\",\"198.51.100.2\"],\"hosts\":[\"www.example.com\"]},"
    "\"nettriage\":{\"lookup\":7,\"time\":\"2026-11-21T13:24:32.192571Z\",\"input\":1,"
    "\"outcome\":\"answered\",\"transmissions\":2,\"retransmissions\":1,\"rtt_ms\":0.441,"
    "\"elapsed_ms\":1000.441,\"late\":false,\"query_in_capture\":true,\"query_packet\":3,\"answer_"
    "packet\":5,"
    "\"client_ports\":[53424,53425],\"client_ports_omitted\":false,\"answer_count\":0,"
    "\"duplicate_responses\":1,\"icmp_errors\":0,\"client_rejects\":0},"
    "\"observer\":{\"name\":\"test-sensor\",\"hostname\":\"test-host\"}}\n";

static void test_lookup_exact(void **state)
{
    (void)state;
    struct dns_lookup l;
    struct strbuf out;
    lookup_answered(&l);
    strbuf_init(&out);
    ndjson_lookup(&out, &l);
    jcheck_fini(check_lines(&out, 1));
    if (strcmp(strbuf_str(&out), want_answered) != 0)
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&out), want_answered);
    /* Same input, same bytes. */
    struct strbuf again;
    strbuf_init(&again);
    ndjson_lookup(&again, &l);
    assert_string_equal(strbuf_str(&again), strbuf_str(&out));
    strbuf_fini(&again);
    strbuf_fini(&out);
}

/* Outcomes: SERVFAIL is a failure, an ICMP error carries icmp.type/code and the error packet,
 * a lookup cut by the end of the capture is "unknown" and shows the query's flags. */
static void test_lookup_outcomes(void **state)
{
    (void)state;
    struct dns_lookup l;
    struct strbuf out;
    strbuf_init(&out);

    lookup_answered(&l);
    l.rcode = l.answer.rcode = DNS_RCODE_SERVFAIL;
    ndjson_lookup(&out, &l);
    assert_non_null(strstr(strbuf_str(&out), "\"outcome\":\"failure\""));
    assert_non_null(strstr(strbuf_str(&out), "\"response_code\":\"SERVFAIL\""));
    strbuf_reset(&out);

    lookup_answered(&l);
    l.outcome = LOOKUP_ICMP_ERROR;
    l.n_errors = 2;
    l.error.pkt = 4;
    l.error.ts = at(T0, 192600);
    l.error.icmp_type = 3;
    l.error.icmp_code = 3;
    l.error.ip_version = 4;
    l.error.src = v4(203, 0, 113, 1); /* a router on the path */
    l.icmp_kind = ICMP_K_PORT_UNREACH;
    l.icmp_sender = ICMP_SENDER_SERVER;
    l.matched_by_id = true;
    l.elapsed_us = 29;
    ndjson_lookup(&out, &l);
    jcheck_fini(check_lines(&out, 1));
    const char *s = strbuf_str(&out);
    assert_non_null(strstr(s, "\"outcome\":\"failure\""));
    assert_non_null(strstr(s, "\"dns\":{\"id\":17514,\"type\":\"query\""));
    assert_null(strstr(s, "response_code"));
    assert_non_null(strstr(s, "\"header_flags\":[\"RD\"]"));
    /* Packetbeat's names (ECS has no icmp fields): the error is the response. */
    assert_non_null(strstr(s, "\"icmp\":{\"version\":4,\"response\":{\"type\":3,\"code\":3,"
                              "\"message\":\"Destination Unreachable: Port Unreachable\"}},"));
    assert_null(strstr(s, "\"request\""));
    /* related.ip: client, server, the error's sender. */
    assert_non_null(strstr(s, "\"related\":{\"ip\":[\"198.51.100.15\",\"198.51.100.2\","
                              "\"203.0.113.1\"],\"hosts\":[\"www.example.com\"]},"));
    assert_non_null(strstr(s, "\"duration\":29000"));
    assert_non_null(strstr(s, "\"elapsed_ms\":0.029"));
    assert_null(strstr(s, "rtt_ms"));
    assert_non_null(strstr(s, "\"error_packet\":4"));
    assert_non_null(strstr(s, "\"icmp_errors\":2,\"icmp_kind\":\"port unreachable\","
                              "\"icmp_sender\":\"server\",\"matched_by_id\":true"));
    strbuf_reset(&out);

    lookup_answered(&l);
    l.outcome = LOOKUP_CAPTURE_ENDED;
    ndjson_lookup(&out, &l);
    s = strbuf_str(&out);
    assert_non_null(strstr(s, "\"outcome\":\"unknown\""));
    assert_non_null(strstr(s, "\"outcome\":\"capture_ended\""));
    assert_null(strstr(s, "\"end\""));
    assert_null(strstr(s, "duration"));
    strbuf_reset(&out);

    /* A time of day has no date: no @timestamp or event.start, nettriage.time keeps it. */
    lookup_answered(&l);
    l.first_tx.kind = NT_TIME_OF_DAY;
    l.first_tx.sec = 13 * 3600 + 24 * 60 + 32;
    l.answer.ts.kind = NT_TIME_OF_DAY;
    l.answer.ts.sec = l.first_tx.sec + 1;
    ndjson_lookup(&out, &l);
    jcheck_fini(check_lines(&out, 1));
    s = strbuf_str(&out);
    assert_null(strstr(s, "@timestamp"));
    assert_null(strstr(s, "\"start\""));
    assert_non_null(strstr(s, "\"time\":\"13:24:32.192571\""));
    assert_true(strncmp(s, "{\"ecs\":", 7) == 0);
    strbuf_reset(&out);

    /* No times at all (tcpdump -t): nettriage.time is null. */
    lookup_answered(&l);
    l.first_tx.kind = NT_TIME_NONE;
    l.answer.ts.kind = NT_TIME_NONE;
    ndjson_lookup(&out, &l);
    jcheck_fini(check_lines(&out, 1));
    assert_non_null(strstr(strbuf_str(&out), "\"time\":null"));
    strbuf_fini(&out);
}

/* related.ip holds each address once (client, server, A/AAAA data), related.hosts each name
 * once; record data that is no IP address stays out of dns.resolved_ip and related.ip. */
static void test_related(void **state)
{
    (void)state;
    static char n1[] = "www.example.com.", n2[] = "web.example.net.";
    static char d_cname[] = "web.example.net.", d_a[] = "192.0.2.1", d_aaaa[] = "2001:db8::1",
                d_bad[] = "not-an-address", d_client[] = "198.51.100.15";
    struct evidence_rr rr[] = {
        {.name = n1, .type = DNS_TYPE_CNAME, .rclass = 1, .ttl = 60, .data = d_cname},
        {.name = n2, .type = DNS_TYPE_A, .rclass = 1, .ttl = 60, .data = d_a},
        {.name = n2, .type = DNS_TYPE_AAAA, .rclass = 1, .ttl = 60, .data = d_aaaa},
        {.name = n2, .type = DNS_TYPE_A, .rclass = 1, .ttl = 60, .data = d_bad},
        {.name = n2, .type = DNS_TYPE_A, .rclass = 1, .ttl = 60, .data = d_a},
        {.name = n2, .type = DNS_TYPE_A, .rclass = 1, .ttl = 60, .data = d_client},
    };
    struct dns_lookup l;
    struct strbuf out;
    lookup_answered(&l);
    l.rcode = l.answer.rcode = DNS_RCODE_NOERROR;
    l.answer.answers = rr;
    l.answer.n_answers = (uint8_t)(sizeof rr / sizeof rr[0]);
    l.answer.ancount = l.answer.n_answers;
    strbuf_init(&out);
    ndjson_lookup(&out, &l);
    jcheck_fini(check_lines(&out, 1));
    const char *s = strbuf_str(&out);
    assert_non_null(strstr(s, "\"resolved_ip\":[\"192.0.2.1\",\"2001:db8::1\",\"192.0.2.1\","
                              "\"198.51.100.15\"]},"));
    assert_non_null(strstr(s, "\"related\":{\"ip\":[\"198.51.100.15\",\"198.51.100.2\","
                              "\"192.0.2.1\",\"2001:db8::1\"],"
                              "\"hosts\":[\"www.example.com\",\"web.example.net\"]},"));
    assert_non_null(strstr(s, "{\"name\":\"web.example.net\",\"type\":\"A\",\"class\":\"IN\","
                              "\"ttl\":60,\"data\":\"not-an-address\"}"));
    strbuf_fini(&out);
}

/* dns.question.name drops the root's trailing dot (ECS, Zeek) but never an escaped one. */
static void test_qname_dot(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"example.com.", "\"name\":\"example.com\""},
        {".", "\"name\":\".\""},
        {"a\\.", "\"name\":\"a\\\\.\""},             /* label "a." without root dot: kept */
        {"a\\..", "\"name\":\"a\\\\.\""},            /* label "a." then the root */
        {"a\\\\.", "\"name\":\"a\\\\\\\\\""},        /* label "a\" then the root */
        {"example.com", "\"name\":\"example.com\""}, /* already without it */
        {"a.examp...", "\"name\":\"a.examp...\""},   /* cut short by the decoder: kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dns_lookup l;
        struct strbuf out;
        char name[32];
        lookup_answered(&l);
        snprintf(name, sizeof name, "%s", cases[i].in);
        l.qname = name;
        strbuf_init(&out);
        ndjson_lookup(&out, &l);
        if (!strstr(strbuf_str(&out), cases[i].want))
            fail_msg("%s: want %s in\n%s", cases[i].in, cases[i].want, strbuf_str(&out));
        strbuf_fini(&out);
    }
}

static char h_quote[] = "evil\",\"event\":{\"kind\":\"alert\"}}\n{\"x\":\"";
static char h_term[] = "\x1b[31mred\x1b[0m\x1b]0;pwned\x07.";
static char h_newline[] = "a.example.\n# heading\r\n|col|";
static char h_bad_utf8[] = "x\xc0\xaf\xed\xa0\x80\x80\xe2\x82";
static char h_lsep[] = "a\xe2\x80\xa8"
                       "b\xe2\x80\xa9"
                       "c\xc2\x85.";
static char h_valid[] = "caf\xc3\xa9.\xf0\x9f\x98\x80.`*_[]()!#+-\\\\.";

/* Whatever the names hold, every call writes one line that is one valid JSON object, and what
 * reads back is what went in (for valid UTF-8; invalid bytes read back as \u00XX). */
static void test_hostile(void **state)
{
    (void)state;
    char *names[] = {h_quote, h_term, h_newline, h_bad_utf8, h_lsep, h_valid};
    struct strbuf out;
    strbuf_init(&out);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct dns_lookup l;
        lookup_answered(&l);
        l.qname = names[i];
        strbuf_reset(&out);
        ndjson_lookup(&out, &l);
        struct jcheck *c = check_lines(&out, 1);
        const char *s = strbuf_str(&out);
        for (size_t k = 0; k < out.len; k++) {
            unsigned char ch = (unsigned char)s[k];
            assert_true(ch >= 0x20 || (ch == '\n' && k == out.len - 1));
            assert_true(ch != 0x7f);
        }
        assert_null(strstr(s, "\xe2\x80\xa8"));
        /* The name reads back whole, minus the root dot where it ended in one. */
        size_t n = strlen(names[i]);
        if (names[i] != h_bad_utf8) {
            size_t want = n;
            if (names[i][n - 1] == '.') /* h_valid ends in "\\\\.": a '\\' label end */
                want--;
            if (!has_string(c, names[i], want))
                fail_msg("name %zu does not read back in\n%s", i, s);
        }
        jcheck_fini(c);
    }
    strbuf_fini(&out);
}

/* ---- ICMP errors ---- */

static void ev_port_unreach(struct evidence *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->input = 0;
    ev->pkt = 4;
    ev->ts = at(T0, 192600);
    ev->role = EV_ICMP_ERROR;
    ev->ip_version = 4;
    ev->src = v4(198, 51, 100, 2);
    ev->dst = v4(198, 51, 100, 15);
    ev->proto = 1;
    ev->icmp_type = 3;
    ev->icmp_code = 3;
    ev->icmp_kind = ICMP_K_PORT_UNREACH;
    ev->quote_present = true;
    ev->quote_has_ports = true;
    ev->quote_has_dns = true;
    ev->q_src = v4(198, 51, 100, 15);
    ev->q_dst = v4(198, 51, 100, 2);
    ev->q_proto = 17;
    ev->q_sport = 53424;
    ev->q_dport = 53;
    ev->q_dns_id = 17514;
}

static void test_icmp(void **state)
{
    (void)state;
    struct evidence ev;
    struct dns_lookup l;
    struct strbuf out;
    ev_port_unreach(&ev);
    lookup_answered(&l);
    struct icmp_event e = {.ev = &ev,
                           .kind = ICMP_K_PORT_UNREACH,
                           .sender = ICMP_SENDER_SERVER,
                           .about_dns = true,
                           .lookup = &l};
    strbuf_init(&out);
    ndjson_icmp_error(&out, &e);
    jcheck_fini(check_lines(&out, 1));
    const char *want =
        "{\"@timestamp\":\"2026-11-21T13:24:32.192600Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"event\":{\"id\":\"8674d7835d5a03fef3daa622a6ad6efe\",\"kind\":\"event\",\"category\":["
        "\"network\"],"
        "\"type\":[\"info\"],"
        "\"outcome\":\"failure\",\"dataset\":\"nettriage.icmp\"},"
        "\"source\":{\"address\":\"198.51.100.2\",\"ip\":\"198.51.100.2\"},"
        "\"destination\":{\"address\":\"198.51.100.15\",\"ip\":\"198.51.100.15\"},"
        "\"network\":{\"type\":\"ipv4\",\"transport\":\"icmp\"},"
        "\"icmp\":{\"version\":4,\"response\":{\"type\":3,\"code\":3,"
        "\"message\":\"Destination Unreachable: Port Unreachable\"}},"
        "\"related\":{\"ip\":[\"198.51.100.2\",\"198.51.100.15\"]},"
        "\"nettriage\":{\"time\":\"2026-11-21T13:24:32.192600Z\",\"input\":0,\"packet\":4,"
        "\"icmp\":{\"kind\":\"port unreachable\","
        "\"description\":\"Destination Unreachable: Port Unreachable\",\"sender\":\"server\","
        "\"about_dns\":true,\"quotes_response\":false,\"matched\":true,\"lookup\":7,"
        "\"quote\":{\"src\":\"198.51.100.15\",\"dst\":\"198.51.100.2\",\"proto\":\"udp\","
        "\"sport\":53424,\"dport\":53,\"dns_id\":17514}}},"
        "\"observer\":{\"name\":\"test-sensor\",\"hostname\":\"test-host\"}}\n";
    if (strcmp(strbuf_str(&out), want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&out), want);

    /* tcpdump text without -v: only the quoted destination, protocol and port; unmatched. */
    strbuf_reset(&out);
    ev.quote_present = ev.quote_has_ports = ev.quote_has_dns = false;
    memset(&ev.q_src, 0, sizeof ev.q_src);
    ev.q_sport = 0;
    ev.from_text = true;
    ev.line_no = 9;
    e.lookup = NULL;
    ndjson_icmp_error(&out, &e);
    jcheck_fini(check_lines(&out, 1));
    const char *s = strbuf_str(&out);
    assert_non_null(strstr(s, "\"packet\":4,\"line\":9,"));
    assert_non_null(strstr(s, "\"matched\":false,\"quote\":{\"src\":null,\"dst\":\"198.51.100.2\","
                              "\"proto\":\"udp\",\"dport\":53}"));

    /* ICMPv6 and a host name for an address (tcpdump text without -n). */
    strbuf_reset(&out);
    ev.ip_version = 6;
    assert_true(nt_addr_set_name(tu_names(), &ev.src, "router\"1\n", 9));
    ndjson_icmp_error(&out, &e);
    jcheck_fini(check_lines(&out, 1));
    s = strbuf_str(&out);
    assert_non_null(strstr(s, "\"source\":{\"address\":\"router\\\"1\\u000a\"},"));
    assert_non_null(strstr(s, "\"transport\":\"ipv6-icmp\""));
    /* The host name is no ip: related.hosts. */
    assert_non_null(strstr(s, "\"icmp\":{\"version\":6,\"response\":{\"type\":3,"));
    assert_non_null(strstr(s, "\"related\":{\"ip\":[\"198.51.100.15\",\"198.51.100.2\"],"
                              "\"hosts\":[\"router\\\"1\\u000a\"]},"));
    strbuf_fini(&out);
}

/* ---- Findings and the summary ---- */

static char f_summary[] = "Lookups failed for \"x\"\n\x1b[2J.";
static char f_fact[] = "fact </script>";
static char f_name[] = "bad\\010name. A";
static char f_step[] = "Run `dig`.";
static char f_cause[] = "cause";
static char f_reason[] = "reason";
static char a_path[] = "in\n\"put\".pcap";

/* A finding whose lists the test fills itself (static strings: not finding_free). */
static void shell_free(struct finding *f)
{
    free(f->clients);
    free(f->names);
    free(f->evidence);
    free(f);
}

static struct finding *finding_new(void)
{
    struct finding *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_true(finding_reserve(f, 1, 1, 1));
    f->id = "dns.flood";
    f->title = "DNS flood";
    f->severity = SEV_HIGH;
    f->attack = ATTACK_T1499_002;
    f->transport = 17;
    f->port = 53;
    f->service = "DNS over TCP";
    f->has_server = true;
    f->server = v4(198, 51, 100, 2);
    f->clients[0] = v4(198, 51, 100, 15);
    f->n_clients = 1;
    f->names[0] = f_name;
    f->n_names = 1;
    f->first_seen = at(T0, 1);
    f->last_seen = at(T0 + 60, 2);
    f->lookups = 10;
    f->packets = 20;
    f->summary = f_summary;
    f->facts[0] = f_fact;
    f->n_facts = 1;
    f->causes[0].text = f_cause;
    f->causes[0].reason = f_reason;
    f->causes[0].confidence = CONF_HIGH;
    f->n_causes = 1;
    f->next_steps[0] = f_step;
    f->n_next_steps = 1;
    f->evidence[0].pkt = 3;
    f->evidence[0].role = EV_QUERY;
    f->n_evidence = 1;
    return f;
}

static void test_findings_and_summary(void **state)
{
    (void)state;
    struct finding *f1 = finding_new(), *f2 = finding_new();
    f2->attack = ATTACK_T1498;
    f2->first_seen.kind = NT_TIME_OF_DAY;
    struct finding *const list[] = {f1, f2};
    struct analysis_input in = {.path = a_path, .kind = "pcap", .packets = 5};
    struct analysis a = {.version = "9.9.9",
                         .timeout_us = 5000000,
                         .inputs = &in,
                         .n_inputs = 1,
                         .has_time = true,
                         .first_ts = at(T0, 0),
                         .last_ts = at(T0 + 60, 5),
                         .findings = list,
                         .n_findings = 2};
    a.summary.dns_lookups = 10;
    a.summary.icmp_errors = 4;
    struct strbuf out;
    strbuf_init(&out);
    report_render_ndjson(&a, &out);
    struct jcheck *c = check_lines(&out, 3);
    assert_true(has_string(c, a_path, strlen(a_path)));
    jcheck_fini(c);
    const char *s = strbuf_str(&out);
    /* First line: f1, with the sub-technique split the ECS way. */
    assert_true(strncmp(s, "{\"@timestamp\":\"2026-11-21T13:24:32.000001Z\",", 44) == 0);
    assert_non_null(strstr(s, "\"event\":{\"id\":\""));
    assert_non_null(strstr(s, "\",\"kind\":\"alert\",\"category\":[\"network\"],"
                              "\"type\":[\"info\"],\"dataset\":\"nettriage.finding\","
                              "\"severity\":3,"));
    assert_non_null(strstr(s, "\"rule\":{\"id\":\"dns.flood\",\"name\":\"DNS flood\","
                              "\"ruleset\":\"nettriage\"}"));
    assert_non_null(strstr(s, "\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{"
                              "\"id\":[\"T1499\"],\"name\":[\"Endpoint Denial of Service\"],"
                              "\"subtechnique\":{\"id\":[\"T1499.002\"],"
                              "\"name\":[\"Service Exhaustion Flood\"]}}}"));
    assert_non_null(strstr(s, "\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{"
                              "\"id\":[\"T1498\"],\"name\":[\"Network Denial of Service\"]}}"));
    assert_non_null(strstr(s, "\"network\":{\"type\":\"ipv4\",\"transport\":\"udp\","
                              "\"protocol\":\"dns\"}"));
    assert_non_null(strstr(s, "\"message\":\"Lookups failed for \\\"x\\\"\\u000a\\u001b[2J.\""));
    assert_non_null(strstr(s, "\"evidence\":[{\"input\":0,\"packet\":3,\"role\":\"query\"}]"));
    /* Names without the root's dot, as dns.question.name; server and clients in related. */
    assert_non_null(strstr(s, "\"query_names\":[\"bad\\\\010name A\"]"));
    assert_non_null(strstr(s, "\"related\":{\"ip\":[\"198.51.100.2\",\"198.51.100.15\"],"
                              "\"hosts\":[\"bad\\\\010name\"]},"));
    /* f2 has a time of day: no @timestamp, no event.start. */
    const char *l2 = strchr(s, '\n') + 1;
    assert_true(strncmp(l2, "{\"ecs\":", 7) == 0);
    /* The summary line last. */
    const char *l3 = strchr(l2, '\n') + 1;
    assert_true(strncmp(l3, "{\"@timestamp\":\"2026-11-21T13:25:32.000005Z\",", 44) == 0);
    assert_non_null(strstr(l3, "\"kind\":\"metric\""));
    assert_non_null(strstr(l3, "\"dataset\":\"nettriage.summary\""));
    assert_non_null(strstr(l3, "\"dns_lookups\":10,"));
    assert_non_null(strstr(l3, "\"icmp_errors\":4,"));
    assert_non_null(strstr(l3, "\"findings\":2,\"findings_omitted\":0,"));
    assert_non_null(strstr(l3, "\"lookups_evicted\":0,\"tcp_evicted\":0,"));
    assert_non_null(strstr(l3, "\"timeout_ms\":5000,"));

    /* Deterministic. */
    struct strbuf again;
    strbuf_init(&again);
    report_render_ndjson(&a, &again);
    assert_string_equal(strbuf_str(&again), s);
    strbuf_fini(&again);
    strbuf_fini(&out);
    shell_free(f1);
    shell_free(f2);
}

/* An analysis with nothing in it still ends with its summary line. */
static void test_empty(void **state)
{
    (void)state;
    struct analysis a = {.version = "9.9.9", .timeout_us = 1};
    struct strbuf out;
    strbuf_init(&out);
    report_render_ndjson(&a, &out);
    jcheck_fini(check_lines(&out, 1));
    assert_true(strncmp(strbuf_str(&out), "{\"ecs\":", 7) == 0);
    assert_non_null(strstr(strbuf_str(&out), "\"timeout_ms\":0.001,"));
    assert_non_null(strstr(strbuf_str(&out), "\"inputs\":[],"));
    strbuf_fini(&out);
}

int main(void)
{
    /* Every event names its sensor; fixed here so the ids below are too. */
    setenv("NETTRIAGE_HOSTNAME", "test-host", 1);
    observer_set_name("test-sensor");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_exact), cmocka_unit_test(test_lookup_outcomes),
        cmocka_unit_test(test_qname_dot),    cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_icmp),         cmocka_unit_test(test_findings_and_summary),
        cmocka_unit_test(test_empty),        cmocka_unit_test(test_related),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
