/* reader.c: the tcpdump text source: reads lines (bounded), joins a record's continuation
 * lines (-v's indented lines, lines wrapped by a document), counts the lines that are no
 * record, and hands each record to text_parse_record. source_text_open is declared in
 * source/source.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "source/source_impl.h"
#include "source/text/text_internal.h"
#include "util/err.h"

/* A record (continuation lines joined) and a single line are both capped, so that a huge line of
 * junk costs a bounded buffer and a scan, never memory. */
#define TEXT_RECORD_MAX (64 * 1024)
#define TEXT_LINE_MAX   (64 * 1024)
#define TEXT_IO_CHUNK   (64 * 1024)
/* The bytes of a -x/-X/-XX hex dump kept for one record: a whole IP datagram and its link
 * header. */
#define TEXT_HEX_MAX (65535 + 64)

struct text_src {
    FILE *f;
    char *io;
    size_t io_pos, io_len;
    bool io_eof, io_err;
    char *line; /* current line (NUL-terminated), TEXT_LINE_MAX bytes at most */
    size_t line_len;
    bool line_over;    /* the line was longer than TEXT_LINE_MAX: discarded */
    bool line_plain;   /* every byte of the line as read is printable ASCII (0x20 to 0x7e) other
                        * than '^': nothing for clean_line to rewrite, and not binary */
    bool line_pending; /* line was read but belongs to the next record */
    bool line_eof_partial;
    uint64_t line_no;
    char *rec;
    size_t rec_len;
    uint64_t rec_line_no, rec_lines;
    bool rec_open;
    bool after_blank; /* blank lines followed the open record */
    bool quoted;      /* the last line that was not blank was quoted with '>' */
    /* the open record's -x/-X/-XX hex dump, and the packet it decodes to */
    uint8_t *hex;
    size_t hex_len;
    bool hex_bad; /* an offset out of sequence or a line we could not read: not used */
    struct packet *hex_pkt;
    int first_mode; /* timestamp style of the first record's line, before it is parsed */
    struct text_state st;
    struct nt_names *own_names; /* st.names until source_set_names gives the run's */
    uint64_t nrec;
    bool saw_header;
    bool reported; /* NT_ERR_NO_RECORDS was returned once */
};

static bool fill(struct text_src *t)
{
    if (t->io_eof)
        return false;
    t->io_len = fread(t->io, 1, TEXT_IO_CHUNK, t->f);
    t->io_pos = 0;
    if (t->io_len == 0) {
        t->io_eof = true;
        if (ferror(t->f))
            t->io_err = true;
        return false;
    }
    return true;
}

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Whether every byte of [p, p + n) is printable ASCII (0x20 to 0x7e) and none is '^': such a
 * line (nearly every line tcpdump writes) holds no control byte (is_binary), no UTF-8 space
 * and no "^C" (clean_line). Eight bytes at a time: a byte below 0x20, above 0x7e or equal to
 * '^' sets a high bit in the tests below (exact for whether any byte does). */
static bool line_is_plain(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t below = (x - ONES * 0x20) & ~x;
        uint64_t above = (x + ONES * (127 - 0x7e)) | x;
        uint64_t y = x ^ (ONES * '^');
        uint64_t caret = (y - ONES) & ~y;
        if ((below | above | caret) & HIGHS)
            return false;
    }
    for (; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        if (b < 0x20 || b > 0x7e || b == '^')
            return false;
    }
    return true;
}

/* Reads one line into t->line (without "\n" or "\r\n"). Returns false at the end. */
static bool read_line(struct text_src *t)
{
    bool any = false;
    t->line_len = 0;
    t->line_over = false;
    for (;;) {
        if (t->io_pos >= t->io_len && !fill(t))
            break;
        any = true;
        const char *p = t->io + t->io_pos;
        size_t n = t->io_len - t->io_pos;
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!t->line_over) {
            size_t room = TEXT_LINE_MAX - t->line_len;
            if (take > room) {
                t->line_over = true;
            } else {
                memcpy(t->line + t->line_len, p, take);
                t->line_len += take;
            }
        }
        t->io_pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return false;
    if (t->line_len && t->line[t->line_len - 1] == '\r')
        t->line_len--;
    t->line[t->line_len] = '\0';
    t->line_no++;
    t->line_plain = !t->line_over && line_is_plain(t->line, t->line_len);
    return true;
}

