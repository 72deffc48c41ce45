/* packet.h: the decoded view of one packet, produced by decode (from bytes) or by the tcpdump
 * text reader (from a printed line), and consumed by correlate. */
#ifndef NT_DECODE_PACKET_H
#define NT_DECODE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/anomaly.h"
#include "util/addr.h"
#include "util/ntime.h"

/* DNS names are kept in presentation form (RFC 1035 section 5.1): labels joined by '.', a
 * trailing '.' for the root, and every byte that is not a printable ASCII letter, digit, '-'
 * or '_' (and every '.' or '\\' inside a label) written as "\DDD" or "\c". The text is
 * therefore printable ASCII, but it can still hold '<', '|', '*' or '`': every renderer escapes
 * it for its medium. Wire names stop at 255 octets, so 4 * 255 + 1 bytes suffice. */
#define DNS_NAME_TEXT_MAX  1024
#define DNS_RDATA_TEXT_MAX 256
#define DNS_MAX_KEPT_RR    16
#define PKT_MAX_ANOMALIES  8

struct dns_name {
    char text[DNS_NAME_TEXT_MAX]; /* NUL-terminated presentation form */
    uint16_t len;                 /* strlen(text) */
};

struct dns_question {
    struct dns_name name;
    uint16_t qtype, qclass;
};

enum dns_section { DNS_SEC_ANSWER = 1, DNS_SEC_AUTHORITY = 2, DNS_SEC_ADDITIONAL = 3 };

struct dns_rr {
    uint8_t section; /* enum dns_section */
    struct dns_name name;
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlength;
    /* RDATA in presentation form, as dig prints it: "198.51.100.7", "ns1.example.", "10 mx.
     * example.", "\"v=spf1 -all\"", SOA's seven fields, SRV's four; for other types "\# <len>
     * <hex>" (RFC 3597), cut to fit with "..." at the end. Escaped like names. */
    char rdata[DNS_RDATA_TEXT_MAX];
    /* A and AAAA records decoded from the wire: the address's 4 or 16 bytes, rdata left empty
     * (the text is made only when something prints it: dns_rr_data). 0: rdata is the text. */
    uint8_t addr_len;
    uint8_t addr[16];
    /* The decoder read the owner name as a pointer to the first question's name, read whole:
     * name holds the same text as the message's q.name (false when not known). */
    bool owner_is_question;
};

/* Room for the text of an address kept as bytes (INET6_ADDRSTRLEN). */
#define DNS_RR_ADDR_TEXT_MAX 46
/* The record's RDATA in presentation form: rdata, or the text of the address kept as bytes
 * written into buf (DNS_RR_ADDR_TEXT_MAX bytes). */
const char *dns_rr_data(const struct dns_rr *rr, char *buf);
/* The same for data of addr_len bytes at data: the address's text in buf when addr_len is 4
 * or 16, data itself (text) when addr_len is 0. */
const char *dns_rr_data_text(const char *data, uint8_t addr_len, char *buf);

/* DNS header flag bits (RFC 1035 4.1.1, RFC 4035 for AD/CD). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP   4
#define DNS_RCODE_REFUSED  5

#define DNS_TYPE_A     1
#define DNS_TYPE_NS    2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA   6
#define DNS_TYPE_PTR   12
#define DNS_TYPE_MX    15
#define DNS_TYPE_TXT   16
#define DNS_TYPE_AAAA  28
#define DNS_TYPE_SRV   33
#define DNS_TYPE_OPT   41

/* Classes a dynamic update uses to delete records and state prerequisites (RFC 2136). */
#define DNS_CLASS_NONE 254
#define DNS_CLASS_ANY  255

