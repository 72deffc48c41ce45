/* test_anomaly.c: the decoder anomalies: one id and description per enum value (the ids the
 * decoders wrote as strings before the enum), recording once per packet, the cap per packet,
 * counting per input, the schema documentation listing every id, and the three reports showing
 * an input's counts (and nothing for an input without any). */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/anomaly.h"
#include "decode/decode.h"
#include "report/analysis.h"
#include "report/escape.h"

/* Every id as the decoders wrote it as a string literal before the enum: the JSON and NDJSON
 * output carries these, so none may change. */
static const struct {
    enum nt_anomaly a;
    const char *id;
} old_ids[] = {
    {ANOM_ARP_TRUNCATED, "arp.truncated"},
    {ANOM_DNS_BAD_COMPRESSION_POINTER, "dns.bad_compression_pointer"},
    {ANOM_DNS_BAD_LABEL_TYPE, "dns.bad_label_type"},
    {ANOM_DNS_BAD_RDATA, "dns.bad_rdata"},
    {ANOM_DNS_COMPRESSION_LOOP, "dns.compression_loop"},
    {ANOM_DNS_COUNTS_EXCEED_MESSAGE, "dns.counts_exceed_message"},
    {ANOM_DNS_MULTIPLE_OPT, "dns.multiple_opt"},
    {ANOM_DNS_NAME_TOO_LONG, "dns.name_too_long"},
    {ANOM_DNS_NAME_TRUNCATED, "dns.name_truncated"},
    {ANOM_DNS_OPT_BAD_OWNER, "dns.opt_bad_owner"},
    {ANOM_DNS_OPT_OUTSIDE_ADDITIONAL, "dns.opt_outside_additional"},
    {ANOM_DNS_QUESTION_TRUNCATED, "dns.question_truncated"},
    {ANOM_DNS_RDATA_TRUNCATED, "dns.rdata_truncated"},
    {ANOM_DNS_RR_TRUNCATED, "dns.rr_truncated"},
    {ANOM_DNS_TRAILING_BYTES, "dns.trailing_bytes"},
    {ANOM_DNS_TRUNCATED, "dns.truncated"},
    {ANOM_GENEVE_BAD_VERSION, "geneve.bad_version"},
    {ANOM_GENEVE_TRUNCATED, "geneve.truncated"},
    {ANOM_GRE_BAD_PPTP_HEADER, "gre.bad_pptp_header"},
    {ANOM_GRE_BAD_ROUTING, "gre.bad_routing"},
    {ANOM_GRE_BAD_VERSION, "gre.bad_version"},
    {ANOM_GTPU_TRUNCATED, "gtpu.truncated"},
    {ANOM_GRE_TRUNCATED, "gre.truncated"},
    {ANOM_ICMP_ERROR_QUOTES_ERROR, "icmp.error_quotes_error"},
    {ANOM_ICMP_QUOTE_BAD_HEADER, "icmp.quote_bad_header"},
    {ANOM_ICMP_QUOTE_TRUNCATED, "icmp.quote_truncated"},
    {ANOM_ICMP_TRUNCATED, "icmp.truncated"},
    {ANOM_ICMP6_TRUNCATED, "icmp6.truncated"},
    {ANOM_IPV4_BAD_HEADER_LENGTH, "ipv4.bad_header_length"},
    {ANOM_IPV4_BAD_TOTAL_LENGTH, "ipv4.bad_total_length"},
    {ANOM_IPV4_BAD_VERSION, "ipv4.bad_version"},
    {ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE, "ipv4.total_length_exceeds_capture"},
    {ANOM_IPV4_TRUNCATED, "ipv4.truncated"},
    {ANOM_IPV6_BAD_VERSION, "ipv6.bad_version"},
    {ANOM_IPV6_EXT_HEADER_TRUNCATED, "ipv6.ext_header_truncated"},
    {ANOM_IPV6_HOP_BY_HOP_NOT_FIRST, "ipv6.hop_by_hop_not_first"},
    {ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE, "ipv6.payload_length_exceeds_capture"},
    {ANOM_IPV6_TOO_MANY_EXT_HEADERS, "ipv6.too_many_ext_headers"},
    {ANOM_IPV6_TRUNCATED, "ipv6.truncated"},
    {ANOM_LINK_IP_VERSION_MISMATCH, "link.ip_version_mismatch"},
    {ANOM_LINK_TOO_MANY_VLAN_TAGS, "link.too_many_vlan_tags"},
    {ANOM_LINK_TRUNCATED, "link.truncated"},
    {ANOM_LINK_UNKNOWN_FAMILY, "link.unknown_family"},
    {ANOM_LINK_UNKNOWN_IP_VERSION, "link.unknown_ip_version"},
    {ANOM_LINK_UNSUPPORTED, "link.unsupported"},
    {ANOM_MPLS_TOO_MANY_LABELS, "mpls.too_many_labels"},
    {ANOM_MPLS_TRUNCATED, "mpls.truncated"},
    {ANOM_PPP_TRUNCATED, "ppp.truncated"},
    {ANOM_PPPOE_BAD_HEADER, "pppoe.bad_header"},
    {ANOM_PPPOE_TRUNCATED, "pppoe.truncated"},
    {ANOM_TCP_BAD_DATA_OFFSET, "tcp.bad_data_offset"},
    {ANOM_TCP_TRUNCATED, "tcp.truncated"},
    {ANOM_TEXT_UNKNOWN_SERVICE_NAME, "text.unknown_service_name"},
    {ANOM_TUNNEL_TOO_DEEP, "tunnel.too_deep"},
    {ANOM_TUNNEL_TRUNCATED, "tunnel.truncated"},
    {ANOM_UDP_BAD_LENGTH, "udp.bad_length"},
    {ANOM_UDP_TRUNCATED, "udp.truncated"},
    {ANOM_VXLAN_TRUNCATED, "vxlan.truncated"},
};

