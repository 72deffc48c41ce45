/* test_pcapfile.c: nettriage's own pcap/pcapng reader (src/source/pcapfile.c) on crafted files:
 * the four classic magics, old versions, snap lengths, pcapng sections, interfaces, time
 * resolutions and offsets, packet block kinds, damage, and what it leaves to libpcap. Most cases
 * are read both ways (the reader, and libpcap with NETTRIAGE_READER=libpcap) and must agree;
 * tests/conformance/reader_oracle.c does the same on every capture we have. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "source/pcapfile.h"
#include "source/source.h"
#include "util/err.h"

/* ---- building files ---- */

struct buf {
    uint8_t *p;
    size_t n, cap;
    bool be;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void u8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void u16(struct buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(b->be ? v >> 8 : v), (uint8_t)(b->be ? v : v >> 8)};
    put(b, x, 2);
}

static void u32(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        u8(b, (uint8_t)(v >> (b->be ? 24 - 8 * i : 8 * i)));
}

static void u64(struct buf *b, uint64_t v)
{
    if (b->be) {
        u32(b, (uint32_t)(v >> 32));
        u32(b, (uint32_t)v);
    } else {
        u32(b, (uint32_t)v);
        u32(b, (uint32_t)(v >> 32));
    }
}

static void pad4(struct buf *b)
{
    while (b->n % 4)
        u8(b, 0);
}

/* A raw IPv4 UDP packet of n bytes (n >= 28), its bytes depending on seed. */
static size_t ip_packet(uint8_t *p, size_t n, unsigned seed)
{
    memset(p, 0, n);
    p[0] = 0x45;
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    p[8] = 64;
    p[9] = 17;
    const uint8_t a[8] = {192, 0, 2, 1, 198, 51, 100, 7};
    memcpy(p + 12, a, 8);
    p[20] = 0x30;
    p[21] = (uint8_t)seed;
    p[23] = 53;
    p[24] = (uint8_t)((n - 20) >> 8);
    p[25] = (uint8_t)(n - 20);
    for (size_t i = 28; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed);
    return n;
}

/* Classic pcap header: magic written in the file's byte order. */
static void pcap_header(struct buf *b, bool nano, uint16_t major, uint16_t minor, uint32_t snap,
                        uint32_t linktype)
{
    u32(b, nano ? 0xa1b23c4d : 0xa1b2c3d4);
    u16(b, major);
    u16(b, minor);
    u32(b, 0);
    u32(b, 0);
    u32(b, snap);
    u32(b, linktype);
}

static void pcap_record(struct buf *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
                        const uint8_t *data, size_t n)
{
    u32(b, sec);
    u32(b, frac);
    u32(b, caplen);
    u32(b, len);
    put(b, data, n);
}

/* pcapng blocks, in b's byte order. */
static size_t block_start(struct buf *b, uint32_t type)
{
    size_t at = b->n;
    u32(b, type);
    u32(b, 0); /* length, patched by block_end */
    return at;
}

static void block_end(struct buf *b, size_t at)
{
    pad4(b);
    uint32_t len = (uint32_t)(b->n + 4 - at);
    u32(b, len);
    for (int i = 0; i < 4; i++)
        b->p[at + 4 + (size_t)i] = (uint8_t)(len >> (b->be ? 24 - 8 * i : 8 * i));
}

static void shb(struct buf *b)
{
    size_t at = block_start(b, 0x0a0d0d0a);
    u32(b, 0x1a2b3c4d);
    u16(b, 1);
    u16(b, 0);
    u64(b, UINT64_MAX);
    block_end(b, at);
}

/* An interface; tsresol 0xff means none given; with_off adds if_tsoffset. */
static void idb(struct buf *b, uint16_t linktype, uint32_t snap, uint8_t tsresol, bool with_off,
                int64_t off)
{
    size_t at = block_start(b, 1);
    u16(b, linktype);
    u16(b, 0);
    u32(b, snap);
    if (tsresol != 0xff) {
        u16(b, 9);
        u16(b, 1);
        u8(b, tsresol);
        pad4(b);
    }
    if (with_off) {
        u16(b, 14);
        u16(b, 8);
        u64(b, (uint64_t)off);
    }
    u16(b, 0);
    u16(b, 0);
    block_end(b, at);
}