struct dns_msg {
    uint16_t id;
    uint16_t flags; /* raw header flags word; see DNS_FLAG_* */
    uint8_t opcode; /* 4 bits */
    uint16_t rcode; /* 4-bit header rcode, extended with the OPT record's upper 8 bits */
    uint16_t qdcount, ancount, nscount, arcount; /* as in the header */
    bool has_question;                           /* the first question was read whole */
    struct dns_question q;
    /* EDNS (RFC 6891) from the OPT record, when present. */
    bool has_opt;
    uint16_t edns_udp_size;
    uint8_t edns_version;
    bool edns_do;
    /* The first DNS_MAX_KEPT_RR records of the answer, authority and additional sections, in
     * order (OPT excluded); n_rr_seen counts every record parsed. */
    uint8_t n_rr;
    struct dns_rr rr[DNS_MAX_KEPT_RR];
    uint16_t n_rr_seen;
    bool complete;   /* every section parsed without running past the message */
    uint32_t length; /* message length in bytes (as on the wire, or as printed "(N)") */
};

/* The letters tcpdump prints in "Flags [...]": letter i stands for TCP flag bit 1 << i. */
#define TCP_FLAG_LETTERS "FSRP.UEW"

/* Which layers were found; a bit is set only when that header was read whole. */
#define PKT_L_IP   0x01
#define PKT_L_UDP  0x02
#define PKT_L_TCP  0x04
#define PKT_L_ICMP 0x08 /* ICMP or ICMPv6 */
#define PKT_L_DNS  0x10 /* a DNS header at least; see dns.complete */
#define PKT_L_ARP  0x20

/* Normalised meaning of an ICMP/ICMPv6 message, so later stages need not know both number
 * spaces. Errors come first. */
enum icmp_kind {
    ICMP_K_NONE = 0,
    ICMP_K_PORT_UNREACH,     /* v4 3/3, v6 1/4 */
    ICMP_K_PROTO_UNREACH,    /* v4 3/2, v6 4/1 (unrecognised next header) */
    ICMP_K_HOST_UNREACH,     /* v4 3/1,3/7,3/8, v6 1/3 (address unreachable) */
    ICMP_K_NET_UNREACH,      /* v4 3/0,3/6,3/11,3/12, v6 1/0 (no route) */
    ICMP_K_ADMIN_PROHIBITED, /* v4 3/9,3/10,3/13, v6 1/1, 1/5, 1/6 */
    ICMP_K_FRAG_NEEDED,      /* v4 3/4, v6 2 (packet too big) */
    ICMP_K_UNREACH_OTHER,    /* any other destination unreachable code */
    ICMP_K_TIME_EXCEEDED,    /* v4 11, v6 3 */
    ICMP_K_PARAM_PROBLEM,    /* v4 12, v6 4 (other than 4/1) */
    ICMP_K_SOURCE_QUENCH,    /* v4 4 */
    ICMP_K_REDIRECT,         /* v4 5, v6 137 */
    ICMP_K_ECHO_REQUEST,
    ICMP_K_ECHO_REPLY,
    ICMP_K_OTHER, /* informational messages not listed */
};

/* Which fields of an ICMP quote are known (icmp_quote.known). The pcap decoder sets the bits of
 * everything it read (present implies SRC|DST|PROTO, has_ports SPORT|DPORT, has_dns DNS_ID,
 * has_question QUESTION). tcpdump text often shows less: without -v a port unreachable prints
 * only the quoted destination address, protocol and destination port (DST|PROTO|DPORT, with
 * present and has_ports false), a host or net unreachable only the quoted destination (DST);
 * with -v the whole quoted datagram is printed and the text sets what it shows. */
#define QUOTE_K_SRC      0x01
#define QUOTE_K_DST      0x02
#define QUOTE_K_PROTO    0x04
#define QUOTE_K_SPORT    0x08
#define QUOTE_K_DPORT    0x10
#define QUOTE_K_DNS_ID   0x20
#define QUOTE_K_QUESTION 0x40

/* The datagram quoted inside an ICMP error: what the sender of the error received (or, for
 * some errors, tried to forward). */
