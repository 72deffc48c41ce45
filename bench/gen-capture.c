/* gen-capture.c: writes a large, deterministic capture of DNS lookups, ICMP errors and more. */
/*
 * Two traffic profiles, both what a tap at a site's router would see.
 *
 * default: many clients (198.51.100.0/24 and 2001:db8:1::/64) resolving names through two
 * resolvers (203.0.113.53 and .54, and their IPv6 twins) at about 2,000 lookups/s, while some
 * clients still list a decommissioned resolver (203.0.113.35) whose port 53 is closed: their
 * queries draw ICMP port unreachable and the client falls back to its second resolver, as glibc
 * does. A few clients try an outside resolver that the firewall rejects with ICMP
 * administratively prohibited. Most lookups are answered (A, AAAA, CNAME chains, MX, some
 * NXDOMAIN and SERVFAIL), some only after a retransmission, some never. About half of the
 * packets are background traffic: TCP flows with handshakes and teardowns, QUIC, NTP, syslog,
 * mDNS and ARP.
 *
 * busy: a busy resolver site. 20,000 clients (12,000 in 198.18.0.0/15, 8,000 in
 * 2001:db8:1::/64) send about 20,000 lookups/s to four resolvers (203.0.113.53 to .56 and
 * their IPv6 twins). The daemon on .56 is down but a few clients still list it first: their
 * queries (about 5% of all) draw ICMP port unreachable quoting the whole query, and the client
 * falls back to its next resolver. About 3% of the other lookups are never answered (one to
 * three transmissions); the rest are answered within 80 ms: A, AAAA and MX records, CNAME
 * chains of one to three links, NODATA, some NXDOMAIN and SERVFAIL. Nine clients in ten send
 * EDNS (an OPT record) and get it back. About a tenth of the packets are the background mix.
 *
 * Every packet carries correct lengths and checksums so that tcpdump -v prints no complaints
 * and text and pcap input describe the same traffic. The same seed gives the same bytes. The
 * output is a classic pcap or a pcapng (one section, one interface, enhanced packet blocks)
 * holding the same packets, to a file or to standard output.
 *
 * The counts nettriage should report are printed to standard error as key=value pairs, so the
 * benchmark can check that the work it timed was the work it meant.
 */
/* strdup */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-21T09:00:00Z: a plain working morning. */
#define START_US (1795251600ULL * 1000000ULL)
/* Lookups per second across the site; with the background this makes ~9,000 packets/s. */
#define LOOKUP_RATE 2000.0
/* The busy profile: ~20,600 queries/s and ~44,000 packets/s in all. */
#define BUSY_LOOKUP_RATE 20000.0
/* nettriage's default: silence for this long makes a lookup "unanswered". */
#define TIMEOUT_US 5000000ULL

#define N_V4_CLIENTS      240
#define N_V6_CLIENTS      160
#define BUSY_V4_CLIENTS   12000
#define BUSY_V6_CLIENTS   8000
#define BUSY_LOOKUPS      1000000
#define BUSY_DOWN_SHARE   0.055 /* clients listing the resolver whose daemon is down first */
#define BUSY_SILENT_SHARE 0.03
#define N_NAMES           20000
#define N_FLOWS           128
#define SNAPLEN           262144
#define PKT_MAX           2048
#define NOISE_LEN         65536

/* ---- deterministic randomness ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: tiny, fast and good enough to pick traffic shapes. */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(unif() * n);
}

static uint64_t between(uint64_t lo, uint64_t hi)
{
    return lo + (uint64_t)(unif() * (double)(hi - lo + 1));
}

/* Exponential gap in microseconds for a Poisson process of the given rate per second. */
static uint64_t exp_gap(double rate)
{
    double u = unif();
    if (u < 1e-12)
        u = 1e-12;
    uint64_t g = (uint64_t)(-log(u) / rate * 1e6);
    return g ? g : 1;
}

/* ---- hosts ---- */

struct addr {
    bool v6;
    uint8_t b[16];
};

enum server_id {
    SRV_A,       /* resolver 1 */
    SRV_B,       /* resolver 2 */
    SRV_DEAD,    /* decommissioned resolver: port 53 closed */
    SRV_OUTSIDE, /* an outside resolver the firewall rejects */
    SRV_WEB1,
    SRV_WEB2,
    SRV_WEB3,
    SRV_QUIC,
    SRV_NTP,
    SRV_SYSLOG,
    SRV_C,    /* busy profile: resolver 3 */
    SRV_DOWN, /* busy profile: resolver 4, its daemon down (port 53 closed) */
    N_SERVERS
};

static const uint8_t server_last_octet[N_SERVERS] = {53, 54, 35,  200, 80, 81,
                                                     82, 44, 123, 5,   55, 56};

static bool busy; /* the busy-resolver profile */

struct client {
    struct addr a;
    uint8_t mac[6];
    uint16_t next_id; /* DNS ids count up per client, so lookups never collide by accident */
    uint16_t ipid;
    uint8_t primary, secondary; /* resolvers in its resolv.conf order */
    bool uses_outside;          /* hard-coded outside resolver, rejected by the firewall */
    bool no_edns;               /* an old stub that sends no OPT record */
};

/* Client numbers travel in 16 bits in the events. */
_Static_assert(BUSY_V4_CLIENTS + BUSY_V6_CLIENTS <= 65536, "client numbers are 16 bits");
static struct client *clients;
static uint32_t n_clients, n_v4_clients;
static const uint8_t router_mac[6] = {0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x01};

static void client_addr(uint32_t i, struct addr *a)
{
    memset(a, 0, sizeof *a);
    if (i < n_v4_clients && busy) {
        /* 198.18.0.0/15 (RFC 2544, for benchmarks): 198.18.1.2 onwards, 250 a /24. */
        a->v6 = false;
        a->b[0] = 198, a->b[1] = (uint8_t)(18 + i / 64000);
        a->b[2] = (uint8_t)(1 + i % 64000 / 250), a->b[3] = (uint8_t)(2 + i % 250);
    } else if (i < n_v4_clients) {
        a->v6 = false;
        a->b[0] = 198, a->b[1] = 51, a->b[2] = 100, a->b[3] = (uint8_t)(10 + i);
    } else {
        static const uint8_t pfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00};
        a->v6 = true;
        memcpy(a->b, pfx, 8);
        /* Interface ids that look like SLAAC privacy addresses, not ::1, ::2. */
        uint64_t iid = rnd();
        for (int k = 0; k < 8; k++)
            a->b[8 + k] = (uint8_t)(iid >> (8 * k));
    }
}

