/* test_tcpdump_text.c: the tcpdump text reader, on lines printed by tcpdump 4.99 from real
 * captures (the samples and the corpora) and on damaged and hostile input. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source.h"
#include "util/err.h"

#define MAXP 64

struct run {
    int n;
    int rc; /* last source_next result */
    struct packet *p;
    char lines[MAXP][512];
    struct source_stats stats;
    char error[SOURCE_ERROR_MAX];
};

/* Reads text of len bytes through the whole reader (fmemopen, as a FILE). */
static struct run *read_buf(const char *text, size_t len)
{
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->p = calloc(MAXP, sizeof *r->p);
    assert_non_null(r->p);
    FILE *f = fmemopen((void *)text, len, "rb");
    assert_non_null(f);
    struct source *s;
    char err[SOURCE_ERROR_MAX];
    assert_int_equal(source_text_open(f, &s, err), 0);
    static struct packet tmp;
    for (;;) {
        r->rc = source_next(s, &tmp);
        if (r->rc != 1)
            break;
        if (r->n < MAXP) {
            /* line is borrowed until the next call: keep a copy */
            snprintf(r->lines[r->n], sizeof r->lines[0], "%.*s", (int)tmp.line_len, tmp.line);
            r->p[r->n] = tmp;
            r->p[r->n].line = r->lines[r->n];
        }
        r->n++;
    }
    r->stats = *source_stats(s);
    snprintf(r->error, sizeof r->error, "%s", source_error(s));
    source_close(s);
    return r;
}

static struct run *read_text(const char *text)
{
    return read_buf(text, strlen(text));
}

static void run_free(struct run *r)
{
    free(r->p);
    free(r);
}

static void assert_addr(const struct nt_addr *a, const char *want)
{
    char buf[NT_ADDR_FMT_MAX];
    nt_addr_format(a, buf, sizeof buf);
    assert_string_equal(buf, want);
}

/* Parses one record with a fresh state. */
static bool parse1(const char *rec, struct packet *pkt)
{
    struct text_state st;
    memset(&st, 0, sizeof st);
    st.names = tu_names();
    packet_reset(pkt);
    return text_parse_record(&st, rec, strlen(rec), pkt);
}

/* The sample from the ticket: wrapped mid-record, no comma before "length", blank lines. */
static const char seed[] =
    "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A?\n"
    "yummyrecipesforme.com. (24)\n"
    "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2\n"
    "udp port 53 unreachable length 254\n"
    "\n"
    "13:26:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A?\n"
    "yummyrecipesforme.com. (24)\n"
    "13:27:15.934126 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2\n"
    "udp port 53 unreachable length 320\n"
    "\n"
    "13:28:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.domain: 35084+ A?\n"
    "yummyrecipesforme.com. (24)\n"
    "13:28:50.022967 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2\n"
    "udp port 53 unreachable length 150\n";

static void test_seed_sample(void **state)
{
    (void)state;
    struct run *r = read_text(seed);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 6);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_int_equal(r->stats.lines, 14);
    static const int64_t q_sec[3] = {13 * 3600 + 24 * 60 + 32, 13 * 3600 + 26 * 60 + 32,
                                     13 * 3600 + 28 * 60 + 32};
    static const int64_t e_sec[3] = {13 * 3600 + 24 * 60 + 36, 13 * 3600 + 27 * 60 + 15,
                                     13 * 3600 + 28 * 60 + 50};
    static const uint32_t e_len[3] = {254, 320, 150};
    static const uint64_t first_line[6] = {1, 3, 6, 8, 11, 13};
    for (int i = 0; i < 3; i++) {
        const struct packet *q = &r->p[2 * i], *e = &r->p[2 * i + 1];
        assert_int_equal(q->num, 2 * i + 1);
        assert_int_equal(q->line_no, first_line[2 * i]);
        assert_int_equal(e->line_no, first_line[2 * i + 1]);
        assert_int_equal(q->linktype, -1);
        assert_int_equal(q->ts.kind, NT_TIME_OF_DAY);
        assert_int_equal(q->ts.sec, q_sec[i]);
        assert_int_equal(q->ts.nsec, 192571000);
        assert_int_equal(q->layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
        assert_addr(&q->src, "192.51.100.15");
        assert_addr(&q->dst, "203.0.113.2");
        assert_int_equal(q->sport, 52444);
        assert_int_equal(q->dport, 53);
        assert_int_equal(q->proto, 17);
        assert_int_equal(q->dns.id, 35084);
        assert_int_equal(q->dns.flags, DNS_FLAG_RD);
        assert_true(q->dns.has_question);
        assert_string_equal(q->dns.q.name.text, "yummyrecipesforme.com.");
        assert_int_equal(q->dns.q.qtype, DNS_TYPE_A);
        assert_int_equal(q->dns.q.qclass, 1);
        assert_int_equal(q->dns.qdcount, 1);
        assert_int_equal(q->dns.arcount, 0);
        assert_int_equal(q->dns.length, 24);
        assert_int_equal(q->l4_payload_len, 24);
        /* the joined record: one space where the line was wrapped */
        assert_non_null(strstr(q->line, "35084+ A? yummyrecipesforme.com. (24)"));

        assert_int_equal(e->ts.sec, e_sec[i]);
        assert_int_equal(e->layers, PKT_L_IP | PKT_L_ICMP);
        assert_addr(&e->src, "203.0.113.2");
        assert_addr(&e->dst, "192.51.100.15");
        assert_int_equal(e->icmp_type, 3);
        assert_int_equal(e->icmp_code, 3);
        assert_int_equal(e->icmp_kind, ICMP_K_PORT_UNREACH);
        assert_true(e->icmp_is_error);
        assert_int_equal(e->icmp_len, e_len[i]);
        /* without -v the text shows the quoted destination, protocol and port only */
        assert_false(e->quote.present);
        assert_false(e->quote.has_ports);
        assert_int_equal(e->quote.known, QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_DPORT);
        assert_addr(&e->quote.dst, "203.0.113.2");
        assert_int_equal(e->quote.proto, 17);
        assert_int_equal(e->quote.dport, 53);
        assert_int_equal(e->quote.ip_version, 4);
    }
    run_free(r);
}

/* tcpdump -v -r firewall-admin-prohibited.pcap (first two packets). */
static void test_verbose_admin_prohibited_quote(void **state)
{
    (void)state;
    struct run *r = read_text(
        "reading from file firewall-admin-prohibited.pcap, link-type EN10MB (Ethernet), snapshot "
        "length 262144\n"
        "20:17:39.996867 IP (tos 0x0, ttl 64, id 25369, offset 0, flags [none], proto UDP (17), "
        "length 90)\n"
        "    198.51.100.15.45178 > 198.51.100.2.domain: 57227+ [1au] A? yummyrecipesforme.com. "
        "(62)\n"
        "20:17:39.996904 IP (tos 0xc0, ttl 64, id 31021, offset 0, flags [none], proto ICMP (1), "
        "length 118)\n"
        "    198.51.100.2 > 198.51.100.15: ICMP host 198.51.100.2 unreachable - admin prohibited "
        "filter, length 98\n"
        "\tIP (tos 0x0, ttl 64, id 25369, offset 0, flags [none], proto UDP (17), length 90)\n"
        "    198.51.100.15.45178 > 198.51.100.2.domain: 57227+ [1au] A? yummyrecipesforme.com. "
        "(62)\n");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.bad_lines, 0);
    const struct packet *q = &r->p[0], *e = &r->p[1];
    assert_int_equal(q->line_no, 2);
    assert_int_equal(q->ttl, 64);
    assert_int_equal(q->ip_id, 25369);
    assert_int_equal(q->ip_len, 90);
    assert_int_equal(q->dns.id, 57227);
    assert_int_equal(q->dns.arcount, 1);
    assert_int_equal(q->sport, 45178);
    assert_int_equal(e->line_no, 4);
    assert_int_equal(e->icmp_type, 3);
    assert_int_equal(e->icmp_code, 13);
    assert_int_equal(e->icmp_kind, ICMP_K_ADMIN_PROHIBITED);
    assert_int_equal(e->icmp_len, 98);
    assert_int_equal(e->ttl, 64);
    assert_int_equal(e->ip_id, 31021);
    const struct icmp_quote *qt = &e->quote;
    assert_true(qt->present);
    assert_int_equal(qt->known, QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_SPORT |
                                    QUOTE_K_DPORT | QUOTE_K_DNS_ID | QUOTE_K_QUESTION);
    assert_int_equal(qt->ip_version, 4);
    assert_addr(&qt->src, "198.51.100.15");
    assert_addr(&qt->dst, "198.51.100.2");
    assert_int_equal(qt->proto, 17);
    assert_int_equal(qt->ip_id, 25369);
    assert_int_equal(qt->ip_total_len, 90);
    assert_true(qt->has_ports);
    assert_int_equal(qt->sport, 45178);
    assert_int_equal(qt->dport, 53);
    assert_true(qt->has_dns);
    assert_int_equal(qt->dns_id, 57227);
    assert_int_equal(qt->dns_flags, DNS_FLAG_RD);
    assert_true(qt->has_question);
    assert_string_equal(qt->q.name.text, "yummyrecipesforme.com.");
    assert_int_equal(qt->q.qtype, DNS_TYPE_A);
    run_free(r);
}