static void epb(struct buf *b, uint32_t ifc, uint64_t ts, const uint8_t *d, uint32_t caplen,
                uint32_t len)
{
    size_t at = block_start(b, 6);
    u32(b, ifc);
    u32(b, (uint32_t)(ts >> 32));
    u32(b, (uint32_t)ts);
    u32(b, caplen);
    u32(b, len);
    put(b, d, caplen);
    block_end(b, at);
}

static void obsolete_pb(struct buf *b, uint16_t ifc, uint64_t ts, const uint8_t *d, uint32_t caplen)
{
    size_t at = block_start(b, 2);
    u16(b, ifc);
    u16(b, 0);
    u32(b, (uint32_t)(ts >> 32));
    u32(b, (uint32_t)ts);
    u32(b, caplen);
    u32(b, caplen);
    put(b, d, caplen);
    block_end(b, at);
}

static void spb(struct buf *b, const uint8_t *d, uint32_t len, uint32_t present)
{
    size_t at = block_start(b, 3);
    u32(b, len);
    put(b, d, present);
    block_end(b, at);
}

static void stats_block(struct buf *b)
{
    size_t at = block_start(b, 5);
    u32(b, 0);
    u64(b, 0);
    block_end(b, at);
}

/* ---- reading ---- */

static char *write_tmp(const uint8_t *data, size_t n)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/nt-test-pcapfile-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return path;
}

#define MAX_RECS 4096

struct rec {
    int linktype;
    struct {
        int64_t sec;
        uint32_t nsec, kind;
    } ts;
    uint32_t caplen, wirelen;
    uint8_t first[8];
    uint64_t hash;
};

struct run {
    int open_rc, rc;
    bool native;
    struct source_stats st;
    enum source_kind kind;
    char err[SOURCE_ERROR_MAX];
    size_t n;
    struct rec r[MAX_RECS];
};

static void tap(void *arg, const struct pf_record *x)
{
    struct run *run = arg;
    assert_true(run->n < MAX_RECS);
    struct rec *r = &run->r[run->n++];
    memset(r, 0, sizeof *r);
    r->linktype = x->linktype;
    r->ts.sec = x->ts.sec;
    r->ts.nsec = x->ts.nsec;
    r->ts.kind = x->ts.kind;
    r->caplen = x->caplen;
    r->wirelen = x->wirelen;
    memcpy(r->first, x->data, x->caplen < 8 ? x->caplen : 8);
    uint64_t h = 0xcbf29ce484222325u;
    for (uint32_t i = 0; i < x->caplen; i++)
        h = (h ^ x->data[i]) * 0x100000001b3u;
    r->hash = h;
}

static struct run *read_path(const char *path, bool libpcap)
{
    struct run *run = calloc(1, sizeof *run);
    assert_non_null(run);
    if (libpcap)
        setenv("NETTRIAGE_READER", "libpcap", 1);
    struct source *s;
    run->open_rc = source_open(path, &s, run->err);
    unsetenv("NETTRIAGE_READER");
    if (run->open_rc < 0)
        return run;
    run->native = source_pcap_native(s);
    source_pcap_set_tap(s, tap, run);
    struct packet *pkt = calloc(1, sizeof *pkt);
    assert_non_null(pkt);
    while ((run->rc = source_next(s, pkt)) == 1)
        ;
    run->st = *source_stats(s);
    run->kind = source_kind(s);
    if (run->rc < 0)
        snprintf(run->err, sizeof run->err, "%s", source_error(s));
    source_close(s);
    free(pkt);
    return run;
}

/* Reads b both ways; they must agree on everything but the words of an error. Returns the
 * native run (the caller frees it). */
