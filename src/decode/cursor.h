/* cursor.h: the one bounds-checked reader every decoder uses for packet bytes. */
#ifndef NT_DECODE_CURSOR_H
#define NT_DECODE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A window of packet bytes. Reads past the end return 0 and set the sticky short_read flag, so
 * a parser can read a whole header straight down and check once. Offsets only: no pointer is
 * ever formed past p + len. */
struct cursor {
    const uint8_t *p;
    size_t len, off;
    bool short_read;
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
    struct cursor c = {p, len, 0, false};
    return c;
}

static inline size_t cur_left(const struct cursor *c)
{
    return c->off <= c->len ? c->len - c->off : 0;
}

static inline bool cur_has(const struct cursor *c, size_t n)
{
    return cur_left(c) >= n;
}

static inline uint8_t cur_u8(struct cursor *c)
{
    if (!cur_has(c, 1)) {
        c->short_read = true;
        c->off = c->len;
        return 0;
    }
    return c->p[c->off++];
}

static inline uint16_t cur_be16(struct cursor *c)
{
    if (!cur_has(c, 2)) {
        c->short_read = true;
        c->off = c->len;
        return 0;
    }
    uint16_t v = (uint16_t)((uint16_t)c->p[c->off] << 8 | c->p[c->off + 1]);
    c->off += 2;
    return v;
}

static inline uint32_t cur_be32(struct cursor *c)
{
    if (!cur_has(c, 4)) {
        c->short_read = true;
        c->off = c->len;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[c->off] << 24 | (uint32_t)c->p[c->off + 1] << 16 |
                 (uint32_t)c->p[c->off + 2] << 8 | c->p[c->off + 3];
    c->off += 4;
    return v;
}

static inline uint16_t cur_le16(struct cursor *c)
{
    if (!cur_has(c, 2)) {
        c->short_read = true;
        c->off = c->len;
        return 0;
    }
    uint16_t v = (uint16_t)(c->p[c->off] | (uint16_t)c->p[c->off + 1] << 8);
    c->off += 2;
    return v;
}

static inline uint32_t cur_le32(struct cursor *c)
{
    if (!cur_has(c, 4)) {
        c->short_read = true;
        c->off = c->len;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[c->off] | (uint32_t)c->p[c->off + 1] << 8 |
                 (uint32_t)c->p[c->off + 2] << 16 | (uint32_t)c->p[c->off + 3] << 24;
    c->off += 4;
    return v;
}

/* Copies n bytes into out (zero-filled on a short read). */
static inline void cur_bytes(struct cursor *c, void *out, size_t n)
{
    if (!cur_has(c, n)) {
        memset(out, 0, n);
        c->short_read = true;
        c->off = c->len;
        return;
    }
    memcpy(out, c->p + c->off, n);
    c->off += n;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
    if (!cur_has(c, n)) {
        c->short_read = true;
        c->off = c->len;
        return;
    }
    c->off += n;
}

/* A fixed-size header read with one check: the next n bytes when all of them are there and no
 * read has fallen short, the cursor moved past them; NULL otherwise, the cursor untouched (the
 * caller then reads as before, or calls cur_skip(c, n), which leaves the cursor where reading
 * the n bytes one field at a time would). Read the bytes with nt_be16/nt_be32. */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
    if (c->short_read || !cur_has(c, n))
        return NULL;
    const uint8_t *h = c->p + c->off;
    c->off += n;
    return h;
}

static inline uint16_t nt_be16(const uint8_t *b)
{
    return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t nt_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A child cursor over the next n bytes (fewer if fewer remain, which sets short_read on the
 * child, not the parent); the parent moves past them. The child cannot read past its end. */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
    size_t avail = cur_left(c);
    struct cursor s = {c->p + c->off, n <= avail ? n : avail, 0, n > avail};
    c->off += s.len;
    return s;
}

/* A cursor over the remaining bytes; the parent is left at its end. */
static inline struct cursor cur_rest(struct cursor *c)
{
    return cur_sub(c, cur_left(c));
}

#endif