/* tcpdump -e -vv: the quoted datagram has no "IP" keyword. */
static void test_ev_quote_without_keyword(void **state)
{
    (void)state;
    struct packet *p = calloc(1, sizeof *p);
    assert_true(parse1(
        "18:22:28.135731 00:0b:db:63:58:a6 (oui Unknown) > 00:19:e3:e7:5d:23 (oui Unknown), "
        "ethertype IPv4 (0x0800), length 194: (tos 0x0, ttl 128, id 10270, offset 0, flags "
        "[none], proto ICMP (1), length 176) 192.168.1.102 > 192.168.1.1: ICMP 192.168.1.102 udp "
        "port 59207 unreachable, length 156 (tos 0x0, ttl 64, id 14097, offset 0, flags [none], "
        "proto UDP (17), length 163) 192.168.1.1.domain > 192.168.1.102.59207: 39076 q: A? "
        "secure.ed4.net. 1/4/0 secure.ed4.net. A 208.94.20.14 ns: ed4.net. NS "
        "dns02.exodus.net., ed4.net. NS dns01.exodus.net. (135)",
        p));
    assert_int_equal(p->wirelen, 194);
    assert_int_equal(p->icmp_kind, ICMP_K_PORT_UNREACH);
    assert_true(p->quote.present);
    assert_addr(&p->quote.src, "192.168.1.1");
    assert_int_equal(p->quote.sport, 53);
    assert_int_equal(p->quote.dport, 59207);
    assert_int_equal(p->quote.dns_id, 39076);
    assert_true(p->quote.dns_flags & DNS_FLAG_QR);
    assert_string_equal(p->quote.q.name.text, "secure.ed4.net.");
    free(p);
}

/* tcpdump -nn -vv -r dns_udp.pcap: a response with answers, authority and additional records. */
static void test_vv_response_records(void **state)
{
    (void)state;
    struct run *r = read_text(
        "09:19:54.870361 IP (tos 0x0, ttl 128, id 45, offset 0, flags [none], proto UDP (17), "
        "length 252)\n"
        "    209.87.249.18.53 > 192.168.1.11.43966: [udp sum ok] 22836*- q: A? www.tcpdump.org. "
        "2/2/5 www.tcpdump.org. A 192.139.46.66, www.tcpdump.org. A 198.199.88.104 ns: "
        "tcpdump.org. NS sns.cooperix.net., tcpdump.org. NS nic.sandelman.ca. ar: "
        "nic.sandelman.ca. A 209.87.249.18, nic.sandelman.ca. AAAA 2607:f0b0:f::babe:f00d, "
        "sns.cooperix.net. A 97.107.133.15, sns.cooperix.net. AAAA 2600:3c03::f03c:91ff:fe96:e8ef, "
        ". OPT UDPsize=4096 (224)\n");
    assert_int_equal(r->n, 1);
    const struct dns_msg *m = &r->p[0].dns;
    assert_int_equal(m->id, 22836);
    assert_int_equal(m->flags, DNS_FLAG_QR | DNS_FLAG_AA);
    assert_int_equal(m->rcode, 0);
    assert_int_equal(m->qdcount, 1);
    assert_int_equal(m->ancount, 2);
    assert_int_equal(m->nscount, 2);
    assert_int_equal(m->arcount, 5);
    assert_true(m->has_question);
    assert_string_equal(m->q.name.text, "www.tcpdump.org.");
    assert_int_equal(m->n_rr, 8);
    assert_int_equal(m->n_rr_seen, 9);
    assert_int_equal(m->rr[0].section, DNS_SEC_ANSWER);
    assert_int_equal(m->rr[0].type, DNS_TYPE_A);
    assert_string_equal(m->rr[0].name.text, "www.tcpdump.org.");
    assert_string_equal(m->rr[1].rdata, "198.199.88.104");
    assert_int_equal(m->rr[2].section, DNS_SEC_AUTHORITY);
    assert_int_equal(m->rr[2].type, DNS_TYPE_NS);
    assert_string_equal(m->rr[2].rdata, "sns.cooperix.net.");
    assert_int_equal(m->rr[5].section, DNS_SEC_ADDITIONAL);
    assert_int_equal(m->rr[5].type, DNS_TYPE_AAAA);
    assert_string_equal(m->rr[5].rdata, "2607:f0b0:f::babe:f00d");
    assert_true(m->has_opt);
    assert_int_equal(m->edns_udp_size, 4096);
    assert_int_equal(m->length, 224);
    assert_true(m->complete);
    run_free(r);
}