static void bad_line(struct source *s, uint64_t line_no)
{
    if (s->stats.bad_lines < SOURCE_BAD_LINES_KEPT)
        s->stats.first_bad_lines[s->stats.bad_lines] = line_no;
    s->stats.bad_lines++;
}

/* A line that looked like traffic was not read: counted, its number and its start kept. */
static void unread_line(struct source *s, uint64_t line_no, const char *p, size_t n)
{
    uint64_t k = s->stats.unread++;
    if (s->on_unread)
        s->on_unread(s->unread_ctx, line_no, p, n);
    if (k < SOURCE_BAD_LINES_KEPT)
        s->stats.first_unread[k] = line_no;
    if (k < SOURCE_SAMPLES_KEPT) {
        char *o = s->stats.unread_sample[k];
        size_t j = 0;
        while (n && is_space(*p)) {
            p++;
            n--;
        }
        for (size_t i = 0; i < n && j + 1 < SOURCE_SAMPLE_MAX; i++) {
            uint8_t b = (uint8_t)p[i];
            o[j++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
        }
        o[j] = '\0';
    }
}

/* Whether a line looks like traffic rather than prose: a time with a fraction (HH:MM:SS.f, or
 * seconds.micro since the epoch), an address with a port (a.b.c.d.port, a.b.c.d.name,
 * v6::addr.port), a hex-dump offset ("0x0010:"), or tshark's arrow. A bare address or time of
 * day in a sentence is not enough. */
bool text_looks_like_traffic(const char *p, size_t n)
{
    const char *e = p + n;
    for (const char *q = p; q < e; q++) {
        if ((uint8_t)*q == 0xe2 && starts(q, e, "\xe2\x86\x92")) /* U+2192 (tshark) */
            return true;
        if (!is_hex(*q) && *q != ':')
            continue;
        if (q > p && (is_alpha(q[-1]) || is_digit(q[-1]) || q[-1] == '.' || q[-1] == ':'))
            continue; /* only at the start of a token */
        struct sc t = {q, e};
        uint64_t a, b, c, d;
        /* HH:MM:SS.frac */
        if (sc_uint(&t, &a, 2) && sc_lit(&t, ":") && sc_uint(&t, &b, 2) && sc_lit(&t, ":") &&
            sc_uint(&t, &c, 2) && sc_lit(&t, ".") && t.p < e && is_digit(*t.p))
            return true;
        /* seconds.micro since the epoch (-tt) */
        t.p = q;
        if (sc_uint(&t, &a, 10) && a >= 100000000 && sc_lit(&t, ".") && sc_uint(&t, &b, 9) &&
            t.p - q >= 14)
            return true;
        /* a.b.c.d.port or a.b.c.d.name */
        t.p = q;
        if (sc_uint(&t, &a, 3) && sc_lit(&t, ".") && sc_uint(&t, &b, 3) && sc_lit(&t, ".") &&
            sc_uint(&t, &c, 3) && sc_lit(&t, ".") && sc_uint(&t, &d, 3) && a < 256 && b < 256 &&
            c < 256 && d < 256 && sc_lit(&t, ".") && t.p < e && (is_digit(*t.p) || is_alpha(*t.p)))
            return true;
        /* 0x0010: */
        if (starts(q, e, "0x") && (size_t)(e - q) >= 7 && is_hex(q[2]) && is_hex(q[3]) &&
            is_hex(q[4]) && is_hex(q[5]) && q[6] == ':')
            return true;
        /* an IPv6 address with a port: two colons or more, then .port */
        t.p = q;
        int colons = 0;
        while (t.p < e && (is_hex(*t.p) || *t.p == ':')) {
            colons += *t.p == ':';
            t.p++;
        }
        if (colons >= 2 && t.p > q && t.p[-1] != ':' && sc_lit(&t, ".") && t.p < e &&
            is_digit(*t.p)) {
            const char *g = t.p;
            while (g < e && !is_space(*g))
                g++;
            if (starts(g, e, " > ") || (g > t.p && g[-1] == ':'))
                return true;
        }
    }
    return false;
}

/* A line read and left alone: traffic-like lines count as unread, the rest as ignored. */
static void skip_line(struct source *s, struct text_src *t, const char *p, size_t n)
{
    bad_line(s, t->line_no);
    if (text_looks_like_traffic(p, n))
        unread_line(s, t->line_no, p, n);
    else
        s->stats.ignored_lines++;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_space(p[i]))
            return false;
    }
    return true;
}

