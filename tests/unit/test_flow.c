/* test_flow.c: the flow stage on decoded frames: IP fragments behind a VLAN tag reassembled at
 * the offset decode recorded, fragments behind a tunnel counted unlocated, DNS over TCP found
 * after IP and TCP options, and packets without bytes (text records) passed unchanged. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/flow.h"

static const uint8_t CLI[4] = {198, 51, 100, 7}, SRV[4] = {203, 0, 113, 2};
static const uint8_t OUT1[4] = {10, 0, 0, 1}, OUT2[4] = {10, 0, 0, 2};

/* An Ethernet header for IPv4, with one VLAN tag (id 42) when vlan. */
static size_t eth(uint8_t *b, bool vlan)
{
    memset(b, 0, 12);
    b[0] = 0x02;
    b[6] = 0x02;
    if (!vlan) {
        b[12] = 0x08;
        b[13] = 0x00;
        return 14;
    }
    memcpy(b + 12, "\x81\x00\x00\x2a\x08\x00", 6);
    return 18;
}

/* An IPv4 header with opt bytes of options (NOPs) and the given fragment field, then n bytes
 * of payload. */
static size_t ip4(uint8_t *b, size_t opt, uint8_t proto, uint16_t id, uint16_t frag,
                  const uint8_t src[4], const uint8_t dst[4], const uint8_t *p, size_t n)
{
    size_t hl = 20 + opt, total = hl + n;
    memset(b, 0, hl);
    b[0] = (uint8_t)(0x40 | hl / 4);
    b[2] = (uint8_t)(total >> 8);
    b[3] = (uint8_t)total;
    b[4] = (uint8_t)(id >> 8);
    b[5] = (uint8_t)id;
    b[6] = (uint8_t)(frag >> 8);
    b[7] = (uint8_t)frag;
    b[8] = 64;
    b[9] = proto;
    memcpy(b + 12, src, 4);
    memcpy(b + 16, dst, 4);
    memset(b + 20, 1, opt);
    memcpy(b + hl, p, n);
    return total;
}

/* A TCP header from the client with opt bytes of options (NOPs), then n bytes of payload. */
static size_t tcp(uint8_t *b, uint32_t seq, uint8_t flags, size_t opt, const uint8_t *p, size_t n)
{
    size_t hl = 20 + opt;
    memset(b, 0, hl);
    b[0] = 0x9c;
    b[1] = 0x40;
    b[3] = 53;
    b[4] = (uint8_t)(seq >> 24);
    b[5] = (uint8_t)(seq >> 16);
    b[6] = (uint8_t)(seq >> 8);
    b[7] = (uint8_t)seq;
    b[12] = (uint8_t)(hl / 4 << 4);
    b[13] = flags;
    b[14] = 0xff;
    memset(b + 20, 1, opt);
    memcpy(b + hl, p, n);
    return hl + n;
}