static struct run *read_both(const struct buf *b)
{
    char *p = write_tmp(b->p, b->n);
    struct run *a = read_path(p, false), *l = read_path(p, true);
    unlink(p);
    if (a->open_rc != l->open_rc || a->rc != l->rc || a->n != l->n)
        fail_msg("native open %d end %d (%s) %zu records; libpcap open %d end %d (%s) %zu",
                 a->open_rc, a->rc, a->err, a->n, l->open_rc, l->rc, l->err, l->n);
    for (size_t i = 0; i < a->n; i++)
        if (memcmp(&a->r[i], &l->r[i], sizeof a->r[i]) != 0)
            fail_msg("record %zu differs: %lld.%09u %u/%u vs %lld.%09u %u/%u", i + 1,
                     (long long)a->r[i].ts.sec, a->r[i].ts.nsec, a->r[i].caplen, a->r[i].wirelen,
                     (long long)l->r[i].ts.sec, l->r[i].ts.nsec, l->r[i].caplen, l->r[i].wirelen);
    if (a->open_rc == 0) {
        assert_int_equal(a->st.packets, l->st.packets);
        assert_int_equal(a->st.pcapng_fallback, l->st.pcapng_fallback);
        assert_int_equal(a->kind, l->kind);
    }
    free(l);
    return a;
}

/* ---- classic pcap ---- */

static void test_classic_magics(void **state)
{
    (void)state;
    uint8_t ip[60];
    ip_packet(ip, sizeof ip, 1);
    for (int be = 0; be < 2; be++) {
        for (int nano = 0; nano < 2; nano++) {
            struct buf b = {.be = be};
            pcap_header(&b, nano, 2, 4, 65535, 101);
            pcap_record(&b, 1700000000, nano ? 123456789 : 123456, 60, 60, ip, 60);
            pcap_record(&b, 1700000001, 0, 40, 60, ip, 40); /* cut by a snap length */
            struct run *r = read_both(&b);
            assert_true(r->native);
            assert_int_equal(r->rc, 0);
            assert_int_equal(r->kind, SOURCE_PCAP);
            assert_int_equal(r->n, 2);
            assert_int_equal(r->r[0].linktype, 12); /* LINKTYPE_RAW is DLT_RAW */
            assert_int_equal(r->st.linktype, 12);
            assert_int_equal(r->r[0].ts.sec, 1700000000);
            assert_int_equal(r->r[0].ts.nsec, nano ? 123456789 : 123456000);
            assert_int_equal(r->r[0].ts.kind, NT_TIME_ABSOLUTE);
            assert_int_equal(r->r[1].caplen, 40);
            assert_int_equal(r->r[1].wirelen, 60);
            assert_memory_equal(r->r[0].first, ip, 8);
            free(r);
            free(b.p);
        }
    }
}

/* Times libpcap reads as signed in a file of the host's byte order and as unsigned in the
 * other; fractions beyond a second either way are carried into the seconds. */
static void test_classic_odd_times(void **state)
{
    (void)state;
    uint8_t ip[28];
    ip_packet(ip, sizeof ip, 2);
    for (int be = 0; be < 2; be++) {
        struct buf b = {.be = be};
        pcap_header(&b, false, 2, 4, 65535, 101);
        pcap_record(&b, 0xf0000000u, 0xffffffffu, 28, 28, ip, 28); /* -1 µs or 4294967295 µs */
        pcap_record(&b, 100, 2500000, 28, 28, ip, 28);             /* 2.5 s of µs */
        struct run *r = read_both(&b);
        assert_int_equal(r->n, 2);
        assert_int_equal(r->r[1].ts.sec, 102);
        assert_int_equal(r->r[1].ts.nsec, 500000000);
        uint16_t one = 1;
        bool host_be = *(uint8_t *)&one == 0;
        if (be == host_be) { /* signed */
            assert_int_equal(r->r[0].ts.sec, -268435456 - 1);
            assert_int_equal(r->r[0].ts.nsec, 999999000);
        } else { /* unsigned */
            assert_int_equal(r->r[0].ts.sec, 4026531840LL + 4294);
            assert_int_equal(r->r[0].ts.nsec, 967295000);
        }
        free(r);
        free(b.p);
    }
}

