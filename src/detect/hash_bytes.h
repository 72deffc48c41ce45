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
#include "util/htab.h"

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

/* As htab_hasher_name for a name of n bytes, as the words htab_hash_words takes: n as a u64, then
 * the name with ASCII letters folded to lower case, read a word at a time (no byte past the
 * name's n). w needs 1 + (n + 7) / 8 words. Returns the bytes, 8 + n. */
static inline size_t hb_name_words(uint64_t *w, const char *name, size_t n)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0, k = 1;
    w[0] = (uint64_t)n;
    for (; n - i >= 8; i += 8)
        w[k++] = htab_fold_word(htab_load_le64(p + i));
    if (i < n)
        w[k] = htab_fold_word(htab_load_le_upto8(p + i, n - i));
    return 8 + n;
}

#endif