#define N_OLD (sizeof old_ids / sizeof old_ids[0])

/* Every value has the id it had as a string, and every value is in the list exactly once. */
static void test_ids_are_the_old_strings(void **state)
{
    (void)state;
    unsigned seen[NT_ANOMALY_COUNT] = {0};
    assert_int_equal(N_OLD, NT_ANOMALY_COUNT);
    for (size_t i = 0; i < N_OLD; i++) {
        assert_true((unsigned)old_ids[i].a < NT_ANOMALY_COUNT);
        seen[old_ids[i].a]++;
        if (!anomaly_id(old_ids[i].a) || strcmp(anomaly_id(old_ids[i].a), old_ids[i].id) != 0)
            fail_msg("anomaly %d has id %s, want %s", (int)old_ids[i].a,
                     anomaly_id(old_ids[i].a) ? anomaly_id(old_ids[i].a) : "(null)", old_ids[i].id);
    }
    for (size_t a = 0; a < NT_ANOMALY_COUNT; a++)
        if (seen[a] != 1)
            fail_msg("anomaly %zu listed %u times", a, seen[a]);
}

/* Ids are "layer.name" in [a-z0-9_], descriptions one printable sentence; both unique. */
static void test_table_well_formed(void **state)
{
    (void)state;
    for (size_t a = 0; a < NT_ANOMALY_COUNT; a++) {
        const char *id = anomaly_id((enum nt_anomaly)a);
        const char *d = anomaly_description((enum nt_anomaly)a);
        assert_non_null(id);
        assert_non_null(d);
        const char *dot = strchr(id, '.');
        if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.'))
            fail_msg("id %s is not layer.name", id);
        for (const char *p = id; *p; p++)
            if (*p != '.' && *p != '_' && !islower((unsigned char)*p) &&
                !isdigit((unsigned char)*p))
                fail_msg("id %s holds '%c'", id, *p);
        size_t n = strlen(d);
        if (n < 20 || n > 160 || d[n - 1] != '.')
            fail_msg("description of %s is not one sentence: %s", id, d);
        for (const char *p = d; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '`' || *p == '|')
                fail_msg("description of %s holds byte 0x%02x", id, (unsigned char)*p);
        for (size_t b = 0; b < a; b++) {
            if (strcmp(id, anomaly_id((enum nt_anomaly)b)) == 0)
                fail_msg("id %s twice", id);
            if (strcmp(d, anomaly_description((enum nt_anomaly)b)) == 0)
                fail_msg("description of %s and %s alike", id, anomaly_id((enum nt_anomaly)b));
        }
    }
    assert_null(anomaly_id(NT_ANOMALY_COUNT));
    assert_null(anomaly_description(NT_ANOMALY_COUNT));
    assert_null(anomaly_id((enum nt_anomaly) - 1));
}

