/* zero.h: memset(p, 0, n) for a block of a few hundred bytes cleared on a hot path (a packet's
 * fixed fields, an evidence), written as pieces of 64 bytes, which GCC emits as 16-byte stores:
 * one memset of the whole block becomes a "rep stos", which costs more to start than the stores
 * take. With n a constant the loop is unrolled (asked of GCC: it does not unroll it on its own). */
#ifndef NT_UTIL_ZERO_H
#define NT_UTIL_ZERO_H

#include <stddef.h>
#include <string.h>

static inline void nt_zero_pieces(void *p, size_t n)
{
    unsigned char *z = p;
    size_t i = 0;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8
#endif
    for (; i + 64 <= n; i += 64)
        memset(z + i, 0, 64);
    if (i < n)
        memset(z + i, 0, n - i);
}

#endif
