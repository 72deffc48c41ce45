/* reasm.c: IPv4 (RFC 791) and IPv6 (RFC 8200 section 4.5) fragment reassembly; the policy and
 * its bounds are in reasm.h. Headers are read through the bounds-checked cursor. */
#include "flow/reasm.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode/cursor.h"
#include "util/htab.h"

#define MAX_PAYLOAD 65535u
#define BLOCKS      (65536u / 8u)
#define MAX_EXT     8

struct dgram {
    uint8_t version, proto;
    uint32_t id;
    uint8_t src[16], dst[16];
    uint64_t hash;               /* of the key above, in the table */
    struct dgram *older, *newer; /* creation order: the oldest is evicted first */
    struct nt_time first;        /* arrival of the first fragment offered */
    uint32_t n_frags;
    /* The first fragment's header (IPv4) or unfragmentable part (IPv6), once seen. */
    bool have_first;
    uint8_t hdr[REASM_MAX_HEADER];
    uint16_t hdr_len;
    uint16_t nh_off;  /* IPv6: offset in hdr of the next-header byte that named the fragment
                       * header */
    uint8_t nh_final; /* IPv6: the fragment header's next header */
    bool have_last;
    uint32_t end; /* payload length, once the last fragment was seen */
    uint8_t *data;
    size_t cap;
    uint8_t got[BLOCKS / 8]; /* which 8-byte blocks of the payload are held */
};

struct reasm {
    struct htab tab; /* datagrams by key */
    struct dgram *oldest, *newest;
    unsigned n_used;
    size_t bytes; /* sum of every datagram's cap */
    unsigned max_datagrams;
    size_t max_bytes;
    uint8_t *out;
    struct reasm_stats st;
};

/* A fragment as read from its header. */
struct frag {
    uint8_t version, proto;
    uint32_t id;
    uint8_t src[16], dst[16];
    uint32_t off; /* payload offset in bytes */
    bool more;
    const uint8_t *hdr; /* IPv4 header / IPv6 unfragmentable part */
    size_t hdr_len;
    size_t nh_off;
    uint8_t nh_final;
    const uint8_t *payload;
    size_t payload_len;
};

struct reasm *reasm_new(unsigned max_datagrams, size_t max_bytes)
{
    struct reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_datagrams = max_datagrams ? max_datagrams : 1;
    r->max_bytes = max_bytes;
    r->out = malloc(REASM_MAX_HEADER + MAX_PAYLOAD);
    if (!r->out) {
        free(r);
        return NULL;
    }
    return r;
}

static void drop(struct reasm *r, struct dgram *g)
{
    htab_remove(&r->tab, g->hash, g);
    if (g->older)
        g->older->newer = g->newer;
    else
        r->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        r->newest = g->older;
    r->bytes -= g->cap;
    free(g->data);
    free(g);
    r->n_used--;
}

void reasm_free(struct reasm *r)
{
    if (!r)
        return;
    while (r->oldest)
        drop(r, r->oldest);
    htab_fini(&r->tab);
    free(r->out);
    free(r);
}

const struct reasm_stats *reasm_stats(const struct reasm *r)
{
    return &r->st;
}

/* Reads an IPv4 or IPv6 fragment's header. Returns 1 for a fragment, 0 when ip is not one (or
 * is malformed), -1 when it was cut short by the capture. */