static void test_dns_header_variants(void **state)
{
    (void)state;
    struct packet *p = calloc(1, sizeof *p);
    /* dns-badvers.out: extended rcode BADVERS, RA clear */
    assert_true(parse1("01:26:02.083636 IP 192.5.5.241.53 > 172.30.42.67.64888: 36787 BadVers- "
                       "0/0/1 (28)",
                       p));
    assert_true(p->layers & PKT_L_DNS);
    assert_int_equal(p->dns.rcode, 16);
    assert_int_equal(p->dns.flags, DNS_FLAG_QR);
    assert_int_equal(p->dns.arcount, 1);
    /* NXDOMAIN, an update query refused over TCP (4.99 prints DNS after "length N ") */
    assert_true(parse1("14:45:24.412449 IP 4.2.2.1.53 > 172.16.16.170.64487: 21018 NXDomain 0/1/0 "
                       "(103)",
                       p));
    assert_int_equal(p->dns.rcode, DNS_RCODE_NXDOMAIN);
    assert_int_equal(p->dns.flags, DNS_FLAG_QR | DNS_FLAG_RA | 3);
    assert_int_equal(p->dns.nscount, 1);
    assert_true(parse1("21:09:38.970980 IP 10.10.11.10.53 > 10.11.2.178.56234: Flags [P.], seq "
                       "1:151, ack 151, win 1024, options [nop,nop,TS val 1386793528 ecr "
                       "3625148689], length 150 20434 update Refused- 0/1/1 (148)",
                       p));
    assert_int_equal(p->layers, PKT_L_IP | PKT_L_TCP | PKT_L_DNS);
    assert_int_equal(p->dns.opcode, 5);
    assert_int_equal(p->dns.rcode, DNS_RCODE_REFUSED);
    assert_int_equal(p->dns.flags, 0xa805);
    assert_int_equal(p->l4_payload_len, 150);
    assert_int_equal(p->tcp_flags, 0x18);
    assert_int_equal(p->tcp_seq, 1);
    assert_int_equal(p->tcp_ack, 151);
    assert_int_equal(p->tcp_win, 1024);
    /* CNAME chain, TC, several questions */
    assert_true(parse1("20:59:15.346584 IP 4.2.2.1.53 > 172.16.16.154.57434: 45323| 2/0/0 CNAME "
                       "redir.espn.gns.go.com., A 68.71.212.158 (78)",
                       p));
    assert_int_equal(p->dns.flags, DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_TC);
    assert_int_equal(p->dns.n_rr, 2);
    assert_int_equal(p->dns.rr[0].type, DNS_TYPE_CNAME);
    assert_string_equal(p->dns.rr[0].rdata, "redir.espn.gns.go.com.");
    assert_string_equal(p->dns.rr[0].name.text, "");
    assert_string_equal(p->dns.rr[1].rdata, "68.71.212.158");
    assert_true(parse1("17:42:40.357435 IP 127.0.0.1.53 > 127.0.0.1.50435: 33972- [2q], 2/0/0 A "
                       "66.66.66.66, CNAME x. (1388)",
                       p));
    assert_int_equal(p->dns.qdcount, 2);
    assert_int_equal(p->dns.ancount, 2);
    /* a query with odd header bits, CD, MX and SRV answers converted to dig's order */
    assert_true(parse1("10:00:00.000000 IP 10.0.0.1.1234 > 10.0.0.2.53: 4660+% [b2&3=0x1b0] [1a] "
                       "[2n] [3au] MX? example.com. (40)",
                       p));
    assert_int_equal(p->dns.flags, 0x1b0);
    assert_int_equal(p->dns.ancount, 1);
    assert_int_equal(p->dns.nscount, 2);
    assert_int_equal(p->dns.arcount, 3);
    assert_int_equal(p->dns.q.qtype, DNS_TYPE_MX);
    assert_true(parse1("10:00:00.000000 IP 10.0.0.2.53 > 10.0.0.1.1234: 4660* 2/0/0 MX "
                       "mail.example.com. 10, SRV sip.example.com.:5060 1 2 (90)",
                       p));
    assert_string_equal(p->dns.rr[0].rdata, "10 mail.example.com.");
    assert_string_equal(p->dns.rr[1].rdata, "1 2 5060 sip.example.com.");
    /* notify opcode, class CHAOS, Type65 */
    assert_true(parse1("10:00:00.000000 IP 10.0.0.1.1234 > 10.0.0.2.53: 7 notify+ TXT CHAOS? "
                       "version.bind. (30)",
                       p));
    assert_int_equal(p->dns.opcode, 4);
    assert_int_equal(p->dns.q.qclass, 3);
    assert_int_equal(p->dns.q.qtype, DNS_TYPE_TXT);
    assert_true(
        parse1("10:00:00.000000 IP 10.0.0.1.1234 > 10.0.0.2.53: 8+ Type65? x.example. (30)", p));
    assert_int_equal(p->dns.q.qtype, 65);
    /* truncated by tcpdump: a header but no length */
    assert_true(parse1("14:40:08.021712 IP 193.24.227.238.53 > 172.217.40.76.56680: 54335*- 4/0/1 "
                       "DNSKEY, DNSKEY, RRSIG, RRSIG [|domain]",
                       p));
    assert_true(p->layers & PKT_L_DNS);
    assert_false(p->dns.complete);
    assert_int_equal(p->dns.length, 0);
    free(p);
}

static void test_timestamp_styles(void **state)
{
    (void)state;
    struct packet *p = calloc(1, sizeof *p);
    const char *body = " IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+ [1au] A? "
                       "yummyrecipesforme.com. (62)";
    char rec[512];
    /* -tt */
    snprintf(rec, sizeof rec, "1795292250.184566%s", body);
    assert_true(parse1(rec, p));
    assert_int_equal(p->ts.kind, NT_TIME_ABSOLUTE);
    assert_int_equal(p->ts.sec, 1795292250);
    assert_int_equal(p->ts.nsec, 184566000);
    /* -tttt, nanoseconds */
    snprintf(rec, sizeof rec, "2026-11-21 20:17:30.184566123%s", body);
    assert_true(parse1(rec, p));
    assert_int_equal(p->ts.kind, NT_TIME_ABSOLUTE);
    assert_int_equal(p->ts.sec, 1795292250);
    assert_int_equal(p->ts.nsec, 184566123);
    /* -t */
    assert_true(parse1(body + 1, p));
    assert_int_equal(p->ts.kind, NT_TIME_NONE);
    assert_int_equal(p->dns.id, 17514);
    /* -# with -tttt */
    snprintf(rec, sizeof rec, "    9  2026-11-21 20:17:30.184566%s", body);
    assert_true(parse1(rec, p));
    assert_int_equal(p->ts.sec, 1795292250);
    assert_int_equal(p->dns.id, 17514);
    free(p);

    /* -ttt: deltas; the reader detects them when a value goes down */
    struct run *r = read_text(" 00:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id "
                              "1, seq 1, length 64\n"
                              " 00:00:00.500000 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, "
                              "seq 1, length 64\n"
                              " 00:00:00.000020 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id "
                              "1, seq 2, length 64\n"
                              " 00:00:01.000000 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, "
                              "seq 2, length 64\n");
    assert_int_equal(r->n, 4);
    assert_int_equal(r->p[0].ts.kind, NT_TIME_RELATIVE);
    assert_int_equal(r->p[1].ts.nsec, 500000000);
    assert_int_equal(r->p[2].ts.sec, 0);
    assert_int_equal(r->p[2].ts.nsec, 500020000);
    assert_int_equal(r->p[3].ts.sec, 1);
    assert_int_equal(r->p[3].ts.nsec, 500020000);
    assert_int_equal(r->p[0].icmp_rest, 0x00010001);
    assert_int_equal(r->p[1].icmp_kind, ICMP_K_ECHO_REPLY);
    run_free(r);

    /* -ttttt with -#: since the first packet */
    r = read_text("    1   00:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq "
                  "1, length 64\n"
                  "    2   00:00:00.354256 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 1, "
                  "length 64\n"
                  "    3   00:00:00.354276 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, "
                  "length 64\n");
    assert_int_equal(r->n, 3);
    assert_int_equal(r->p[2].ts.kind, NT_TIME_RELATIVE);
    assert_int_equal(r->p[2].ts.nsec, 354276000);
    run_free(r);

    /* times of day that go back more than 12 hours passed midnight */
    r = read_text(
        "23:59:59.900000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64\n"
        "23:59:59.800000 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 1, length 64\n"
        "00:00:00.100000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64\n"
        "00:00:01.000000 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 2, length 64\n");
    assert_int_equal(r->n, 4);
    assert_int_equal(r->p[1].ts.sec, 86399);
    assert_int_equal(r->p[2].ts.sec, 86400);
    assert_int_equal(r->p[3].ts.sec, 86401);
    assert_int_equal(r->p[2].ts.kind, NT_TIME_OF_DAY);
    run_free(r);
}