static void server_addr(int s, bool v6, struct addr *a)
{
    memset(a, 0, sizeof *a);
    a->v6 = v6;
    if (!v6) {
        a->b[0] = 203, a->b[1] = 0, a->b[2] = 113, a->b[3] = server_last_octet[s];
    } else {
        static const uint8_t pfx[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x53};
        memcpy(a->b, pfx, 6);
        /* 203.0.113.53 becomes 2001:db8:53::53: the decimal digits read as hex. */
        unsigned v = server_last_octet[s];
        a->b[14] = (uint8_t)(v / 100);
        a->b[15] = (uint8_t)((v / 10 % 10) << 4 | v % 10);
    }
}

/* The site router, which sends the firewall's rejections. */
static void router_addr(bool v6, struct addr *a)
{
    memset(a, 0, sizeof *a);
    a->v6 = v6;
    if (!v6 && busy) {
        a->b[0] = 198, a->b[1] = 18, a->b[2] = 0, a->b[3] = 1;
    } else if (!v6) {
        a->b[0] = 198, a->b[1] = 51, a->b[2] = 100, a->b[3] = 1;
    } else {
        static const uint8_t r[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0,
                                      0,    0,    0,    0,    0,    0,    0, 1};
        memcpy(a->b, r, 16);
    }
}

static void setup_clients(void)
{
    n_v4_clients = busy ? BUSY_V4_CLIENTS : N_V4_CLIENTS;
    n_clients = n_v4_clients + (busy ? BUSY_V6_CLIENTS : N_V6_CLIENTS);
    clients = calloc(n_clients, sizeof *clients);
    if (!clients) {
        perror("gen-capture");
        exit(2);
    }
    for (uint32_t i = 0; i < n_clients; i++) {
        struct client *c = &clients[i];
        client_addr(i, &c->a);
        c->mac[0] = 0x02, c->mac[1] = 0x00, c->mac[2] = 0x5e;
        c->mac[3] = (uint8_t)(i >> 8), c->mac[4] = (uint8_t)i, c->mac[5] = 0x10;
        c->next_id = (uint16_t)rnd();
        c->ipid = (uint16_t)rnd();
        if (busy) {
            /* Most clients are spread over the three working resolvers; a few still list
             * the fourth first. */
            static const uint8_t up[3] = {SRV_A, SRV_B, SRV_C};
            unsigned k = below(3);
            c->primary = unif() < BUSY_DOWN_SHARE ? SRV_DOWN : up[k];
            c->secondary = up[(k + 1 + below(2)) % 3];
            c->no_edns = unif() < 0.1;
            continue;
        }
        double u = unif();
        /* One client in twelve still lists the dead resolver first. */
        if (u < 1.0 / 12) {
            c->primary = SRV_DEAD;
            c->secondary = SRV_A;
        } else if (u < 0.55) {
            c->primary = SRV_A;
            c->secondary = SRV_B;
        } else {
            c->primary = SRV_B;
            c->secondary = SRV_A;
        }
        c->uses_outside = unif() < 0.02;
    }
}

/* ---- names ---- */

static char *names[N_NAMES];

/* Word lists as plain text, split once at start-up. */
static const char word_text[] =
    "yummyrecipesforme northwind contoso fabrikam tailspin adventure wingtip litware proseware "
    "lucerne margie fourthcoffee cohowinery alpineski blueyonder treyresearch woodgrove "
    "humongous relecloud wideworld graphicdesign datum southridge consolidated lamna trey "
    "bellows nod fincorp greenfield riverbend oakleaf stormcloud quickbooks mailhub newsfeed "
    "videostream photoshare mapservice weatherapp";
static const char sub_text[] = "www api cdn static img login auth mail edge update telemetry "
                               "assets m app files ws graph push status docs";
static const char tld_text[] = "com net org io de co.uk example";

#define WORDS_MAX 64
#define WORD_LEN  24

struct wordlist {
    char w[WORDS_MAX][WORD_LEN];
    uint32_t n;
};

static struct wordlist words, subs, tlds;

static void split_words(const char *text, struct wordlist *l)
{
    l->n = 0;
    for (const char *s = text; *s && l->n < WORDS_MAX;) {
        size_t k = strcspn(s, " ");
        if (k > 0 && k < WORD_LEN) {
            memcpy(l->w[l->n], s, k);
            l->w[l->n++][k] = '\0';
        }
        s += k;
        s += strspn(s, " ");
    }
}

static void setup_names(void)
{
    split_words(word_text, &words);
    split_words(sub_text, &subs);
    split_words(tld_text, &tlds);
    for (int i = 0; i < N_NAMES; i++) {
        char buf[128];
        const char *w = words.w[below(words.n)];
        const char *t = tlds.w[below(tlds.n)];
        unsigned n = below(50);
        if (unif() < 0.15)
            snprintf(buf, sizeof buf, "%s%u.%s", w, n, t);
        else
            snprintf(buf, sizeof buf, "%s.%s%u.%s", subs.w[below(subs.n)], w, n, t);
        names[i] = strdup(buf);
        if (!names[i]) {
            perror("gen-capture");
            exit(2);
        }
    }
}

/* Popular names are asked far more often than the rest (roughly Zipf). */
static uint32_t pick_name(void)
{
    double u = unif();
    return (uint32_t)(N_NAMES * u * u * u);
}

/* ---- events ---- */

enum ev_kind { EV_QUERY, EV_RESPONSE, EV_ICMP, EV_TCP, EV_NTP_REPLY, EV_ARP_REPLY };

enum icmp_what { ICMP_NONE, ICMP_PORT_UNREACH, ICMP_ADMIN_PROHIB };

/* One DNS lookup as far as its packets need it. */
struct lookup {
    uint16_t client;
    uint8_t server;
    uint8_t icmp; /* enum icmp_what */
    uint16_t qtype;
    uint16_t id;
    uint16_t sport;
    uint16_t ipid;
    uint8_t rcode;
    uint8_t shape; /* answer layout, see dns_response */
    uint8_t chain; /* CNAME links in shape 1 */
    bool no_edns;  /* no OPT record in the query nor its answer */
    uint32_t name;
    uint32_t seed; /* answer addresses and TTLs */
};

struct tcpseg {
    uint16_t client;
    uint8_t server;
    uint8_t flags;
    bool to_client;
    uint16_t cport, sport;
    uint16_t len;
    uint32_t seq, ack;
    uint32_t noise_off;
};

struct event {
    uint64_t t;
    uint64_t order; /* ties broken by scheduling order, so output never depends on the heap */
    uint8_t kind;
    union {
        struct lookup lk;
        struct tcpseg tcp;
        uint16_t client;
    } u;
};

static struct event *heap;
static size_t heap_n, heap_cap;
static uint64_t heap_order;
static uint64_t dns_events_pending;

static bool ev_less(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void push(struct event *e)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 4096;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap) {
            perror("gen-capture");
            exit(2);
        }
    }
    e->order = heap_order++;
    if (e->kind == EV_QUERY || e->kind == EV_RESPONSE || e->kind == EV_ICMP)
        dns_events_pending++;
    size_t i = heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(e, &heap[p]))
            break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = *e;
}

