/* dns.c: DNS messages (RFC 1035, compression 4.1.4; EDNS RFC 6891; unknown types RFC 3597). */
#include "decode/decode.h"

#include <stdio.h>
#include <string.h>

#include "util/dnstext.h"

/* Each backward jump lands strictly before the previous part, so a name cannot loop; this
 * bound only caps the work a hostile message can ask for (a 255-octet name has at most 128
 * labels, hence at most that many useful jumps). */
#define MAX_JUMPS     128
#define NAME_WIRE_MAX 255

/* Names already read in this message, by the offset they start at: a name that is only a
 * compression pointer to one of them reads as the same labels with one jump more (the walk from
 * the target is the same walk, under the same "strictly backwards" rule from there on), so its
 * text is copied instead of read again. Answers commonly point at the question or at an earlier
 * record's CNAME target. Only names read whole (no anomaly) are kept, and only while one more
 * jump stays within MAX_JUMPS. */
#define NAME_MEMO_MAX 8
struct name_memo {
    size_t off;       /* where the name starts in the message */
    const char *text; /* its presentation form, NUL-terminated, alive until the parse ends */
    uint16_t len;
    unsigned jumps; /* pointers its walk followed */
};
struct name_memos {
    struct name_memo m[NAME_MEMO_MAX];
    unsigned n;
};

static void memo_add(struct name_memos *ms, size_t off, const char *text, uint16_t len,
                     unsigned jumps)
{
    if (ms->n < NAME_MEMO_MAX && jumps < MAX_JUMPS)
        ms->m[ms->n++] = (struct name_memo){off, text, len, jumps};
}

/* When the name at m's offset is a single compression pointer to a remembered name, copies that
 * name into out, moves m past the pointer and returns true. */
static bool memo_read(const struct name_memos *ms, struct cursor *m, struct dns_name *out)
{
    if (!ms->n || !cur_has(m, 2))
        return false;
    const uint8_t *p = m->p + m->off;
    if ((p[0] & 0xc0) != 0xc0)
        return false;
    size_t target = (size_t)(p[0] & 0x3f) << 8 | p[1];
    if (target >= m->off)
        return false;
    for (unsigned i = 0; i < ms->n; i++) {
        if (ms->m[i].off == target) {
            memcpy(out->text, ms->m[i].text, (size_t)ms->m[i].len + 1);
            out->len = ms->m[i].len;
            m->off += 2;
            return true;
        }
    }
    return false;
}

/* A bounded text writer: it never writes past its buffer and remembers that it had to cut. */
struct tw {
    char *b;
    size_t cap; /* bytes of b, including the NUL */
    size_t len;
    bool cut;
};

static void tw_init(struct tw *w, char *b, size_t cap)
{
    w->b = b;
    w->cap = cap;
    w->len = 0;
    w->cut = false;
    b[0] = '\0';
}

static void tw_putc(struct tw *w, char ch)
{
    if (w->len + 1 >= w->cap) {
        w->cut = true;
        return;
    }
    w->b[w->len++] = ch;
    w->b[w->len] = '\0';
}

static void tw_puts(struct tw *w, const char *s)
{
    size_t n = strlen(s);
    size_t room = w->len + 1 < w->cap ? w->cap - 1 - w->len : 0;
    size_t k = n < room ? n : room;
    memcpy(w->b + w->len, s, k);
    w->len += k;
    w->b[w->len] = '\0';
    if (k < n)
        w->cut = true;
}

