/* anomaly.h: the decoder anomalies, the way a packet (or a printed line) departs from its
 * protocol's rules or ends before its headers do, as one enum with a stable id and a one-line
 * description each, and their counts per input (shown in every report format, as Zeek's
 * weird.log shows its weirds). */
#ifndef NT_DECODE_ANOMALY_H
#define NT_DECODE_ANOMALY_H

#include <stdbool.h>
#include <stdint.h>

/* Grouped by layer, outermost first; the reports list them in this order. The ids
 * (anomaly_id) are part of the JSON and NDJSON schemas: never rename one. */
enum nt_anomaly {
    /* link layer */
    ANOM_LINK_TRUNCATED,
    ANOM_LINK_UNKNOWN_IP_VERSION,
    ANOM_LINK_TOO_MANY_VLAN_TAGS,
    ANOM_LINK_UNKNOWN_FAMILY,
    ANOM_LINK_IP_VERSION_MISMATCH,
    ANOM_LINK_UNSUPPORTED,
    ANOM_ARP_TRUNCATED,
    ANOM_MPLS_TOO_MANY_LABELS,
    ANOM_MPLS_TRUNCATED,
    ANOM_PPP_TRUNCATED,
    ANOM_PPPOE_TRUNCATED,
    ANOM_PPPOE_BAD_HEADER,
    /* tunnels */
    ANOM_TUNNEL_TRUNCATED,
    ANOM_TUNNEL_TOO_DEEP,
    ANOM_GRE_TRUNCATED,
    ANOM_GRE_BAD_ROUTING,
    ANOM_GRE_BAD_PPTP_HEADER,
    ANOM_GRE_BAD_VERSION,
    ANOM_VXLAN_TRUNCATED,
    ANOM_GENEVE_TRUNCATED,
    ANOM_GENEVE_BAD_VERSION,
    ANOM_GTPU_TRUNCATED,
    /* network layer */
    ANOM_IPV4_TRUNCATED,
    ANOM_IPV4_BAD_VERSION,
    ANOM_IPV4_BAD_HEADER_LENGTH,
    ANOM_IPV4_BAD_TOTAL_LENGTH,
    ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_CAPTURE,
    ANOM_IPV6_TRUNCATED,
    ANOM_IPV6_BAD_VERSION,
    ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_CAPTURE,
    ANOM_IPV6_TOO_MANY_EXT_HEADERS,
    ANOM_IPV6_HOP_BY_HOP_NOT_FIRST,
    ANOM_IPV6_EXT_HEADER_TRUNCATED,
    /* ICMP */
    ANOM_ICMP_TRUNCATED,
    ANOM_ICMP6_TRUNCATED,
    ANOM_ICMP_QUOTE_TRUNCATED,
    ANOM_ICMP_QUOTE_BAD_HEADER,
    ANOM_ICMP_ERROR_QUOTES_ERROR,
    /* transport */
    ANOM_UDP_TRUNCATED,
    ANOM_UDP_BAD_LENGTH,
    ANOM_TCP_TRUNCATED,
    ANOM_TCP_BAD_DATA_OFFSET,
    /* DNS */
    ANOM_DNS_TRUNCATED,
    ANOM_DNS_COUNTS_EXCEED_MESSAGE,
    ANOM_DNS_QUESTION_TRUNCATED,
    ANOM_DNS_RR_TRUNCATED,
    ANOM_DNS_RDATA_TRUNCATED,
    ANOM_DNS_BAD_RDATA,
    ANOM_DNS_NAME_TRUNCATED,
    ANOM_DNS_NAME_TOO_LONG,
    ANOM_DNS_BAD_LABEL_TYPE,
    ANOM_DNS_BAD_COMPRESSION_POINTER,
    ANOM_DNS_COMPRESSION_LOOP,
    ANOM_DNS_MULTIPLE_OPT,
    ANOM_DNS_OPT_BAD_OWNER,
    ANOM_DNS_OPT_OUTSIDE_ADDITIONAL,
    ANOM_DNS_TRAILING_BYTES,
    /* tcpdump text input */
    ANOM_TEXT_UNKNOWN_SERVICE_NAME,
    NT_ANOMALY_COUNT
};

/* The stable id ("dns.bad_compression_pointer"): lower case, a layer, a dot, a name. NULL for a
 * value outside the enum. */
const char *anomaly_id(enum nt_anomaly a);
/* One English sentence saying what was wrong, for the report; NULL outside the enum. */
const char *anomaly_description(enum nt_anomaly a);

/* Anomalies seen in one input: each counted once per packet that shows it (a packet records
 * each anomaly once), as the decoder recorded them. */
struct anomaly_counts {
    uint64_t n[NT_ANOMALY_COUNT];
    uint64_t packets; /* packets with at least one anomaly */
    /* Anomalies not recorded because their packet already held PKT_MAX_ANOMALIES others (so
     * not in n[]: which ones is not known). */
    uint64_t dropped;
};

struct packet;
/* Adds the anomalies pkt recorded. */
void anomaly_counts_add(struct anomaly_counts *c, const struct packet *pkt);
/* Whether there is anything to show: an anomaly counted or dropped. */
bool anomaly_counts_any(const struct anomaly_counts *c);

#endif