/* A DNS query for example.com A with id 0x4242 (29 bytes). */
static size_t query(uint8_t *b)
{
    static const uint8_t q[] = {0x42, 0x42, 0x01, 0x00, 0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
                                'a',  'm',  'p',  'l',  'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    memcpy(b, q, sizeof q);
    return sizeof q;
}

/* A UDP datagram from port 53 to 40000 carrying a query-shaped response, 8 + 40 bytes. */
static size_t udp_dns(uint8_t *b)
{
    memset(b, 0, 48);
    b[1] = 53;
    b[2] = 0x9c;
    b[3] = 0x40;
    b[5] = 48;
    query(b + 8);
    b[8 + 2] = 0x81; /* a response */
    return 48;
}

struct rig {
    struct flow *f;
    struct packet *pkt;
    uint8_t frame[4][512]; /* the bytes of the last few frames stay valid, as a reader's do */
    unsigned next;
    uint64_t num;
};

static void rig_init(struct rig *r)
{
    r->f = flow_new();
    r->pkt = malloc(sizeof *r->pkt);
    assert_non_null(r->f);
    assert_non_null(r->pkt);
    r->next = 0;
    r->num = 0;
}

static void rig_fini(struct rig *r)
{
    flow_free(r->f);
    free(r->pkt);
}

/* The next frame buffer to build in. */
static uint8_t *rig_buf(struct rig *r)
{
    return r->frame[r->next++ % 4];
}

/* Decodes an Ethernet frame as a reader does (the frame kept for evidence) and offers it. */
static void offer(struct rig *r, const uint8_t *b, size_t n)
{
    packet_reset(r->pkt);
    r->pkt->num = ++r->num;
    r->pkt->ts.kind = NT_TIME_ABSOLUTE;
    r->pkt->ts.sec = (int64_t)(100 + r->num);
    r->pkt->caplen = r->pkt->wirelen = (uint32_t)n;
    decode_packet(r->pkt, NT_DLT_EN10MB, b, n);
    r->pkt->frame = b;
    r->pkt->frame_len = (uint32_t)n;
    r->pkt->frame_linktype = NT_DLT_EN10MB;
    flow_packet(r->f, r->pkt);
}

static void test_fragments_after_vlan(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t dg[64];
    size_t dn = udp_dns(dg);
    /* 24 bytes, then the remaining 24, behind a VLAN tag and IP options. */
    uint8_t *b = rig_buf(&r);
    size_t l2 = eth(b, true);
    size_t n = l2 + ip4(b + l2, 4, 17, 7, 0x2000, SRV, CLI, dg, 24);
    offer(&r, b, n);
    assert_int_equal(r.pkt->net_off, 18);
    assert_int_equal(r.pkt->layers, PKT_L_IP); /* a partial datagram: no transport */
    assert_null(r.pkt->frame);
    b = rig_buf(&r);
    l2 = eth(b, true);
    n = l2 + ip4(b + l2, 4, 17, 7, 24 / 8, SRV, CLI, dg + 24, dn - 24);
    offer(&r, b, n);
    /* The completing fragment became the whole datagram, with its number, time and tag. */
    assert_int_equal(r.pkt->layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(r.pkt->dns.id, 0x4242);
    assert_int_equal(r.pkt->num, 2);
    assert_int_equal(r.pkt->ts.sec, 102);
    assert_int_equal(r.pkt->n_vlan, 1);
    assert_int_equal(r.pkt->vlan[0], 42);
    assert_false(r.pkt->fragment);
    assert_null(r.pkt->frame);
    assert_false(flow_next(r.f, r.pkt));
    const struct flow_stats *st = flow_stats(r.f);
    assert_int_equal(st->frag.fragments, 2);
    assert_int_equal(st->frag.reassembled, 1);
    assert_int_equal(st->frag_unlocated, 0);
    /* An unfragmented frame keeps its frame for evidence. */
    b = rig_buf(&r);
    l2 = eth(b, false);
    n = l2 + ip4(b + l2, 0, 17, 8, 0, SRV, CLI, dg, dn);
    offer(&r, b, n);
    assert_true(r.pkt->layers & PKT_L_DNS);
    assert_ptr_equal(r.pkt->frame, b);
    rig_fini(&r);
}

static void test_fragments_in_tunnel(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t dg[64], inner[128], gre[160];
    size_t dn = udp_dns(dg);
    for (int i = 0; i < 2; i++) {
        size_t in = i == 0 ? ip4(inner, 0, 17, 9, 0x2000, SRV, CLI, dg, 24)
                           : ip4(inner, 0, 17, 9, 3, SRV, CLI, dg + 24, dn - 24);
        memcpy(gre, "\x00\x00\x08\x00", 4);
        memcpy(gre + 4, inner, in);
        uint8_t *b = rig_buf(&r);
        size_t l2 = eth(b, false);
        size_t n = l2 + ip4(b + l2, 0, 47, 1, 0, OUT1, OUT2, gre, 4 + in);
        offer(&r, b, n);
        assert_int_equal(r.pkt->n_tunnels, 1);
        assert_int_equal(r.pkt->net_off, 14 + 20 + 4);
        assert_true(r.pkt->fragment);
        assert_int_equal(r.pkt->layers, PKT_L_IP);
    }
    /* Behind a tunnel the fragments are counted, not reassembled. */
    const struct flow_stats *st = flow_stats(r.f);
    assert_int_equal(st->frag_unlocated, 2);
    assert_int_equal(st->frag.fragments, 0);
    assert_int_equal(st->frag.reassembled, 0);
    rig_fini(&r);
}

static void test_dns_over_tcp_after_options(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t msg[64], seg[128];
    size_t mn = query(msg + 2);
    msg[0] = 0;
    msg[1] = (uint8_t)mn;
    /* The length prefix alone, then the message; 8 bytes of IP options, 12 of TCP options. */
    uint8_t *b = rig_buf(&r);
    size_t l2 = eth(b, true);
    size_t sn = tcp(seg, 1000, 0x18, 12, msg, 2);
    size_t n = l2 + ip4(b + l2, 8, 6, 1, 0, CLI, SRV, seg, sn);
    offer(&r, b, n);
    assert_int_equal(r.pkt->payload_off, 18 + 28 + 32);
    assert_false(r.pkt->layers & PKT_L_DNS);
    assert_null(r.pkt->frame);
    b = rig_buf(&r);
    l2 = eth(b, true);
    sn = tcp(seg, 1002, 0x18, 12, msg + 2, mn);
    n = l2 + ip4(b + l2, 8, 6, 2, 0, CLI, SRV, seg, sn);
    offer(&r, b, n);
    assert_true(r.pkt->layers & PKT_L_DNS);
    assert_int_equal(r.pkt->dns.id, 0x4242);
    assert_string_equal(r.pkt->dns.q.name.text, "example.com.");
    assert_null(r.pkt->frame);
    const struct flow_stats *st = flow_stats(r.f);
    assert_int_equal(st->tcpdns.messages, 1);
    assert_int_equal(st->tcpdns.reassembled, 1);
    /* The end of the input: nothing was left inside a message. */
    flow_finish(r.f);
    assert_int_equal(flow_stats(r.f)->tcpdns.incomplete, 0);
    rig_fini(&r);
}

static void test_without_bytes(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    /* A text record: a first fragment as tcpdump printed it, with its UDP ports. */
    packet_reset(r.pkt);
    r.pkt->num = 1;
    r.pkt->layers = PKT_L_IP | PKT_L_UDP;
    r.pkt->ip_version = 4;
    r.pkt->fragment = true;
    r.pkt->more_fragments = true;
    r.pkt->sport = 53;
    flow_packet(r.f, r.pkt);
    assert_int_equal(r.pkt->layers, PKT_L_IP | PKT_L_UDP);
    assert_false(flow_next(r.f, r.pkt));
    const struct flow_stats *st = flow_stats(r.f);
    assert_int_equal(st->frag.fragments, 0);
    assert_int_equal(st->frag_unlocated, 0);
    rig_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragments_after_vlan),
        cmocka_unit_test(test_fragments_in_tunnel),
        cmocka_unit_test(test_dns_over_tcp_after_options),
        cmocka_unit_test(test_without_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