static void tw_printf_u(struct tw *w, unsigned long v)
{
    if (w->len + 1 >= w->cap) { /* full (or a writer of no room): nothing to format */
        w->cut = true;
        return;
    }
    char tmp[24];
    size_t i = sizeof tmp;
    tmp[--i] = '\0';
    do
        tmp[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    tw_puts(w, tmp + i);
}

/* Ends the text with "..." when it had to be cut, so a reader sees it is incomplete. */
static void tw_finish(struct tw *w)
{
    if (!w->cut || w->cap < 4)
        return;
    size_t at = w->len > w->cap - 4 ? w->cap - 4 : w->len;
    memcpy(w->b + at, "...", 4);
    w->len = at + 3;
}

static void tw_ddd(struct tw *w, uint8_t ch)
{
    tw_putc(w, '\\');
    tw_putc(w, (char)('0' + ch / 100));
    tw_putc(w, (char)('0' + ch / 10 % 10));
    tw_putc(w, (char)('0' + ch % 10));
}

/* Where c's bytes start inside msg, when they lie inside it (a name in RDATA is read through a
 * sub-cursor of the message, and its pointers are offsets in the whole message). */
static bool offset_in(const struct cursor *c, const struct cursor *msg, size_t *base)
{
    uintptr_t cp = (uintptr_t)c->p, mp = (uintptr_t)msg->p;
    if (cp < mp || cp - mp > msg->len)
        return false;
    *base = (size_t)(cp - mp);
    return true;
}

/* The longest text a name can have: NAME_WIRE_MAX octets leave at most 253 label bytes, each
 * written as at most 4 characters (\DDD), plus a dot per label and the NUL. read_name writes
 * without a bounds check per character because of this. */
_Static_assert(DNS_NAME_TEXT_MAX >= 4 * NAME_WIRE_MAX + 2, "a name's text fits its buffer");

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bit i set when byte i of x is plain (a letter, digit, '-' or '_': nt_label_plain). */
static inline uint32_t plain_bits16(__m128i x)
{
    /* A range lo..lo+n-1 as one signed comparison: x + (0x80 - lo) moves it to -128..-128+n-1.
     * Letters: x | 0x20 in 'a'..'z' (only 'A'..'Z' and 'a'..'z' land there); digits. */
    __m128i l = _mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8((char)(0x80 - 'a')));
    __m128i g = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0')));
    __m128i is_ld = _mm_or_si128(_mm_cmplt_epi8(l, _mm_set1_epi8(-128 + 26)),
                                 _mm_cmplt_epi8(g, _mm_set1_epi8(-128 + 10)));
    __m128i is_o = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(is_ld, is_o));
}
#endif

/* Copies a label's b bytes at s to d in presentation form and returns the end: runs of four
 * plain bytes (letters, digits, '-', '_') are copied whole, the rest through nt_label_byte.
 * wide: 16 bytes may be read at s and written at d, so a label of at most 16 plain bytes is
 * checked and copied as one block. */
static char *put_label(char *d, const uint8_t *s, size_t b, bool wide)
{
#if defined(__SSE2__)
    if (wide && b <= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        uint32_t need = (uint32_t)((1u << b) - 1);
        if ((plain_bits16(x) & need) == need) {
            _mm_storeu_si128((__m128i *)(void *)d, x);
            return d + b;
        }
    }
#else
    (void)wide;
#endif
    const uint8_t *pl = nt_label_plain;
    size_t i = 0;
    while (i + 4 <= b && (pl[s[i]] & pl[s[i + 1]] & pl[s[i + 2]] & pl[s[i + 3]])) {
        memcpy(d + i, s + i, 4);
        i += 4;
    }
    for (; i < b && pl[s[i]]; i++)
        d[i] = (char)s[i];
    d += i;
    for (; i < b; i++)
        d = nt_label_byte(d, s[i]);
    return d;
}

/* dns_read_name, telling in *n_jumps how many compression pointers it followed. The bytes are
 * read from the current part (c until the first pointer, then the message) through a local
 * offset checked against the part's end; c is left as its cursor reads would leave it: past the
 * name, or past the first pointer, or at its end with short_read set when the name runs past
 * it. */
static bool read_name(struct cursor *c, const struct cursor *msg, struct dns_name *out,
                      struct packet *pkt, unsigned *n_jumps)
{
    char *const text = out->text;
    size_t tlen = 0;
    text[0] = '\0';
    out->len = 0;
    *n_jumps = 0;
    if (c->short_read) {
        /* a cursor already short: its first read fails, as every read of it does */
        (void)cur_u8(c);
        packet_add_anomaly(pkt, ANOM_DNS_NAME_TRUNCATED);
        return false;
    }
    size_t base = 0;
    bool in_msg = msg && offset_in(c, msg, &base);
    /* The start of the part being read, as an offset in the message; every pointer must land
     * strictly before it, which makes each jump go further back and the walk finite. */
    size_t part_start = in_msg ? base + c->off : 0;
    const uint8_t *p = c->p;
    size_t end = c->len, off = c->off;
    bool in_c = true; /* still reading c (no pointer followed yet) */
    size_t wire = 0;
    unsigned jumps = 0;
    bool ok = false;

