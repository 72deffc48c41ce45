/* test_pipeline.c: the engine as a library (src/pipeline/): captures built here go through
 * source, decode, correlate and detect, and the model is checked, including clock steps in
 * merged captures and the bounds' evictions being counted and shown in every format. */
#include "testutil.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/pipeline.h"

/* A classic pcap (microseconds, Ethernet) written record by record. */
struct cap {
    uint8_t *buf;
    size_t len, cap;
};

static void put(struct cap *c, const void *p, size_t n)
{
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->buf = realloc(c->buf, c->cap);
        assert_non_null(c->buf);
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static void put32(struct cap *c, uint32_t v)
{
    put(c, &v, 4); /* host order: the magic below says which */
}

static void cap_init(struct cap *c)
{
    memset(c, 0, sizeof *c);
    put32(c, 0xa1b2c3d4);
    uint16_t ver[2] = {2, 4};
    put(c, ver, 4);
    put32(c, 0);
    put32(c, 0);
    put32(c, 65535);
    put32(c, 1);
}

/* An Ethernet/IPv4/UDP DNS message for "www.example.com. A" between 192.0.2.10:port and
 * 192.0.2.53:53; response: from the server, NOERROR with one A record. */
static void cap_dns(struct cap *c, double t, uint16_t client_port, uint16_t id, bool response)
{
    uint8_t f[256];
    size_t n = 0;
    static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
    memcpy(f, eth, 14);
    n = 14;
    uint8_t dns[128];
    size_t d = 0;
    dns[d++] = (uint8_t)(id >> 8);
    dns[d++] = (uint8_t)id;
    dns[d++] = response ? 0x81 : 0x01;
    dns[d++] = response ? 0x80 : 0x00;
    static const uint8_t counts_q[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    static const uint8_t counts_r[8] = {0, 1, 0, 1, 0, 0, 0, 0};
    memcpy(dns + d, response ? counts_r : counts_q, 8);
    d += 8;
    static const uint8_t qname[] = "\3www\7example\3com";
    memcpy(dns + d, qname, sizeof qname); /* with the root's 0 */
    d += sizeof qname;
    static const uint8_t qtail[4] = {0, 1, 0, 1};
    memcpy(dns + d, qtail, 4);
    d += 4;
    if (response) {
        static const uint8_t rr[16] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
                                       0x0e, 0x10, 0, 4, 192, 0, 2, 80};
        memcpy(dns + d, rr, 16);
        d += 16;
    }
    uint16_t udp_len = (uint16_t)(8 + d), ip_len = (uint16_t)(20 + udp_len);
    uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {192, 0, 2, 53};
    uint8_t ip[20] = {0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 1, 0, 0, 64, 17, 0, 0};
    memcpy(ip + 12, response ? srv : cli, 4);
    memcpy(ip + 16, response ? cli : srv, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
    memcpy(f + n, ip, 20);
    n += 20;
    uint16_t sp = response ? 53 : client_port, dp = response ? client_port : 53;
    uint8_t udp[8] = {(uint8_t)(sp >> 8),
                      (uint8_t)sp,
                      (uint8_t)(dp >> 8),
                      (uint8_t)dp,
                      (uint8_t)(udp_len >> 8),
                      (uint8_t)udp_len,
                      0,
                      0};
    memcpy(f + n, udp, 8);
    n += 8;
    memcpy(f + n, dns, d);
    n += d;
    uint32_t sec = (uint32_t)t, usec = (uint32_t)((t - (double)sec) * 1e6 + 0.5);
    put32(c, sec);
    put32(c, usec);
    put32(c, (uint32_t)n);
    put32(c, (uint32_t)n);
    put(c, f, n);
}

static char *write_cap(const struct cap *c)
{
    char *path = strdup("/tmp/nt-test-pipeline-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, c->buf, c->len), (ssize_t)c->len);
    close(fd);
    return path;
}

struct run {
    struct analysis a;
    struct pipeline *p;
};

static void run_file(struct run *r, const char *path, const struct pipeline_config *cfg)
{
    memset(&r->a, 0, sizeof r->a);
    r->p = pipeline_new(cfg, NULL, &r->a, 1);
    assert_non_null(r->p);
    assert_true(pipeline_read(r->p, path, 0));
    assert_true(pipeline_finish(r->p));
}

static void run_fini(struct run *r)
{
    analysis_fini(&r->a);
    pipeline_free(r->p);
}

static bool rendered_has(const struct analysis *a, const char *format, const char *needle)
{
    struct strbuf b;
    strbuf_init(&b);
    if (strcmp(format, "md") == 0)
        report_render_md(a, &b);
    else if (strcmp(format, "json") == 0)
        report_render_json(a, &b);
    else
        report_render_ndjson(a, &b);
    bool found = strstr(strbuf_str(&b), needle) != NULL;
    strbuf_fini(&b);
    return found;
}

/* A UDP datagram between 192.0.2.10:port and 192.0.2.53:53 (to the server unless response)
 * carrying the DNS message dns[0..d). */
static void cap_udp(struct cap *c, double t, uint16_t client_port, const uint8_t *dns, size_t d,
                    bool response)
{
    uint8_t f[512];
    size_t n = 0;
    static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
    memcpy(f, eth, 14);
    n = 14;
    uint16_t udp_len = (uint16_t)(8 + d), ip_len = (uint16_t)(20 + udp_len);
    uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {192, 0, 2, 53};
    uint8_t ip[20] = {0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 1, 0, 0, 64, 17, 0, 0};
    memcpy(ip + 12, response ? srv : cli, 4);
    memcpy(ip + 16, response ? cli : srv, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
    memcpy(f + n, ip, 20);
    n += 20;
    uint16_t sp = response ? 53 : client_port, dp = response ? client_port : 53;
    uint8_t udp[8] = {(uint8_t)(sp >> 8),
                      (uint8_t)sp,
                      (uint8_t)(dp >> 8),
                      (uint8_t)dp,
                      (uint8_t)(udp_len >> 8),
                      (uint8_t)udp_len,
                      0,
                      0};
    memcpy(f + n, udp, 8);
    n += 8;
    assert_true(n + d <= sizeof f);
    memcpy(f + n, dns, d);
    n += d;
    uint32_t sec = (uint32_t)t, usec = (uint32_t)((t - (double)sec) * 1e6 + 0.5);
    put32(c, sec);
    put32(c, usec);
    put32(c, (uint32_t)n);
    put32(c, (uint32_t)n);
    put(c, f, n);
}

/* An UPDATE (opcode 5) of zone corp.example adding "ws1.corp.example. A 192.0.2.10", or its
 * answer with rcode; a NOTIFY (opcode 4, AA) for the zone's SOA, or its answer. */
static size_t dns_update(uint8_t *m, uint16_t id, bool response, unsigned rcode)
{
    static const uint8_t zone[] = "\4corp\7example";
    size_t d = 0;
    m[d++] = (uint8_t)(id >> 8);
    m[d++] = (uint8_t)id;
    m[d++] = (uint8_t)((response ? 0x80 : 0) | 5 << 3);
    m[d++] = (uint8_t)rcode;
    static const uint8_t counts_q[8] = {0, 1, 0, 0, 0, 1, 0, 0};
    static const uint8_t counts_r[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(m + d, response ? counts_r : counts_q, 8);
    d += 8;
    memcpy(m + d, zone, sizeof zone);
    d += sizeof zone;
    static const uint8_t soa_in[4] = {0, 6, 0, 1};
    memcpy(m + d, soa_in, 4);
    d += 4;
    if (!response) {
        static const uint8_t rr[] = {3, 'w', 's', '1',  0xc0, 12, 0,   1, 0, 1,
                                     0, 0,   4,   0xb0, 0,    4,  192, 0, 2, 10};
        memcpy(m + d, rr, sizeof rr);
        d += sizeof rr;
    }
    return d;
}

static size_t dns_notify(uint8_t *m, uint16_t id, bool response, unsigned rcode)
{
    static const uint8_t zone[] = "\4corp\7example";
    size_t d = 0;
    m[d++] = (uint8_t)(id >> 8);
    m[d++] = (uint8_t)id;
    m[d++] = (uint8_t)((response ? 0x80 : 0) | 4 << 3 | 0x04);
    m[d++] = (uint8_t)rcode;
    static const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(m + d, counts, 8);
    d += 8;
    memcpy(m + d, zone, sizeof zone);
    d += sizeof zone;
    static const uint8_t soa_in[4] = {0, 6, 0, 1};
    memcpy(m + d, soa_in, 4);
    d += 4;
    return d;
}

/* A Windows member's dynamic update refused by the domain's DNS server, and a NOTIFY answered
 * NOTIMP: each a finding (they used to be dropped before correlation, and the report said no
 * problem was found). An update answered YXRRSET (a prerequisite) is not a rejection, and no
 * QUERY rule (dns.refused) reports the refused update. */
static void test_update_and_notify_rejected(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    uint8_t m[256];
    size_t d;
    for (int i = 0; i < 2; i++) {
        d = dns_update(m, (uint16_t)(0x100 + i), false, 0);
        cap_udp(&c, 1000.0 + i, (uint16_t)(50000 + i), m, d, false);
        d = dns_update(m, (uint16_t)(0x100 + i), true, 5 /* REFUSED */);
        cap_udp(&c, 1000.002 + i, (uint16_t)(50000 + i), m, d, true);
    }
    d = dns_update(m, 0x200, false, 0);
    cap_udp(&c, 1003.0, 50010, m, d, false);
    d = dns_update(m, 0x200, true, 7 /* YXRRSET */);
    cap_udp(&c, 1003.002, 50010, m, d, true);
    d = dns_notify(m, 0x300, false, 0);
    cap_udp(&c, 1004.0, 50020, m, d, false);
    d = dns_notify(m, 0x300, true, 4 /* NOTIMP */);
    cap_udp(&c, 1004.002, 50020, m, d, true);
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct run r;
    run_file(&r, path, &cfg);
    assert_int_equal(r.a.n_findings, 2);
    const struct finding *up = NULL, *no = NULL;
    for (size_t i = 0; i < r.a.n_findings; i++) {
        const struct finding *f = r.a.findings[i];
        assert_string_equal(f->id, "dns.update_rejected");
        size_t kl = strlen(f->key);
        if (kl > 2 && strcmp(f->key + kl - 2, "|5") == 0)
            up = f;
        else if (kl > 2 && strcmp(f->key + kl - 2, "|4") == 0)
            no = f;
    }
    assert_non_null(up);
    assert_non_null(no);
    assert_int_equal(up->severity, SEV_HIGH);
    assert_int_equal(up->lookups, 2);
    assert_non_null(strstr(up->summary, "rejected dynamic updates: 2 dynamic updates from 1 "
                                        "client (192.0.2.10) for corp.example. SOA over UDP port "
                                        "53 failed (2 REFUSED)"));
    assert_non_null(strstr(up->causes[0].text, "does not accept updates from these clients"));
    assert_int_equal(up->causes[0].confidence, CONF_HIGH);
    assert_int_equal(no->severity, SEV_MEDIUM);
    assert_non_null(strstr(no->summary, "(1 NOTIMP)"));
    assert_non_null(strstr(no->causes[0].text, "does not implement NOTIFY"));
    assert_true(rendered_has(&r.a, "md", "DNS dynamic updates or NOTIFY rejected"));
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* A query for "www.example.com. A" whose name starts with a reserved label type (0x81), or,
 * with trailing, a well-formed one followed by 3 padding bytes. */
static size_t dns_bad_query(uint8_t *m, uint16_t id, bool trailing)
{
    static const uint8_t q[] = "\7example\3com";
    size_t d = 0;
    m[d++] = (uint8_t)(id >> 8);
    m[d++] = (uint8_t)id;
    m[d++] = 0x01;
    m[d++] = 0;
    m[d++] = 0;
    m[d++] = 1;
    memset(m + d, 0, 6);
    d += 6;
    m[d++] = trailing ? 3 : 0x81;
    memcpy(m + d, "www", 3);
    d += 3;
    memcpy(m + d, q, sizeof q); /* with the root label (the string's NUL) */
    d += sizeof q;
    m[d++] = 0;
    m[d++] = 1;
    m[d++] = 0;
    m[d++] = 1;
    if (trailing) {
        memcpy(m + d, "pad", 3);
        d += 3;
    }
    return d;
}

/* Decoder anomalies feed dns.malformed: 10 malformed queries to one server make a finding;
 * messages the snapshot length cut (caplen < length on the wire) and padding after the last
 * record (dns.trailing_bytes) never count, though both stay in the anomaly table. */
static void test_malformed_dns_feeds_a_finding(void **state)
{
    (void)state;
    uint8_t m[256];
    for (int round = 0; round < 3; round++) {
        struct cap c;
        cap_init(&c);
        for (int i = 0; i < 12; i++) {
            size_t d = dns_bad_query(m, (uint16_t)(0x400 + i), round == 2);
            cap_udp(&c, 2000.0 + i * 0.1, (uint16_t)(40000 + i), m, d, false);
            if (round == 1 && i >= 2) {
                /* Cut by the capture: the wire carried 20 more bytes than were kept. */
                uint32_t wire;
                size_t at = c.len - (14 + 20 + 8 + d) - 4;
                memcpy(&wire, c.buf + at, 4);
                wire += 20;
                memcpy(c.buf + at, &wire, 4);
            }
        }
        char *path = write_cap(&c);
        struct pipeline_config cfg;
        pipeline_config_default(&cfg);
        struct run r;
        run_file(&r, path, &cfg);
        const struct finding *f = NULL;
        for (size_t i = 0; i < r.a.n_findings; i++)
            if (strcmp(r.a.findings[i]->id, "dns.malformed") == 0)
                f = r.a.findings[i];
        const struct anomaly_counts *ac = &r.a.inputs[0].anomalies;
        if (round == 0) {
            assert_non_null(f);
            assert_int_equal(f->lookups, 12);
            assert_int_equal(f->query_packets, 12);
            assert_int_equal(f->n_clients, 1);
            assert_non_null(strstr(f->summary, "12 malformed DNS messages were sent to the DNS "
                                               "server 192.0.2.53 (UDP port 53) from 1 source "
                                               "(192.0.2.10)"));
            assert_non_null(strstr(f->facts[0], "12 dns.bad_label_type"));
            assert_int_equal(f->attack, ATTACK_NONE); /* fewer than 100 crafted messages */
            assert_true(rendered_has(&r.a, "json", "\"dns.malformed\""));
            assert_true(rendered_has(&r.a, "ndjson", "dns.malformed"));
        } else {
            assert_null(f); /* 2 whole malformed messages; or padding only */
        }
        assert_int_equal(ac->n[round == 2 ? ANOM_DNS_TRAILING_BYTES : ANOM_DNS_BAD_LABEL_TYPE], 12);
        run_fini(&r);
        unlink(path);
        free(path);
        free(c.buf);
    }
}

/* Host names tcpdump printed instead of addresses are interned per run (the pipeline owns the
 * table): two runs in one process, one after the other and then at once, each render their own
 * names; every table is freed with its pipeline (the sanitizer pass checks there is no leak or
 * use after free). */
static char *write_text(const char *text)
{
    char *path = strdup("/tmp/nt-test-pipeline-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_host_names_belong_to_the_run(void **state)
{
    (void)state;
    static const char t1[] =
        "13:24:32.192571 IP client-one.corp.example.52444 > dns-one.corp.example.domain: 35084+ "
        "A? www.example.com. (33)\n"
        "13:24:32.192900 IP dns-one.corp.example > client-one.corp.example: ICMP "
        "dns-one.corp.example udp port domain unreachable, length 69\n";
    static const char t2[] =
        "13:24:32.192571 IP client-two.corp.example.52444 > dns-two.corp.example.domain: 35084+ "
        "A? www.example.com. (33)\n"
        "13:24:32.192900 IP dns-two.corp.example > client-two.corp.example: ICMP "
        "dns-two.corp.example udp port domain unreachable, length 69\n";
    char *p1 = write_text(t1), *p2 = write_text(t2);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct run a, b;
    run_file(&a, p1, &cfg);
    assert_true(rendered_has(&a.a, "md", "dns-one.corp.example"));
    run_fini(&a);
    run_file(&a, p1, &cfg);
    run_file(&b, p2, &cfg);
    assert_true(a.a.n_findings >= 1 && b.a.n_findings >= 1);
    assert_true(rendered_has(&a.a, "md", "dns-one.corp.example"));
    assert_false(rendered_has(&a.a, "md", "dns-two"));
    assert_true(rendered_has(&b.a, "json", "dns-two.corp.example"));
    assert_false(rendered_has(&b.a, "json", "dns-one"));
    run_fini(&b);
    assert_true(rendered_has(&a.a, "ndjson", "client-one.corp.example"));
    run_fini(&a);
    unlink(p1);
    unlink(p2);
    free(p1);
    free(p2);
}

/* Two captures merged by concatenation: the second starts 300 s before the first ended. Its
 * lookups, answered 10 ms later, pair; no false silence, no unsolicited answer; the step is
 * counted and shown. */
static void test_clock_step_in_merged_capture(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    cap_dns(&c, 1000.0, 40000, 1, false);
    cap_dns(&c, 1000.010, 40000, 1, true);
    cap_dns(&c, 1400.0, 40001, 2, false);
    cap_dns(&c, 1400.010, 40001, 2, true);
    /* Stamped before the packet above. */
    cap_dns(&c, 1100.0, 40002, 3, false);
    cap_dns(&c, 1100.010, 40002, 3, true);
    for (int i = 0; i < 20; i++) {
        cap_dns(&c, 1101.0 + i, (uint16_t)(40100 + i), (uint16_t)(100 + i), false);
        cap_dns(&c, 1101.010 + i, (uint16_t)(40100 + i), (uint16_t)(100 + i), true);
    }
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct run r;
    run_file(&r, path, &cfg);
    const struct analysis_summary *s = &r.a.summary;
    assert_int_equal(s->dns_lookups, 23);
    assert_int_equal(s->answered, 23);
    assert_int_equal(s->unanswered, 0);
    assert_int_equal(s->unsolicited_responses, 0);
    assert_int_equal(s->clock_steps, 1);
    assert_int_equal(s->clock_steps_kept[0].pkt, 5);
    assert_int_equal(r.a.n_findings, 0);
    assert_true(rendered_has(&r.a, "md", "clock stepped 1 time (back by more than 1 s"));
    assert_true(rendered_has(&r.a, "json", "\"clock_steps\": 1"));
    assert_true(rendered_has(&r.a, "ndjson", "\"clock_steps\":1"));
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* The open-lookup bound: past it the lookup due first is closed early, and every output says
 * how many. */
static void test_eviction_counted_everywhere(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    /* 50 queries a second apart, never answered (late window 120 s: all open at once). */
    for (int i = 0; i < 50; i++)
        cap_dns(&c, 2000.0 + i, (uint16_t)(41000 + i), (uint16_t)(500 + i), false);
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    cfg.limits.max_lookups = 10;
    struct run r;
    run_file(&r, path, &cfg);
    const struct analysis_summary *s = &r.a.summary;
    assert_int_equal(s->dns_lookups, 50);
    assert_int_equal(s->lookups_evicted, 40);
    assert_int_equal(s->lookups_open_peak, 10);
    assert_true(rendered_has(&r.a, "md", "40 DNS lookups were closed early because 10 were open"));
    assert_true(rendered_has(&r.a, "json", "\"lookups_evicted\": 40"));
    assert_true(rendered_has(&r.a, "ndjson", "\"lookups_evicted\":40"));
    run_fini(&r);
    /* Without the bound nothing is evicted. */
    pipeline_config_default(&cfg);
    run_file(&r, path, &cfg);
    assert_int_equal(r.a.summary.lookups_evicted, 0);
    assert_false(rendered_has(&r.a, "md", "closed early"));
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* The per-key bound: 1,100 lookups of one client, port, server and id, each answered at once,
 * all within the answer guard (1 s, so all are open at once): past CORRELATE_KEY_MAX the oldest
 * of the key is closed early (already answered), and the outputs say how many. Every answer
 * still pairs. */
static void test_key_bound_counted_everywhere(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    for (int i = 0; i < 1100; i++) {
        cap_dns(&c, 3000.0 + i * 0.0004, 42000, 77, false);
        cap_dns(&c, 3000.0002 + i * 0.0004, 42000, 77, true);
    }
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct run r;
    run_file(&r, path, &cfg);
    const struct analysis_summary *s = &r.a.summary;
    assert_int_equal(s->dns_lookups, 1100);
    assert_int_equal(s->answered, 1100);
    assert_int_equal(s->unsolicited_responses, 0);
    assert_int_equal(s->lookups_evicted, 0);
    assert_int_equal(s->lookups_key_evicted, 1100 - CORRELATE_KEY_MAX);
    assert_true(rendered_has(&r.a, "md",
                             "76 DNS lookups were closed early because 1024 lookups "
                             "with the same client, server, port and DNS id"));
    assert_true(rendered_has(&r.a, "json", "\"lookups_key_evicted\": 76"));
    assert_true(rendered_has(&r.a, "ndjson", "\"lookups_key_evicted\":76"));
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* Evidence lines of captured packets are made by report, from the frame the evidence kept. */
static void test_evidence_line_made_by_report(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    for (int i = 0; i < 3; i++)
        cap_dns(&c, 3000.0 + i, 42000, 77, false); /* one lookup sent three times, silence */
    cap_dns(&c, 3100.0, 42001, 78, false);
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct run r;
    run_file(&r, path, &cfg);
    assert_true(r.a.n_findings >= 1);
    const struct finding *f = r.a.findings[0];
    assert_true(f->n_evidence >= 1);
    assert_non_null(f->evidence[0].frame);
    assert_non_null(f->evidence[0].text);
    assert_string_equal(f->evidence[0].text,
                        "IP 192.0.2.10.42000 > 192.0.2.53.53: 77+ A? www.example.com. (33)");
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* The incident tracker run by the pipeline (nettriage watch): answered for 10 s, silent for
 * 60 s (queries every second), answered again; from the start of the silence to the end of the
 * capture one client retransmits one query every second (same port and id: one lookup, never
 * final before the end). The silent lookups are final only after the late window, when the
 * server answers again: one incident, dns.no_response, opened then and closed recovered at the
 * first answer after the silence with its 60 lookups, 120 s after the recovery, while the
 * stuck lookup still goes on (it keeps nothing open); the sink sees every packet; without
 * pipeline_config.incidents there is no tracker. */
struct watched {
    struct incident_event ev[16];
    size_t n;
    uint64_t packets;
};

static void watched_incident(void *ctx, const struct incident_event *ev)
{
    struct watched *w = ctx;
    assert_true(w->n < 16);
    w->ev[w->n++] = *ev;
}

static void watched_packet(void *ctx, const struct packet *pkt)
{
    struct watched *w = ctx;
    (void)pkt;
    w->packets++;
}

static void test_watch_incident_through_the_pipeline(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    uint64_t packets = 0;
    double t0 = 1790000000.0;
    for (int i = 0; i < 300; i++) {
        double t = t0 + i;
        bool silent = i >= 10 && i < 70;
        cap_dns(&c, t, (uint16_t)(30000 + i), (uint16_t)(1000 + i), false);
        packets++;
        if (!silent) {
            cap_dns(&c, t + 0.01, (uint16_t)(30000 + i), (uint16_t)(1000 + i), true);
            packets++;
        }
        if (i >= 10) {
            /* the stuck client: the same query again, every second */
            cap_dns(&c, t + 0.5, 29999, 999, false);
            packets++;
        }
    }
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    struct incident_config ic;
    incident_config_default(&ic);
    cfg.incidents = &ic;
    struct watched w = {0};
    struct pipeline_sink sink = {
        .ctx = &w, .on_incident = watched_incident, .on_packet = watched_packet};
    struct analysis a = {0};
    struct pipeline *p = pipeline_new(&cfg, &sink, &a, 1);
    assert_non_null(p);
    assert_true(pipeline_read(p, path, 0));
    assert_non_null(pipeline_incidents(p));
    assert_true(pipeline_finish(p));
    assert_int_equal(w.packets, packets);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.ev[0].action, INCIDENT_OPENED);
    assert_string_equal(w.ev[0].rule, "dns.no_response");
    assert_int_equal(w.ev[1].action, INCIDENT_CLOSED);
    assert_int_equal(w.ev[1].close_reason, INCIDENT_CLOSE_RECOVERED);
    assert_int_equal(w.ev[1].incident, 1);
    /* the 60 silent lookups; closed 120 s after the recovery, long before the end */
    assert_int_equal(w.ev[1].failures, 60);
    assert_true(w.ev[1].now.sec >= 1790000070 + 120 && w.ev[1].now.sec <= 1790000070 + 121);
    assert_int_equal(w.ev[1].clients, 1);
    struct nt_time first = {.sec = 1790000010, .nsec = 0, .kind = NT_TIME_ABSOLUTE};
    struct nt_time end = {.sec = 1790000070, .nsec = 10000000, .kind = NT_TIME_ABSOLUTE};
    assert_int_equal(nt_time_cmp(&w.ev[1].first_failure, &first), 0);
    assert_int_equal(nt_time_cmp(&w.ev[1].end, &end), 0);
    assert_int_equal(w.ev[1].duration_us, 60010000);
    const struct incident_stats *st = incident_stats(pipeline_incidents(p));
    assert_int_equal(st->opened, 1);
    assert_int_equal(st->closed, 1);
    /* The report of the same run is the report's own: dns.no_response for the server. */
    assert_true(a.n_findings >= 1);
    analysis_fini(&a);
    pipeline_free(p);

    /* Without the tracker configured: no tracker. */
    struct run r;
    pipeline_config_default(&cfg);
    run_file(&r, path, &cfg);
    assert_null(pipeline_incidents(r.p));
    run_fini(&r);
    unlink(path);
    free(path);
    free(c.buf);
}

/* The model of one run rendered in every format, one after the other. */
static char *render_all(const struct analysis *a)
{
    struct strbuf b;
    strbuf_init(&b);
    report_render_md(a, &b);
    report_render_json(a, &b);
    report_render_ndjson(a, &b);
    char *s = strdup(strbuf_str(&b));
    strbuf_fini(&b);
    assert_non_null(s);
    return s;
}

/* path read n_reads times, as that many inputs, by a pipeline of `threads` threads (checked to
 * be what it runs): its model rendered in every format; its lookups and findings counted in
 * *lookups and *findings when not NULL. */
static char *report_threads(const char *path, size_t n_reads, unsigned threads,
                            uint64_t *lookups, size_t *findings)
{
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    cfg.threads = threads;
    struct analysis a;
    memset(&a, 0, sizeof a);
    struct pipeline *p = pipeline_new(&cfg, NULL, &a, n_reads);
    assert_non_null(p);
    assert_int_equal(pipeline_threads(p), threads);
    for (size_t i = 0; i < n_reads; i++)
        assert_true(pipeline_read(p, path, (uint32_t)i));
    assert_true(pipeline_finish(p));
    if (lookups)
        *lookups = a.summary.dns_lookups;
    if (findings)
        *findings = a.n_findings;
    char *out = render_all(&a);
    analysis_fini(&a);
    pipeline_free(p);
    return out;
}

/* The detector on its own thread (--threads 2, pipeline/handoff.h) makes the same report as on
 * the reading thread, in every format, for every capture and text input under tests/captures
 * (each rule's traffic, TCP attempts, ICMP errors, stray and malformed messages); and it did
 * run on a second thread. */
static void test_threads_same_report(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(NT_SOURCE_DIR "/tests/captures/*/*.pcap", 0, NULL, &g), 0);
    assert_int_equal(glob(NT_SOURCE_DIR "/tests/captures/*/*.txt", GLOB_APPEND, NULL, &g), 0);
    assert_true(g.gl_pathc >= 40);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *out[2];
        for (unsigned t = 1; t <= 2; t++)
            out[t - 1] = report_threads(g.gl_pathv[i], 1, t, NULL, NULL);
        if (strcmp(out[0], out[1]) != 0)
            fail_msg("%s: the reports with 1 and 2 threads differ", g.gl_pathv[i]);
        free(out[0]);
        free(out[1]);
    }
    globfree(&g);
}

/* The same on traffic large enough for the ring to turn many times while both threads run:
 * 30,000 lookups, one in ten never answered and one in 97 a malformed query, read twice as two
 * inputs (the second input's lookups meet the first's open ones). */
static void test_threads_same_report_busy(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    uint8_t m[256];
    for (int i = 0; i < 30000; i++) {
        double t = 2000.0 + i * 0.0005;
        uint16_t port = (uint16_t)(1024 + i % 60000), id = (uint16_t)(i * 7 + 1);
        if (i % 97 == 0) {
            size_t d = dns_bad_query(m, id, false);
            cap_udp(&c, t, port, m, d, false);
            continue;
        }
        cap_dns(&c, t, port, id, false);
        if (i % 10 != 0)
            cap_dns(&c, t + 0.005, port, id, true);
    }
    char *path = write_cap(&c);
    char *out[2];
    for (unsigned t = 1; t <= 2; t++) {
        uint64_t lookups;
        size_t findings;
        out[t - 1] = report_threads(path, 2, t, &lookups, &findings);
        assert_int_equal(lookups, 2 * 30000); /* the malformed ones too */
        assert_true(findings >= 2);           /* dns.no_response, dns.malformed */
    }
    assert_string_equal(out[0], out[1]);
    free(out[0]);
    free(out[1]);
    unlink(path);
    free(path);
    free(c.buf);
}

/* A pipeline given up before pipeline_finish (an error path) with events still queued for the
 * detector's thread: freed without running them (nothing reads the model any more), without a
 * leak or a use after free (the sanitizer pass). */
static void test_threads_free_before_finish(void **state)
{
    (void)state;
    struct cap c;
    cap_init(&c);
    for (int i = 0; i < 2000; i++)
        cap_dns(&c, 2000.0 + i * 0.001, (uint16_t)(2000 + i), (uint16_t)i, false);
    char *path = write_cap(&c);
    struct pipeline_config cfg;
    pipeline_config_default(&cfg);
    cfg.threads = 2;
    struct analysis a;
    memset(&a, 0, sizeof a);
    struct pipeline *p = pipeline_new(&cfg, NULL, &a, 1);
    assert_non_null(p);
    assert_true(pipeline_read(p, path, 0));
    analysis_fini(&a);
    pipeline_free(p);
    unlink(path);
    free(path);
    free(c.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_step_in_merged_capture),
        cmocka_unit_test(test_eviction_counted_everywhere),
        cmocka_unit_test(test_key_bound_counted_everywhere),
        cmocka_unit_test(test_evidence_line_made_by_report),
        cmocka_unit_test(test_update_and_notify_rejected),
        cmocka_unit_test(test_malformed_dns_feeds_a_finding),
        cmocka_unit_test(test_host_names_belong_to_the_run),
        cmocka_unit_test(test_watch_incident_through_the_pipeline),
        cmocka_unit_test(test_threads_same_report),
        cmocka_unit_test(test_threads_same_report_busy),
        cmocka_unit_test(test_threads_free_before_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