static int parse(const uint8_t *ip, size_t len, struct frag *f)
{
    struct cursor c = cur_make(ip, len);
    memset(f, 0, sizeof *f);
    uint8_t v = cur_u8(&c);
    if (c.short_read)
        return 0;
    if (v >> 4 == 4) {
        size_t ihl = (size_t)(v & 0x0f) * 4;
        cur_skip(&c, 1);
        uint16_t total = cur_be16(&c);
        f->id = cur_be16(&c);
        uint16_t fr = cur_be16(&c);
        cur_skip(&c, 1);
        f->proto = cur_u8(&c);
        cur_skip(&c, 2);
        cur_bytes(&c, f->src, 4);
        cur_bytes(&c, f->dst, 4);
        if (c.short_read || ihl < 20 || total < ihl)
            return 0;
        f->version = 4;
        f->more = (fr & 0x2000) != 0;
        f->off = (uint32_t)(fr & 0x1fff) * 8;
        if (!f->more && f->off == 0)
            return 0;
        if (total > len)
            return -1;
        f->hdr = ip;
        f->hdr_len = ihl;
        f->payload = ip + ihl;
        f->payload_len = total - ihl;
        return 1;
    }
    if (v >> 4 != 6)
        return 0;
    cur_skip(&c, 3);
    uint16_t plen = cur_be16(&c);
    uint8_t nh = cur_u8(&c);
    cur_skip(&c, 1);
    cur_bytes(&c, f->src, 16);
    cur_bytes(&c, f->dst, 16);
    if (c.short_read)
        return 0;
    size_t total = 40u + plen;
    if (plen == 0)
        return 0; /* a jumbogram is never fragmented */
    if (total > len)
        return -1;
    c.len = total; /* Ethernet padding after the datagram is not part of it */
    size_t nh_off = 6;
    for (unsigned n = 0;; n++) {
        if (n >= MAX_EXT)
            return 0;
        if (nh == 44)
            break;
        if (nh != 0 && nh != 43 && nh != 60)
            return 0; /* no fragment header in the unfragmentable part */
        size_t at = c.off;
        uint8_t next = cur_u8(&c);
        uint8_t hl = cur_u8(&c);
        cur_skip(&c, ((size_t)hl + 1) * 8 - 2);
        if (c.short_read)
            return 0;
        nh_off = at;
        nh = next;
    }
    size_t frag_at = c.off;
    f->nh_final = cur_u8(&c);
    cur_skip(&c, 1);
    uint16_t offm = cur_be16(&c);
    f->id = cur_be32(&c);
    if (c.short_read || frag_at > REASM_MAX_HEADER)
        return 0;
    f->version = 6;
    f->proto = 0; /* not part of the IPv6 key */
    f->off = (uint32_t)(offm & 0xfff8);
    f->more = (offm & 1) != 0;
    f->hdr = ip;
    f->hdr_len = frag_at;
    f->nh_off = nh_off;
    f->payload = ip + frag_at + 8;
    f->payload_len = total - frag_at - 8;
    return 1;
}

static bool same(const void *item, const void *key)
{
    const struct dgram *g = item;
    const struct frag *f = key;
    return g->version == f->version && g->id == f->id && g->proto == f->proto &&
           memcmp(g->src, f->src, 16) == 0 && memcmp(g->dst, f->dst, 16) == 0;
}

static uint64_t key_hash(const struct frag *f)
{
    uint8_t k[38];
    k[0] = f->version;
    k[1] = f->proto;
    k[2] = (uint8_t)(f->id >> 24);
    k[3] = (uint8_t)(f->id >> 16);
    k[4] = (uint8_t)(f->id >> 8);
    k[5] = (uint8_t)f->id;
    memcpy(k + 6, f->src, 16);
    memcpy(k + 22, f->dst, 16);
    return htab_hash(k, sizeof k);
}

static bool block_got(const struct dgram *g, uint32_t b)
{
    return (g->got[b / 8] >> (b % 8)) & 1;
}

/* The datagram created first, other than keep. */
static struct dgram *oldest(const struct reasm *r, const struct dgram *keep)
{
    return r->oldest != keep ? r->oldest : keep->newer;
}

static void lose(struct reasm *r, struct dgram *g, uint64_t *counter)
{
    (*counter)++;
    r->st.lost_fragments += g->n_frags;
    drop(r, g);
}

void reasm_expire(struct reasm *r, const struct nt_time *now)
{
    if (r->n_used == 0 || now->kind == NT_TIME_NONE)
        return;
    /* Every datagram is looked at: creation order is not time order across a clock step. */
    for (struct dgram *g = r->oldest, *next; g; g = next) {
        next = g->newer;
        if (nt_time_diff_us(&g->first, now) > (int64_t)REASM_TIMEOUT_SEC * 1000000)
            lose(r, g, &r->st.timed_out);
    }
}

void reasm_finish(struct reasm *r)
{
    while (r->oldest)
        lose(r, r->oldest, &r->st.incomplete);
}

/* Makes g's buffer hold at least need bytes, evicting older datagrams when the total would
 * pass max_bytes. */
static bool reserve(struct reasm *r, struct dgram *g, size_t need)
{
    if (need <= g->cap)
        return true;
    size_t cap = (need + 4095) & ~(size_t)4095;
    if (cap > MAX_PAYLOAD + 1)
        cap = MAX_PAYLOAD + 1;
    while (r->bytes - g->cap + cap > r->max_bytes) {
        struct dgram *o = oldest(r, g);
        if (!o)
            return false;
        lose(r, o, &r->st.evicted);
    }
    uint8_t *d = realloc(g->data, cap);
    if (!d)
        return false;
    memset(d + g->cap, 0, cap - g->cap);
    r->bytes += cap - g->cap;
    g->data = d;
    g->cap = cap;
    return true;
}

