/* test_decode_ip.c: IPv4/IPv6 (RFC 791/8200) headers, options, fragments, UDP and TCP. */
#include "testutil.h"

#include <string.h>

#include "decode/decode.h"

/* samples/kernel-port-unreachable.pcap, packet 9, without its Ethernet header: the DNS query
 * 198.51.100.15.53424 > 198.51.100.2.53 as raw IPv4. */
static const char query_hex[] = "4500 005a e223 0000 4011 43f7 c633 640f c633 6402"
                                "d0b0 0035 0046 54d0"
                                "446a 0120 0001 0000 0000 0001 1179 756d 6d79 7265 6369 7065"
                                "7366 6f72 6d65 0363 6f6d 0000 0100 0100 0029 04d0 0000 0000"
                                "000c 000a 0008 c680 0a09 a575 9795";

static struct packet pkt;

static void decode_raw(const uint8_t *b, size_t n, size_t wire)
{
    packet_reset(&pkt);
    pkt.caplen = (uint32_t)n;
    pkt.wirelen = (uint32_t)wire;
    decode_packet(&pkt, NT_DLT_RAW, b, n);
}

static void test_v4_udp_dns(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = tu_hex(query_hex, b, sizeof b);
    decode_raw(b, n, n);
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(pkt.ip_version, 4);
    assert_int_equal(pkt.ttl, 64);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.ip_len, 90);
    assert_int_equal(pkt.ip_payload_len, 70);
    assert_int_equal(pkt.ip_id, 0xe223);
    assert_false(pkt.ip_options);
    assert_false(pkt.fragment);
    assert_int_equal(pkt.sport, 53424);
    assert_int_equal(pkt.dport, 53);
    assert_int_equal(pkt.l4_payload_len, 62);
    assert_true(pkt.dns.complete);
    assert_int_equal(pkt.dns.length, 62);
    assert_int_equal(pkt.n_anomalies, 0);
    /* Where decode read each layer, in the bytes it was given. */
    assert_ptr_equal(pkt.data, b);
    assert_int_equal(pkt.data_len, n);
    assert_int_equal(pkt.net_off, 0);
    assert_int_equal(pkt.l4_off, 20);
    assert_int_equal(pkt.payload_off, 28);
    /* A layer decoder called on bytes that are not pkt.data records no offset. */
    uint8_t other[128];
    memcpy(other, b, n);
    struct cursor c = cur_make(other + 20, n - 20);
    decode_udp(&pkt, &c);
    assert_int_equal(pkt.payload_off, 0);
}

static void test_v4_options(void **state)
{
    (void)state;
    uint8_t b[128], o[160];
    size_t n = tu_hex(query_hex, b, sizeof b);
    /* Insert 8 bytes of options (router alert + NOPs + end): IHL 7. */
    memcpy(o, b, 20);
    memcpy(o + 20, "\x94\x04\x00\x00\x01\x01\x01\x00", 8);
    memcpy(o + 28, b + 20, n - 20);
    o[0] = 0x47;
    o[3] = (uint8_t)(n + 8);
    decode_raw(o, n + 8, n + 8);
    assert_true(pkt.ip_options);
    assert_true(pkt.layers & PKT_L_DNS);
    assert_int_equal(pkt.dport, 53);
    assert_int_equal(pkt.ip_payload_len, 70);
    assert_int_equal(pkt.l4_off, 28);
    assert_int_equal(pkt.payload_off, 36);
    /* IHL beyond the capture. */
    o[0] = 0x4f;
    decode_raw(o, 40, 40);
    assert_false(pkt.layers & PKT_L_UDP);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_TRUNCATED));
    /* IHL below 5. */
    o[0] = 0x43;
    decode_raw(o, n + 8, n + 8);
    assert_false(pkt.layers & PKT_L_IP);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_BAD_HEADER_LENGTH));
}

