/* ipv6.c: the IPv6 header and its extension header chain (RFC 8200, AH: RFC 4302). */
#include "decode/decode.h"

/* Real packets carry one or two extension headers; a longer chain is an evasion attempt or
 * garbage, and bounding it bounds the work. */
#define MAX_EXT_HEADERS 8

/* Walks the extension headers in c, leaving c at the transport header. Returns false when the
 * transport header must not be decoded (non-first fragment, broken chain). */
static bool walk_ext_headers(struct packet *pkt, struct cursor *c, uint8_t *nh)
{
    for (unsigned n = 0;; n++) {
        uint8_t h = *nh;
        if (h != 0 && h != 43 && h != 44 && h != 60 && h != 51)
            return true;
        if (n >= MAX_EXT_HEADERS) {
            packet_add_anomaly(pkt, ANOM_IPV6_TOO_MANY_EXT_HEADERS);
            return false;
        }
        if (h == 0 && n != 0)
            packet_add_anomaly(pkt, ANOM_IPV6_HOP_BY_HOP_NOT_FIRST);
        if (pkt->n_ip6_ext < sizeof pkt->ip6_ext)
            pkt->ip6_ext[pkt->n_ip6_ext++] = h;
        uint8_t next = cur_u8(c);
        uint8_t len = cur_u8(c);
        if (h == 44) {
            uint16_t off = cur_be16(c);
            uint32_t id = cur_be32(c);
            if (c->short_read) {
                packet_add_anomaly(pkt, ANOM_IPV6_EXT_HEADER_TRUNCATED);
                return false;
            }
            pkt->fragment = true;
            pkt->frag_offset = (uint16_t)(off & 0xfff8);
            pkt->more_fragments = (off & 1) != 0;
            pkt->frag_id = id;
            *nh = next;
            if (pkt->frag_offset != 0)
                return false;
            continue;
        }
        size_t total = h == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
        cur_skip(c, total - 2);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_IPV6_EXT_HEADER_TRUNCATED);
            return false;
        }
        *nh = next;
    }
}

void decode_ipv6(struct packet *pkt, struct cursor *c)
{
    size_t start_left = cur_left(c);
    uint32_t at = decode_offset(pkt, c);
    const uint8_t *h = cur_take(c, 40);
    if (!h) {
        cur_skip(c, 40);
        packet_add_anomaly(pkt, ANOM_IPV6_TRUNCATED);
        return;
    }
    uint32_t vtcfl = nt_be32(h);
    uint16_t plen = nt_be16(h + 4);
    uint8_t nh = h[6];
    uint8_t hlim = h[7];
    const uint8_t *src = h + 8, *dst = h + 24;
    if (vtcfl >> 28 != 6) {
        packet_add_anomaly(pkt, ANOM_IPV6_BAD_VERSION);
        return;
    }
    pkt->ip_version = 6;
    pkt->net_off = at;
    nt_addr_set_v6(&pkt->src, src);
    nt_addr_set_v6(&pkt->dst, dst);
    pkt->ttl = hlim;
    pkt->ip_len = 40u + plen;
    pkt->proto = nh;
    pkt->layers |= PKT_L_IP;

    size_t payload = plen;
    if (plen == 0 && nh == 0) {
        /* A jumbogram (RFC 2675) keeps its length in a hop-by-hop option: use the capture. */
        payload = cur_left(c);
    } else if ((size_t)plen + 40 > start_left) {
        if ((size_t)plen + 40 <= start_left + decode_uncaptured(pkt))
            packet_add_anomaly(pkt, ANOM_IPV6_TRUNCATED);
        else
            packet_add_anomaly(pkt, ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE);
    }
    struct cursor body = cur_sub(c, payload);
    body.short_read = false;
    bool go_on = walk_ext_headers(pkt, &body, &nh);
    pkt->proto = nh;
    pkt->ip_payload_len = payload >= body.off ? (uint32_t)(payload - body.off) : 0;
    if (!go_on)
        return;
    decode_transport(pkt, &body, 6);
}