    for (;;) {
        if (off >= end) {
            if (in_c) {
                c->short_read = true;
                off = c->len;
            }
            packet_add_anomaly(pkt, ANOM_DNS_NAME_TRUNCATED);
            break;
        }
        uint8_t b = p[off++];
        if (b >= 0xc0) {
            if (off >= end) {
                if (in_c) {
                    c->short_read = true;
                    off = c->len;
                }
                packet_add_anomaly(pkt, ANOM_DNS_NAME_TRUNCATED);
                break;
            }
            size_t target = (size_t)(b & 0x3f) << 8 | p[off++];
            if (!in_msg || target >= part_start) {
                packet_add_anomaly(pkt, ANOM_DNS_BAD_COMPRESSION_POINTER);
                break;
            }
            if (++jumps > MAX_JUMPS) {
                packet_add_anomaly(pkt, ANOM_DNS_COMPRESSION_LOOP);
                break;
            }
            if (in_c) {
                c->off = off;
                in_c = false;
            }
            part_start = target;
            p = msg->p;
            end = msg->len;
            off = target;
            continue;
        }
        if (b & 0xc0) {
            /* 0x40 (extended label types, RFC 6891 deprecated) and 0x80 (reserved) */
            packet_add_anomaly(pkt, ANOM_DNS_BAD_LABEL_TYPE);
            break;
        }
        if (b == 0) {
            ok = true;
            break;
        }
        /* The terminating root octet counts too: labels may use at most 254 octets. */
        wire += (size_t)b + 1;
        if (wire + 1 > NAME_WIRE_MAX) {
            packet_add_anomaly(pkt, ANOM_DNS_NAME_TOO_LONG);
            break;
        }
        if (end - off < b) {
            if (in_c)
                c->short_read = true;
            packet_add_anomaly(pkt, ANOM_DNS_NAME_TRUNCATED);
            break;
        }
        char *d = put_label(text + tlen, p + off, b,
                            end - off >= 16 && tlen + 16 <= DNS_NAME_TEXT_MAX);
        *d++ = '.';
        tlen = (size_t)(d - text);
        off += b;
    }
    if (in_c)
        c->off = off;
    if (ok && tlen == 0)
        text[tlen++] = '.';
    text[tlen] = '\0';
    out->len = (uint16_t)tlen;
    *n_jumps = jumps;
    return ok;
}

bool dns_read_name(struct cursor *c, const struct cursor *msg, struct dns_name *out,
                   struct packet *pkt)
{
    unsigned n_jumps;
    return read_name(c, msg, out, pkt, &n_jumps);
}

static void put_name_text(struct tw *w, const struct dns_name *n)
{
    tw_puts(w, n->text);
}

/* A <character-string> as dig prints it: quoted, with '"' and '\\' escaped and bytes that are
 * not printable ASCII as \DDD. */
static bool put_charstring(struct tw *w, struct cursor *rd)
{
    uint8_t n = cur_u8(rd);
    if (rd->short_read || !cur_has(rd, n))
        return false;
    tw_putc(w, '"');
    for (uint8_t i = 0; i < n; i++) {
        uint8_t ch = cur_u8(rd);
        if (ch == '"' || ch == '\\') {
            tw_putc(w, '\\');
            tw_putc(w, (char)ch);
        } else if (ch >= 0x20 && ch < 0x7f) {
            tw_putc(w, (char)ch);
        } else {
            tw_ddd(w, ch);
        }
    }
    tw_putc(w, '"');
    return true;
}

