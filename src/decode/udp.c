/* udp.c: UDP (RFC 768) and the DNS (RFC 1035), mDNS and LLMNR messages it carries; tunnels
 * over UDP (VXLAN, VXLAN-GPE, Geneve, GRE in UDP) are handed to tunnel.c. */
#include "decode/decode.h"
#include "decode/ports.h"

/* mDNS and LLMNR use the DNS message format, so they are decoded alike; later stages tell them
 * apart by port. */
#define dns_port nt_port_dns_udp

void decode_udp(struct packet *pkt, struct cursor *c)
{
    const uint8_t *h = cur_take(c, 8);
    if (!h) {
        cur_skip(c, 8);
        packet_add_anomaly(pkt, ANOM_UDP_TRUNCATED);
        return;
    }
    uint16_t sport = nt_be16(h);
    uint16_t dport = nt_be16(h + 2);
    uint16_t ulen = nt_be16(h + 4);
    /* h[6..7] checksum */
    pkt->sport = sport;
    pkt->dport = dport;
    pkt->payload_off = decode_offset(pkt, c);
    pkt->layers |= PKT_L_UDP;

    size_t payload;
    if (ulen < 8) {
        packet_add_anomaly(pkt, ANOM_UDP_BAD_LENGTH);
        return;
    }
    payload = (size_t)ulen - 8;
    if (pkt->ip_payload_len && ulen > pkt->ip_payload_len) {
        /* The IP header is the outer bound: a UDP length past it is a lie, unless the rest of
         * the datagram is in later fragments. */
        if (!pkt->more_fragments)
            packet_add_anomaly(pkt, ANOM_UDP_BAD_LENGTH);
        payload = pkt->ip_payload_len > 8 ? pkt->ip_payload_len - 8 : 0;
    }
    pkt->l4_payload_len = (uint32_t)payload;
    if (!dns_port(sport) && !dns_port(dport)) {
        /* DNS ports win: a client may well send its query from port 4789. */
        struct cursor t = cur_sub(c, payload);
        t.short_read = false;
        decode_udp_tunnel(pkt, &t);
        return;
    }
    /* The first fragment of a datagram holds the DNS header and usually the question, which
     * is worth having; the rest of the message is in later fragments, so running out of bytes
     * there is expected and not recorded as an anomaly. */
    struct cursor m = cur_sub(c, payload);
    struct packet *note = pkt->more_fragments ? NULL : pkt;
    if (dns_parse_message(&m, &pkt->dns, note))
        pkt->layers |= PKT_L_DNS;
    /* The message length is what the header says, even when the capture holds less. */
    pkt->dns.length = (uint32_t)payload;
}