static void test_classic_versions_and_lengths(void **state)
{
    (void)state;
    uint8_t ip[100];
    ip_packet(ip, sizeof ip, 3);
    /* 2.2 stores the lengths the other way round; 2.3 may (when caplen > len). */
    struct buf b = {.be = false};
    pcap_header(&b, false, 2, 2, 65535, 101);
    pcap_record(&b, 1, 0, 100, 80, ip, 80); /* len 100, caplen 80 */
    struct run *r = read_both(&b);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->r[0].caplen, 80);
    assert_int_equal(r->r[0].wirelen, 100);
    free(r);
    free(b.p);
    b = (struct buf){.be = false};
    pcap_header(&b, false, 2, 3, 65535, 101);
    pcap_record(&b, 1, 0, 100, 80, ip, 80);
    pcap_record(&b, 2, 0, 60, 100, ip, 60);
    r = read_both(&b);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->r[0].caplen, 80);
    assert_int_equal(r->r[1].caplen, 60);
    free(r);
    free(b.p);
    /* A record above the snap length is cut to it; above the link type's maximum it is an
     * error, the records before it standing. */
    b = (struct buf){.be = true};
    pcap_header(&b, false, 2, 4, 50, 101);
    pcap_record(&b, 1, 0, 100, 100, ip, 100);
    pcap_record(&b, 2, 0, 300000, 300000, ip, 100);
    r = read_both(&b);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->r[0].caplen, 50);
    assert_int_equal(r->rc, NT_ERR_CORRUPT);
    assert_non_null(strstr(r->err, "after packet 1"));
    free(r);
    free(b.p);
    /* Unsupported versions fail at open, both ways. */
    for (int v = 0; v < 3; v++) {
        b = (struct buf){.be = false};
        pcap_header(&b, false, v == 0 ? 1 : v == 1 ? 2 : 3, v == 1 ? 5 : 0, 65535, 1);
        r = read_both(&b);
        assert_int_equal(r->open_rc, NT_ERR_CORRUPT);
        assert_non_null(strstr(r->err, "version"));
        free(r);
        free(b.p);
    }
}

/* More than the reader's 1 MiB buffer, records crossing its end, and a 2 MiB pcapng block (a
 * link type whose packets may be that large). */
static void test_large(void **state)
{
    (void)state;
    static uint8_t ip[1500];
    struct buf b = {.be = false};
    pcap_header(&b, true, 2, 4, 65535, 1);
    for (unsigned i = 0; i < 2000; i++) {
        uint32_t n = 100 + (i * 37) % 1400;
        ip_packet(ip, n, i);
        pcap_record(&b, 1700000000 + i / 100, i * 1000, n, n, ip, n);
    }
    struct run *r = read_both(&b);
    assert_int_equal(r->n, 2000);
    assert_int_equal(r->rc, 0);
    free(r);
    free(b.p);

    size_t big = (size_t)2 << 20;
    uint8_t *d = malloc(big);
    assert_non_null(d);
    for (size_t i = 0; i < big; i++)
        d[i] = (uint8_t)(i >> 8);
    b = (struct buf){.be = false};
    shb(&b);
    idb(&b, 231, 0, 0xff, false, 0); /* DLT_DBUS: 128 MiB packets */
    epb(&b, 0, 5, d, (uint32_t)big, (uint32_t)big);
    epb(&b, 0, 6, d, 100, 100);
    r = read_both(&b);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->r[0].caplen, big);
    free(r);
    free(b.p);
    free(d);
}

/* ---- pcapng ---- */

