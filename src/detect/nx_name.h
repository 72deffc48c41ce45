/* nx_name.h: the parent domain of a DNS name and its sketch hash, for dns.nxdomain_surge, in one
 * pass over the name (every lookup needs them: the rule's sketches count every lookup).
 *
 * A "plain" name is written only with letters, digits, '-', '_' and dots, with labels of at most
 * 63 bytes (empty labels, as between two dots, do not count) and at most max_labels of them; any
 * other name (escapes, other bytes) is not plain and is split the long way by the rule. The
 * parent of a name of n labels is its last two labels, or its last three when the last has two
 * bytes and the one before it at most three (co.uk, com.au); a name of fewer labels is its own
 * parent. The parent's text is its labels lower-cased, each followed by a dot.
 *
 * The sketch hash is FNV-1a (64-bit) over text, continued from a given value: a fixed hash,
 * whose value reaches the report through the sketches' estimates, so these functions must give
 * exactly what the byte-wise definition gives (tests/unit/test_nx_name.c checks them against
 * it). */
#ifndef NT_DETECT_NX_NAME_H
#define NT_DETECT_NX_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_FNV_PRIME 1099511628211ull

/* Per byte: NX_BAD (not in a plain name), NX_PLAIN (letters, digits, '-', '_'), NX_DOT, NX_END
 * (the NUL). */
enum { NX_BAD, NX_PLAIN, NX_DOT, NX_END };
extern const uint8_t nx_name_class[256];
/* Per byte: ASCII lower case (tolower in the C locale). */
extern const uint8_t nx_name_lower[256];

/* Where a plain name's labels are: n labels, of which pl make the parent; the leftmost label at
 * start0 (len0 bytes), the parent's first at startp (lenp bytes). */
struct nx_name {
    size_t n, pl;
    size_t start0, len0, startp, lenp;
    size_t last_start[3], last_len[3]; /* the last labels, [0] the last one */
};

/* Reads name (NUL-terminated) once: false when it is not plain; else fills o (o->n 0 for a name
 * without labels, such as the root). */
static inline bool nx_name_scan(const char *name, size_t max_labels, struct nx_name *o)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0, n = 0;
    size_t *s = o->last_start, *len = o->last_len;
    s[0] = s[1] = s[2] = len[0] = len[1] = len[2] = 0;
    o->start0 = o->len0 = 0;
    for (;;) {
        unsigned k = nx_name_class[p[i]];
        if (k == NX_PLAIN) {
            size_t at = i;
            do
                i++;
            while ((k = nx_name_class[p[i]]) == NX_PLAIN);
            size_t ln = i - at;
            if (k == NX_BAD || n >= max_labels || ln > 63)
                return false;
            if (n == 0) {
                o->start0 = at;
                o->len0 = ln;
            }
            s[2] = s[1];
            len[2] = len[1];
            s[1] = s[0];
            len[1] = len[0];
            s[0] = at;
            len[0] = ln;
            n++;
        }
        if (k == NX_END)
            break;
        if (k == NX_BAD)
            return false;
        i++; /* a dot */
    }
    size_t pl = n >= 3 && len[0] == 2 && len[1] <= 3 ? 3 : n >= 2 ? 2 : n;
    o->n = n;
    o->pl = pl;
    o->startp = pl ? s[pl - 1] : 0;
    o->lenp = pl ? len[pl - 1] : 0;
    return true;
}

/* FNV-1a of the parent's text of a scanned name (o->n > 0) continued from h, read from the name
 * (nx_name_parent writes the same text). */
static inline uint64_t nx_name_fnv(const char *name, const struct nx_name *o, uint64_t h)
{
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = o->pl; i-- > 0;) {
        const unsigned char *q = p + o->last_start[i], *end = q + o->last_len[i];
        for (; q < end; q++)
            h = (h ^ nx_name_lower[*q]) * NX_FNV_PRIME;
        h = (h ^ '.') * NX_FNV_PRIME;
    }
    return h;
}

/* Writes the parent's text of a scanned name (o->n > 0) at parent (at most 3 * 64 bytes and a
 * NUL): its labels lower-cased, each followed by a dot. Returns its length. */
static inline size_t nx_name_parent(const char *name, const struct nx_name *o, char *parent)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t w = 0;
    for (size_t i = o->pl; i-- > 0;) {
        const unsigned char *q = p + o->last_start[i];
        for (size_t j = 0, ln = o->last_len[i]; j < ln; j++)
            parent[w++] = (char)nx_name_lower[q[j]];
        parent[w++] = '.';
    }
    parent[w] = '\0';
    return w;
}

#endif
