/* redact.h: --redact: client addresses replaced by pseudonyms (client-1, client-2, ...) in
 * every output.
 *
 * WHO IS A CLIENT. An address that started an exchange the report is about (sent a DNS query,
 * a TCP SYN, or the datagram an ICMP error quotes) and never served one (was never the
 * destination of a DNS query or SYN, nor sent a DNS answer or SYN-ACK). Servers, resolvers
 * that forward, routers and hosts that send ICMP errors stay visible. The roles are facts of
 * the packets (redact_observe, called by the pipeline for every packet); the pseudonyms are
 * numbered in the order the clients first started an exchange, so the same input gives every
 * format the same names.
 *
 * WHERE. The text of each output is rewritten as a whole once it is made (redact_apply), so
 * nothing that names a client escapes: structured fields, evidence lines as read from tcpdump
 * text, finding texts and suggested commands, file names. A client is found in its text forms:
 * IPv4 (also before tcpdump's ".port"), IPv6 (any case), a host name tcpdump printed instead,
 * and its reverse name (in-addr.arpa, ip6.arpa); MAC addresses (tcpdump -e) are all hidden
 * (xx:xx:xx:xx:xx:xx), clients' and servers' alike. */
#ifndef NT_REPORT_REDACT_H
#define NT_REPORT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

struct packet;
struct redact;

struct redact *redact_new(void);
void redact_free(struct redact *r);
/* Notes the roles the packet shows (DNS query or answer, SYN or SYN-ACK, ICMP error and the
 * datagram it quotes). False when out of memory (the run must then fail: a client could be
 * missed). */
bool redact_observe(struct redact *r, const struct packet *pkt);
/* Rewrites b, replacing every client's text forms by its pseudonym and every MAC address.
 * json: b is JSON or NDJSON, where an endpoint's "ip" member of a client is dropped, and so is
 * a client's element of an array of IP addresses (related.ip, dns.resolved_ip): ECS ip fields
 * take only IP addresses; "address" keeps the pseudonym. False when out of memory. */
bool redact_apply(struct redact *r, struct strbuf *b, bool json);
/* Clients found so far (after the first redact_apply). */
size_t redact_clients(const struct redact *r);

#endif
