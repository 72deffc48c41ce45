/* icmp.c: ICMP (RFC 792) and ICMPv6 (RFC 4443) messages and quoted datagrams (RFC 4884). */
#include "decode/decode.h"
#include "decode/ports.h"

#define MAX_EXT_HEADERS 8

static bool v4_error_type(uint8_t t)
{
    return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

static bool v6_error_type(uint8_t t)
{
    return t >= 1 && t <= 4;
}

/* Skips the quoted IPv6 extension headers; returns false when no transport header follows
 * (a non-first fragment, a broken or overlong chain). */
static bool skip_quoted_ext(struct cursor *c, uint8_t *nh)
{
    for (unsigned n = 0; n < MAX_EXT_HEADERS; n++) {
        uint8_t h = *nh;
        if (h != 0 && h != 43 && h != 44 && h != 60 && h != 51)
            return true;
        uint8_t next = cur_u8(c);
        uint8_t len = cur_u8(c);
        if (h == 44) {
            uint16_t off = cur_be16(c);
            cur_skip(c, 4);
            if (c->short_read || (off & 0xfff8) != 0)
                return false;
        } else {
            cur_skip(c, (h == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8) - 2);
        }
        if (c->short_read)
            return false;
        *nh = next;
    }
    return false;
}

/* Reads the DNS header and question quoted after a UDP or TCP header in l4. */
static void quote_dns(struct icmp_quote *q, struct cursor *l4)
{
    if (q->proto == 17) {
        cur_skip(l4, 4); /* length, checksum */
    } else {
        cur_skip(l4, 8); /* sequence and acknowledgment numbers */
        uint8_t off = cur_u8(l4);
        size_t hlen = (size_t)(off >> 4) * 4;
        if (l4->short_read || hlen < 20)
            return;
        cur_skip(l4, hlen - 13);
        cur_skip(l4, 2); /* DNS over TCP length prefix */
    }
    if (l4->short_read)
        return;
    struct cursor m = cur_rest(l4);
    q->has_dns = dns_parse_header_question(&m, &q->dns_id, &q->dns_flags, &q->q, &q->has_question);
    if (q->has_dns)
        q->known |= QUOTE_K_DNS_ID;
    if (q->has_question)
        q->known |= QUOTE_K_QUESTION;
}

/* Decodes the datagram quoted by an ICMP error. c holds the quote, already clamped to the
 * ICMP message and to what was captured; the quoted transport is further clamped to the
 * quoted IP length. Quotes are never decoded recursively. */
static void decode_quote(struct packet *pkt, struct cursor *c)
{
    struct icmp_quote *q = &pkt->quote;
    struct cursor peek = *c;
    uint8_t version = (uint8_t)(cur_u8(&peek) >> 4);
    if (peek.short_read) {
        packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_TRUNCATED);
        return;
    }
    struct cursor l4;
    if (version == 4) {
        uint8_t vihl = cur_u8(c);
        cur_skip(c, 1);
        uint16_t total = cur_be16(c);
        uint16_t id = cur_be16(c);
        uint16_t frag = cur_be16(c);
        cur_skip(c, 1);
        uint8_t proto = cur_u8(c);
        cur_skip(c, 2);
        uint8_t src[4], dst[4];
        cur_bytes(c, src, 4);
        cur_bytes(c, dst, 4);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_TRUNCATED);
            return;
        }
        size_t hlen = (size_t)(vihl & 0x0f) * 4;
        if (hlen < 20) {
            packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_BAD_HEADER);
            return;
        }
        cur_skip(c, hlen - 20);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_TRUNCATED);
            return;
        }
        q->present = true;
        q->known |= QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO;
        q->ip_version = 4;
        nt_addr_set_v4(&q->src, src);
        nt_addr_set_v4(&q->dst, dst);
        q->proto = proto;
        q->ip_id = id;
        q->ip_total_len = total;
        if (total < hlen) {
            packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_BAD_HEADER);
            return;
        }
        l4 = cur_sub(c, total - hlen);
        if ((frag & 0x1fff) != 0)
            return; /* a later fragment: no transport header was quoted */
    } else if (version == 6) {
        cur_skip(c, 4);
        uint16_t plen = cur_be16(c);
        uint8_t nh = cur_u8(c);
        cur_skip(c, 1);
        uint8_t src[16], dst[16];
        cur_bytes(c, src, 16);
        cur_bytes(c, dst, 16);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_TRUNCATED);
            return;
        }
        q->present = true;
        q->known |= QUOTE_K_SRC | QUOTE_K_DST | QUOTE_K_PROTO;
        q->ip_version = 6;
        nt_addr_set_v6(&q->src, src);
        nt_addr_set_v6(&q->dst, dst);
        q->proto = nh;
        q->ip_total_len = 40u + plen;
        l4 = cur_sub(c, plen);
        l4.short_read = false;
        bool more = skip_quoted_ext(&l4, &nh);
        q->proto = nh;
        if (!more)
            return;
    } else {
        packet_add_anomaly(pkt, ANOM_ICMP_QUOTE_BAD_HEADER);
        return;
    }
    l4.short_read = false;

    if (q->proto == 1 || q->proto == 58) {
        uint8_t t = cur_u8(&l4);
        if (!l4.short_read && (q->proto == 1 ? v4_error_type(t) : v6_error_type(t)))
            packet_add_anomaly(pkt, ANOM_ICMP_ERROR_QUOTES_ERROR);
        return;
    }
    if (q->proto != 17 && q->proto != 6)
        return;
    uint16_t sport = cur_be16(&l4);
    uint16_t dport = cur_be16(&l4);
    if (l4.short_read)
        return;
    q->has_ports = true;
    q->known |= QUOTE_K_SPORT | QUOTE_K_DPORT;
    q->sport = sport;
    q->dport = dport;
    if (nt_port_dns_udp(sport) || nt_port_dns_udp(dport))
        quote_dns(q, &l4);
}

