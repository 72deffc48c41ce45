/* tcp.c: TCP headers (RFC 9293) and DNS over TCP (RFC 7766) in a single segment. */
#include "decode/decode.h"
#include "decode/ports.h"

void decode_tcp(struct packet *pkt, struct cursor *c)
{
    uint16_t sport = cur_be16(c);
    uint16_t dport = cur_be16(c);
    uint32_t seq = cur_be32(c);
    uint32_t ack = cur_be32(c);
    uint8_t off = cur_u8(c);
    uint8_t flags = cur_u8(c);
    uint16_t win = cur_be16(c);
    cur_skip(c, 4); /* checksum, urgent pointer */
    if (c->short_read) {
        packet_add_anomaly(pkt, ANOM_TCP_TRUNCATED);
        return;
    }
    size_t hlen = (size_t)(off >> 4) * 4;
    if (hlen < 20) {
        packet_add_anomaly(pkt, ANOM_TCP_BAD_DATA_OFFSET);
        return;
    }
    pkt->sport = sport;
    pkt->dport = dport;
    pkt->tcp_seq = seq;
    pkt->tcp_ack = ack;
    pkt->tcp_flags = flags;
    pkt->tcp_win = win;
    size_t optlen = hlen - 20;
    if (!cur_has(c, optlen)) {
        packet_add_anomaly(pkt, ANOM_TCP_TRUNCATED);
        return;
    }
    cur_bytes(c, pkt->tcp_opts, optlen);
    pkt->tcp_opts_len = (uint8_t)optlen;
    pkt->payload_off = decode_offset(pkt, c);
    pkt->layers |= PKT_L_TCP;

    if (pkt->ip_payload_len >= hlen) {
        pkt->l4_payload_len = (uint32_t)(pkt->ip_payload_len - hlen);
    } else {
        if (pkt->ip_payload_len)
            packet_add_anomaly(pkt, ANOM_TCP_BAD_DATA_OFFSET);
        pkt->l4_payload_len = (uint32_t)cur_left(c);
    }

    if (!nt_port_dns_tcp(sport) && !nt_port_dns_tcp(dport))
        return;
    /* DNS over TCP: a 2-byte length, then the message. This pure stage reads a message that
     * one segment holds whole; messages split over segments (or several in one) are put
     * together by the stream reassembler in src/flow/tcpdns.c, which keeps per-flow state. */
    struct cursor seg = cur_sub(c, pkt->l4_payload_len);
    uint16_t mlen = cur_be16(&seg);
    if (seg.short_read || mlen < 12 || !cur_has(&seg, mlen))
        return;
    struct cursor m = cur_sub(&seg, mlen);
    if (dns_parse_message(&m, &pkt->dns, pkt))
        pkt->layers |= PKT_L_DNS;
}
