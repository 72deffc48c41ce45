/* test_tcpdns.c: DNS over TCP reassembly on hand-made segments (prefix alone, a message in
 * three segments, two messages in one segment, retransmission, gap, full flow table, hostile
 * lengths) and on the dnscap TCP captures when the corpora are present. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/flow.h"
#include "flow/tcpdns.h"
#include "source/source.h"

#define CLIENT_ISN 1000u

static const uint8_t CLI[4] = {198, 51, 100, 7}, SRV[4] = {203, 0, 113, 2};

/* An IPv4 TCP segment from (src, sport) to (dst, dport) with the given flags and payload. */
static size_t segment(uint8_t *buf, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
                      uint16_t dport, uint32_t seq, uint8_t flags, const uint8_t *p, size_t n)
{
    size_t total = 40 + n;
    memset(buf, 0, 40);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(total >> 8);
    buf[3] = (uint8_t)total;
    buf[8] = 64;
    buf[9] = 6;
    memcpy(buf + 12, src, 4);
    memcpy(buf + 16, dst, 4);
    uint8_t *t = buf + 20;
    t[0] = (uint8_t)(sport >> 8);
    t[1] = (uint8_t)sport;
    t[2] = (uint8_t)(dport >> 8);
    t[3] = (uint8_t)dport;
    t[4] = (uint8_t)(seq >> 24);
    t[5] = (uint8_t)(seq >> 16);
    t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = 0x50;
    t[13] = flags;
    t[14] = 0xff;
    if (n)
        memcpy(buf + 40, p, n);
    return total;
}

/* A length-prefixed query (or response when qr) for "<label>.example." A with the given id. */
static size_t message(uint8_t *buf, uint16_t id, bool qr, const char *label)
{
    uint8_t *m = buf + 2;
    size_t n = 0;
    m[n++] = (uint8_t)(id >> 8);
    m[n++] = (uint8_t)id;
    m[n++] = qr ? 0x81 : 0x01;
    m[n++] = qr ? 0x80 : 0x00;
    const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(m + n, counts, 8);
    n += 8;
    size_t ll = strlen(label);
    m[n++] = (uint8_t)ll;
    memcpy(m + n, label, ll);
    n += ll;
    memcpy(m + n,
           "\x07"
           "example\x00\x00\x01\x00\x01",
           13);
    n += 13;
    buf[0] = (uint8_t)(n >> 8);
    buf[1] = (uint8_t)n;
    return n + 2;
}

struct rig {
    struct tcpdns *t;
    struct packet *pkt;
    uint8_t frame[70000];
    uint64_t num;
};

static void rig_init(struct rig *r)
{
    r->t = tcpdns_new(TCPDNS_MAX_FLOWS, TCPDNS_MAX_BYTES);
    r->pkt = malloc(sizeof *r->pkt);
    assert_non_null(r->t);
    assert_non_null(r->pkt);
    r->num = 0;
}

static void rig_fini(struct rig *r)
{
    tcpdns_free(r->t);
    free(r->pkt);
}

/* Offers one client-to-server segment (sport chooses the flow); returns whether the packet
 * then carries a DNS message. */
static bool offer(struct rig *r, uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *p,
                  size_t n)
{
    size_t len = segment(r->frame, CLI, SRV, sport, 53, seq, flags, p, n);
    packet_reset(r->pkt);
    r->pkt->num = ++r->num;
    r->pkt->caplen = r->pkt->wirelen = (uint32_t)len;
    decode_packet(r->pkt, NT_LINKTYPE_RAW, r->frame, len);
    assert_int_equal(tcpdns_add(r->t, r->pkt), 0);
    return (r->pkt->layers & PKT_L_DNS) != 0;
}

static void open_flow(struct rig *r, uint16_t sport)
{
    assert_false(offer(r, sport, CLIENT_ISN, 0x02, NULL, 0));
}

