/* test_json.c: the JSON report: exact layout, strict validity, escaping and determinism. */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/analysis.h"

/* ---- Building an analysis by hand ---- */

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

static void ev_query(struct evidence *ev, uint64_t pkt, struct nt_time ts, char *text, char *qname,
                     uint16_t id)
{
    memset(ev, 0, sizeof *ev);
    ev->input = 0;
    ev->pkt = pkt;
    ev->ts = ts;
    ev->role = EV_QUERY;
    ev->text = text;
    ev->ip_version = 4;
    ev->src = v4(198, 51, 100, 15);
    ev->dst = v4(198, 51, 100, 2);
    ev->proto = 17;
    ev->sport = 53424;
    ev->dport = 53;
    ev->has_dns = true;
    ev->dns_id = id;
    ev->dns_flags = DNS_FLAG_RD;
    ev->qdcount = 1;
    ev->has_question = true;
    ev->qname = qname;
    ev->qtype = DNS_TYPE_A;
    ev->qclass = 1;
    ev->dns_len = 29;
}

static void ev_port_unreach(struct evidence *ev, uint64_t pkt, struct nt_time ts, char *text,
                            uint16_t id)
{
    memset(ev, 0, sizeof *ev);
    ev->input = 0;
    ev->pkt = pkt;
    ev->ts = ts;
    ev->role = EV_ICMP_ERROR;
    ev->text = text;
    ev->ip_version = 4;
    ev->src = v4(198, 51, 100, 2);
    ev->dst = v4(198, 51, 100, 15);
    ev->proto = 1;
    ev->icmp_type = 3;
    ev->icmp_code = 3;
    ev->icmp_kind = ICMP_K_PORT_UNREACH;
    ev->icmp_len = 65;
    ev->quote_present = true;
    ev->quote_has_ports = true;
    ev->quote_has_dns = true;
    ev->q_src = v4(198, 51, 100, 15);
    ev->q_dst = v4(198, 51, 100, 2);
    ev->q_proto = 17;
    ev->q_sport = 53424;
    ev->q_dport = 53;
    ev->q_dns_id = id;
}

/* An ICMP error whose quote was not read at all. */
static void clear_quote(struct evidence *ev)
{
    ev->quote_present = ev->quote_has_ports = ev->quote_has_dns = false;
    memset(&ev->q_src, 0, sizeof ev->q_src);
    memset(&ev->q_dst, 0, sizeof ev->q_dst);
    ev->q_proto = 0;
    ev->q_sport = ev->q_dport = ev->q_dns_id = 0;
}

/* Model strings are char * (owned by their finding in the real program); the test keeps them in
 * writable static storage. */
static char s_query_line[] =
    "IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+ A? example.com. (29)";
static char s_icmp_line[] = "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 "
                            "unreachable, length 65";
static char s_qname[] = "example.com.";
static char s_name[] = "example.com. A";
static char s_summary[] = "1 DNS lookup from 1 client to 198.51.100.2 was answered with ICMP port "
                          "unreachable.";
static char s_fact[] = "Nothing listens on UDP port 53 of 198.51.100.2.";
static char s_cause[] = "The DNS service on 198.51.100.2 is not running.";
static char s_reason[] = "Every query got port unreachable within 1 ms.";
static char s_step[] = "Check the DNS service on 198.51.100.2.";
static char s_path[] = "dns.pcap";
static char s_heading[] = "A DNS query";
static char s_ex_text[] = "13:24:32.192571 IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+";
static char s_tok1[] = "17514";
static char s_mean1[] = "the query id";
static char s_tok2[] = "+";
static char s_mean2[] = "recursion desired";

struct fixture {
    struct analysis a;
    struct analysis_input inputs[3];
    struct finding *f;
    struct finding *list[1];
    struct explain_line explain[1];
    struct explain_part parts[2];
};

