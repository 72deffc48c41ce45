/* pcap.c: pcap and pcapng input, from a regular file through nettriage's own reader
 * (pcapfile.c), otherwise through libpcap (the only file that includes <pcap.h>) with a
 * minimal pcapng reader (draft-ietf-opsawg-pcapng) for the files libpcap refuses. Each record,
 * whichever reader read it, is handed on decoded; reassembly is the flow stage's (src/flow/). */
#include "source/source_impl.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "decode/cursor.h"
#include "decode/decode.h"
#include "source/pcapfile.h"
#include "util/err.h"

/* The pcapng fallback reader. It reads what libpcap refuses (interfaces of different link
 * types or snap lengths) by libpcap's rules, each interface with its own link type and snap
 * length; pcapfile.c reads the same files from a regular file by the same rules, and the reader
 * oracle test checks that both agree. */
struct ng_if {
    int linktype;        /* DLT */
    uint32_t snapshot;   /* adjusted snap length */
    struct pf_tsres res; /* if_tsresol and if_tsoffset */
};

/* nettriage's own pcapng reader: blocks read whole (bounded) from the stream, parsed through
 * the cursor. Used only when libpcap refuses a file. */
struct ng {
    FILE *f; /* libpcap's stream, rewound (owned by libpcap) */
    bool be; /* the current section is big-endian */
    bool seen_shb;
    struct ng_if *ifs;
    uint32_t n_if;
    uint32_t max_block; /* libpcap's: 16 MiB, more for link types with larger packets */
    bool seen_if;       /* an interface was seen (the first sets max_block) */
    uint8_t *buf;
    size_t cap;
    uint64_t skip; /* packets libpcap already delivered */
};

struct pcap_impl {
    pcap_t *p;
    FILE *f; /* owned by libpcap once opened */
    int linktype;
    struct ng *ng;
    struct pf_reader *pf; /* nettriage's own reader (then p is NULL) */
    source_tap_fn tap;    /* tests: sees every record before decoding */
    void *tap_arg;
};

static uint32_t get32(struct cursor *c, bool be)
{
    return be ? cur_be32(c) : cur_le32(c);
}

static uint16_t get16(struct cursor *c, bool be)
{
    return be ? cur_be16(c) : cur_le16(c);
}

/* Reads exactly n bytes; false at the end of the stream or on a short read (*got says how
 * many came). */
static bool ng_read(struct ng *g, void *dst, size_t n, size_t *got)
{
    *got = fread(dst, 1, n, g->f);
    return *got == n;
}

static int ng_fail(struct source *s, int code, const char *what)
{
    snprintf(s->error, sizeof s->error, "%s after packet %llu", what,
             (unsigned long long)s->stats.packets);
    if (code == NT_ERR_TRUNCATED)
        s->stats.truncated = true;
    return code;
}

