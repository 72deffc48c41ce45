/* test_dns.c: the DNS message parser (RFC 1035): names, limits, records, EDNS, tables. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/evidence.h"
#include "decode/decode.h"
#include "util/dnstext.h"

/* A small builder for hand-made messages. */
struct mb {
    uint8_t b[70000];
    size_t n;
};

static void put8(struct mb *m, unsigned v)
{
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct mb *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void put32(struct mb *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

static void putmem(struct mb *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* Writes a dotted name as uncompressed labels (no escapes; "" or "." is the root). */
static void putname(struct mb *m, const char *s)
{
    while (*s && strcmp(s, ".") != 0) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        put8(m, (unsigned)len);
        putmem(m, s, len);
        s += len;
        if (*s == '.')
            s++;
    }
    put8(m, 0);
}

static void header(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar)
{
    m->n = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

static void rr_head(struct mb *m, const char *owner, unsigned type, unsigned rclass, uint32_t ttl,
                    unsigned rdlen)
{
    putname(m, owner);
    put16(m, type);
    put16(m, rclass);
    put32(m, ttl);
    put16(m, rdlen);
}

/* An example.com SOA record (ns1.example.com, hostmaster.example.com), with the first
 * `numbers` of its five numbers (fewer than five: data cut short), its RDLENGTH what it holds. */
static void soa_record(struct mb *m, int numbers)
{
    static const uint32_t v[5] = {2024010101, 7200, 3600, 1209600, 300};
    rr_head(m, "example.com", 6, 1, 900, 0);
    size_t rdl = m->n - 2;
    size_t start = m->n;
    putname(m, "ns1.example.com");
    putname(m, "hostmaster.example.com");
    for (int i = 0; i < numbers; i++)
        put32(m, v[i]);
    m->b[rdl] = (uint8_t)((m->n - start) >> 8);
    m->b[rdl + 1] = (uint8_t)(m->n - start);
}

static struct dns_msg msg;
static struct packet pkt;

static bool parse(const uint8_t *b, size_t n)
{
    packet_reset(&pkt);
    struct cursor c = cur_make(b, n);
    return dns_parse_message(&c, &msg, &pkt);
}

/* As parse, with every record's data as text (authority and additional too). */
static bool parse_all_text(const uint8_t *b, size_t n)
{
    packet_reset(&pkt);
    struct cursor c = cur_make(b, n);
    return dns_parse_message_all_text(&c, &msg, &pkt);
}

/* Record i's data as text (an address kept as bytes formatted, as dns_rr_data does). */
static const char *rr_data(size_t i)
{
    static char buf[DNS_RR_ADDR_TEXT_MAX];
    return dns_rr_data(&msg.rr[i], buf);
}

static void test_query_from_sample(void **state)
{
    (void)state;
    /* The DNS payload of the first query in samples/kernel-port-unreachable.pcap. */
    uint8_t b[128];
    size_t n = tu_hex("446a 0120 0001 0000 0000 0001"
                      "11 79756d6d7972656369706573666f726d65 03 636f6d 00 0001 0001"
                      "00 0029 04d0 0000 0000 000c 000a 0008 0102030405060708",
                      b, sizeof b);
    assert_int_equal(n, 62);
    assert_true(parse(b, n));
    assert_int_equal(msg.id, 17514);
    assert_int_equal(msg.flags, 0x0120);
    assert_true(msg.has_question);
    assert_string_equal(msg.q.name.text, "yummyrecipesforme.com.");
    assert_int_equal(msg.q.name.len, strlen("yummyrecipesforme.com."));
    assert_int_equal(msg.q.qtype, DNS_TYPE_A);
    assert_int_equal(msg.q.qclass, 1);
    assert_true(msg.has_opt);
    assert_int_equal(msg.edns_udp_size, 1232);
    assert_false(msg.edns_do);
    assert_int_equal(msg.n_rr, 0); /* OPT is not kept as a record */
    assert_int_equal(msg.n_rr_seen, 1);
    assert_true(msg.complete);
    assert_int_equal(msg.length, 62);
    assert_int_equal(pkt.n_anomalies, 0);
}

static void test_response_with_compression(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 0x1234, 0x8180, 1, 2, 0, 0);
    putname(m, "www.example.com");
    put16(m, 1);
    put16(m, 1);
    /* www.example.com CNAME -> web.example.com (compressed suffix) */
    put16(m, 0xc00c);
    put16(m, 5);
    put16(m, 1);
    put32(m, 300);
    put16(m, 6);
    put8(m, 3);
    putmem(m, "web", 3);
    put16(m, 0xc010); /* -> example.com */
    size_t web = m->n - 6;
    put16(m, 0xc000 | (unsigned)web);
    put16(m, 1);
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    putmem(m, "\xc6\x33\x64\x07", 4);
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(msg.n_rr, 2);
    assert_string_equal(msg.rr[0].name.text, "www.example.com.");
    assert_int_equal(msg.rr[0].type, DNS_TYPE_CNAME);
    assert_string_equal(rr_data(0), "web.example.com.");
    assert_int_equal(msg.rr[0].section, DNS_SEC_ANSWER);
    assert_string_equal(msg.rr[1].name.text, "web.example.com.");
    assert_string_equal(rr_data(1), "198.51.100.7");
    assert_int_equal(msg.rr[1].ttl, 60);
    assert_int_equal(pkt.n_anomalies, 0);
}

/* A record's name that is only a pointer to the question's name takes the question's text (the
 * parser copies it when the question was read without pointers): the same text as reading it,
 * also for escaped bytes, mixed case, a prefix before the pointer, and a question whose own
 * name ends in a pointer. */
static void test_record_names_pointing_at_the_question(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 0x4321, 0x8180, 1, 3, 0, 0);
    put8(m, 4);
    putmem(m, "W\001w.", 4); /* a label with a control byte and a dot in it */
    putname(m, "Example.COM");
    put16(m, 1);
    put16(m, 1);
    for (int i = 0; i < 2; i++) {
        put16(m, 0xc00c);
        put16(m, 1);
        put16(m, 1);
        put32(m, 60);
        put16(m, 4);
        putmem(m, "\xc6\x33\x64\x07", 4);
    }
    put8(m, 3); /* "foo" then the question's name */
    putmem(m, "foo", 3);
    put16(m, 0xc00c);
    put16(m, 1);
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    putmem(m, "\xc6\x33\x64\x08", 4);
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_string_equal(msg.q.name.text, "W\\001w\\..Example.COM.");
    assert_int_equal(msg.n_rr, 3);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(msg.rr[i].name.text, msg.q.name.text);
        assert_int_equal(msg.rr[i].name.len, strlen(msg.q.name.text));
        assert_true(msg.rr[i].owner_is_question);
    }
    assert_string_equal(msg.rr[2].name.text, "foo.W\\001w\\..Example.COM.");
    assert_false(msg.rr[2].owner_is_question);
    assert_int_equal(pkt.n_anomalies, 0);

    /* The question's name "a" then a pointer into the header (offset 4: QDCOUNT's first byte,
     * 0, the root): the record's pointer to it follows both pointers. */
    uint8_t b[64];
    size_t n = tu_hex("0001 8100 0001 0001 0000 0000"
                      "01 61 c004 0001 0001"                   /* q at 12: "a" then -> 4 */
                      "c00c 0001 0001 00000001 0004 01020304", /* rr name -> 12 */
                      b, sizeof b);
    assert_true(parse(b, n));
    assert_true(msg.complete);
    assert_string_equal(msg.q.name.text, "a.");
    assert_int_equal(msg.n_rr, 1);
    assert_string_equal(msg.rr[0].name.text, "a.");
    assert_false(msg.rr[0].owner_is_question); /* read, not copied */
    assert_int_equal(pkt.n_anomalies, 0);
}

