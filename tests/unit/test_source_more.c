/* test_source_more.c: reading real captures: gzip-compressed inputs, nanosecond pcaps, pcapng
 * files with several interfaces (of one and of different link types), and IP fragments
 * reassembled into whole DNS messages (source then the flow stage, as the pipeline runs them).
 * Tests that use the shared corpora skip when absent. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "flow/flow.h"
#include "source/source.h"
#include "util/err.h"

#define CORPORA NT_SOURCE_DIR "/../shared/corpora"

static char *tmp_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/nt-test-source-more-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

static char *write_tmp(const uint8_t *data, size_t n)
{
    char *p = tmp_path();
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return p;
}

static char *write_gz(const uint8_t *data, size_t n)
{
    char *p = tmp_path();
    gzFile g = gzopen(p, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
    gzclose(g);
    return p;
}

struct run {
    int rc;
    uint64_t packets;
    struct source_stats st;
    struct flow_stats flow;
    enum source_kind kind;
    char err[SOURCE_ERROR_MAX];
};

/* Reads path to its end through the source and the flow stage; calls each (if set) for every
 * packet the flow stage hands on. */
static struct run read_all(const char *path, void (*each)(const struct packet *, void *), void *arg)
{
    struct run r;
    memset(&r, 0, sizeof r);
    struct source *s;
    r.rc = source_open(path, &s, r.err);
    if (r.rc < 0)
        return r;
    struct packet *pkt = calloc(1, sizeof *pkt);
    struct flow *fl = flow_new();
    assert_non_null(pkt);
    assert_non_null(fl);
    while ((r.rc = source_next(s, pkt)) == 1) {
        flow_packet(fl, pkt);
        do {
            if (each)
                each(pkt, arg);
        } while (flow_next(fl, pkt));
    }
    if (r.rc == 0)
        flow_finish(fl);
    r.flow = *flow_stats(fl);
    flow_free(fl);
    r.st = *source_stats(s);
    r.packets = r.st.packets;
    r.kind = source_kind(s);
    if (r.rc < 0)
        snprintf(r.err, sizeof r.err, "%s", source_error(s));
    source_close(s);
    free(pkt);
    return r;
}

static bool have(const char *path)
{
    return access(path, R_OK) == 0;
}

static void test_gzip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *pcap = tu_read_file("examples/port-unreachable.pcap", &len);
    char *p = write_gz(pcap, len);
    struct run r = read_all(p, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.packets, 12);
    assert_true(r.st.gzip);
    assert_int_equal(r.kind, SOURCE_PCAP);

    /* Cut the compressed file short: the packets before the cut stand, the error says why. */
    uint8_t z[4096];
    FILE *zf = fopen(p, "rb");
    assert_non_null(zf);
    size_t zlen = fread(z, 1, sizeof z, zf);
    fclose(zf);
    assert_true(zlen > 100 && zlen < sizeof z);
    unlink(p);
    p = write_tmp(z, zlen - 40);
    r = read_all(p, NULL, NULL);
    assert_int_equal(r.rc, NT_ERR_TRUNCATED);
    assert_true(r.packets > 0 && r.packets < 12);
    assert_non_null(strstr(r.err, "gzip-compressed data is truncated"));
    unlink(p);
    /* Damaged deflate data. */
    memset(z + 20, 0xff, 16);
    p = write_tmp(z, zlen);
    r = read_all(p, NULL, NULL);
    assert_true(r.rc < 0);
    assert_non_null(strstr(r.err, "gzip"));
    unlink(p);

    /* tcpdump text inside gzip is recognised as text. */
    uint8_t *txt = tu_read_file("examples/port-unreachable.txt", &len);
    p = write_gz(txt, len);
    r = read_all(p, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.kind, SOURCE_TEXT);
    assert_true(r.packets > 0);
    unlink(p);
    free(txt);

    /* A gzip of junk, and an empty gzip. */
    uint8_t junk[3000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + (i >> 3));
    p = write_gz(junk, sizeof junk);
    r = read_all(p, NULL, NULL);
    assert_int_equal(r.rc, NT_ERR_NOT_CAPTURE);
    assert_non_null(strstr(r.err, "after gzip decompression"));
    unlink(p);
    p = write_gz(junk, 0);
    r = read_all(p, NULL, NULL);
    assert_int_equal(r.rc, NT_ERR_EMPTY);
    unlink(p);
    free(pcap);
}