static void test_pcapng_sections_interfaces(void **state)
{
    (void)state;
    uint8_t ip[64];
    ip_packet(ip, sizeof ip, 4);
    for (int be = 0; be < 2; be++) {
        struct buf b = {.be = be};
        shb(&b);
        idb(&b, 101, 0, 0xff, false, 0);        /* µs by default */
        idb(&b, 101, 0, 9, true, 1000);         /* ns, +1000 s */
        idb(&b, 101, 0, 0x80 | 20, true, -100); /* 2^-20 s, -100 s */
        idb(&b, 101, 0, 3, false, 0);           /* ms */
        stats_block(&b);
        epb(&b, 0, UINT64_C(1700000000123456), ip, 64, 64);
        epb(&b, 1, UINT64_C(1700000000123456789), ip, 64, 64);
        epb(&b, 2, (UINT64_C(1700000000) << 20) | (1u << 19), ip, 64, 64);
        obsolete_pb(&b, 3, UINT64_C(1700000000999), ip, 64);
        spb(&b, ip, 64, 64);
        /* A second section: interfaces numbered again. */
        shb(&b);
        idb(&b, 101, 0, 6, false, 0);
        epb(&b, 0, UINT64_C(1800000000000001), ip, 30, 64);
        struct run *r = read_both(&b);
        assert_true(r->native);
        assert_int_equal(r->kind, SOURCE_PCAPNG);
        assert_int_equal(r->rc, 0);
        assert_int_equal(r->n, 6);
        /* Two LINKTYPE_RAW interfaces: libpcap refuses the second (it compares DLT 12 with
         * LINKTYPE 101) and the fallback reads the file; the flag says so either way. */
        assert_true(r->st.pcapng_fallback);
        assert_int_equal(r->r[0].ts.sec, 1700000000);
        assert_int_equal(r->r[0].ts.nsec, 123456000);
        assert_int_equal(r->r[1].ts.sec, 1700001000);
        assert_int_equal(r->r[1].ts.nsec, 123456789);
        assert_int_equal(r->r[2].ts.sec, 1699999900);
        assert_int_equal(r->r[2].ts.nsec, 500000000);
        assert_int_equal(r->r[3].ts.sec, 1700000000);
        assert_int_equal(r->r[3].ts.nsec, 999000000);
        /* A simple packet block has no time: the first interface's offset (0 here). */
        assert_int_equal(r->r[4].ts.sec, 0);
        assert_int_equal(r->r[4].ts.nsec, 0);
        assert_int_equal(r->r[5].ts.sec, 1800000000);
        assert_int_equal(r->r[5].ts.nsec, 1000);
        assert_int_equal(r->r[5].caplen, 30);
        assert_int_equal(r->r[5].wirelen, 64);
        free(r);
        free(b.p);
    }
}

/* One interface of one link type: libpcap reads it itself, no fallback. */
static void test_pcapng_plain(void **state)
{
    (void)state;
    uint8_t ip[64];
    ip_packet(ip, sizeof ip, 5);
    struct buf b = {.be = true};
    shb(&b);
    idb(&b, 1, 128, 0x80 | 40, false, 0); /* 2^-40 s: finer than libpcap computes exactly */
    uint8_t eth[200];
    memset(eth, 0xaa, sizeof eth);
    eth[12] = 8;
    eth[13] = 0;
    memcpy(eth + 14, ip, 64);
    epb(&b, 0, (UINT64_C(1000000) << 40) | UINT64_C(0xfffffffff), eth, 78, 78);
    spb(&b, eth, 200, 128); /* captured: the snap length */
    struct run *r = read_both(&b);
    assert_false(r->st.pcapng_fallback);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->r[0].linktype, 1);
    assert_int_equal(r->r[0].ts.sec, 1000000);
    assert_int_equal(r->r[1].caplen, 128);
    assert_int_equal(r->r[1].wirelen, 200);
    free(r);
    free(b.p);
}

/* Interfaces of different link types (libpcap refuses; the fallback and the reader agree), and
 * the damage both readers meet the same way. */
static void test_pcapng_mixed_and_damage(void **state)
{
    (void)state;
    uint8_t ip[64], eth[78];
    ip_packet(ip, sizeof ip, 6);
    memset(eth, 0xbb, 12);
    eth[12] = 8;
    eth[13] = 0;
    memcpy(eth + 14, ip, 64);
    struct buf b = {.be = false};
    shb(&b);
    idb(&b, 1, 65535, 0xff, false, 0);
    epb(&b, 0, 1000000, eth, 78, 78);
    idb(&b, 101, 65535, 9, false, 0);
    epb(&b, 1, 2000000000, ip, 64, 64);
    epb(&b, 0, 3000000, eth, 78, 78);
    struct run *r = read_both(&b);
    assert_int_equal(r->n, 3);
    assert_true(r->st.pcapng_fallback);
    assert_int_equal(r->r[0].linktype, 1);
    assert_int_equal(r->r[1].linktype, 12);
    assert_int_equal(r->r[2].linktype, 1);
    free(r);
    /* Cut at every length: the same records and the same kind of error both ways. */
    for (size_t cut = 0; cut < b.n; cut++) {
        struct buf c = {.p = b.p, .n = cut};
        r = read_both(&c);
        free(r);
    }
    /* Options libpcap rejects: a repeated if_tsresol, a cut option list. */
    struct buf d = {.be = false};
    shb(&d);
    size_t at = block_start(&d, 1);
    u16(&d, 101);
    u16(&d, 0);
    u32(&d, 0);
    for (int i = 0; i < 2; i++) {
        u16(&d, 9);
        u16(&d, 1);
        u32(&d, 6);
    }
    block_end(&d, at);
    epb(&d, 0, 1, ip, 64, 64);
    r = read_both(&d);
    assert_int_equal(r->open_rc, NT_ERR_CORRUPT);
    free(r);
    free(d.p);
    free(b.p);
}