/* The small fixed case: one pcap, one finding, two evidence lines, one explanation. */
static struct fixture *fixture_small(void)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    struct finding *f = fx->f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_true(finding_reserve(f, 4, 16, 4)); /* test_hostile adds to the lists */

    struct analysis_input *in = &fx->inputs[0];
    in->path = s_path;
    in->kind = "pcap";
    in->linktype = "Ethernet";
    in->packets = 2;
    in->has_time = true;
    in->first_ts = at(T0, 192571);
    in->last_ts = at(T0, 193012);

    f->id = "dns.port_unreachable";
    f->title = "DNS server unreachable on its port";
    f->severity = SEV_HIGH;
    f->transport = 17;
    f->port = 53;
    f->service = "DNS";
    f->has_server = true;
    f->server = v4(198, 51, 100, 2);
    f->clients[f->n_clients++] = v4(198, 51, 100, 15);
    f->names[f->n_names++] = s_name;
    f->first_seen = at(T0, 192571);
    f->last_seen = at(T0, 193012);
    f->lookups = 1;
    f->packets = 2;
    f->query_packets = 1;
    f->error_packets = 1;
    ev_query(&f->evidence[f->n_evidence++], 1, at(T0, 192571), s_query_line, s_qname, 17514);
    ev_port_unreach(&f->evidence[f->n_evidence++], 2, at(T0, 193012), s_icmp_line, 17514);
    f->summary = s_summary;
    f->facts[f->n_facts++] = s_fact;
    f->causes[0].text = s_cause;
    f->causes[0].confidence = CONF_HIGH;
    f->causes[0].reason = s_reason;
    f->n_causes = 1;
    f->next_steps[f->n_next_steps++] = s_step;

    fx->parts[0].token = s_tok1;
    fx->parts[0].meaning = s_mean1;
    fx->parts[1].token = s_tok2;
    fx->parts[1].meaning = s_mean2;
    fx->explain[0].heading = s_heading;
    fx->explain[0].text = s_ex_text;
    fx->explain[0].parts = fx->parts;
    fx->explain[0].n_parts = 2;

    struct analysis *a = &fx->a;
    a->version = "0.1.0";
    a->timeout_us = 2000000;
    a->inputs = fx->inputs;
    a->n_inputs = 1;
    a->has_time = true;
    a->first_ts = at(T0, 192571);
    a->last_ts = at(T0, 193012);
    a->summary.packets = 2;
    a->summary.dns_queries = 1;
    a->summary.dns_lookups = 1;
    a->summary.icmp_errors = 1;
    a->summary.icmp_matched = 1;
    fx->list[0] = f;
    a->findings = fx->list;
    a->n_findings = 1;
    a->explain = fx->explain;
    a->n_explain = 1;
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    free(fx->f->clients); /* the lists hold static strings: not finding_free */
    free(fx->f->names);
    free(fx->f->evidence);
    free(fx->f);
    free(fx);
}

static char *render(const struct analysis *a, size_t *len)
{
    struct strbuf b;
    strbuf_init(&b);
    report_render_json(a, &b);
    assert_false(b.oom);
    *len = b.len;
    return strbuf_take(&b);
}