/* The evidence of an answer keeps each answer-section record's owner and data as the decoder
 * gave them: owners that point at the question share the question's copy, the others
 * (literal, pointing at a CNAME's data, with a prefix) have their own; a deep copy gives the
 * same; a packet whose records do not say so (tcpdump text) copies every owner. */
static void test_answer_evidence_keeps_owners(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 7, 0x8180, 1, 5, 1, 0);
    putname(m, "www.Example.org"); /* at 12 */
    put16(m, 1);
    put16(m, 1);
    size_t cname_at = m->n + 12; /* the CNAME's data, after its 2-byte owner and 10 bytes */
    put16(m, 0xc00c);            /* www.Example.org. CNAME edge.cdn.example. */
    put16(m, DNS_TYPE_CNAME);
    put16(m, 1);
    put32(m, 60);
    put16(m, 18);
    putname(m, "edge.cdn.example");
    put16(m, 0xc000 | (unsigned)cname_at); /* edge.cdn.example. A 192.0.2.1 */
    put16(m, DNS_TYPE_A);
    put16(m, 1);
    put32(m, 20);
    put16(m, 4);
    putmem(m, "\xc0\x00\x02\x01", 4);
    put16(m, 0xc00c); /* www.Example.org. AAAA 2001:db8::1 */
    put16(m, DNS_TYPE_AAAA);
    put16(m, 1);
    put32(m, 30);
    put16(m, 16);
    putmem(m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    put8(m, 1); /* x.www.Example.org. A 192.0.2.2 */
    putmem(m, "x", 1);
    put16(m, 0xc00c);
    put16(m, DNS_TYPE_A);
    put16(m, 1);
    put32(m, 40);
    put16(m, 4);
    putmem(m, "\xc0\x00\x02\x02", 4);
    rr_head(m, "other.example", DNS_TYPE_A, 1, 50, 4); /* literal owner */
    putmem(m, "\xc0\x00\x02\x03", 4);
    put16(m, 0xc00c); /* authority: not in the evidence */
    put16(m, DNS_TYPE_NS);
    put16(m, 1);
    put32(m, 60);
    put16(m, 2);
    put16(m, 0xc000 | (unsigned)cname_at);

    struct packet *p = calloc(1, sizeof *p);
    assert_non_null(p);
    packet_reset(p);
    struct cursor c = cur_make(m->b, m->n);
    assert_true(dns_parse_message(&c, &p->dns, p));
    assert_true(p->dns.complete);
    assert_int_equal(p->n_anomalies, 0);
    p->layers = PKT_L_IP | PKT_L_UDP | PKT_L_DNS;
    assert_int_equal(p->dns.n_rr, 6);
    static const bool is_q[6] = {true, false, true, false, false, true};
    for (int i = 0; i < 6; i++)
        assert_int_equal(p->dns.rr[i].owner_is_question, is_q[i]);
    static const char *const want_name[5] = {"www.Example.org.", "edge.cdn.example.",
                                             "www.Example.org.", "x.www.Example.org.",
                                             "other.example."};
    static const char *const want_data[5] = {"edge.cdn.example.", "192.0.2.1", "2001:db8::1",
                                             "192.0.2.2", "192.0.2.3"};
    char buf[DNS_RR_ADDR_TEXT_MAX];
    for (int round = 0; round < 2; round++) {
        if (round == 1) /* as the text reader leaves them: no record says it */
            for (int i = 0; i < 6; i++)
                p->dns.rr[i].owner_is_question = false;
        struct evidence ev, copy;
        assert_true(evidence_from_packet(&ev, p, 0, EV_ANSWER));
        assert_true(evidence_copy(&copy, &ev));
        for (int k = 0; k < 2; k++) {
            const struct evidence *e = k ? &copy : &ev;
            assert_string_equal(e->qname, "www.Example.org.");
            assert_int_equal(e->n_answers, 5);
            for (int i = 0; i < 5; i++) {
                assert_string_equal(e->answers[i].name, want_name[i]);
                assert_string_equal(evidence_rr_data(&e->answers[i], buf), want_data[i]);
                assert_int_equal(e->answers[i].type, p->dns.rr[i].type);
                assert_int_equal(e->answers[i].ttl, p->dns.rr[i].ttl);
            }
            /* every string lies inside the evidence's one block */
            const char *lo = e->store, *hi = lo + 4096;
            for (int i = 0; i < 5; i++)
                assert_true(e->answers[i].name >= lo && e->answers[i].name < hi);
        }
        evidence_fini(&ev);
        evidence_fini(&copy);
    }
    free(p);
}

