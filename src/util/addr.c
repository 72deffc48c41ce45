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

/* Every byte value in decimal, four bytes each: up to three digits, NUL padding, then the
 * number of digits. */
static const char dec8[256 * 4 + 1] =
    "0\000\000\0011\000\000\0012\000\000\0013\000\000\0014\000\000\001"
    "5\000\000\0016\000\000\0017\000\000\0018\000\000\0019\000\000\001"
    "10\000\00211\000\00212\000\00213\000\00214\000\002"
    "15\000\00216\000\00217\000\00218\000\00219\000\002"
    "20\000\00221\000\00222\000\00223\000\00224\000\002"
    "25\000\00226\000\00227\000\00228\000\00229\000\002"
    "30\000\00231\000\00232\000\00233\000\00234\000\002"
    "35\000\00236\000\00237\000\00238\000\00239\000\002"
    "40\000\00241\000\00242\000\00243\000\00244\000\002"
    "45\000\00246\000\00247\000\00248\000\00249\000\002"
    "50\000\00251\000\00252\000\00253\000\00254\000\002"
    "55\000\00256\000\00257\000\00258\000\00259\000\002"
    "60\000\00261\000\00262\000\00263\000\00264\000\002"
    "65\000\00266\000\00267\000\00268\000\00269\000\002"
    "70\000\00271\000\00272\000\00273\000\00274\000\002"
    "75\000\00276\000\00277\000\00278\000\00279\000\002"
    "80\000\00281\000\00282\000\00283\000\00284\000\002"
    "85\000\00286\000\00287\000\00288\000\00289\000\002"
    "90\000\00291\000\00292\000\00293\000\00294\000\002"
    "95\000\00296\000\00297\000\00298\000\00299\000\002"
    "100\003101\003102\003103\003104\003"
    "105\003106\003107\003108\003109\003"
    "110\003111\003112\003113\003114\003"
    "115\003116\003117\003118\003119\003"
    "120\003121\003122\003123\003124\003"
    "125\003126\003127\003128\003129\003"
    "130\003131\003132\003133\003134\003"
    "135\003136\003137\003138\003139\003"
    "140\003141\003142\003143\003144\003"
    "145\003146\003147\003148\003149\003"
    "150\003151\003152\003153\003154\003"
    "155\003156\003157\003158\003159\003"
    "160\003161\003162\003163\003164\003"
    "165\003166\003167\003168\003169\003"
    "170\003171\003172\003173\003174\003"
    "175\003176\003177\003178\003179\003"
    "180\003181\003182\003183\003184\003"
    "185\003186\003187\003188\003189\003"
    "190\003191\003192\003193\003194\003"
    "195\003196\003197\003198\003199\003"
    "200\003201\003202\003203\003204\003"
    "205\003206\003207\003208\003209\003"
    "210\003211\003212\003213\003214\003"
    "215\003216\003217\003218\003219\003"
    "220\003221\003222\003223\003224\003"
    "225\003226\003227\003228\003229\003"
    "230\003231\003232\003233\003234\003"
    "235\003236\003237\003238\003239\003"
    "240\003241\003242\003243\003244\003"
    "245\003246\003247\003248\003249\003"
    "250\003251\003252\003253\003254\003"
    "255\003";

/* Writes v (0-255) in decimal at p and returns the end. Four bytes are stored (the digits and
 * what follows them in dec8): p must have room for 4, which every caller's buffer has (the
 * byte after the digits is then overwritten by '.' or the terminating NUL). */
static char *put_dec8(char *p, unsigned v)
{
    memcpy(p, dec8 + 4 * v, 4);
    return p + (unsigned char)dec8[4 * v + 3];
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
