/* addr.h: IPv4/IPv6 addresses, and host names as tcpdump prints them without -n. */
#ifndef NT_UTIL_ADDR_H
#define NT_UTIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum nt_addr_family {
    NT_AF_NONE = 0,
    NT_AF_INET = 4,
    NT_AF_INET6 = 6,
    /* A host name read from tcpdump text (tcpdump resolved the address). The name is interned
     * in the run's table (struct nt_names): a[0..3] holds its index (big-endian), which is what
     * compares and hashes, so it equals only the same name of the same run; a[4..] holds the
     * interned text's address, valid while the table lives. */
    NT_AF_NAME = 0x4e,
};

struct nt_addr {
    uint8_t family; /* enum nt_addr_family */
    uint8_t a[16];  /* network byte order; IPv4 uses the first 4 bytes */
};

/* Enough for any IPv6 text form or an interned host name (which is cut at 255 bytes). */
#define NT_ADDR_FMT_MAX 256

/* Equal family and address bytes (4 for IPv4 and interned names, 16 for IPv6; none for
 * NT_AF_NONE). Inline: the rules compare addresses for every lookup. */
static inline bool nt_addr_eq(const struct nt_addr *x, const struct nt_addr *y)
{
    if (x->family != y->family)
        return false;
    uint32_t a, b;
    switch (x->family) {
    case NT_AF_INET:
    case NT_AF_NAME:
        memcpy(&a, x->a, 4);
        memcpy(&b, y->a, 4);
        return a == b;
    case NT_AF_INET6: {
        uint64_t p[2], q[2];
        memcpy(p, x->a, 16);
        memcpy(q, y->a, 16);
        return p[0] == q[0] && p[1] == q[1];
    }
    default:
        return true;
    }
}

/* The bytes of x that nt_addr_eq compares: 4, 16, or 0 (no address). */
static inline size_t nt_addr_len(const struct nt_addr *x)
{
    switch (x->family) {
    case NT_AF_INET:
    case NT_AF_NAME:
        return 4;
    case NT_AF_INET6:
        return 16;
    default:
        return 0;
    }
}

/* Copies the bytes nt_addr_eq compares to out (room for 16), with fixed sizes; returns how many
 * (for building a hash key). */
static inline size_t nt_addr_put(uint8_t *out, const struct nt_addr *x)
{
    size_t n = nt_addr_len(x);
    if (n == 4)
        memcpy(out, x->a, 4);
    else if (n == 16)
        memcpy(out, x->a, 16);
    return n;
}

/* Orders addresses: family first, then bytes. */
int nt_addr_cmp(const struct nt_addr *x, const struct nt_addr *y);
/* FNV-1a over the family and the bytes nt_addr_eq compares, from seed (not keyed: for filters
 * and sketches whose answers must not depend on the run's key). Inline, with each family's
 * bytes unrolled: several run for every packet. */
static inline uint32_t nt_addr_hash(const struct nt_addr *x, uint32_t seed)
{
    uint32_t h = (2166136261u ^ seed ^ x->family) * 16777619u;
    switch (x->family) {
    case NT_AF_INET:
    case NT_AF_NAME:
        for (unsigned i = 0; i < 4; i++)
            h = (h ^ x->a[i]) * 16777619u;
        break;
    case NT_AF_INET6:
        for (unsigned i = 0; i < 16; i++)
            h = (h ^ x->a[i]) * 16777619u;
        break;
    default:
        break;
    }
    return h;
}
/* A cheap mix of an address (the bytes nt_addr_eq compares, and its family) and salt, whose top
 * bits every input bit reaches: its words folded with two multiplies and a shift between them
 * (without the shift, IPv6 addresses differing only in their last byte, ::1 and ::2, fall in
 * few of the top bits' values). For picking a slot of a lookaside cache:
 * `nt_addr_mix(a, salt) >> (64 - BITS)` for 1 << BITS slots. Not keyed: only for caches whose
 * every hit compares the address, so that a collision, even a crafted one, costs a miss, never
 * a wrong answer. Equal addresses (and salts) mix equal. */
static inline uint64_t nt_addr_mix(const struct nt_addr *x, uint64_t salt)
{
    uint64_t w0, w1 = 0;
    if (x->family == NT_AF_INET6) {
        memcpy(&w0, x->a, 8);
        memcpy(&w1, x->a + 8, 8);
    } else {
        uint32_t v4; /* the bytes nt_addr_eq compares (or zeros: NT_AF_NONE) */
        memcpy(&v4, x->a, 4);
        w0 = v4;
    }
    uint64_t m = ((w0 ^ x->family ^ salt) * 0x9e3779b97f4a7c15ull) ^ w1;
    m ^= m >> 32;
    return m * 0xff51afd7ed558ccdull;
}
void nt_addr_set_v4(struct nt_addr *x, const uint8_t b[4]);
void nt_addr_set_v6(struct nt_addr *x, const uint8_t b[16]);
/* Parses a numeric IPv4 or IPv6 address (len bytes of s, not NUL-terminated). Returns true on
 * success. */
bool nt_addr_parse(struct nt_addr *x, const char *s, size_t len);
/* A run's table of interned host names (owned by the run's model, struct analysis; freed with
 * it). nt_names_new returns NULL when out of memory; nt_names_free(NULL) does nothing. */
struct nt_names;
struct nt_names *nt_names_new(void);
void nt_names_free(struct nt_names *t);
/* Makes a name address for a host name of len bytes, interned in t (cut at 255 bytes). Returns
 * false when t is NULL or full (NT_ADDR_NAMES_MAX names), or out of memory. */
bool nt_addr_set_name(struct nt_names *t, struct nt_addr *x, const char *s, size_t len);
/* The interned text of a name address (NT_AF_NAME); NULL for any other address. */
const char *nt_addr_name(const struct nt_addr *x);
/* Formats into buf ("198.51.100.2", "2001:db8::1", or the host name as read). Returns the
 * length. An interned name may hold any byte: callers escape it for their medium. */
size_t nt_addr_format(const struct nt_addr *x, char *buf, size_t n);
/* The same text for 4 (IPv4) or 16 (IPv6) address bytes in network order, NUL-terminated in buf
 * of at least INET_ADDRSTRLEN or INET6_ADDRSTRLEN bytes: for the decoder's A and AAAA records,
 * without an nt_addr in between. Returns the length. */
size_t nt_addr_format_v4(const uint8_t b[4], char *buf);
size_t nt_addr_format_v6(const uint8_t b[16], char *buf);

#define NT_ADDR_NAMES_MAX 65536

#endif