/* A name that is only a pointer to a name read earlier in the message is copied, not read
 * again: the copy must be what reading it gives, for a CNAME chain (owners pointing at the
 * previous record's data), for a name whose slot was not kept (an OPT's owner), and not when
 * the one more jump would pass the limit. */
static void test_names_pointing_at_earlier_names(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 7, 0x8180, 1, 5, 0, 3);
    putname(m, "telemetry.example.org");
    put16(m, 1);
    put16(m, 1);
    put16(m, 0xc00c);
    put16(m, 5);
    put16(m, 1);
    put32(m, 300);
    put16(m, 25);
    size_t t1 = m->n;
    putname(m, "p547.trafficmanager.net"); /* 25 bytes */
    put16(m, 0xc000 | (unsigned)t1);
    put16(m, 5);
    put16(m, 1);
    put32(m, 300);
    put16(m, 11);
    size_t t2 = m->n;
    put8(m, 5);
    putmem(m, "e1979", 5);
    put8(m, 2);
    putmem(m, "a6", 2);
    put16(m, 0xc000 | (unsigned)(t1 + 20)); /* -> "net." inside the first target */
    for (int i = 0; i < 3; i++) {
        put16(m, 0xc000 | (unsigned)t2);
        put16(m, 1);
        put16(m, 1);
        put32(m, 60);
        put16(m, 4);
        put32(m, 0xc0000200u + (uint32_t)i);
    }
    /* additional: an OPT whose owner is not the root, a record reusing its slot, and one
     * pointing at the OPT's owner */
    size_t opt_owner = m->n;
    rr_head(m, "x", 41, 1232, 0, 0);
    rr_head(m, "yy", 1, 1, 60, 4);
    put32(m, 0x01020304);
    put16(m, 0xc000 | (unsigned)opt_owner);
    put16(m, 1);
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    put32(m, 0x01020305);
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(msg.n_rr, 7);
    assert_string_equal(rr_data(0), "p547.trafficmanager.net.");
    assert_string_equal(msg.rr[1].name.text, "p547.trafficmanager.net.");
    assert_int_equal(msg.rr[1].name.len, strlen("p547.trafficmanager.net."));
    assert_string_equal(rr_data(1), "e1979.a6.net.");
    for (int i = 2; i < 5; i++) {
        assert_string_equal(msg.rr[i].name.text, "e1979.a6.net.");
        assert_int_equal(msg.rr[i].name.len, strlen("e1979.a6.net."));
    }
    assert_string_equal(rr_data(4), "192.0.2.2");
    assert_string_equal(msg.rr[5].name.text, "yy.");
    assert_string_equal(msg.rr[6].name.text, "x.");
    assert_true(msg.has_opt);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_OPT_BAD_OWNER));
    assert_int_equal(pkt.n_anomalies, 1);

    /* 127 pointers, each to the one before, down to the root: the name at the last takes 127
     * jumps, a record's owner pointing at it 128 (the most allowed), and one pointing at that
     * owner would take 129. */
    header(m, 8, 0x8180, 1, 3, 0, 0);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    put8(m, 0);
    put16(m, 99);
    put16(m, 1);
    put32(m, 60);
    put16(m, 1 + 2 * 127);
    size_t prev = m->n;
    put8(m, 0);
    for (int i = 0; i < 127; i++) {
        size_t here = m->n;
        put16(m, 0xc000 | (unsigned)prev);
        prev = here;
    }
    size_t owner2 = m->n;
    put16(m, 0xc000 | (unsigned)prev);
    put16(m, 1);
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    put32(m, 0x01020304);
    put16(m, 0xc000 | (unsigned)owner2);
    put16(m, 1);
    put16(m, 1);
    put32(m, 60);
    put16(m, 4);
    put32(m, 0x01020305);
    assert_true(parse(m->b, m->n));
    assert_false(msg.complete);
    assert_int_equal(msg.n_rr, 2);
    assert_string_equal(msg.rr[1].name.text, ".");
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_COMPRESSION_LOOP));
}

