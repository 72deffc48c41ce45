/* ipv4.c: the IPv4 header (RFC 791): addresses, options, fragments, then the transport. */
#include "decode/decode.h"

void decode_ipv4(struct packet *pkt, struct cursor *c)
{
    size_t start_left = cur_left(c);
    uint32_t at = decode_offset(pkt, c);
    const uint8_t *h = cur_take(c, 20);
    if (!h) {
        cur_skip(c, 20);
        packet_add_anomaly(pkt, ANOM_IPV4_TRUNCATED);
        return;
    }
    uint8_t vihl = h[0];
    /* h[1] DSCP/ECN */
    uint16_t total = nt_be16(h + 2);
    uint16_t id = nt_be16(h + 4);
    uint16_t frag = nt_be16(h + 6);
    uint8_t ttl = h[8];
    uint8_t proto = h[9];
    /* h[10..11] checksum: offload makes it unreliable in captures, so it is not checked */
    const uint8_t *src = h + 12, *dst = h + 16;
    if (vihl >> 4 != 4) {
        packet_add_anomaly(pkt, ANOM_IPV4_BAD_VERSION);
        return;
    }
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if (hlen < 20) {
        packet_add_anomaly(pkt, ANOM_IPV4_BAD_HEADER_LENGTH);
        return;
    }
    pkt->ip_version = 4;
    pkt->net_off = at;
    nt_addr_set_v4(&pkt->src, src);
    nt_addr_set_v4(&pkt->dst, dst);
    pkt->ttl = ttl;
    pkt->proto = proto;
    pkt->ip_len = total;
    pkt->ip_id = id;
    pkt->frag_id = id;
    if (hlen > 20) {
        /* Options are noted, not interpreted: none of them changes what follows. */
        pkt->ip_options = true;
        cur_skip(c, hlen - 20);
        if (c->short_read) {
            packet_add_anomaly(pkt, ANOM_IPV4_TRUNCATED);
            return;
        }
    }
    pkt->layers |= PKT_L_IP;

    pkt->more_fragments = (frag & 0x2000) != 0;
    pkt->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
    pkt->fragment = pkt->more_fragments || pkt->frag_offset != 0;

    /* The total length bounds the payload: Ethernet pads short frames, and the padding must
     * not be read as transport data. */
    size_t payload;
    if (total < hlen) {
        /* Seen with TSO on the capturing host (total length 0): read what was captured. */
        packet_add_anomaly(pkt, ANOM_IPV4_BAD_TOTAL_LENGTH);
        payload = cur_left(c);
    } else {
        payload = total - hlen;
        if (total > start_left) {
            /* A capture cut by its snap length is normal; a frame shorter on the wire than
             * its IP header says is not. */
            if (total <= start_left + decode_uncaptured(pkt))
                packet_add_anomaly(pkt, ANOM_IPV4_TRUNCATED);
            else
                packet_add_anomaly(pkt, ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE);
        }
    }
    pkt->ip_payload_len = (uint32_t)payload;
    struct cursor body = cur_sub(c, payload);
    body.short_read = false;
    if (pkt->frag_offset != 0)
        return; /* only the first fragment carries the transport header */
    decode_transport(pkt, &body, 4);
}
