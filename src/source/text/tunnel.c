/* tunnel.c: tunnels in tcpdump text (IP in IP, GRE v0/v1, VXLAN, VXLAN-GPE, Geneve): the tunnel
 * header's fields and the packet it carries, which the record then describes as the pcap
 * decoder does. */
#include "source/text/text_internal.h"

/* Where the packet a tunnel carries starts, after the tunnel header ending at p, and its IP
 * version: "IP ..." or "IP6 ..." after ": " (or, with -v, after the line break, now a space);
 * with -e, after the inner Ethernet header ("00:11:.. > 00:22:.., ethertype IPv4 (0x0800),
 * length 98: 2.2.2.2.4789 > ..."), or right away when the tunnel header named the protocol
 * (hint 4 or 6: GRE's "proto IPv4 (0x0800)"). NULL when something else follows. */
static const char *tunnel_inner(const char *p, const char *e, int hint, int *version)
{
    struct sc t = {p, e};
    sc_lit(&t, ":");
    sc_ws(&t);
    if (text_is_mac(t.p, t.e)) {
        const char *et = find(t.p, t.e - t.p > 96 ? t.p + 96 : t.e, ", ethertype IPv");
        /* the version digit is past the match: the record may end right before it */
        if (!et || et + 15 >= t.e || (et[15] != '4' && et[15] != '6'))
            return NULL;
        hint = et[15] == '4' ? 4 : 6;
        const char *c = find(et, t.e - et > 64 ? et + 64 : t.e, ": ");
        if (!c)
            return NULL;
        t.p = c + 2;
    }
    /* PPP inside PPTP's GRE with -e: "IP (0x0021), length 103: " */
    if (starts(t.p, t.e, "IP (0x0021), length ") || starts(t.p, t.e, "IPv6 (0x0057), length ")) {
        hint = t.p[2] == 'v' ? 6 : 4;
        const char *c = find(t.p, t.e - t.p > 40 ? t.p + 40 : t.e, ": ");
        if (!c)
            return NULL;
        t.p = c + 2;
    }
    if (sc_lit(&t, "IP6 ")) {
        *version = 6;
        return t.p;
    }
    if (sc_lit(&t, "IP ")) {
        *version = 4;
        return t.p;
    }
    /* with -e the inner header starts with its address, or with -v its "(tos ..." */
    if (hint && t.p < t.e && (is_hex(*t.p) || *t.p == ':' || *t.p == '(')) {
        *version = hint;
        return t.p;
    }
    return NULL;
}

/* VXLAN and VXLAN-GPE: "vni N" in the first 64 bytes of s, its number into t, then the packet
 * inside (tunnel_inner); NULL when either is missing. */
static const char *vni_inner(const struct sc *s, struct pkt_tunnel *t, int *version)
{
    const char *vn = find(s->p, s->e - s->p > 64 ? s->p + 64 : s->e, "vni ");
    if (!vn)
        return NULL;
    struct sc n = {vn + 4, s->e};
    uint32_t vni;
    if (sc_u32(&n, &vni))
        t->vni = vni;
    return tunnel_inner(n.p, s->e, 0, version);
}

/* Reads a tunnel header tcpdump printed after "src > dst: " (s), and the packet it carries,
 * which the record then describes, as the pcap decoder does (the outer packet goes to
 * pkt->tunnels). Forms (tcpdump 4.99, with and without -v):
 *   IP in IP   "IP6 a > b: IP c > d: ..."
 *   GRE        "GREv0, [Flags [..], ][key=0x.., ][seq N, ]length N: IP ..."
 *              "GREv1, [Flags [..], ]call N, seq N, ack N, length N: IP ..." (PPTP)
 *   VXLAN      "VXLAN, flags [I] (0x08), vni N<line break>IP ..."
 *   VXLAN-GPE  "VXLAN-GPE, flags [IP], vni N: IP ..." (-v: a line break for ": ")
 *   Geneve     "Geneve, Flags [none], vni 0x1092[, options [..]]: IP ..."
 * Returns false when s holds none of them (or the carried packet is not IP), leaving pkt as
 * it was. */