static struct event pop(void)
{
    struct event top = heap[0];
    struct event last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct event *mv = &last;
        if (l < heap_n && ev_less(&heap[l], mv))
            m = l, mv = &heap[l];
        if (r < heap_n && ev_less(&heap[r], mv))
            m = r;
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    if (top.kind == EV_QUERY || top.kind == EV_RESPONSE || top.kind == EV_ICMP)
        dns_events_pending--;
    return top;
}

/* ---- counts (what nettriage should find) ---- */

static struct {
    uint64_t packets, dns_packets, background;
    uint64_t lookups, queries, responses, answered;
    uint64_t noerror, nxdomain, servfail, nodata, cname, retransmitted, fallbacks;
    uint64_t icmp_errors, icmp_port_unreach, icmp_admin_prohib;
    uint64_t edns_queries, cname_links;
    uint64_t silent; /* lookups that get neither answer nor error */
    uint64_t unanswered, capture_ended;
    uint64_t bytes;
} cnt;

/* Last transmission time of every silent lookup, to classify them once the capture's end is
 * known: nettriage calls silence "unanswered" only when the capture went on for the timeout. */
static uint64_t *silent_last;
static size_t silent_n, silent_cap;

static void note_silent(uint64_t last_tx)
{
    if (silent_n == silent_cap) {
        silent_cap = silent_cap ? silent_cap * 2 : 1024;
        silent_last = realloc(silent_last, silent_cap * sizeof *silent_last);
        if (!silent_last) {
            perror("gen-capture");
            exit(2);
        }
    }
    silent_last[silent_n++] = last_tx;
}

/* ---- packet building ---- */

struct buf {
    uint8_t b[PKT_MAX];
    size_t n;
};

static void put8(struct buf *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)v;
}

static void put16(struct buf *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)(v >> 8);
    p->b[p->n++] = (uint8_t)v;
}

static void put32(struct buf *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}

static void putmem(struct buf *p, const void *m, size_t n)
{
    memcpy(p->b + p->n, m, n);
    p->n += n;
}

static void set16(uint8_t *at, unsigned v)
{
    at[0] = (uint8_t)(v >> 8);
    at[1] = (uint8_t)v;
}

static uint32_t sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Checksum of a transport segment with the IPv4 or IPv6 pseudo-header. */
static uint16_t l4_sum(const struct addr *src, const struct addr *dst, uint8_t proto,
                       const uint8_t *seg, size_t len)
{
    size_t alen = src->v6 ? 16 : 4;
    uint32_t s = sum_bytes(0, src->b, alen);
    s = sum_bytes(s, dst->b, alen);
    s += proto;
    s += (uint32_t)len;
    s = sum_bytes(s, seg, len);
    uint16_t c = fold(s);
    /* UDP sends 0 as all ones, since 0 means "no checksum". */
    return c ? c : 0xffff;
}

/* Writes an IP header for a payload of len bytes that follows; returns where the payload
 * starts. */
static size_t put_ip(struct buf *p, const struct addr *src, const struct addr *dst, uint8_t proto,
                     size_t len, uint16_t ipid, uint8_t ttl)
{
    if (!src->v6) {
        size_t h = p->n;
        put8(p, 0x45);
        put8(p, 0);
        put16(p, (unsigned)(20 + len));
        put16(p, ipid);
        put16(p, 0x4000); /* DF, as Linux sets on UDP and TCP */
        put8(p, ttl);
        put8(p, proto);
        put16(p, 0);
        putmem(p, src->b, 4);
        putmem(p, dst->b, 4);
        set16(p->b + h + 10, fold(sum_bytes(0, p->b + h, 20)));
    } else {
        put32(p, 0x60000000u | (uint32_t)(ipid & 0xfffff));
        put16(p, (unsigned)len);
        put8(p, proto);
        put8(p, ttl);
        putmem(p, src->b, 16);
        putmem(p, dst->b, 16);
    }
    return p->n;
}

static void put_eth(struct buf *p, const uint8_t *dst, const uint8_t *src, unsigned type)
{
    putmem(p, dst, 6);
    putmem(p, src, 6);
    put16(p, type);
}

/* A DNS name in wire form, optionally ending in a compression pointer instead of the root. */
static void put_name(struct buf *p, const char *name, int ptr)
{
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        put8(p, (unsigned)n);
        putmem(p, s, n);
        s += n;
        if (*s == '.')
            s++;
    }
    if (ptr >= 0)
        put16(p, 0xc000u | (unsigned)ptr);
    else
        put8(p, 0);
}

static void put_rr_head(struct buf *p, unsigned type, uint32_t ttl)
{
    put16(p, type);
    put16(p, 1);
    put32(p, ttl);
}

static void put_opt(struct buf *p)
{
    put8(p, 0);     /* root */
    put16(p, 41);   /* OPT */
    put16(p, 1232); /* the DNS flag day 2020 buffer size */
    put32(p, 0);
    put16(p, 0);
}

#define QTYPE_A     1
#define QTYPE_MX    15
#define QTYPE_AAAA  28
#define QTYPE_SOA   6
#define QTYPE_CNAME 5

static void dns_query(struct buf *p, const struct lookup *lk)
{
    put16(p, lk->id);
    put16(p, 0x0100); /* RD */
    put16(p, 1);
    put16(p, 0);
    put16(p, 0);
    put16(p, lk->no_edns ? 0 : 1);
    put_name(p, names[lk->name], -1);
    put16(p, lk->qtype);
    put16(p, 1);
    if (!lk->no_edns)
        put_opt(p);
}

static void put_soa(struct buf *p, uint32_t seed)
{
    /* Owner and names point at the question's name: a plausible zone apex. */
    put16(p, 0xc00c);
    put_rr_head(p, QTYPE_SOA, 900);
    size_t rdl = p->n;
    put16(p, 0);
    put_name(p, "ns1", 12);
    put_name(p, "hostmaster", 12);
    put32(p, 2026112100u + seed % 100);
    put32(p, 7200);
    put32(p, 900);
    put32(p, 1209600);
    put32(p, 300);
    set16(p->b + rdl, (unsigned)(p->n - rdl - 2));
}