static const char golden_small[] =
    "{\n"
    "  \"schema\": \"nettriage.report/2\",\n"
    "  \"generator\": {\n"
    "    \"name\": \"nettriage\",\n"
    "    \"version\": \"0.1.0\"\n"
    "  },\n"
    "  \"reported\": null,\n"
    "  \"actions\": null,\n"
    "  \"redacted\": false,\n"
    "  \"timeout_s\": 2,\n"
    "  \"inputs\": [\n"
    "    {\n"
    "      \"path\": \"dns.pcap\",\n"
    "      \"kind\": \"pcap\",\n"
    "      \"linktype\": \"Ethernet\",\n"
    "      \"packets\": 2,\n"
    "      \"date_from\": \"input\",\n"
    "      \"first_packet\": \"2026-11-21T13:24:32.192571Z\",\n"
    "      \"last_packet\": \"2026-11-21T13:24:32.193012Z\",\n"
    "      \"unreadable_lines\": 0,\n"
    "      \"first_unreadable_lines\": [],\n"
    "      \"unsupported_link_frames\": 0,\n"
    "      \"unread_traffic\": 0,\n"
    "      \"first_unread\": [],\n"
    "      \"unread_samples\": [],\n"
    "      \"ignored_lines\": 0,\n"
    "      \"gzip\": false,\n"
    "      \"pcapng_fallback\": false,\n"
    "      \"fragments\": {\n"
    "        \"fragments\": 0,\n"
    "        \"reassembled\": 0,\n"
    "        \"timed_out\": 0,\n"
    "        \"evicted\": 0,\n"
    "        \"incomplete\": 0,\n"
    "        \"lost_fragments\": 0,\n"
    "        \"duplicates\": 0,\n"
    "        \"overlaps\": 0,\n"
    "        \"invalid\": 0,\n"
    "        \"uncaptured\": 0,\n"
    "        \"unlocated\": 0\n"
    "      },\n"
    "      \"error\": null\n"
    "    }\n"
    "  ],\n"
    "  \"time_span\": {\n"
    "    \"start\": \"2026-11-21T13:24:32.192571Z\",\n"
    "    \"end\": \"2026-11-21T13:24:32.193012Z\",\n"
    "    \"duration_s\": 0.000441\n"
    "  },\n"
    "  \"summary\": {\n"
    "    \"unread_traffic\": 0,\n"
    "    \"verdict_covers_all\": true,\n"
    "    \"packets\": 2,\n"
    "    \"dns_queries\": 1,\n"
    "    \"dns_responses\": 0,\n"
    "    \"dns_lookups\": 1,\n"
    "    \"lookups_from_quotes\": 0,\n"
    "    \"answered\": 0,\n"
    "    \"icmp_errors\": 1,\n"
    "    \"icmp_errors_matched\": 1,\n"
    "    \"unanswered\": 0,\n"
    "    \"capture_ended\": 0,\n"
    "    \"unsolicited_responses\": 0,\n"
    "    \"tcp_attempts\": 0,\n"
    "    \"tcp_syn_packets\": 0,\n"
    "    \"tcp_established\": 0,\n"
    "    \"tcp_reset\": 0,\n"
    "    \"tcp_icmp_errors\": 0,\n"
    "    \"tcp_unanswered\": 0,\n"
    "    \"tcp_capture_ended\": 0,\n"
    "    \"mdns_messages\": 0,\n"
    "    \"llmnr_messages\": 0,\n"
    "    \"nbns_packets\": 0,\n"
    "    \"findings\": 1,\n"
    "    \"findings_omitted\": 0,\n"
    "    \"lookups_evicted\": 0,\n"
    "    \"tcp_evicted\": 0,\n"
    "    \"lookups_open_peak\": 0,\n"
    "    \"clock_steps\": 0,\n"
    "    \"rule_limits\": [],\n"
    "    \"clock_steps_first\": [],\n"
    "    \"limits\": {\n"
    "      \"max_lookups\": 0,\n"
    "      \"max_tcp_attempts\": 0,\n"
    "      \"answer_guard_us\": 0\n"
    "    }\n"
    "  },\n"
    "  \"findings\": [\n"
    "    {\n"
    "      \"id\": \"dns.port_unreachable\",\n"
    "      \"severity\": \"high\",\n"
    "      \"attack\": null,\n"
    "      \"title\": \"DNS server unreachable on its port\",\n"
    "      \"protocol\": \"udp\",\n"
    "      \"port\": 53,\n"
    "      \"service\": \"DNS\",\n"
    "      \"server\": \"198.51.100.2\",\n"
    "      \"clients\": [\n"
    "        \"198.51.100.15\"\n"
    "      ],\n"
    "      \"clients_omitted\": 0,\n"
    "      \"query_names\": [\n"
    "        \"example.com A\"\n"
    "      ],\n"
    "      \"query_names_omitted\": 0,\n"
    "      \"first_seen\": \"2026-11-21T13:24:32.192571Z\",\n"
    "      \"last_seen\": \"2026-11-21T13:24:32.193012Z\",\n"
    "      \"lookups\": 1,\n"
    "      \"packets\": 2,\n"
    "      \"query_packets\": 1,\n"
    "      \"error_packets\": 1,\n"
    "      \"late_errors\": 0,\n"
    "      \"window\": {\n"
    "        \"last_success_before\": null,\n"
    "        \"first_failure\": \"2026-11-21T13:24:32.192571Z\",\n"
    "        \"last_failure\": \"2026-11-21T13:24:32.193012Z\",\n"
    "        \"first_success_after\": null,\n"
    "        \"successes_during\": 0,\n"
    "        \"successes_total\": 0\n"
    "      },\n"
    "      \"summary\": \"1 DNS lookup from 1 client to 198.51.100.2 was answered with ICMP port "
    "unreachable.\",\n"
    "      \"facts\": [\n"
    "        \"Nothing listens on UDP port 53 of 198.51.100.2.\"\n"
    "      ],\n"
    "      \"evidence\": [\n"
    "        {\n"
    "          \"input\": 0,\n"
    "          \"packet\": 1,\n"
    "          \"time\": \"2026-11-21T13:24:32.192571Z\",\n"
    "          \"role\": \"query\",\n"
    "          \"text\": \"IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+ A? example.com. "
    "(29)\",\n"
    "          \"src\": \"198.51.100.15\",\n"
    "          \"dst\": \"198.51.100.2\",\n"
    "          \"src_port\": 53424,\n"
    "          \"dst_port\": 53,\n"
    "          \"dns\": {\n"
    "            \"id\": 17514,\n"
    "            \"qr\": false,\n"
    "            \"rcode\": \"NOERROR\",\n"
    "            \"flags\": [\n"
    "              \"rd\"\n"
    "            ],\n"
    "            \"qname\": \"example.com\",\n"
    "            \"qtype\": \"A\",\n"
    "            \"length\": 29\n"
    "          }\n"
    "        },\n"
    "        {\n"
    "          \"input\": 0,\n"
    "          \"packet\": 2,\n"
    "          \"time\": \"2026-11-21T13:24:32.193012Z\",\n"
    "          \"role\": \"icmp_error\",\n"
    "          \"text\": \"IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 "
    "unreachable, length 65\",\n"
    "          \"src\": \"198.51.100.2\",\n"
    "          \"dst\": \"198.51.100.15\",\n"
    "          \"icmp\": {\n"
    "            \"type\": 3,\n"
    "            \"code\": 3,\n"
    "            \"kind\": \"port unreachable\",\n"
    "            \"description\": \"Destination Unreachable: Port Unreachable\",\n"
    "            \"length\": 65,\n"
    "            \"quoted\": {\n"
    "              \"src\": \"198.51.100.15\",\n"
    "              \"dst\": \"198.51.100.2\",\n"
    "              \"protocol\": \"udp\",\n"
    "              \"src_port\": 53424,\n"
    "              \"dst_port\": 53,\n"
    "              \"dns_id\": 17514\n"
    "            }\n"
    "          }\n"
    "        }\n"
    "      ],\n"
    "      \"evidence_omitted\": 0,\n"
    "      \"causes\": [\n"
    "        {\n"
    "          \"rank\": 1,\n"
    "          \"text\": \"The DNS service on 198.51.100.2 is not running.\",\n"
    "          \"confidence\": \"high\",\n"
    "          \"reason\": \"Every query got port unreachable within 1 ms.\"\n"
    "        }\n"
    "      ],\n"
    "      \"next_steps\": [\n"
    "        \"Check the DNS service on 198.51.100.2.\"\n"
    "      ]\n"
    "    }\n"
    "  ],\n"
    "  \"unmatched_icmp_errors\": {\n"
    "    \"count\": 0,\n"
    "    \"examples\": []\n"
    "  },\n"
    "  \"icmp_errors_not_taken\": {\n"
    "    \"count\": 0,\n"
    "    \"examples\": []\n"
    "  },\n"
    "  \"explanations\": [\n"
    "    {\n"
    "      \"heading\": \"A DNS query\",\n"
    "      \"text\": \"13:24:32.192571 IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+\",\n"
    "      \"fields\": [\n"
    "        {\n"
    "          \"token\": \"17514\",\n"
    "          \"meaning\": \"the query id\"\n"
    "        },\n"
    "        {\n"
    "          \"token\": \"+\",\n"
    "          \"meaning\": \"recursion desired\"\n"
    "        }\n"
    "      ]\n"
    "    }\n"
    "  ]\n"
    "}\n";