static void test_icmp_messages(void **state)
{
    (void)state;
    static const struct {
        const char *rec;
        uint8_t type, code;
        enum icmp_kind kind;
        const char *qdst;
        uint8_t known;
        uint32_t mtu;
    } cases[] = {
        {"IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 tcp port 443 unreachable, length 36", 3, 3,
         ICMP_K_PORT_UNREACH, "10.0.0.9", QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_DPORT, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 udp port domain unreachable, length 98", 3, 3,
         ICMP_K_PORT_UNREACH, "10.0.0.9", QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_DPORT, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 protocol 132 unreachable, length 36", 3, 2,
         ICMP_K_PROTO_UNREACH, "10.0.0.9", QUOTE_K_DST | QUOTE_K_PROTO, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP net 10.0.0.9 unreachable, length 36", 3, 0,
         ICMP_K_NET_UNREACH, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP host 10.0.0.9 unreachable, length 36", 3, 1,
         ICMP_K_HOST_UNREACH, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 unreachable - need to frag (mtu 1400), length "
         "556",
         3, 4, ICMP_K_FRAG_NEEDED, "10.0.0.9", QUOTE_K_DST, 1400},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP net 10.0.0.9 unreachable - admin prohibited, length 36", 3,
         9, ICMP_K_ADMIN_PROHIBITED, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP host 10.0.0.9 unreachable - admin prohibited, length 36", 3,
         10, ICMP_K_ADMIN_PROHIBITED, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP host 10.0.0.9 unreachable - admin prohibited filter "
         "length 36",
         3, 13, ICMP_K_ADMIN_PROHIBITED, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP net 10.0.0.9 unreachable - tos prohibited, length 36", 3, 11,
         ICMP_K_NET_UNREACH, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP host 10.0.0.9 unreachable - unknown, length 36", 3, 7,
         ICMP_K_HOST_UNREACH, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP time exceeded in-transit, length 36", 11, 0,
         ICMP_K_TIME_EXCEEDED, "", 0, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP ip reassembly time exceeded, length 36", 11, 1,
         ICMP_K_TIME_EXCEEDED, "", 0, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP redirect 10.0.0.9 to host 10.0.0.254, length 36", 5, 1,
         ICMP_K_REDIRECT, "10.0.0.9", QUOTE_K_DST, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 52072, seq 256, length 64", 8, 0,
         ICMP_K_ECHO_REQUEST, "", 0, 0},
        {"IP 10.0.0.1 > 10.0.0.2: ICMP type-#43, length 24", 43, 0, ICMP_K_OTHER, "", 0, 0},
        {"IP6 2001:db8::1 > 2001:db8::2: ICMP6, destination unreachable, unreachable port, "
         "2001:db8::2 udp port 53, length 88",
         1, 4, ICMP_K_PORT_UNREACH, "2001:db8::2", QUOTE_K_DST | QUOTE_K_PROTO | QUOTE_K_DPORT, 0},
        {"IP6 fe80::dead > fe80::beef: ICMP6, destination unreachable, unreachable route "
         "fe80::dead, length 56",
         1, 0, ICMP_K_NET_UNREACH, "fe80::dead", QUOTE_K_DST, 0},
        {"IP6 fe80::dead > fe80::beef: ICMP6, destination unreachable,  unreachable prohibited "
         "2001:db8::2, length 56",
         1, 1, ICMP_K_ADMIN_PROHIBITED, "2001:db8::2", QUOTE_K_DST, 0},
        {"IP6 fe80::dead > fe80::beef: ICMP6, destination unreachable, unreachable address "
         "2001:db8::2, length 56",
         1, 3, ICMP_K_HOST_UNREACH, "2001:db8::2", QUOTE_K_DST, 0},
        {"IP6 fe80::dead > fe80::beef: ICMP6, packet too big, mtu 1280, length 60", 2, 0,
         ICMP_K_FRAG_NEEDED, "", 0, 1280},
        {"IP6 fe80::dead > fe80::beef: ICMP6, time exceeded in-transit for fe80::dead, length 60",
         3, 0, ICMP_K_TIME_EXCEEDED, "fe80::dead", QUOTE_K_DST, 0},
        {"IP6 (hlim 64, next-header ICMPv6 (58) payload length: 16) 3ffe:507:0:1:200:86ff:fe05:"
         "80da > 3ffe:501:0:1001::2: [icmp6 sum ok] ICMP6, echo request, id 30240, seq 0",
         128, 0, ICMP_K_ECHO_REQUEST, "", 0, 0},
    };
    struct packet *p = calloc(1, sizeof *p);
    char rec[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(rec, sizeof rec, "12:00:00.000000 %s", cases[i].rec);
        assert_true(parse1(rec, p));
        assert_true(p->layers & PKT_L_ICMP);
        assert_int_equal(p->icmp_type, cases[i].type);
        assert_int_equal(p->icmp_code, cases[i].code);
        assert_int_equal(p->icmp_kind, cases[i].kind);
        assert_int_equal(p->icmp_is_error, icmp_kind_is_error(cases[i].kind));
        assert_int_equal(p->quote.known, cases[i].known);
        assert_int_equal(p->icmp_mtu, cases[i].mtu);
        if (cases[i].known)
            assert_addr(&p->quote.dst, cases[i].qdst);
    }
    /* ports from the port-unreachable messages */
    assert_true(parse1("12:00:00.000000 IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 tcp port 443 "
                       "unreachable, length 36",
                       p));
    assert_int_equal(p->quote.proto, 6);
    assert_int_equal(p->quote.dport, 443);
    assert_true(parse1("12:00:00.000000 IP6 2001:db8::1 > 2001:db8::2: ICMP6, destination "
                       "unreachable, unreachable port, 2001:db8::2 udp port 53, length 88",
                       p));
    assert_int_equal(p->quote.ip_version, 6);
    assert_int_equal(p->quote.proto, 17);
    assert_int_equal(p->quote.dport, 53);
    assert_int_equal(p->icmp_len, 88);
    free(p);
}

static void test_link_and_addresses(void **state)
{
    (void)state;
    struct packet *p = calloc(1, sizeof *p);
    /* -e (no "IP" keyword) */
    assert_true(parse1("20:17:30.184566 f6:fb:9b:ab:d7:c4 (oui Unknown) > c2:5b:a3:13:ae:20 (oui "
                       "Unknown), ethertype IPv4 (0x0800), length 104: 198.51.100.15.53424 > "
                       "198.51.100.2.domain: 17514+ [1au] A? yummyrecipesforme.com. (62)",
                       p));
    assert_int_equal(p->layers, PKT_L_IP | PKT_L_UDP | PKT_L_DNS);
    assert_int_equal(p->wirelen, 104);
    assert_int_equal(p->dport, 53);
    /* VLAN */
    assert_true(parse1("15:23:01.075993 02:42:ac:11:00:0a > 56:84:7a:fe:97:99, ethertype 802.1Q "
                       "(0x8100), length 74: vlan 11, p 0, ethertype IPv4 (0x0800), "
                       "172.17.0.10.53199 > 8.8.8.8.53: 59311+ A? google.com. (28)",
                       p));
    assert_int_equal(p->n_vlan, 1);
    assert_int_equal(p->vlan[0], 11);
    assert_int_equal(p->dns.id, 59311);
    assert_addr(&p->dst, "8.8.8.8");
    /* QinQ ARP */
    assert_true(parse1("21:59:54.599412 00:20:d2:5a:fb:3f > ff:ff:ff:ff:ff:ff, ethertype "
                       "802.1Q-QinQ (0x88a8), length 64: vlan 200, p 0, ethertype 802.1Q "
                       "(0x8100), vlan 2001, p 0, ethertype ARP (0x0806), Request who-has "
                       "172.21.79.100 tell 172.21.79.97, length 42",
                       p));
    assert_int_equal(p->n_vlan, 2);
    assert_int_equal(p->vlan[1], 2001);
    assert_int_equal(p->layers, PKT_L_ARP);
    assert_int_equal(p->arp_op, 1);
    assert_addr(&p->src, "172.21.79.97");
    assert_addr(&p->dst, "172.21.79.100");
    /* IPv6: the port follows the last dot */
    assert_true(parse1("14:40:18.075178 IP6 2001:db8::1.53 > 2001:db8::2.33000: 2610*- 1/0/0 "
                       "AAAA 2001:db8::99 (60)",
                       p));
    assert_int_equal(p->ip_version, 6);
    assert_addr(&p->src, "2001:db8::1");
    assert_int_equal(p->sport, 53);
    assert_int_equal(p->dport, 33000);
    assert_string_equal(p->dns.rr[0].rdata, "2001:db8::99");
    /* IPv6 first fragment: ports after the extension header */
    assert_true(parse1("14:40:18.075178 IP6 2001:470:765b::a25:53 > 2a00:1450:4013:c06::105: frag "
                       "(0|1448) 53 > 63369: 2610*- 2/3/9 A 194.247.4.10, RRSIG (1440)",
                       p));
    assert_true(p->fragment);
    assert_int_equal(p->sport, 53);
    assert_int_equal(p->dns.ancount, 2);
    /* host names printed without -n, service names, and one we do not know */
    assert_true(parse1("13:24:32.192571 IP client.example.net.52444 > ns1.example.net.domain: "
                       "35084+ A? yummyrecipesforme.com. (24)",
                       p));
    assert_int_equal(p->src.family, NT_AF_NAME);
    assert_addr(&p->src, "client.example.net");
    assert_addr(&p->dst, "ns1.example.net");
    assert_int_equal(p->dport, 53);
    assert_true(parse1("13:24:32.192571 IP 10.0.0.1.https > 10.0.0.2.frobnicate: Flags [S], seq "
                       "123, win 64240, options [mss 1460], length 0",
                       p));
    assert_int_equal(p->sport, 443);
    assert_int_equal(p->dport, 0);
    assert_true(packet_has_anomaly(p, ANOM_TEXT_UNKNOWN_SERVICE_NAME));
    assert_int_equal(p->tcp_flags, 0x02);
    assert_int_equal(p->tcp_seq, 123);
    /* a protocol we do not read is a packet with addresses only */
    assert_true(parse1("10:11:11.809492 IP 20.1.1.1 > 224.0.0.5: OSPFv2, Hello, length 48", p));
    assert_int_equal(p->layers, PKT_L_IP);
    assert_addr(&p->src, "20.1.1.1");
    /* UDP without a decoded payload, -q TCP */
    assert_true(parse1("00:00:01.031048 IP 193.167.0.252.44083 > 193.167.100.100.443: UDP, "
                       "length 1200",
                       p));
    assert_int_equal(p->layers, PKT_L_IP | PKT_L_UDP);
    assert_int_equal(p->l4_payload_len, 1200);
    /* not a record */
    assert_false(parse1("hello world", p));
    assert_false(parse1("", p));
    free(p);
}

