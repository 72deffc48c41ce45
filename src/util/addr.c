/* addr.c: address comparison, hashing, parsing and formatting. */
#include "util/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A run's interned host names read from tcpdump text (struct nt_names, owned by the run's
 * model and freed with it): the set of names in a capture is small, and bounded by
 * NT_ADDR_NAMES_MAX. An open-addressing index (twice the bound, so it never fills) finds a name
 * without scanning them all. */
#define NAME_SLOTS (2 * NT_ADDR_NAMES_MAX)
struct nt_names {
    char **names;
    uint32_t n, cap;
    uint32_t *slots; /* index + 1 into names; 0 is empty */
};

struct nt_names *nt_names_new(void)
{
    return calloc(1, sizeof(struct nt_names));
}

void nt_names_free(struct nt_names *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    free(t);
}

static size_t addr_len(const struct nt_addr *x)
{
    switch (x->family) {
    case NT_AF_INET:
        return 4;
    case NT_AF_INET6:
        return 16;
    case NT_AF_NAME:
        return 4;
    default:
        return 0;
    }
}

int nt_addr_cmp(const struct nt_addr *x, const struct nt_addr *y)
{
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->family == NT_AF_NAME) {
        char a[NT_ADDR_FMT_MAX], b[NT_ADDR_FMT_MAX];
        nt_addr_format(x, a, sizeof a);
        nt_addr_format(y, b, sizeof b);
        return strcmp(a, b);
    }
    return memcmp(x->a, y->a, addr_len(x));
}

void nt_addr_set_v4(struct nt_addr *x, const uint8_t b[4])
{
    memset(x, 0, sizeof *x);
    x->family = NT_AF_INET;
    memcpy(x->a, b, 4);
}

void nt_addr_set_v6(struct nt_addr *x, const uint8_t b[16])
{
    memset(x, 0, sizeof *x);
    x->family = NT_AF_INET6;
    memcpy(x->a, b, 16);
}

/* Dotted-quad IPv4 in the one form inet_pton accepts: four decimal numbers up to 255, no
 * leading zero (but "0" itself), separated by single dots, nothing else. Returns false for
 * anything else, which inet_pton then decides. */
static bool parse_v4_plain(const char *s, size_t len, uint8_t b[4])
{
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        if (k) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t nd = i - start;
        if (nd == 0 || v > 255 || (nd > 1 && s[start] == '0'))
            return false;
        b[k] = (uint8_t)v;
    }
    return i == len;
}

bool nt_addr_parse(struct nt_addr *x, const char *s, size_t len)
{
    char tmp[64];
    uint8_t quad[4];
    if (len >= 7 && len <= 15 && parse_v4_plain(s, len, quad)) {
        nt_addr_set_v4(x, quad);
        return true;
    }
    uint8_t b[16];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (memchr(tmp, ':', len)) {
        if (inet_pton(AF_INET6, tmp, b) != 1)
            return false;
        nt_addr_set_v6(x, b);
        return true;
    }
    if (inet_pton(AF_INET, tmp, b) != 1)
        return false;
    nt_addr_set_v4(x, b);
    return true;
}

/* A name address: the index (big-endian) in a[0..3], which is what compares and hashes, and
 * the interned text's address in a[4..], so that formatting needs no table. */
static void set_name(struct nt_addr *x, uint32_t i, const char *text)
{
    memset(x, 0, sizeof *x);
    x->family = NT_AF_NAME;
    x->a[0] = (uint8_t)(i >> 24);
    x->a[1] = (uint8_t)(i >> 16);
    x->a[2] = (uint8_t)(i >> 8);
    x->a[3] = (uint8_t)i;
    memcpy(x->a + 4, &text, sizeof text);
}

const char *nt_addr_name(const struct nt_addr *x)
{
    const char *text = NULL;
    if (x->family == NT_AF_NAME)
        memcpy(&text, x->a + 4, sizeof text);
    return text;
}

