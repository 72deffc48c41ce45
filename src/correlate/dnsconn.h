/* dnsconn.h: what the capture shows of the TCP connections DNS lookups travel on (internal to
 * src/correlate/). The TCP tracker follows a connection's handshake only; a lookup over TCP also
 * depends on what happened after it: whether the server acknowledged the query, and whether it
 * closed the connection (FIN or RST) instead of answering. This table follows the connections
 * to a DNS port over TCP (53, 5355), keyed by their 4-tuple, and when a lookup over TCP closes
 * gives it those facts (dns_lookup.tcp).
 *
 * A connection is followed from the client's SYN, or from its first data segment when the SYN
 * was not captured; the server's segments only update a connection already followed. Per
 * connection it keeps: the server's SYN-ACK, the end of the client's data (sequence number after
 * its last byte) and when it came, the server's highest acknowledgement, the client's FIN, and
 * the server's first FIN or RST after the client's data, with its packet. At most
 * DNSCONN_MAX connections; past that the oldest is forgotten (its lookups then carry no facts,
 * which only keeps the older, more cautious reading). Everything is dropped at the end of each
 * input, after the lookups of that input were closed. */
#ifndef NT_CORRELATE_DNSCONN_H
#define NT_CORRELATE_DNSCONN_H

#include "correlate/correlate.h"

#define DNSCONN_MAX 16384

struct dnsconn_table;

struct dnsconn_table *dnsconn_new(uint32_t max_conns); /* default DNSCONN_MAX */
void dnsconn_free(struct dnsconn_table *t);
/* A TCP segment (PKT_L_TCP) at `now` on the correlator's clock. Segments that are not to or from
 * a DNS port are ignored cheaply. Returns NT_OK or NT_ERR_NOMEM (the connection is dropped). */
int dnsconn_packet(struct dnsconn_table *t, const struct packet *pkt, uint32_t input, int64_t now);
/* Fills l->tcp for a lookup over TCP that is being closed, from the connections of its client
 * ports. l->tcp.close points into the table: valid until the next call on it. */
void dnsconn_fill(struct dnsconn_table *t, struct dns_lookup *l);
/* End of an input: forgets every connection. */
void dnsconn_clear(struct dnsconn_table *t);
/* Connections forgotten to make room for new ones (the bound), over the table's life. */
uint64_t dnsconn_forgotten(const struct dnsconn_table *t);

#endif