/* Shapes: 0 plain records, 1 CNAME to a CDN name then records, 2 NODATA (SOA only). */
static void dns_response(struct buf *p, const struct lookup *lk)
{
    uint32_t seed = lk->seed;
    unsigned nrec = 1 + seed % 3;
    uint32_t ttl = 30 + (seed >> 4) % 3600;
    size_t start = p->n;
    put16(p, lk->id);
    put16(p, 0x8180u | lk->rcode); /* QR RD RA */
    put16(p, 1);
    size_t counts = p->n;
    put16(p, 0);
    put16(p, 0);
    put16(p, lk->no_edns ? 0 : 1);
    put_name(p, names[lk->name], -1);
    put16(p, lk->qtype);
    put16(p, 1);
    unsigned an = 0, ns = 0;
    if (lk->rcode == 3 || (lk->rcode == 0 && lk->shape == 2)) {
        put_soa(p, seed);
        ns = 1;
    } else if (lk->rcode == 0) {
        int owner = 12;
        /* A chain ends at the CDN's edge name; longer ones pass a traffic manager and a
         * CDN's own alias first, each owned by the previous link's target. */
        for (unsigned k = 0; lk->shape == 1 && k < lk->chain; k++) {
            char cname[64];
            unsigned left = lk->chain - 1 - k;
            if (left == 0)
                snprintf(cname, sizeof cname, "e%u.a%u.edgecdn.net", seed % 9000, (seed >> 8) % 7);
            else if (left == 1)
                snprintf(cname, sizeof cname, "%s.cdn%u.edgekey.net", words.w[seed % words.n],
                         (seed >> 12) % 5);
            else
                snprintf(cname, sizeof cname, "p%u.trafficmanager.net", (seed >> 3) % 600);
            put16(p, 0xc000u | (unsigned)owner);
            put_rr_head(p, QTYPE_CNAME, k == 0 ? ttl : 300);
            size_t rdl = p->n;
            put16(p, 0);
            owner = (int)(p->n - start);
            put_name(p, cname, -1);
            set16(p->b + rdl, (unsigned)(p->n - rdl - 2));
            an++;
            ttl = 20;
        }
        for (unsigned i = 0; i < nrec; i++) {
            put16(p, 0xc000u | (unsigned)owner);
            if (lk->qtype == QTYPE_A) {
                put_rr_head(p, QTYPE_A, ttl);
                put16(p, 4);
                put8(p, 192), put8(p, 0), put8(p, 2), put8(p, 1 + (seed + i * 37) % 254);
            } else if (lk->qtype == QTYPE_AAAA) {
                static const uint8_t pfx[12] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0};
                put_rr_head(p, QTYPE_AAAA, ttl);
                put16(p, 16);
                putmem(p, pfx, 12);
                put32(p, seed + i);
            } else {
                char mx[8];
                put_rr_head(p, QTYPE_MX, ttl);
                size_t rdl = p->n;
                put16(p, 0);
                put16(p, 10 * (i + 1));
                snprintf(mx, sizeof mx, "mx%u", i + 1);
                put_name(p, mx, 12);
                set16(p->b + rdl, (unsigned)(p->n - rdl - 2));
            }
            an++;
        }
    }
    if (!lk->no_edns)
        put_opt(p);
    set16(p->b + counts, an);
    set16(p->b + counts + 2, ns);
}

static struct addr lookup_server(const struct lookup *lk)
{
    struct addr a;
    server_addr(lk->server, clients[lk->client].a.v6, &a);
    return a;
}

/* The IP datagram of a query, as sent and as an ICMP error quotes it. */
static void query_datagram(struct buf *p, const struct lookup *lk)
{
    const struct client *c = &clients[lk->client];
    struct addr srv = lookup_server(lk);
    struct buf dns = {.n = 0};
    dns_query(&dns, lk);
    size_t ul = 8 + dns.n;
    size_t at = put_ip(p, &c->a, &srv, 17, ul, lk->ipid, 64);
    put16(p, lk->sport);
    put16(p, 53);
    put16(p, (unsigned)ul);
    put16(p, 0);
    putmem(p, dns.b, dns.n);
    set16(p->b + at + 6, l4_sum(&c->a, &srv, 17, p->b + at, ul));
}

/* ---- output: classic pcap or pcapng, in the machine's byte order as libpcap and dumpcap
 * write them ---- */

static FILE *out_f;
static const char *out_name;
static bool out_ng;
static uint64_t last_t;

static void out_write(const void *m, size_t n)
{
    if (fwrite(m, 1, n, out_f) != n) {
        fprintf(stderr, "gen-capture: %s: %s\n", out_name, strerror(errno));
        exit(2);
    }
}

static void out_u16(uint16_t v)
{
    out_write(&v, 2);
}

static void out_u32(uint32_t v)
{
    out_write(&v, 4);
}

static void out_header(void)
{
    if (!out_ng) {
        /* struct pcap_file_header: microsecond magic, version 2.4, no zone, no sigfigs. */
        out_u32(0xa1b2c3d4u);
        out_u16(2);
        out_u16(4);
        out_u32(0);
        out_u32(0);
        out_u32(SNAPLEN);
        out_u32(1); /* LINKTYPE_ETHERNET */
        return;
    }
    /* Section header block: byte-order magic, version 1.0, section length unknown. */
    out_u32(0x0a0d0d0au);
    out_u32(28);
    out_u32(0x1a2b3c4du);
    out_u16(1);
    out_u16(0);
    out_u32(0xffffffffu);
    out_u32(0xffffffffu);
    out_u32(28);
    /* Interface description block: Ethernet, if_tsresol 6 (microseconds, also the
     * default) so that a reader's option walk is exercised. */
    out_u32(1);
    out_u32(32);
    out_u16(1);
    out_u16(0);
    out_u32(SNAPLEN);
    static const uint8_t tsresol[4] = {6, 0, 0, 0}; /* the value, then padding */
    out_u16(9);
    out_u16(1);
    out_write(tsresol, 4);
    out_u32(0); /* opt_endofopt */
    out_u32(32);
}

static void emit(uint64_t t, const struct buf *p)
{
    static const uint8_t pad[4];
    if (t < last_t)
        t = last_t;
    last_t = t;
    uint32_t len = (uint32_t)p->n;
    if (!out_ng) {
        out_u32((uint32_t)(t / 1000000));
        out_u32((uint32_t)(t % 1000000));
        out_u32(len);
        out_u32(len);
        out_write(p->b, len);
    } else {
        /* Enhanced packet block, interface 0, timestamp in microseconds since 1970. */
        uint32_t padded = (len + 3) & ~3u;
        out_u32(6);
        out_u32(32 + padded);
        out_u32(0);
        out_u32((uint32_t)(t >> 32));
        out_u32((uint32_t)t);
        out_u32(len);
        out_u32(len);
        out_write(p->b, len);
        out_write(pad, padded - len);
        out_u32(32 + padded);
    }
    cnt.packets++;
    cnt.bytes += p->n;
}

static unsigned ethertype(bool v6)
{
    return v6 ? 0x86dd : 0x0800;
}

static void emit_query(uint64_t t, const struct lookup *lk)
{
    struct buf p = {.n = 0};
    const struct client *c = &clients[lk->client];
    put_eth(&p, router_mac, c->mac, ethertype(c->a.v6));
    query_datagram(&p, lk);
    emit(t, &p);
    cnt.queries++;
    cnt.dns_packets++;
    if (!lk->no_edns)
        cnt.edns_queries++;
}