bool nt_addr_set_name(struct nt_names *t, struct nt_addr *x, const char *s, size_t len)
{
    if (!t)
        return false;
    if (len > 255)
        len = 255;
    if (!t->slots && !(t->slots = calloc(NAME_SLOTS, sizeof *t->slots)))
        return false;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    uint32_t slot = h % NAME_SLOTS;
    while (t->slots[slot]) {
        const char *n = t->names[t->slots[slot] - 1];
        if (strlen(n) == len && memcmp(n, s, len) == 0) {
            set_name(x, t->slots[slot] - 1, n);
            return true;
        }
        slot = (slot + 1) % NAME_SLOTS;
    }
    if (t->n >= NT_ADDR_NAMES_MAX)
        return false;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 64;
        char **nn = realloc(t->names, nc * sizeof *nn);
        if (!nn)
            return false;
        t->names = nn;
        t->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    t->names[t->n] = copy;
    t->slots[slot] = t->n + 1;
    set_name(x, t->n++, copy);
    return true;
}

/* Writes v (0-255) in decimal at p; returns the end. */
static char *put_dec8(char *p, unsigned v)
{
    if (v >= 100) {
        unsigned h = v / 100, r = v - h * 100, t = r / 10;
        p[0] = (char)('0' + h);
        p[1] = (char)('0' + t);
        p[2] = (char)('0' + (r - t * 10));
        return p + 3;
    }
    if (v >= 10) {
        unsigned t = v / 10;
        p[0] = (char)('0' + t);
        p[1] = (char)('0' + (v - t * 10));
        return p + 2;
    }
    p[0] = (char)('0' + v);
    return p + 1;
}

static size_t put_v4(char *p, const uint8_t *b)
{
    char *e = put_dec8(p, b[0]);
    *e++ = '.';
    e = put_dec8(e, b[1]);
    *e++ = '.';
    e = put_dec8(e, b[2]);
    *e++ = '.';
    e = put_dec8(e, b[3]);
    return (size_t)(e - p);
}

/* Every byte in lower-case hex, two digits each. */
static const char hex2[513] = "000102030405060708090a0b0c0d0e0f"
                              "101112131415161718191a1b1c1d1e1f"
                              "202122232425262728292a2b2c2d2e2f"
                              "303132333435363738393a3b3c3d3e3f"
                              "404142434445464748494a4b4c4d4e4f"
                              "505152535455565758595a5b5c5d5e5f"
                              "606162636465666768696a6b6c6d6e6f"
                              "707172737475767778797a7b7c7d7e7f"
                              "808182838485868788898a8b8c8d8e8f"
                              "909192939495969798999a9b9c9d9e9f"
                              "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                              "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                              "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
                              "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                              "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
                              "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Writes the 16-bit word hi:lo in lower-case hex without leading zeros at p; returns the
 * digits written. */
static size_t put_hex16(char *p, unsigned hi, unsigned lo)
{
    if (hi >= 0x10) {
        memcpy(p, hex2 + 2 * hi, 2);
        memcpy(p + 2, hex2 + 2 * lo, 2);
        return 4;
    }
    if (hi) {
        p[0] = hex2[2 * hi + 1];
        memcpy(p + 1, hex2 + 2 * lo, 2);
        return 3;
    }
    if (lo >= 0x10) {
        memcpy(p, hex2 + 2 * lo, 2);
        return 2;
    }
    p[0] = hex2[2 * lo + 1];
    return 1;
}

/* The longest run of two or more set bits of an 8-bit mask (the first of equal runs) as its
 * start << 4 | its length; 0x80 (start 8, length 0) when no run is two long. For the zero words
 * of an IPv6 address (bit i: word i is 0): the words "::" stands for. */
static const uint8_t zero_run[256] = {
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x80, 0x80, 0x80, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x80, 0x80, 0x80, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03, 0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x80, 0x80, 0x80, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x52, 0x52, 0x52, 0x02, 0x52, 0x52, 0x12, 0x03, 0x52, 0x52, 0x52, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x03, 0x34, 0x34, 0x34, 0x34, 0x25, 0x25, 0x16, 0x07,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x80, 0x80, 0x80, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x80, 0x80, 0x80, 0x02, 0x80, 0x80, 0x12, 0x03, 0x80, 0x80, 0x80, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x42, 0x42, 0x42, 0x02, 0x42, 0x42, 0x12, 0x03, 0x33, 0x33, 0x33, 0x33, 0x24, 0x24, 0x15, 0x06,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03, 0x62, 0x62, 0x62, 0x02, 0x22, 0x22, 0x13, 0x04,
    0x62, 0x62, 0x62, 0x02, 0x62, 0x62, 0x12, 0x03, 0x32, 0x32, 0x32, 0x02, 0x23, 0x23, 0x14, 0x05,
    0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x03, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x13, 0x04,
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x35, 0x35, 0x35, 0x35, 0x26, 0x26, 0x17, 0x08,
};