/* CRLF, tcpdump's header and footer, blank lines, lines that are not records. */
static void test_layout_and_bad_lines(void **state)
{
    (void)state;
    struct run *r = read_text(
        "Here is what we captured:\r\n"
        "reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 262144\r\n"
        "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? example.com. (29)\r\n"
        "\r\n"
        "random junk line\r\n"
        "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
        "unreachable, length 65\r\n"
        "2 packets captured\r\n"
        "2 packets received by filter\r\n"
        "0 packets dropped by kernel\r\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.lines, 9);
    assert_int_equal(r->stats.bad_lines, 2);
    assert_int_equal(r->stats.first_bad_lines[0], 1);
    assert_int_equal(r->stats.first_bad_lines[1], 5);
    assert_int_equal(r->p[0].line_no, 3);
    assert_int_equal(r->p[1].line_no, 6);
    assert_int_equal(r->p[1].num, 2);
    /* no CR left in the line */
    assert_null(strchr(r->p[0].line, '\r'));
    assert_string_equal(r->p[0].dns.q.name.text, "example.com.");
    run_free(r);

    /* -v output: an indented HTTP body's blank line does not end the record */
    r = read_text("13:24:32.192571 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP "
                  "(6), length 60)\n"
                  "    10.0.0.1.80 > 10.0.0.2.1234: Flags [P.], seq 1:21, ack 1, win 502, length "
                  "20: HTTP\n"
                  "\n"
                  "\tContent-Type: text/html\n"
                  "13:24:33.000000 IP 10.0.0.2.1234 > 10.0.0.1.80: Flags [.], ack 21, win 501, "
                  "length 0\n");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_non_null(strstr(r->p[0].line, "Content-Type"));
    run_free(r);
}

static void test_no_records(void **state)
{
    (void)state;
    struct run *r = read_text("this is not\ntcpdump output\n");
    assert_int_equal(r->rc, NT_ERR_NO_RECORDS);
    assert_int_equal(r->n, 0);
    assert_int_equal(r->stats.bad_lines, 2);
    assert_string_equal(r->error, "no tcpdump lines found (first unreadable line: 1)");
    run_free(r);

    r = read_text("");
    assert_int_equal(r->rc, NT_ERR_NO_RECORDS);
    assert_string_equal(r->error, "no tcpdump lines found (empty input)");
    run_free(r);

    /* a capture tcpdump read but that held no packets */
    r = read_text("reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 65535\n");
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->n, 0);
    run_free(r);
}

/* A huge line without a newline, NUL bytes and binary junk cost bounded memory and are counted. */
static void test_hostile_input(void **state)
{
    (void)state;
    const size_t big = 10u * 1024 * 1024;
    const char tail[] = "\n13:24:32.192571 IP 10.0.0.1.5353 > 10.0.0.2.53: 1+ A? ok. (20)\n";
    char *buf = malloc(big + sizeof tail);
    assert_non_null(buf);
    memcpy(buf, "13:24:31.000000 IP ", 19);
    memset(buf + 19, 'A', big - 19);
    memcpy(buf + big, tail, sizeof tail);
    struct run *r = read_buf(buf, big + sizeof tail - 1);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->stats.bad_lines, 1);
    assert_int_equal(r->stats.first_bad_lines[0], 1);
    assert_int_equal(r->p[0].line_no, 2);
    assert_int_equal(r->p[0].dns.id, 1);
    run_free(r);
    /* only the huge line: no records */
    r = read_buf(buf, big);
    assert_int_equal(r->rc, NT_ERR_NO_RECORDS);
    assert_int_equal(r->stats.bad_lines, 1);
    run_free(r);
    free(buf);

    static const char nul[] = "13:24:32.192571 IP 10.0.0.1.1 > 10.0.0.2.53: 1+ A? a\0b. (20)\n"
                              "\x01\x02\x03\xff\xfe binary\n"
                              "13:24:33.192571 IP 10.0.0.1.1 > 10.0.0.2.53: 2+ A? c. (20)\n";
    r = read_buf(nul, sizeof nul - 1);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->p[0].dns.id, 2);
    assert_int_equal(r->stats.bad_lines, 2);
    run_free(r);

    /* names as tcpdump escapes them, and names longer than DNS allows */
    struct packet *p = calloc(1, sizeof *p);
    assert_true(parse1("01:00:00.000000 IP 10.0.0.1.1 > 10.0.0.2.53: 1+ A? M-{^A.a*b<c>.SM-G. "
                       "(20)",
                       p));
    assert_string_equal(p->dns.q.name.text, "\\251\\001.a\\*b\\<c\\>.SM-G.");
    char rec[4096];
    int w = snprintf(rec, sizeof rec, "01:00:00.000000 IP 10.0.0.1.1 > 10.0.0.2.53: 1+ A? ");
    for (int i = 0; i < 2000; i++)
        rec[w++] = (char)(i % 64 == 63 ? '.' : 'x');
    snprintf(rec + w, sizeof rec - (size_t)w, " (20)");
    assert_true(parse1(rec, p));
    assert_true(p->dns.q.name.len <= 255);
    assert_int_equal(strlen(p->dns.q.name.text), p->dns.q.name.len);
    free(p);
}

/* Records longer than the cap keep their first 64 KiB; the rest is counted. */
static void test_record_cap(void **state)
{
    (void)state;
    size_t lines = 3000, cap = 100 + lines * 40;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n = (size_t)snprintf(buf, cap,
                                "13:24:32.192571 IP 10.0.0.1 > 10.0.0.2: OSPFv2, Hello, "
                                "length 48\n");
    for (size_t i = 0; i < lines; i++)
        n += (size_t)snprintf(buf + n, cap - n, "\t  detail line number %6zu of many\n", i);
    struct run *r = read_buf(buf, n);
    assert_int_equal(r->n, 1);
    assert_true(r->p[0].line_len <= 64 * 1024);
    assert_true(r->stats.bad_lines > 0);
    assert_true(r->stats.bad_lines < lines);
    run_free(r);
    free(buf);
}