static void test_prefix_alone(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[300];
    size_t n = message(m, 0x1234, false, "a");
    open_flow(&r, 40000);
    assert_false(offer(&r, 40000, CLIENT_ISN + 1, 0x18, m, 2));
    assert_true(offer(&r, 40000, CLIENT_ISN + 3, 0x18, m + 2, n - 2));
    assert_int_equal(r.pkt->dns.id, 0x1234);
    assert_string_equal(r.pkt->dns.q.name.text, "a.example.");
    assert_true(r.pkt->dns.complete);
    assert_false(tcpdns_next(r.t, r.pkt));
    assert_int_equal(tcpdns_stats(r.t)->reassembled, 1);
    rig_fini(&r);
}

static void test_split_in_three(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[300];
    size_t n = message(m, 7, true, "three");
    open_flow(&r, 40001);
    uint32_t seq = CLIENT_ISN + 1;
    assert_false(offer(&r, 40001, seq, 0x10, m, 1)); /* half the prefix */
    seq += 1;
    assert_false(offer(&r, 40001, seq, 0x10, m + 1, 10));
    seq += 10;
    assert_true(offer(&r, 40001, seq, 0x18, m + 11, n - 11));
    assert_int_equal(r.pkt->dns.id, 7);
    assert_true(r.pkt->dns.flags & DNS_FLAG_QR);
    assert_string_equal(r.pkt->dns.q.name.text, "three.example.");
    rig_fini(&r);
}

static void test_two_in_one(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[600];
    size_t n1 = message(m, 1, false, "one");
    size_t n2 = message(m + n1, 2, false, "two");
    size_t n3 = message(m + n1 + n2, 3, false, "three");
    open_flow(&r, 40002);
    /* The first whole message decode read already; the second and the first bytes of the
     * third follow in the same segment. */
    assert_true(offer(&r, 40002, CLIENT_ISN + 1, 0x18, m, n1 + n2 + 5));
    assert_int_equal(r.pkt->dns.id, 1);
    uint64_t num = r.pkt->num;
    assert_true(tcpdns_next(r.t, r.pkt));
    assert_int_equal(r.pkt->dns.id, 2);
    assert_int_equal(r.pkt->num, num);
    assert_string_equal(r.pkt->dns.q.name.text, "two.example.");
    assert_false(tcpdns_next(r.t, r.pkt));
    assert_true(
        offer(&r, 40002, CLIENT_ISN + 1 + (uint32_t)(n1 + n2 + 5), 0x18, m + n1 + n2 + 5, n3 - 5));
    assert_int_equal(r.pkt->dns.id, 3);
    const struct tcpdns_stats *st = tcpdns_stats(r.t);
    assert_int_equal(st->messages, 3);
    assert_int_equal(st->extra, 1);
    assert_int_equal(st->reassembled, 1);
    rig_fini(&r);
}

static void test_retransmission(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[300];
    size_t n = message(m, 9, false, "again");
    open_flow(&r, 40003);
    assert_true(offer(&r, 40003, CLIENT_ISN + 1, 0x18, m, n));
    /* The same segment again: its message was read the first time. */
    assert_false(offer(&r, 40003, CLIENT_ISN + 1, 0x18, m, n));
    assert_int_equal(tcpdns_stats(r.t)->retransmitted, 1);
    /* A segment that repeats the tail and brings the next message's prefix alone, then it. */
    uint8_t m2[300];
    size_t n2 = message(m2, 10, false, "next");
    uint8_t both[600];
    memcpy(both, m + n - 4, 4);
    memcpy(both + 4, m2, 2);
    assert_false(offer(&r, 40003, CLIENT_ISN + 1 + (uint32_t)n - 4, 0x18, both, 6));
    assert_true(offer(&r, 40003, CLIENT_ISN + 1 + (uint32_t)n + 2, 0x18, m2 + 2, n2 - 2));
    assert_int_equal(r.pkt->dns.id, 10);
    assert_int_equal(tcpdns_stats(r.t)->messages, 2);
    rig_fini(&r);
}