/* A later section in the other byte order: the pcapng specification allows it and the reader
 * follows it; libpcap reads the block length in the old order and calls the file corrupt. */
static void test_pcapng_byte_order_change(void **state)
{
    (void)state;
    uint8_t ip[40];
    ip_packet(ip, sizeof ip, 7);
    struct buf b = {.be = false};
    shb(&b);
    idb(&b, 101, 0, 0xff, false, 0);
    epb(&b, 0, 1, ip, 40, 40);
    b.be = true;
    shb(&b);
    idb(&b, 101, 0, 0xff, false, 0);
    epb(&b, 0, 2, ip, 40, 40);
    char *p = write_tmp(b.p, b.n);
    struct run *r = read_path(p, false);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 2);
    assert_true(r->st.pcapng_fallback);
    free(r);
    r = read_path(p, true);
    assert_int_equal(r->rc, NT_ERR_CORRUPT);
    assert_int_equal(r->n, 1);
    free(r);
    unlink(p);
    free(b.p);
}

/* Regression: a hostile if_tsoffset made the fallback reader add two int64 values that overflow
 * (undefined behaviour, which UBSan reports); now it is an error after the packets before it,
 * in the fallback (reached through libpcap), in libpcap's own path (through pcap.c's check of
 * what libpcap computed) and in the reader. */
static void test_hostile_tsoffset(void **state)
{
    (void)state;
    uint8_t ip[40], eth[54];
    ip_packet(ip, sizeof ip, 8);
    memset(eth, 0, 12);
    eth[12] = 8;
    memcpy(eth + 14, ip, 40);
    static const int64_t offs[] = {INT64_MAX, INT64_MIN, INT64_MAX - 1000, -INT64_MAX};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        for (int mixed = 0; mixed < 2; mixed++) {
            struct buf b = {.be = k % 2 == 1};
            shb(&b);
            idb(&b, 1, 65535, 0xff, false, 0);
            epb(&b, 0, 1000000, eth, 54, 54);
            /* The second interface: another link type (libpcap refuses, the fallback reads
             * on) or the same (libpcap reads it, with its own unsigned arithmetic). */
            idb(&b, mixed ? 101 : 1, 65535, 0, true, offs[k]); /* seconds, hostile offset */
            epb(&b, 1, UINT64_C(1700000000), mixed ? ip : eth, mixed ? 40 : 54, mixed ? 40 : 54);
            epb(&b, 0, 2000000, eth, 54, 54);
            struct run *r = read_both(&b);
            assert_int_equal(r->rc, NT_ERR_CORRUPT);
            assert_int_equal(r->n, 1);
            assert_non_null(strstr(r->err, "out of range"));
            assert_non_null(strstr(r->err, "after packet 1"));
            free(r);
            free(b.p);
        }
    }
    /* In range, a large offset is fine: 10^-0 s resolution, t + offset near the bound. */
    struct nt_time t;
    struct pf_tsres res = {.tsresol = 0, .tsoffset = INT64_MAX};
    assert_false(pf_ng_time(&res, 0, &t));
    res.tsoffset = PF_MAX_ABS_SEC - 10;
    assert_true(pf_ng_time(&res, 10, &t));
    assert_int_equal(t.sec, PF_MAX_ABS_SEC);
    assert_false(pf_ng_time(&res, 11, &t));
    res.tsoffset = INT64_MIN;
    assert_false(pf_ng_time(&res, UINT64_MAX, &t)); /* 2^64 - 1 - 2^63: beyond the bound */
    res.tsoffset = -PF_MAX_ABS_SEC;
    assert_true(pf_ng_time(&res, 0, &t));
    assert_int_equal(t.sec, -PF_MAX_ABS_SEC);
    res.tsoffset = INT64_MIN;
    assert_true(pf_ng_time(&res, (uint64_t)INT64_MAX + 1, &t));
    assert_int_equal(t.sec, 0);
    /* Binary and decimal fractions, as libpcap truncates them. */
    res = (struct pf_tsres){.tsresol = 0x80 | 30};
    assert_true(pf_ng_time(&res, (UINT64_C(5) << 30) | ((1u << 30) - 1), &t));
    assert_int_equal(t.sec, 5);
    assert_int_equal(t.nsec, 999999999);
    res = (struct pf_tsres){.tsresol = 12};
    assert_true(pf_ng_time(&res, UINT64_C(7000000000001999), &t));
    assert_int_equal(t.sec, 7000);
    assert_int_equal(t.nsec, 1);
    assert_false(pf_tsresol_valid(20));
    assert_false(pf_tsresol_valid(0x80 | 64));
    assert_true(pf_tsresol_valid(0x80 | 63));
    assert_true(pf_time_norm(10, -1, &t));
    assert_int_equal(t.sec, 9);
    assert_int_equal(t.nsec, 999999999);
    assert_false(pf_time_norm(INT64_MAX, 2000000000, &t));
}