static bool complete(const struct dgram *g)
{
    if (!g->have_first || !g->have_last)
        return false;
    uint32_t nb = (g->end + 7) / 8;
    for (uint32_t b = 0; b < nb; b++)
        if (!block_got(g, b))
            return false;
    return true;
}

/* Writes g as one IP datagram into r->out; returns its length. */
static size_t build(struct reasm *r, const struct dgram *g)
{
    memcpy(r->out, g->hdr, g->hdr_len);
    memcpy(r->out + g->hdr_len, g->data, g->end);
    size_t n = g->hdr_len + g->end;
    if (g->version == 4) {
        r->out[2] = (uint8_t)(n >> 8);
        r->out[3] = (uint8_t)n;
        r->out[6] &= 0x40; /* keep DF, clear MF and the offset */
        r->out[7] = 0;
    } else {
        size_t plen = n - 40;
        r->out[4] = (uint8_t)(plen >> 8);
        r->out[5] = (uint8_t)plen;
        r->out[g->nh_off] = g->nh_final;
    }
    return n;
}

int reasm_add(struct reasm *r, const struct nt_time *ts, const uint8_t *ip, size_t len,
              const uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    r->st.fragments++;
    reasm_expire(r, ts);
    struct frag f;
    int pr = parse(ip, len, &f);
    if (pr <= 0) {
        if (pr < 0)
            r->st.uncaptured++;
        else
            r->st.invalid++;
        return 0;
    }
    /* Lengths: a fragment that is not the last carries whole 8-byte blocks, and the datagram
     * stays within 65535 bytes (IPv4 counts its header, IPv6 its extension headers). */
    size_t base = f.version == 4 ? f.hdr_len : f.hdr_len - 40;
    uint64_t end = (uint64_t)f.off + f.payload_len;
    if ((f.more && (f.payload_len == 0 || f.payload_len % 8 != 0)) || base + end > MAX_PAYLOAD) {
        r->st.invalid++;
        return 0;
    }
    uint64_t h = key_hash(&f);
    struct dgram *g = htab_get(&r->tab, h, same, &f);
    if (!g) {
        if (r->n_used >= r->max_datagrams)
            lose(r, r->oldest, &r->st.evicted);
        g = calloc(1, sizeof *g);
        if (!g)
            return -1;
        g->version = f.version;
        g->proto = f.proto;
        g->id = f.id;
        memcpy(g->src, f.src, 16);
        memcpy(g->dst, f.dst, 16);
        g->hash = h;
        g->first = *ts;
        if (htab_insert(&r->tab, h, g) < 0) {
            free(g);
            return -1;
        }
        g->older = r->newest;
        if (r->newest)
            r->newest->newer = g;
        else
            r->oldest = g;
        r->newest = g;
        r->n_used++;
    }
    g->n_frags++;
    if (g->have_last && end > g->end) {
        r->st.invalid++; /* past the end the last fragment set */
        return 0;
    }
    if (!f.more) {
        if (g->have_last && end != g->end) {
            r->st.invalid++;
            return 0;
        }
        uint32_t nb = (uint32_t)((end + 7) / 8);
        for (uint32_t b = nb; b < BLOCKS; b++)
            if (block_got(g, b)) {
                r->st.invalid++; /* data already held past this end */
                return 0;
            }
    }
    if (!reserve(r, g, (size_t)end))
        return -1;
    /* Copy block by block; the first bytes received for a block win. */
    bool dup = false, overlap = false;
    for (uint32_t at = 0; at < f.payload_len; at += 8) {
        uint32_t b = (f.off + at) / 8;
        size_t n = f.payload_len - at < 8 ? f.payload_len - at : 8;
        if (block_got(g, b)) {
            if (memcmp(g->data + f.off + at, f.payload + at, n) == 0)
                dup = true;
            else
                overlap = true;
            continue;
        }
        memcpy(g->data + f.off + at, f.payload + at, n);
        g->got[b / 8] = (uint8_t)(g->got[b / 8] | 1u << (b % 8));
    }
    if (overlap)
        r->st.overlaps++;
    else if (dup)
        r->st.duplicates++;
    if (!f.more) {
        g->have_last = true;
        g->end = (uint32_t)end;
    }
    if (f.off == 0 && !g->have_first) {
        g->have_first = true;
        memcpy(g->hdr, f.hdr, f.hdr_len);
        g->hdr_len = (uint16_t)f.hdr_len;
        g->nh_off = (uint16_t)f.nh_off;
        g->nh_final = f.nh_final;
    }
    if (!complete(g))
        return 0;
    *out_len = build(r, g);
    *out = r->out;
    r->st.reassembled++;
    drop(r, g);
    return 1;
}