static void emit_response(uint64_t t, const struct lookup *lk)
{
    struct buf p = {.n = 0};
    const struct client *c = &clients[lk->client];
    struct addr srv = lookup_server(lk);
    struct buf dns = {.n = 0};
    dns_response(&dns, lk);
    size_t ul = 8 + dns.n;
    put_eth(&p, c->mac, router_mac, ethertype(c->a.v6));
    /* Resolvers sit a few hops away. */
    size_t at = put_ip(&p, &srv, &c->a, 17, ul, (uint16_t)(lk->seed >> 16), 61);
    put16(&p, 53);
    put16(&p, lk->sport);
    put16(&p, (unsigned)ul);
    put16(&p, 0);
    putmem(&p, dns.b, dns.n);
    set16(p.b + at + 6, l4_sum(&srv, &c->a, 17, p.b + at, ul));
    emit(t, &p);
    cnt.responses++;
    cnt.dns_packets++;
}

static void emit_icmp(uint64_t t, const struct lookup *lk)
{
    struct buf p = {.n = 0};
    const struct client *c = &clients[lk->client];
    struct buf q = {.n = 0};
    query_datagram(&q, lk);
    struct addr from;
    if (lk->icmp == ICMP_PORT_UNREACH)
        from = lookup_server(lk);
    else
        router_addr(c->a.v6, &from);
    put_eth(&p, c->mac, router_mac, ethertype(c->a.v6));
    size_t il = 8 + q.n;
    size_t at;
    if (!c->a.v6) {
        at = put_ip(&p, &from, &c->a, 1, il, (uint16_t)lk->seed, 64);
        put8(&p, 3);
        put8(&p, lk->icmp == ICMP_PORT_UNREACH ? 3 : 13);
        put16(&p, 0);
        put32(&p, 0);
        putmem(&p, q.b, q.n);
        set16(p.b + at + 2, fold(sum_bytes(0, p.b + at, il)));
    } else {
        at = put_ip(&p, &from, &c->a, 58, il, 0, 64);
        put8(&p, 1);
        put8(&p, lk->icmp == ICMP_PORT_UNREACH ? 4 : 1);
        put16(&p, 0);
        put32(&p, 0);
        putmem(&p, q.b, q.n);
        set16(p.b + at + 2, l4_sum(&from, &c->a, 58, p.b + at, il));
    }
    emit(t, &p);
    cnt.icmp_errors++;
    cnt.dns_packets++;
    if (lk->icmp == ICMP_PORT_UNREACH)
        cnt.icmp_port_unreach++;
    else
        cnt.icmp_admin_prohib++;
}

/* ---- DNS lookups ---- */

static uint16_t ephemeral_port(void)
{
    return (uint16_t)between(32768, 60999); /* Linux's default ip_local_port_range */
}

/* Resolver delay: most answers come from the cache, the rest need recursion. */
static uint64_t resolver_rtt(void)
{
    if (unif() < 0.7)
        return between(150, 2000);
    return between(8000, 180000);
}

/* The busy profile's resolvers answer everything within 80 ms. */
static uint64_t busy_rtt(void)
{
    if (unif() < 0.7)
        return between(150, 2000);
    return between(2000, 80000);
}

static void schedule(uint64_t t, uint8_t kind, const struct lookup *lk)
{
    struct event e = {.t = t, .kind = kind};
    e.u.lk = *lk;
    push(&e);
}

/* Never answered: the stub retries once or twice, then gives up. */
static void plan_silent(uint64_t t, struct lookup *lk, struct client *c)
{
    unsigned tx = 1 + below(3);
    uint64_t tt = t;
    for (unsigned i = 0; i < tx; i++) {
        if (i) {
            tt += between(1000000, 5000000);
            lk->ipid = c->ipid++;
            if (unif() < 0.3)
                lk->sport = ephemeral_port(); /* dig and some stubs change port */
        }
        schedule(tt, EV_QUERY, lk);
    }
    cnt.silent++;
    note_silent(tt);
}

/* The busy profile's outcome for a lookup sent to a working resolver. */
static void plan_busy(uint64_t t, struct lookup *lk, struct client *c)
{
    if (unif() < BUSY_SILENT_SHARE) {
        plan_silent(t, lk, c);
        return;
    }
    schedule(t, EV_QUERY, lk);
    double r = unif();
    if (r < 0.05) {
        lk->rcode = 3;
        cnt.nxdomain++;
    } else if (r < 0.055) {
        lk->rcode = 2;
        cnt.servfail++;
    } else {
        lk->rcode = 0;
        cnt.noerror++;
        double s = unif();
        if (lk->qtype == QTYPE_AAAA && s < 0.12) {
            lk->shape = 2;
            cnt.nodata++;
        } else if (lk->qtype != QTYPE_MX && s < 0.35) {
            lk->shape = 1;
            lk->chain = (uint8_t)(1 + below(3));
            cnt.cname++;
            cnt.cname_links += lk->chain;
        }
    }
    schedule(t + busy_rtt(), EV_RESPONSE, lk);
    cnt.answered++;
}

/* Plans one lookup starting at t: its queries and the outcome. Returns when the outcome
 * arrives (for a fallback after an ICMP error), or 0 for none. */
static uint64_t plan_lookup(uint64_t t, uint16_t client, uint8_t server, uint16_t qtype,
                            uint32_t name, uint16_t sport)
{
    struct client *c = &clients[client];
    struct lookup lk = {
        .client = client,
        .server = server,
        .qtype = qtype,
        .id = c->next_id++,
        .sport = sport,
        .ipid = c->ipid++,
        .no_edns = c->no_edns,
        .name = name,
        .seed = (uint32_t)rnd(),
    };
    cnt.lookups++;
    if (server == SRV_DEAD || server == SRV_DOWN || server == SRV_OUTSIDE) {
        /* The kernel answers at once; the firewall one hop away nearly so. */
        lk.icmp = server == SRV_OUTSIDE ? ICMP_ADMIN_PROHIB : ICMP_PORT_UNREACH;
        schedule(t, EV_QUERY, &lk);
        uint64_t te = t + (server != SRV_OUTSIDE ? between(300, 1500) : between(100, 400));
        schedule(te, EV_ICMP, &lk);
        return te;
    }
    if (busy) {
        plan_busy(t, &lk, c);
        return 0;
    }
    double u = unif();
    if (u < 0.015) {
        plan_silent(t, &lk, c);
        return 0;
    }
    uint64_t tt = t;
    if (u < 0.045) {
        /* The first query or its answer was lost; the retransmission is answered. */
        schedule(tt, EV_QUERY, &lk);
        tt += between(1000000, 5000000);
        lk.ipid = c->ipid++;
        if (unif() < 0.2)
            lk.sport = ephemeral_port();
        cnt.retransmitted++;
    }
    schedule(tt, EV_QUERY, &lk);
    double r = unif();
    if (r < 0.05) {
        lk.rcode = 3;
        cnt.nxdomain++;
    } else if (r < 0.057) {
        lk.rcode = 2;
        cnt.servfail++;
        tt += 1000000; /* SERVFAIL after the resolver's own timeouts */
    } else {
        lk.rcode = 0;
        cnt.noerror++;
        double s = unif();
        if (qtype == QTYPE_AAAA && s < 0.12) {
            lk.shape = 2;
            cnt.nodata++;
        } else if (qtype != QTYPE_MX && s < 0.3) {
            lk.shape = 1;
            lk.chain = 1;
            cnt.cname++;
            cnt.cname_links++;
        }
    }
    schedule(tt + resolver_rtt(), EV_RESPONSE, &lk);
    cnt.answered++;
    return 0;
}