/* The reader keeps each interface's current second so that most packets need no division:
 * times within a second, across one, back into an earlier one, far ahead, at the last tick of
 * a second, on two interfaces of different resolutions and offsets interleaved, must come out
 * as libpcap gives them (and as pf_ng_time computes them). */
static void test_pcapng_time_cache(void **state)
{
    (void)state;
    uint8_t ip[40], eth[54];
    ip_packet(ip, sizeof ip, 9);
    memset(eth, 0, 12);
    eth[12] = 8;
    memcpy(eth + 14, ip, 40);
    static const uint64_t us[] = {1700000000000000u, 1700000000000001u, 1700000000999999u,
                                  1700000001000000u, 1700000000500000u, 1700000001000001u,
                                  1800000000000000u, 1700000001999999u, 1700000001000000u,
                                  0u,                999999u,           1000000u};
    static const uint64_t ns[] = {1700000000000000000u, 1700000000999999999u,
                                  1700000001000000000u, 1700000000000000001u,
                                  1700000001000000000u, 1700000001000000001u};
    for (int be = 0; be < 2; be++) {
        struct buf b = {.be = be == 1};
        shb(&b);
        idb(&b, 1, 65535, 0xff, true, 1000); /* microseconds, 1,000 s offset */
        idb(&b, 1, 65535, 9, true, -5);      /* nanoseconds, -5 s */
        size_t n = 0;
        for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
            epb(&b, 0, us[i], eth, 54, 54);
            n++;
            if (i < sizeof ns / sizeof ns[0]) {
                epb(&b, 1, ns[i], eth, 54, 54);
                n++;
            }
        }
        struct run *r = read_both(&b);
        assert_int_equal(r->rc, 0);
        assert_int_equal(r->n, n);
        /* Spot checks against pf_ng_time itself. */
        struct nt_time t;
        struct pf_tsres res = {.tsresol = 6, .tsoffset = 1000};
        assert_true(pf_ng_time(&res, us[2], &t));
        assert_int_equal(r->r[4].ts.sec, t.sec);
        assert_int_equal(r->r[4].ts.nsec, t.nsec);
        assert_int_equal(t.nsec, 999999000);
        res = (struct pf_tsres){.tsresol = 9, .tsoffset = -5};
        assert_true(pf_ng_time(&res, ns[3], &t));
        assert_int_equal(r->r[7].ts.sec, t.sec);
        assert_int_equal(r->r[7].ts.nsec, 1);
        free(r);
        free(b.p);
    }
}