static int ng_idb(struct source *s, struct ng *g, struct cursor *c)
{
    if (g->n_if >= PF_MAX_INTERFACES)
        return ng_fail(s, NT_ERR_CORRUPT, "pcapng: too many interfaces in one section");
    struct ng_if ifc = {.res = {.tsresol = 6}};
    ifc.linktype = pf_linktype_to_dlt(get16(c, g->be)); /* libpcap's numbering, as everywhere */
    cur_skip(c, 2);
    ifc.snapshot = pf_adjust_snapshot(ifc.linktype, get32(c, g->be));
    if (c->short_read)
        return ng_fail(s, NT_ERR_CORRUPT, "pcapng: interface description block too short");
    /* Options: code, length, value padded to 4 bytes, up to end-of-options or the end of the
     * block; as libpcap does, a damaged list, a time option of the wrong size or a repeated
     * one is an error. */
    bool saw_res = false, saw_off = false;
    while (cur_left(c) > 0) {
        uint16_t code = get16(c, g->be);
        uint16_t len = get16(c, g->be);
        struct cursor v = cur_sub(c, len);
        cur_skip(c, (size_t)((4 - len % 4) % 4));
        if (c->short_read || v.short_read)
            return ng_fail(s, NT_ERR_CORRUPT, "pcapng: interface options cut short");
        if (code == 0) {
            if (len != 0)
                return ng_fail(s, NT_ERR_CORRUPT, "pcapng: end-of-options with a length");
            break;
        }
        if (code == 9) {
            if (len != 1 || saw_res)
                return ng_fail(s, NT_ERR_CORRUPT, "pcapng: bad or repeated if_tsresol option");
            saw_res = true;
            ifc.res.tsresol = cur_u8(&v);
        } else if (code == 14) {
            if (len != 8 || saw_off)
                return ng_fail(s, NT_ERR_CORRUPT, "pcapng: bad or repeated if_tsoffset option");
            saw_off = true;
            uint64_t hi = get32(&v, g->be), lo = get32(&v, g->be);
            uint64_t u = g->be ? hi << 32 | lo : lo << 32 | hi;
            /* Two's complement, spelled out (no implementation-defined conversion). */
            ifc.res.tsoffset = u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
        }
    }
    if (!pf_tsresol_valid(ifc.res.tsresol))
        return ng_fail(s, NT_ERR_CORRUPT, "pcapng: interface with an invalid time resolution");
    if (g->n_if % 16 == 0) {
        struct ng_if *n = realloc(g->ifs, (g->n_if + 16) * sizeof *n);
        if (!n)
            return ng_fail(s, NT_ERR_NOMEM, nt_strerror(NT_ERR_NOMEM));
        g->ifs = n;
    }
    g->ifs[g->n_if++] = ifc;
    if (!g->seen_if) {
        g->seen_if = true;
        uint32_t mb = pf_max_block_for_dlt(ifc.linktype);
        if (mb > g->max_block)
            g->max_block = mb;
    }
    if (s->stats.linktype < 0)
        s->stats.linktype = ifc.linktype;
    return NT_OK;
}

/* Reads blocks until the next packet; fills *ifc, the timestamp, and the packet's bytes.
 * Returns 1 for a packet, 0 at the end, a negative NT_ERR_* (with s->error) when damaged. */