/* Issue 8: pastes from public threads, shaped as they are posted. */

/* tcpdump 4.99 -i any: "IFNAME DIR IP ..." after the timestamp, for every direction. */
static void test_any_interface_direction(void **state)
{
    (void)state;
    struct run *r = read_text(
        "12:34:56.789012 eth0  Out IP 192.0.2.10.45678 > 192.0.2.53.53: 12345+ A? example.com. "
        "(29)\n"
        "12:34:56.790100 eth0  In  IP 192.0.2.53.53 > 192.0.2.10.45678: 12345 NXDomain 0/1/0 "
        "(102)\n"
        "12:34:57.100000 wlan0 M   IP 192.0.2.7.5353 > 224.0.0.251.5353: 0 A? printer.local. (31)\n"
        "12:34:57.200000 eth0  B   ARP, Request who-has 192.0.2.1 tell 192.0.2.10, length 28\n"
        "12:34:57.300000 eth0  P   IP 192.0.2.99.1234 > 192.0.2.98.80: Flags [S], seq 1, win "
        "64240, length 0\n"
        "12:34:57.400000 lo    In  IP6 ::1.40000 > ::1.53: 7+ AAAA? a.example. (27)\n");
    assert_int_equal(r->n, 6);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_true(r->p[0].layers & PKT_L_DNS);
    assert_int_equal(r->p[0].dns.id, 12345);
    assert_addr(&r->p[0].src, "192.0.2.10");
    assert_int_equal(r->p[0].dport, 53);
    assert_int_equal(r->p[1].dns.rcode, 3);
    assert_true(r->p[2].layers & PKT_L_DNS);
    assert_true(r->p[3].layers & PKT_L_ARP);
    assert_int_equal(r->p[4].tcp_flags, 0x02);
    assert_int_equal(r->p[5].ip_version, 6);
    assert_string_equal(r->p[5].dns.q.name.text, "a.example.");
    run_free(r);
    /* a column that is not a direction is not taken for one: unread, and counted */
    r = read_text("12:34:56.789012 eth0  Sideways IP 192.0.2.10.45678 > 192.0.2.53.53: 1+ A? a. "
                  "(29)\n"
                  "12:34:56.789013 IP 192.0.2.10.45678 > 192.0.2.53.53: 2+ A? b. (29)\n");
    assert_int_equal(r->n, 1);
    assert_int_equal(r->stats.unread, 1);
    assert_int_equal(r->stats.first_unread[0], 1);
    assert_non_null(strstr(r->stats.unread_sample[0], "Sideways"));
    run_free(r);
}

/* Two spaces after '>', a paste indented as a whole (Markdown code block, 4 spaces or a tab),
 * no-break spaces (U+00A0) in place of spaces. */
static void test_pasted_spacing(void **state)
{
    (void)state;
    struct run *r = read_text(
        "13:24:32.192571 IP 192.51.100.15.52444 >  203.0.113.2.53: 35084+ A? "
        "yummyrecipesforme.com. (24)\n"
        "    13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
        "unreachable, length 150\n"
        "\t13:24:37.000000\xc2\xa0IP\xc2\xa0"
        "192.51.100.15.52445\xc2\xa0>\xc2\xa0"
        "203.0.113.2.53: 35085+ A? yummyrecipesforme.com. (24)\n");
    assert_int_equal(r->n, 3);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->p[0].dns.id, 35084);
    assert_addr(&r->p[0].dst, "203.0.113.2");
    assert_int_equal(r->p[1].icmp_type, 3);
    assert_int_equal(r->p[1].line_no, 2);
    assert_int_equal(r->p[2].dns.id, 35085);
    assert_int_equal(r->p[2].sport, 52445);
    /* the evidence text has plain spaces */
    assert_null(strstr(r->p[2].line, "\xc2\xa0"));
    run_free(r);
    /* a -v record's indented continuation stays a continuation */
    r = read_text("13:24:32.192571 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP "
                  "(17), length 57)\n"
                  "    192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? a.example. (29)\n");
    assert_int_equal(r->n, 1);
    assert_int_equal(r->p[0].dns.id, 35084);
    run_free(r);
}

/* What a terminal session pasted whole carries: the prompt and command, tcpdump's banners, the
 * ^C echoed before a record or after the last, the counts, the next prompt, Markdown fences.
 * None of it may end up in a record's text. */
static void test_paste_trailers(void **state)
{
    (void)state;
    struct run *r =
        read_text("```\n"
                  "$ sudo tcpdump -nn -i eth0 port 53\n"
                  "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
                  "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
                  "^C13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? "
                  "yummyrecipesforme.com. (24)\n"
                  "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                  "unreachable, length 150 ^C\n"
                  "root@host:~# \n"
                  "13:25:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                  "unreachable, length 150^C3 packets captured\n"
                  "3 packets received by filter\n"
                  "0 packets dropped by kernel\n"
                  "[admin@fw01 ~]$ exit\n"
                  "```\n");
    assert_int_equal(r->n, 3);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_int_equal(r->stats.ignored_lines, 9);
    assert_int_equal(r->p[0].dns.id, 35084);
    assert_int_equal(r->p[0].line_no, 5);
    assert_string_equal(r->p[1].line, "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP "
                                      "203.0.113.2 udp port 53 unreachable, length 150");
    assert_null(strstr(r->p[2].line, "^C"));
    assert_null(strstr(r->p[2].line, "packets"));
    for (int i = 0; i < r->n; i++) {
        assert_null(strstr(r->p[i].line, "root@"));
        assert_null(strstr(r->p[i].line, "```"));
    }
    run_free(r);
}

/* Mail and forum quoting ("> ", "> > "), and list numbers before records ("1. ", "**(2)**"). A
 * line starting with '>' that continues an unquoted record (a wrapped "> dst:") stays one. */
static void test_quoted_and_numbered(void **state)
{
    (void)state;
    struct run *r = read_text(
        "> 13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? a.example. (24)\n"
        ">\n"
        "> > 13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
        "unreachable, length 150\n"
        "1. 13:24:37.000000 IP 192.51.100.15.52445 > 203.0.113.2.53: 35085+ A? b.example. (24)\n"
        "**(2)** 13:24:38.000000 IP 192.51.100.15.52446 > 203.0.113.2.53: 35086+ A? c.example. "
        "(24)\n"
        "13:24:39.000000 IP 192.51.100.15.52447\n"
        "> 203.0.113.2.53: 35087+ A? d.example. (24)\n");
    assert_int_equal(r->n, 5);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->p[0].dns.id, 35084);
    assert_int_equal(r->p[1].icmp_type, 3);
    assert_int_equal(r->p[2].dns.id, 35085);
    assert_string_equal(r->p[2].line, "13:24:37.000000 IP 192.51.100.15.52445 > 203.0.113.2.53: "
                                      "35085+ A? b.example. (24)");
    assert_int_equal(r->p[3].dns.id, 35086);
    assert_int_equal(r->p[4].dns.id, 35087);
    assert_int_equal(r->p[4].dport, 53);
    run_free(r);
}

/* A UTF-8 byte-order mark before the first record (Windows editors) cost that record. */
static void test_utf8_bom(void **state)
{
    (void)state;
    struct run *r = read_text("\xef\xbb\xbf"
                              "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ "
                              "A? a.example. (24)\n");
    assert_int_equal(r->n, 1);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_int_equal(r->p[0].dns.id, 35084);
    run_free(r);
}

/* What is not read is told apart: traffic-like lines (a time with a fraction, an address with
 * a port, a hex-dump offset) are unread traffic, with numbers and samples; prose is ignored. */
