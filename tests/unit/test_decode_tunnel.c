/* test_decode_tunnel.c: GRE, PPTP, IP in IP, VXLAN, VXLAN-GPE, Geneve and GRE in UDP decapsulation,
 * PPP links and PPPoE, on hand-built frames (whole, truncated, nested too deep), and the same
 * tunnels in tcpdump's text. */
#include "testutil.h"

#include <string.h>

#include "decode/decode.h"
#include "source/source.h"

/* The DNS query of samples/kernel-port-unreachable.pcap as raw IPv4 (90 bytes):
 * 198.51.100.15.53424 > 198.51.100.2.53, id 17514, A? yummyrecipesforme.com. */
static const char q_hex[] = "4500 005a e223 0000 4011 43f7 c633 640f c633 6402 d0b0 0035 0046 54d0"
                            "446a 0120 0001 0000 0000 0001 1179 756d 6d79 7265 6369 7065"
                            "7366 6f72 6d65 0363 6f6d 0000 0100 0100 0029 04d0 0000 0000"
                            "000c 000a 0008 c680 0a09 a575 9795";

static const char eth_v4[] = "c25b a313 ae20 f6fb 9bab d7c4 0800";

static struct packet pkt;
static uint8_t buf[4096];
static size_t len;

static void put_hex(const char *hex)
{
    len += tu_hex(hex, buf + len, sizeof buf - len);
}

static void put_bytes(const uint8_t *b, size_t n)
{
    assert_true(len + n <= sizeof buf);
    memcpy(buf + len, b, n);
    len += n;
}

/* Appends an outer IPv4 header (10.0.0.1 > 10.0.0.2, protocol proto) for a payload of plen
 * bytes. */
static void put_ipv4(uint8_t proto, size_t plen)
{
    size_t total = 20 + plen;
    uint8_t h[20] = {0x45,
                     0,
                     (uint8_t)(total >> 8),
                     (uint8_t)total,
                     0,
                     1,
                     0,
                     0,
                     64,
                     proto,
                     0,
                     0,
                     10,
                     0,
                     0,
                     1,
                     10,
                     0,
                     0,
                     2};
    put_bytes(h, sizeof h);
}

static void put_udp(uint16_t sport, uint16_t dport, size_t plen)
{
    size_t ulen = 8 + plen;
    uint8_t h[8] = {(uint8_t)(sport >> 8),
                    (uint8_t)sport,
                    (uint8_t)(dport >> 8),
                    (uint8_t)dport,
                    (uint8_t)(ulen >> 8),
                    (uint8_t)ulen,
                    0,
                    0};
    put_bytes(h, sizeof h);
}

static size_t query(uint8_t *out)
{
    return tu_hex(q_hex, out, 128);
}

static void run(int dlt, size_t cut)
{
    size_t n = cut && cut < len ? cut : len;
    packet_reset(&pkt);
    pkt.caplen = pkt.wirelen = (uint32_t)n;
    decode_packet(&pkt, dlt, buf, n);
}