/* Shows where two documents first differ, which a plain string compare of 5 kB does not. */
static void assert_doc_equal(const char *got, const char *want)
{
    size_t i = 0;
    while (got[i] && got[i] == want[i])
        i++;
    if (got[i] != want[i]) {
        size_t from = i > 60 ? i - 60 : 0;
        fail_msg("documents differ at byte %zu:\n--- got ...%.120s\n--- want ...%.120s", i,
                 got + from, want + from);
    }
}

static void test_golden_small(void **state)
{
    (void)state;
    struct fixture *fx = fixture_small();
    size_t len;
    char *doc = render(&fx->a, &len);
    assert_doc_equal(doc, golden_small);
    jcheck_fini(json_check(doc, len));
    free(doc);
    fixture_free(fx);
}

/* Rendering appends to what the buffer holds and gives the same bytes every time. */
static void test_deterministic(void **state)
{
    (void)state;
    struct fixture *fx = fixture_small();
    struct strbuf b1, b2;
    strbuf_init(&b1);
    strbuf_init(&b2);
    strbuf_puts(&b2, "prefix");
    report_render_json(&fx->a, &b1);
    report_render_json(&fx->a, &b2);
    assert_int_equal(b1.len + 6, b2.len);
    assert_memory_equal(b1.s, b2.s + 6, b1.len);
    assert_memory_equal(b2.s, "prefix{", 7);
    strbuf_reset(&b2);
    report_render_json(&fx->a, &b2);
    assert_string_equal(strbuf_str(&b1), strbuf_str(&b2));
    strbuf_fini(&b1);
    strbuf_fini(&b2);
    fixture_free(fx);
}