/* Control bytes (other than tab) mean binary junk, not text. */
static bool is_binary(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)p[i];
        if ((b < 0x20 && b != '\t' && b != '\f') || b == 0x7f)
            return true;
    }
    return false;
}

/* tcpdump's own messages around the records. */
static bool is_tcpdump_chatter(const char *p, size_t n)
{
    const char *e = p + n;
    while (p < e && is_space(*p))
        p++;
    if (starts(p, e, "reading from file ") || starts(p, e, "listening on ") ||
        starts(p, e, "tcpdump: ") || starts(p, e, "dropped privs to "))
        return true;
    struct sc s = {p, e};
    uint64_t v;
    if (sc_uint(&s, &v, 20) && starts(s.p, s.e, " packet")) {
        if (sc_lit(&s, " packets captured") || sc_lit(&s, " packet captured") ||
            sc_lit(&s, " packets received by filter") || sc_lit(&s, " packet received by filter") ||
            sc_lit(&s, " packets dropped by kernel") || sc_lit(&s, " packet dropped by kernel") ||
            sc_lit(&s, " packets dropped by interface"))
            return true;
    }
    return false;
}

/* Rewrites the line in place into what tcpdump printed: a byte-order mark dropped; no-break
 * and figure spaces (U+00A0, U+2007, U+202F, which editors and forums put in place of
 * spaces) made spaces; the "^C" a terminal echoes when the capture is stopped dropped, before
 * a record ("^C13:24:32.1 IP ...") or after the last one ("... length 150 ^C"), with the
 * counts tcpdump then prints when they were glued to it ("^C3 packets captured"). */
static void clean_line(struct text_src *t)
{
    char *p = t->line;
    size_t n = t->line_len, j = 0;
    if (t->line_plain) {
        /* nothing to rewrite: only the spaces at the end go */
        while (n && is_space(p[n - 1]))
            n--;
        p[n] = '\0';
        t->line_len = n;
        return;
    }
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        memmove(p, p + 3, n - 3);
        n -= 3;
    }
    for (size_t i = 0; i < n;) {
        uint8_t b = (uint8_t)p[i];
        if (b == 0xc2 && i + 1 < n && (uint8_t)p[i + 1] == 0xa0) {
            p[j++] = ' ';
            i += 2;
        } else if (b == 0xe2 && i + 2 < n && (uint8_t)p[i + 1] == 0x80 &&
                   ((uint8_t)p[i + 2] == 0x87 || (uint8_t)p[i + 2] == 0xaf)) {
            p[j++] = ' ';
            i += 3;
        } else {
            p[j++] = p[i++];
        }
    }
    n = j;
    size_t lead = 0;
    while (lead < n && is_space(p[lead]))
        lead++;
    while (n - lead >= 2 && p[lead] == '^' && p[lead + 1] == 'C') {
        memmove(p + lead, p + lead + 2, n - lead - 2);
        n -= 2;
    }
    for (const char *c = find(p, p + n, "^C"); c; c = find(c + 2, p + n, "^C")) {
        struct sc r = {c + 2, p + n};
        uint64_t v;
        sc_ws(&r);
        if (r.p == r.e || (sc_uint(&r, &v, 20) && sc_lit(&r, " packet"))) {
            n = (size_t)(c - p);
            break;
        }
    }
    while (n && is_space(p[n - 1]))
        n--;
    p[n] = '\0';
    t->line_len = n;
}

/* How deep the line is quoted with '>' (mail and forum quoting, "> > "); *skip is the length
 * of the quoting (marks and the space after each). */
static int quote_depth(const char *p, size_t n, size_t *skip)
{
    size_t i = 0;
    int d = 0;
    while (i < n && p[i] == '>' && d < 16) {
        i++;
        d++;
        if (i < n && p[i] == ' ')
            i++;
    }
    *skip = i;
    return d;
}

/* A list marker or line number a document put before a record: "1. ", "1) ", "(1) ", "[1] ",
 * "**(1)**", "**1.**", "1: ". Returns its length with the spaces after it, or 0. Only taken
 * when a record follows (the caller checks). */