/* The schema documentation lists every id with its description (docs/json-schema.md). */
static void test_documented(void **state)
{
    (void)state;
    size_t len;
    char *doc = (char *)tu_read_file("docs/json-schema.md", &len);
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, doc, len);
    text[len] = '\0';
    for (size_t a = 0; a < NT_ANOMALY_COUNT; a++) {
        char row[512];
        snprintf(row, sizeof row, "| `%s` | %s |", anomaly_id((enum nt_anomaly)a),
                 anomaly_description((enum nt_anomaly)a));
        if (!strstr(text, row))
            fail_msg("docs/json-schema.md lacks the row %s", row);
    }
    free(text);
    free(doc);
}

static struct packet pkt;

/* Each anomaly once per packet; past PKT_MAX_ANOMALIES only counted; values outside the enum
 * and a NULL packet are ignored. */
static void test_record(void **state)
{
    (void)state;
    packet_reset(&pkt);
    packet_add_anomaly(&pkt, ANOM_DNS_TRUNCATED);
    packet_add_anomaly(&pkt, ANOM_DNS_TRUNCATED);
    packet_add_anomaly(&pkt, NT_ANOMALY_COUNT);
    packet_add_anomaly(NULL, ANOM_DNS_TRUNCATED);
    assert_int_equal(pkt.n_anomalies, 1);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_TRUNCATED));
    assert_false(packet_has_anomaly(&pkt, ANOM_LINK_TRUNCATED));
    assert_false(packet_has_anomaly(&pkt, NT_ANOMALY_COUNT));

    for (unsigned a = 0; a < PKT_MAX_ANOMALIES + 3; a++)
        packet_add_anomaly(&pkt, (enum nt_anomaly)a);
    assert_int_equal(pkt.n_anomalies, PKT_MAX_ANOMALIES);
    /* ANOM_DNS_TRUNCATED was first; then the first PKT_MAX_ANOMALIES - 1 values fit and the
     * other 4 (none of them a repeat) did not. */
    assert_int_equal(pkt.n_anomalies_dropped, 4);
    assert_true(packet_has_anomaly(&pkt, (enum nt_anomaly)0));
    assert_false(packet_has_anomaly(&pkt, (enum nt_anomaly)(PKT_MAX_ANOMALIES - 1)));

    packet_reset(&pkt);
    assert_int_equal(pkt.n_anomalies, 0);
    assert_int_equal(pkt.n_anomalies_dropped, 0);
}

static void test_counts(void **state)
{
    (void)state;
    struct anomaly_counts c;
    memset(&c, 0, sizeof c);
    assert_false(anomaly_counts_any(&c));

    packet_reset(&pkt);
    anomaly_counts_add(&c, &pkt); /* a clean packet counts nothing */
    assert_false(anomaly_counts_any(&c));
    assert_int_equal(c.packets, 0);

    packet_add_anomaly(&pkt, ANOM_UDP_BAD_LENGTH);
    packet_add_anomaly(&pkt, ANOM_DNS_NAME_TRUNCATED);
    anomaly_counts_add(&c, &pkt);
    packet_reset(&pkt);
    packet_add_anomaly(&pkt, ANOM_DNS_NAME_TRUNCATED);
    anomaly_counts_add(&c, &pkt);
    assert_true(anomaly_counts_any(&c));
    assert_int_equal(c.packets, 2);
    assert_int_equal(c.n[ANOM_UDP_BAD_LENGTH], 1);
    assert_int_equal(c.n[ANOM_DNS_NAME_TRUNCATED], 2);
    assert_int_equal(c.dropped, 0);
    uint64_t total = 0;
    for (size_t a = 0; a < NT_ANOMALY_COUNT; a++)
        total += c.n[a];
    assert_int_equal(total, 3);

    /* A packet full of anomalies: its dropped ones are counted as such. */
    packet_reset(&pkt);
    for (unsigned a = 0; a < PKT_MAX_ANOMALIES + 2; a++)
        packet_add_anomaly(&pkt, (enum nt_anomaly)a);
    anomaly_counts_add(&c, &pkt);
    assert_int_equal(c.packets, 3);
    assert_int_equal(c.dropped, 2);
    assert_int_equal(c.n[0], 1);
    assert_int_equal(c.n[PKT_MAX_ANOMALIES], 0);

    /* Only a dropped count (as tcpdns.c copies a packet) still makes something to show. */
    struct anomaly_counts d;
    memset(&d, 0, sizeof d);
    d.dropped = 1;
    assert_true(anomaly_counts_any(&d));
}

/* Counted from real decoding: an IPv4/UDP DNS query cut inside its question, and one whose
 * UDP length runs past the IP payload. */
