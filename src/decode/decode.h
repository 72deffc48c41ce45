/* decode.h: bytes of one captured frame in, a struct packet view out. Pure: no allocation, no
 * printing, no I/O. Malformed input is recorded as named anomalies, never as an error. */
#ifndef NT_DECODE_DECODE_H
#define NT_DECODE_DECODE_H

#include "decode/cursor.h"
#include "decode/packet.h"

/* Link types we read, by their DLT numbers (so that no stage but source includes pcap.h). */
#define NT_DLT_NULL       0  /* BSD loopback, host byte order family */
#define NT_DLT_EN10MB     1  /* Ethernet */
#define NT_DLT_RAW        12 /* raw IP on OpenBSD; also 14 on some systems */
#define NT_DLT_RAW_ALT    14
#define NT_DLT_LOOP       108 /* OpenBSD loopback, network byte order family */
#define NT_DLT_LINUX_SLL  113 /* Linux cooked v1 */
#define NT_DLT_LINUX_SLL2 276 /* Linux cooked v2 */
#define NT_DLT_IPV4       228
#define NT_DLT_IPV6       229
#define NT_LINKTYPE_RAW   101 /* LINKTYPE_RAW as written in pcap files */
#define NT_DLT_PPP        9   /* PPP, with or without the HDLC address and control bytes */
#define NT_DLT_PPP_SERIAL 50  /* PPP in HDLC framing, or Cisco HDLC */
#define NT_DLT_PPP_ETHER  51  /* PPPoE session header, then PPP */

/* True when decode_packet understands this link type. */
bool decode_linktype_supported(int linktype);
/* "Ethernet", "Linux cooked v1", ... for reports. */
const char *decode_linktype_name(int linktype);

/* Decodes one frame. pkt must have been packet_reset(); num, ts, caplen and wirelen are set by
 * the caller. data holds caplen bytes; pkt->data points to them afterwards, and the layer
 * offsets (pkt->net_off, l4_off, payload_off) say where each layer read starts in them. */
void decode_packet(struct packet *pkt, int linktype, const uint8_t *data, size_t caplen);

/* The offset of c's position in the bytes decode_packet is reading (pkt->data); 0 when c does
 * not point into them (a layer decoder called on its own, as tests do). Computed on integers:
 * no pointer arithmetic across objects. */
static inline uint32_t decode_offset(const struct packet *pkt, const struct cursor *c)
{
    if (!pkt->data || !c->p)
        return 0;
    uintptr_t base = (uintptr_t)pkt->data;
    uintptr_t at = (uintptr_t)c->p + c->off;
    return at >= base && at - base <= pkt->data_len ? (uint32_t)(at - base) : 0;
}

/* Layer entry points, exposed for tests and for the ICMP quote (each reads through c). */
void decode_ipv4(struct packet *pkt, struct cursor *c);
void decode_ipv6(struct packet *pkt, struct cursor *c);
void decode_udp(struct packet *pkt, struct cursor *c);
void decode_tcp(struct packet *pkt, struct cursor *c);
void decode_icmp(struct packet *pkt, struct cursor *c, uint8_t ip_version);

/* Decodes an Ethernet frame carried inside a tunnel (VXLAN, Geneve, GRE 0x6558): like the
 * link layer, but pkt's link fields (VLAN tags, l2_len) stay those of the outer frame. */
void decode_inner_ethernet(struct packet *pkt, struct cursor *c);
/* Decodes a PPP frame (optional HDLC address/control bytes, 1- or 2-byte protocol field). */
void decode_ppp(struct packet *pkt, struct cursor *c);
/* Decodes the payload of an IP packet of protocol 4, 41 (IP in IP) or 47 (GRE). Returns false
 * when proto is not one of those. */
bool decode_ip_tunnel(struct packet *pkt, struct cursor *c, uint8_t proto);
/* Decodes the payload of a UDP datagram to or from a tunnel port (VXLAN 4789, Geneve 6081,
 * GRE in UDP 4754). Returns false when neither port is one. */
bool decode_udp_tunnel(struct packet *pkt, struct cursor *c);

/* Decodes the transport header in c by pkt->proto (UDP, TCP, and ICMP for ip_version 4 or
 * ICMPv6 for 6). */
void decode_transport(struct packet *pkt, struct cursor *c, uint8_t ip_version);
/* Bytes of this packet that were on the wire but not captured (snap length). */
size_t decode_uncaptured(const struct packet *pkt);

/* Parses a DNS message that fills c exactly (c->len is the message length). Fills msg, and
 * records anomalies on pkt (which may be NULL). Returns true when at least the 12-byte header
 * was read. */
bool dns_parse_message(struct cursor *c, struct dns_msg *msg, struct packet *pkt);
/* The data of authority and additional records gets its text (dns_rr_data) only here: every
 * stage reads answers' data alone, so dns_parse_message checks the others' data (the same
 * anomalies, the same records) but leaves their rdata "" unless it is an address (kept as
 * bytes) or a name in NS, CNAME or PTR data. For tests that compare every record's text (the
 * ldns oracle). */
bool dns_parse_message_all_text(struct cursor *c, struct dns_msg *msg, struct packet *pkt);

/* Parses only the header and the first question of a DNS message that may be cut short (as
 * inside an ICMP quote). Returns true when the header was read; *has_question tells whether
 * the question was read whole. */
bool dns_parse_header_question(struct cursor *c, uint16_t *id, uint16_t *flags,
                               struct dns_question *q, bool *has_question);

/* Reads a possibly compressed name at c's offset within the whole message msg (needed for
 * pointers); advances c past the name's in-place part. Returns false (and records an anomaly
 * on pkt) when the name is malformed: pointer not strictly backwards, loop, label > 63, name >
 * 255 octets, reserved label type, or truncated. */
bool dns_read_name(struct cursor *c, const struct cursor *msg, struct dns_name *out,
                   struct packet *pkt);

#endif