static void collect_ts(const struct packet *pkt, void *arg)
{
    struct nt_time *t = arg;
    if (pkt->num <= 3)
        t[pkt->num - 1] = pkt->ts;
}

static void test_nanosecond(void **state)
{
    (void)state;
    /* A hand-made big-endian nanosecond pcap: one raw IPv4 packet at 1.123456789. */
    static const uint8_t be_nano[] = {0xa1, 0xb2, 0x3c, 0x4d, 0, 2,   0,    4,    0,    0,    0,
                                      0,    0,    0,    0,    0, 0,   0,    0xff, 0xff, 0,    0,
                                      0,    101,  0,    0,    0, 1,   0x07, 0x5b, 0xcd, 0x15, 0,
                                      0,    0,    20,   0,    0, 0,   20, /* record header */
                                      0x45, 0,    0,    20,   0, 1,   0,    0,    64,   253,  0,
                                      0,    198,  51,   100,  1, 203, 0,    113,  1};
    char *p = write_tmp(be_nano, sizeof be_nano);
    struct nt_time t[3];
    memset(t, 0, sizeof t);
    struct run r = read_all(p, collect_ts, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(t[0].sec, 1);
    assert_int_equal(t[0].nsec, 123456789);
    unlink(p);

    /* tcpdump's own test capture; times as `tcpdump -tt --nano` prints them. */
    const char *corpus = CORPORA "/tcpdump/tcp-handshake-nano.pcap";
    if (!have(corpus))
        skip();
    memset(t, 0, sizeof t);
    r = read_all(corpus, collect_ts, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(t[0].sec, 1418145369);
    assert_int_equal(t[0].nsec, 924505488);
    assert_int_equal(t[1].sec, 1418145370);
    assert_int_equal(t[1].nsec, 52027262);
    assert_int_equal(t[2].sec, 1418145370);
    assert_int_equal(t[2].nsec, 52115157);
}

/* pcapng building blocks, little-endian. */
static size_t put32(uint8_t *b, size_t at, uint32_t v)
{
    b[at] = (uint8_t)v;
    b[at + 1] = (uint8_t)(v >> 8);
    b[at + 2] = (uint8_t)(v >> 16);
    b[at + 3] = (uint8_t)(v >> 24);
    return at + 4;
}

static size_t block(uint8_t *b, size_t at, uint32_t type, const uint8_t *body, size_t n)
{
    size_t pad = (4 - n % 4) % 4;
    uint32_t total = (uint32_t)(12 + n + pad);
    at = put32(b, at, type);
    at = put32(b, at, total);
    memcpy(b + at, body, n);
    memset(b + at + n, 0, pad);
    at += n + pad;
    return put32(b, at, total);
}

/* A DNS query for example.com (id 0x1234) in IPv4/UDP, 57 bytes. */
static size_t dns_query_ip(uint8_t *b)
{
    static const uint8_t q[] = {
        0x45, 0,    0,    57,  0,   1,   0,   0,   64,  17,   0,    0,   192, 0,   2, 1, 192, 0, 2,
        53,   0x9c, 0x40, 0,   53,  0,   37,  0,   0,   0x12, 0x34, 1,   0,   0,   1, 0, 0,   0, 0,
        0,    0,    7,    'e', 'x', 'a', 'm', 'p', 'l', 'e',  3,    'c', 'o', 'm', 0, 0, 1,   0, 1};
    memcpy(b, q, sizeof q);
    return sizeof q;
}

static size_t epb(uint8_t *b, size_t at, uint32_t ifc, uint64_t ts, const uint8_t *d, size_t n)
{
    uint8_t body[256];
    put32(body, 0, ifc);
    put32(body, 4, (uint32_t)(ts >> 32));
    put32(body, 8, (uint32_t)ts);
    put32(body, 12, (uint32_t)n);
    put32(body, 16, (uint32_t)n);
    memcpy(body + 20, d, n);
    return block(b, at, 6, body, 20 + n);
}

struct seen {
    int linktype[4];
    bool dns[4];
    struct nt_time ts[4];
};

static void collect_link(const struct packet *pkt, void *arg)
{
    struct seen *s = arg;
    if (pkt->num > 4)
        return;
    s->linktype[pkt->num - 1] = pkt->linktype;
    s->dns[pkt->num - 1] = (pkt->layers & PKT_L_DNS) != 0;
    s->ts[pkt->num - 1] = pkt->ts;
}

/* Builds a pcapng with an Ethernet interface (microseconds) and a second one of link type
 * second_lt (nanoseconds), one DNS query on each, the Ethernet one again last. */
static size_t mixed_pcapng(uint8_t *b, uint16_t second_lt)
{
    uint8_t body[64], ip[64], eth[128];
    size_t at = 0;
    static const uint8_t shb[] = {0x4d, 0x3c, 0x2b, 0x1a, 1,    0,    0,    0,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    at = block(b, at, 0x0a0d0d0a, shb, sizeof shb);
    static const uint8_t idb_eth[] = {1, 0, 0, 0, 0xff, 0xff, 0, 0};
    at = block(b, at, 1, idb_eth, sizeof idb_eth);
    memcpy(body,
           (uint8_t[]){(uint8_t)second_lt,
                       (uint8_t)(second_lt >> 8),
                       0,
                       0,
                       0xff,
                       0xff,
                       0,
                       0,
                       9,
                       0,
                       1,
                       0,
                       9,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0},
           20);
    at = block(b, at, 1, body, 20); /* if_tsresol = 9, then opt_endofopt */
    size_t n = dns_query_ip(ip);
    memset(eth, 0, 12);
    eth[12] = 0x08;
    eth[13] = 0x00;
    memcpy(eth + 14, ip, n);
    at = epb(b, at, 0, 1000001, eth, 14 + n);
    at = epb(b, at, 1, UINT64_C(2000000002), ip, n);
    at = epb(b, at, 0, 3000003, eth, 14 + n);
    return at;
}

static void test_pcapng_interfaces(void **state)
{
    (void)state;
    uint8_t b[1024];
    /* libpcap refuses the second interface (another link type); the fallback reader rereads
     * the file and decodes each packet with its own interface's link type and resolution. */
    size_t n = mixed_pcapng(b, 101);
    char *p = write_tmp(b, n);
    struct seen s;
    memset(&s, 0, sizeof s);
    struct run r = read_all(p, collect_link, &s);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.packets, 3);
    assert_true(r.st.pcapng_fallback);
    assert_int_equal(r.kind, SOURCE_PCAPNG);
    assert_int_equal(s.linktype[0], 1);
    assert_int_equal(s.linktype[1], 12); /* LINKTYPE_RAW (101) is DLT_RAW, as libpcap says */
    assert_int_equal(s.linktype[2], 1);
    assert_true(s.dns[0] && s.dns[1] && s.dns[2]);
    assert_int_equal(s.ts[0].sec, 1);
    assert_int_equal(s.ts[0].nsec, 1000);
    assert_int_equal(s.ts[1].sec, 2);
    assert_int_equal(s.ts[1].nsec, 2);
    assert_int_equal(s.ts[2].sec, 3);
    assert_int_equal(s.ts[2].nsec, 3000);

    /* Cut inside the last block: the packets before it stand. */
    char *q = write_tmp(b, n - 10);
    r = read_all(q, NULL, NULL);
    assert_int_equal(r.rc, NT_ERR_TRUNCATED);
    assert_int_equal(r.packets, 2);
    assert_non_null(strstr(r.err, "pcapng"));
    unlink(q);

    /* From a pipe the file cannot be reread: a clear message instead. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], b, n), (ssize_t)n);
    close(fds[1]);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    clearerr(stdin);
    r = read_all("-", NULL, NULL);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    assert_int_equal(r.rc, NT_ERR_CORRUPT);
    assert_int_equal(r.packets, 0); /* libpcap stops at the second interface's description */
    assert_non_null(strstr(r.err, "different from the type of the first interface"));
    assert_non_null(strstr(r.err, "pipe"));
    unlink(p);

    /* Several interfaces of one link type, from Zeek's tests: read by libpcap. */
    const char *zeek = CORPORA "/zeek/Traces/pcapng-multi-interface.pcapng";
    if (!have(zeek))
        skip();
    r = read_all(zeek, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.packets > 0);
    assert_false(r.st.pcapng_fallback);
}

/* An Ethernet pcap holding one DNS response of 100 bytes of UDP payload in three IPv4
 * fragments (48 + 48 + 12 bytes of the 108-byte UDP datagram), sent last fragment first. */
static size_t fragmented_pcap(uint8_t *b)
{
    static const uint8_t gh[] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    uint8_t udp[108];
    memset(udp, 0, sizeof udp);
    udp[0] = 0;
    udp[1] = 53;
    udp[2] = 0x9c;
    udp[3] = 0x40;
    udp[5] = 108;
    /* DNS: id 0x1234, response, one question example.com A, one answer A 192.0.2.80. */
    static const uint8_t dns[] = {0x12, 0x34, 0x81, 0x80, 0,   1,    0,   1,   0, 0,   0,   0,
                                  7,    'e',  'x',  'a',  'm', 'p',  'l', 'e', 3, 'c', 'o', 'm',
                                  0,    0,    1,    0,    1,   0xc0, 12,  0,   1, 0,   1,   0,
                                  0,    0x0e, 0x10, 0,    4,   192,  0,   2,   80};
    memcpy(udp + 8, dns, sizeof dns);
    /* The rest of the 100-byte message is zero padding after the one answer. */
    size_t at = 0;
    memcpy(b, gh, sizeof gh);
    at = sizeof gh;
    const uint32_t offs[3] = {96, 48, 0};
    const uint32_t lens[3] = {12, 48, 48};
    for (int i = 0; i < 3; i++) {
        size_t total = 20 + lens[i];
        size_t frame = 14 + total;
        put32(b, at, 100 + (uint32_t)i);
        put32(b, at + 4, 0);
        put32(b, at + 8, (uint32_t)frame);
        put32(b, at + 12, (uint32_t)frame);
        at += 16;
        memset(b + at, 0, 12);
        b[at + 12] = 0x08;
        b[at + 13] = 0;
        uint8_t *ip = b + at + 14;
        uint16_t fr = (uint16_t)((offs[i] + lens[i] < 108 ? 0x2000 : 0) | offs[i] / 8);
        const uint8_t h[20] = {0x45,
                               0,
                               0,
                               (uint8_t)total,
                               0xab,
                               0xcd,
                               (uint8_t)(fr >> 8),
                               (uint8_t)fr,
                               60,
                               17,
                               0,
                               0,
                               192,
                               0,
                               2,
                               53,
                               192,
                               0,
                               2,
                               1};
        memcpy(ip, h, 20);
        memcpy(ip + 20, udp + offs[i], lens[i]);
        at += frame;
    }
    return at;
}

struct frag_seen {
    uint32_t layers[3];
    uint64_t num_dns;
    int64_t sec_dns;
    uint8_t n_rr;
};

static void collect_frag(const struct packet *pkt, void *arg)
{
    struct frag_seen *f = arg;
    if (pkt->num <= 3)
        f->layers[pkt->num - 1] = pkt->layers;
    if (pkt->layers & PKT_L_DNS) {
        f->num_dns = pkt->num;
        f->sec_dns = pkt->ts.sec;
        f->n_rr = pkt->dns.n_rr;
    }
}

static void test_fragments(void **state)
{
    (void)state;
    uint8_t b[1024];
    size_t n = fragmented_pcap(b);
    char *p = write_tmp(b, n);
    struct frag_seen f;
    memset(&f, 0, sizeof f);
    struct run r = read_all(p, collect_frag, &f);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.packets, 3);
    /* The first two are fragments without transport; the third completes the datagram and is
     * the DNS response, with its own number and time. */
    assert_int_equal(f.layers[0], PKT_L_IP);
    assert_int_equal(f.layers[1], PKT_L_IP);
    assert_true(f.layers[2] & PKT_L_UDP);
    assert_int_equal(f.num_dns, 3);
    assert_int_equal(f.sec_dns, 102);
    assert_int_equal(f.n_rr, 1);
    assert_int_equal(r.flow.frag.fragments, 3);
    assert_int_equal(r.flow.frag.reassembled, 1);
    unlink(p);
    /* Without its last fragment the datagram never becomes DNS, and is counted. */
    memset(&f, 0, sizeof f);
    size_t cut = 24 + 16 + 14 + 20 + 12 + 16 + 14 + 20 + 48;
    p = write_tmp(b, cut);
    r = read_all(p, collect_frag, &f);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.packets, 2);
    assert_int_equal(f.num_dns, 0);
    assert_int_equal(r.flow.frag.incomplete, 1);
    assert_int_equal(r.flow.frag.lost_fragments, 2);
    unlink(p);
}