static void test_v4_lengths(void **state)
{
    (void)state;
    uint8_t b[200];
    size_t n = tu_hex(query_hex, b, sizeof b);
    /* Ethernet-style padding after the datagram is not payload. */
    memset(b + n, 0xee, 20);
    decode_raw(b, n + 20, n + 20);
    assert_true(pkt.dns.complete);
    assert_int_equal(pkt.dns.length, 62);
    assert_false(packet_has_anomaly(&pkt, ANOM_DNS_TRAILING_BYTES));
    assert_int_equal(pkt.n_anomalies, 0);
    /* Snap length cut: normal, noted as truncated. */
    decode_raw(b, 50, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_TRUNCATED));
    assert_false(packet_has_anomaly(&pkt, ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE));
    assert_true(pkt.layers & PKT_L_DNS);
    assert_false(pkt.dns.complete);
    assert_int_equal(pkt.dns.length, 62);
    /* A frame really shorter than its total length. */
    decode_raw(b, 50, 50);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE));
    /* Total length below the header length (TSO captures show 0). */
    b[2] = 0;
    b[3] = 0;
    decode_raw(b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_BAD_TOTAL_LENGTH));
    assert_true(pkt.layers & PKT_L_UDP);
    /* Bad version inside a raw link: a 5 in the first nibble is not IP. */
    b[0] = 0x55;
    decode_raw(b, n, n);
    assert_false(pkt.layers & PKT_L_IP);
    /* UDP length lies. */
    n = tu_hex(query_hex, b, sizeof b);
    b[24] = 0x01;
    decode_raw(b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_UDP_BAD_LENGTH));
    b[24] = 0;
    b[25] = 4;
    decode_raw(b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_UDP_BAD_LENGTH));
    assert_false(pkt.layers & PKT_L_DNS);
    /* Every cut is safe. */
    n = tu_hex(query_hex, b, sizeof b);
    for (size_t k = 0; k <= n; k++) {
        decode_raw(b, k, n);
        assert_int_equal((pkt.layers & PKT_L_IP) != 0, k >= 20);
        assert_int_equal((pkt.layers & PKT_L_UDP) != 0, k >= 28);
        assert_int_equal((pkt.layers & PKT_L_DNS) != 0, k >= 40);
    }
}

static void test_v4_fragments(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = tu_hex(query_hex, b, sizeof b);
    /* First fragment (MF set): transport decoded, fragment fields set. */
    b[6] = 0x20;
    decode_raw(b, n, n);
    assert_true(pkt.fragment);
    assert_true(pkt.more_fragments);
    assert_int_equal(pkt.frag_offset, 0);
    assert_true(pkt.layers & PKT_L_UDP);
    /* A later fragment: offset 185*8, no transport header. */
    b[6] = 0x00;
    b[7] = 185;
    decode_raw(b, n, n);
    assert_true(pkt.fragment);
    assert_false(pkt.more_fragments);
    assert_int_equal(pkt.frag_offset, 1480);
    assert_false(pkt.layers & PKT_L_UDP);
    assert_int_equal(pkt.sport, 0);
    char line[200];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 198.51.100.15 > 198.51.100.2: ip-proto-17");
}

struct fb {
    uint8_t b[600];
    size_t n;
};

static void put(struct fb *f, const char *hex)
{
    f->n += tu_hex(hex, f->b + f->n, sizeof f->b - f->n);
}

/* IPv6 2001:db8::1 -> 2001:db8::2 with the given extension headers (hex, already chained to
 * next header nh0 in the fixed header) and a UDP DNS query. */