/* One resolution by a client: an A and AAAA pair from one socket (glibc's default), or a
 * single query; on an ICMP error from the first resolver, the same again on the second. */
static void start_resolution(uint64_t t, uint64_t max_lookups)
{
    uint16_t client = (uint16_t)below(n_clients);
    struct client *c = &clients[client];
    uint32_t name = pick_name();
    uint8_t server = c->uses_outside && unif() < 0.3 ? SRV_OUTSIDE : c->primary;
    double u = unif();
    bool pair = u < 0.6;
    uint16_t qtype = pair ? QTYPE_A : u < 0.97 ? (unif() < 0.6 ? QTYPE_A : QTYPE_AAAA) : QTYPE_MX;
    for (int attempt = 0; attempt < 2 && cnt.lookups < max_lookups; attempt++) {
        uint16_t sport = ephemeral_port();
        uint64_t done = plan_lookup(t, client, server, qtype, name, sport);
        if (pair && cnt.lookups < max_lookups) {
            uint64_t d2 =
                plan_lookup(t + between(20, 120), client, server, QTYPE_AAAA, name, sport);
            if (d2 > done)
                done = d2;
        }
        if (!done)
            break;
        cnt.fallbacks++;
        server = c->secondary;
        t = done + between(50, 400);
    }
}

/* ---- background traffic ---- */

static uint8_t noise[NOISE_LEN];

struct flow {
    uint16_t client;
    uint8_t server;
    uint16_t cport;
    uint32_t cseq, sseq;
    uint32_t left;  /* segments before it closes */
    uint64_t ready; /* handshake done */
    uint32_t rtt;
};

static struct flow flows[N_FLOWS];

static void emit_tcp(uint64_t t, const struct tcpseg *s)
{
    struct buf p = {.n = 0};
    const struct client *c = &clients[s->client];
    struct addr srv;
    server_addr(s->server, c->a.v6, &srv);
    const struct addr *src = s->to_client ? &srv : &c->a, *dst = s->to_client ? &c->a : &srv;
    bool syn = s->flags & 0x02;
    size_t optlen = syn ? 20 : 12;
    size_t tl = 20 + optlen + s->len;
    if (s->to_client)
        put_eth(&p, c->mac, router_mac, ethertype(c->a.v6));
    else
        put_eth(&p, router_mac, c->mac, ethertype(c->a.v6));
    size_t at = put_ip(&p, src, dst, 6, tl, (uint16_t)(s->seq >> 7), s->to_client ? 54 : 64);
    put16(&p, s->to_client ? s->sport : s->cport);
    put16(&p, s->to_client ? s->cport : s->sport);
    put32(&p, s->seq);
    put32(&p, s->flags & 0x10 ? s->ack : 0);
    put8(&p, (unsigned)((20 + optlen) / 4) << 4);
    put8(&p, s->flags);
    put16(&p, syn ? 64240 : 501);
    put16(&p, 0);
    put16(&p, 0);
    if (syn) {
        static const uint8_t o[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                      0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
        putmem(&p, o, sizeof o);
    } else {
        static const uint8_t o[12] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1};
        putmem(&p, o, sizeof o);
    }
    putmem(&p, noise + s->noise_off, s->len);
    set16(p.b + at + 16, l4_sum(src, dst, 6, p.b + at, tl));
    emit(t, &p);
    cnt.background++;
}

static void schedule_tcp(uint64_t t, const struct flow *f, bool to_client, uint8_t flags,
                         uint16_t len)
{
    struct event e = {.t = t, .kind = EV_TCP};
    struct tcpseg *s = &e.u.tcp;
    s->client = f->client;
    s->server = f->server;
    s->cport = f->cport;
    s->sport = f->server == SRV_WEB3 ? 80 : 443;
    s->flags = flags;
    s->to_client = to_client;
    s->len = len;
    s->seq = to_client ? f->sseq : f->cseq;
    s->ack = to_client ? f->cseq : f->sseq;
    s->noise_off = below(NOISE_LEN - 1500);
    push(&e);
}

/* Opens a new connection in slot f: SYN now, SYN-ACK and ACK one round trip later. */
static void open_flow(uint64_t t, struct flow *f)
{
    f->client = (uint16_t)below(n_clients);
    f->server = (uint8_t)(SRV_WEB1 + below(3));
    f->cport = ephemeral_port();
    f->cseq = (uint32_t)rnd();
    f->sseq = (uint32_t)rnd();
    f->rtt = (uint32_t)between(8000, 60000);
    f->left = (uint32_t)between(10, 2000);
    schedule_tcp(t, f, false, 0x02, 0);
    f->cseq++;
    schedule_tcp(t + f->rtt, f, true, 0x12, 0);
    f->sseq++;
    schedule_tcp(t + f->rtt + between(30, 300), f, false, 0x10, 0);
    f->ready = t + f->rtt + 400;
}

static void close_flow(uint64_t t, struct flow *f)
{
    schedule_tcp(t, f, false, 0x11, 0);
    f->cseq++;
    schedule_tcp(t + f->rtt, f, true, 0x11, 0);
    f->sseq++;
    schedule_tcp(t + f->rtt + between(30, 300), f, false, 0x10, 0);
}

static void tcp_data(uint64_t t)
{
    struct flow *f = NULL;
    unsigned start = below(N_FLOWS);
    for (unsigned i = 0; i < N_FLOWS; i++) {
        struct flow *g = &flows[(start + i) % N_FLOWS];
        if (g->ready <= t) {
            f = g;
            break;
        }
    }
    if (!f)
        return;
    bool down = unif() < 0.65;
    uint16_t len;
    if (down)
        len = unif() < 0.7 ? 1448 : (uint16_t)between(100, 1448);
    else
        len = unif() < 0.8 ? 0 : (uint16_t)between(50, 600);
    schedule_tcp(t, f, down, len ? 0x18 : 0x10, len);
    if (down)
        f->sseq += len;
    else
        f->cseq += len;
    if (--f->left == 0) {
        close_flow(t + 100, f);
        open_flow(t + f->rtt + 5000, f);
    }
}

