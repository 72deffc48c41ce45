/* test_decode_icmp.c: ICMP/ICMPv6 errors (RFC 792/4443) and the datagrams they quote. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "decode/decode.h"

/* samples/kernel-port-unreachable.pcap, packet 10: ICMP port unreachable quoting the query. */
static const char port_unreach_hex[] = "f6fb 9bab d7c4 c25b a313 ae20 0800 45c0"
                                       "0076 73cd 0000 4001 b181 c633 6402 c633"
                                       "640f 0303 7f25 0000 0000 4500 005a e223"
                                       "0000 4011 43f7 c633 640f c633 6402 d0b0"
                                       "0035 0046 54d0 446a 0120 0001 0000 0000"
                                       "0001 1179 756d 6d79 7265 6369 7065 7366"
                                       "6f72 6d65 0363 6f6d 0000 0100 0100 0029"
                                       "04d0 0000 0000 000c 000a 0008 c680 0a09"
                                       "a575 9795";

/* samples/firewall-admin-prohibited.pcap, packet 2: ICMP 3/13. */
static const char admin_hex[] = "f6fb 9bab d7c4 c25b a313 ae20 0800 45c0"
                                "0076 792d 0000 4001 ac21 c633 6402 c633"
                                "640f 030d 6c1d 0000 0000 4500 005a 6319"
                                "0000 4011 c301 c633 640f c633 6402 b07a"
                                "0035 0046 54d0 df8b 0120 0001 0000 0000"
                                "0001 1179 756d 6d79 7265 6369 7065 7366"
                                "6f72 6d65 0363 6f6d 0000 0100 0100 0029"
                                "04d0 0000 0000 000c 000a 0008 6b69 fb66"
                                "c4d3 7a03";

static struct packet pkt;

static void decode(const uint8_t *b, size_t n, size_t wire)
{
    packet_reset(&pkt);
    pkt.caplen = (uint32_t)n;
    pkt.wirelen = (uint32_t)wire;
    decode_packet(&pkt, NT_DLT_EN10MB, b, n);
}

static void addr_is(const struct nt_addr *a, const char *text)
{
    char buf[NT_ADDR_FMT_MAX];
    nt_addr_format(a, buf, sizeof buf);
    assert_string_equal(buf, text);
}

static void test_v4_port_unreachable_quotes_dns(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = tu_hex(port_unreach_hex, b, sizeof b);
    decode(b, n, n);
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_ICMP);
    assert_int_equal(pkt.icmp_type, 3);
    assert_int_equal(pkt.icmp_code, 3);
    assert_int_equal(pkt.icmp_kind, ICMP_K_PORT_UNREACH);
    assert_true(pkt.icmp_is_error);
    assert_int_equal(pkt.icmp_len, 98);
    const struct icmp_quote *q = &pkt.quote;
    assert_true(q->present);
    assert_int_equal(q->ip_version, 4);
    addr_is(&q->src, "198.51.100.15");
    addr_is(&q->dst, "198.51.100.2");
    assert_int_equal(q->proto, 17);
    assert_int_equal(q->ip_id, 0xe223);
    assert_int_equal(q->ip_total_len, 90);
    assert_true(q->has_ports);
    assert_int_equal(q->sport, 53424);
    assert_int_equal(q->dport, 53);
    assert_true(q->has_dns);
    assert_int_equal(q->dns_id, 17514);
    assert_int_equal(q->dns_flags, 0x0120);
    assert_true(q->has_question);
    assert_string_equal(q->q.name.text, "yummyrecipesforme.com.");
    assert_int_equal(q->q.qtype, 1);
    assert_int_equal(q->known, QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_SPORT |
                                   QUOTE_K_DPORT | QUOTE_K_DNS_ID | QUOTE_K_QUESTION);
    assert_int_equal(pkt.n_anomalies, 0);
    char line[256];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 "
                              "unreachable, length 98");
}

static void test_v4_admin_prohibited(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = tu_hex(admin_hex, b, sizeof b);
    decode(b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_ADMIN_PROHIBITED);
    assert_true(pkt.icmp_is_error);
    assert_true(pkt.quote.has_dns);
    assert_int_equal(pkt.quote.dns_id, 0xdf8b);
    assert_int_equal(pkt.quote.sport, 45178);
    char line[256];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2 > 198.51.100.15: ICMP host 198.51.100.2 "
                              "unreachable - admin prohibited filter, length 98");
}

