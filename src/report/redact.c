/* redact.c: --redact (see redact.h): who is a client, and the rewriting of each output. */
#include "report/redact.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "util/addr.h"
#include "util/htab.h"

struct host {
    struct nt_addr addr;
    uint64_t order; /* when it first started an exchange (0: never) */
    bool responder; /* it served one */
};

/* A text form of a client and what replaces it. */
struct form {
    char *key; /* lower case */
    size_t len;
    char repl[48];
};

struct redact {
    struct htab hosts; /* struct host by address */
    struct host **list;
    size_t n, cap;
    uint64_t next_order;
    bool oom;
    /* Built by the first redact_apply. */
    bool built;
    struct htab forms; /* struct form by the hash of its key */
    struct form *fv;
    size_t n_forms;
    size_t n_clients;
    bool names; /* some client is a host name */
};

struct redact *redact_new(void)
{
    struct redact *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    htab_init(&r->hosts);
    htab_init(&r->forms);
    return r;
}

void redact_free(struct redact *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->list[i]);
    free(r->list);
    for (size_t i = 0; i < r->n_forms; i++)
        free(r->fv[i].key);
    free(r->fv);
    htab_fini(&r->hosts);
    htab_fini(&r->forms);
    free(r);
}

size_t redact_clients(const struct redact *r)
{
    return r->n_clients;
}

static uint64_t addr_hash(const struct nt_addr *a)
{
    struct htab_hasher hs;
    htab_hasher_init(&hs);
    htab_hasher_addr(&hs, a);
    return htab_hasher_end(&hs);
}

static struct host *host_get(struct redact *r, const struct nt_addr *a)
{
    if (a->family == NT_AF_NONE)
        return NULL;
    uint64_t h = addr_hash(a);
    struct htab_iter it;
    for (struct host *x = htab_find(&r->hosts, h, &it); x; x = htab_find_next(&r->hosts, &it))
        if (nt_addr_eq(&x->addr, a))
            return x;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct host **l = realloc(r->list, cap * sizeof *l);
        if (!l) {
            r->oom = true;
            return NULL;
        }
        r->list = l;
        r->cap = cap;
    }
    struct host *x = calloc(1, sizeof *x);
    if (!x || htab_insert(&r->hosts, h, x) != 0) {
        free(x);
        r->oom = true;
        return NULL;
    }
    x->addr = *a;
    r->list[r->n++] = x;
    return x;
}

/* initiator started an exchange with responder (either may be NULL). */
static void roles(struct redact *r, const struct nt_addr *initiator,
                  const struct nt_addr *responder)
{
    struct host *x;
    if (initiator && (x = host_get(r, initiator)) && !x->order)
        x->order = ++r->next_order;
    if (responder && (x = host_get(r, responder)))
        x->responder = true;
}

bool redact_observe(struct redact *r, const struct packet *pkt)
{
    if (pkt->layers & PKT_L_DNS) {
        if (pkt->dns.flags & DNS_FLAG_QR)
            roles(r, &pkt->dst, &pkt->src);
        else
            roles(r, &pkt->src, &pkt->dst);
    } else if ((pkt->layers & PKT_L_TCP) && (pkt->tcp_flags & 0x02)) {
        if (pkt->tcp_flags & 0x10) /* SYN-ACK */
            roles(r, &pkt->dst, &pkt->src);
        else
            roles(r, &pkt->src, &pkt->dst);
    } else if ((pkt->layers & PKT_L_ICMP) && pkt->icmp_is_error) {
        const struct icmp_quote *q = &pkt->quote;
        const struct nt_addr *qdst = q->known & QUOTE_K_DST ? &q->dst : NULL;
        if (q->has_dns && (q->dns_flags & DNS_FLAG_QR)) {
            /* An error about an answer: the answer's destination asked. */
            roles(r, qdst, q->known & QUOTE_K_SRC ? &q->src : &pkt->dst);
        } else {
            /* An error goes back to the sender of the datagram it quotes. */
            roles(r, q->known & QUOTE_K_SRC ? &q->src : &pkt->dst, qdst);
        }
    }
    return !r->oom;
}

static void lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

static uint64_t key_hash(const char *s, size_t n)
{
    return htab_hash(s, n);
}

static bool add_form(struct redact *r, size_t cap, const char *key, const char *repl)
{
    if (r->n_forms == cap)
        return false;
    struct form *f = &r->fv[r->n_forms];
    f->len = strlen(key);
    if (!(f->key = malloc(f->len + 1)))
        return false;
    memcpy(f->key, key, f->len + 1);
    lower(f->key, f->len);
    snprintf(f->repl, sizeof f->repl, "%s", repl);
    r->n_forms++;
    return htab_insert(&r->forms, key_hash(f->key, f->len), f) == 0;
}

