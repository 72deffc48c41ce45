/* test_decode_link.c: Ethernet/VLAN, Linux cooked, raw IP, loopback and ARP decoding. */
#include "testutil.h"

#include <string.h>

#include "decode/decode.h"

/* The DNS query of samples/kernel-port-unreachable.pcap as raw IPv4. */
static const char ip_hex[] = "4500 005a e223 0000 4011 43f7 c633 640f c633 6402 d0b0 0035 0046 54d0"
                             "446a 0120 0001 0000 0000 0001 1179 756d 6d79 7265 6369 7065"
                             "7366 6f72 6d65 0363 6f6d 0000 0100 0100 0029 04d0 0000 0000"
                             "000c 000a 0008 c680 0a09 a575 9795";

static struct packet pkt;
static uint8_t ip[128];
static size_t ip_n;

static void decode(int dlt, const char *link_hex, size_t cut)
{
    static uint8_t f[512];
    ip_n = tu_hex(ip_hex, ip, sizeof ip);
    size_t n = tu_hex(link_hex, f, sizeof f);
    memcpy(f + n, ip, ip_n);
    n += ip_n;
    if (cut && cut < n)
        n = cut;
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)n;
    decode_packet(&pkt, dlt, f, n);
}

static void assert_query(void)
{
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(pkt.dns.id, 17514);
    assert_true(pkt.dns.complete);
    assert_int_equal(pkt.n_anomalies, 0);
}

static void test_ethernet_and_vlans(void **state)
{
    (void)state;
    decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 0800", 0);
    assert_query();
    assert_int_equal(pkt.linktype, NT_DLT_EN10MB);
    assert_int_equal(pkt.l2_len, 14);
    assert_int_equal(pkt.n_vlan, 0);
    decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 8100 2064 0800", 0);
    assert_query();
    assert_int_equal(pkt.n_vlan, 1);
    assert_int_equal(pkt.vlan[0], 100);
    assert_int_equal(pkt.l2_len, 18);
    decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 88a8 000a 8100 0014 0800", 0);
    assert_query();
    assert_int_equal(pkt.n_vlan, 2);
    assert_int_equal(pkt.vlan[0], 10);
    assert_int_equal(pkt.vlan[1], 20);
    decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 9100 0fff 8100 0001 8100 0002 0800", 0);
    assert_query();
    assert_int_equal(pkt.n_vlan, 2); /* the third tag is followed but not kept */
    assert_int_equal(pkt.vlan[0], 4095);
    decode(NT_DLT_EN10MB,
           "c25b a313 ae20 f6fb 9bab d7c4 8100 0001 8100 0001 8100 0001 8100 0001 8100 0001"
           "8100 0001 8100 0001 8100 0001 8100 0001 0800",
           0);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_TOO_MANY_VLAN_TAGS));
    assert_false(pkt.layers & PKT_L_IP);
    /* IPv6 and unknown ethertypes */
    decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 88cc", 0);
    assert_int_equal(pkt.layers, 0);
    assert_int_equal(pkt.n_anomalies, 0);
    /* Every cut is safe, and a cut inside the header is a link anomaly. */
    for (size_t k = 1; k < 14; k++) {
        decode(NT_DLT_EN10MB, "c25b a313 ae20 f6fb 9bab d7c4 8100 0001 0800", k);
        assert_true(packet_has_anomaly(&pkt, ANOM_LINK_TRUNCATED));
    }
}

