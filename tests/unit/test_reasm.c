/* test_reasm.c: IPv4 and IPv6 fragment reassembly on hand-made fragments: in order, out of
 * order, overlapping, duplicate, missing last, too many, timeout, and bad lengths. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/reasm.h"

static const uint8_t SRC4[4] = {198, 51, 100, 7}, DST4[4] = {203, 0, 113, 2};

/* An IPv4 fragment of datagram id carrying n bytes of payload at byte offset off. */
static size_t frag4(uint8_t *buf, uint16_t id, uint32_t off, bool more, const uint8_t *payload,
                    size_t n)
{
    size_t total = 20 + n;
    uint16_t fr = (uint16_t)((more ? 0x2000 : 0) | (off / 8));
    uint8_t h[20] = {0x45,
                     0,
                     (uint8_t)(total >> 8),
                     (uint8_t)total,
                     (uint8_t)(id >> 8),
                     (uint8_t)id,
                     (uint8_t)(fr >> 8),
                     (uint8_t)fr,
                     64,
                     17,
                     0,
                     0};
    memcpy(h + 12, SRC4, 4);
    memcpy(h + 16, DST4, 4);
    memcpy(buf, h, 20);
    memcpy(buf + 20, payload, n);
    return total;
}

/* An IPv6 fragment with a destination options header before the fragment header (so that the
 * reassembled next-header chain must be patched in the right place). */
static size_t frag6(uint8_t *buf, uint32_t id, uint32_t off, bool more, const uint8_t *payload,
                    size_t n)
{
    memset(buf, 0, 56);
    size_t plen = 8 + 8 + n;
    buf[0] = 0x60;
    buf[4] = (uint8_t)(plen >> 8);
    buf[5] = (uint8_t)plen;
    buf[6] = 60; /* destination options */
    buf[7] = 64;
    buf[8] = 0x20;
    buf[9] = 0x01;
    buf[10] = 0x0d;
    buf[11] = 0xb8;
    buf[23] = 1;
    buf[24] = 0x20;
    buf[25] = 0x01;
    buf[26] = 0x0d;
    buf[27] = 0xb8;
    buf[39] = 2;
    buf[40] = 44; /* -> fragment header */
    buf[41] = 0;
    buf[42] = 1; /* PadN, 4 bytes */
    buf[43] = 4;
    buf[48] = 17; /* fragment header: next header UDP */
    uint16_t om = (uint16_t)(off | (more ? 1 : 0));
    buf[50] = (uint8_t)(om >> 8);
    buf[51] = (uint8_t)om;
    buf[52] = (uint8_t)(id >> 24);
    buf[53] = (uint8_t)(id >> 16);
    buf[54] = (uint8_t)(id >> 8);
    buf[55] = (uint8_t)id;
    memcpy(buf + 56, payload, n);
    return 56 + n;
}

static struct nt_time at(int64_t sec)
{
    struct nt_time t = {.sec = 1700000000 + sec, .nsec = 0, .kind = NT_TIME_ABSOLUTE};
    return t;
}

/* A UDP datagram of n bytes (header included) from port 53 to 40000 with a recognisable body. */
static void udp_payload(uint8_t *p, size_t n)
{
    p[0] = 0;
    p[1] = 53;
    p[2] = 0x9c;
    p[3] = 0x40;
    p[4] = (uint8_t)(n >> 8);
    p[5] = (uint8_t)n;
    p[6] = p[7] = 0;
    for (size_t i = 8; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 1);
}

static void test_v4_in_order(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t payload[37], buf[128];
    udp_payload(payload, sizeof payload);
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    size_t n = frag4(buf, 77, 0, true, payload, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 77, 16, true, payload + 16, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 77, 32, false, payload + 32, 5);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    assert_int_equal(out_len, 20 + 37);
    assert_int_equal(out[2] << 8 | out[3], 57);
    assert_int_equal(out[6] & 0x3f, 0);
    assert_int_equal(out[7], 0);
    assert_memory_equal(out + 20, payload, 37);
    /* The reassembled bytes decode as one UDP datagram. */
    struct packet *pkt = calloc(1, sizeof *pkt);
    packet_reset(pkt);
    pkt->caplen = pkt->wirelen = (uint32_t)out_len;
    decode_packet(pkt, NT_LINKTYPE_RAW, out, out_len);
    assert_true(pkt->layers & PKT_L_UDP);
    assert_false(pkt->fragment);
    assert_int_equal(pkt->l4_payload_len, 29);
    assert_int_equal(pkt->ip_len, 57);
    free(pkt);
    const struct reasm_stats *st = reasm_stats(r);
    assert_int_equal(st->fragments, 3);
    assert_int_equal(st->reassembled, 1);
    reasm_finish(r);
    assert_int_equal(st->incomplete, 0);
    reasm_free(r);
}