static void put_v4(struct tw *w, struct cursor *rd)
{
    uint8_t a[4];
    cur_bytes(rd, a, 4);
    struct nt_addr x;
    nt_addr_set_v4(&x, a);
    char tmp[NT_ADDR_FMT_MAX];
    nt_addr_format(&x, tmp, sizeof tmp);
    tw_puts(w, tmp);
}

static void put_v6(struct tw *w, struct cursor *rd)
{
    uint8_t a[16];
    cur_bytes(rd, a, 16);
    struct nt_addr x;
    nt_addr_set_v6(&x, a);
    char tmp[NT_ADDR_FMT_MAX];
    nt_addr_format(&x, tmp, sizeof tmp);
    tw_puts(w, tmp);
}

/* RFC 3597's generic form: "\# <length> <hex>". */
static void put_generic(struct tw *w, struct cursor rd)
{
    static const char hex[] = "0123456789ABCDEF";
    tw_puts(w, "\\# ");
    tw_printf_u(w, rd.len);
    if (rd.len)
        tw_putc(w, ' ');
    rd.off = 0;
    while (cur_has(&rd, 1) && !w->cut) {
        uint8_t b = cur_u8(&rd);
        tw_putc(w, hex[b >> 4]);
        tw_putc(w, hex[b & 15]);
    }
}

/* Writes the RDATA of a known type as dig prints it. Returns false when the RDATA does not
 * match its type (wrong length, bad name), so the caller can fall back to the generic form. */
static bool put_rdata(struct tw *w, uint16_t type, struct cursor *rd, const struct cursor *msg,
                      struct packet *pkt)
{
    struct dns_name n;
    switch (type) {
    case DNS_TYPE_A:
        if (rd->len != 4)
            return false;
        put_v4(w, rd);
        return true;
    case DNS_TYPE_AAAA:
        if (rd->len != 16)
            return false;
        put_v6(w, rd);
        return true;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        if (!dns_read_name(rd, msg, &n, pkt))
            return false;
        put_name_text(w, &n);
        break;
    case DNS_TYPE_MX: {
        uint16_t pref = cur_be16(rd);
        if (rd->short_read || !dns_read_name(rd, msg, &n, pkt))
            return false;
        tw_printf_u(w, pref);
        tw_putc(w, ' ');
        put_name_text(w, &n);
        break;
    }
    case DNS_TYPE_SRV: {
        uint16_t prio = cur_be16(rd), weight = cur_be16(rd), port = cur_be16(rd);
        if (rd->short_read || !dns_read_name(rd, msg, &n, pkt))
            return false;
        tw_printf_u(w, prio);
        tw_putc(w, ' ');
        tw_printf_u(w, weight);
        tw_putc(w, ' ');
        tw_printf_u(w, port);
        tw_putc(w, ' ');
        put_name_text(w, &n);
        break;
    }
    case DNS_TYPE_SOA: {
        if (!dns_read_name(rd, msg, &n, pkt))
            return false;
        put_name_text(w, &n);
        tw_putc(w, ' ');
        if (!dns_read_name(rd, msg, &n, pkt))
            return false;
        put_name_text(w, &n);
        for (int i = 0; i < 5; i++) {
            uint32_t v = cur_be32(rd);
            tw_putc(w, ' ');
            tw_printf_u(w, v);
        }
        if (rd->short_read)
            return false;
        break;
    }
    case DNS_TYPE_TXT:
        if (rd->len == 0)
            return false;
        for (bool first = true; cur_has(rd, 1); first = false) {
            if (!first)
                tw_putc(w, ' ');
            if (!put_charstring(w, rd))
                return false;
        }
        break;
    default:
        return false;
    }
    /* Bytes left over mean the record is not what its type says. */
    return !rd->short_read && cur_left(rd) == 0;
}

static bool known_rdata_type(uint16_t t)
{
    return t == DNS_TYPE_A || t == DNS_TYPE_AAAA || t == DNS_TYPE_NS || t == DNS_TYPE_CNAME ||
           t == DNS_TYPE_PTR || t == DNS_TYPE_MX || t == DNS_TYPE_SRV || t == DNS_TYPE_SOA ||
           t == DNS_TYPE_TXT;
}

