/* icmp.c: ICMP and ICMPv6 messages as print-icmp.c and print-icmp6.c write them: type and code
 * from the words, the quoted destination, protocol and port of errors, and with -v the
 * quoted datagram itself. */
#include "source/text/text_internal.h"

/* ICMP quotes are followed this deep (an error quoting an error quoting ...). */
#define TEXT_MAX_DEPTH 2

/* ICMP messages as print-icmp.c writes them. The address in most is the quoted datagram's
 * destination. */
struct icmp_form {
    const char *prefix; /* before the address ("" when it starts with it) */
    const char *suffix; /* after the address */
    uint8_t code;       /* of type 3, destination unreachable */
};

static const struct icmp_form icmp_unreach_forms[] = {
    {"host ", " unreachable - admin prohibited filter", 13},
    {"host ", " unreachable - host precedence violation", 14},
    {"host ", " unreachable - precedence cutoff", 15},
    {"net ", " unreachable - admin prohibited", 9},
    {"host ", " unreachable - admin prohibited", 10},
    {"net ", " unreachable - tos prohibited", 11},
    {"host ", " unreachable - tos prohibited", 12},
    {"net ", " unreachable - unknown", 6},
    {"host ", " unreachable - unknown", 7},
    {"", " unreachable - source route failed", 5},
    {"", " unreachable - source host isolated", 8},
    {"", " unreachable - need to frag", 4},
    {"net ", " unreachable", 0},
    {"host ", " unreachable", 1},
};

/* Reads an address token ending at a space; fills the quote's destination. */
static bool quote_dst(struct nt_names *names, const char *p, const char *e, struct packet *pkt,
                      uint8_t version)
{
    struct endpoint ep;
    if (!text_parse_endpoint(names, p, (size_t)(e - p), EP_NOPORT, &ep))
        return false;
    pkt->quote.dst = ep.addr;
    pkt->quote.known |= QUOTE_K_DST;
    if (ep.addr.family == NT_AF_INET6)
        pkt->quote.ip_version = 6;
    else if (ep.addr.family == NT_AF_INET)
        pkt->quote.ip_version = 4;
    else
        pkt->quote.ip_version = version;
    return true;
}

/* "<addr> udp port <p> unreachable" and relatives. Returns true when matched. */
static bool icmp_port_unreach(struct nt_names *names, struct sc *s, struct packet *pkt,
                              uint8_t version, bool v6)
{
    struct sc t = *s;
    size_t n = tok_len(&t);
    if (!n)
        return false;
    const char *a = t.p, *ae = t.p + n;
    t.p += n;
    uint8_t proto;
    uint16_t port = 0;
    bool port_ok = true;
    if (sc_lit(&t, " udp port "))
        proto = 17;
    else if (sc_lit(&t, " tcp port "))
        proto = 6;
    else if (sc_lit(&t, " protocol ")) {
        uint64_t pv;
        if (!sc_uint(&t, &pv, 3) || pv > 255)
            return false;
        proto = (uint8_t)pv;
        if (sc_lit(&t, " port ")) {
            if (!sc_u16(&t, &port))
                return false;
            if (!v6 && !sc_lit(&t, " unreachable"))
                return false;
            sc_lit(&t, " unreachable");
            goto matched;
        }
        if (v6 || !sc_lit(&t, " unreachable"))
            return false;
        /* protocol unreachable */
        if (!quote_dst(names, a, ae, pkt, version))
            return false;
        pkt->quote.proto = proto;
        pkt->quote.known |= QUOTE_K_PROTO;
        pkt->icmp_type = 3;
        pkt->icmp_code = 2;
        *s = t;
        return true;
    } else
        return false;
    {
        size_t pn = tok_len(&t);
        /* the port may be followed by ',' (ICMP6) */
        while (pn && (t.p[pn - 1] == ',' || t.p[pn - 1] == ':'))
            pn--;
        if (!pn)
            return false;
        port_ok = text_port_from_text(t.p, pn, &port);
        t.p += pn;
    }
    if (!v6 && !sc_lit(&t, " unreachable"))
        return false;
matched:
    if (!quote_dst(names, a, ae, pkt, version))
        return false;
    pkt->quote.proto = proto;
    pkt->quote.dport = port;
    pkt->quote.known |= QUOTE_K_PROTO;
    if (port_ok)
        pkt->quote.known |= QUOTE_K_DPORT;
    else
        packet_add_anomaly(pkt, ANOM_TEXT_UNKNOWN_SERVICE_NAME);
    pkt->icmp_type = v6 ? 1 : 3;
    pkt->icmp_code = v6 ? 4 : 3;
    *s = t;
    return true;
}