static size_t number_prefix(const char *p, size_t n)
{
    struct sc s = {p, p + n};
    uint64_t v;
    sc_ws(&s);
    bool bold = sc_lit(&s, "**");
    bool paren = sc_lit(&s, "(");
    bool bracket = !paren && sc_lit(&s, "[");
    if (!sc_uint(&s, &v, 6))
        return 0;
    if (paren && !sc_lit(&s, ")"))
        return 0;
    if (bracket && !sc_lit(&s, "]"))
        return 0;
    if (!paren && !bracket && !sc_lit(&s, ".") && !sc_lit(&s, ")") && !sc_lit(&s, ":") && !bold)
        return 0;
    if (bold && !sc_lit(&s, "**"))
        return 0;
    if (s.p >= s.e || !is_space(*s.p))
        return 0;
    sc_ws(&s);
    return (size_t)(s.p - p);
}

/* Lines that never continue a record: a shell prompt with or without a command ("$ sudo
 * tcpdump ...", "root@host:~# ", "[user@host ~]$ ", "PS C:\> "), a Markdown code fence or
 * heading. */
static bool is_document_line(const char *p, size_t n)
{
    const char *e = p + n;
    while (p < e && is_space(*p))
        p++;
    if (starts(p, e, "```") || starts(p, e, "~~~") || starts(p, e, "PS C:") || starts(p, e, "PS>"))
        return true;
    if (p < e && (*p == '$' || *p == '#') && (p + 1 == e || is_space(p[1])))
        return true;
    /* user@host:dir$ or [user@host dir]# */
    const char *q = p;
    if (q < e && *q == '[')
        q++;
    const char *u = q;
    while (q < e && (is_alpha(*q) || is_digit(*q) || *q == '_' || *q == '-' || *q == '.'))
        q++;
    if (q == u || q >= e || *q != '@')
        return false;
    q++;
    const char *h = q;
    while (q < e && (is_alpha(*q) || is_digit(*q) || *q == '_' || *q == '-' || *q == '.'))
        q++;
    if (q == h || q - p > 128)
        return false;
    const char *end = (size_t)(e - q) > 160 ? q + 160 : e;
    for (; q < end; q++) {
        if ((*q == '$' || *q == '#') && (q + 1 == e || is_space(q[1])) &&
            (q[-1] == ']' || q[-1] == '~' || q[-1] == ':' || q[-1] == '/' || is_alpha(q[-1]) ||
             is_digit(q[-1]) || q[-1] == '_' || q[-1] == '-' || q[-1] == '.'))
            return true;
        if (is_space(*q) && !(p[0] == '['))
            return false;
    }
    return false;
}

/* A line of tcpdump's hex dump (-x, -X, -XX): "\t0x0010:  4500 003c 1c46 4000  E..<.F@."
 * (the offset, two spaces, groups of two bytes with one space between them, and with -X two
 * spaces or more before the ASCII column). Returns false when the line is not one; otherwise
 * appends its bytes to the record's, or marks the dump unusable when its offset is not the
 * next one or it does not fit. */
static bool hex_line(struct text_src *t, const char *p, size_t n)
{
    struct sc s = {p, p + n};
    sc_ws(&s);
    uint32_t off;
    if (!sc_lit(&s, "0x") || sc_left(&s) < 5)
        return false;
    for (int i = 0; i < 4; i++) {
        if (!is_hex(s.p[i]))
            return false;
    }
    if (!sc_hex(&s, &off) || !sc_lit(&s, ":"))
        return false;
    if (t->hex_bad)
        return true;
    if (off != t->hex_len) {
        t->hex_bad = true;
        return true;
    }
    size_t got = 0;
    while (s.p < s.e && *s.p == ' ') {
        /* one space before a group; two or more before the ASCII column (or at the end) */
        if (got > 0 && sc_left(&s) >= 2 && s.p[1] == ' ')
            break;
        if (got == 0) {
            sc_ws(&s);
        } else {
            s.p++;
        }
        size_t k = 0;
        while (k < 4 && s.p + k < s.e && is_hex(s.p[k]))
            k++;
        if ((k != 2 && k != 4) || (s.p + k < s.e && !is_space(s.p[k])))
            break;
        for (size_t j = 0; j < k; j += 2) {
            if (t->hex_len >= TEXT_HEX_MAX) {
                t->hex_bad = true;
                return true;
            }
            t->hex[t->hex_len++] = (uint8_t)(hex_val(s.p[j]) << 4 | hex_val(s.p[j + 1]));
        }
        s.p += k;
        got += k / 2;
        if (k == 2)
            break; /* an odd last byte ends the dump */
    }
    if (got == 0 || got > 16)
        t->hex_bad = true;
    return true;
}