/* with_text false: the record's data is checked (its anomalies recorded) and kept as bytes
 * where it is an address, and a name in NS, CNAME or PTR data is read and remembered as
 * always, but other data gets no text (rdata ""). */
static void rdata_text(struct dns_rr *rr, struct cursor rd, const struct cursor *msg,
                       struct packet *pkt, struct name_memos *ms, bool with_text)
{
    /* NS, CNAME and PTR: the data is one name; read here so that it is remembered (its text is
     * rdata itself when it fits whole). Otherwise as put_rdata below. */
    size_t base;
    rr->addr_len = 0;
    if ((rr->type == DNS_TYPE_NS || rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR) &&
        rd.len > 0 && offset_in(&rd, msg, &base)) {
        struct dns_name n;
        struct cursor work = rd;
        unsigned jumps;
        if (read_name(&work, msg, &n, pkt, &jumps) && !work.short_read && cur_left(&work) == 0) {
            if (n.len < sizeof rr->rdata) {
                /* it fits whole: what the writer below makes of it, without measuring it */
                memcpy(rr->rdata, n.text, (size_t)n.len + 1);
                memo_add(ms, base, rr->rdata, n.len, jumps);
                return;
            }
            struct tw w;
            tw_init(&w, rr->rdata, sizeof rr->rdata);
            put_name_text(&w, &n);
            tw_finish(&w);
            if (!w.cut)
                memo_add(ms, base, rr->rdata, n.len, jumps);
            return;
        }
        /* a bad name (its anomaly recorded) or bytes left over: the generic form, as below */
        packet_add_anomaly(pkt, ANOM_DNS_BAD_RDATA);
        struct tw w;
        tw_init(&w, rr->rdata, sizeof rr->rdata);
        put_generic(&w, rd);
        tw_finish(&w);
        return;
    }
    /* A and AAAA, most records: the address kept as bytes, its text (what put_rdata below
     * writes for them) made by dns_rr_data when something prints it. */
    if (rr->type == DNS_TYPE_A && rd.len == 4 && cur_has(&rd, 4)) {
        memcpy(rr->addr, rd.p + rd.off, 4);
        rr->addr_len = 4;
        rr->rdata[0] = '\0';
        return;
    }
    if (rr->type == DNS_TYPE_AAAA && rd.len == 16 && cur_has(&rd, 16)) {
        memcpy(rr->addr, rd.p + rd.off, 16);
        rr->addr_len = 16;
        rr->rdata[0] = '\0';
        return;
    }
    struct tw w;
    size_t room = with_text ? sizeof rr->rdata : 1; /* 1: room for the NUL only */
    tw_init(&w, rr->rdata, room);
    /* Empty RDATA is how a dynamic update (RFC 2136, 2.4 and 2.5) deletes records or states a
     * prerequisite: class ANY or NONE with RDLENGTH 0. It is well formed whatever the type. */
    bool update_empty =
        rd.len == 0 && (rr->rclass == DNS_CLASS_ANY || rr->rclass == DNS_CLASS_NONE);
    if (known_rdata_type(rr->type) && !update_empty) {
        struct cursor work = rd;
        if (put_rdata(&w, rr->type, &work, msg, pkt)) {
            tw_finish(&w);
            return;
        }
        packet_add_anomaly(pkt, ANOM_DNS_BAD_RDATA);
        tw_init(&w, rr->rdata, room);
    }
    if (with_text)
        put_generic(&w, rd);
    tw_finish(&w);
}

/* Reads a question; *plain (when not NULL) tells whether its name was read whole from where it
 * starts, without a compression pointer. */
static bool read_question(struct cursor *m, struct dns_question *q, struct packet *pkt, bool *plain)
{
    unsigned n_jumps;
    bool ok = read_name(m, m, &q->name, pkt, &n_jumps);
    if (plain)
        *plain = ok && n_jumps == 0;
    if (!ok)
        return false;
    const uint8_t *t = cur_take(m, 4);
    if (t) {
        q->qtype = nt_be16(t);
        q->qclass = nt_be16(t + 2);
        return true;
    }
    q->qtype = cur_be16(m);
    q->qclass = cur_be16(m);
    if (m->short_read) {
        packet_add_anomaly(pkt, ANOM_DNS_QUESTION_TRUNCATED);
        return false;
    }
    return true;
}