static void assert_inner_query(void)
{
    char a[NT_ADDR_FMT_MAX];
    assert_int_equal(pkt.layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(pkt.dns.id, 17514);
    assert_true(pkt.dns.complete);
    assert_int_equal(pkt.sport, 53424);
    assert_int_equal(pkt.dport, 53);
    nt_addr_format(&pkt.src, a, sizeof a);
    assert_string_equal(a, "198.51.100.15");
    assert_int_equal(pkt.n_anomalies, 0);
}

static void assert_outer(const struct pkt_tunnel *t, uint8_t kind)
{
    char a[NT_ADDR_FMT_MAX];
    assert_int_equal(t->kind, kind);
    assert_int_equal(t->ip_version, 4);
    nt_addr_format(&t->src, a, sizeof a);
    assert_string_equal(a, "10.0.0.1");
    nt_addr_format(&t->dst, a, sizeof a);
    assert_string_equal(a, "10.0.0.2");
}

static void test_gre_v0(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    char line[1024];

    /* plain GRE, protocol IPv4 */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 4 + qn);
    put_hex("0000 0800");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.n_tunnels, 1);
    assert_outer(&pkt.tunnels[0], PKT_TUN_GRE);
    assert_int_equal(pkt.tunnels[0].ip_payload_len, 4 + qn);
    assert_int_equal(pkt.l2_len, 14);
    /* The layer offsets are the inner packet's: Ethernet 14, outer IPv4 20, GRE 4. */
    assert_ptr_equal(pkt.data, buf);
    assert_int_equal(pkt.data_len, len);
    assert_int_equal(pkt.net_off, 38);
    assert_int_equal(pkt.l4_off, 58);
    assert_int_equal(pkt.payload_off, 66);
    packet_format_line(&pkt, line, sizeof line);
    assert_string_equal(line, "IP 10.0.0.1 > 10.0.0.2: GREv0, length 94: IP 198.51.100.15.53424 > "
                              "198.51.100.2.53: 17514+ [1au] A? yummyrecipesforme.com. (62)");

    /* checksum, key and sequence number present (RFC 2890) */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 16 + qn);
    put_hex("b000 0800  1234 0000  0000 002a  0000 0007");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_true(pkt.tunnels[0].has_key);
    assert_int_equal(pkt.tunnels[0].key, 42);
    assert_int_equal(pkt.tunnels[0].seq, 7);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "GREv0, key=0x2a, seq 7, length 106: IP 198.51.100.15.53424"));

    /* transparent Ethernet bridging: an inner Ethernet frame with a VLAN tag */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 4 + 18 + qn);
    put_hex("0000 6558  0011 2233 4455 6677 8899 aabb 8100 0005 0800");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.n_vlan, 0); /* inner tags are not the capture's */
    assert_int_equal(pkt.l2_len, 14);

    /* a protocol we do not follow (ERSPAN II): the GRE packet itself, no anomaly */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 4 + qn);
    put_hex("0000 88be");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.layers, PKT_L_IP);
    assert_int_equal(pkt.proto, 47);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_int_equal(pkt.n_anomalies, 0);

    /* unknown GRE version */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 4 + qn);
    put_hex("0005 0800");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_GRE_BAD_VERSION));
}

static void test_gre_truncated(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 16 + qn);
    put_hex("b000 0800  1234 0000  0000 002a  0000 0007");
    put_bytes(q, qn);
    size_t full = len;
    /* cut inside the GRE header: the outer packet, with the anomaly */
    run(NT_DLT_EN10MB, 14 + 20 + 10);
    assert_int_equal(pkt.layers, PKT_L_IP);
    assert_int_equal(pkt.proto, 47);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_GRE_TRUNCATED));
    /* cut inside the inner IP header: the outer packet again */
    run(NT_DLT_EN10MB, 14 + 20 + 16 + 10);
    assert_int_equal(pkt.layers, PKT_L_IP);
    assert_int_equal(pkt.proto, 47);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_IPV4_TRUNCATED));
    /* with the outer packet's layer offsets back */
    assert_int_equal(pkt.net_off, 14);
    assert_int_equal(pkt.l4_off, 34);
    /* cut inside the inner DNS message: the inner packet, its DNS header read */
    run(NT_DLT_EN10MB, full - 20);
    assert_int_equal(pkt.n_tunnels, 1);
    assert_int_equal(pkt.dns.id, 17514);
    assert_int_equal(pkt.dport, 53);
    /* every length up to the whole frame decodes without harm */
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);
}

static void test_pptp(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    char line[1024];
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 16 + 4 + qn);
    /* K, S, A, version 1, PPP; payload length 94, call id 6016; seq; ack; PPP IPv4 */
    put_hex("3081 880b  005e 1780  0000 0011  0000 0022  ff03 0021");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.ppp_proto, 0x0021);
    assert_int_equal(pkt.tunnels[0].kind, PKT_TUN_GRE);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "GREv1, call 6016, seq 17, ack 34, length 110: IP 198.51.100.15"));

    /* an acknowledgment alone carries no payload: the GRE packet */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(47, 12);
    put_hex("2081 880b  0000 1780  0000 0022");
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_int_equal(pkt.proto, 47);
    assert_int_equal(pkt.n_anomalies, 0);
}