/* RFC 4884: a non-zero length field says how much of the rest is the original datagram (the
 * remainder holds extension objects); without it, everything left is the quote. */
static struct cursor quoted_part(struct cursor *c, size_t len)
{
    struct cursor q = len ? cur_sub(c, len) : cur_rest(c);
    q.short_read = false;
    return q;
}

void decode_icmp(struct packet *pkt, struct cursor *c, uint8_t ip_version)
{
    size_t avail = cur_left(c);
    uint8_t type = cur_u8(c);
    uint8_t code = cur_u8(c);
    cur_skip(c, 2); /* checksum */
    uint32_t rest = cur_be32(c);
    if (c->short_read) {
        packet_add_anomaly(pkt, ip_version == 6 ? ANOM_ICMP6_TRUNCATED : ANOM_ICMP_TRUNCATED);
        return;
    }
    pkt->icmp_type = type;
    pkt->icmp_code = code;
    pkt->icmp_rest = rest;
    enum icmp_kind k = icmp_classify(ip_version, type, code);
    pkt->icmp_kind = (uint8_t)k;
    pkt->icmp_is_error = icmp_kind_is_error(k);
    pkt->icmp_len = pkt->ip_payload_len ? pkt->ip_payload_len : (uint32_t)avail;
    pkt->layers |= PKT_L_ICMP;

    if (ip_version == 6) {
        if (type == 2)
            pkt->icmp_mtu = rest;
        if (type == 135 || type == 136 || type == 137) {
            uint8_t a[16];
            cur_bytes(c, a, 16);
            if (c->short_read)
                packet_add_anomaly(pkt, ANOM_ICMP6_TRUNCATED);
            else
                nt_addr_set_v6(&pkt->icmp_addr, a);
        }
        if (v6_error_type(type)) {
            struct cursor quote = quoted_part(c, type == 1 || type == 3 ? (rest >> 24) * 8 : 0);
            decode_quote(pkt, &quote);
        }
        return;
    }
    if (type == 3 && code == 4)
        pkt->icmp_mtu = rest & 0xffff;
    if (type == 5) {
        uint8_t gw[4] = {(uint8_t)(rest >> 24), (uint8_t)(rest >> 16), (uint8_t)(rest >> 8),
                         (uint8_t)rest};
        nt_addr_set_v4(&pkt->icmp_addr, gw);
    }
    if (v4_error_type(type)) {
        size_t words = type == 3 || type == 11 || type == 12 ? (rest >> 16 & 0xff) * 4 : 0;
        struct cursor quote = quoted_part(c, words);
        decode_quote(pkt, &quote);
    }
}