static int by_order(const void *a, const void *b)
{
    const struct host *x = *(const struct host *const *)a, *y = *(const struct host *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The clients, numbered in the order they first started an exchange, and their text forms. */
static bool build(struct redact *r)
{
    r->built = true;
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->list[i]->order && !r->list[i]->responder)
            n++;
    struct host **c = calloc(n ? n : 1, sizeof *c);
    size_t cap = 2 * n;
    r->fv = calloc(cap ? cap : 1, sizeof *r->fv);
    if (!c || !r->fv) {
        free(c);
        return false;
    }
    n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->list[i]->order && !r->list[i]->responder)
            c[n++] = r->list[i];
    qsort(c, n, sizeof *c, by_order);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char name[32], text[NT_ADDR_FMT_MAX], rev[80], repl[48];
        snprintf(name, sizeof name, "client-%zu", i + 1);
        nt_addr_format(&c[i]->addr, text, sizeof text);
        ok = add_form(r, cap, text, name);
        const uint8_t *a = c[i]->addr.a;
        if (ok && c[i]->addr.family == NT_AF_INET) {
            snprintf(rev, sizeof rev, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
            snprintf(repl, sizeof repl, "%s.in-addr.arpa", name);
            ok = add_form(r, cap, rev, repl);
        } else if (ok && c[i]->addr.family == NT_AF_INET6) {
            static const char hex[] = "0123456789abcdef";
            size_t k = 0;
            for (int b = 15; b >= 0; b--) {
                rev[k++] = hex[a[b] & 0xf];
                rev[k++] = '.';
                rev[k++] = hex[a[b] >> 4];
                rev[k++] = '.';
            }
            memcpy(rev + k, "ip6.arpa", 9);
            snprintf(repl, sizeof repl, "%s.ip6.arpa", name);
            ok = add_form(r, cap, rev, repl);
        } else if (c[i]->addr.family == NT_AF_NAME) {
            r->names = true;
        }
    }
    r->n_clients = n;
    free(c);
    return ok;
}

static const struct form *find_form(const struct redact *r, const char *s, size_t n)
{
    char buf[NT_ADDR_FMT_MAX];
    if (n == 0 || n >= sizeof buf)
        return NULL;
    memcpy(buf, s, n);
    lower(buf, n);
    struct htab_iter it;
    for (const struct form *f = htab_find(&r->forms, key_hash(buf, n), &it); f;
         f = htab_find_next(&r->forms, &it))
        if (f->len == n && memcmp(f->key, buf, n) == 0)
            return f;
    return NULL;
}

/* An IPv6 address in any of its text forms (case, zeros written out): its canonical form is
 * what the table holds. */
static const struct form *find_ipv6(const struct redact *r, const char *s, size_t n)
{
    const struct form *f = find_form(r, s, n);
    char buf[64], canon[NT_ADDR_FMT_MAX];
    struct nt_addr a = {.family = NT_AF_INET6};
    if (f || n >= sizeof buf)
        return f;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, a.a) != 1)
        return NULL;
    nt_addr_format(&a, canon, sizeof canon);
    return find_form(r, canon, strlen(canon));
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether a text form may start at s[i]: not inside a number, an address or a word; after a
 * dot only when a name's label (not a number) comes before it ("app.198.51.100.7.nip.io"). */
static bool starts_here(const char *s, size_t i)
{
    if (i == 0)
        return true;
    char p = s[i - 1];
    if (p == '.')
        return i >= 2 && is_alnum(s[i - 2]) && !is_digit(s[i - 2]);
    return !(is_alnum(p) || p == ':' || p == '-' || p == '_');
}

/* A MAC address at s (17 bytes of n): six pairs of hex digits joined by ':', not part of a
 * longer run. */
static bool mac_at(const char *s, size_t n)
{
    if (n < 17)
        return false;
    for (size_t k = 0; k < 17; k++)
        if (k % 3 == 2 ? s[k] != ':' : !is_hex(s[k]))
            return false;
    return n == 17 || !(is_hex(s[17]) || s[17] == ':');
}