static void test_ip_in_ip_and_depth(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    len = 0;
    put_hex(eth_v4);
    put_ipv4(4, qn);
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.n_tunnels, 1);
    assert_outer(&pkt.tunnels[0], PKT_TUN_IPIP);

    /* nested deeper than PKT_MAX_TUNNELS: cut there, with an anomaly */
    for (int depth = 1; depth <= 40; depth++) {
        len = 0;
        put_hex(eth_v4);
        for (int i = 0; i < depth; i++)
            put_ipv4(4, (size_t)(depth - 1 - i) * 20 + qn);
        put_bytes(q, qn);
        run(NT_DLT_EN10MB, 0);
        if (depth <= PKT_MAX_TUNNELS) {
            assert_inner_query();
            assert_int_equal(pkt.n_tunnels, depth);
        } else {
            assert_int_equal(pkt.n_tunnels, PKT_MAX_TUNNELS);
            assert_true(packet_has_anomaly(&pkt, ANOM_TUNNEL_TOO_DEEP));
            assert_int_equal(pkt.proto, 4);
            assert_false(pkt.layers & PKT_L_DNS);
        }
    }

    /* GRE in GRE in GRE ... (a loop of the same bytes) also stops */
    len = 0;
    put_hex(eth_v4);
    for (int i = 0; i < 10; i++) {
        put_ipv4(47, (size_t)(9 - i) * 24 + 4 + qn);
        put_hex("0000 0800");
    }
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, PKT_MAX_TUNNELS);
    assert_true(packet_has_anomaly(&pkt, ANOM_TUNNEL_TOO_DEEP));
}

static void test_vxlan_geneve(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    char line[1024];

    /* VXLAN: flags I, VNI 4242, inner Ethernet */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 8 + 14 + qn);
    put_udp(26383, 4789, 8 + 14 + qn);
    put_hex("0800 0000 0010 9200");
    put_hex(eth_v4);
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_outer(&pkt.tunnels[0], PKT_TUN_VXLAN);
    assert_int_equal(pkt.tunnels[0].vni, 4242);
    assert_int_equal(pkt.tunnels[0].sport, 26383);
    assert_int_equal(pkt.tunnels[0].dport, 4789);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "IP 10.0.0.1.26383 > 10.0.0.2.4789: VXLAN, flags [I] (0x08), vni "
                                 "4242 IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+"));
    size_t full = len;
    run(NT_DLT_EN10MB, 14 + 20 + 8 + 5);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_int_equal(pkt.dport, 4789);
    assert_true(packet_has_anomaly(&pkt, ANOM_VXLAN_TRUNCATED));
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);

    /* VXLAN-GPE: flags I and P, next protocol IPv4 (1), VNI 54321, the query right after;
     * the line as tcpdump -nn prints it */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 8 + qn);
    put_udp(40000, 4790, 8 + qn);
    put_hex("0c00 0001 00d4 3100");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_outer(&pkt.tunnels[0], PKT_TUN_VXLAN_GPE);
    assert_int_equal(pkt.tunnels[0].vni, 54321);
    assert_int_equal(pkt.tunnels[0].proto, 1);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "IP 10.0.0.1.40000 > 10.0.0.2.4790: VXLAN-GPE, flags [IP], vni "
                                 "54321: IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+"));
    full = len;
    run(NT_DLT_EN10MB, 14 + 20 + 8 + 7);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_int_equal(pkt.dport, 4790);
    assert_true(packet_has_anomaly(&pkt, ANOM_VXLAN_TRUNCATED));
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);
    /* next protocol Ethernet (3), from port 4790, no flags: "none" */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 8 + 14 + qn);
    put_udp(4790, 40000, 8 + 14 + qn);
    put_hex("0000 0003 0000 0500");
    put_hex(eth_v4);
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_outer(&pkt.tunnels[0], PKT_TUN_VXLAN_GPE);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "VXLAN-GPE, flags [none], vni 5: IP 198.51.100.15.53424 >"));
    /* NSH (4) and unknown next protocols are not followed: the datagram stays UDP */
    for (int np = 4; np <= 9; np += 5) {
        len = 0;
        put_hex(eth_v4);
        put_ipv4(17, 8 + 8 + qn);
        put_udp(40000, 4790, 8 + qn);
        put_hex(np == 4 ? "0800 0004 0000 0500" : "0800 0009 0000 0500");
        put_bytes(q, qn);
        run(NT_DLT_EN10MB, 0);
        assert_int_equal(pkt.n_tunnels, 0);
        assert_int_equal(pkt.dport, 4790);
        assert_false(pkt.layers & PKT_L_DNS);
    }

    /* Geneve with 4 option bytes, inner Ethernet */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 12 + 14 + qn);
    put_udp(11803, 6081, 12 + 14 + qn);
    put_hex("0140 6558 0010 9200  0102 0304");
    put_hex(eth_v4);
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_outer(&pkt.tunnels[0], PKT_TUN_GENEVE);
    assert_int_equal(pkt.tunnels[0].vni, 0x1092);
    assert_int_equal(pkt.tunnels[0].opt_len, 4);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "Geneve, Flags [C], vni 0x1092, options [4 bytes]: IP 198.51"));
    full = len;
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);

    /* Geneve carrying IPv4 directly; and a version we do not know */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 8 + qn);
    put_udp(11803, 6081, 8 + qn);
    put_hex("0000 0800 0000 0100");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    buf[14 + 20 + 8] = 0x40;
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_GENEVE_BAD_VERSION));

    /* GRE in UDP (RFC 8086) */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 4 + qn);
    put_udp(50343, 4754, 4 + qn);
    put_hex("0000 0800");
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_outer(&pkt.tunnels[0], PKT_TUN_GRE_UDP);

    /* a DNS query sent from port 4789 is DNS, not VXLAN */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 12);
    put_udp(4789, 53, 12);
    put_hex("1234 0100 0000 0000 0000 0000");
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(pkt.layers & PKT_L_DNS);
    assert_int_equal(pkt.dns.id, 0x1234);

    /* VXLAN in VXLAN in VXLAN: three tunnels, the innermost query */
    len = 0;
    put_hex(eth_v4);
    for (int i = 0; i < 3; i++) {
        size_t rest = (size_t)(2 - i) * (20 + 8 + 8 + 14) + 8 + 14 + qn;
        put_ipv4(17, 8 + rest);
        put_udp(4789, 4789, rest);
        put_hex("0c00 0000 0000 0100");
        put_hex(eth_v4);
    }
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.n_tunnels, 3);
}