static void test_v4_cut_quotes(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t full = tu_hex(port_unreach_hex, b, sizeof b);
    /* Cut the capture at every length (snap length): fields appear in order and nothing is
     * read past the cut. 14 Ethernet + 20 IP + 8 ICMP = 42 before the quote. */
    for (size_t n = 0; n <= full; n++) {
        decode(b, n, full);
        const struct icmp_quote *q = &pkt.quote;
        assert_int_equal((pkt.layers & PKT_L_ICMP) != 0, n >= 42);
        assert_int_equal(q->present, n >= 42 + 20);
        assert_int_equal(q->has_ports, n >= 42 + 20 + 4);
        assert_int_equal(q->has_dns, n >= 42 + 20 + 8 + 12);
        assert_int_equal(q->has_question, n >= 42 + 20 + 8 + 12 + 27);
        assert_int_equal((q->known & QUOTE_K_DST) != 0, q->present);
        assert_int_equal((q->known & QUOTE_K_DPORT) != 0, q->has_ports);
        assert_int_equal((q->known & QUOTE_K_DNS_ID) != 0, q->has_dns);
        assert_int_equal((q->known & QUOTE_K_QUESTION) != 0, q->has_question);
        if (n < full)
            assert_false(packet_has_anomaly(&pkt, ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE));
        char line[256];
        assert_true(packet_format_line(&pkt, line, sizeof line) < sizeof line);
    }
    /* The same cut made by a lying sender (the frame really was that short). */
    decode(b, 42 + 28, 42 + 28);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE));
    assert_true(pkt.quote.has_ports);
    assert_false(pkt.quote.has_dns);
}

static void test_v4_quote_length_lies(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = tu_hex(port_unreach_hex, b, sizeof b);
    /* Quoted total length 28: only the UDP header belongs to the quote, the DNS bytes that
     * follow must not be read as part of it. */
    b[42 + 2] = 0;
    b[42 + 3] = 28;
    decode(b, n, n);
    assert_true(pkt.quote.has_ports);
    assert_false(pkt.quote.has_dns);
    /* Quoted total length larger than what was captured: clamped to the capture. */
    b[42 + 2] = 0x05;
    b[42 + 3] = 0xdc;
    decode(b, n, n);
    assert_int_equal(pkt.quote.ip_total_len, 1500);
    assert_true(pkt.quote.has_dns);
    assert_true(pkt.quote.has_question);
    /* Quoted header length below 20. */
    b[42] = 0x44;
    decode(b, n, n);
    assert_false(pkt.quote.present);
    assert_true(packet_has_anomaly(&pkt, ANOM_ICMP_QUOTE_BAD_HEADER));
    /* Quoted version 7. */
    b[42] = 0x75;
    decode(b, n, n);
    assert_false(pkt.quote.present);
    assert_true(packet_has_anomaly(&pkt, ANOM_ICMP_QUOTE_BAD_HEADER));
}

static void test_quote_of_a_quote(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = tu_hex(port_unreach_hex, b, sizeof b);
    /* An ICMP error quoting an ICMP error quoting the DNS query: the inner one is not
     * decoded. Build: outer eth+ip+icmp (42 bytes), then the original ip+icmp+quote. */
    uint8_t o[512];
    memcpy(o, b, 42);
    memcpy(o + 42, b + 14, n - 14);
    size_t on = 42 + n - 14;
    o[16] = (uint8_t)((on - 14) >> 8);
    o[17] = (uint8_t)(on - 14);
    decode(o, on, on);
    assert_true(pkt.icmp_is_error);
    assert_true(pkt.quote.present);
    assert_int_equal(pkt.quote.proto, 1);
    assert_false(pkt.quote.has_ports);
    assert_false(pkt.quote.has_dns);
    assert_true(packet_has_anomaly(&pkt, ANOM_ICMP_ERROR_QUOTES_ERROR));
}

static void test_v4_frag_needed_and_time_exceeded(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = tu_hex(port_unreach_hex, b, sizeof b);
    b[35] = 4; /* code 4 */
    b[40] = 0x05;
    b[41] = 0x78; /* MTU 1400 */
    decode(b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_FRAG_NEEDED);
    assert_int_equal(pkt.icmp_mtu, 1400);
    char line[256];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 unreachable - "
                              "need to frag (mtu 1400), length 98");
    b[34] = 11;
    b[35] = 0;
    decode(b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_TIME_EXCEEDED);
    assert_true(pkt.quote.has_dns);
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2 > 198.51.100.15: ICMP time exceeded in-transit, "
                              "length 98");
    b[34] = 3;
    b[35] = 1;
    decode(b, n, n);
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.2 > 198.51.100.15: ICMP host 198.51.100.2 "
                              "unreachable, length 98");
    b[35] = 0;
    decode(b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_NET_UNREACH);
    /* RFC 4884 length: 7 words of original datagram (28 bytes), the rest is extensions. */
    b[35] = 3;
    b[40] = 0;
    b[41] = 0;
    b[39] = 7;
    decode(b, n, n);
    assert_true(pkt.quote.has_ports);
    assert_false(pkt.quote.has_dns);
}