static void test_cooked_and_raw(void **state)
{
    (void)state;
    decode(NT_DLT_LINUX_SLL, "0000 0001 0006 c25b a313 ae20 0000 0800", 0);
    assert_query();
    assert_int_equal(pkt.l2_len, 16);
    decode(NT_DLT_LINUX_SLL2, "0800 0000 0000 0002 0001 00 06 c25b a313 ae20 0000", 0);
    assert_query();
    assert_int_equal(pkt.l2_len, 20);
    decode(NT_DLT_LINUX_SLL, "0000 0001 0006 c25b a313 ae20 0000 8100 0064 0800", 0);
    assert_query();
    assert_int_equal(pkt.vlan[0], 100);
    int raws[] = {NT_DLT_RAW, NT_DLT_RAW_ALT, NT_LINKTYPE_RAW, NT_DLT_IPV4};
    for (size_t i = 0; i < 4; i++) {
        decode(raws[i], "", 0);
        assert_query();
        assert_int_equal(pkt.l2_len, 0);
    }
    decode(NT_DLT_LINUX_SLL2, "0800 0000", 4);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_TRUNCATED));
    decode(NT_DLT_RAW, "", 1);
    assert_false(pkt.layers & PKT_L_IP);
}

static void test_loopback(void **state)
{
    (void)state;
    decode(NT_DLT_NULL, "0200 0000", 0); /* little-endian host */
    assert_query();
    decode(NT_DLT_NULL, "0000 0002", 0); /* big-endian host */
    assert_query();
    decode(NT_DLT_LOOP, "0000 0002", 0);
    assert_query();
    decode(NT_DLT_LOOP, "0200 0000", 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_UNKNOWN_FAMILY));
    /* The IPv6 families of the BSDs, on an IPv4 payload: decoded as IPv6, which fails. */
    decode(NT_DLT_NULL, "1e00 0000", 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV6_BAD_VERSION));
    decode(NT_DLT_NULL, "0200", 2);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_TRUNCATED));
}

static void test_supported_names(void **state)
{
    (void)state;
    int ok[] = {0, 1, 12, 14, 101, 108, 113, 276, 228, 229};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(decode_linktype_supported(ok[i]));
        assert_string_not_equal(decode_linktype_name(ok[i]), "unsupported");
    }
    assert_false(decode_linktype_supported(105));
    assert_string_equal(decode_linktype_name(1), "Ethernet");
    assert_string_equal(decode_linktype_name(113), "Linux cooked v1");
    assert_string_equal(decode_linktype_name(105), "unsupported");
    decode(105, "00", 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_UNSUPPORTED));
    packet_reset(&pkt);
    decode_packet(&pkt, NT_DLT_EN10MB, NULL, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_LINK_TRUNCATED));
}

static void test_arp(void **state)
{
    (void)state;
    /* samples/kernel-port-unreachable.pcap packets 7 and 8 */
    static uint8_t f[64];
    size_t n = tu_hex("ffff ffff ffff f6fb 9bab d7c4 0806 0001 0800 0604 0001 f6fb 9bab d7c4"
                      "c633 640f 0000 0000 0000 c633 6402",
                      f, sizeof f);
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)n;
    decode_packet(&pkt, NT_DLT_EN10MB, f, n);
    assert_int_equal(pkt.layers, PKT_L_ARP);
    assert_int_equal(pkt.arp_op, 1);
    char line[200];
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "ARP, Request who-has 198.51.100.2 tell 198.51.100.15, length 28");
    n = tu_hex("f6fb 9bab d7c4 c25b a313 ae20 0806 0001 0800 0604 0002 c25b a313 ae20"
               "c633 6402 f6fb 9bab d7c4 c633 640f",
               f, sizeof f);
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)n;
    decode_packet(&pkt, NT_DLT_EN10MB, f, n);
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "ARP, Reply 198.51.100.2 is-at c2:5b:a3:13:ae:20, length 28");
    for (size_t k = 14; k < n; k++) {
        packet_reset(&pkt);
        decode_packet(&pkt, NT_DLT_EN10MB, f, k);
        assert_false(pkt.layers & PKT_L_ARP);
        assert_true(packet_has_anomaly(&pkt, ANOM_ARP_TRUNCATED));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_and_vlans),
        cmocka_unit_test(test_cooked_and_raw),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_supported_names),
        cmocka_unit_test(test_arp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