struct v6_seen {
    uint64_t responses;
    uint64_t last_num;
    uint16_t rcode;
    uint8_t n_rr;
    bool complete;
};

static void collect_v6(const struct packet *pkt, void *arg)
{
    struct v6_seen *v = arg;
    if ((pkt->layers & PKT_L_DNS) && (pkt->dns.flags & 0x8000)) {
        v->responses++;
        v->last_num = pkt->num;
        v->rcode = pkt->dns.rcode;
        v->n_rr = pkt->dns.n_rr;
        v->complete = pkt->dns.complete;
    }
}

static void test_corpus_fragments(void **state)
{
    (void)state;
    const char *v6 = CORPORA "/zeek/Traces/ipv6-fragmented-dns.pcap";
    const char *v4 = CORPORA "/other/dnscap/src/test/frags.pcap";
    if (!have(v6) || !have(v4))
        skip();
    /* Zeek's dns.log shows two answered TXT lookups; the second answer (packet 8) is in three
     * IPv6 fragments, and packet 4 is a lone fragment of an earlier answer. */
    struct v6_seen v;
    memset(&v, 0, sizeof v);
    struct run r = read_all(v6, collect_v6, &v);
    assert_int_equal(r.rc, 0);
    assert_int_equal(v.responses, 2);
    assert_int_equal(v.last_num, 8);
    assert_int_equal(v.rcode, 0);
    assert_int_equal(v.n_rr, 3);
    assert_true(v.complete);
    assert_int_equal(r.flow.frag.reassembled, 1);
    assert_int_equal(r.flow.frag.incomplete, 1);
    /* dnscap's frags.pcap: dns.pcap's 41 queries and 41 responses, every one fragmented. */
    memset(&v, 0, sizeof v);
    r = read_all(v4, collect_v6, &v);
    assert_int_equal(r.rc, 0);
    assert_int_equal(v.responses, 41);
    assert_int_equal(r.flow.frag.reassembled, 82);
    assert_int_equal(r.flow.frag.incomplete, 0);
}