/* A builder for the IPv6 cases. */
struct fb {
    uint8_t b[1600];
    size_t n;
};

static void put(struct fb *f, const char *hex)
{
    f->n += tu_hex(hex, f->b + f->n, sizeof f->b - f->n);
}

static void set16(struct fb *f, size_t at, size_t v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

static const char dns_query_hex[] = "446a 0120 0001 0000 0000 0001 1179 756d 6d79 7265 6369 7065"
                                    "7366 6f72 6d65 0363 6f6d 0000 0100 0100 0029 04d0 0000 0000"
                                    "000c 000a 0008 c680 0a09 a575 9795";

/* Ethernet + IPv6 2001:db8::2 -> 2001:db8::1 + ICMPv6 type/code + quoted IPv6 UDP DNS query
 * 2001:db8::1.53424 -> 2001:db8::2.53, optionally with a destination options header. */
static size_t build_v6_error(struct fb *f, unsigned type, unsigned code, bool ext)
{
    f->n = 0;
    put(f, "c25b a313 ae20 f6fb 9bab d7c4 86dd");
    put(f, "6000 0000 0000 3a40 20010db8000000000000000000000002 20010db8000000000000000000000001");
    size_t icmp = f->n;
    f->b[f->n++] = (uint8_t)type;
    f->b[f->n++] = (uint8_t)code;
    put(f, "0000 0000 0000");
    size_t qip = f->n;
    put(f, ext ? "6000 0000 0000 3c40" : "6000 0000 0000 1140");
    put(f, "20010db8000000000000000000000001 20010db8000000000000000000000002");
    if (ext)
        put(f, "1100 0104 0000 0000");
    size_t udp = f->n;
    put(f, "d0b0 0035 0046 0000");
    put(f, dns_query_hex);
    set16(f, udp + 4, f->n - udp);
    set16(f, qip + 4, f->n - qip - 40);
    set16(f, 14 + 4, f->n - icmp);
    return f->n;
}

static void test_v6_port_unreachable(void **state)
{
    (void)state;
    struct fb f;
    for (int ext = 0; ext < 2; ext++) {
        size_t n = build_v6_error(&f, 1, 4, ext);
        decode(f.b, n, n);
        assert_int_equal(pkt.ip_version, 6);
        assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_ICMP);
        assert_int_equal(pkt.icmp_kind, ICMP_K_PORT_UNREACH);
        assert_true(pkt.icmp_is_error);
        assert_true(pkt.quote.present);
        assert_int_equal(pkt.quote.ip_version, 6);
        assert_int_equal(pkt.quote.proto, 17);
        addr_is(&pkt.quote.dst, "2001:db8::2");
        assert_true(pkt.quote.has_ports);
        assert_int_equal(pkt.quote.dport, 53);
        assert_true(pkt.quote.has_dns);
        assert_int_equal(pkt.quote.dns_id, 17514);
        assert_true(pkt.quote.has_question);
        assert_string_equal(pkt.quote.q.name.text, "yummyrecipesforme.com.");
        char line[256], want[256];
        packet_format_line(&pkt, line, sizeof line);
        snprintf(want, sizeof want,
                 "IP6 2001:db8::2 > 2001:db8::1: ICMP6, destination unreachable, unreachable "
                 "port, 2001:db8::2 udp port 53, length %u",
                 (unsigned)pkt.icmp_len);
        assert_string_equal(line, want);
        /* every cut is safe */
        for (size_t k = 0; k < n; k++) {
            decode(f.b, k, n);
            packet_format_line(&pkt, line, sizeof line);
        }
    }
}

