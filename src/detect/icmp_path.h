/* icmp_path.h: what the rules about ICMP errors from routers on the path (icmp.time_exceeded,
 * icmp.frag_needed) share: one finding per router and quoted destination, and what the errors
 * are about. */
#ifndef NT_DETECT_ICMP_PATH_H
#define NT_DETECT_ICMP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/rule.h"

/* The first member of such a rule's accumulator. */
struct icmp_path_head {
    struct nt_time first_error, last_error;
    uint8_t ip_version;
    bool has_dst;               /* the error quotes a destination */
    struct nt_addr router, dst; /* the error's sender; the quoted destination */
    uint8_t proto;              /* of the first error's datagram */
    uint16_t dport;
    bool mixed_ports; /* later errors quote another protocol or port */
};

/* The calling rule's finding for the error's router and quoted destination ("ROUTER|DST"),
 * made on first use with a zeroed accumulator of acc_size bytes (starting with struct
 * icmp_path_head) as priv, the server (the quoted destination), protocol and port, and "DNS"
 * as the service when the error quotes a query of a lookup. Counts the error packet and its
 * time into the finding and the head. What the error is about comes from the lookup or TCP
 * attempt it was matched to when there is one (tcpdump text does not always print the quoted
 * protocol and ports), else from the quote. NULL when refused (cap) or out of memory. */
struct finding *icmp_path_finding(struct rule_ctx *rc, const struct icmp_event *e, size_t acc_size);

#endif