static void test_ppp_links(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    assert_true(decode_linktype_supported(NT_DLT_PPP));
    assert_true(decode_linktype_supported(NT_DLT_PPP_SERIAL));
    assert_true(decode_linktype_supported(NT_DLT_PPP_ETHER));
    assert_string_equal(decode_linktype_name(NT_DLT_PPP), "PPP");
    assert_string_equal(decode_linktype_name(NT_DLT_PPP_SERIAL), "PPP over serial");
    assert_string_equal(decode_linktype_name(NT_DLT_PPP_ETHER), "PPPoE");

    /* HDLC address and control, then the protocol */
    len = 0;
    put_hex("ff03 0021");
    put_bytes(q, qn);
    run(NT_DLT_PPP, 0);
    assert_inner_query();
    assert_int_equal(pkt.l2_len, 4);
    assert_int_equal(pkt.ppp_proto, 0x21);
    run(NT_DLT_PPP_SERIAL, 0);
    assert_inner_query();
    /* without address and control, and with the protocol field compressed */
    len = 0;
    put_hex("0021");
    put_bytes(q, qn);
    run(NT_DLT_PPP, 0);
    assert_inner_query();
    len = 0;
    put_hex("21");
    put_bytes(q, qn);
    run(NT_DLT_PPP, 0);
    assert_inner_query();
    assert_int_equal(pkt.l2_len, 1);
    /* Cisco HDLC on a serial link */
    len = 0;
    put_hex("0f00 0800");
    put_bytes(q, qn);
    run(NT_DLT_PPP_SERIAL, 0);
    assert_inner_query();
    /* MPLS over PPP: one label, bottom of stack */
    len = 0;
    put_hex("ff03 0281 0001 41ff");
    put_bytes(q, qn);
    run(NT_DLT_PPP, 0);
    assert_inner_query();
    /* LCP: kept as the PPP protocol, nothing decoded, no anomaly */
    len = 0;
    put_hex("ff03 c021 0101 0004");
    run(NT_DLT_PPP, 0);
    assert_int_equal(pkt.layers, 0);
    assert_int_equal(pkt.ppp_proto, 0xc021);
    assert_int_equal(pkt.n_anomalies, 0);
    /* truncated */
    run(NT_DLT_PPP, 2);
    assert_true(packet_has_anomaly(&pkt, ANOM_PPP_TRUNCATED));

    /* PPPoE session: on its own link type and inside Ethernet */
    len = 0;
    put_hex("1100 0001");
    uint8_t l[2] = {(uint8_t)((qn + 2) >> 8), (uint8_t)(qn + 2)};
    put_bytes(l, 2);
    put_hex("0021");
    put_bytes(q, qn);
    run(NT_DLT_PPP_ETHER, 0);
    assert_inner_query();
    assert_int_equal(pkt.l2_len, 8);
    uint8_t f[256];
    memcpy(f, buf, len);
    size_t fn = len;
    len = 0;
    put_hex("c25b a313 ae20 f6fb 9bab d7c4 8864");
    put_bytes(f, fn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.l2_len, 22);
    size_t full = len;
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);
    buf[14] = 0x12; /* bad version/type */
    run(NT_DLT_EN10MB, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_PPPOE_BAD_HEADER));
    assert_false(pkt.layers & PKT_L_IP);
}