static void test_pointer_loops_and_forward_pointers(void **state)
{
    (void)state;
    uint8_t b[64];
    /* Question name is a pointer to itself (offset 12). */
    size_t n = tu_hex("0001 0100 0001 0000 0000 0000 c00c 0001 0001", b, sizeof b);
    assert_true(parse(b, n));
    assert_false(msg.has_question);
    assert_false(msg.complete);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));

    /* A forward pointer (to offset 20, after the name). */
    n = tu_hex("0001 0100 0001 0000 0000 0000 c014 0001 0001 0000 01 61 00", b, sizeof b);
    assert_true(parse(b, n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));

    /* Two names pointing at each other: the second jump is not strictly backwards. */
    n = tu_hex("0001 8100 0001 0001 0000 0000"
               "01 61 c01a 0001 0001"                  /* q at 12: "a" then -> 26 */
               "c00c 0001 0001 00000001 0004 01020304" /* rr name at 22 -> 12 */
               "01 62 c00c",                           /* 32.. (unused) */
               b, sizeof b);
    assert_true(parse(b, n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));

    /* The classic loop: a pointer at offset 14 back to 12, whose label runs into it. */
    n = tu_hex("0001 0100 0001 0000 0000 0000 01 61 c00c 0001 0001", b, sizeof b);
    assert_true(parse(b, n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));

    /* A pointer past the end of the message. */
    n = tu_hex("0001 0100 0001 0000 0000 0000 ffff", b, sizeof b);
    assert_true(parse(b, n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));
}

static void test_chain_of_backward_pointers_terminates(void **state)
{
    (void)state;
    /* 200 labels "a" each ending in a pointer to the previous one: legal pointers, but the
     * name grows past 255 octets, which must stop the walk. */
    struct mb *m = &(struct mb){0};
    header(m, 1, 0x0100, 1, 0, 0, 0);
    size_t prev = m->n;
    put8(m, 1);
    put8(m, 'a');
    put8(m, 0);
    for (int i = 0; i < 200; i++) {
        size_t here = m->n;
        put8(m, 1);
        put8(m, 'a');
        put16(m, 0xc000 | (unsigned)prev);
        prev = here;
    }
    size_t qpos = m->n;
    put16(m, 0xc000 | (unsigned)prev);
    put16(m, 1);
    put16(m, 1);
    /* Make the question the last name: rewrite the header so qdcount points at it by putting
     * the chain before it as junk the parser never sees as a question: parse from a name
     * reader directly instead. */
    struct cursor whole = cur_make(m->b, m->n);
    struct cursor c = whole;
    c.off = qpos;
    struct dns_name name;
    packet_reset(&pkt);
    assert_false(dns_read_name(&c, &whole, &name, &pkt));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_NAME_TOO_LONG));
    assert_true(name.len < DNS_NAME_TEXT_MAX);
    assert_int_equal(strlen(name.text), name.len);
}