static int ng_next(struct source *s, struct ng *g, const struct ng_if **ifc, struct nt_time *ts,
                   const uint8_t **data, uint32_t *caplen, uint32_t *wirelen)
{
    for (;;) {
        uint8_t h[12];
        size_t got;
        if (!ng_read(g, h, 8, &got)) {
            if (got == 0 && !ferror(g->f))
                return 0;
            return ng_fail(s, ferror(g->f) ? NT_ERR_IO : NT_ERR_TRUNCATED,
                           "pcapng: truncated block header");
        }
        /* The file's first block is the section header libpcap already accepted; as libpcap
         * does, its length need not be a multiple of 4 and its trailer is not checked. */
        bool first = !g->seen_shb;
        struct cursor hc = cur_make(h, 8);
        uint32_t type = cur_le32(&hc); /* the SHB type reads the same either way */
        if (type == 0x0a0d0d0a) {
            if (!ng_read(g, h + 8, 4, &got))
                return ng_fail(s, NT_ERR_TRUNCATED, "pcapng: truncated section header");
            if (memcmp(h + 8, "\x1a\x2b\x3c\x4d", 4) == 0)
                g->be = true;
            else if (memcmp(h + 8, "\x4d\x3c\x2b\x1a", 4) == 0)
                g->be = false;
            else
                return ng_fail(s, NT_ERR_CORRUPT, "pcapng: bad byte-order magic");
            g->seen_shb = true;
            g->n_if = 0; /* interfaces are numbered per section */
        } else if (!g->seen_shb) {
            return ng_fail(s, NT_ERR_CORRUPT, "pcapng: no section header block");
        }
        if (g->max_block == 0)
            g->max_block = PF_BLOCK_MAX;
        hc = cur_make(h, 12);
        type = get32(&hc, g->be);
        uint32_t blen = get32(&hc, g->be);
        size_t head = type == 0x0a0d0d0a ? 12 : 8;
        if (blen < 12 || (blen % 4 != 0 && !first) || blen > g->max_block || blen < head + 4)
            return ng_fail(s, NT_ERR_CORRUPT, "pcapng: bad block length");
        size_t body_len = blen - head;
        if (body_len > g->cap) {
            uint8_t *nb = realloc(g->buf, body_len);
            if (!nb)
                return ng_fail(s, NT_ERR_NOMEM, nt_strerror(NT_ERR_NOMEM));
            g->buf = nb;
            g->cap = body_len;
        }
        if (!ng_read(g, g->buf, body_len, &got))
            return ng_fail(s, ferror(g->f) ? NT_ERR_IO : NT_ERR_TRUNCATED,
                           "pcapng: truncated block");
        /* The body, without the trailing copy of the length (which must match). */
        struct cursor all = cur_make(g->buf, body_len);
        struct cursor c = cur_sub(&all, body_len - 4);
        if (get32(&all, g->be) != blen && !first)
            return ng_fail(s, NT_ERR_CORRUPT, "pcapng: block lengths disagree");
        uint32_t if_id = 0, cap = 0, len = 0;
        uint64_t t = 0;
        switch (type) {
        case 0x0a0d0d0a: {
            /* The rest of the fixed part: major and minor version, section length. */
            uint16_t major = get16(&c, g->be);
            cur_skip(&c, 10);
            if (c.short_read || major != 1)
                return ng_fail(s, NT_ERR_CORRUPT, "pcapng: unsupported section version");
            continue;
        }
        case 1: {
            int rc = ng_idb(s, g, &c);
            if (rc < 0)
                return rc;
            continue;
        }
        case 6: /* enhanced packet block */
        case 2: /* obsolete packet block */
            if (type == 6) {
                if_id = get32(&c, g->be);
            } else {
                if_id = get16(&c, g->be);
                cur_skip(&c, 2);
            }
            t = (uint64_t)get32(&c, g->be) << 32;
            t |= get32(&c, g->be);
            cap = get32(&c, g->be);
            len = get32(&c, g->be);
            if (!c.short_read && if_id < g->n_if && cap > g->ifs[if_id].snapshot)
                return ng_fail(s, NT_ERR_CORRUPT,
                               "pcapng: packet larger than its interface's snap length");
            break;
        case 3: /* simple packet block: interface 0, no time stamp (so the interface's offset),
                 * captured = min(len, snap length) */
            len = get32(&c, g->be);
            cap = len;
            if (g->n_if > 0 && cap > g->ifs[0].snapshot)
                cap = g->ifs[0].snapshot;
            break;
        default:
            continue; /* statistics, name resolution, custom blocks: nothing we use */
        }
        if (c.short_read || if_id >= g->n_if || cap > cur_left(&c))
            return ng_fail(s, NT_ERR_CORRUPT,
                           if_id >= g->n_if ? "pcapng: packet for an undeclared interface"
                                            : "pcapng: packet block too short");
        if (g->skip > 0) {
            g->skip--;
            continue;
        }
        *ifc = &g->ifs[if_id];
        memset(ts, 0, sizeof *ts);
        /* The offset and the timestamp are the file's: a sum beyond PF_MAX_ABS_SEC is an
         * error, computed without overflow (pf_ng_time). */
        if (!pf_ng_time(&(*ifc)->res, t, ts))
            return ng_fail(s, NT_ERR_CORRUPT, "pcapng: timestamp out of range");
        *data = c.p + c.off;
        *caplen = cap;
        *wirelen = len;
        return 1;
    }
}

/* Decodes one record into pkt (numbered after the packets delivered so far), whichever reader
 * read it. */