struct icmp_quote {
    uint8_t known;      /* QUOTE_K_* bits: which of the fields below hold data */
    bool present;       /* the quoted IP header was read whole */
    uint8_t ip_version; /* 4 or 6 */
    struct nt_addr src, dst;
    uint8_t proto;         /* IP protocol (after IPv6 extension headers) */
    uint16_t ip_id;        /* IPv4 identification */
    uint32_t ip_total_len; /* total length field of the quoted header */
    bool has_ports;        /* UDP or TCP ports were quoted */
    uint16_t sport, dport;
    bool has_dns; /* a DNS header (at least the id and flags) was quoted */
    uint16_t dns_id;
    uint16_t dns_flags;
    bool has_question; /* the quoted DNS question was read whole */
    struct dns_question q;
};

/* Encapsulations the decoder removes (struct pkt_tunnel.kind). */
enum pkt_tunnel_kind {
    PKT_TUN_NONE = 0,
    PKT_TUN_IPIP,      /* IPv4 or IPv6 in IPv4 or IPv6 (IP protocol 4 or 41) */
    PKT_TUN_GRE,       /* IP protocol 47, RFC 2784/2890; version 1 is PPTP (RFC 2637) */
    PKT_TUN_GRE_UDP,   /* GRE in UDP, port 4754 (RFC 8086) */
    PKT_TUN_VXLAN,     /* UDP port 4789 (RFC 7348) */
    PKT_TUN_VXLAN_GPE, /* UDP port 4790 (draft-ietf-nvo3-vxlan-gpe): VXLAN with a next protocol */
    PKT_TUN_GENEVE,    /* UDP port 6081 (RFC 8926) */
    PKT_TUN_GTPU,      /* GTP-U version 1 G-PDU, UDP port 2152 (3GPP TS 29.281): mobile core */
};

/* Hostile nesting is cut here (anomaly ANOM_TUNNEL_TOO_DEEP); real networks nest two or three. */
#define PKT_MAX_TUNNELS 4

/* One removed encapsulation: the outer packet's addresses and the tunnel header's fields, for
 * evidence lines ("IP 172.27.1.66 > 66.59.109.137: GREv0, length 65: IP ..."). */
struct pkt_tunnel {
    uint8_t kind;       /* enum pkt_tunnel_kind */
    uint8_t ip_version; /* of the outer header */
    struct nt_addr src, dst;
    uint16_t sport, dport;          /* UDP tunnels */
    uint32_t ip_payload_len;        /* outer IP payload bytes per its header */
    uint32_t udp_len;               /* outer UDP payload bytes (UDP tunnels) */
    uint16_t flags;                 /* GRE: flags and version word; VXLAN: flags byte; Geneve: the
                                     * second byte (O, C bits) */
    uint16_t proto;                 /* GRE and Geneve protocol type; VXLAN-GPE next protocol */
    bool has_key, has_seq, has_ack; /* GRE */
    uint32_t key;                   /* GRE key (PPTP: payload length << 16 | call id) */
    uint32_t seq, ack;              /* GRE sequence and acknowledgment numbers */
    uint32_t vni;                   /* VXLAN, Geneve; GTP-U: the TEID */
    uint8_t opt_len;                /* Geneve option bytes */
    uint32_t inner_len;             /* captured bytes after the tunnel header */
};

struct packet {
    uint64_t num; /* 1-based number within its input (tcpdump text: the record number) */
    struct nt_time ts;
    uint32_t caplen, wirelen;
    uint32_t layers; /* PKT_L_* */

    /* link */
    int linktype;     /* DLT_* of the capture; -1 for text */
    uint16_t vlan[2]; /* 802.1Q / 802.1ad tags, outermost first */
    uint8_t n_vlan;
    uint16_t l2_len; /* bytes of link header (with VLAN tags) before the network layer */

    /* PPP (PPP links, PPPoE, PPTP's GRE): the protocol field of the last PPP header read, 0
     * when none. Only 0x0021 (IPv4), 0x0057 (IPv6) and MPLS are followed; a packet with any
     * other (LCP, IPCP, CHAP, ...) has no network layer, which is not an anomaly. */
    uint16_t ppp_proto;

