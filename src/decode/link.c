/* link.c: Ethernet/802.1Q, Linux cooked, raw IP, loopback and PPP link layers (RFC 1661/1662,
 * PPPoE RFC 2516, Cisco HDLC), MPLS label stacks (RFC 3032); ARP (RFC 826). */
#include "decode/decode.h"

/* Ethernet types we follow. */
#define ETH_IPV4     0x0800
#define ETH_ARP      0x0806
#define ETH_IPV6     0x86dd
#define ETH_VLAN     0x8100
#define ETH_QINQ     0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_PPPOE_S  0x8864 /* PPPoE session stage */
#define ETH_MPLS     0x8847
#define ETH_MPLS_MC  0x8848

/* PPP protocol numbers we follow. */
#define PPP_IPV4    0x0021
#define PPP_IPV6    0x0057
#define PPP_MPLS    0x0281
#define PPP_MPLS_MC 0x0283

/* MPLS stacks deeper than this are not seen in real networks. */
#define MAX_MPLS_LABELS 8

/* A stack deeper than this is not seen in real networks and only costs time. */
#define MAX_VLAN_TAGS 8

bool decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case NT_DLT_NULL:
    case NT_DLT_EN10MB:
    case NT_DLT_RAW:
    case NT_DLT_RAW_ALT:
    case NT_LINKTYPE_RAW:
    case NT_DLT_LOOP:
    case NT_DLT_LINUX_SLL:
    case NT_DLT_LINUX_SLL2:
    case NT_DLT_IPV4:
    case NT_DLT_IPV6:
    case NT_DLT_PPP:
    case NT_DLT_PPP_SERIAL:
    case NT_DLT_PPP_ETHER:
        return true;
    default:
        return false;
    }
}

const char *decode_linktype_name(int linktype)
{
    switch (linktype) {
    case NT_DLT_NULL:
        return "BSD loopback";
    case NT_DLT_EN10MB:
        return "Ethernet";
    case NT_DLT_RAW:
    case NT_DLT_RAW_ALT:
    case NT_LINKTYPE_RAW:
        return "Raw IP";
    case NT_DLT_LOOP:
        return "OpenBSD loopback";
    case NT_DLT_LINUX_SLL:
        return "Linux cooked v1";
    case NT_DLT_LINUX_SLL2:
        return "Linux cooked v2";
    case NT_DLT_IPV4:
        return "Raw IPv4";
    case NT_DLT_IPV6:
        return "Raw IPv6";
    /* libpcap's descriptions (pcap_datalink_val_to_description) */
    case NT_DLT_PPP:
        return "PPP";
    case NT_DLT_PPP_SERIAL:
        return "PPP over serial";
    case NT_DLT_PPP_ETHER:
        return "PPPoE";
    default:
        return "unsupported";
    }
}

static void decode_arp(struct packet *pkt, struct cursor *c)
{
    uint16_t htype = cur_be16(c);
    uint16_t ptype = cur_be16(c);
    uint8_t hlen = cur_u8(c);
    uint8_t plen = cur_u8(c);
    uint16_t op = cur_be16(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_ARP_TRUNCATED);
        return;
    }
    /* Only Ethernet/IPv4 ARP carries addresses we can name; others are kept as "ARP". */
    pkt->arp_op = op;
    if (htype != 1 || ptype != ETH_IPV4 || hlen != 6 || plen != 4) {
        pkt->layers |= PKT_L_ARP;
        return;
    }
    uint8_t spa[4], tpa[4];
    cur_bytes(c, pkt->arp_sha, 6);
    cur_bytes(c, spa, 4);
    cur_bytes(c, pkt->arp_tha, 6);
    cur_bytes(c, tpa, 4);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_ARP_TRUNCATED);
        return;
    }
    nt_addr_set_v4(&pkt->src, spa);
    nt_addr_set_v4(&pkt->dst, tpa);
    pkt->layers |= PKT_L_ARP;
}

static void decode_ip_by_version(struct packet *pkt, struct cursor *c)
{
    struct cursor peek = *c;
    uint8_t v = (uint8_t)(cur_u8(&peek) >> 4);
    if (peek.short_read) {
        packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
        return;
    }
    if (v == 4)
        decode_ipv4(pkt, c);
    else if (v == 6)
        decode_ipv6(pkt, c);
    else
        packet_add_anomaly(pkt, ANOM_LINK_UNKNOWN_IP_VERSION);
}

static void decode_ethertype(struct packet *pkt, struct cursor *c, uint16_t type, bool outer);

/* An MPLS label stack: the payload after the bottom label is IP when its version nibble says
 * so (pseudowires carrying Ethernet are not followed). */