static void deliver(struct source *s, struct pcap_impl *pi, struct packet *pkt,
                    const struct pf_record *rec)
{
    if (pi->tap)
        pi->tap(pi->tap_arg, rec);
    const uint8_t *data = rec->data;
    uint32_t caplen = rec->caplen;
    int linktype = rec->linktype;
    packet_reset(pkt);
    pkt->num = s->stats.packets + 1;
    pkt->ts = rec->ts;
    pkt->caplen = caplen;
    pkt->wirelen = rec->wirelen;
    pkt->linktype = linktype;
    if (!decode_linktype_supported(linktype)) {
        s->stats.unsupported_link++;
        return;
    }
    decode_packet(pkt, linktype, data, caplen);
    /* The frame may be decoded again later (evidence lines); the flow stage takes it away
     * from the packets whose view it changes. */
    pkt->frame = data;
    pkt->frame_len = caplen;
    pkt->frame_linktype = linktype;
}

static int at_end(struct source *s)
{
    if (s->stats.packets == 0) {
        snprintf(s->error, sizeof s->error, "%s", nt_strerror(NT_ERR_NO_PACKETS));
        return NT_ERR_NO_PACKETS;
    }
    return 0;
}

/* libpcap refuses pcapng files whose interfaces differ in link type or snap length, or whose
 * sections differ in byte order. Such a file is reread from its start by the fallback reader,
 * which skips the packets already delivered; a stream that cannot be rewound (a pipe) gets a
 * message saying so. Returns 1 when the fallback took over. */