/* An empty analysis (nothing read, no time) is still a complete, valid document. */
static void test_empty(void **state)
{
    (void)state;
    struct analysis a;
    memset(&a, 0, sizeof a);
    size_t len;
    char *doc = render(&a, &len);
    jcheck_fini(json_check(doc, len));
    assert_non_null(strstr(doc, "\"version\": null\n  },\n"));
    assert_non_null(strstr(doc, "\"timeout_s\": 0,\n"));
    assert_non_null(strstr(doc, "\"inputs\": [],\n"));
    assert_non_null(strstr(doc, "\"time_span\": null,\n"));
    assert_non_null(strstr(doc, "\"findings\": [],\n"));
    assert_non_null(strstr(doc, "\"explanations\": []\n}\n"));
    assert_int_equal(doc[len - 1], '\n');
    assert_int_not_equal(doc[len - 2], '\n');
    free(doc);
}

/* Strings off the wire, each aimed at a different reader of the JSON. */
static char h_script[] = "<script>alert(1)</script>.example.";
static char h_quote[] = "evil\",\"severity\":\"info\"}]}\\";
static char h_term[] = "\x1b[31mred\x1b[0m\x1b]0;pwned\x07";
static char h_newline[] = "a.example.\n# heading\r\n|col|";
static char h_bad_utf8[] = "x\xc0\xaf\xed\xa0\x80\x80\xe2\x82";
static char h_c1[] = "\xc2\x9b"
                     "2J\xe2\x80\xa8";
static char h_valid[] = "caf\xc3\xa9.\xf0\x9f\x98\x80.`*_[]()!#+-.";
static char h_path[] = "/tmp/x\ny\".pcap";
static char h_error[] = "truncated record at offset 4096 (\"\x01\")";
static char h_reported[] = "ticket #42: \"DNS down\"\t<b>";
static char h_text_path[] = "paste.txt";