    /* Tunnels removed to reach the packet the fields below describe (GRE, IP in IP, VXLAN,
     * Geneve, GRE in UDP), outermost first. When a tunnel's payload cannot be decoded as IP
     * (or ARP), the packet is left describing that tunnel's outer packet instead and the
     * tunnel is not listed. */
    uint8_t n_tunnels;
    struct pkt_tunnel tunnels[PKT_MAX_TUNNELS];

    /* ARP (PKT_L_ARP, Ethernet/IPv4 only): the operation and hardware addresses; the sender
     * and target protocol addresses are in src and dst. */
    uint16_t arp_op;
    uint8_t arp_sha[6], arp_tha[6];

    /* network */
    uint8_t ip_version; /* 0, 4 or 6 */
    struct nt_addr src, dst;
    uint8_t ttl;             /* TTL or hop limit */
    uint8_t proto;           /* transport protocol number (after IPv6 extension headers) */
    uint32_t ip_len;         /* total length from the IP header (v6: 40 + payload length) */
    uint32_t ip_payload_len; /* bytes after the IP header, options and IPv6 extension headers,
                              * per the IP header (not the capture) */
    uint16_t ip_id;
    bool ip_options;      /* IPv4 header carried options */
    bool fragment;        /* part of a fragmented datagram */
    uint16_t frag_offset; /* in bytes */
    bool more_fragments;
    uint32_t frag_id; /* IPv6 fragment header identification (IPv4: ip_id) */
    /* IPv6 extension headers in order (next-header numbers: 0, 43, 44, 60, 51). */
    uint8_t ip6_ext[4];
    uint8_t n_ip6_ext;

    /* Layer offsets in data, which starts with the link header (l2_len bytes, VLAN tags
     * included): the IP header the network fields describe (valid with PKT_L_IP), the transport
     * header after its options and extension headers (with PKT_L_UDP, PKT_L_TCP or PKT_L_ICMP)
     * and the UDP or TCP payload (with PKT_L_UDP or PKT_L_TCP). Behind a tunnel they are the
     * inner packet's, as the fields are. decode_packet sets them; 0 when data is NULL. */
    uint32_t net_off, l4_off, payload_off;

    /* transport */
    uint16_t sport, dport;
    /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80; tcpdump's letter
     * for bit i is TCP_FLAG_LETTERS[i] */
    uint8_t tcp_flags;
    uint32_t tcp_seq, tcp_ack;
    uint32_t l4_payload_len; /* UDP/TCP payload bytes (per the headers, not the capture) */
    uint16_t tcp_win;
    uint8_t tcp_opts_len; /* TCP option bytes kept raw in tcp_opts, for the evidence line */
    uint8_t tcp_opts[40];

    /* ICMP / ICMPv6 */
    uint8_t icmp_type, icmp_code;
    uint8_t icmp_kind; /* enum icmp_kind */
    bool icmp_is_error;
    uint32_t icmp_mtu;  /* next-hop MTU of frag needed / packet too big */
    uint32_t icmp_len;  /* ICMP message length (header + data) */
    uint32_t icmp_rest; /* the 4 bytes after the checksum: echo id/seq, pointer, MLDv2 count */
    struct nt_addr icmp_addr; /* ICMPv6 ND target / redirect target, ICMP redirect gateway */
    struct icmp_quote quote;

    /* DNS over UDP, or over TCP: decode fills it when one segment starts with the 2-byte
     * length and holds the message; src/flow/tcpdns.c when the message spans segments */
    struct dns_msg dns;

    /* Decoder anomalies (enum nt_anomaly, decode/anomaly.h), each at most once, in the order
     * found; past PKT_MAX_ANOMALIES they are counted in n_anomalies_dropped only. */
    uint8_t anomalies[PKT_MAX_ANOMALIES];
    uint8_t n_anomalies;
    uint32_t n_anomalies_dropped;

    /* For records read from tcpdump text: the whole record as read (continuation lines joined
     * with single spaces), borrowed until the next record. NULL for captured packets. */
    const char *line;
    size_t line_len;
    uint64_t line_no; /* first line number of the record in its file */