static void test_unread_vs_ignored(void **state)
{
    (void)state;
    struct run *r = read_text(
        "Here is what I captured on the resolver at 13:24 (the server is 203.0.113.2):\n"
        "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? a.example. (24)\n"
        "\n"
        "and then this, which looks odd:\n"
        "192.51.100.15.52444 ??? 203.0.113.2.53 something\n"
        "13:24:33.000000 FOO 1.2.3.4 bar\n"
        "\t0x0000:  4500 003c 1c46 4000 4006 b1e6 ac10 0a63\n"
        "13:24:34.000000 STP 802.1d, Config, Flags [none], bridge-id 8000.00:11:22:33:44:55.8001\n"
        "Thanks!\n");
    /* the STP record is read as a packet without IP, as before: not a gap in what we read;
     * the indented hex dump continues the unread record of line 6, counted once with it */
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.unread, 2);
    assert_int_equal(r->stats.first_unread[0], 5);
    assert_int_equal(r->stats.first_unread[1], 6);
    assert_string_equal(r->stats.unread_sample[0],
                        "192.51.100.15.52444 ??? 203.0.113.2.53 something");
    assert_int_equal(r->stats.ignored_lines,
                     2); /* "Thanks!" continues the STP record (a wrapped line) */
    run_free(r);
}

/* -vvv: an ICMP error's quoted datagram over two indented lines, with the quoted UDP or TCP
 * header, stays in its record and is read as the quote. */
static void test_icmp_vvv_quote(void **state)
{
    (void)state;
    struct run *r = read_text(
        "13:24:36.098564 IP (tos 0xc0, ttl 64, id 1234, offset 0, flags [none], proto ICMP (1), "
        "length 85)\n"
        "    203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 unreachable, length 65\n"
        "\tIP (tos 0x0, ttl 64, id 40001, offset 0, flags [none], proto UDP (17), length 57)\n"
        "    192.51.100.15.52444 > 203.0.113.2.53: [udp sum ok] 35084+ A? a.example. (29)\n"
        "13:24:40.001000 IP (tos 0xc0, ttl 64, id 3, offset 0, flags [none], proto ICMP (1), "
        "length 88)\n"
        "    203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 tcp port 443 unreachable, length 68\n"
        "\tIP (tos 0x0, ttl 64, id 2, offset 0, flags [DF], proto TCP (6), length 60)\n"
        "    192.51.100.15.40000 > 203.0.113.2.443: Flags [S], cksum 0x1234 (correct), seq 1000, "
        "win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0\n");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->stats.bad_lines, 0);
    assert_int_equal(r->p[0].icmp_type, 3);
    assert_int_equal(r->p[0].icmp_code, 3);
    assert_int_equal(r->p[1].icmp_type, 3);
    assert_int_equal(r->p[1].line_no, 5);
    run_free(r);
}

/* Text that is not tcpdump's is refused naming its format (exit status 2 in the CLI). */
static void test_foreign_text_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"    1 0.000000    192.0.2.1 \xe2\x86\x92 192.0.2.2    DNS 74 Standard query 0x1234 A "
         "example.com\n",
         "tshark"},
        {"$ tshark -r x.pcap\n    1   0.000000 192.0.2.1 -> 192.0.2.2 DNS 74 Standard query "
         "0x1234 A example.com\n",
         "tshark"},
        {"#separator \\x09\n#set_separator\t,\n#path\tdns\n", "Zeek log"},
        {"{\"ts\":1704067200.0,\"uid\":\"Cabc\",\"id.orig_h\":\"192.0.2.1\",\"query\":\"example."
         "com\",\"rcode_name\":\"NXDOMAIN\"}\n",
         "Zeek log in JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[] = "/tmp/nt_foreignXXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "wb");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        struct source *s = NULL;
        char err[SOURCE_ERROR_MAX];
        assert_int_equal(source_open(path, &s, err), NT_ERR_NOT_CAPTURE);
        assert_null(s);
        assert_non_null(strstr(err, cases[i].want));
        unlink(path);
    }
}

/* A record the snap length cut ("[|domain]") is read, and counted as unread traffic; an ICMP
 * error whose quote was cut is not. Frames of a capture: the same rule on the decoder's
 * anomalies (source_frame_unread). */
static void test_cut_records_and_frames(void **state)
{
    (void)state;
    struct run *r =
        read_text("13:29:01.000001 IP 192.51.100.15.52450 > 203.0.113.2.53: [|domain]\n"
                  "13:29:02.000000 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
                  "unreachable, length 36 [|domain]\n");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.unread, 1);
    assert_int_equal(r->stats.first_unread[0], 1);
    run_free(r);

    struct packet *p = calloc(1, sizeof *p);
    assert_non_null(p);
    packet_reset(p);
    p->caplen = 60;
    p->wirelen = 60;
    packet_add_anomaly(p, ANOM_DNS_TRUNCATED); /* short on the wire: read whole */
    assert_false(source_frame_unread(p));
    p->wirelen = 90; /* the capture cut it */
    assert_true(source_frame_unread(p));
    packet_reset(p);
    p->caplen = p->wirelen = 60;
    packet_add_anomaly(p, ANOM_ICMP_QUOTE_TRUNCATED);
    assert_false(source_frame_unread(p));
    packet_add_anomaly(p, ANOM_IPV4_BAD_VERSION); /* the link names IP, the bytes are not */
    assert_true(source_frame_unread(p));
    free(p);
}

/* Writes n bytes to a new temporary file; path receives its name. */
static void write_tmp(char *path, const void *data, size_t n)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Reads a file through source_open; returns the packets read, or a negative error. */
static int read_path(const char *path, struct packet *first, struct source_stats *st)
{
    struct source *s = NULL;
    char err[SOURCE_ERROR_MAX];
    int rc = source_open(path, &s, err);
    if (rc < 0)
        return rc;
    static struct packet tmp;
    int n = 0;
    while ((rc = source_next(s, &tmp)) == 1) {
        if (n == 0) {
            *first = tmp;
            first->line = NULL;
        }
        n++;
    }
    *st = *source_stats(s);
    source_close(s);
    return n;
}

/* UTF-16 with a byte-order mark, as Windows redirection writes it (CRLF), little and big
 * endian: decoded to UTF-8 and read; a character outside the BMP (a surrogate pair) and a lone
 * surrogate in a comment line cost nothing else. */
static void test_utf16_text(void **state)
{
    (void)state;
    static const char *const lines =
        "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? a.example. (24)\r\n"
        "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp port 53 "
        "unreachable, length 150\r\n"
        "note: X\r\n";
    for (int be = 0; be < 2; be++) {
        uint8_t buf[1024];
        size_t n = 0;
        buf[n++] = be ? 0xfe : 0xff;
        buf[n++] = be ? 0xff : 0xfe;
        for (const char *c = lines; *c; c++) {
            uint16_t u = (uint8_t)*c;
            if (*c == 'X') {
                /* U+1F600 as a pair, then a lone high surrogate before "!" */
                static const uint16_t extra[] = {0xd83d, 0xde00, 0xd800, '!'};
                for (size_t k = 0; k < 4; k++) {
                    buf[n++] = (uint8_t)(be ? extra[k] >> 8 : extra[k] & 0xff);
                    buf[n++] = (uint8_t)(be ? extra[k] & 0xff : extra[k] >> 8);
                }
                continue;
            }
            buf[n++] = (uint8_t)(be ? u >> 8 : u & 0xff);
            buf[n++] = (uint8_t)(be ? u & 0xff : u >> 8);
        }
        char path[] = "/tmp/nt_utf16XXXXXX";
        write_tmp(path, buf, n);
        struct packet *p = calloc(1, sizeof *p);
        assert_non_null(p);
        struct source_stats st;
        assert_int_equal(read_path(path, p, &st), 2);
        assert_int_equal(p->dns.id, 35084);
        assert_int_equal(st.unread, 0);
        assert_int_equal(st.lines, 3);
        free(p);
        unlink(path);
    }
}

