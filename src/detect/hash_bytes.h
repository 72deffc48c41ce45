/* hash_bytes.h: a key of several small fields written as the very bytes the incremental hasher
 * (util/htab.h) is given when the fields are added one by one (htab_hasher_u8, _u16, _u64,
 * _addr), so that the key is hashed by one htab_hash or htab_hasher_add call, with the same
 * value, instead of one call per field (tests/unit/test_hash_bytes.c holds them equal). */
#ifndef NT_DETECT_HASH_BYTES_H
#define NT_DETECT_HASH_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/addr.h"

/* The most bytes hb_addr writes. */
#define HB_ADDR_MAX 17

/* Each writes its field at b and returns the bytes written. */
static inline size_t hb_u8(uint8_t *b, uint8_t v)
{
    b[0] = v;
    return 1;
}

static inline size_t hb_u16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    return 2;
}

static inline size_t hb_u64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return 8;
}

/* As htab_hasher_addr: the family, then the bytes nt_addr_eq compares. */
static inline size_t hb_addr(uint8_t *b, const struct nt_addr *a)
{
    b[0] = a->family;
    if (a->family == NT_AF_INET || a->family == NT_AF_NAME) {
        memcpy(b + 1, a->a, 4);
        return 5;
    }
    if (a->family == NT_AF_INET6) {
        memcpy(b + 1, a->a, 16);
        return 17;
    }
    return 1;
}

/* The 8 bytes of w with ASCII upper-case letters turned to lower case, all at once (each byte on
 * its own: no carry crosses from one byte to the next): a byte is one when it is below 0x80, at
 * least 'A' and not above 'Z'; its bit 0x20 is then set. */
static inline uint64_t hb_fold_word(uint64_t w)
{
    const uint64_t high = 0x8080808080808080ull;
    uint64_t low7 = w & ~high;
    uint64_t from_a = low7 + 0x3f3f3f3f3f3f3f3full; /* bit 7 set when the byte >= 'A' */
    uint64_t past_z = low7 + 0x2525252525252525ull; /* bit 7 set when the byte > 'Z' */
    return w | (from_a & ~past_z & ~w & high) >> 2;
}

static inline uint64_t hb_le32(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

/* The n (1 to 8) bytes at p, little-endian, the others 0: two overlapping 4-byte loads, or the
 * first, middle and last byte (an overlap puts the same byte in the same place). */
static inline uint64_t hb_le_upto8(const unsigned char *p, size_t n)
{
    if (n >= 4)
        return hb_le32(p) | hb_le32(p + n - 4) << (8 * (n - 4));
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* As htab_hasher_name for a name of n bytes, as the words htab_hash_words takes: n as a u64, then
 * the name with ASCII letters folded to lower case, read a word at a time (no byte past the
 * name's n). w needs 1 + (n + 7) / 8 words. Returns the bytes, 8 + n. */
static inline size_t hb_name_words(uint64_t *w, const char *name, size_t n)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0, k = 1;
    w[0] = (uint64_t)n;
    for (; n - i >= 8; i += 8)
        w[k++] = hb_fold_word(hb_le32(p + i) | hb_le32(p + i + 4) << 32);
    if (i < n)
        w[k] = hb_fold_word(hb_le_upto8(p + i, n - i));
    return 8 + n;
}

#endif