static void test_hostile(void **state)
{
    (void)state;
    struct fixture *fx = fixture_small();
    struct finding *f = fx->f;
    struct analysis *a = &fx->a;

    a->reported = h_reported;
    f->names[f->n_names++] = h_script;
    f->names[f->n_names++] = h_quote;
    f->names[f->n_names++] = h_term;
    f->names[f->n_names++] = h_newline;
    f->names[f->n_names++] = h_bad_utf8;
    f->names[f->n_names++] = h_c1;
    f->names[f->n_names++] = h_valid;
    f->names_dropped = 7;
    f->facts[f->n_facts++] = h_quote;
    f->causes[0].reason = h_term;
    f->next_steps[f->n_next_steps++] = h_newline;
    /* A host name read from tcpdump text can be anything. */
    assert_true(
        nt_addr_set_name(tu_names(), &f->clients[f->n_clients++], h_script, strlen(h_script)));
    f->clients_dropped = 3;
    f->evidence[0].text = h_term;
    f->evidence[0].qname = h_quote;
    f->evidence[0].from_text = true;
    f->evidence[0].line_no = 17;
    f->evidence[1].text = h_bad_utf8;
    fx->parts[0].token = h_c1;

    fx->inputs[0].path = h_path;
    fx->inputs[0].error = h_error;
    /* An input that could not be opened, and a text input with unreadable lines. */
    fx->inputs[1].path = h_newline;
    fx->inputs[1].error = h_error;
    fx->inputs[2].path = h_text_path;
    fx->inputs[2].kind = "tcpdump text";
    fx->inputs[2].lines = 40;
    fx->inputs[2].bad_lines = 2;
    fx->inputs[2].first_bad_lines[0] = 3;
    fx->inputs[2].first_bad_lines[1] = 9;
    fx->inputs[2].n_first_bad_lines = 2;
    a->n_inputs = 3;

    size_t len;
    char *doc = render(a, &len);
    struct jcheck *c = json_check(doc, len);

    /* Every valid UTF-8 string comes back unchanged from the parsed document. */
    static char *const exact[] = {h_script, h_quote, h_term,    h_newline,
                                  h_path,   h_error, h_reported};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!has_string(c, exact[i], strlen(exact[i])))
            fail_msg("string %zu did not survive: %s", i, exact[i]);
    /* A query name is written without the root's trailing dot (jsonw_query_name). */
    assert_true(has_string(c, h_valid, strlen(h_valid) - 1));
    assert_false(has_string(c, h_valid, strlen(h_valid)));
    /* Invalid bytes come back as the code points of their values. */
    const char bad_as_latin1[] =
        "x\xc3\x80\xc2\xaf\xc3\xad\xc2\xa0\xc2\x80\xc2\x80\xc3\xa2\xc2\x82";
    assert_true(has_string(c, bad_as_latin1, strlen(bad_as_latin1)));
    assert_true(has_string(c, h_c1, strlen(h_c1)));

    /* The raw document holds no control byte but the layout's newlines, and the escapes are the
     * ones the schema documents. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)doc[i] < 0x20 && doc[i] != '\n')
            fail_msg("raw control byte 0x%02x at %zu", (unsigned char)doc[i], i);
    assert_null(strstr(doc, "\x1b"));
    assert_null(strstr(doc, "\xc2\x9b"));
    assert_non_null(strstr(doc, "\"\\u001b[31mred\\u001b[0m\\u001b]0;pwned\\u0007\""));
    assert_non_null(strstr(doc, "\"evil\\\",\\\"severity\\\":\\\"info\\\"}]}\\\\\""));
    assert_non_null(strstr(doc, "\"a.example.\\u000a# heading\\u000d\\u000a|col|\""));
    assert_non_null(strstr(doc, "\"x\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u0080\\u00e2\\u0082\""));
    assert_non_null(strstr(doc, "\"\\u009b2J\\u2028\""));
    assert_non_null(strstr(doc, "\"clients\": [\n        \"198.51.100.15\",\n"
                                "        \"<script>alert(1)</script>.example.\"\n      ],\n"));
    assert_non_null(strstr(doc, "\"clients_omitted\": 3,\n"));
    assert_non_null(strstr(doc, "\"query_names_omitted\": 7,\n"));
    /* Per-input fields: "lines" only for text, a null kind for an unopened input. */
    assert_non_null(strstr(doc,
                           "\"kind\": null,\n      \"linktype\": null,\n      \"packets\": 0,\n"
                           "      \"date_from\": null,\n"
                           "      \"first_packet\": null,\n      \"last_packet\": null,\n"
                           "      \"unreadable_lines\": 0,\n"));
    assert_non_null(strstr(doc, "\"kind\": \"tcpdump text\",\n      \"linktype\": null,\n"));
    assert_non_null(strstr(doc, "\"lines\": 40,\n      \"unreadable_lines\": 2,\n"
                                "      \"first_unreadable_lines\": [\n        3,\n        9\n"
                                "      ],\n"));
    assert_null(strstr(doc, "\"lines\": 0"));
    /* Text evidence carries its line number. */
    assert_non_null(strstr(doc, "\"packet\": 1,\n          \"line\": 17,\n"));
    assert_null(strstr(doc, "\"line\": 0"));

    char *again = render(a, &len);
    assert_string_equal(doc, again);
    free(again);
    jcheck_fini(c);
    free(doc);
    fixture_free(fx);
}