/* The same packets as tcpdump 4.99 prints them (zeek/Traces/tunnels/, MANIFEST.md 3.1). */
static bool parse1(const char *rec, struct packet *p)
{
    struct text_state st;
    memset(&st, 0, sizeof st);
    st.names = tu_names();
    packet_reset(p);
    return text_parse_record(&st, rec, strlen(rec), p);
}

static void assert_text_addr(const struct nt_addr *a, const char *want)
{
    char s[NT_ADDR_FMT_MAX];
    nt_addr_format(a, s, sizeof s);
    assert_string_equal(s, want);
}

static void test_text_tunnels(void **state)
{
    (void)state;
    static struct packet p;
    /* GRE, without and with -v, and with -e */
    static const char *const gre[] = {
        "2003-06-11 00:06:27.106744 IP 66.59.109.137 > 172.27.1.66: GREv0, length 93: IP "
        "172.28.2.3 > 66.59.111.190: ICMP 172.28.2.3 udp port 53 unreachable, length 69",
        "2003-06-11 00:06:27.106744 IP (tos 0x0, ttl 236, id 0, offset 0, flags [DF], proto GRE "
        "(47), length 113) 66.59.109.137 > 172.27.1.66: GREv0, Flags [none], length 93 IP (tos "
        "0xc0, ttl 254, id 3230, offset 0, flags [none], proto ICMP (1), length 89) 172.28.2.3 > "
        "66.59.111.190: ICMP 172.28.2.3 udp port 53 unreachable, length 69 IP (tos 0x0, ttl 63, "
        "id 0, offset 0, flags [DF], proto UDP (17), length 61) 66.59.111.190.37675 > "
        "172.28.2.3.53: 48554+ ANY? www.gleeble.org. (33)",
        "00:06:27.106744 00:c0:ca:14:b0:52 > 00:02:2d:56:4a:fd, ethertype IPv4 (0x0800), length "
        "127: 66.59.109.137 > 172.27.1.66: GREv0, proto IPv4 (0x0800), length 93: 172.28.2.3 > "
        "66.59.111.190: ICMP 172.28.2.3 udp port 53 unreachable, length 69",
    };
    for (size_t i = 0; i < sizeof gre / sizeof gre[0]; i++) {
        assert_true(parse1(gre[i], &p));
        assert_true(p.layers & PKT_L_ICMP);
        assert_int_equal(p.icmp_kind, ICMP_K_PORT_UNREACH);
        assert_text_addr(&p.src, "172.28.2.3");
        assert_int_equal(p.n_tunnels, 1);
        assert_int_equal(p.tunnels[0].kind, PKT_TUN_GRE);
        assert_int_equal(p.tunnels[0].ip_payload_len, 93);
        assert_text_addr(&p.tunnels[0].src, "66.59.109.137");
        assert_true(p.quote.known & QUOTE_K_DPORT);
        assert_int_equal(p.quote.dport, 53);
    }
    assert_int_equal(p.quote.known & QUOTE_K_DNS_ID, 0);
    assert_true(parse1(gre[1], &p));
    assert_int_equal(p.quote.dns_id, 48554);

    /* PPTP inside IP in IPv6 */
    assert_true(parse1("2014-12-03 03:35:04.035791 IP6 2607:fcd0:100:2300::b108:2a6b > "
                       "2402:f000:1:8e01::5555: IP 192.52.166.154 > 16.0.0.200: GREv1, call 17, "
                       "seq 539320, length 190: IP 8.8.8.8.53 > 172.16.44.3.40768: 42540 "
                       "NXDomain 0/1/0 (146)",
                       &p));
    assert_true(p.layers & PKT_L_DNS);
    assert_int_equal(p.dns.rcode, 3);
    assert_int_equal(p.sport, 53);
    assert_int_equal(p.n_tunnels, 2);
    assert_int_equal(p.tunnels[0].kind, PKT_TUN_IPIP);
    assert_int_equal(p.tunnels[0].ip_version, 6);
    assert_int_equal(p.tunnels[1].kind, PKT_TUN_GRE);
    assert_int_equal(p.tunnels[1].key, 17);
    assert_int_equal(p.tunnels[1].seq, 539320);

    /* VXLAN-GPE as tcpdump -nn prints it, and with -v (the record joined over its lines) */
    static const char *const gpe[] = {
        "00:05:00.000000 IP 10.40.9.1.40000 > 10.40.9.100.4790: VXLAN-GPE, flags [IP], vni "
        "54321: IP 192.0.2.10.12345 > 192.0.2.20.53: 7+ A? a.example. (27)",
        "00:05:00.000000 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), "
        "length 83) 10.40.9.1.40000 > 10.40.9.100.4790: VXLAN-GPE, flags [IP], vni 54321 IP "
        "(tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 55) "
        "192.0.2.10.12345 > 192.0.2.20.53: 7+ A? a.example. (27)",
    };
    for (size_t i = 0; i < sizeof gpe / sizeof gpe[0]; i++) {
        assert_true(parse1(gpe[i], &p));
        assert_true(p.layers & PKT_L_DNS);
        assert_int_equal(p.dns.id, 7);
        assert_int_equal(p.dport, 53);
        assert_text_addr(&p.src, "192.0.2.10");
        assert_int_equal(p.n_tunnels, 1);
        assert_int_equal(p.tunnels[0].kind, PKT_TUN_VXLAN_GPE);
        assert_int_equal(p.tunnels[0].vni, 54321);
        assert_int_equal(p.tunnels[0].flags, 0x0c);
        assert_int_equal(p.tunnels[0].proto, 0); /* not printed: unknown */
        assert_int_equal(p.tunnels[0].dport, 4790);
    }

    /* Geneve then VXLAN (the record joined over its lines) */
    assert_true(parse1("2023-04-13 21:37:05.895608 IP 127.0.0.1.11803 > 127.0.0.1.6081: Geneve, "
                       "Flags [none], vni 0x1092: IP 127.0.0.1.26383 > 127.0.0.1.4789: VXLAN, "
                       "flags [I] (0x08), vni 4242 IP 1.1.1.1.53 > 172.16.11.201.36872: 64072 "
                       "2/0/1 A 199.60.103.6, (74)",
                       &p));
    assert_true(p.layers & PKT_L_DNS);
    assert_int_equal(p.dns.id, 64072);
    assert_int_equal(p.dport, 36872);
    assert_int_equal(p.n_tunnels, 2);
    assert_int_equal(p.tunnels[0].kind, PKT_TUN_GENEVE);
    assert_int_equal(p.tunnels[0].vni, 0x1092);
    assert_int_equal(p.tunnels[0].dport, 6081);
    assert_int_equal(p.tunnels[1].kind, PKT_TUN_VXLAN);
    assert_int_equal(p.tunnels[1].vni, 4242);
    assert_int_equal(p.tunnels[1].sport, 26383);

    /* a tunnel whose payload is not IP: the outer packet */
    assert_true(parse1("12:00:00.000000 IP 10.0.0.1 > 10.0.0.2: GREv0, length 100: ERSPAN, ", &p));
    assert_int_equal(p.n_tunnels, 0);
    assert_int_equal(p.proto, 47);
    assert_true(parse1("12:00:00.000000 IP 10.0.0.1.1 > 10.0.0.2.4789: VXLAN, flags [I] (0x08), "
                       "vni 1 ARP, Request who-has 10.1.1.1 tell 10.1.1.2, length 28",
                       &p));
    assert_int_equal(p.n_tunnels, 0);
    assert_int_equal(p.dport, 4789);
    assert_true(p.layers & PKT_L_UDP);

    /* nested too deep */
    char deep[2048] = "12:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ";
    for (int i = 0; i < 8; i++)
        strcat(deep, "IP 10.0.0.1 > 10.0.0.2: ");
    strcat(deep, "IP 1.1.1.1.53 > 2.2.2.2.999: 1 0/0/0 (12)");
    assert_true(parse1(deep, &p));
    assert_int_equal(p.n_tunnels, PKT_MAX_TUNNELS);
    assert_true(packet_has_anomaly(&p, ANOM_TUNNEL_TOO_DEEP));
}