/* Reads path to its end; checks that the bytes read never go back, stay within the size, and
 * end at the size (want_total, or -1 when no size is known). */
static void check_position(const char *path, int64_t want_total, uint64_t want_end)
{
    char err[SOURCE_ERROR_MAX];
    struct source *s;
    assert_int_equal(source_open(path, &s, err), 0);
    assert_true(source_bytes_total(s) == want_total);
    struct packet *pkt = calloc(1, sizeof *pkt);
    assert_non_null(pkt);
    uint64_t last = 0;
    int rc;
    while ((rc = source_next(s, pkt)) == 1) {
        uint64_t at = source_bytes_read(s);
        assert_true(at >= last);
        assert_true(at > 0);
        assert_true(want_total < 0 || at <= (uint64_t)want_total);
        last = at;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(source_bytes_read(s), want_end);
    source_close(s);
    free(pkt);
}

/* How far the reading got (the progress line): the native pcap reader, libpcap's path, tcpdump
 * text and gzip (compressed bytes against the compressed size) all end at the file's size. */
static void test_bytes_read(void **state)
{
    (void)state;
    size_t len;
    uint8_t *pcap = tu_read_file("examples/port-unreachable.pcap", &len);
    char *p = write_tmp(pcap, len);
    check_position(p, (int64_t)len, len);
    setenv("NETTRIAGE_READER", "libpcap", 1);
    check_position(p, (int64_t)len, len);
    unsetenv("NETTRIAGE_READER");
    unlink(p);
    uint8_t *text = tu_read_file("examples/port-unreachable.txt", &len);
    p = write_tmp(text, len);
    check_position(p, (int64_t)len, len);
    unlink(p);
    p = write_gz(text, len);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long gz_len = ftell(f);
    fclose(f);
    check_position(p, gz_len, (uint64_t)gz_len);
    unlink(p);
    free(pcap);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_nanosecond),
        cmocka_unit_test(test_pcapng_interfaces),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_corpus_fragments),
        cmocka_unit_test(test_bytes_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
