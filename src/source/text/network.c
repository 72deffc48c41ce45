/* network.c: the network part of a record: the -v IPv4 and IPv6 headers, "src > dst:", IPv6
 * extension headers, and the hand-over to tunnels and transports. */
#include "source/text/text_internal.h"

/* "(tos 0x0, ttl 64, id 25369, offset 0, flags [none], proto UDP (17), length 90)" */
static void parse_ipv4_header(const char *p, const char *e, struct packet *pkt)
{
    uint64_t v;
    if (find_uint(p, e, "ttl ", &v) && v <= 255)
        pkt->ttl = (uint8_t)v;
    if (find_uint(p, e, " id ", &v) && v <= UINT16_MAX)
        pkt->ip_id = (uint16_t)v;
    if (find_uint(p, e, "offset ", &v) && v <= UINT16_MAX) {
        pkt->frag_offset = (uint16_t)v;
        if (v)
            pkt->fragment = true;
    }
    const char *f = find(p, e, "flags [");
    if (f) {
        const char *fe = find(f, e, "]");
        if (fe && find(f, fe, "+")) {
            pkt->more_fragments = true;
            pkt->fragment = true;
        }
    }
    const char *pr = find(p, e, "proto ");
    if (pr) {
        const char *op = find(pr, e, " (");
        if (op) {
            struct sc t = {op + 2, e};
            uint64_t x;
            if (sc_uint(&t, &x, 3) && x <= 255)
                pkt->proto = (uint8_t)x;
        }
    }
    if (find_uint(p, e, "length ", &v) && v <= UINT32_MAX)
        pkt->ip_len = (uint32_t)v;
    if (find(p, e, "options ("))
        pkt->ip_options = true;
}

/* "(flowlabel 0x..., hlim 64, next-header UDP (17) payload length: 68)" */
static void parse_ipv6_header(const char *p, const char *e, struct packet *pkt)
{
    uint64_t v;
    if (find_uint(p, e, "hlim ", &v) && v <= 255)
        pkt->ttl = (uint8_t)v;
    const char *nh = find(p, e, "next-header ");
    if (nh) {
        const char *op = find(nh, e, " (");
        if (op) {
            struct sc t = {op + 2, e};
            uint64_t x;
            if (sc_uint(&t, &x, 3) && x <= 255)
                pkt->proto = (uint8_t)x;
        }
    }
    if (find_uint(p, e, "payload length: ", &v) && v <= UINT32_MAX - 40)
        pkt->ip_len = (uint32_t)v + 40;
}