/* -x, -X and -XX (tcpdump 4.99 on examples/port-unreachable.pcap): the hex dump is decoded by
 * the capture decoder, so the ICMP error's quote holds what tcpdump's text leaves out without
 * -v (the client's port and the DNS id and question). A dump whose offsets skip is not used. */
static const char icmp_hex_x[] = "21:54:23.788703 IP 198.51.100.2 > 198.51.100.15: ICMP "
                                 "198.51.100.2 udp port 53 unreachable, length 98\n"
                                 "\t0x0000:  45c0 0076 2cf5 0000 4001 f859 c633 6402\n"
                                 "\t0x0010:  c633 640f 0303 f4c0 0000 0000 4500 005a\n"
                                 "\t0x0020:  5bd5 0000 4011 ca45 c633 640f c633 6402\n"
                                 "\t0x0030:  9fbf 0035 0046 54d0 f6cd 0120 0001 0000\n"
                                 "\t0x0040:  0000 0001 1179 756d 6d79 7265 6369 7065\n"
                                 "\t0x0050:  7366 6f72 6d65 0363 6f6d 0000 0100 0100\n"
                                 "\t0x0060:  0029 04d0 0000 0000 000c 000a 0008 8766\n"
                                 "\t0x0070:  d712 9ed9 1934\n";
static const char icmp_hex_X[] =
    "21:54:23.788703 IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 unreachable, "
    "length 98\n"
    "\t0x0000:  45c0 0076 2cf5 0000 4001 f859 c633 6402  E..v,...@..Y.3d.\n"
    "\t0x0010:  c633 640f 0303 f4c0 0000 0000 4500 005a  .3d.........E..Z\n"
    "\t0x0020:  5bd5 0000 4011 ca45 c633 640f c633 6402  [...@..E.3d..3d.\n"
    "\t0x0030:  9fbf 0035 0046 54d0 f6cd 0120 0001 0000  ...5.FT.........\n"
    "\t0x0040:  0000 0001 1179 756d 6d79 7265 6369 7065  .....yummyrecipe\n"
    "\t0x0050:  7366 6f72 6d65 0363 6f6d 0000 0100 0100  sforme.com......\n"
    "\t0x0060:  0029 04d0 0000 0000 000c 000a 0008 8766  .).............f\n"
    "\t0x0070:  d712 9ed9 1934                           .....4\n";
static const char icmp_hex_XX[] =
    "21:54:23.788703 IP 198.51.100.2 > 198.51.100.15: ICMP 198.51.100.2 udp port 53 unreachable, "
    "length 98\n"
    "\t0x0000:  1266 ecd7 b85a 2225 9114 44c3 0800 45c0  .f...Z\"%..D...E.\n"
    "\t0x0010:  0076 2cf5 0000 4001 f859 c633 6402 c633  .v,...@..Y.3d..3\n"
    "\t0x0020:  640f 0303 f4c0 0000 0000 4500 005a 5bd5  d.........E..Z[.\n"
    "\t0x0030:  0000 4011 ca45 c633 640f c633 6402 9fbf  ..@..E.3d..3d...\n"
    "\t0x0040:  0035 0046 54d0 f6cd 0120 0001 0000 0000  .5.FT...........\n"
    "\t0x0050:  0001 1179 756d 6d79 7265 6369 7065 7366  ...yummyrecipesf\n"
    "\t0x0060:  6f72 6d65 0363 6f6d 0000 0100 0100 0029  orme.com.......)\n"
    "\t0x0070:  04d0 0000 0000 000c 000a 0008 8766 d712  .............f..\n"
    "\t0x0080:  9ed9 1934                                ...4\n";

static void test_hex_dumps(void **state)
{
    (void)state;
    const char *const dumps[] = {icmp_hex_x, icmp_hex_X, icmp_hex_XX};
    for (size_t i = 0; i < 3; i++) {
        struct run *r = read_text(dumps[i]);
        assert_int_equal(r->n, 1);
        assert_int_equal(r->stats.unread, 0);
        assert_int_equal(r->stats.bad_lines, 0);
        const struct packet *p = &r->p[0];
        assert_int_equal(p->icmp_type, 3);
        assert_int_equal(p->icmp_code, 3);
        assert_true(p->quote.has_ports);
        assert_int_equal(p->quote.sport, 40895);
        assert_int_equal(p->quote.dport, 53);
        assert_true(p->quote.has_dns);
        assert_int_equal(p->quote.dns_id, 63181);
        assert_string_equal(p->quote.q.name.text, "yummyrecipesforme.com.");
        /* the evidence is the record as printed, without the dump */
        assert_null(strstr(p->line, "0x0000"));
        assert_int_equal(p->ts.sec, 21 * 3600 + 54 * 60 + 23);
        run_free(r);
    }
    /* an offset out of sequence: the text is read, the dump is not used */
    char bad[2048];
    snprintf(bad, sizeof bad, "%s", icmp_hex_x);
    char *o = strstr(bad, "0x0030");
    assert_non_null(o);
    o[4] = '4';
    struct run *r = read_text(bad);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->p[0].icmp_type, 3);
    assert_false(r->p[0].quote.has_dns);
    run_free(r);
}

/* A pull request's diff ('+' on every added line) and stamps that lost their fraction
 * ("14:18:28 IP ..."); a sentence that begins with a time stays prose. */
static void test_diff_and_whole_seconds(void **state)
{
    (void)state;
    struct run *r = read_text(
        "+21:11:07.566389 IP 1.2.0.100.24580 > 101.0.1.100.53: 15555% [1au] A? org. (32)\n"
        "+21:11:07.566861 IP 101.0.1.100.53 > 1.2.0.100.24580: 15555- 0/1/2 (78)\n"
        "+```\n"
        "+\n"
        "+Now that the resolver knows where the root servers are, it asks the TLDs.\n");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->p[0].dns.id, 15555);
    assert_int_equal(r->p[1].sport, 53);
    assert_int_equal(r->stats.ignored_lines, 2);
    run_free(r);
    r = read_text("14:18:28 the server restarted and then:\n"
                  "14:18:29 IP 192.168.34.170 > 9.9.9.9: ICMP 192.168.34.170 udp port 46103 "
                  "unreachable, length 130\n");
    assert_int_equal(r->n, 1);
    assert_int_equal(r->p[0].icmp_type, 3);
    assert_int_equal(r->p[0].ts.sec, 14 * 3600 + 18 * 60 + 29);
    assert_int_equal(r->p[0].ts.nsec, 0);
    assert_int_equal(r->stats.unread, 0);
    assert_int_equal(r->stats.ignored_lines, 1);
    run_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_sample),
        cmocka_unit_test(test_verbose_admin_prohibited_quote),
        cmocka_unit_test(test_ev_quote_without_keyword),
        cmocka_unit_test(test_vv_response_records),
        cmocka_unit_test(test_dns_header_variants),
        cmocka_unit_test(test_timestamp_styles),
        cmocka_unit_test(test_icmp_messages),
        cmocka_unit_test(test_link_and_addresses),
        cmocka_unit_test(test_layout_and_bad_lines),
        cmocka_unit_test(test_no_records),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_any_interface_direction),
        cmocka_unit_test(test_pasted_spacing),
        cmocka_unit_test(test_paste_trailers),
        cmocka_unit_test(test_quoted_and_numbered),
        cmocka_unit_test(test_utf8_bom),
        cmocka_unit_test(test_unread_vs_ignored),
        cmocka_unit_test(test_icmp_vvv_quote),
        cmocka_unit_test(test_foreign_text_refused),
        cmocka_unit_test(test_cut_records_and_frames),
        cmocka_unit_test(test_utf16_text),
        cmocka_unit_test(test_hex_dumps),
        cmocka_unit_test(test_diff_and_whole_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
