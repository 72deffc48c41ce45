/* tunnel.c: encapsulations whose payload is another packet: GRE (RFC 2784, keys and sequence
 * numbers RFC 2890, RFC 1701 routing, PPTP's version 1 RFC 2637), GRE in UDP (RFC 8086), IP in
 * IP (RFC 2003, RFC 2473), VXLAN (RFC 7348), VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12), Geneve
 * (RFC 8926) and GTP-U (3GPP TS 29.281).
 *
 * The decoded packet then describes the innermost packet (that is what DNS and ICMP analysis
 * is about); each removed layer is listed in pkt->tunnels. Nesting is bounded by
 * PKT_MAX_TUNNELS (packet_tunnel_enter), which also bounds the recursion. */
#include "decode/decode.h"

#define GRE_C   0x8000 /* checksum present */
#define GRE_R   0x4000 /* routing present (RFC 1701) */
#define GRE_K   0x2000 /* key present */
#define GRE_S   0x1000 /* sequence number present */
#define GRE_A   0x0080 /* acknowledgment present (version 1) */
#define GRE_VER 0x0007

#define GRE_IPV4 0x0800
#define GRE_IPV6 0x86dd
#define GRE_TEB  0x6558 /* transparent Ethernet bridging */
#define GRE_PPP  0x880b

#define PORT_GRE_UDP   4754
#define PORT_VXLAN     4789
#define PORT_VXLAN_GPE 4790
#define PORT_GENEVE    6081
#define PORT_GTPU      2152

#define GTP_G_PDU 0xff /* message type of a user data packet */

/* RFC 1701 source route entries end with a null entry; a longer list is garbage. */
#define MAX_GRE_SRE 16

enum inner { IN_NONE, IN_IPV4, IN_IPV6, IN_ETHER, IN_PPP };

/* Decodes the inner packet in c as kind, inside the tunnel t. */
static void decap(struct packet *pkt, struct cursor *c, const struct pkt_tunnel *t, enum inner kind)
{
    if (kind == IN_NONE)
        return;
    if (pkt->fragment && pkt->more_fragments) {
        /* The first fragment of a tunnelled datagram holds only part of the inner packet. */
        return;
    }
    struct pkt_outer_save save;
    if (!packet_tunnel_enter(pkt, t, &save))
        return;
    pkt->tunnels[pkt->n_tunnels - 1].inner_len = (uint32_t)cur_left(c);
    struct cursor in = cur_rest(c);
    in.short_read = false;
    switch (kind) {
    case IN_IPV4:
        decode_ipv4(pkt, &in);
        break;
    case IN_IPV6:
        decode_ipv6(pkt, &in);
        break;
    case IN_ETHER:
        decode_inner_ethernet(pkt, &in);
        break;
    case IN_PPP:
        decode_ppp(pkt, &in);
        break;
    default:
        break;
    }
    packet_tunnel_leave(pkt, &save);
}

static enum inner by_ethertype(uint16_t proto)
{
    switch (proto) {
    case GRE_IPV4:
        return IN_IPV4;
    case GRE_IPV6:
        return IN_IPV6;
    case GRE_TEB:
        return IN_ETHER;
    default:
        /* ERSPAN, NHRP, WCCP, MPLS, keepalives, ...: not followed, and not an anomaly */
        return IN_NONE;
    }
}

