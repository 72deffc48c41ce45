/* anomaly.c: the ids and descriptions of the decoder anomalies, and their counts per input. */
#include "decode/anomaly.h"

#include "decode/packet.h"

/* The limits the descriptions name (8 VLAN tags, 8 MPLS labels, 16 GRE route entries, 4
 * tunnels, 8 IPv6 extension headers, 128 compression pointers) are the decoders' (link.c,
 * tunnel.c, packet.h, ipv6.c, dns.c): change them together. */

static const struct {
    const char *id;
    const char *description;
} anomalies[] = {
    [ANOM_LINK_TRUNCATED] = {"link.truncated",
                             "The frame ended inside its link-layer header (Ethernet, VLAN tag, "
                             "Linux cooked, loopback or Cisco HDLC)."},
    [ANOM_LINK_UNKNOWN_IP_VERSION] = {"link.unknown_ip_version",
                                      "A raw-IP frame held neither IPv4 nor IPv6 (its version "
                                      "field was not 4 or 6)."},
    [ANOM_LINK_TOO_MANY_VLAN_TAGS] = {"link.too_many_vlan_tags",
                                      "More than 8 stacked VLAN tags: the frame was not decoded "
                                      "further."},
    [ANOM_LINK_UNKNOWN_FAMILY] = {"link.unknown_family",
                                  "A BSD loopback frame named an address family other than IPv4 "
                                  "or IPv6."},
    [ANOM_LINK_IP_VERSION_MISMATCH] = {"link.ip_version_mismatch",
                                       "An IPv4-only or IPv6-only link type carried a packet of "
                                       "the other IP version."},
    [ANOM_LINK_UNSUPPORTED] = {"link.unsupported",
                               "A frame of a link type nettriage does not decode."},
    [ANOM_ARP_TRUNCATED] = {"arp.truncated",
                            "An ARP packet ended before its header or addresses did."},
    [ANOM_MPLS_TOO_MANY_LABELS] = {"mpls.too_many_labels",
                                   "An MPLS label stack that did not end within 8 labels: the "
                                   "packet was not decoded further."},
    [ANOM_MPLS_TRUNCATED] = {"mpls.truncated", "The packet ended inside its MPLS label stack."},
    [ANOM_PPP_TRUNCATED] = {"ppp.truncated", "The packet ended inside its PPP header."},
    [ANOM_PPPOE_TRUNCATED] = {"pppoe.truncated", "The packet ended inside its PPPoE header."},
    [ANOM_PPPOE_BAD_HEADER] = {"pppoe.bad_header",
                               "A PPPoE session header whose version and type were not 1 and 1, "
                               "or whose code was not 0."},
    [ANOM_TUNNEL_TRUNCATED] = {"tunnel.truncated",
                               "The Ethernet frame a tunnel carries ended inside its header."},
    [ANOM_TUNNEL_TOO_DEEP] = {"tunnel.too_deep",
                              "Tunnels nested more than 4 deep: the innermost were not removed."},
    [ANOM_GRE_TRUNCATED] = {"gre.truncated", "The packet ended inside its GRE header."},
    [ANOM_GRE_BAD_ROUTING] = {"gre.bad_routing",
                              "A GRE source route that did not end within 16 entries."},
    [ANOM_GRE_BAD_PPTP_HEADER] = {"gre.bad_pptp_header",
                                  "A GRE version 1 (PPTP) header without a key, carrying "
                                  "something other than PPP, or with checksum or routing bits."},
    [ANOM_GRE_BAD_VERSION] = {"gre.bad_version",
                              "A GRE header with a version other than 0 (GRE) or 1 (PPTP)."},
    [ANOM_VXLAN_TRUNCATED] = {"vxlan.truncated",
                              "The packet ended inside its VXLAN (or VXLAN-GPE) header."},
    [ANOM_GENEVE_TRUNCATED] = {"geneve.truncated",
                               "The packet ended inside its Geneve header or options."},
    [ANOM_GENEVE_BAD_VERSION] = {"geneve.bad_version",
                                 "A Geneve header with a version other than 0."},
    [ANOM_GTPU_TRUNCATED] = {"gtpu.truncated",
                             "The packet ended inside its GTP-U header or extension headers."},
    [ANOM_IPV4_TRUNCATED] = {"ipv4.truncated",
                             "An IPv4 datagram cut short: inside its header, or by the capture's "
                             "snap length."},
    [ANOM_IPV4_BAD_VERSION] = {"ipv4.bad_version",
                               "A packet sent as IPv4 whose version field was not 4."},
    [ANOM_IPV4_BAD_HEADER_LENGTH] = {"ipv4.bad_header_length",
                                     "An IPv4 header length below the minimum of 20 bytes."},
    [ANOM_IPV4_BAD_TOTAL_LENGTH] = {"ipv4.bad_total_length",
                                    "An IPv4 total length shorter than its own header (as "
                                    "segmentation offload on the capturing host writes it)."},
    [ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE] = {"ipv4.total_length_exceeds_capture",
                                                "An IPv4 total length longer than the frame on "
                                                "the wire: bytes that were never sent."},
    [ANOM_IPV6_TRUNCATED] = {"ipv6.truncated",
                             "An IPv6 packet cut short: inside its header, or by the capture's "
                             "snap length."},
    [ANOM_IPV6_BAD_VERSION] = {"ipv6.bad_version",
                               "A packet sent as IPv6 whose version field was not 6."},
    [ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE] = {"ipv6.payload_length_exceeds_capture",
                                                  "An IPv6 payload length longer than the frame "
                                                  "on the wire: bytes that were never sent."},
    [ANOM_IPV6_TOO_MANY_EXT_HEADERS] = {"ipv6.too_many_ext_headers",
                                        "More than 8 IPv6 extension headers: the transport was "
                                        "not decoded."},
    [ANOM_IPV6_HOP_BY_HOP_NOT_FIRST] = {"ipv6.hop_by_hop_not_first",
                                        "An IPv6 hop-by-hop options header that did not directly "
                                        "follow the IPv6 header (RFC 8200 section 4.1)."},
    [ANOM_IPV6_EXT_HEADER_TRUNCATED] = {"ipv6.ext_header_truncated",
                                        "The packet ended inside an IPv6 extension header."},
    [ANOM_ICMP_TRUNCATED] = {"icmp.truncated", "The packet ended inside its ICMP header."},
    [ANOM_ICMP6_TRUNCATED] = {"icmp6.truncated",
                              "The packet ended inside its ICMPv6 header or neighbour discovery "
                              "target address."},
    [ANOM_ICMP_QUOTE_TRUNCATED] = {"icmp.quote_truncated",
                                   "The datagram an ICMP error quotes ended inside its IP "
                                   "header."},
    [ANOM_ICMP_QUOTE_BAD_HEADER] = {"icmp.quote_bad_header",
                                    "The datagram an ICMP error quotes has an impossible IP "
                                    "header (version, header length or total length)."},
    [ANOM_ICMP_ERROR_QUOTES_ERROR] = {"icmp.error_quotes_error",
                                      "An ICMP error quoting another ICMP error, which no host "
                                      "may send (RFC 1122 section 3.2.2)."},
    [ANOM_UDP_TRUNCATED] = {"udp.truncated", "The packet ended inside its UDP header."},
    [ANOM_UDP_BAD_LENGTH] = {"udp.bad_length",
                             "A UDP length below 8 bytes or beyond the IP payload."},
    [ANOM_TCP_TRUNCATED] = {"tcp.truncated", "The packet ended inside its TCP header or options."},
    [ANOM_TCP_BAD_DATA_OFFSET] = {"tcp.bad_data_offset",
                                  "A TCP header length below 20 bytes or beyond the IP payload."},
    [ANOM_DNS_TRUNCATED] = {"dns.truncated", "A DNS message shorter than its 12-byte header."},
    [ANOM_DNS_COUNTS_EXCEED_MESSAGE] = {"dns.counts_exceed_message",
                                        "A DNS header counting more questions and records than "
                                        "the message could hold."},
    [ANOM_DNS_QUESTION_TRUNCATED] = {"dns.question_truncated",
                                     "A DNS message ended inside its question."},
    [ANOM_DNS_RR_TRUNCATED] = {"dns.rr_truncated",
                               "A DNS message ended inside the fixed fields of a record."},
    [ANOM_DNS_RDATA_TRUNCATED] = {"dns.rdata_truncated",
                                  "A DNS record whose data length runs past the end of the "
                                  "message."},
    [ANOM_DNS_BAD_RDATA] = {"dns.bad_rdata",
                            "A DNS record whose data does not have the form its type requires."},
    [ANOM_DNS_NAME_TRUNCATED] = {"dns.name_truncated",
                                 "A DNS name running past the end of the message."},
    [ANOM_DNS_NAME_TOO_LONG] = {"dns.name_too_long", "A DNS name longer than 255 bytes."},
    [ANOM_DNS_BAD_LABEL_TYPE] = {"dns.bad_label_type",
                                 "A DNS name with a reserved label type (first bits 01 or 10)."},
    [ANOM_DNS_BAD_COMPRESSION_POINTER] = {"dns.bad_compression_pointer",
                                          "A DNS compression pointer that does not point back to "
                                          "an earlier part of the message."},
    [ANOM_DNS_COMPRESSION_LOOP] = {"dns.compression_loop",
                                   "A DNS name following more than 128 compression pointers."},
    [ANOM_DNS_MULTIPLE_OPT] = {"dns.multiple_opt",
                               "A DNS message with more than one OPT record (RFC 6891 section "
                               "6.1.1): the first was used."},
    [ANOM_DNS_OPT_BAD_OWNER] = {"dns.opt_bad_owner",
                                "A DNS OPT record whose owner name is not the root."},
    [ANOM_DNS_OPT_OUTSIDE_ADDITIONAL] = {"dns.opt_outside_additional",
                                         "A DNS OPT record outside the additional section."},
    [ANOM_DNS_TRAILING_BYTES] = {"dns.trailing_bytes",
                                 "Bytes after the last record a DNS header counts."},
    [ANOM_TEXT_UNKNOWN_SERVICE_NAME] = {"text.unknown_service_name",
                                        "tcpdump printed a port as a service name nettriage does "
                                        "not know (output made without -n): that port is "
                                        "unknown."},
};