static void decode_mpls(struct packet *pkt, struct cursor *c)
{
    for (unsigned n = 0;; n++) {
        if (n >= MAX_MPLS_LABELS) {
            packet_add_anomaly(pkt, ANOM_MPLS_TOO_MANY_LABELS);
            return;
        }
        uint32_t e = cur_be32(c);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_MPLS_TRUNCATED);
            return;
        }
        if (e & 0x100)
            break;
    }
    struct cursor peek = *c;
    uint8_t v = (uint8_t)(cur_u8(&peek) >> 4);
    if (peek.short_read)
        return;
    if (v == 4)
        decode_ipv4(pkt, c);
    else if (v == 6)
        decode_ipv6(pkt, c);
}

/* Reads a PPP header: the optional HDLC address and control bytes (0xff 0x03) and the
 * protocol field, one byte when compressed (RFC 1661 6.5: an odd first byte). */
static bool ppp_header(struct packet *pkt, struct cursor *c, uint16_t *proto)
{
    struct cursor peek = *c;
    if (cur_u8(&peek) == 0xff && cur_u8(&peek) == 0x03 && !peek.short_read)
        cur_skip(c, 2);
    uint8_t b = cur_u8(c);
    uint16_t p = b;
    if (!(b & 1))
        p = (uint16_t)(b << 8 | cur_u8(c));
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_PPP_TRUNCATED);
        return false;
    }
    *proto = p;
    pkt->ppp_proto = p;
    return true;
}

static void ppp_payload(struct packet *pkt, struct cursor *c, uint16_t proto)
{
    switch (proto) {
    case PPP_IPV4:
        decode_ipv4(pkt, c);
        break;
    case PPP_IPV6:
        decode_ipv6(pkt, c);
        break;
    case PPP_MPLS:
    case PPP_MPLS_MC:
        decode_mpls(pkt, c);
        break;
    default:
        /* LCP, IPCP, CHAP, compressed data, ...: control traffic, not ours (the protocol is
         * kept in ppp_proto for whoever counts them). */
        break;
    }
}

void decode_ppp(struct packet *pkt, struct cursor *c)
{
    uint16_t proto;
    if (ppp_header(pkt, c, &proto))
        ppp_payload(pkt, c, proto);
}

/* A PPPoE session header (RFC 2516 section 4: version/type 0x11, code 0, session id,
 * length), then PPP without address and control bytes. Returns the header bytes read. */
static size_t decode_pppoe(struct packet *pkt, struct cursor *c)
{
    uint8_t vt = cur_u8(c);
    uint8_t code = cur_u8(c);
    cur_skip(c, 2); /* session id */
    uint16_t len = cur_be16(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_PPPOE_TRUNCATED);
        return 0;
    }
    if (vt != 0x11 || code != 0) {
        packet_add_anomaly(pkt, ANOM_PPPOE_BAD_HEADER);
        return 6;
    }
    struct cursor body = cur_sub(c, len);
    body.short_read = false;
    decode_ppp(pkt, &body);
    return 6;
}

void decode_inner_ethernet(struct packet *pkt, struct cursor *c)
{
    cur_skip(c, 12);
    uint16_t type = cur_be16(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_TUNNEL_TRUNCATED);
        return;
    }
    decode_ethertype(pkt, c, type, false);
}

/* Follows VLAN tags from the given Ethernet type, then hands the payload to its decoder. The
 * outer frame's tags and header length are recorded; an inner (tunnelled) frame's are not. */
static void decode_ethertype(struct packet *pkt, struct cursor *c, uint16_t type, bool outer)
{
    unsigned tags = 0;
    while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
        if (++tags > MAX_VLAN_TAGS) {
            packet_add_anomaly(pkt, ANOM_LINK_TOO_MANY_VLAN_TAGS);
            return;
        }
        uint16_t tci = cur_be16(c);
        type = cur_be16(c);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
            return;
        }
        if (!outer)
            continue;
        if (pkt->n_vlan < 2)
            pkt->vlan[pkt->n_vlan++] = tci & 0x0fff;
        pkt->l2_len = (uint16_t)(pkt->l2_len + 4);
    }
    switch (type) {
    case ETH_IPV4:
        decode_ipv4(pkt, c);
        break;
    case ETH_IPV6:
        decode_ipv6(pkt, c);
        break;
    case ETH_ARP:
        decode_arp(pkt, c);
        break;
    case ETH_PPPOE_S: {
        size_t n = decode_pppoe(pkt, c);
        if (outer)
            pkt->l2_len = (uint16_t)(pkt->l2_len + n + 2);
        break;
    }
    case ETH_MPLS:
    case ETH_MPLS_MC:
        decode_mpls(pkt, c);
        break;
    default:
        /* Other protocols (LLDP, STP, IPX, ...) are simply not ours: not an anomaly. */
        break;
    }
}