/* Reads a GRE header into t; returns what follows it, leaving c at the payload. */
static enum inner gre_header(struct packet *pkt, struct cursor *c, struct pkt_tunnel *t)
{
    uint16_t fv = cur_be16(c);
    uint16_t proto = cur_be16(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_GRE_TRUNCATED);
        return IN_NONE;
    }
    t->flags = fv;
    t->proto = proto;
    unsigned ver = fv & GRE_VER;
    if (ver == 0) {
        if (fv & (GRE_C | GRE_R))
            cur_skip(c, 4); /* checksum, offset */
        if (fv & GRE_K) {
            t->has_key = true;
            t->key = cur_be32(c);
        }
        if (fv & GRE_S) {
            t->has_seq = true;
            t->seq = cur_be32(c);
        }
        if (fv & GRE_R) {
            unsigned n = 0;
            for (;; n++) {
                if (n >= MAX_GRE_SRE) {
                    packet_add_anomaly(pkt, ANOM_GRE_BAD_ROUTING);
                    return IN_NONE;
                }
                uint16_t af = cur_be16(c);
                cur_skip(c, 1); /* SRE offset */
                uint8_t len = cur_u8(c);
                if (c->short_read || (af == 0 && len == 0))
                    break;
                cur_skip(c, len);
            }
        }
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_GRE_TRUNCATED);
            return IN_NONE;
        }
        return by_ethertype(proto);
    }
    if (ver == 1) {
        /* PPTP (RFC 2637 4.1): key (payload length, call id) always, sequence number when
         * the packet carries data, acknowledgment optionally; the payload is PPP. */
        if (!(fv & GRE_K) || proto != GRE_PPP || (fv & (GRE_C | GRE_R))) {
            packet_add_anomaly(pkt, ANOM_GRE_BAD_PPTP_HEADER);
            return IN_NONE;
        }
        t->has_key = true;
        t->key = cur_be32(c);
        if (fv & GRE_S) {
            t->has_seq = true;
            t->seq = cur_be32(c);
        }
        if (fv & GRE_A) {
            t->has_ack = true;
            t->ack = cur_be32(c);
        }
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_GRE_TRUNCATED);
            return IN_NONE;
        }
        return cur_left(c) > 0 ? IN_PPP : IN_NONE;
    }
    packet_add_anomaly(pkt, ANOM_GRE_BAD_VERSION);
    return IN_NONE;
}

bool decode_ip_tunnel(struct packet *pkt, struct cursor *c, uint8_t proto)
{
    struct pkt_tunnel t = {0};
    switch (proto) {
    case 4:
    case 41:
        t.kind = PKT_TUN_IPIP;
        decap(pkt, c, &t, proto == 4 ? IN_IPV4 : IN_IPV6);
        return true;
    case 47: {
        t.kind = PKT_TUN_GRE;
        enum inner in = gre_header(pkt, c, &t);
        decap(pkt, c, &t, in);
        return true;
    }
    default:
        return false;
    }
}

static enum inner vxlan_header(struct packet *pkt, struct cursor *c, struct pkt_tunnel *t)
{
    uint8_t flags = cur_u8(c);
    cur_skip(c, 3);
    uint32_t vni = cur_be32(c) >> 8;
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_VXLAN_TRUNCATED);
        return IN_NONE;
    }
    t->flags = flags;
    t->vni = vni;
    return IN_ETHER;
}

/* VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 section 3.2): flags (version, I, P, B, O), two
 * reserved bytes, the next protocol (1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH), the VNI and a
 * reserved byte. tcpdump decodes the next protocol whether or not the P flag is set, and so
 * does this; NSH and unknown protocols are not followed. */
static enum inner vxlan_gpe_header(struct packet *pkt, struct cursor *c, struct pkt_tunnel *t)
{
    uint8_t flags = cur_u8(c);
    cur_skip(c, 2);
    uint8_t next = cur_u8(c);
    uint32_t vni = cur_be32(c) >> 8;
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_VXLAN_TRUNCATED);
        return IN_NONE;
    }
    t->flags = flags;
    t->proto = next;
    t->vni = vni;
    return next == 1 ? IN_IPV4 : next == 2 ? IN_IPV6 : next == 3 ? IN_ETHER : IN_NONE;
}

static enum inner geneve_header(struct packet *pkt, struct cursor *c, struct pkt_tunnel *t)
{
    uint8_t b0 = cur_u8(c);
    uint8_t b1 = cur_u8(c);
    uint16_t proto = cur_be16(c);
    uint32_t vni = cur_be32(c) >> 8;
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_GENEVE_TRUNCATED);
        return IN_NONE;
    }
    if (b0 >> 6 != 0) {
        packet_add_anomaly(pkt, ANOM_GENEVE_BAD_VERSION);
        return IN_NONE;
    }
    t->flags = b1;
    t->proto = proto;
    t->vni = vni;
    t->opt_len = (uint8_t)((b0 & 0x3f) * 4);
    cur_skip(c, t->opt_len);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_GENEVE_TRUNCATED);
        return IN_NONE;
    }
    return by_ethertype(proto);
}