_Static_assert(sizeof anomalies / sizeof anomalies[0] == NT_ANOMALY_COUNT,
               "one table entry per anomaly");
_Static_assert(NT_ANOMALY_COUNT <= 256, "struct packet keeps anomalies in uint8_t");

const char *anomaly_id(enum nt_anomaly a)
{
    return (unsigned)a < NT_ANOMALY_COUNT ? anomalies[a].id : NULL;
}

const char *anomaly_description(enum nt_anomaly a)
{
    return (unsigned)a < NT_ANOMALY_COUNT ? anomalies[a].description : NULL;
}

void anomaly_counts_add(struct anomaly_counts *c, const struct packet *pkt)
{
    if (pkt->n_anomalies == 0 && pkt->n_anomalies_dropped == 0)
        return;
    c->packets++;
    for (uint8_t i = 0; i < pkt->n_anomalies && i < PKT_MAX_ANOMALIES; i++)
        if (pkt->anomalies[i] < NT_ANOMALY_COUNT)
            c->n[pkt->anomalies[i]]++;
    c->dropped += pkt->n_anomalies_dropped;
}

bool anomaly_counts_any(const struct anomaly_counts *c)
{
    if (c->packets || c->dropped)
        return true;
    for (size_t i = 0; i < NT_ANOMALY_COUNT; i++)
        if (c->n[i])
            return true;
    return false;
}