static void test_gap(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[300], m2[300];
    size_t n = message(m, 11, false, "lost");
    size_t n2 = message(m2, 12, false, "found");
    open_flow(&r, 40004);
    assert_false(offer(&r, 40004, CLIENT_ISN + 1, 0x18, m, 2));
    /* The message's segment is lost; the next message's prefix comes alone: resync on it. */
    uint32_t seq = CLIENT_ISN + 1 + (uint32_t)n;
    assert_false(offer(&r, 40004, seq, 0x18, m2, 2));
    assert_true(offer(&r, 40004, seq + 2, 0x18, m2 + 2, n2 - 2));
    assert_int_equal(r.pkt->dns.id, 12);
    const struct tcpdns_stats *st = tcpdns_stats(r.t);
    assert_int_equal(st->gaps, 1);
    assert_int_equal(st->incomplete, 1);
    /* After a gap onto a short segment in the middle of a message (no plausible start), the
     * flow waits; decode's view of such a segment stands. */
    uint32_t next = seq + (uint32_t)n2;
    uint8_t middle[20] = {0x01, 0x00}; /* "256 bytes" in a 20-byte segment */
    assert_false(offer(&r, 40004, next + 100, 0x18, middle, sizeof middle));
    assert_int_equal(st->gaps, 2);
    assert_true(offer(&r, 40004, next + 200, 0x18, m, n));
    assert_int_equal(r.pkt->dns.id, 11);
    rig_fini(&r);
}

static void test_table_full(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t m[300];
    size_t n = message(m, 13, false, "many");
    /* Every flow holds a prefix; the oldest gives way to the newest. */
    for (uint32_t i = 0; i < TCPDNS_MAX_FLOWS + 10; i++) {
        uint16_t port = (uint16_t)(10000 + i);
        open_flow(&r, port);
        assert_false(offer(&r, port, CLIENT_ISN + 1, 0x18, m, 2));
    }
    const struct tcpdns_stats *st = tcpdns_stats(r.t);
    assert_int_equal(st->evicted, 10);
    /* The first flow was evicted: the rest of its message is not joined to its prefix. */
    offer(&r, 10000, CLIENT_ISN + 3, 0x18, m + 2, n - 2);
    assert_int_equal(st->reassembled, 0);
    /* The newest still completes. */
    uint16_t last = (uint16_t)(10000 + TCPDNS_MAX_FLOWS + 9);
    assert_true(offer(&r, last, CLIENT_ISN + 3, 0x18, m + 2, n - 2));
    assert_int_equal(r.pkt->dns.id, 13);
    assert_int_equal(st->reassembled, 1);
    /* The evicted flow's segment (read from its first two bytes on, out of step) started a new
     * flow in place of the oldest (10010); every flow but the newest holds part of a message
     * at the end. */
    tcpdns_finish(r.t);
    assert_int_equal(st->evicted, 11);
    assert_int_equal(st->incomplete, TCPDNS_MAX_FLOWS - 1);
    rig_fini(&r);
}

static void test_hostile_lengths(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    /* Length 0: two bytes that hold nothing, skipped; the stream stays in step. */
    uint8_t m[300];
    size_t n = message(m, 14, false, "after");
    uint8_t seg[310] = {0, 0};
    memcpy(seg + 2, m, n);
    open_flow(&r, 40005);
    assert_true(offer(&r, 40005, CLIENT_ISN + 1, 0x18, seg, n + 2));
    assert_int_equal(r.pkt->dns.id, 14);
    assert_int_equal(tcpdns_stats(r.t)->bad_length, 1);
    /* Length 65535 fed in full-size segments of junk: held to the bound, then read as a
     * (malformed) message without reading past it. */
    static uint8_t big[65537];
    memset(big, 0xc0, sizeof big); /* compression pointers everywhere */
    big[0] = 0xff;
    big[1] = 0xff;
    big[2] = 0;
    big[3] = 1;
    big[4] = 0;
    big[5] = 0;
    big[6] = 0;
    big[7] = 1;
    uint32_t seq = CLIENT_ISN + 1 + (uint32_t)n + 2;
    size_t off = 0;
    bool got = false;
    while (off < sizeof big) {
        size_t k = sizeof big - off < 1460 ? sizeof big - off : 1460;
        got = offer(&r, 40005, seq, 0x10, big + off, k);
        seq += (uint32_t)k;
        off += k;
    }
    assert_true(got);
    assert_int_equal(r.pkt->dns.id, 1);
    assert_false(r.pkt->dns.complete);
    assert_int_equal(tcpdns_stats(r.t)->messages, 2);
    /* FIN ends the flow. */
    assert_false(offer(&r, 40005, seq, 0x11, NULL, 0));
    tcpdns_finish(r.t);
    assert_int_equal(tcpdns_stats(r.t)->incomplete, 0);
    rig_fini(&r);
}