/* A UDP datagram between a client and a server, payload from the noise pool or given. */
static void emit_udp(uint64_t t, uint16_t client, uint8_t server, bool to_client, uint16_t cport,
                     uint16_t sport, const uint8_t *payload, size_t len)
{
    struct buf p = {.n = 0};
    const struct client *c = &clients[client];
    struct addr srv;
    server_addr(server, c->a.v6, &srv);
    const struct addr *src = to_client ? &srv : &c->a, *dst = to_client ? &c->a : &srv;
    size_t ul = 8 + len;
    if (to_client)
        put_eth(&p, c->mac, router_mac, ethertype(c->a.v6));
    else
        put_eth(&p, router_mac, c->mac, ethertype(c->a.v6));
    size_t at = put_ip(&p, src, dst, 17, ul, (uint16_t)rnd(), to_client ? 55 : 64);
    put16(&p, to_client ? sport : cport);
    put16(&p, to_client ? cport : sport);
    put16(&p, (unsigned)ul);
    put16(&p, 0);
    putmem(&p, payload, len);
    set16(p.b + at + 6, l4_sum(src, dst, 17, p.b + at, ul));
    emit(t, &p);
    cnt.background++;
}

static void ntp_packet(uint8_t *b, bool reply)
{
    memset(b, 0, 48);
    b[0] = reply ? 0x24 : 0x23; /* version 4, mode 4 server or 3 client */
    b[1] = reply ? 2 : 0;
    b[2] = 6;
    b[3] = 0xe9;
}

static void emit_mdns(uint64_t t, uint16_t client)
{
    /* A printer announcing itself: DNS format, but not a lookup to a server. */
    const struct client *c = &clients[client];
    struct buf p = {.n = 0};
    struct buf d = {.n = 0};
    put16(&d, 0);
    put16(&d, 0x8400);
    put16(&d, 0);
    put16(&d, 1);
    put16(&d, 0);
    put16(&d, 0);
    put_name(&d, "_ipp._tcp.local", -1);
    put_rr_head(&d, 12, 4500);
    put16(&d, 10);
    put_name(&d, "printer", 12);
    struct addr mc;
    memset(&mc, 0, sizeof mc);
    mc.v6 = c->a.v6;
    static const uint8_t mac4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    static const uint8_t mac6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0xfb};
    if (!mc.v6) {
        mc.b[0] = 224, mc.b[3] = 251;
    } else {
        mc.b[0] = 0xff, mc.b[1] = 0x02, mc.b[15] = 0xfb;
    }
    put_eth(&p, mc.v6 ? mac6 : mac4, c->mac, ethertype(c->a.v6));
    size_t ul = 8 + d.n;
    size_t at = put_ip(&p, &c->a, &mc, 17, ul, 0, 255);
    put16(&p, 5353);
    put16(&p, 5353);
    put16(&p, (unsigned)ul);
    put16(&p, 0);
    putmem(&p, d.b, d.n);
    set16(p.b + at + 6, l4_sum(&c->a, &mc, 17, p.b + at, ul));
    emit(t, &p);
    cnt.background++;
}

static void emit_arp(uint64_t t, uint16_t client, bool reply)
{
    /* The router asks for an IPv4 client; the client answers. */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const struct client *c = &clients[client];
    struct addr r;
    router_addr(false, &r);
    struct buf p = {.n = 0};
    put_eth(&p, reply ? router_mac : bcast, reply ? c->mac : router_mac, 0x0806);
    put16(&p, 1);
    put16(&p, 0x0800);
    put8(&p, 6);
    put8(&p, 4);
    put16(&p, reply ? 2 : 1);
    putmem(&p, reply ? c->mac : router_mac, 6);
    putmem(&p, reply ? c->a.b : r.b, 4);
    if (reply)
        putmem(&p, router_mac, 6);
    else
        putmem(&p, bcast, 6);
    putmem(&p, reply ? r.b : c->a.b, 4);
    while (p.n < 60)
        put8(&p, 0); /* Ethernet minimum frame */
    emit(t, &p);
    cnt.background++;
}

static void background(uint64_t t)
{
    double u = unif();
    uint16_t client = (uint16_t)below(n_clients);
    if (u < 0.74) {
        tcp_data(t);
    } else if (u < 0.92) {
        /* QUIC: long-header sized datagrams both ways. */
        bool down = unif() < 0.6;
        uint16_t cport = (uint16_t)(50000 + client % 15000);
        emit_udp(t, client, SRV_QUIC, down, cport, 443, noise + below(NOISE_LEN - 1400),
                 (size_t)between(900, 1350));
    } else if (u < 0.96) {
        uint8_t b[48];
        ntp_packet(b, false);
        emit_udp(t, client, SRV_NTP, false, 123, 123, b, 48);
        struct event e = {.t = t + between(2000, 30000), .kind = EV_NTP_REPLY};
        e.u.client = client;
        push(&e);
    } else if (u < 0.99) {
        char msg[160];
        int n = snprintf(msg, sizeof msg,
                         "<134>Nov 21 09:%02u:%02u host%u app[%u]: request done status=200 ms=%u",
                         (unsigned)((t / 60000000) % 60), (unsigned)((t / 1000000) % 60), client,
                         1000 + client, below(900));
        emit_udp(t, client, SRV_SYSLOG, false, (uint16_t)(40000 + client % 25000), 514,
                 (uint8_t *)msg, (size_t)n);
    } else if (u < 0.995) {
        emit_mdns(t, client);
    } else {
        uint16_t c4 = (uint16_t)below(n_v4_clients);
        emit_arp(t, c4, false);
        struct event e = {.t = t + between(50, 500), .kind = EV_ARP_REPLY};
        e.u.client = c4;
        push(&e);
    }
}