static void test_counts_from_decoder(void **state)
{
    (void)state;
    static const char query_hex[] = "4500 005a e223 0000 4011 43f7 c633 640f c633 6402"
                                    "d0b0 0035 0046 54d0"
                                    "446a 0120 0001 0000 0000 0001 1179 756d 6d79 7265 6369 7065"
                                    "7366 6f72 6d65 0363 6f6d 0000 0100 0100 0029 04d0 0000 0000"
                                    "000c 000a 0008 c680 0a09 a575 9795";
    uint8_t b[128];
    size_t n = tu_hex(query_hex, b, sizeof b);
    struct anomaly_counts c;
    memset(&c, 0, sizeof c);

    packet_reset(&pkt);
    decode_packet(&pkt, NT_DLT_RAW, b, n);
    anomaly_counts_add(&c, &pkt);
    assert_false(anomaly_counts_any(&c));

    /* The IP and UDP lengths say 40 bytes less than there are (the rest is padding to them):
     * the 22-byte message ends inside the question's name, and its header counts a question
     * and a record that 10 bytes cannot hold. */
    uint8_t cut[128];
    memcpy(cut, b, n);
    cut[3] = (uint8_t)(cut[3] - 40);   /* IPv4 total length */
    cut[25] = (uint8_t)(cut[25] - 40); /* UDP length */
    packet_reset(&pkt);
    decode_packet(&pkt, NT_DLT_RAW, cut, n);
    anomaly_counts_add(&c, &pkt);
    assert_int_equal(c.packets, 1);
    assert_int_equal(c.n[ANOM_DNS_NAME_TRUNCATED], 1);
    assert_int_equal(c.n[ANOM_DNS_COUNTS_EXCEED_MESSAGE], 1);
    assert_int_equal(pkt.n_anomalies, 2);

    /* The UDP length claims 4 bytes more than the IP payload holds. */
    memcpy(cut, b, n);
    cut[25] = (uint8_t)(cut[25] + 4);
    packet_reset(&pkt);
    decode_packet(&pkt, NT_DLT_RAW, cut, n);
    anomaly_counts_add(&c, &pkt);
    assert_int_equal(c.packets, 2);
    assert_int_equal(c.n[ANOM_UDP_BAD_LENGTH], 1);
    assert_int_equal(c.n[ANOM_DNS_NAME_TRUNCATED], 1);
}

/* ---- The reports ---- */

/* Two inputs: the first (with a path made to break Markdown) had anomalies, the second none. */
static char hostile_path[] = "cap`|\n<b>*.pcap";
static char clean_path[] = "clean.pcap";

static void analysis_with_anomalies(struct analysis *a, struct analysis_input in[2])
{
    memset(a, 0, sizeof *a);
    memset(in, 0, 2 * sizeof *in);
    in[0].path = hostile_path;
    in[0].kind = "pcap";
    in[0].linktype = "Ethernet";
    in[0].packets = 10;
    in[0].anomalies.n[ANOM_DNS_TRUNCATED] = 3;
    in[0].anomalies.n[ANOM_UDP_BAD_LENGTH] = 1;
    in[0].anomalies.n[ANOM_TEXT_UNKNOWN_SERVICE_NAME] = 2;
    in[0].anomalies.packets = 4;
    in[0].anomalies.dropped = 2;
    in[1].path = clean_path;
    in[1].kind = "pcap";
    in[1].linktype = "Ethernet";
    in[1].packets = 5;
    a->version = "0.1.0";
    a->timeout_us = 5000000;
    a->inputs = in;
    a->n_inputs = 2;
    a->summary.packets = 15;
}

enum report { R_JSON, R_NDJSON_SUMMARY, R_MD };

/* Renders that analysis into b (which the caller frees). */
static void render(enum report r, struct strbuf *b)
{
    struct analysis a;
    struct analysis_input in[2];
    analysis_with_anomalies(&a, in);
    strbuf_init(b);
    if (r == R_JSON)
        report_render_json(&a, b);
    else if (r == R_NDJSON_SUMMARY)
        ndjson_summary(b, &a);
    else
        report_render_md(&a, b);
    assert_false(b->oom);
    assert_true(b->len > 0);
}

static size_t count_of(const char *s, const char *sub)
{
    size_t n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
        n++;
    return n;
}