static void decode_null(struct packet *pkt, struct cursor *c, bool network_order)
{
    uint32_t fam = network_order ? cur_be32(c) : cur_le32(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
        return;
    }
    /* DLT_NULL's family is in the capturing host's byte order, which the file does not say;
     * families are small numbers, so a value with only high bits set was byte-swapped. */
    if (!network_order && (fam & 0xffff) == 0)
        fam = (fam >> 24) | ((fam >> 8) & 0xff00);
    pkt->l2_len = 4;
    switch (fam) {
    case 2:
        decode_ipv4(pkt, c);
        break;
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD */
    case 30: /* macOS */
        decode_ipv6(pkt, c);
        break;
    default:
        packet_add_anomaly(pkt, ANOM_LINK_UNKNOWN_FAMILY);
        break;
    }
}

void decode_packet(struct packet *pkt, int linktype, const uint8_t *data, size_t caplen)
{
    struct cursor c = cur_make(data, data ? caplen : 0);
    pkt->linktype = linktype;
    pkt->data = data;
    pkt->data_len = data ? (uint32_t)caplen : 0;
    switch (linktype) {
    case NT_DLT_EN10MB: {
        cur_skip(&c, 12);
        uint16_t type = cur_be16(&c);
        if (c.short_read) {
            packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
            return;
        }
        pkt->l2_len = 14;
        decode_ethertype(pkt, &c, type, true);
        break;
    }
    case NT_DLT_LINUX_SLL: {
        /* packet type, ARPHRD type, address length, 8 address bytes, protocol */
        cur_skip(&c, 14);
        uint16_t proto = cur_be16(&c);
        if (c.short_read) {
            packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
            return;
        }
        pkt->l2_len = 16;
        decode_ethertype(pkt, &c, proto, true);
        break;
    }
    case NT_DLT_LINUX_SLL2: {
        /* protocol, reserved, interface index, ARPHRD type, packet type, address length, 8
         * address bytes */
        uint16_t proto = cur_be16(&c);
        cur_skip(&c, 18);
        if (c.short_read) {
            packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
            return;
        }
        pkt->l2_len = 20;
        decode_ethertype(pkt, &c, proto, true);
        break;
    }
    case NT_DLT_PPP:
    case NT_DLT_PPP_SERIAL: {
        /* PPP in HDLC framing, or (on serial links) Cisco HDLC: address 0x0f or 0x8f, control
         * 0, an Ethernet type. */
        struct cursor peek = c;
        uint8_t a = cur_u8(&peek);
        if (linktype == NT_DLT_PPP_SERIAL && (a == 0x0f || a == 0x8f)) {
            cur_skip(&c, 2);
            uint16_t type = cur_be16(&c);
            if (c.short_read) {
                packet_add_anomaly(pkt, ANOM_LINK_TRUNCATED);
                return;
            }
            pkt->l2_len = 4;
            decode_ethertype(pkt, &c, type, true);
            break;
        }
        uint16_t proto;
        if (!ppp_header(pkt, &c, &proto))
            return;
        pkt->l2_len = (uint16_t)c.off;
        ppp_payload(pkt, &c, proto);
        break;
    }
    case NT_DLT_PPP_ETHER:
        pkt->l2_len = 8;
        decode_pppoe(pkt, &c);
        break;
    case NT_DLT_NULL:
        decode_null(pkt, &c, false);
        break;
    case NT_DLT_LOOP:
        decode_null(pkt, &c, true);
        break;
    case NT_DLT_RAW:
    case NT_DLT_RAW_ALT:
    case NT_LINKTYPE_RAW:
    case NT_DLT_IPV4:
    case NT_DLT_IPV6:
        /* tcpdump trusts the version nibble even on the IPv4/IPv6-only link types, and so do
         * we: a mislabelled capture still decodes. */
        if (linktype == NT_DLT_IPV4 || linktype == NT_DLT_IPV6) {
            struct cursor peek = c;
            unsigned v = cur_u8(&peek) >> 4;
            if (!peek.short_read && v != (linktype == NT_DLT_IPV4 ? 4u : 6u))
                packet_add_anomaly(pkt, ANOM_LINK_IP_VERSION_MISMATCH);
        }
        decode_ip_by_version(pkt, &c);
        break;
    default:
        packet_add_anomaly(pkt, ANOM_LINK_UNSUPPORTED);
        break;
    }
}

void decode_transport(struct packet *pkt, struct cursor *c, uint8_t ip_version)
{
    pkt->l4_off = decode_offset(pkt, c);
    switch (pkt->proto) {
    case 17:
        decode_udp(pkt, c);
        break;
    case 6:
        decode_tcp(pkt, c);
        break;
    case 1:
        if (ip_version == 4)
            decode_icmp(pkt, c, 4);
        break;
    case 58:
        if (ip_version == 6)
            decode_icmp(pkt, c, 6);
        break;
    case 4:
    case 41:
    case 47:
        decode_ip_tunnel(pkt, c, pkt->proto);
        break;
    default:
        break;
    }
}

size_t decode_uncaptured(const struct packet *pkt)
{
    return pkt->wirelen > pkt->caplen ? pkt->wirelen - pkt->caplen : 0;
}