static size_t v6(struct fb *f, const char *nh0, const char *ext)
{
    f->n = 0;
    put(f, "6000 0000 0000");
    put(f, nh0);
    put(f, "40 20010db8000000000000000000000001 20010db8000000000000000000000002");
    put(f, ext);
    size_t udp = f->n;
    put(f, "d0b0 0035 0046 0000");
    put(f, query_hex + strlen("4500 005a e223 0000 4011 43f7 c633 640f c633 6402"
                              "d0b0 0035 0046 54d0"));
    f->b[udp + 4] = (uint8_t)((f->n - udp) >> 8);
    f->b[udp + 5] = (uint8_t)(f->n - udp);
    f->b[4] = (uint8_t)((f->n - 40) >> 8);
    f->b[5] = (uint8_t)(f->n - 40);
    return f->n;
}

static void test_v6_ext_chain(void **state)
{
    (void)state;
    struct fb f;
    size_t n = v6(&f, "11", "");
    decode_raw(f.b, n, n);
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(pkt.ip_version, 6);
    assert_int_equal(pkt.ttl, 64);
    assert_int_equal(pkt.n_ip6_ext, 0);
    assert_int_equal(pkt.ip_len, n);
    /* Hop-by-hop, routing (type 0, 0 segments left), destination options, AH. */
    n = v6(&f, "00",
           "2b00 0000 0000 0000"
           "3c00 0000 0000 0000"
           "3300 0100 0000 0000"
           "1101 0000 1111 1111 2222 2222 3333 3333");
    /* AH length 1: (1 + 2) * 4 = 12 bytes, but it is followed by 4 more bytes: fix below. */
    f.b[40 + 24 + 1] = 2; /* (2 + 2) * 4 = 16 */
    decode_raw(f.b, n, n);
    assert_int_equal(pkt.n_ip6_ext, 4);
    assert_int_equal(pkt.ip6_ext[0], 0);
    assert_int_equal(pkt.ip6_ext[1], 43);
    assert_int_equal(pkt.ip6_ext[2], 60);
    assert_int_equal(pkt.ip6_ext[3], 51);
    assert_int_equal(pkt.proto, 17);
    assert_true(pkt.layers & PKT_L_DNS);
    assert_true(pkt.dns.complete);
    assert_int_equal(pkt.ip_payload_len, 70);
    /* The transport header after the 40 bytes of extension headers. */
    assert_int_equal(pkt.net_off, 0);
    assert_int_equal(pkt.l4_off, 80);
    assert_int_equal(pkt.payload_off, 88);
    /* Truncated extension header. */
    decode_raw(f.b, 40 + 12, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV6_EXT_HEADER_TRUNCATED));
    assert_false(pkt.layers & PKT_L_UDP);
    /* Nine destination options headers: past the bound. */
    n = v6(&f, "3c",
           "3c00 0000 0000 0000 3c00 0000 0000 0000 3c00 0000 0000 0000 3c00 0000 0000 0000"
           "3c00 0000 0000 0000 3c00 0000 0000 0000 3c00 0000 0000 0000 3c00 0000 0000 0000"
           "1100 0000 0000 0000");
    decode_raw(f.b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV6_TOO_MANY_EXT_HEADERS));
    assert_false(pkt.layers & PKT_L_UDP);
}

static void test_v6_fragments(void **state)
{
    (void)state;
    struct fb f;
    size_t n = v6(&f, "2c", "1100 0001 1234 5678");
    decode_raw(f.b, n, n);
    assert_true(pkt.fragment);
    assert_true(pkt.more_fragments);
    assert_int_equal(pkt.frag_offset, 0);
    assert_int_equal(pkt.frag_id, 0x12345678);
    assert_true(pkt.layers & PKT_L_UDP);
    n = v6(&f, "2c", "1100 05a8 1234 5678");
    decode_raw(f.b, n, n);
    assert_true(pkt.fragment);
    assert_false(pkt.more_fragments);
    assert_int_equal(pkt.frag_offset, 1448);
    assert_false(pkt.layers & PKT_L_UDP);
    char line[200];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP6 2001:db8::1 > 2001:db8::2: frag (1448|70)");
}