/* GTP-U (port 2152): a G-PDU with the sequence flag and one extension header (PDU session
 * container), inner IPv4; an echo request (no inner packet); a DNS query sent from port 2152,
 * which is not GTP (the first byte is no GTPv1 header); every truncation is safe. */
static void test_gtpu(void **state)
{
    (void)state;
    uint8_t q[128];
    size_t qn = query(q);
    char line[1024];
    /* flags 0x36: version 1, PT 1, E and S; type 0xff; length; TEID 0x01020304; seq, N-PDU,
     * next 0x85; extension: 1 unit (4 bytes) "01 10 09 00" (length, content, next 0). */
    size_t gl = 8 + 4 + 4;
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + gl + qn);
    put_udp(2152, 2152, gl + qn);
    uint8_t g[16] = {
        0x36, 0xff, (uint8_t)((qn + 8) >> 8), (uint8_t)(qn + 8), 1, 2, 3, 4, 0, 7, 0, 0x85, 1, 0x10,
        9,    0};
    put_bytes(g, sizeof g);
    put_bytes(q, qn);
    run(NT_DLT_EN10MB, 0);
    assert_inner_query();
    assert_int_equal(pkt.n_tunnels, 1);
    assert_int_equal(pkt.tunnels[0].kind, PKT_TUN_GTPU);
    assert_int_equal(pkt.tunnels[0].vni, 0x01020304);
    packet_format_line(&pkt, line, sizeof line);
    assert_non_null(strstr(line, "IP 10.0.0.1.2152 > 10.0.0.2.2152: GTPv1-U, teid 16909060, "));
    assert_non_null(strstr(line, ": IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+"));
    size_t full = len;
    run(NT_DLT_EN10MB, 14 + 20 + 8 + 14);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_GTPU_TRUNCATED));
    for (size_t n = 1; n <= full; n++)
        run(NT_DLT_EN10MB, n);

    /* An echo request: GTP, nothing inside. */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + 12);
    put_udp(2152, 2152, 12);
    put_hex("3201 0004 0000 0000 0001 0000");
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_false(pkt.layers & PKT_L_DNS);
    assert_int_equal(pkt.n_anomalies, 0);

    /* A DNS query from port 2152 to port 53 is DNS, not GTP (Zeek's gtp3_false_gtp case). */
    len = 0;
    put_hex(eth_v4);
    put_ipv4(17, 8 + qn - 28);
    put_udp(2152, 53, qn - 28);
    put_bytes(q + 28, qn - 28);
    run(NT_DLT_EN10MB, 0);
    assert_int_equal(pkt.n_tunnels, 0);
    assert_true(pkt.layers & PKT_L_DNS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gre_v0),       cmocka_unit_test(test_gre_truncated),
        cmocka_unit_test(test_pptp),         cmocka_unit_test(test_ip_in_ip_and_depth),
        cmocka_unit_test(test_vxlan_geneve), cmocka_unit_test(test_ppp_links),
        cmocka_unit_test(test_text_tunnels), cmocka_unit_test(test_gtpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