static void read_opt(struct dns_msg *msg, const struct dns_name *owner, uint16_t rclass,
                     uint32_t ttl, struct packet *pkt)
{
    if (msg->has_opt) {
        /* RFC 6891 6.1.1: more than one OPT makes the message malformed; keep the first. */
        packet_add_anomaly(pkt, ANOM_DNS_MULTIPLE_OPT);
        return;
    }
    if (strcmp(owner->text, ".") != 0)
        packet_add_anomaly(pkt, ANOM_DNS_OPT_BAD_OWNER);
    msg->has_opt = true;
    msg->edns_udp_size = rclass;
    msg->edns_version = (uint8_t)(ttl >> 16);
    msg->edns_do = (ttl & 0x8000) != 0;
    msg->rcode = (uint16_t)((ttl >> 24) << 4 | (msg->flags & 0x0f));
}

/* Whether the name at m's offset is only a compression pointer to offset q_off, which lies
 * before it. */
static bool question_name(const struct cursor *m, size_t q_off)
{
    if (!cur_has(m, 2))
        return false;
    const uint8_t *p = m->p + m->off;
    return (p[0] & 0xc0) == 0xc0 && ((size_t)(p[0] & 0x3f) << 8 | p[1]) == q_off && q_off < m->off;
}

static bool parse_message(struct cursor *c, struct dns_msg *msg, struct packet *pkt,
                          bool all_text);

bool dns_parse_message(struct cursor *c, struct dns_msg *msg, struct packet *pkt)
{
    return parse_message(c, msg, pkt, false);
}

bool dns_parse_message_all_text(struct cursor *c, struct dns_msg *msg, struct packet *pkt)
{
    return parse_message(c, msg, pkt, true);
}