static uint16_t hx16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static bool ethertype_ip(uint16_t et)
{
    return et == 0x0800 || et == 0x86dd || et == 0x8100 || et == 0x88a8 || et == 0x0806;
}

/* Whether b holds an IPv4 header whose checksum is right. */
static bool ipv4_header_ok(const uint8_t *b, size_t n)
{
    if (n < 20 || b[0] >> 4 != 4 || (b[0] & 15) < 5 || (size_t)(b[0] & 15) * 4 > n)
        return false;
    uint32_t sum = 0;
    for (size_t i = 0; i < (size_t)(b[0] & 15) * 4; i += 2)
        sum += hx16(b + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* Where the dump begins: -x and -X print from the IP header, -XX from the link header, which
 * on Linux is Ethernet or, with "-i any", Linux cooked v2 (v1 before libpcap 1.10). Returns
 * the link type to decode with, or -1 when none fits. */
static int hex_linktype(const uint8_t *b, size_t n)
{
    if (ipv4_header_ok(b, n))
        return NT_DLT_RAW;
    if (n >= 14 && ethertype_ip(hx16(b + 12)))
        return NT_DLT_EN10MB;
    if (n >= 40 && b[0] >> 4 == 6)
        return NT_DLT_RAW;
    if (n >= 20 && ethertype_ip(hx16(b)) && hx16(b + 2) == 0)
        return NT_DLT_LINUX_SLL2;
    if (n >= 16 && ethertype_ip(hx16(b + 14)))
        return NT_DLT_LINUX_SLL;
    return -1;
}

/* Decodes the record's hex dump with the capture decoder into t->hex_pkt. Returns true when it
 * gave an IP or ARP packet (which then replaces what the text said). */
static bool decode_hex(struct text_src *t, const struct nt_time *ts)
{
    if (t->hex_bad || t->hex_len < 20 || !t->hex_pkt)
        return false;
    int lt = hex_linktype(t->hex, t->hex_len);
    if (lt < 0)
        return false;
    struct packet *h = t->hex_pkt;
    packet_reset(h);
    h->ts = *ts;
    h->caplen = (uint32_t)t->hex_len;
    h->wirelen = (uint32_t)t->hex_len;
    decode_packet(h, lt, t->hex, t->hex_len);
    return (h->layers & (PKT_L_IP | PKT_L_ARP)) != 0;
}

/* Whether a record that was parsed without any layer is traffic we should have read: it
 * names IP or an address with a port, or it is none of the link-layer protocols tcpdump prints
 * that carry no IP (those are not what a report about DNS, ICMP and TCP reads). */
static bool record_is_unread(const char *p, size_t n, int mode)
{
    struct sc body;
    struct tsval v;
    const char *e = p + n;
    if (text_record_start(p, e, mode, &body, &v))
        p = body.p;
    n = (size_t)(e - p);
    if (find(p, e, "IP ") || find(p, e, "IP6 ") || find(p, e, "ethertype IPv") ||
        text_looks_like_traffic(p, n))
        return true;
    static const char *const non_ip[] = {
        "STP",     "LLDP",  "CDP",      "LLC",  "802.1d",
        "802.3",   "EAPOL", "IPX",      "aarp", "AARP",
        "IS-IS",   "CLNS",  "loopback", "LOOP", "ethertype Unknown",
        "NetBeui", "PPPoE", "Q.933",    "lacp", "LACPv",
        "Marker"};
    for (size_t k = 0; k < sizeof non_ip / sizeof non_ip[0]; k++) {
        if (find(p, e, non_ip[k]))
            return false;
    }
    return true;
}

/* Closes the open record: parses it into pkt. Returns 1 for a packet, 0 when it was not a
 * record we could read (its lines are counted as bad, and as unread traffic). */
static int finish_record(struct source *s, struct text_src *t, struct packet *pkt)
{
    t->rec_open = false;
    t->rec[t->rec_len] = '\0';
    packet_reset(pkt);
    bool ok = text_parse_record(&t->st, t->rec, t->rec_len, pkt);
    if (ok && decode_hex(t, &pkt->ts)) {
        /* the dump holds the whole packet: decoded as a captured frame, with the record's
         * time and text */
        struct nt_time ts = pkt->ts;
        *pkt = *t->hex_pkt;
        pkt->ts = ts;
        pkt->line = t->rec;
        pkt->line_len = t->rec_len;
        pkt->frame = NULL;
        pkt->frame_len = 0;
        /* tcpdump printed each fragment and segment as it saw it: the flow stage leaves text
         * records alone (it reassembles bytes of captures only). */
        pkt->data = NULL;
        pkt->data_len = 0;
    }
    if (!ok || (!pkt->layers && record_is_unread(t->rec, t->rec_len, t->st.ts_mode))) {
        for (uint64_t i = 0; i < t->rec_lines; i++)
            bad_line(s, t->rec_line_no + i);
        unread_line(s, t->rec_line_no, t->rec, t->rec_len);
        /* the record's other lines are part of the same unread packet */
        return 0;
    }
    pkt->num = ++t->nrec;
    pkt->line_no = t->rec_line_no;
    pkt->linktype = -1;
    /* "[|domain]", "[|tcp]": tcpdump's mark for a packet the snap length cut; what it carried
     * past the mark was not read (as a pcap frame cut short: source_frame_unread). An ICMP
     * error's quote cut short is not that. */
    if (!(pkt->layers & PKT_L_ICMP) && find(t->rec, t->rec + t->rec_len, "[|"))
        unread_line(s, t->rec_line_no, t->rec, t->rec_len);
    return 1;
}

/* Takes the e-mail or forum quoting ('>') or a diff's '+' off the line when the line is
 * quoted: when what is quoted begins a record, is blank, or the lines before were quoted too. A
 * line beginning with
 * '>' that continues an unquoted record (a document that wrapped before "> dst:") is left. */
static void unquote(struct text_src *t, int mode)
{
    size_t skip;
    int d = quote_depth(t->line, t->line_len, &skip);
    if (!d && t->line_len && t->line[0] == '+' && (t->line_len == 1 || t->line[1] != '+')) {
        /* a unified diff's added lines ("+13:24:32.1 IP ..."), as in a pull request */
        d = 1;
        skip = 1;
    }
    if (!d) {
        if (!is_blank(t->line, t->line_len))
            t->quoted = false;
        return;
    }
    const char *p = t->line + skip, *e = t->line + t->line_len;
    struct sc body;
    struct tsval v;
    if (!t->quoted && p < e && !text_record_start(p, e, mode, &body, &v))
        return;
    t->quoted = true;
    memmove(t->line, p, (size_t)(e - p));
    t->line_len = (size_t)(e - p);
    t->line[t->line_len] = '\0';
}

static int text_next(struct source *s, struct packet *pkt)
{
    struct text_src *t = s->impl;
    for (;;) {
        if (!t->line_pending) {
            if (!read_line(t)) {
                if (t->io_err) {
                    snprintf(s->error, sizeof s->error, "read error after line %llu",
                             (unsigned long long)t->line_no);
                    return NT_ERR_IO;
                }
                if (t->rec_open && finish_record(s, t, pkt))
                    return 1;
                if (t->nrec == 0 && !t->reported && (s->stats.bad_lines > 0 || !t->saw_header)) {
                    if (s->stats.bad_lines)
                        snprintf(s->error, sizeof s->error,
                                 "no tcpdump lines found (first unreadable line: %llu)",
                                 (unsigned long long)s->stats.first_bad_lines[0]);
                    else
                        snprintf(s->error, sizeof s->error, "no tcpdump lines found (empty input)");
                    t->reported = true;
                    return NT_ERR_NO_RECORDS;
                }
                return 0;
            }
            s->stats.lines++;
            if (!t->line_over) {
                clean_line(t);
                unquote(t, t->st.ts_mode ? t->st.ts_mode : t->first_mode);
            }
        }
        t->line_pending = false;
        const char *p = t->line;
        size_t n = t->line_len;
        if (t->line_over || (!t->line_plain && is_binary(p, n))) {
            bad_line(s, t->line_no);
            unread_line(s, t->line_no, p, n < 64 ? n : 64);
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        if (is_blank(p, n)) {
            /* A blank line ends a pasted record, except that -v output may continue it with
             * indented lines (an HTTP body's empty line, say): decided by the next line. */
            t->after_blank = t->rec_open;
            continue;
        }
        if (is_tcpdump_chatter(p, n) || is_document_line(p, n)) {
            if (is_tcpdump_chatter(p, n))
                t->saw_header = true;
            s->stats.ignored_lines++;
            t->after_blank = false;
            if (t->rec_open && finish_record(s, t, pkt))
                return 1;
            continue;
        }
        struct sc body;
        struct tsval v;
        /* The first record fixes the style: with timestamps, a later "IP ..." line without
         * one is a continuation (tunnelled packets under -v), not a -t record. */
        int mode = t->st.ts_mode ? t->st.ts_mode : t->first_mode;
        bool start = text_record_start(p, p + n, mode, &body, &v);
        if (!start && !(t->rec_open && is_space(*p))) {
            /* a list marker or line number before the record */
            size_t k = number_prefix(p, n);
            if (k && text_record_start(p + k, p + n, mode, &body, &v)) {
                p += k;
                n -= k;
                start = true;
            }
        }
        if (start) {
            if (!t->first_mode)
                t->first_mode = v.mode;
            t->after_blank = false;
            if (t->rec_open) {
                t->line_pending = true;
                if (finish_record(s, t, pkt)) {
                    /* p points into t->line, which the pending line keeps */
                    if (p != t->line) {
                        memmove(t->line, p, n);
                        t->line_len = n;
                        t->line[n] = '\0';
                    }
                    return 1;
                }
                t->line_pending = false;
            }
            memcpy(t->rec, p, n);
            t->rec_len = n;
            t->rec_open = true;
            t->hex_len = 0;
            t->hex_bad = false;
            t->rec_line_no = t->line_no;
            t->rec_lines = 1;
            continue;
        }
        if (t->rec_open && t->after_blank && !is_space(*p)) {
            /* text after a blank line that is neither a record nor indented: not ours */
            t->line_pending = true;
            if (finish_record(s, t, pkt))
                return 1;
            t->line_pending = false;
        }
        t->after_blank = false;
        if (!t->rec_open) {
            skip_line(s, t, p, n);
            continue;
        }
        /* a -x/-X/-XX hex dump line: its bytes, not its text, belong to the record */
        if (hex_line(t, p, n)) {
            t->rec_lines++;
            continue;
        }
        /* a continuation: -v's indented lines, or a line wrapped by a document */
        while (n && is_space(*p)) {
            p++;
            n--;
        }
        while (n && is_space(p[n - 1]))
            n--;
        if (t->rec_len + 1 + n > TEXT_RECORD_MAX) {
            skip_line(s, t, p, n);
            continue;
        }
        t->rec[t->rec_len++] = ' ';
        memcpy(t->rec + t->rec_len, p, n);
        t->rec_len += n;
        t->rec_lines++;
    }
}

static void text_close(struct source *s)
{
    struct text_src *t = s->impl;
    if (!t)
        return;
    if (t->f)
        fclose(t->f);
    free(t->io);
    free(t->line);
    free(t->rec);
    free(t->hex);
    free(t->hex_pkt);
    nt_names_free(t->own_names);
    free(t);
    s->impl = NULL;
}

void source_text_set_names(struct source *s, struct nt_names *names)
{
    struct text_src *t = s->impl;
    t->st.names = names;
}

static const struct source_ops text_ops = {.next = text_next, .close = text_close};

int source_text_open(FILE *f, struct source **out, char *err)
{
    struct text_src *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        goto fail;
    t->io = malloc(TEXT_IO_CHUNK);
    t->line = malloc(TEXT_LINE_MAX + 1);
    t->rec = malloc(TEXT_RECORD_MAX + 1);
    t->hex = malloc(TEXT_HEX_MAX);
    t->hex_pkt = calloc(1, sizeof *t->hex_pkt);
    t->own_names = nt_names_new();
    if (!t->io || !t->line || !t->rec || !t->hex || !t->hex_pkt || !t->own_names)
        goto fail;
    t->st.names = t->own_names;
    struct source *s = source_alloc(&text_ops, SOURCE_TEXT, t);
    if (!s)
        goto fail;
    t->f = f;
    s->stats.linktype = -1;
    *out = s;
    return 0;
fail:
    if (t) {
        free(t->io);
        free(t->line);
        free(t->rec);
        free(t->hex);
        free(t->hex_pkt);
        nt_names_free(t->own_names);
        free(t);
    }
    if (f)
        fclose(f);
    if (err)
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
    return NT_ERR_NOMEM;
}