static int try_fallback(struct source *s, struct pcap_impl *pi, const char *msg)
{
    if (s->kind != SOURCE_PCAPNG ||
        (!strstr(msg, "different from the") && !strstr(msg, "different byte orders")))
        return 0;
    FILE *f = pcap_file(pi->p);
    if (!f || fseeko(f, 0, SEEK_SET) != 0) {
        snprintf(s->error, sizeof s->error,
                 "%s after packet %llu (nettriage reads such pcapng files itself, but only from "
                 "a file it can reread, not from a pipe)",
                 msg, (unsigned long long)s->stats.packets);
        return NT_ERR_CORRUPT;
    }
    struct ng *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(s->error, sizeof s->error, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    g->f = f;
    g->skip = s->stats.packets;
    pi->ng = g;
    s->stats.pcapng_fallback = true;
    return 1;
}

static int pcap_next_packet(struct source *s, struct packet *pkt)
{
    struct pcap_impl *pi = s->impl;
    struct pf_record rec;
    if (pi->pf) {
        int rc = pf_next(pi->pf, &rec);
        s->stats.pcapng_fallback = pf_mixed(pi->pf);
        if (rc == 0)
            return at_end(s);
        if (rc < 0) {
            snprintf(s->error, sizeof s->error, "%s after packet %llu", pf_error(pi->pf),
                     (unsigned long long)s->stats.packets);
            s->stats.truncated = true;
            return rc;
        }
        deliver(s, pi, pkt, &rec);
        return 1;
    }
    if (pi->ng) {
        const struct ng_if *ifc;
        uint32_t caplen, wirelen;
        int rc = ng_next(s, pi->ng, &ifc, &rec.ts, &rec.data, &caplen, &wirelen);
        if (rc == 0)
            return at_end(s);
        if (rc < 0)
            return rc;
        rec.caplen = caplen;
        rec.wirelen = wirelen;
        rec.linktype = ifc->linktype;
        deliver(s, pi, pkt, &rec);
        return 1;
    }
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(pi->p, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK)
        return at_end(s);
    if (rc != 1) {
        /* libpcap says what was wrong ("truncated dump file; tried to read 98 captured bytes,
         * only got 40"); packets already delivered stand. */
        const char *msg = pcap_geterr(pi->p);
        int fb = try_fallback(s, pi, msg && *msg ? msg : "");
        if (fb == 1)
            return pcap_next_packet(s, pkt);
        if (fb < 0)
            return fb;
        snprintf(s->error, sizeof s->error, "%s after packet %llu",
                 msg && *msg ? msg : "read error", (unsigned long long)s->stats.packets);
        s->stats.truncated = true;
        return strstr(s->error, "truncated") ? NT_ERR_TRUNCATED : NT_ERR_CORRUPT;
    }
    /* Opened with nanosecond precision: tv_usec holds nanoseconds. A damaged or crafted classic
     * pcap can hold a fraction of a second or more there, or a negative one (libpcap reads
     * both fields as signed 32-bit numbers); it is carried into the seconds. A pcapng time
     * that libpcap computed beyond PF_MAX_ABS_SEC (a hostile if_tsoffset) is an error. */
    if (!pf_time_norm((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec, &rec.ts)) {
        snprintf(s->error, sizeof s->error, "timestamp out of range after packet %llu",
                 (unsigned long long)s->stats.packets);
        s->stats.truncated = true;
        return NT_ERR_CORRUPT;
    }
    rec.data = data;
    rec.caplen = hdr->caplen;
    rec.wirelen = hdr->len;
    rec.linktype = pi->linktype;
    deliver(s, pi, pkt, &rec);
    return 1;
}

static void pcap_close_source(struct source *s)
{
    struct pcap_impl *pi = s->impl;
    if (!pi)
        return;
    if (pi->p)
        pcap_close(pi->p); /* closes pi->f too */
    else if (pi->f)
        fclose(pi->f);
    pf_close(pi->pf); /* closes its file */
    if (pi->ng) {
        free(pi->ng->ifs);
        free(pi->ng->buf);
        free(pi->ng);
    }
    free(pi);
    s->impl = NULL;
}

static const struct source_ops pcap_ops = {.next = pcap_next_packet, .close = pcap_close_source};

int source_pcap_open(FILE *f, struct source **out, char *err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct pcap_impl *pi = calloc(1, sizeof *pi);
    if (!pi) {
        fclose(f);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    pi->f = f;
    pi->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pi->p) {
        fclose(f);
        free(pi);
        /* libpcap's messages for a header cut short say "truncated dump file". */
        snprintf(err, SOURCE_ERROR_MAX, "%s", errbuf[0] ? errbuf : "cannot read capture header");
        return strstr(errbuf, "truncated") ? NT_ERR_TRUNCATED : NT_ERR_CORRUPT;
    }
    pi->linktype = pcap_datalink(pi->p);
    /* source_open sets the kind (pcap or pcapng) from the magic it saw. */
    struct source *s = source_alloc(&pcap_ops, SOURCE_PCAP, pi);
    if (!s) {
        pcap_close(pi->p);
        free(pi);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    s->stats.linktype = pi->linktype;
    *out = s;
    return NT_OK;
}

int source_pcapfile_open(FILE *f, struct source **out, char *err)
{
    /* Everything that can fail before the reader takes f, so that f stays the caller's on
     * every failure. */
    struct pcap_impl *pi = calloc(1, sizeof *pi);
    struct source *s = pi ? source_alloc(&pcap_ops, SOURCE_PCAP, pi) : NULL;
    int rc = s ? pf_open(f, &pi->pf, err) : NT_ERR_NOMEM;
    if (rc != NT_OK) {
        free(pi);
        free(s);
        if (rc == NT_ERR_NOMEM)
            snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return rc;
    }
    pi->linktype = pf_linktype(pi->pf);
    s->kind = pf_is_pcapng(pi->pf) ? SOURCE_PCAPNG : SOURCE_PCAP;
    s->bytes_at = pf_position(pi->pf);
    s->stats.linktype = pi->linktype;
    *out = s;
    return NT_OK;
}

bool source_pcap_native(const struct source *s)
{
    return s->ops == &pcap_ops && ((const struct pcap_impl *)s->impl)->pf != NULL;
}

void source_pcap_set_tap(struct source *s, source_tap_fn fn, void *arg)
{
    if (s->ops != &pcap_ops)
        return;
    struct pcap_impl *pi = s->impl;
    pi->tap = fn;
    pi->tap_arg = arg;
}