static void test_label_and_name_limits(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    char label[64];
    memset(label, 'x', 63);
    label[63] = '\0';

    /* 63-octet label: fine. */
    header(m, 1, 0x0100, 1, 0, 0, 0);
    put8(m, 63);
    putmem(m, label, 63);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    assert_true(parse(m->b, m->n));
    assert_true(msg.has_question);
    assert_int_equal(msg.q.name.len, 64);

    /* 64 has the 0x40 bit: an extended label type, rejected. */
    header(m, 1, 0x0100, 1, 0, 0, 0);
    put8(m, 64);
    putmem(m, label, 63);
    put8(m, 'x');
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    assert_true(parse(m->b, m->n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_LABEL_TYPE));

    /* 0x80 label type. */
    uint8_t b[32];
    size_t n = tu_hex("0001 0100 0001 0000 0000 0000 80 0001 0001", b, sizeof b);
    assert_true(parse(b, n));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_LABEL_TYPE));

    /* Exactly 255 octets: 3 labels of 63 and one of 61 (4*1 + 63*3 + 61 + 1 = 255). */
    header(m, 1, 0x0100, 1, 0, 0, 0);
    for (int i = 0; i < 3; i++) {
        put8(m, 63);
        putmem(m, label, 63);
    }
    put8(m, 61);
    putmem(m, label, 61);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    assert_true(parse(m->b, m->n));
    assert_true(msg.has_question);
    assert_int_equal(msg.q.name.len, 63 * 3 + 61 + 4);

    /* 256 octets: one more. */
    header(m, 1, 0x0100, 1, 0, 0, 0);
    for (int i = 0; i < 3; i++) {
        put8(m, 63);
        putmem(m, label, 63);
    }
    put8(m, 62);
    putmem(m, label, 62);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    assert_true(parse(m->b, m->n));
    assert_false(msg.has_question);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_NAME_TOO_LONG));
}

static void test_counts_larger_than_packet(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = tu_hex("0001 8180 ffff ffff ffff ffff 00 0001 0001", b, sizeof b);
    assert_true(parse(b, n));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_COUNTS_EXCEED_MESSAGE));
    assert_false(msg.complete);
    assert_int_equal(msg.qdcount, 0xffff);
    assert_true(msg.has_question);
    assert_string_equal(msg.q.name.text, ".");

    /* Short header. */
    n = tu_hex("0001 8180 0001", b, sizeof b);
    assert_false(parse(b, n));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_TRUNCATED));
    assert_false(parse(b, 0));
}

static void test_every_record_type(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 7, 0x8580, 1, 9, 1, 2);
    putname(m, "example.com");
    put16(m, 255);
    put16(m, 1);
    rr_head(m, "example.com", 1, 1, 3600, 4);
    putmem(m, "\xc0\x00\x02\x01", 4);
    rr_head(m, "example.com", 28, 1, 3600, 16);
    putmem(m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    rr_head(m, "example.com", 2, 1, 3600, 0);
    m->b[m->n - 1] = 17; /* rdlength of the NS name below */
    putname(m, "ns1.example.com");
    rr_head(m, "www.example.com", 5, 1, 3600, 2);
    put16(m, 0xc00c);
    rr_head(m, "1.2.0.192.in-addr.arpa", 12, 1, 3600, 2);
    put16(m, 0xc00c);
    rr_head(m, "example.com", 15, 1, 3600, 4);
    put16(m, 10);
    put16(m, 0xc00c);
    rr_head(m, "example.com", 16, 1, 3600, 25);
    put8(m, 11);
    putmem(m, "v=spf1 -all", 11);
    put8(m, 12);
    putmem(m, "say \"hi\" \\ \x01", 12);
    rr_head(m, "_sip._udp.example.com", 33, 1, 3600, 8);
    put16(m, 5);
    put16(m, 10);
    put16(m, 5060);
    put16(m, 0xc00c);
    rr_head(m, "example.com", 99, 1, 3600, 3); /* SPF: not parsed, RFC 3597 form */
    putmem(m, "\x02\xab\xcd", 3);
    /* authority SOA */
    soa_record(m, 5);
    /* additional: OPT with extended rcode 1 (BADVERS = 16 with header rcode 0), version 0, DO */
    putname(m, ".");
    put16(m, 41);
    put16(m, 4096);
    put32(m, 0x01008000);
    put16(m, 0);
    /* additional: an unknown type with empty rdata */
    rr_head(m, "example.com", 65280, 1, 0, 0);

    assert_true(parse_all_text(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(pkt.n_anomalies, 0);
    assert_int_equal(msg.n_rr, 11);
    assert_int_equal(msg.n_rr_seen, 12);
    const char *want[11] = {
        "192.0.2.1",
        "2001:db8::1",
        "ns1.example.com.",
        "example.com.",
        "example.com.",
        "10 example.com.",
        "\"v=spf1 -all\" \"say \\\"hi\\\" \\\\ \\001\"",
        "5 10 5060 example.com.",
        "\\# 3 02ABCD",
        "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300",
        "\\# 0",
    };
    for (int i = 0; i < 11; i++)
        assert_string_equal(rr_data(i), want[i]);
    assert_int_equal(msg.rr[9].section, DNS_SEC_AUTHORITY);
    assert_int_equal(msg.rr[10].section, DNS_SEC_ADDITIONAL);
    assert_string_equal(msg.rr[7].name.text, "_sip._udp.example.com.");
    assert_true(msg.has_opt);
    assert_int_equal(msg.edns_udp_size, 4096);
    assert_true(msg.edns_do);
    assert_int_equal(msg.edns_version, 0);
    assert_int_equal(msg.rcode, 16);
    char buf[16];
    assert_string_equal(dns_rcode_name(msg.rcode, buf, sizeof buf), "BADVERS");

    /* dns_parse_message: the same records, sections and anomalies, the answers' data as
     * text, the authority SOA's and the additional record's data not. */
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(pkt.n_anomalies, 0);
    assert_int_equal(msg.n_rr, 11);
    assert_int_equal(msg.n_rr_seen, 12);
    for (int i = 0; i < 9; i++)
        assert_string_equal(rr_data(i), want[i]);
    assert_int_equal(msg.rr[9].section, DNS_SEC_AUTHORITY);
    assert_int_equal(msg.rr[9].type, 6);
    assert_int_equal(msg.rr[9].rdlength, 61);
    assert_string_equal(rr_data(9), "");
    assert_string_equal(rr_data(10), "");
    assert_int_equal(msg.rcode, 16);
}

/* Outside the answer section, data without text is still checked: a SOA cut short in the
 * authority section is the same anomaly either way, and an NS name there is read (its text
 * kept, as a later owner name may point to it). */
static void test_authority_checked_without_text(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 9, 0x8183, 0, 0, 2, 1);
    soa_record(m, 2); /* three of the five numbers missing */
    rr_head(m, "example.com", 2, 1, 900, 17);
    size_t ns_at = m->n;
    putname(m, "ns2.example.com");
    put16(m, (uint16_t)(0xc000 | ns_at)); /* additional glue, owned by the NS data's name */
    put16(m, 1);
    put16(m, 1);
    put32(m, 900);
    put16(m, 4);
    putmem(m, "\xc0\x00\x02\x35", 4);
    for (int all = 0; all < 2; all++) {
        assert_true(all ? parse_all_text(m->b, m->n) : parse(m->b, m->n));
        assert_true(msg.complete);
        assert_int_equal(msg.n_rr, 3);
        assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_RDATA));
        assert_int_equal(pkt.n_anomalies, 1);
        if (all)
            assert_non_null(strstr(rr_data(0), "\\# "));
        else
            assert_string_equal(rr_data(0), "");
        assert_string_equal(rr_data(1), "ns2.example.com.");
        assert_string_equal(msg.rr[2].name.text, "ns2.example.com.");
        assert_string_equal(rr_data(2), "192.0.2.53");
    }
}