/* ---- what stays with libpcap ---- */

static void test_declined(void **state)
{
    (void)state;
    uint8_t usb[64];
    memset(usb, 0, sizeof usb);
    /* Linux USB with the memory-mapped header: libpcap rewrites its lengths. */
    struct buf b = {.be = false};
    pcap_header(&b, false, 2, 4, 65535, 220);
    pcap_record(&b, 1, 0, 64, 64, usb, 64);
    struct run *r = read_both(&b);
    assert_false(r->native);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->st.unsupported_link, 1);
    free(r);
    free(b.p);

    /* gzip, a pipe (a FIFO by name), and the environment variable: libpcap. */
    uint8_t ip[40];
    ip_packet(ip, sizeof ip, 9);
    b = (struct buf){.be = false};
    pcap_header(&b, false, 2, 4, 65535, 101);
    pcap_record(&b, 1, 0, 40, 40, ip, 40);
    char path[64];
    snprintf(path, sizeof path, "/tmp/nt-test-pcapfile-gz-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, b.p, (unsigned)b.n), (int)b.n);
    gzclose(g);
    r = read_path(path, false);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 1);
    assert_false(r->native);
    assert_true(r->st.gzip);
    free(r);
    unlink(path);

    char dir[] = "/tmp/nt-test-pcapfile-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *w = fopen(fifo, "wb");
        if (w) {
            fwrite(b.p, 1, b.n, w);
            fclose(w);
        }
        _exit(0);
    }
    r = read_path(fifo, false);
    waitpid(pid, NULL, 0);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 1);
    assert_false(r->native);
    free(r);
    unlink(fifo);
    rmdir(dir);

    char *p = write_tmp(b.p, b.n);
    r = read_path(p, true);
    assert_false(r->native);
    assert_int_equal(r->n, 1);
    free(r);
    r = read_path(p, false);
    assert_true(r->native);
    free(r);
    unlink(p);
    free(b.p);

    /* Not a capture at all: the reader declines and the usual messages follow. */
    p = write_tmp((const uint8_t *)"hello\n", 6);
    r = read_path(p, false);
    assert_int_equal(r->open_rc, 0);
    assert_int_equal(r->kind, SOURCE_TEXT);
    assert_int_equal(r->rc, NT_ERR_NO_RECORDS);
    free(r);
    unlink(p);
}

/* A damaged classic header and records, and an empty capture. */
static void test_classic_damage(void **state)
{
    (void)state;
    uint8_t ip[100];
    ip_packet(ip, sizeof ip, 10);
    struct buf b = {.be = true};
    pcap_header(&b, true, 2, 4, 65535, 228);
    for (unsigned i = 0; i < 3; i++)
        pcap_record(&b, 1700000000 + i, i, 100, 100, ip, 100);
    for (size_t cut = 0; cut <= b.n; cut++) {
        struct buf c = {.p = b.p, .n = cut};
        struct run *r = read_both(&c);
        if (cut >= 4 && cut < 24) {
            assert_int_equal(r->open_rc, NT_ERR_TRUNCATED);
        } else if (cut == 24) {
            assert_int_equal(r->rc, NT_ERR_NO_PACKETS);
        } else if (cut > 24) {
            size_t whole = (cut - 24) / 116;
            assert_int_equal(r->n, whole);
            assert_int_equal(r->rc, (cut - 24) % 116 ? NT_ERR_TRUNCATED : 0);
            if ((cut - 24) % 116)
                assert_non_null(strstr(r->err, "truncated"));
        }
        free(r);
    }
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_magics),
        cmocka_unit_test(test_classic_odd_times),
        cmocka_unit_test(test_classic_versions_and_lengths),
        cmocka_unit_test(test_classic_damage),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_pcapng_sections_interfaces),
        cmocka_unit_test(test_pcapng_plain),
        cmocka_unit_test(test_pcapng_mixed_and_damage),
        cmocka_unit_test(test_pcapng_byte_order_change),
        cmocka_unit_test(test_hostile_tsoffset),
        cmocka_unit_test(test_pcapng_time_cache),
        cmocka_unit_test(test_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