static void test_json_report(void **state)
{
    (void)state;
    struct strbuf b;
    render(R_JSON, &b);
    struct jcheck *c = json_check(b.s, b.len);
    /* In the order of the enum (transport, DNS, text), after "fragments", before "error". */
    assert_non_null(strstr(b.s, "        \"unlocated\": 0\n"
                                "      },\n"
                                "      \"anomalies\": [\n"
                                "        {\n"
                                "          \"id\": \"udp.bad_length\",\n"
                                "          \"count\": 1\n"
                                "        },\n"
                                "        {\n"
                                "          \"id\": \"dns.truncated\",\n"
                                "          \"count\": 3\n"
                                "        },\n"
                                "        {\n"
                                "          \"id\": \"text.unknown_service_name\",\n"
                                "          \"count\": 2\n"
                                "        }\n"
                                "      ],\n"
                                "      \"packets_with_anomalies\": 4,\n"
                                "      \"anomalies_omitted\": 2,\n"
                                "      \"error\": null\n"));
    /* The clean input has none of the three members. */
    assert_int_equal(count_of(b.s, "\"anomalies\""), 1);
    assert_int_equal(count_of(b.s, "\"packets_with_anomalies\""), 1);
    assert_true(has_string(c, hostile_path, strlen(hostile_path)));
    assert_true(has_string(c, "dns.truncated", strlen("dns.truncated")));
    jcheck_fini(c);
    strbuf_fini(&b);
}

static void test_ndjson_summary(void **state)
{
    (void)state;
    struct strbuf b;
    render(R_NDJSON_SUMMARY, &b);
    assert_int_equal(count_of(b.s, "\n"), 1);
    struct jcheck *c = json_check(b.s, b.len - 1);
    assert_non_null(
        strstr(b.s, "\"unsupported_link_frames\":0,\"unread_traffic\":0,\"ignored_lines\":0,"
                    "\"anomalies\":[{\"id\":\"udp.bad_length\",\"count\":1},"
                    "{\"id\":\"dns.truncated\",\"count\":3},"
                    "{\"id\":\"text.unknown_service_name\",\"count\":2}],"
                    "\"packets_with_anomalies\":4,\"anomalies_omitted\":2,\"error\":null},"));
    assert_non_null(strstr(
        b.s,
        "\"path\":\"clean.pcap\",\"kind\":\"pcap\",\"linktype\":\"Ethernet\","
        "\"packets\":5,\"date_from\":null,\"unreadable_lines\":0,"
        "\"unsupported_link_frames\":0,\"unread_traffic\":0,\"ignored_lines\":0,\"error\":null}"));
    assert_true(has_string(c, hostile_path, strlen(hostile_path)));
    jcheck_fini(c);
    strbuf_fini(&b);
}

/* The Markdown table under the input's notes: one row per anomaly, the path escaped so that it
 * cannot end the code span or split the text; nothing for the clean input. */
static void test_markdown(void **state)
{
    (void)state;
    struct strbuf b;
    render(R_MD, &b);
    const char *want =
        "Decoding anomalies in `cap\\x60\\x7c\\x0a<b>*.pcap` (4 packets; each anomaly is "
        "counted once per packet):\n\n"
        "| Anomaly | Packets | Meaning |\n"
        "|---|---:|---|\n"
        "| `udp.bad_length` | 1 | A UDP length below 8 bytes or beyond the IP payload. |\n"
        "| `dns.truncated` | 3 | A DNS message shorter than its 12-byte header. |\n"
        "| `text.unknown_service_name` | 2 | tcpdump printed a port as a service name "
        "nettriage does not know (output made without -n): that port is unknown. |\n\n"
        "2 further anomalies were not counted: their packets already had 8 others.\n\n";
    if (!strstr(b.s, want))
        fail_msg("no anomaly table in:\n%s", b.s);
    assert_int_equal(count_of(b.s, "Decoding anomalies in"), 1);
    assert_null(strstr(b.s, "clean.pcap` ("));
    strbuf_fini(&b);

    /* Every description is safe in a table cell as it is: esc_md leaves it unchanged. */
    for (size_t i = 0; i < NT_ANOMALY_COUNT; i++) {
        const char *d = anomaly_description((enum nt_anomaly)i);
        strbuf_init(&b);
        esc_md(&b, d, strlen(d));
        assert_string_equal(strbuf_str(&b), d);
        strbuf_fini(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_are_the_old_strings),
        cmocka_unit_test(test_table_well_formed),
        cmocka_unit_test(test_documented),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_counts_from_decoder),
        cmocka_unit_test(test_json_report),
        cmocka_unit_test(test_ndjson_summary),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