/* A mid-message segment that only looks like a whole message must not be read as one. */
static void test_decode_misread_removed(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    uint8_t body[400];
    /* A 330-byte message whose second segment starts with bytes that decode takes for a
     * whole length-prefixed query. */
    uint8_t inner[300];
    size_t ni = message(inner, 15, false, "inside");
    body[0] = 0x01;
    body[1] = 0x4a; /* 330 */
    memset(body + 2, 0, 12);
    body[7] = 0; /* qdcount 0 */
    memcpy(body + 14, inner, ni);
    memset(body + 14 + ni, 0, 332 - 14 - ni);
    open_flow(&r, 40006);
    assert_false(offer(&r, 40006, CLIENT_ISN + 1, 0x10, body, 14));
    assert_true(offer(&r, 40006, CLIENT_ISN + 15, 0x10, body + 14, 332 - 14));
    /* The packet carries the 330-byte message, not the query inside it. */
    assert_int_equal(r.pkt->dns.length, 330);
    assert_int_equal(tcpdns_stats(r.t)->decode_removed, 1);
    rig_fini(&r);
}

/* Counts queries and responses a capture yields through the source and the flow stage (with
 * reassembly), as the pipeline reads it. */
static bool count_capture(const char *path, unsigned *queries, unsigned *responses,
                          struct tcpdns_stats *st, uint64_t *packets)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fclose(f);
    char err[SOURCE_ERROR_MAX];
    struct source *s = NULL;
    assert_int_equal(source_open(path, &s, err), 0);
    struct packet *pkt = malloc(sizeof *pkt);
    struct flow *fl = flow_new();
    assert_non_null(pkt);
    assert_non_null(fl);
    *queries = *responses = 0;
    while (source_next(s, pkt) == 1) {
        flow_packet(fl, pkt);
        do {
            if (!(pkt->layers & PKT_L_DNS))
                continue;
            if (pkt->dns.flags & DNS_FLAG_QR)
                (*responses)++;
            else
                (*queries)++;
        } while (flow_next(fl, pkt));
    }
    flow_finish(fl);
    *st = flow_stats(fl)->tcpdns;
    *packets = source_stats(s)->packets;
    flow_free(fl);
    free(pkt);
    source_close(s);
    return true;
}

#define DNSCAP NT_SOURCE_DIR "/../shared/corpora/other/dnscap/src/test/"

static void test_corpus(void **state)
{
    (void)state;
    unsigned q, a;
    struct tcpdns_stats st;
    uint64_t packets;
    if (!count_capture(DNSCAP "dnso1tcp.pcap", &q, &a, &st, &packets)) {
        skip();
        return;
    }
    /* Every query's prefix comes alone (before: 0 queries, 41 responses). */
    assert_int_equal(q, 41);
    assert_int_equal(a, 41);
    assert_int_equal(packets, 212);
    assert_int_equal(st.reassembled, 41);
    assert_int_equal(st.gaps, 0);
    /* A hole of 37 client and server segments: the client stream resyncs on the next prefix. */
    assert_true(count_capture(DNSCAP "dnso1tcp-bighole.pcap", &q, &a, &st, &packets));
    assert_int_equal(q, 38);
    assert_int_equal(a, 38);
    assert_true(st.gaps >= 1);
    assert_true(count_capture(DNSCAP "dnso1tcp-midmiss.pcap", &q, &a, &st, &packets));
    assert_int_equal(q, 3);
    assert_int_equal(a, 3);
    /* Several messages in one segment come as extra packets, not counted as packets. */
    assert_true(count_capture(DNSCAP "dnsotcp-many1pkt.pcap", &q, &a, &st, &packets));
    assert_int_equal(packets, 10);
    assert_int_equal(q, 3);
    assert_int_equal(st.extra, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_alone),
        cmocka_unit_test(test_split_in_three),
        cmocka_unit_test(test_two_in_one),
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_decode_misread_removed),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
