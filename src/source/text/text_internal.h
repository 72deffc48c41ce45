/* text_internal.h: what the pieces of the tcpdump text reader (src/source/text/) share: the
 * scanning cursor and its helpers, the parsed forms passed between the pieces (timestamp,
 * endpoint, the context of a nested parse), and the functions one piece calls in another.
 * Private to src/source/text/; the public entry points (source_text_open, text_parse_record,
 * struct text_state) are declared in source/source.h. */
#ifndef NT_SOURCE_TEXT_TEXT_INTERNAL_H
#define NT_SOURCE_TEXT_TEXT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "source/source.h"

/* ---------------------------------------------------------------------------------------- */
/* Scanning helpers: a cursor over [p, e), never past e. */

struct sc {
    const char *p, *e;
};

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int hex_val(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static inline size_t sc_left(const struct sc *s)
{
    return (size_t)(s->e - s->p);
}

static inline void sc_ws(struct sc *s)
{
    while (s->p < s->e && is_space(*s->p))
        s->p++;
}

/* starts, sc_lit and find are always inlined: their literal's strlen then folds to a constant
 * (as a call it was a third of the text parser's time in strlen and memcmp). */
#define TEXT_INLINE static inline __attribute__((always_inline))

TEXT_INLINE bool starts(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

TEXT_INLINE bool sc_lit(struct sc *s, const char *lit)
{
    size_t n = strlen(lit);
    if (sc_left(s) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* Parses up to max_digits decimal digits into *v; false when there is no digit or the number
 * does not fit. */
static inline bool sc_uint(struct sc *s, uint64_t *v, int max_digits)
{
    const char *p = s->p;
    uint64_t x = 0;
    int n = 0;
    while (p < s->e && is_digit(*p) && n < max_digits) {
        x = x * 10 + (uint64_t)(*p - '0');
        p++;
        n++;
    }
    if (n == 0 || (p < s->e && is_digit(*p)))
        return false;
    *v = x;
    s->p = p;
    return true;
}

static inline bool sc_u32(struct sc *s, uint32_t *v)
{
    uint64_t x;
    if (!sc_uint(s, &x, 10) || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

static inline bool sc_u16(struct sc *s, uint16_t *v)
{
    uint64_t x;
    if (!sc_uint(s, &x, 5) || x > UINT16_MAX)
        return false;
    *v = (uint16_t)x;
    return true;
}

static inline bool sc_hex(struct sc *s, uint32_t *v)
{
    uint32_t x = 0;
    int n = 0;
    while (s->p < s->e && is_hex(*s->p) && n < 8) {
        x = x << 4 | (uint32_t)hex_val(*s->p);
        s->p++;
        n++;
    }
    *v = x;
    return n > 0;
}

/* The first occurrence of lit in [p, e), or NULL. */
TEXT_INLINE const char *find(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0 || (size_t)(e - p) < n)
        return NULL;
    const char *last = e - n;
    while (p <= last) {
        const char *q = memchr(p, lit[0], (size_t)(last - p) + 1);
        if (!q)
            return NULL;
        if (memcmp(q, lit, n) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* A space-delimited token at s (not consumed). */
static inline size_t tok_len(const struct sc *s)
{
    const char *p = s->p;
    while (p < s->e && !is_space(*p))
        p++;
    return (size_t)(p - s->p);
}

/* From an opening '(' at p, the position just past its matching ')' (or e). */
static inline const char *paren_end(const char *p, const char *e)
{
    int depth = 0;
    for (; p < e; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
    }
    return e;
}

/* Reads "<lit><uint>" somewhere in [p, e). */
static inline bool find_uint(const char *p, const char *e, const char *lit, uint64_t *v)
{
    const char *q = find(p, e, lit);
    if (!q)
        return false;
    struct sc t = {q + strlen(lit), e};
    return sc_uint(&t, v, 10);
}

/* A word at s (up to a space or flag character). */
static inline size_t word_len(const struct sc *s)
{
    const char *p = s->p;
    while (p < s->e && (is_alpha(*p) || is_digit(*p) || *p == '_'))
        p++;
    return (size_t)(p - s->p);
}

/* ---------------------------------------------------------------------------------------- */
/* Records and timestamps (stamp.c) */

struct tsval {
    int mode;    /* TEXT_TS_* */
    int64_t sec; /* seconds (of day, since epoch, or relative) */
    uint32_t nsec;
    bool leading_space; /* -ttt/-ttttt print one space before the time */
};

/* Where the record's stamp begins, after leading white space and tcpdump -#'s number column;
 * false when the line does not begin a record in style mode (TEXT_TS_UNKNOWN: any). On success
 * *out is the rest of the record after the stamp and *v the stamp read. */
bool text_record_start(const char *p, const char *e, int mode, struct sc *out, struct tsval *v);
/* Turns the stamp into the packet's time, advancing the state (day wraps, relative modes). */
void text_apply_stamp(struct text_state *st, const struct tsval *v, struct nt_time *ts);

/* reader.c: whether a line that is no record looks like traffic (a time with a fraction, an
 * address with a port, a hex-dump offset) rather than prose. */
bool text_looks_like_traffic(const char *p, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Addresses and ports (address.c) */

struct endpoint {
    struct nt_addr addr;
    bool has_port;
    bool port_unknown; /* a service name we do not know: port 0 */
    uint16_t port;
};

/* How text_parse_endpoint treats a last label that could be a port. */
#define EP_AUTO   0 /* a port when numeric structure or a known service says so */
#define EP_WANT   1 /* the transport has ports: the last label is one, even if unknown */
#define EP_NOPORT 2 /* an address alone (the quoted destination in ICMP messages) */

/* Parses "addr", "addr.port" or "host.name.port" (mode: EP_*). */
bool text_parse_endpoint(struct nt_names *names, const char *s, size_t n, int mode,
                         struct endpoint *ep);
/* A port printed as a number or as a service name tcpdump knows. */
bool text_port_from_text(const char *s, size_t n, uint16_t *port);
/* A MAC address "00:11:22:33:44:55" at p, ending at e, a space or ','. */
bool text_is_mac(const char *p, const char *e);

/* ---------------------------------------------------------------------------------------- */
/* The network part of a record and what it carries */

struct netctx {
    struct text_state *st;
    int depth;
};

/* network.c: "IP [(-v header)] src > dst: payload" (s just past "IP "/"IP6 ", or past the -e
 * link part), version 4 or 6. */
void text_parse_network(struct netctx *cx, struct sc *s, struct packet *pkt, int version);
/* tunnel.c: a tunnel header after "src > dst: " and the packet it carries; false when s holds
 * none (pkt unchanged). */
bool text_parse_tunnel(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                       const struct endpoint *src, const struct endpoint *dst, bool ports);
/* transport.c: what follows "src > dst: " (ICMP, TCP, UDP, DNS, ...). */
void text_parse_payload(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                        bool ports);
/* transport.c: skips the checksum notes tcpdump -v prints before a payload. */
void text_skip_cksum_notes(struct sc *s);
/* icmp.c: ICMP after "ICMP ", with the quoted datagram of an error; ICMPv6 after "ICMP6, ". */
void text_parse_icmp4(struct netctx *cx, struct sc *s, struct packet *pkt);
void text_parse_icmp6(struct netctx *cx, struct sc *s, struct packet *pkt);

/* ---------------------------------------------------------------------------------------- */
/* DNS, as print-domain.c writes it */

/* dns.c: a DNS message "35084+ [1au] A? name. (24)"; false when s does not hold one. */
bool text_parse_dns(struct sc *s, struct dns_msg *m);
/* dns_rr.c: the questions ("A? name." ...) at s; returns how many were read. */
int text_dns_questions(struct sc *s, struct dns_msg *m);
/* dns_rr.c: the resource records of the sections at s, starting in section. */
void text_dns_sections(struct sc *s, struct dns_msg *m, uint8_t section);

#endif