static void dispatch(const struct event *e)
{
    switch (e->kind) {
    case EV_QUERY:
        emit_query(e->t, &e->u.lk);
        break;
    case EV_RESPONSE:
        emit_response(e->t, &e->u.lk);
        break;
    case EV_ICMP:
        emit_icmp(e->t, &e->u.lk);
        break;
    case EV_TCP:
        emit_tcp(e->t, &e->u.tcp);
        break;
    case EV_NTP_REPLY: {
        uint8_t b[48];
        ntp_packet(b, true);
        emit_udp(e->t, e->u.client, SRV_NTP, true, 123, 123, b, 48);
        break;
    }
    case EV_ARP_REPLY:
        emit_arp(e->t, e->u.client, true);
        break;
    default:
        break;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gen-capture [--profile default|busy] [-n LOOKUPS | --duration S] [--seed S]\n"
            "                   [--pcapng] -o FILE\n"
            "  --profile P   default: ~2,000 lookups/s from 400 clients, half the packets\n"
            "                background (about 4.3 packets a lookup); busy: ~20,000 lookups/s\n"
            "                from 20,000 clients to 4 resolvers (about 2.2 packets a lookup)\n"
            "  -n LOOKUPS    DNS lookups to write (default 10000; busy 1000000)\n"
            "  --duration S  instead of -n: start lookups for S seconds of traffic at the\n"
            "                profile's rate (retransmissions and answers may follow)\n"
            "  -o FILE       output file, - for standard output (Ethernet, microseconds)\n"
            "  --pcapng      write pcapng (also when FILE ends in .pcapng); pcap otherwise\n"
            "  --seed S      seed; the same seed gives the same packets (default 1)\n"
            "The counts nettriage should report are printed on standard error.\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *v = x;
    return true;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

int main(int argc, char **argv)
{
    uint64_t n = 0, seed = 1;
    double duration = 0;
    bool force_ng = false;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-n") || !strcmp(a, "--count")) && v) {
            if (!parse_u64(v, &n) || n == 0) {
                fprintf(stderr, "gen-capture: -n wants a positive count, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--duration") && v) {
            char *end;
            errno = 0;
            duration = strtod(v, &end);
            if (errno || end == v || *end || !(duration > 0) || duration > 1e7) {
                fprintf(stderr, "gen-capture: --duration wants seconds, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--profile") && v) {
            if (!strcmp(v, "busy")) {
                busy = true;
            } else if (strcmp(v, "default") != 0) {
                fprintf(stderr, "gen-capture: --profile is default or busy, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && v) {
            out = v;
            i++;
        } else if (!strcmp(a, "--pcapng")) {
            force_ng = true;
        } else if (!strcmp(a, "--seed") && v) {
            if (!parse_u64(v, &seed)) {
                fprintf(stderr, "gen-capture: --seed wants a number, not '%s'\n", v);
                return 2;
            }
            i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }
    if (n && duration > 0) {
        fprintf(stderr, "gen-capture: -n and --duration are alternatives\n");
        return 2;
    }
    /* A duration stops new lookups by time; a count by number. */
    uint64_t t_end = UINT64_MAX;
    if (duration > 0) {
        t_end = START_US + (uint64_t)(duration * 1e6);
        n = UINT64_MAX;
    } else if (!n) {
        n = busy ? BUSY_LOOKUPS : 10000;
    }

    rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
    for (size_t i = 0; i < NOISE_LEN; i++)
        noise[i] = (uint8_t)rnd();
    setup_clients();
    setup_names();

    out_name = out;
    out_ng = force_ng || ends_with(out, ".pcapng");
    if (!strcmp(out, "-")) {
        out_f = stdout;
        out_name = "standard output";
    } else {
        out_f = fopen(out, "wb");
        if (!out_f) {
            fprintf(stderr, "gen-capture: %s: %s\n", out, strerror(errno));
            return 2;
        }
    }
    /* Large writes: a pipe to a reader is the point of standard output here. */
    static char out_buf[1 << 20];
    setvbuf(out_f, out_buf, _IOFBF, sizeof out_buf);
    out_header();

    uint64_t t0 = START_US;
    for (int i = 0; i < N_FLOWS; i++) {
        /* Connections already under way when the capture starts: no handshake seen. */
        struct flow *f = &flows[i];
        f->client = (uint16_t)below(n_clients);
        f->server = (uint8_t)(SRV_WEB1 + below(3));
        f->cport = ephemeral_port();
        f->cseq = (uint32_t)rnd();
        f->sseq = (uint32_t)rnd();
        f->rtt = (uint32_t)between(8000, 60000);
        f->left = (uint32_t)between(10, 2000);
        f->ready = t0;
    }

    /* Resolutions average 1.6 lookups; background arrivals are tuned so that about half the
     * packets are DNS and ICMP. In the busy profile a resolution to the resolver that is down
     * is made again on the next one, and a tenth of the packets are background. */
    double res_rate = LOOKUP_RATE / 1.6;
    double bg_rate = LOOKUP_RATE * 2.05;
    if (busy) {
        res_rate = BUSY_LOOKUP_RATE / (1.6 * (1 + BUSY_DOWN_SHARE));
        bg_rate = BUSY_LOOKUP_RATE * 0.1;
    }
    uint64_t next_res = t0 + exp_gap(res_rate), next_bg = t0 + exp_gap(bg_rate);
    uint64_t last_res = t0; /* when the last resolution started */
    /* Background goes on while DNS packets remain, so retransmissions are not the tail. */
    for (;;) {
        bool more = cnt.lookups < n && next_res < t_end;
        if (!more && !dns_events_pending)
            break;
        uint64_t tn = more && next_res < next_bg ? next_res : next_bg;
        if (heap_n && heap[0].t <= tn) {
            struct event e = pop();
            dispatch(&e);
        } else if (more && next_res <= next_bg) {
            start_resolution(next_res, n);
            last_res = next_res;
            next_res += exp_gap(res_rate);
        } else {
            background(next_bg);
            next_bg += exp_gap(bg_rate);
        }
    }
    /* Only TCP teardowns and NTP/ARP replies are left. */
    while (heap_n) {
        struct event e = pop();
        dispatch(&e);
    }

    for (size_t i = 0; i < silent_n; i++) {
        if (last_t - silent_last[i] >= TIMEOUT_US)
            cnt.unanswered++;
        else
            cnt.capture_ended++;
    }

    if (fflush(out_f) != 0 || (out_f != stdout && fclose(out_f) != 0)) {
        fprintf(stderr, "gen-capture: %s: %s\n", out_name, strerror(errno));
        return 2;
    }

    const struct {
        const char *key;
        uint64_t v;
    } report[] = {
        {"packets", cnt.packets},
        {"dns_packets", cnt.dns_packets},
        {"background", cnt.background},
        {"bytes", cnt.bytes},
        {"duration_us", last_t - t0},
        {"lookups", cnt.lookups},
        {"queries", cnt.queries},
        {"responses", cnt.responses},
        {"answered", cnt.answered},
        {"noerror", cnt.noerror},
        {"nodata", cnt.nodata},
        {"cname", cnt.cname},
        {"nxdomain", cnt.nxdomain},
        {"servfail", cnt.servfail},
        {"retransmitted", cnt.retransmitted},
        {"icmp_errors", cnt.icmp_errors},
        {"icmp_port_unreachable", cnt.icmp_port_unreach},
        {"icmp_admin_prohibited", cnt.icmp_admin_prohib},
        {"fallbacks", cnt.fallbacks},
        {"silent", cnt.silent},
        {"unanswered", cnt.unanswered},
        {"capture_ended", cnt.capture_ended},
        {"clients", n_clients},
        {"edns_queries", cnt.edns_queries},
        {"cname_links", cnt.cname_links},
        {"lookup_span_us", last_res - t0},
    };
    fprintf(stderr, "gen-capture:");
    for (size_t i = 0; i < sizeof report / sizeof report[0]; i++)
        fprintf(stderr, " %s=%llu", report[i].key, (unsigned long long)report[i].v);
    fprintf(stderr, "\n");
    for (int i = 0; i < N_NAMES; i++)
        free(names[i]);
    free(heap);
    free(silent_last);
    free(clients);
    return 0;
}