    /* The bytes decode_packet read this packet from (data_len = the caplen it was given),
     * borrowed until the next packet: what the flow stage (src/flow/) works on. NULL for
     * tcpdump text records, even those decoded from a hex dump (the flow stage does not
     * reassemble text), and for frames of link types decode does not read. */
    const uint8_t *data;
    uint32_t data_len;

    /* For captured packets: the bytes of the frame as read, and their link type, borrowed until
     * the next packet; set only when decoding them again gives this very packet (not for
     * fragments, reassembled datagrams nor DNS-over-TCP segments, whose view the flow stage
     * changes: it clears them). Evidence keeps a copy so that report can print the packet's line
     * only when it is printed (src/report/evline.c). */
    const uint8_t *frame;
    uint32_t frame_len;
    int frame_linktype;
};

/* What packet_tunnel_enter keeps of the outer packet, for packet_tunnel_leave. */
struct pkt_outer_save {
    uint32_t layers;
    unsigned char net[offsetof(struct packet, dns) - offsetof(struct packet, ip_version)];
};

/* Starts describing the packet a tunnel carries: records the tunnel t (its outer addresses
 * and ports are taken from pkt) in pkt->tunnels, saves the network and transport fields into
 * save and clears them. Returns false, changing nothing but recording ANOM_TUNNEL_TOO_DEEP, when
 * PKT_MAX_TUNNELS tunnels were removed already. */
bool packet_tunnel_enter(struct packet *pkt, const struct pkt_tunnel *t,
                         struct pkt_outer_save *save);
/* Ends it: when the inner packet was not read as IP or ARP, the outer packet is restored and
 * the tunnel removed from the list. Returns true when the inner packet was kept. */
bool packet_tunnel_leave(struct packet *pkt, const struct pkt_outer_save *save);
/* "GRE", "VXLAN", ... */
const char *packet_tunnel_name(uint8_t kind);

/* Clears every field a decoder may set (cheaply: the large DNS arrays are emptied by count,
 * not zeroed). */
void packet_reset(struct packet *pkt);
/* Empties a DNS message the same cheap way. */
void dns_msg_reset(struct dns_msg *m);
/* Records an anomaly, once per packet (pkt may be NULL: nothing is recorded). */
void packet_add_anomaly(struct packet *pkt, enum nt_anomaly a);
bool packet_has_anomaly(const struct packet *pkt, enum nt_anomaly a);

/* Classifies an ICMP (ip_version 4) or ICMPv6 (6) type and code. */
enum icmp_kind icmp_classify(uint8_t ip_version, uint8_t type, uint8_t code);
bool icmp_kind_is_error(enum icmp_kind k);
/* "port unreachable", "admin prohibited", "time exceeded", ... (stable English words). */
const char *icmp_kind_name(enum icmp_kind k);
/* The official description of a type/code ("Destination Unreachable: Port Unreachable"). */
const char *icmp_code_description(uint8_t ip_version, uint8_t type, uint8_t code);

/* DNS names and numbers for people and JSON: "A", "AAAA", "TYPE65280" (buf needed only for
 * unknown types, at least 16 bytes); "NOERROR", "NXDOMAIN", "RCODE23"; "IN", "CLASS7". */
const char *dns_type_name(uint16_t type, char *buf, size_t n);
const char *dns_rcode_name(uint16_t rcode, char *buf, size_t n);
const char *dns_class_name(uint16_t rclass, char *buf, size_t n);
/* Inverse of dns_type_name for the names tcpdump prints ("A", "AAAA", "ANY", "TYPE99");
 * returns -1 when unknown. */
int dns_type_from_name(const char *s, size_t len);

/* Formats the packet the way `tcpdump -nn` prints it, for evidence lines of captured packets
 * ("IP 198.51.100.15.53424 > 198.51.100.2.53: 17514+ [1au] A? example.com. (62)"), without
 * the timestamp. Returns the length (cut to n - 1). Pure. */
size_t packet_format_line(const struct packet *pkt, char *buf, size_t n);

#endif
