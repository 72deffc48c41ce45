/* dns_finding.h: what every rule with one finding per DNS server shares: the finding for a
 * lookup's server, made with the fields all such findings carry, and the counting of a failing
 * lookup into it. */
#ifndef NT_DETECT_DNS_FINDING_H
#define NT_DETECT_DNS_FINDING_H

#include <stdbool.h>
#include <stddef.h>

#include "detect/rule.h"

/* The calling rule's finding for the lookup's server (key "ADDR|TRANSPORT|PORT"), made on first
 * use with a zeroed accumulator of acc_size bytes as priv (freed with the finding), protocol,
 * port, service "DNS" and the server; *created is true on that first use, so the caller sets
 * up the rest of its accumulator. NULL when the detector refuses it (cap) or out of memory. */
struct finding *dns_server_finding(struct rule_ctx *rc, const struct dns_lookup *l, size_t acc_size,
                                   bool *created);

/* Counts a failing lookup into f: its client and question, one lookup, its query packets (with
 * retransmissions), `errors` error packets, the packet total, and whether it was late. */
void dns_finding_count(struct finding *f, const struct dns_lookup *l, uint64_t errors);

#endif