/* Copies what a parsed quoted datagram shows into pkt->quote. */
static void quote_from_packet(struct packet *pkt, const struct packet *q)
{
    struct icmp_quote *qt = &pkt->quote;
    if (!(q->layers & PKT_L_IP))
        return;
    qt->present = true;
    qt->ip_version = q->ip_version;
    qt->src = q->src;
    qt->dst = q->dst;
    qt->proto = q->proto;
    qt->ip_id = q->ip_id;
    qt->ip_total_len = q->ip_len;
    qt->known |= QUOTE_K_SRC | QUOTE_K_DST;
    if (q->proto)
        qt->known |= QUOTE_K_PROTO;
    if (q->layers & (PKT_L_UDP | PKT_L_TCP)) {
        qt->has_ports = true;
        qt->sport = q->sport;
        qt->dport = q->dport;
        qt->known |= QUOTE_K_SPORT | QUOTE_K_DPORT;
    }
    if (q->layers & PKT_L_DNS) {
        qt->has_dns = true;
        qt->dns_id = q->dns.id;
        qt->dns_flags = q->dns.flags;
        qt->known |= QUOTE_K_DNS_ID;
        if (q->dns.has_question) {
            qt->has_question = true;
            qt->q = q->dns.q;
            qt->known |= QUOTE_K_QUESTION;
        }
    }
}

/* With -v an ICMP error is followed by the quoted datagram: "IP (tos ...) a.p > b.q: ...", or
 * with -e just "(tos ...) a.p > b.q: ...". */
static void parse_icmp_quote(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    int version = 4;
    sc_ws(&t);
    /* a checksum note may come first */
    if (starts(t.p, t.e, "(wrong icmp cksum")) {
        t.p = paren_end(t.p, t.e);
        sc_ws(&t);
    }
    if (sc_lit(&t, "IP6 "))
        version = 6;
    else
        sc_lit(&t, "IP ");
    if (t.p >= t.e || *t.p != '(' || cx->depth >= TEXT_MAX_DEPTH)
        return;
    if (starts(t.p, t.e, "(hlim") || starts(t.p, t.e, "(flowlabel") || starts(t.p, t.e, "(class"))
        version = 6;
    /* On the stack: a record is parsed without allocating. */
    struct packet inner;
    packet_reset(&inner);
    struct netctx sub = {cx->st, cx->depth + 1};
    text_parse_network(&sub, &t, &inner, version);
    quote_from_packet(pkt, &inner);
    s->p = t.p;
}

static void finish_icmp(struct packet *pkt, uint8_t version)
{
    pkt->layers |= PKT_L_ICMP;
    pkt->icmp_kind = (uint8_t)icmp_classify(version, pkt->icmp_type, pkt->icmp_code);
    pkt->icmp_is_error = icmp_kind_is_error((enum icmp_kind)pkt->icmp_kind);
    if (pkt->quote.known && !pkt->quote.ip_version)
        pkt->quote.ip_version = version;
}

/* Reads ", length N" or " length N" (pasted text often lost the comma). */
static void icmp_length(struct sc *s, struct packet *pkt)
{
    const char *l = find(s->p, s->e, "length ");
    if (!l || (l - s->p) > 64)
        return;
    struct sc t = {l + 7, s->e};
    uint32_t v;
    if (sc_u32(&t, &v)) {
        pkt->icmp_len = v;
        s->p = t.p;
    }
}

/* ", id N, seq N" of echo messages, kept as the decoder keeps the 4 bytes after the checksum. */
static void parse_echo_ids(struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    uint16_t id, seq;
    if (sc_lit(&t, ", id ") && sc_u16(&t, &id) && sc_lit(&t, ", seq ") && sc_u16(&t, &seq)) {
        pkt->icmp_rest = (uint32_t)id << 16 | seq;
        *s = t;
    }
}