static void test_bad_rdata_falls_back(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 7, 0x8180, 0, 2, 0, 0);
    rr_head(m, "a", 1, 1, 1, 3); /* an A record of 3 bytes */
    putmem(m, "\x01\x02\x03", 3);
    rr_head(m, "b", 5, 1, 1, 3); /* CNAME with a truncated name inside its rdata */
    putmem(m, "\x05\x61\x62", 3);
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(msg.n_rr, 2);
    assert_string_equal(rr_data(0), "\\# 3 010203");
    assert_string_equal(rr_data(1), "\\# 3 056162");
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_RDATA));

    /* rdlength past the end of the message. */
    header(m, 7, 0x8180, 0, 1, 0, 0);
    rr_head(m, "a", 1, 1, 1, 40);
    putmem(m, "\x01\x02\x03\x04", 4);
    assert_true(parse(m->b, m->n));
    assert_false(msg.complete);
    assert_int_equal(msg.n_rr, 0);
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_RDATA_TRUNCATED));
}

/* A dynamic update (RFC 2136) states prerequisites and deletes records with class NONE or ANY
 * and no RDATA, whatever the type (zeek's dns/dynamic-update.pcap, Windows clients): well
 * formed, so no anomaly; the same empty RDATA in class IN is still bad. */
static void test_update_empty_rdata(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 9, 0x2800, 1, 1, 2, 0); /* UPDATE: zone, 1 prerequisite, 2 updates */
    putname(m, "example.org");
    put16(m, 6);
    put16(m, 1);
    rr_head(m, "www.example.org", 5, 254, 0, 0);  /* CNAME, class NONE: must not exist */
    rr_head(m, "www.example.org", 28, 255, 0, 0); /* AAAA, class ANY: delete the RRset */
    rr_head(m, "www.example.org", 1, 255, 0, 0);  /* A, class ANY */
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(pkt.n_anomalies, 0);
    assert_string_equal(rr_data(0), "\\# 0");

    header(m, 9, 0x8180, 0, 1, 0, 0);
    rr_head(m, "a", 5, 1, 1, 0); /* CNAME in class IN with no name */
    assert_true(parse(m->b, m->n));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_RDATA));
}

static void test_kept_records_are_bounded(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 9, 0x8180, 0, 40, 0, 0);
    for (int i = 0; i < 40; i++) {
        rr_head(m, "h", 1, 1, (uint32_t)i, 4);
        put32(m, 0x0a000000u | (uint32_t)i);
    }
    assert_true(parse(m->b, m->n));
    assert_true(msg.complete);
    assert_int_equal(msg.n_rr, DNS_MAX_KEPT_RR);
    assert_int_equal(msg.n_rr_seen, 40);
    assert_string_equal(rr_data(15), "10.0.0.15");
}