/* Bit i set when 16-bit word i of the 8 bytes at b (words in network order) is 0. */
static unsigned zero_words4(const uint8_t *b)
{
    uint64_t x;
    memcpy(&x, b, 8);
    const uint64_t low15 = 0x7fff7fff7fff7fffull;
    /* The high bit of each 16-bit lane set when the lane is 0 (exact: no carry crosses lanes). */
    uint64_t z = ~(((x & low15) + low15) | x | low15);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (unsigned)(z >> 63 & 1) | (unsigned)(z >> 46 & 2) | (unsigned)(z >> 29 & 4) |
           (unsigned)(z >> 12 & 8);
#else
    return (unsigned)(z >> 15 & 1) | (unsigned)(z >> 30 & 2) | (unsigned)(z >> 45 & 4) |
           (unsigned)(z >> 60 & 8);
#endif
}

/* Words from..to-1 of b in hex, ':' between them; returns the length. */
static size_t put_words(char *p, const uint8_t *b, unsigned from, unsigned to)
{
    size_t o = 0;
    for (unsigned i = from; i < to; i++) {
        o += put_hex16(p + o, b[2 * i], b[2 * i + 1]);
        p[o++] = ':';
    }
    return o ? o - 1 : 0;
}

/* IPv6 text exactly as glibc's inet_ntop writes it (RFC 5952 compression of the longest run of
 * two or more zero words, the first of equal runs; lower-case hex without leading zeros; the
 * last 32 bits in dotted form for IPv4-compatible and IPv4-mapped addresses), without its
 * sprintf calls: this runs for many addresses per lookup. The zero words are found as a bit
 * mask (a word test on 64 bits at a time), whose longest run zero_run gives; the words before
 * and after it are written by put_hex16. */
static size_t put_v6(char *p, const uint8_t *b)
{
    unsigned run = zero_run[zero_words4(b) | zero_words4(b + 8) << 4];
    unsigned best = run >> 4, best_len = run & 0x0f;
    if (best == 8)
        return put_words(p, b, 0, 8);
    size_t o = put_words(p, b, 0, best);
    p[o++] = ':';
    p[o++] = ':';
    unsigned after = best + best_len;
    if (best == 0 && (best_len == 6 || (best_len == 5 && b[10] == 0xff && b[11] == 0xff))) {
        if (best_len == 5) {
            memcpy(p + o, "ffff:", 5);
            o += 5;
        }
        return o + put_v4(p + o, b + 12);
    }
    return o + put_words(p + o, b, after, 8);
}

size_t nt_addr_format_v4(const uint8_t b[4], char *buf)
{
    size_t o = put_v4(buf, b);
    buf[o] = '\0';
    return o;
}

size_t nt_addr_format_v6(const uint8_t b[16], char *buf)
{
    size_t o = put_v6(buf, b);
    buf[o] = '\0';
    return o;
}

size_t nt_addr_format(const struct nt_addr *x, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    buf[0] = '\0';
    size_t o = 0;
    switch (x->family) {
    case NT_AF_INET:
        if (n >= INET_ADDRSTRLEN)
            o = put_v4(buf, x->a);
        break;
    case NT_AF_INET6:
        if (n >= INET6_ADDRSTRLEN)
            o = put_v6(buf, x->a);
        break;
    case NT_AF_NAME: {
        const char *text;
        memcpy(&text, x->a + 4, sizeof text);
        if (text) {
            o = strlen(text);
            if (o >= n)
                o = n - 1;
            memcpy(buf, text, o);
        }
        break;
    }
    default:
        break;
    }
    buf[o] = '\0';
    return o;
}