/* "IP [(-v header)] src > dst: payload" (s just past "IP "/"IP6 ", or past the -e link part). */
void text_parse_network(struct netctx *cx, struct sc *s, struct packet *pkt, int version)
{
    sc_ws(s);
    /* notes 4.99 prints before the header */
    if (sc_lit(s, "truncated-ip - ")) {
        const char *b = find(s->p, s->e, "missing!");
        if (b && b - s->p < 32) {
            s->p = b + 8;
            sc_ws(s);
        }
    }
    while (s->p < s->e && *s->p == '[') {
        const char *b = find(s->p, s->e, "] ");
        if (!b || b - s->p > 128)
            break;
        s->p = b + 2;
        if (sc_lit(s, "(invalid) "))
            continue;
    }
    if (s->p < s->e && *s->p == '(') {
        const char *he = paren_end(s->p, s->e);
        if (version == 4)
            parse_ipv4_header(s->p, he, pkt);
        else
            parse_ipv6_header(s->p, he, pkt);
        s->p = he;
        sc_ws(s);
    }
    /* src > dst: */
    size_t n1 = tok_len(s);
    const char *a1 = s->p;
    if (!n1)
        return;
    struct sc t = {s->p + n1, s->e};
    /* " > ", or with more spaces (a pasted line re-spaced by an editor or forum) */
    const char *gap = t.p;
    sc_ws(&t);
    if (t.p == gap || !sc_lit(&t, ">") || t.p >= t.e || !is_space(*t.p))
        return;
    sc_ws(&t);
    size_t n2 = tok_len(&t);
    const char *a2 = t.p;
    if (n2 < 2 || a2[n2 - 1] != ':')
        return;
    n2--;
    t.p += n2 + 1;
    sc_ws(&t);
    struct endpoint src, dst;
    if (!text_parse_endpoint(cx->st->names, a1, n1, EP_AUTO, &src) ||
        !text_parse_endpoint(cx->st->names, a2, n2, EP_AUTO, &dst))
        return;
    /* -Q or mixed families cannot be one IP packet */
    if (src.addr.family != dst.addr.family && src.addr.family != NT_AF_NAME &&
        dst.addr.family != NT_AF_NAME)
        return;
    if (version == 4 && (src.addr.family == NT_AF_INET6 || dst.addr.family == NT_AF_INET6))
        return;
    pkt->ip_version = (uint8_t)version;
    pkt->src = src.addr;
    pkt->dst = dst.addr;
    pkt->layers |= PKT_L_IP;
    bool ports = src.has_port && dst.has_port;
    /* IPv6 extension headers print before the transport, which then shows bare ports:
     * "HBH 41851 > 43913: Flags ...", "frag (0|1432) 53 > 51851: ..." */
    bool ext = false;
    for (int i = 0; version == 6 && !ports && i < 4; i++) {
        if (starts(t.p, t.e, "frag (")) {
            const char *fe = paren_end(t.p + 5, t.e);
            pkt->fragment = true;
            struct sc f = {t.p + 6, fe};
            const char *colon = find(f.p, f.e, ":");
            if (colon)
                f.p = colon + 1;
            uint64_t off;
            if (sc_uint(&f, &off, 6) && off <= UINT16_MAX)
                pkt->frag_offset = (uint16_t)off;
            t.p = fe;
        } else if (sc_lit(&t, "HBH") || sc_lit(&t, "DSTOPT")) {
            sc_ws(&t);
            while (t.p < t.e && *t.p == '(') {
                t.p = paren_end(t.p, t.e);
                sc_ws(&t);
            }
        } else {
            break;
        }
        ext = true;
        sc_ws(&t);
    }
    if (ext) {
        struct sc pp = t;
        uint16_t sp, dp;
        if (sc_u16(&pp, &sp) && sc_lit(&pp, " > ") && sc_u16(&pp, &dp) && sc_lit(&pp, ": ")) {
            src.has_port = dst.has_port = true;
            src.port = sp;
            dst.port = dp;
            ports = true;
            t = pp;
        }
    }
    {
        struct sc tt = t;
        text_skip_cksum_notes(&tt);
        if (text_parse_tunnel(cx, &tt, pkt, version, &src, &dst, ports)) {
            *s = tt;
            return;
        }
    }
    text_parse_payload(cx, &t, pkt, version, ports);
    if ((pkt->layers & (PKT_L_UDP | PKT_L_TCP)) && !ports) {
        /* host names with a service name we do not know: the last label was the port */
        struct endpoint s2, d2;
        if (text_parse_endpoint(cx->st->names, a1, n1, EP_WANT, &s2) &&
            text_parse_endpoint(cx->st->names, a2, n2, EP_WANT, &d2) && s2.has_port &&
            d2.has_port) {
            src = s2;
            dst = d2;
            pkt->src = src.addr;
            pkt->dst = dst.addr;
            ports = true;
        }
    }
    if (ports && (pkt->layers & (PKT_L_UDP | PKT_L_TCP))) {
        pkt->sport = src.port;
        pkt->dport = dst.port;
        if (src.port_unknown || dst.port_unknown)
            packet_add_anomaly(pkt, ANOM_TEXT_UNKNOWN_SERVICE_NAME);
    }
    *s = t;
}