static void test_long_rdata_is_cut(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 9, 0x8180, 0, 1, 0, 0);
    rr_head(m, "t", 16, 1, 1, 2 * 256);
    for (int i = 0; i < 2; i++) {
        put8(m, 255);
        for (int k = 0; k < 255; k++)
            put8(m, 'a');
    }
    assert_true(parse(m->b, m->n));
    size_t len = strlen(rr_data(0));
    assert_true(len < DNS_RDATA_TEXT_MAX);
    assert_string_equal(rr_data(0) + len - 3, "...");
}

static void test_hostile_names_are_escaped(void **state)
{
    (void)state;
    struct mb *m = &(struct mb){0};
    header(m, 1, 0x0100, 1, 0, 0, 0);
    const char lab1[] = "<script>alert(1)</script>";
    const uint8_t lab2[] = {'a', '|', 'b', '\n', 0, 0x1b, '[', '3', '1', 'm', '.', '\\', ' ', 0xff};
    put8(m, sizeof lab1 - 1);
    putmem(m, lab1, sizeof lab1 - 1);
    put8(m, sizeof lab2);
    putmem(m, lab2, sizeof lab2);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
    assert_true(parse(m->b, m->n));
    assert_true(msg.has_question);
    assert_string_equal(msg.q.name.text, "\\<script\\>alert\\(1\\)\\<\\/script\\>."
                                         "a\\124b\\010\\000\\027\\[31m\\.\\\\\\032\\255.");
    for (const char *p = msg.q.name.text; *p; p++)
        assert_true(*p > 0x20 && *p < 0x7f);
}

/* Labels of every length up to 20, all plain or with one byte to escape at each place (the
 * decoder copies runs of four plain bytes whole): the text is the bytes one by one through
 * nt_label_byte. */
static void test_label_runs_match_bytewise(void **state)
{
    (void)state;
    static const uint8_t odd[] = {'.', 0, 0xff, ' ', '\\', '*'};
    for (size_t len = 1; len <= 20; len++)
        for (size_t at = 0; at <= len; at++) /* at == len: every byte plain */
            for (size_t k = 0; k < (at == len ? 1 : sizeof odd); k++) {
                uint8_t lab[20];
                for (size_t i = 0; i < len; i++)
                    lab[i] = (uint8_t) "aZ09-_xy"[(i * 5 + len) % 8];
                if (at < len)
                    lab[at] = odd[k];
                struct mb *m = &(struct mb){0};
                header(m, 1, 0x0100, 1, 0, 0, 0);
                put8(m, (unsigned)len);
                putmem(m, lab, len);
                putname(m, "example");
                put16(m, 1);
                put16(m, 1);
                assert_true(parse(m->b, m->n));
                char want[128], *d = want;
                for (size_t i = 0; i < len; i++)
                    d = nt_label_byte(d, lab[i]);
                memcpy(d, ".example.", sizeof ".example.");
                assert_string_equal(msg.q.name.text, want);
                assert_int_equal(msg.q.name.len, strlen(want));
            }
}

/* Every byte value at the start, middle and end of labels of up to 17 bytes, read where 16
 * bytes and more follow the label (the decoder checks and copies a label of at most 16 bytes
 * as one block then) and where they do not: the text is the bytes one by one through
 * nt_label_byte. */
static void test_every_byte_in_a_label(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 3, 7, 15, 16, 17};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (int room = 0; room < 2; room++)
            for (unsigned v = 0; v < 256; v++) {
                size_t len = lens[li];
                size_t ats[3] = {0, len / 2, len - 1};
                for (int ai = 0; ai < 3; ai++) {
                    uint8_t lab[17];
                    for (size_t i = 0; i < len; i++)
                        lab[i] = (uint8_t) "aZ09-_xy"[(i * 3 + len) % 8];
                    lab[ats[ai]] = (uint8_t)v;
                    struct mb *m = &(struct mb){0};
                    header(m, 1, 0x0100, 1, 0, 0, room ? 1 : 0);
                    put8(m, (unsigned)len);
                    putmem(m, lab, len);
                    put8(m, 0);
                    put16(m, 1);
                    put16(m, 1);
                    if (room) /* an OPT record: 11 bytes more */
                        rr_head(m, ".", DNS_TYPE_OPT, 1232, 0, 0);
                    assert_true(parse(m->b, m->n));
                    char want[80], *d = want;
                    for (size_t i = 0; i < len; i++)
                        d = nt_label_byte(d, lab[i]);
                    memcpy(d, ".", 2);
                    assert_string_equal(msg.q.name.text, want);
                    assert_int_equal(msg.q.name.len, strlen(want));
                }
            }
}