/* GTP-U (3GPP TS 29.281 5.1): version 1, protocol type 1, flags E (extension header), S
 * (sequence number), PN (N-PDU number); a G-PDU carries an IP packet. Returns false when the
 * bytes are not a GTP-U header at all (the datagram is then plain UDP: a DNS query sent from
 * port 2152 is not GTP); anything else than a G-PDU (echo, error indication, end marker) is
 * GTP without a packet to follow. */
static bool gtpu_header(struct packet *pkt, struct cursor *c, struct pkt_tunnel *t, enum inner *in)
{
    *in = IN_NONE;
    struct cursor p = *c;
    uint8_t flags = cur_u8(&p);
    uint8_t type = cur_u8(&p);
    uint16_t len = cur_be16(&p);
    uint32_t teid = cur_be32(&p);
    if (p.short_read || flags >> 5 != 1 || !(flags & 0x10) || (size_t)len > cur_left(&p) + 4096)
        return false;
    t->flags = flags;
    t->proto = type;
    t->vni = teid;
    *c = p;
    if (type != GTP_G_PDU)
        return true;
    if (flags & 0x07) {
        cur_skip(c, 3); /* sequence number, N-PDU number */
        uint8_t next = cur_u8(c);
        /* Extension headers: a length in 4-byte units (the next-type byte included). */
        for (unsigned n = 0; next && n < 16; n++) {
            uint8_t units = cur_u8(c);
            if (c->short_read || units == 0) {
                packet_add_anomaly(pkt, ANOM_GTPU_TRUNCATED);
                return true;
            }
            cur_skip(c, (size_t)units * 4 - 2);
            next = cur_u8(c);
        }
    }
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_GTPU_TRUNCATED);
        return true;
    }
    struct cursor peek = *c;
    uint8_t v = cur_u8(&peek) >> 4;
    if (!peek.short_read)
        *in = v == 4 ? IN_IPV4 : v == 6 ? IN_IPV6 : IN_NONE;
    return true;
}

bool decode_udp_tunnel(struct packet *pkt, struct cursor *c)
{
    struct pkt_tunnel t = {0};
    enum inner in;
    uint16_t sp = pkt->sport, dp = pkt->dport;
    if (dp == PORT_VXLAN || (sp == PORT_VXLAN && dp != PORT_GENEVE && dp != PORT_GRE_UDP)) {
        t.kind = PKT_TUN_VXLAN;
        in = vxlan_header(pkt, c, &t);
    } else if (dp == PORT_VXLAN_GPE ||
               (sp == PORT_VXLAN_GPE && dp != PORT_GENEVE && dp != PORT_GRE_UDP)) {
        t.kind = PKT_TUN_VXLAN_GPE;
        in = vxlan_gpe_header(pkt, c, &t);
    } else if (dp == PORT_GENEVE || (sp == PORT_GENEVE && dp != PORT_GRE_UDP)) {
        t.kind = PKT_TUN_GENEVE;
        in = geneve_header(pkt, c, &t);
    } else if (dp == PORT_GRE_UDP || sp == PORT_GRE_UDP) {
        t.kind = PKT_TUN_GRE_UDP;
        in = gre_header(pkt, c, &t);
        if (in == IN_PPP)
            in = IN_NONE; /* RFC 8086 carries GRE version 0 only */
    } else if (dp == PORT_GTPU || (sp == PORT_GTPU && dp > 1023)) {
        t.kind = PKT_TUN_GTPU;
        if (!gtpu_header(pkt, c, &t, &in))
            return false;
    } else {
        return false;
    }
    decap(pkt, c, &t, in);
    return true;
}