/* Time-of-day and missing timestamps, negative and sub-microsecond-free durations, the
 * optional DNS and ICMP members, and unmatched ICMP examples. */
static void test_times_and_optional(void **state)
{
    (void)state;
    struct fixture *fx = fixture_small();
    struct analysis *a = &fx->a;
    struct finding *f = fx->f;
    size_t len;
    char *doc;

    a->has_time = false;
    fx->inputs[0].has_time = false;
    a->timeout_us = 1500000;
    doc = render(a, &len);
    jcheck_fini(json_check(doc, len));
    assert_non_null(strstr(doc, "\"time_span\": null,\n"));
    assert_non_null(strstr(doc, "\"timeout_s\": 1.5,\n"));
    assert_non_null(strstr(doc, "\"first_packet\": null,\n      \"last_packet\": null,\n"));
    free(doc);

    /* Text without dates: times of day; the span can even run backwards across inputs. */
    a->has_time = true;
    a->timeout_us = 1;
    a->first_ts =
        (struct nt_time){.sec = 13 * 3600 + 24 * 60 + 33, .nsec = 0, .kind = NT_TIME_OF_DAY};
    a->last_ts = (struct nt_time){
        .sec = 13 * 3600 + 24 * 60 + 32, .nsec = 500000000, .kind = NT_TIME_OF_DAY};
    f->first_seen.kind = NT_TIME_NONE;
    f->evidence[0].ts.kind = NT_TIME_NONE;
    f->has_server = false;
    f->port = 0;
    f->transport = 0;
    f->summary = NULL;
    /* A response with more flags and an opcode, a non-DNS ICMP quote, unknown roles. */
    f->evidence[0].dns_flags = DNS_FLAG_QR | (uint16_t)(5u << 11) | DNS_FLAG_AA | DNS_FLAG_TC |
                               DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_CD;
    f->evidence[0].rcode = DNS_RCODE_NXDOMAIN;
    f->evidence[0].qtype = 65280;
    f->evidence[0].role = EV_ANSWER;
    f->evidence[1].q_proto = 47;
    f->evidence[1].quote_has_ports = false;
    f->evidence[1].quote_has_dns = false;
    f->evidence[1].q_sport = f->evidence[1].q_dport = 0;
    a->unmatched_icmp = 9;
    ev_port_unreach(&a->unmatched_examples[0], 7, at(T0, 5), s_icmp_line, 1);
    clear_quote(&a->unmatched_examples[0]);
    a->unmatched_examples[0].ip_version = 6;
    a->unmatched_examples[0].icmp_type = 1;
    a->unmatched_examples[0].icmp_code = 4;
    a->n_unmatched_examples = 1;

    doc = render(a, &len);
    jcheck_fini(json_check(doc, len));
    assert_non_null(strstr(doc, "\"timeout_s\": 0.000001,\n"));
    assert_non_null(strstr(doc, "\"time_span\": {\n    \"start\": \"13:24:33.000000\",\n"
                                "    \"end\": \"13:24:32.500000\",\n"
                                "    \"duration_s\": -0.5\n  },\n"));
    assert_non_null(strstr(doc, "\"protocol\": null,\n      \"port\": 0,\n"));
    assert_non_null(strstr(doc, "\"server\": null,\n"));
    assert_non_null(strstr(doc, "\"first_seen\": null,\n"));
    assert_non_null(strstr(doc, "\"summary\": null,\n"));
    assert_non_null(strstr(doc, "\"time\": null,\n          \"role\": \"answer\",\n"));
    assert_non_null(strstr(doc, "\"qr\": true,\n            \"opcode\": 5,\n"
                                "            \"rcode\": \"NXDOMAIN\",\n"
                                "            \"flags\": [\n              \"aa\",\n"
                                "              \"tc\",\n              \"rd\",\n"
                                "              \"ra\",\n              \"cd\"\n            ],\n"));
    assert_non_null(strstr(doc, "\"qtype\": \"TYPE65280\",\n"));
    assert_non_null(strstr(doc, "\"protocol\": 47\n            }\n"));
    assert_non_null(strstr(doc, "\"unmatched_icmp_errors\": {\n    \"count\": 9,\n"
                                "    \"examples\": [\n      {\n        \"input\": 0,\n"
                                "        \"packet\": 7,\n"));
    assert_non_null(strstr(doc, "\"description\": \"Destination Unreachable: Port unreachable\",\n"
                                "          \"length\": 65\n        }\n"));
    free(doc);

    /* tcpdump text without -v shows only part of the quote: what it shows is kept. */
    struct evidence *q = &f->evidence[1];
    q->quote_present = false;
    memset(&q->q_src, 0, sizeof q->q_src);
    q->q_proto = 17;
    q->q_dport = 53;
    doc = render(a, &len);
    jcheck_fini(json_check(doc, len));
    assert_non_null(strstr(doc, "\"quoted\": {\n              \"src\": null,\n"
                                "              \"dst\": \"198.51.100.2\",\n"
                                "              \"protocol\": \"udp\",\n"
                                "              \"dst_port\": 53\n            }\n"));
    free(doc);

    /* Unknown role and a role-less, text-less evidence line still make valid JSON. */
    f->evidence[0].role = 0;
    f->evidence[0].text = NULL;
    f->evidence[0].has_dns = false;
    f->evidence[0].src.family = NT_AF_NONE;
    doc = render(a, &len);
    jcheck_fini(json_check(doc, len));
    assert_non_null(strstr(doc, "\"role\": null,\n          \"text\": null,\n"
                                "          \"src\": null,\n"));
    free(doc);
    fixture_free(fx);
}

/* The checker itself rejects what it must, so a pass above means something. */
static void test_checker_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\": 1,}",
        "[1 2]",
        "\"\x01\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\\ud800\"",
        "01",
        "1.",
        "{\"a\": 1, \"a\": 2}",
        "\"\\x41\"",
        "[] []",
        "nul",
        "-",
        "{\"a\" 1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_valid(bad[i], strlen(bad[i])))
            fail_msg("checker accepted bad document %zu: %s", i, bad[i]);
    const char good[] = "{\"a\": [1, -0.5, 2e10, true, false, null, \"\\ud83d\\ude00\\/\"], "
                        "\"b\": {}}";
    jcheck_fini(json_check(good, strlen(good)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_rejects), cmocka_unit_test(test_golden_small),
        cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_empty),
        cmocka_unit_test(test_hostile),         cmocka_unit_test(test_times_and_optional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