static void test_name_in_rdata_uses_message_offsets(void **state)
{
    (void)state;
    /* dns_read_name on a sub-cursor over RDATA must resolve pointers in the whole message. */
    struct mb *m = &(struct mb){0};
    header(m, 1, 0x8180, 1, 1, 0, 0);
    putname(m, "example.org");
    put16(m, 1);
    put16(m, 1);
    rr_head(m, "x", 2, 1, 5, 6);
    put8(m, 3);
    putmem(m, "ns1", 3);
    put16(m, 0xc00c);
    assert_true(parse(m->b, m->n));
    assert_string_equal(rr_data(0), "ns1.example.org.");

    /* A name read through a cursor that is not inside msg cannot follow pointers. */
    uint8_t other[2] = {0xc0, 0x0c};
    struct cursor c = cur_make(other, 2);
    struct cursor whole = cur_make(m->b, m->n);
    struct dns_name n;
    packet_reset(&pkt);
    assert_false(dns_read_name(&c, &whole, &n, &pkt));
    assert_true(packet_has_anomaly(&pkt, ANOM_DNS_BAD_COMPRESSION_POINTER));
}

static void test_header_question_of_cut_message(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = tu_hex("446a 0120 0001 0000 0000 0001 11 79756d6d7972656369706573666f726d65 03 636f"
                      "6d 00 00",
                      b, sizeof b);
    uint16_t id = 0, flags = 0;
    struct dns_question q;
    bool hq = true;
    /* Cut inside the qtype: header yes, question no. */
    struct cursor c = cur_make(b, n);
    assert_true(dns_parse_header_question(&c, &id, &flags, &q, &hq));
    assert_int_equal(id, 17514);
    assert_int_equal(flags, 0x0120);
    assert_false(hq);
    /* Every shorter cut stays safe. */
    for (size_t k = 0; k < n; k++) {
        c = cur_make(b, k);
        bool ok = dns_parse_header_question(&c, &id, &flags, &q, &hq);
        assert_int_equal(ok, k >= 12);
        assert_false(hq);
    }
    b[n++] = 0x01;
    b[n++] = 0x00;
    b[n++] = 0x01;
    c = cur_make(b, n);
    assert_true(dns_parse_header_question(&c, &id, &flags, &q, &hq));
    assert_true(hq);
    assert_string_equal(q.name.text, "yummyrecipesforme.com.");
    assert_int_equal(q.qtype, 1);
}

static void test_tables(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(dns_type_name(1, buf, sizeof buf), "A");
    assert_string_equal(dns_type_name(28, buf, sizeof buf), "AAAA");
    assert_string_equal(dns_type_name(65280, buf, sizeof buf), "TYPE65280");
    assert_string_equal(dns_rcode_name(3, buf, sizeof buf), "NXDOMAIN");
    assert_string_equal(dns_rcode_name(23, buf, sizeof buf), "BADCOOKIE");
    assert_string_equal(dns_rcode_name(12, buf, sizeof buf), "RCODE12");
    assert_string_equal(dns_class_name(1, buf, sizeof buf), "IN");
    assert_string_equal(dns_class_name(7, buf, sizeof buf), "CLASS7");
    assert_int_equal(dns_type_from_name("A", 1), 1);
    assert_int_equal(dns_type_from_name("AAAA", 4), 28);
    assert_int_equal(dns_type_from_name("ANY", 3), 255);
    assert_int_equal(dns_type_from_name("aaaa", 4), 28);
    assert_int_equal(dns_type_from_name("TYPE99", 6), 99);
    assert_int_equal(dns_type_from_name("Type65", 6), 65);
    assert_int_equal(dns_type_from_name("TYPE99999", 9), -1);
    assert_int_equal(dns_type_from_name("BOGUS", 5), -1);
    assert_int_equal(dns_type_from_name("AAAAX", 4), 28); /* only len bytes are read */
    for (unsigned t = 0; t < 65536; t += 7) {
        const char *nm = dns_type_name((uint16_t)t, buf, sizeof buf);
        assert_int_equal(dns_type_from_name(nm, strlen(nm)), (int)t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_from_sample),
        cmocka_unit_test(test_response_with_compression),
        cmocka_unit_test(test_pointer_loops_and_forward_pointers),
        cmocka_unit_test(test_chain_of_backward_pointers_terminates),
        cmocka_unit_test(test_label_and_name_limits),
        cmocka_unit_test(test_counts_larger_than_packet),
        cmocka_unit_test(test_every_record_type),
        cmocka_unit_test(test_authority_checked_without_text),
        cmocka_unit_test(test_bad_rdata_falls_back),
        cmocka_unit_test(test_update_empty_rdata),
        cmocka_unit_test(test_kept_records_are_bounded),
        cmocka_unit_test(test_long_rdata_is_cut),
        cmocka_unit_test(test_hostile_names_are_escaped),
        cmocka_unit_test(test_label_runs_match_bytewise),
        cmocka_unit_test(test_every_byte_in_a_label),
        cmocka_unit_test(test_name_in_rdata_uses_message_offsets),
        cmocka_unit_test(test_header_question_of_cut_message),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_record_names_pointing_at_the_question),
        cmocka_unit_test(test_names_pointing_at_earlier_names),
        cmocka_unit_test(test_answer_evidence_keeps_owners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