static void test_v6_malformed(void **state)
{
    (void)state;
    struct fb f;
    size_t n = v6(&f, "11", "");
    for (size_t k = 0; k < n; k++) {
        decode_raw(f.b, k, n);
        assert_int_equal((pkt.layers & PKT_L_IP) != 0, k >= 40);
    }
    decode_raw(f.b, 39, 39);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV6_TRUNCATED));
    /* Payload length larger than the frame. */
    f.b[4] = 0x10;
    decode_raw(f.b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE));
    /* On the IPv6 link type, a version 4 header is flagged but decoded. */
    uint8_t b[128];
    n = tu_hex(query_hex, b, sizeof b);
    packet_reset(&pkt);
    decode_packet(&pkt, NT_DLT_IPV6, b, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_IP_VERSION_MISMATCH));
    assert_true(pkt.layers & PKT_L_DNS);
}

static void test_tcp_and_dns_over_tcp(void **state)
{
    (void)state;
    uint8_t b[200];
    /* SYN with options: mss 1460, sackOK, TS, nop, wscale 7 (from tcpdump's dns_tcp.pcap). */
    size_t n = tu_hex("4500 003c 0000 4000 4006 0000 c0a8 010b d157 f912"
                      "83f3 0035 23fe c80c 0000 0000 a002 faf0 0000 0000"
                      "0204 05b4 0402 080a 79e3 a49a 0000 0000 0103 0307",
                      b, sizeof b);
    decode_raw(b, n, n);
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_TCP);
    assert_int_equal(pkt.tcp_flags, 0x02);
    assert_int_equal(pkt.tcp_seq, 603899916);
    assert_int_equal(pkt.tcp_win, 64240);
    assert_int_equal(pkt.tcp_opts_len, 20);
    assert_int_equal(pkt.l4_payload_len, 0);
    /* The payload starts after the options. */
    assert_int_equal(pkt.l4_off, 20);
    assert_int_equal(pkt.payload_off, 60);
    char line[300];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, "
                              "win 64240, options [mss 1460,sackOK,TS val 2044961946 ecr 0,nop,"
                              "wscale 7], length 0");
    /* A segment holding one whole DNS message after its 2-byte length. */
    n = tu_hex("4500 0052 0000 4000 4006 0000 c0a8 010b d157 f912"
               "83f3 0035 23ff 0f0d 79d2 3a14 5018 faf0 0000 0000"
               "001d 1234 0100 0001 0000 0000 0000 0765 7861 6d70 6c65 0363 6f6d 0000 0100 01",
               b, sizeof b);
    b[3] = (uint8_t)n;
    decode_raw(b, n, n);
    assert_true(pkt.layers & PKT_L_DNS);
    assert_int_equal(pkt.dns.id, 0x1234);
    assert_string_equal(pkt.dns.q.name.text, "example.com.");
    assert_int_equal(pkt.l4_payload_len, 31);
    assert_true(pkt.dns.complete);
    /* The length prefix says more than the segment holds: not decoded (needs reassembly). */
    b[40] = 0x01;
    decode_raw(b, n, n);
    assert_false(pkt.layers & PKT_L_DNS);
    assert_true(pkt.layers & PKT_L_TCP);
    /* Data offset below 5. */
    b[32] = 0x40;
    decode_raw(b, n, n);
    assert_true(packet_has_anomaly(&pkt, ANOM_TCP_BAD_DATA_OFFSET));
    assert_false(pkt.layers & PKT_L_TCP);
    /* Data offset past the segment. */
    b[32] = 0xf0;
    decode_raw(b, 44, 44);
    assert_false(pkt.layers & PKT_L_TCP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_udp_dns),   cmocka_unit_test(test_v4_options),
        cmocka_unit_test(test_v4_lengths),   cmocka_unit_test(test_v4_fragments),
        cmocka_unit_test(test_v6_ext_chain), cmocka_unit_test(test_v6_fragments),
        cmocka_unit_test(test_v6_malformed), cmocka_unit_test(test_tcp_and_dns_over_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