static void test_v6_other_errors(void **state)
{
    (void)state;
    struct fb f;
    size_t n = build_v6_error(&f, 2, 0, false);
    f.b[14 + 40 + 6] = 0x05;
    f.b[14 + 40 + 7] = 0x00;
    decode(f.b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_FRAG_NEEDED);
    assert_int_equal(pkt.icmp_mtu, 1280);
    assert_true(pkt.quote.has_dns);
    n = build_v6_error(&f, 1, 1, false);
    decode(f.b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_ADMIN_PROHIBITED);
    n = build_v6_error(&f, 3, 0, false);
    decode(f.b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_TIME_EXCEEDED);
    char line[256];
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "ICMP6, time exceeded in-transit for 2001:db8::2, length"));
    n = build_v6_error(&f, 128, 0, false);
    decode(f.b, n, n);
    assert_int_equal(pkt.icmp_kind, ICMP_K_ECHO_REQUEST);
    assert_false(pkt.icmp_is_error);
    assert_false(pkt.quote.present);
}

static void test_classify_tables(void **state)
{
    (void)state;
    assert_int_equal(icmp_classify(4, 3, 3), ICMP_K_PORT_UNREACH);
    assert_int_equal(icmp_classify(4, 3, 13), ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(icmp_classify(4, 3, 9), ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(icmp_classify(4, 3, 2), ICMP_K_PROTO_UNREACH);
    assert_int_equal(icmp_classify(4, 3, 7), ICMP_K_HOST_UNREACH);
    assert_int_equal(icmp_classify(4, 3, 12), ICMP_K_NET_UNREACH);
    assert_int_equal(icmp_classify(4, 3, 14), ICMP_K_UNREACH_OTHER);
    assert_int_equal(icmp_classify(4, 4, 0), ICMP_K_SOURCE_QUENCH);
    assert_int_equal(icmp_classify(4, 5, 1), ICMP_K_REDIRECT);
    assert_int_equal(icmp_classify(4, 12, 0), ICMP_K_PARAM_PROBLEM);
    assert_int_equal(icmp_classify(4, 0, 0), ICMP_K_ECHO_REPLY);
    assert_int_equal(icmp_classify(4, 13, 0), ICMP_K_OTHER);
    assert_int_equal(icmp_classify(6, 1, 4), ICMP_K_PORT_UNREACH);
    assert_int_equal(icmp_classify(6, 1, 3), ICMP_K_HOST_UNREACH);
    assert_int_equal(icmp_classify(6, 1, 0), ICMP_K_NET_UNREACH);
    assert_int_equal(icmp_classify(6, 1, 6), ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(icmp_classify(6, 4, 1), ICMP_K_PROTO_UNREACH);
    assert_int_equal(icmp_classify(6, 4, 0), ICMP_K_PARAM_PROBLEM);
    assert_int_equal(icmp_classify(6, 137, 0), ICMP_K_REDIRECT);
    assert_int_equal(icmp_classify(6, 135, 0), ICMP_K_OTHER);
    assert_true(icmp_kind_is_error(ICMP_K_PORT_UNREACH));
    assert_true(icmp_kind_is_error(ICMP_K_SOURCE_QUENCH));
    assert_false(icmp_kind_is_error(ICMP_K_REDIRECT));
    assert_false(icmp_kind_is_error(ICMP_K_ECHO_REPLY));
    assert_false(icmp_kind_is_error(ICMP_K_NONE));
    assert_string_equal(icmp_kind_name(ICMP_K_PORT_UNREACH), "port unreachable");
    assert_string_equal(icmp_kind_name(ICMP_K_ADMIN_PROHIBITED), "admin prohibited");
    assert_string_equal(icmp_code_description(4, 3, 3),
                        "Destination Unreachable: Port Unreachable");
    assert_string_equal(icmp_code_description(6, 1, 4),
                        "Destination Unreachable: Port unreachable");
    for (unsigned t = 0; t < 256; t++)
        for (unsigned c = 0; c < 256; c += 17) {
            assert_non_null(icmp_code_description(4, (uint8_t)t, (uint8_t)c));
            assert_non_null(icmp_code_description(6, (uint8_t)t, (uint8_t)c));
            assert_non_null(icmp_kind_name(icmp_classify(4, (uint8_t)t, (uint8_t)c)));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_port_unreachable_quotes_dns),
        cmocka_unit_test(test_v4_admin_prohibited),
        cmocka_unit_test(test_v4_cut_quotes),
        cmocka_unit_test(test_v4_quote_length_lies),
        cmocka_unit_test(test_quote_of_a_quote),
        cmocka_unit_test(test_v4_frag_needed_and_time_exceeded),
        cmocka_unit_test(test_v6_port_unreachable),
        cmocka_unit_test(test_v6_other_errors),
        cmocka_unit_test(test_classify_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