/* ICMP (IPv4): s is just past "ICMP ". */
void text_parse_icmp4(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    bool ok = false;
    uint64_t v;
    pkt->proto = 1;
    if (sc_lit(&t, "echo request")) {
        pkt->icmp_type = 8;
        parse_echo_ids(&t, pkt);
        ok = true;
    } else if (sc_lit(&t, "echo reply")) {
        pkt->icmp_type = 0;
        parse_echo_ids(&t, pkt);
        ok = true;
    } else if (sc_lit(&t, "time exceeded in-transit")) {
        pkt->icmp_type = 11;
        ok = true;
    } else if (sc_lit(&t, "ip reassembly time exceeded")) {
        pkt->icmp_type = 11;
        pkt->icmp_code = 1;
        ok = true;
    } else if (sc_lit(&t, "time exceeded-#")) {
        pkt->icmp_type = 11;
        if (sc_uint(&t, &v, 3) && v <= 255)
            pkt->icmp_code = (uint8_t)v;
        ok = true;
    } else if (sc_lit(&t, "parameter problem - octet ")) {
        pkt->icmp_type = 12;
        ok = true;
    } else if (sc_lit(&t, "parameter problem - code ")) {
        pkt->icmp_type = 12;
        if (sc_uint(&t, &v, 3) && v <= 255)
            pkt->icmp_code = (uint8_t)v;
        ok = true;
    } else if (sc_lit(&t, "source quench")) {
        pkt->icmp_type = 4;
        ok = true;
    } else if (sc_lit(&t, "router solicitation")) {
        pkt->icmp_type = 10;
        ok = true;
    } else if (sc_lit(&t, "router advertisement")) {
        pkt->icmp_type = 9;
        ok = true;
    } else if (sc_lit(&t, "time stamp query") || sc_lit(&t, "time stamp request")) {
        pkt->icmp_type = 13;
        ok = true;
    } else if (sc_lit(&t, "time stamp reply")) {
        pkt->icmp_type = 14;
        ok = true;
    } else if (sc_lit(&t, "information request")) {
        pkt->icmp_type = 15;
        ok = true;
    } else if (sc_lit(&t, "information reply")) {
        pkt->icmp_type = 16;
        ok = true;
    } else if (sc_lit(&t, "address mask request")) {
        pkt->icmp_type = 17;
        ok = true;
    } else if (sc_lit(&t, "address mask is")) {
        pkt->icmp_type = 18;
        ok = true;
    } else if (sc_lit(&t, "type-#")) {
        if (sc_uint(&t, &v, 3) && v <= 255) {
            pkt->icmp_type = (uint8_t)v;
            ok = true;
        }
    } else if (sc_lit(&t, "redirect")) {
        /* "redirect A to net G", "redirect-tos A to host G", "redirect-#N A to net G" */
        pkt->icmp_type = 5;
        bool tos = sc_lit(&t, "-tos");
        if (sc_lit(&t, "-#")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        sc_ws(&t);
        size_t n = tok_len(&t);
        if (n && quote_dst(cx->st->names, t.p, t.p + n, pkt, 4))
            t.p += n;
        if (sc_lit(&t, " to host "))
            pkt->icmp_code = tos ? 3 : 1;
        else if (sc_lit(&t, " to net ") || sc_lit(&t, " to "))
            pkt->icmp_code = (uint8_t)(pkt->icmp_code ? pkt->icmp_code : (tos ? 2 : 0));
        n = tok_len(&t);
        while (n && t.p[n - 1] == ',')
            n--;
        struct endpoint gw;
        if (n && text_parse_endpoint(cx->st->names, t.p, n, EP_NOPORT, &gw)) {
            pkt->icmp_addr = gw.addr;
            t.p += n;
        }
        ok = true;
    } else if (sc_lit(&t, "#")) {
        /* "#N A unreachable": destination unreachable, code N */
        if (sc_uint(&t, &v, 3) && v <= 255 && sc_lit(&t, " ")) {
            size_t n = tok_len(&t);
            if (n && quote_dst(cx->st->names, t.p, t.p + n, pkt, 4)) {
                pkt->icmp_type = 3;
                pkt->icmp_code = (uint8_t)v;
                t.p += n;
                ok = true;
            }
        }
    }
    if (!ok && icmp_port_unreach(cx->st->names, &t, pkt, 4, false))
        ok = true;
    if (!ok) {
        for (size_t i = 0; i < sizeof icmp_unreach_forms / sizeof icmp_unreach_forms[0]; i++) {
            const struct icmp_form *f = &icmp_unreach_forms[i];
            struct sc u = t;
            if (!sc_lit(&u, f->prefix))
                continue;
            size_t n = tok_len(&u);
            if (!n)
                continue;
            const char *a = u.p;
            u.p += n;
            if (!sc_lit(&u, f->suffix))
                continue;
            /* the longer forms come first; a bare " unreachable" must end there */
            if (u.p < u.e && *u.p != ',' && *u.p != ' ')
                continue;
            if (f->code == 4 && sc_lit(&u, " (mtu ")) {
                uint32_t mtu;
                if (sc_u32(&u, &mtu))
                    pkt->icmp_mtu = mtu;
                sc_lit(&u, ")");
            }
            if (!quote_dst(cx->st->names, a, a + n, pkt, 4))
                continue;
            pkt->icmp_type = 3;
            pkt->icmp_code = f->code;
            t = u;
            ok = true;
            break;
        }
    }
    if (!ok)
        return;
    finish_icmp(pkt, 4);
    icmp_length(&t, pkt);
    if (pkt->icmp_is_error)
        parse_icmp_quote(cx, &t, pkt);
    *s = t;
}

/* ICMPv6: s is just past "ICMP6, ". */
void text_parse_icmp6(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    static const struct {
        const char *name;
        uint8_t type;
    } types[] = {
        {"destination unreachable", 1},
        {"packet too big", 2},
        {"time exceeded in-transit", 3},
        {"parameter problem", 4},
        {"echo request", 128},
        {"echo reply", 129},
        {"multicast listener query", 130},
        {"multicast listener report v2", 143},
        {"multicast listener report", 131},
        {"multicast listener done", 132},
        {"router solicitation", 133},
        {"router advertisement", 134},
        {"neighbor solicitation", 135},
        {"neighbor advertisement", 136},
        {"redirect", 137},
        {"router renumbering", 138},
        {"inverse neighbor solicitation", 141},
        {"inverse neighbor advertisement", 142},
        {"ha discovery request", 144},
        {"ha discovery reply", 145},
        {"mobile router solicitation", 146},
        {"mobile router advertisement", 147},
        {"who-are-you request", 139},
        {"who-are-you reply", 140},
        {"node information query", 139},
        {"node information reply", 140},
        {"mtrace message", 201},
        {"mtrace response", 200},
        {"RPL", 155},
    };
    struct sc t = *s;
    bool ok = false;
    uint64_t v;
    pkt->proto = 58;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (sc_lit(&t, types[i].name)) {
            pkt->icmp_type = types[i].type;
            ok = true;
            break;
        }
    }
    if (!ok && sc_lit(&t, "unknown icmp6 type (")) {
        if (sc_uint(&t, &v, 3) && v <= 255) {
            pkt->icmp_type = (uint8_t)v;
            ok = true;
        }
    }
    if (!ok)
        return;
    /* -v prints ", length N" right after the type for some messages */
    struct sc l = t;
    if (sc_lit(&l, ", length ")) {
        uint32_t x;
        if (sc_u32(&l, &x)) {
            pkt->icmp_len = x;
            t = l;
        }
    }
    switch (pkt->icmp_type) {
    case 1: {
        static const struct {
            const char *name;
            uint8_t code;
        } codes[] = {{"unreachable route", 0}, {"unreachable prohibited", 1},
                     {"beyond scope", 2},      {"unreachable address", 3},
                     {"unreachable port", 4},  {"source address failed policy", 5},
                     {"reject route", 6},      {"source routing header error", 7}};
        if (!sc_lit(&t, ","))
            break;
        sc_ws(&t);
        bool got = false;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            if (sc_lit(&t, codes[i].name)) {
                pkt->icmp_code = codes[i].code;
                got = true;
                break;
            }
        }
        if (!got && sc_lit(&t, "unknown unreach code (")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
            sc_lit(&t, ")");
            got = true;
        }
        if (!got)
            break;
        if (pkt->icmp_code == 4) {
            sc_lit(&t, ",");
            sc_ws(&t);
            icmp_port_unreach(cx->st->names, &t, pkt, 6, true);
            pkt->icmp_type = 1;
            pkt->icmp_code = 4;
        } else {
            sc_ws(&t);
            size_t n = tok_len(&t);
            while (n && t.p[n - 1] == ',')
                n--;
            if (n && quote_dst(cx->st->names, t.p, t.p + n, pkt, 6))
                t.p += n;
            if (pkt->icmp_code == 2 && sc_lit(&t, ", source address ")) {
                size_t m = tok_len(&t);
                while (m && t.p[m - 1] == ',')
                    m--;
                struct endpoint ep;
                if (m && text_parse_endpoint(cx->st->names, t.p, m, EP_NOPORT, &ep)) {
                    pkt->quote.src = ep.addr;
                    pkt->quote.known |= QUOTE_K_SRC;
                    t.p += m;
                }
            }
        }
        break;
    }
    case 128:
    case 129:
        parse_echo_ids(&t, pkt);
        break;
    case 137: {
        /* "redirect, DST to TARGET" */
        sc_lit(&t, ",");
        sc_ws(&t);
        size_t n = tok_len(&t);
        if (n && quote_dst(cx->st->names, t.p, t.p + n, pkt, 6)) {
            t.p += n;
            struct endpoint ep;
            if (sc_lit(&t, " to ") && (n = tok_len(&t)) > 0) {
                while (n && t.p[n - 1] == ',')
                    n--;
                if (text_parse_endpoint(cx->st->names, t.p, n, EP_NOPORT, &ep))
                    pkt->icmp_addr = ep.addr;
            }
        }
        break;
    }
    case 135:
    case 136: {
        /* ND: ", who has X" / ", tgt is X" */
        const char *w = find(t.p, t.e, ", who has ");
        const char *g = find(t.p, t.e, ", tgt is ");
        const char *a = w ? w + 10 : g ? g + 9 : NULL;
        if (a && a - t.p < 64) {
            struct sc u = {a, t.e};
            size_t n = tok_len(&u);
            while (n && u.p[n - 1] == ',')
                n--;
            struct endpoint ep;
            if (n && text_parse_endpoint(cx->st->names, u.p, n, EP_NOPORT, &ep))
                pkt->icmp_addr = ep.addr;
        }
        break;
    }
    case 2:
        if (sc_lit(&t, ", mtu ")) {
            uint32_t mtu;
            if (sc_u32(&t, &mtu))
                pkt->icmp_mtu = mtu;
        }
        break;
    case 3:
        if (sc_lit(&t, " for ")) {
            size_t n = tok_len(&t);
            while (n && t.p[n - 1] == ',')
                n--;
            if (n && quote_dst(cx->st->names, t.p, t.p + n, pkt, 6))
                t.p += n;
        } else if (sc_lit(&t, " (reassembly)")) {
            pkt->icmp_code = 1;
        } else if (sc_lit(&t, ", unknown code (")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        break;
    case 4:
        if (sc_lit(&t, ", erroneous"))
            pkt->icmp_code = 0;
        else if (sc_lit(&t, ", next header"))
            pkt->icmp_code = 1;
        else if (sc_lit(&t, ", option"))
            pkt->icmp_code = 2;
        else if (sc_lit(&t, ", incomplete header chain"))
            pkt->icmp_code = 3;
        else if (sc_lit(&t, ", code-#")) {
            if (sc_uint(&t, &v, 3) && v <= 255)
                pkt->icmp_code = (uint8_t)v;
        }
        break;
    default:
        break;
    }
    finish_icmp(pkt, 6);
    if (!pkt->icmp_len)
        icmp_length(&t, pkt);
    if (!pkt->icmp_len && pkt->proto == 58 && pkt->ip_len >= 40)
        pkt->icmp_len = pkt->ip_len - 40;
    *s = t;
}