bool text_parse_tunnel(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                       const struct endpoint *src, const struct endpoint *dst, bool ports)
{
    struct pkt_tunnel tun;
    memset(&tun, 0, sizeof tun);
    const char *inner = NULL;
    int iv = 0;
    uint32_t gre_len = 0;
    bool have_len = false;
    uint64_t v;
    struct endpoint ie;
    size_t in1 = tok_len(s);
    if (!ports && (starts(s->p, s->e, "IP ") || starts(s->p, s->e, "IP6 "))) {
        tun.kind = PKT_TUN_IPIP;
        iv = s->p[2] == '6' ? 6 : 4;
        inner = s->p + (iv == 6 ? 4 : 3);
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && (starts(s->p, s->e, "(tos ") || starts(s->p, s->e, "(hlim ") ||
                          starts(s->p, s->e, "(class ") || starts(s->p, s->e, "(flowlabel "))) {
        /* -e -v: the inner header's fields, without "IP " */
        tun.kind = PKT_TUN_IPIP;
        iv = s->p[1] == 't' ? 4 : 6;
        inner = s->p;
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && in1 && starts(s->p + in1, s->e, " > ") &&
               text_parse_endpoint(cx->st->names, s->p, in1, EP_AUTO, &ie) &&
               (ie.addr.family == NT_AF_INET || ie.addr.family == NT_AF_INET6)) {
        /* -e prints IP in IP without the inner "IP " */
        tun.kind = PKT_TUN_IPIP;
        iv = ie.addr.family == NT_AF_INET6 ? 6 : 4;
        inner = s->p;
        pkt->proto = iv == 6 ? 41 : 4;
    } else if (!ports && starts(s->p, s->e, "GREv") && s->e - s->p > 4 && is_digit(s->p[4])) {
        tun.kind = PKT_TUN_GRE;
        pkt->proto = 47;
        const char *he = s->e - s->p > 400 ? s->p + 400 : s->e;
        const char *lp = find(s->p, he, ", length ");
        if (!lp)
            return false;
        struct sc l = {lp + 9, s->e};
        uint32_t len;
        if (!sc_u32(&l, &len))
            return false;
        gre_len = len;
        have_len = true;
        unsigned ver = (unsigned)(s->p[4] - '0');
        tun.flags = (uint16_t)(ver & 7);
        if (find_uint(s->p, lp, "call ", &v) && v <= UINT16_MAX) {
            tun.has_key = true;
            tun.key = (uint32_t)v;
        }
        const char *k = find(s->p, lp, "key=0x");
        if (k) {
            struct sc kh = {k + 6, lp};
            uint32_t key;
            if (sc_hex(&kh, &key)) {
                tun.has_key = true;
                tun.key = key;
            }
        }
        if (find_uint(s->p, lp, ", seq ", &v) && v <= UINT32_MAX) {
            tun.has_seq = true;
            tun.seq = (uint32_t)v;
        }
        if (find_uint(s->p, lp, ", ack ", &v) && v <= UINT32_MAX) {
            tun.has_ack = true;
            tun.ack = (uint32_t)v;
        }
        int hint = find(s->p, lp, "proto IPv4 (0x0800)")   ? 4
                   : find(s->p, lp, "proto IPv6 (0x86dd)") ? 6
                                                           : 0;
        inner = tunnel_inner(l.p, s->e, hint, &iv);
    } else if (ports && sc_lit(s, "VXLAN, ")) {
        tun.kind = PKT_TUN_VXLAN;
        struct sc f = *s;
        uint32_t flags;
        if (sc_lit(&f, "flags [") && find(f.p, f.e, "(0x")) {
            f.p = find(f.p, f.e, "(0x") + 3;
            if (sc_hex(&f, &flags))
                tun.flags = (uint16_t)(flags & 0xff);
        }
        inner = vni_inner(s, &tun, &iv);
    } else if (ports && sc_lit(s, "VXLAN-GPE, ")) {
        tun.kind = PKT_TUN_VXLAN_GPE;
        struct sc f = *s;
        if (sc_lit(&f, "flags [")) {
            const char *b = find(f.p, f.e - f.p > 8 ? f.p + 8 : f.e, "]");
            if (b)
                for (const char *q = f.p; q < b; q++)
                    tun.flags |= *q == 'I'   ? 0x08
                                 : *q == 'P' ? 0x04
                                 : *q == 'B' ? 0x02
                                 : *q == 'O' ? 0x01
                                             : 0;
        }
        /* The next protocol is not printed (an Ethernet frame prints as its IP packet without
         * -e): tun.proto stays 0, unknown. */
        inner = vni_inner(s, &tun, &iv);
    } else if (ports && sc_lit(s, "Geneve, ")) {
        tun.kind = PKT_TUN_GENEVE;
        struct sc f = *s;
        if (sc_lit(&f, "Flags [")) {
            const char *b = find(f.p, f.e, "]");
            if (b && b - f.p < 8) {
                for (const char *q = f.p; q < b; q++)
                    tun.flags |= *q == 'O' ? 0x80 : *q == 'C' ? 0x40 : 0;
                f.p = b + 1;
            }
        }
        const char *vn = find(f.p, f.e - f.p > 32 ? f.p + 32 : f.e, "vni 0x");
        if (!vn)
            return false;
        f.p = vn + 6;
        uint32_t vni;
        if (sc_hex(&f, &vni))
            tun.vni = vni;
        const char *hw = f.e - f.p > 64 ? f.p + 64 : f.e;
        int hint = find(f.p, hw, ", proto IPv4 (0x0800)")   ? 4
                   : find(f.p, hw, ", proto IPv6 (0x86dd)") ? 6
                                                            : 0;
        /* ", rsvd 0x..", ", proto .. (0x..)" (-e), ", options [..]" */
        for (int i = 0; i < 4 && sc_lit(&f, ", "); i++) {
            const char *b = find(
                f.p, f.e - f.p > 512 ? f.p + 512 : f.e,
                starts(f.p, f.e, "options [") ? "]" : (starts(f.p, f.e, "proto ") ? ")" : ":"));
            if (!b)
                return false;
            if (starts(f.p, f.e, "options [")) {
                struct sc o = {f.p + 9, b};
                uint64_t ob;
                if (sc_uint(&o, &ob, 4) && ob <= 252)
                    tun.opt_len = (uint8_t)ob;
            }
            f.p = *b == ':' ? b : b + 1;
        }
        inner = tunnel_inner(f.p, s->e, hint, &iv);
    } else {
        return false;
    }
    if (!inner)
        return false;
    if (tun.kind == PKT_TUN_VXLAN || tun.kind == PKT_TUN_VXLAN_GPE || tun.kind == PKT_TUN_GENEVE) {
        pkt->proto = 17;
        pkt->layers |= PKT_L_UDP;
        pkt->sport = src->port;
        pkt->dport = dst->port;
    }
    (void)version;
    struct pkt_outer_save save;
    if (!packet_tunnel_enter(pkt, &tun, &save))
        return false;
    if (have_len)
        pkt->tunnels[pkt->n_tunnels - 1].ip_payload_len = gre_len;
    struct sc in = {inner, s->e};
    text_parse_network(cx, &in, pkt, iv);
    if (!packet_tunnel_leave(pkt, &save))
        return false;
    *s = in;
    return true;
}