static void test_v4_out_of_order_and_duplicate(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t payload[40], buf[128];
    udp_payload(payload, sizeof payload);
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    size_t n = frag4(buf, 9, 32, false, payload + 32, 8);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 9, 16, true, payload + 16, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0); /* duplicate */
    n = frag4(buf, 9, 0, true, payload, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    assert_int_equal(out_len, 60);
    assert_memory_equal(out + 20, payload, 40);
    assert_int_equal(reasm_stats(r)->duplicates, 1);
    assert_int_equal(reasm_stats(r)->overlaps, 0);
    /* A fragment of the finished datagram arriving late starts a new one, never completed. */
    n = frag4(buf, 9, 16, true, payload + 16, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    reasm_finish(r);
    assert_int_equal(reasm_stats(r)->incomplete, 1);
    assert_int_equal(reasm_stats(r)->lost_fragments, 1);
    reasm_free(r);
}

static void test_v4_overlap_first_wins(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t a[16], b[16], c[6], buf[128];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    memset(c, 'C', sizeof c);
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    size_t n = frag4(buf, 5, 0, true, a, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 5, 8, true, b, 16); /* bytes 8..15 again, with other content */
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 5, 24, false, c, 6);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    assert_int_equal(out_len, 20 + 30);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(out[20 + i], 'A');
    for (size_t i = 16; i < 24; i++)
        assert_int_equal(out[20 + i], 'B');
    assert_int_equal(out[20 + 24], 'C');
    assert_int_equal(reasm_stats(r)->overlaps, 1);
    reasm_free(r);
}