/* The client form starting at s (n bytes left), and its length; NULL when none. */
static const struct form *match(const struct redact *r, const char *s, size_t n, size_t *len)
{
    const struct form *f;
    /* IPv4: four numbers joined by dots, no digit after (tcpdump's ".port" may follow). */
    size_t j = 0, parts = 0;
    while (parts < 4) {
        size_t d = 0;
        while (j + d < n && d < 4 && is_digit(s[j + d]))
            d++;
        if (d == 0 || d > 3)
            break;
        j += d;
        parts++;
        if (parts < 4) {
            if (j >= n || s[j] != '.')
                break;
            j++;
        }
    }
    if (parts == 4 && (j == n || !is_digit(s[j]))) {
        /* Its reverse name first: "15.100.51.198.in-addr.arpa". */
        static const char arpa[] = ".in-addr.arpa";
        if (n - j >= sizeof arpa - 1 && (f = find_form(r, s, j + sizeof arpa - 1))) {
            *len = j + sizeof arpa - 1;
            return f;
        }
        if ((f = find_form(r, s, j))) {
            *len = j;
            return f;
        }
    }
    /* IPv6: hex digits and colons (one trailing colon is tcpdump's, "2001:db8::15: ICMP6"),
     * or its reverse name, nibbles and dots up to ".ip6.arpa". */
    j = 0;
    bool colon = false;
    while (j < n && (is_hex(s[j]) || s[j] == ':')) {
        colon |= s[j] == ':';
        j++;
    }
    if (colon && j >= 2 && (j == n || !is_alnum(s[j]))) {
        if ((f = find_ipv6(r, s, j))) {
            *len = j;
            return f;
        }
        if (s[j - 1] == ':' && s[j - 2] != ':' && (f = find_ipv6(r, s, j - 1))) {
            *len = j - 1;
            return f;
        }
    }
    if (n >= 72 && is_hex(s[0]) && s[1] == '.' && (f = find_form(r, s, 72))) {
        *len = 72;
        return f;
    }
    /* A host name tcpdump printed: the whole name, before its ".port" or final dot. */
    if (r->names && is_alnum(s[0])) {
        j = 0;
        while (j < n && (is_alnum(s[j]) || s[j] == '.' || s[j] == '-' || s[j] == '_'))
            j++;
        for (size_t k = j; k > 0; k--) {
            if (k < j && s[k] != '.')
                continue;
            /* What follows the name: nothing, or a port, or the root's dot. */
            size_t e = k;
            if (e < j) {
                size_t d = e + 1;
                while (d < j && is_digit(s[d]))
                    d++;
                if (d != j) /* digits (a port) or nothing (the root's dot) after the dot */
                    continue;
            }
            if ((f = find_form(r, s, e))) {
                *len = e;
                return f;
            }
        }
    }
    return NULL;
}

/* JSON: whether the string that o ends with the opening quote of is an element of an array
 * of IP addresses ("ip": [...] of ECS related.ip, "resolved_ip": [...]): back over the
 * elements before it (addresses, quotes, commas) to the '[' and its key. */
static bool in_ip_array(const struct strbuf *o)
{
    static const char *const keys[] = {"\"ip\":[", "\"resolved_ip\":["};
    const char *s = strbuf_str(o);
    size_t k = o->len;
    if (k == 0 || s[k - 1] != '"')
        return false;
    k--;
    while (k > 0 && (is_hex(s[k - 1]) || s[k - 1] == '.' || s[k - 1] == ':' || s[k - 1] == '"' ||
                     s[k - 1] == ','))
        k--;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t kl = strlen(keys[i]);
        if (k >= kl && memcmp(s + k - kl, keys[i], kl) == 0)
            return true;
    }
    return false;
}

bool redact_apply(struct redact *r, struct strbuf *b, bool json)
{
    if (!r->built && !build(r))
        return false;
    if (b->oom)
        return false;
    const char *s = strbuf_str(b);
    size_t n = b->len;
    struct strbuf o;
    strbuf_init(&o);
    size_t i = 0, copied = 0;
    while (i < n) {
        if (!is_alnum(s[i]) || !starts_here(s, i)) {
            i++;
            continue;
        }
        size_t len = 0;
        const char *repl = NULL;
        const struct form *f = NULL;
        if (mac_at(s + i, n - i)) {
            repl = "xx:xx:xx:xx:xx:xx";
            len = 17;
        } else if ((f = match(r, s + i, n - i, &len))) {
            repl = f->repl;
        }
        if (!repl) {
            /* Past the rest of this word: a form starts only at its beginning. */
            while (i < n && (is_alnum(s[i]) || s[i] == '-' || s[i] == '_'))
                i++;
            continue;
        }
        strbuf_append(&o, s + copied, i - copied);
        /* JSON: an endpoint's "ip" holds only IP addresses; a client's is dropped. */
        static const char ipkey[] = ",\"ip\":\"";
        if (json && f && o.len >= sizeof ipkey - 1 &&
            memcmp(strbuf_str(&o) + o.len - (sizeof ipkey - 1), ipkey, sizeof ipkey - 1) == 0 &&
            i + len < n && s[i + len] == '"') {
            o.len -= sizeof ipkey - 1;
            o.s[o.len] = '\0';
            i += len + 1;
            copied = i;
            continue;
        }
        /* JSON: nor does an array of IP addresses (ECS related.ip): a client's element is
         * dropped, with the comma that joined it to the others. */
        if (json && f && i + len < n && s[i + len] == '"' && in_ip_array(&o)) {
            o.len--; /* its opening quote */
            size_t next = i + len + 1;
            if (o.len > 0 && o.s[o.len - 1] == ',')
                o.len--;
            else if (next < n && s[next] == ',')
                next++; /* the first element: the comma after it goes */
            o.s[o.len] = '\0';
            i = next;
            copied = i;
            continue;
        }
        strbuf_puts(&o, repl);
        i += len;
        copied = i;
    }
    strbuf_append(&o, s + copied, n - copied);
    if (o.oom) {
        strbuf_fini(&o);
        return false;
    }
    strbuf_fini(b);
    *b = o;
    return true;
}