static bool parse_message(struct cursor *c, struct dns_msg *msg, struct packet *pkt,
                          bool all_text)
{
    dns_msg_reset(msg);
    struct cursor m = cur_rest(c);
    msg->length = (uint32_t)m.len;
    const uint8_t *h = cur_take(&m, 12);
    if (!h) {
        /* the fields stay 0, as dns_msg_reset left them */
        packet_add_anomaly(pkt, ANOM_DNS_TRUNCATED);
        return false;
    }
    msg->id = nt_be16(h);
    msg->flags = nt_be16(h + 2);
    msg->qdcount = nt_be16(h + 4);
    msg->ancount = nt_be16(h + 6);
    msg->nscount = nt_be16(h + 8);
    msg->arcount = nt_be16(h + 10);
    msg->opcode = (uint8_t)(msg->flags >> 11 & 0x0f);
    msg->rcode = msg->flags & 0x0f;

    /* Counts are checked against the bytes left before anything is done with them: a question
     * takes at least 5 bytes and a record at least 11. The parse below still reads what is
     * there, and stops at the first record that does not fit. */
    size_t n_rr = (size_t)msg->ancount + msg->nscount + msg->arcount;
    size_t need = (size_t)msg->qdcount * 5 + n_rr * 11;
    if (need > cur_left(&m))
        packet_add_anomaly(pkt, ANOM_DNS_COUNTS_EXCEED_MESSAGE);

    /* Most records' names are a pointer to the first question's name (0xc00c). When that name
     * was read without a pointer, reading it again through one gives the same text (one jump,
     * the same labels, no anomaly), so the text is copied instead (question_name below). */
    struct dns_question scratch_q;
    struct name_memos memos;
    memos.n = 0;
    size_t q_off = 0;
    bool q_plain = false;
    for (unsigned i = 0; i < msg->qdcount; i++) {
        struct dns_question *q = i == 0 ? &msg->q : &scratch_q;
        size_t at = m.off;
        bool plain;
        if (!read_question(&m, q, pkt, &plain))
            return true;
        if (i == 0) {
            msg->has_question = true;
            q_off = at;
            q_plain = plain;
        }
    }

    struct dns_rr scratch_rr;
    for (size_t i = 0; i < n_rr; i++) {
        uint8_t section = i < msg->ancount                          ? DNS_SEC_ANSWER
                          : i < (size_t)msg->ancount + msg->nscount ? DNS_SEC_AUTHORITY
                                                                    : DNS_SEC_ADDITIONAL;
        struct dns_rr *rr = msg->n_rr < DNS_MAX_KEPT_RR ? &msg->rr[msg->n_rr] : &scratch_rr;
        /* the owner name when read (not copied): remembered once the record keeps its slot */
        bool owner_read = false;
        size_t owner_at = 0;
        unsigned owner_jumps = 0;
        bool owner_is_question = false;
        if (q_plain && question_name(&m, q_off)) {
            memcpy(rr->name.text, msg->q.name.text, (size_t)msg->q.name.len + 1);
            rr->name.len = msg->q.name.len;
            m.off += 2;
            owner_is_question = true;
        } else if (cur_has(&m, 1) && m.p[m.off] == 0) {
            /* the root (an OPT record's owner): what read_name gives for it */
            rr->name.text[0] = '.';
            rr->name.text[1] = '\0';
            rr->name.len = 1;
            m.off++;
        } else if (memo_read(&memos, &m, &rr->name)) {
            /* copied from an earlier name */
        } else {
            owner_at = m.off;
            if (!read_name(&m, &m, &rr->name, pkt, &owner_jumps))
                return true;
            owner_read = true;
        }
        const uint8_t *f = cur_take(&m, 10);
        if (!f) {
            packet_add_anomaly(pkt, ANOM_DNS_RR_TRUNCATED);
            return true;
        }
        uint16_t type = nt_be16(f);
        uint16_t rclass = nt_be16(f + 2);
        uint32_t ttl = nt_be32(f + 4);
        uint16_t rdlength = nt_be16(f + 8);
        struct cursor rd = cur_sub(&m, rdlength);
        if (rd.short_read) {
            packet_add_anomaly(pkt, ANOM_DNS_RDATA_TRUNCATED);
            return true;
        }
        if (msg->n_rr_seen < UINT16_MAX)
            msg->n_rr_seen++;
        /* EDNS lives in the additional section only (RFC 6891 6.1.1); an OPT anywhere else
         * is kept as an ordinary record, as other parsers do. */
        if (type == DNS_TYPE_OPT && section == DNS_SEC_ADDITIONAL) {
            read_opt(msg, &rr->name, rclass, ttl, pkt);
            continue;
        }
        if (type == DNS_TYPE_OPT)
            packet_add_anomaly(pkt, ANOM_DNS_OPT_OUTSIDE_ADDITIONAL);
        rr->section = section;
        rr->type = type;
        rr->rclass = rclass;
        rr->ttl = ttl;
        rr->rdlength = rdlength;
        rr->owner_is_question = owner_is_question;
        if (rr == &scratch_rr)
            continue;
        if (owner_read)
            memo_add(&memos, owner_at, rr->name.text, rr->name.len, owner_jumps);
        rdata_text(rr, rd, &m, pkt, &memos, all_text || section == DNS_SEC_ANSWER);
        msg->n_rr++;
    }
    if (cur_left(&m) != 0)
        packet_add_anomaly(pkt, ANOM_DNS_TRAILING_BYTES);
    msg->complete = true;
    return true;
}

bool dns_parse_header_question(struct cursor *c, uint16_t *id, uint16_t *flags,
                               struct dns_question *q, bool *has_question)
{
    struct cursor m = cur_rest(c);
    *has_question = false;
    q->name.text[0] = '\0';
    q->name.len = 0;
    q->qtype = q->qclass = 0;
    uint16_t i = cur_be16(&m);
    uint16_t f = cur_be16(&m);
    uint16_t qd = cur_be16(&m);
    cur_skip(&m, 6);
    if (m.short_read)
        return false;
    *id = i;
    *flags = f;
    if (qd > 0 && read_question(&m, q, NULL, NULL))
        *has_question = true;
    if (!*has_question) {
        q->name.text[0] = '\0';
        q->name.len = 0;
        q->qtype = q->qclass = 0;
    }
    return true;
}