static void test_missing_last_and_bad_lengths(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t p[64] = {0}, buf[128];
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    size_t n = frag4(buf, 1, 0, true, p, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 1, 16, true, p, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    /* Not the last, yet not a multiple of 8 bytes. */
    n = frag4(buf, 2, 0, true, p, 13);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    /* Past 65535 bytes ("ping of death"). */
    n = frag4(buf, 3, 65528, false, p, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    /* Cut short by the snap length: the header says 36 bytes, 30 were captured. */
    n = frag4(buf, 4, 0, true, p, 16);
    assert_int_equal(reasm_add(r, &t, buf, n - 6, &out, &out_len), 0);
    /* A second last fragment that ends elsewhere: the first one wins. */
    n = frag4(buf, 1, 40, false, p, 8);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag4(buf, 1, 40, false, p, 16);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    const struct reasm_stats *st = reasm_stats(r);
    assert_int_equal(st->invalid, 3);
    assert_int_equal(st->uncaptured, 1);
    assert_int_equal(st->reassembled, 0);
    reasm_finish(r);
    assert_int_equal(st->incomplete, 1); /* datagram 1: bytes 32..39 never came */
    assert_int_equal(st->lost_fragments, 4);
    reasm_free(r);
}

static void test_too_many(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t p[16] = {0}, buf[64];
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    for (unsigned i = 0; i < REASM_MAX_DATAGRAMS + 10; i++) {
        size_t n = frag4(buf, (uint16_t)i, 0, true, p, 16);
        assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    }
    assert_int_equal(reasm_stats(r)->evicted, 10);
    /* The oldest went first: datagram 0 is gone, the newest is still held and completes. */
    size_t n = frag4(buf, (uint16_t)(REASM_MAX_DATAGRAMS + 9), 16, false, p, 4);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    n = frag4(buf, 0, 16, false, p, 4);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    reasm_free(r);

    /* Bytes: datagrams that each need a 64 KiB buffer are evicted before REASM_MAX_BYTES. */
    r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    for (unsigned i = 0; i < 200; i++) {
        n = frag4(buf, (uint16_t)i, 65000, true, p, 16);
        assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    }
    assert_int_equal(reasm_stats(r)->evicted, 200 - REASM_MAX_BYTES / 65536);
    reasm_free(r);
}

static void test_timeout(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t p[16] = {0}, buf[64];
    const uint8_t *out;
    size_t out_len;
    struct nt_time t0 = at(0), t1 = at(REASM_TIMEOUT_SEC - 1), t2 = at(REASM_TIMEOUT_SEC + 1);
    size_t n = frag4(buf, 8, 0, true, p, 16);
    assert_int_equal(reasm_add(r, &t0, buf, n, &out, &out_len), 0);
    n = frag4(buf, 9, 0, true, p, 16);
    assert_int_equal(reasm_add(r, &t1, buf, n, &out, &out_len), 0);
    /* Time passes without fragments: datagram 8 expires, 9 does not. */
    reasm_expire(r, &t2);
    assert_int_equal(reasm_stats(r)->timed_out, 1);
    n = frag4(buf, 8, 16, false, p, 4);
    assert_int_equal(reasm_add(r, &t2, buf, n, &out, &out_len), 0);
    n = frag4(buf, 9, 16, false, p, 4);
    assert_int_equal(reasm_add(r, &t2, buf, n, &out, &out_len), 1);
    assert_int_equal(reasm_stats(r)->lost_fragments, 1);
    reasm_free(r);
}

static void test_v6(void **state)
{
    (void)state;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    uint8_t payload[1500], buf[1600];
    udp_payload(payload, sizeof payload);
    const uint8_t *out;
    size_t out_len;
    struct nt_time t = at(0);
    size_t n = frag6(buf, 0xdeadbeef, 1000, false, payload + 1000, 500);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 0);
    n = frag6(buf, 0xdeadbeef, 0, true, payload, 1000);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    /* The unfragmentable part (header and destination options) is kept, the fragment header
     * removed, and the chain now names UDP. */
    assert_int_equal(out_len, 48 + 1500);
    assert_int_equal(out[4] << 8 | out[5], 8 + 1500);
    assert_int_equal(out[6], 60);
    assert_int_equal(out[40], 17);
    assert_memory_equal(out + 48, payload, 1500);
    struct packet *pkt = calloc(1, sizeof *pkt);
    packet_reset(pkt);
    pkt->caplen = pkt->wirelen = (uint32_t)out_len;
    decode_packet(pkt, NT_LINKTYPE_RAW, out, out_len);
    assert_int_equal(pkt->ip_version, 6);
    assert_true(pkt->layers & PKT_L_UDP);
    assert_false(pkt->fragment);
    assert_int_equal(pkt->l4_payload_len, 1492);
    free(pkt);
    /* An atomic fragment (offset 0, no more) is a whole datagram at once (RFC 6946). */
    n = frag6(buf, 1, 0, false, payload, 8);
    assert_int_equal(reasm_add(r, &t, buf, n, &out, &out_len), 1);
    assert_int_equal(out_len, 56);
    reasm_free(r);
}

/* Property: any cover of a datagram by 8-byte-aligned fragments (overlapping with the same
 * bytes, duplicated, in any order) reassembles to exactly the original, when its last piece
 * arrives and not before. Fixed seed, so the run is repeatable. */
static void test_random_covers(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    struct reasm *r = reasm_new(REASM_MAX_DATAGRAMS, REASM_MAX_BYTES);
    static uint8_t payload[4000], buf[4100];
    struct {
        uint32_t off, len;
        bool more;
    } pieces[64];
    for (int round = 0; round < 300; round++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint32_t total = 1 + (uint32_t)(seed >> 33) % sizeof payload;
        for (uint32_t i = 0; i < total; i++)
            payload[i] = (uint8_t)(i * 31 + (uint32_t)round);
        /* Cut into pieces, each starting at a multiple of 8 at or before the previous end. */
        int n = 0;
        uint32_t pos = 0;
        while (pos < total && n < 60) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            uint32_t back = pos >= 16 && (seed >> 40) % 3 == 0 ? 8 : 0;
            uint32_t start = pos - back;
            uint32_t len = 8 * (1 + (uint32_t)(seed >> 20) % 64);
            if (start + len >= total || n == 59)
                len = total - start;
            pieces[n].off = start;
            pieces[n].len = len;
            pieces[n].more = start + len < total;
            n++;
            pos = start + len;
        }
        /* One piece at offset 0 without "more" is not a fragment in IPv4. */
        if (n == 1)
            continue;
        /* A duplicate, then shuffle. */
        pieces[n] = pieces[(seed >> 7) % (uint64_t)n];
        n++;
        for (int i = n - 1; i > 0; i--) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            int j = (int)((seed >> 33) % (uint64_t)(i + 1));
            __typeof__(pieces[0]) t = pieces[i];
            pieces[i] = pieces[j];
            pieces[j] = t;
        }
        const uint8_t *out = NULL;
        size_t out_len = 0;
        int done_at = -1;
        struct nt_time t = at(round);
        for (int i = 0; i < n; i++) {
            size_t len = frag4(buf, (uint16_t)round, pieces[i].off, pieces[i].more,
                               payload + pieces[i].off, pieces[i].len);
            int rc = reasm_add(r, &t, buf, len, &out, &out_len);
            assert_true(rc >= 0);
            if (rc == 1) {
                assert_int_equal(done_at, -1);
                done_at = i;
                assert_int_equal(out_len, 20 + total);
                assert_memory_equal(out + 20, payload, total);
            }
        }
        assert_true(done_at >= 0);
        assert_int_equal(reasm_stats(r)->overlaps, 0);
        reasm_finish(r); /* the pieces after completion start a datagram never finished */
    }
    reasm_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_in_order),
        cmocka_unit_test(test_v4_out_of_order_and_duplicate),
        cmocka_unit_test(test_v4_overlap_first_wins),
        cmocka_unit_test(test_missing_last_and_bad_lengths),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_v6),
        cmocka_unit_test(test_random_covers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
