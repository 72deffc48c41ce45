/* sides.h: which hosts the capture shows only one direction of (internal to src/correlate/).
 *
 * A capture point that sees one direction only (a tap or mirror port of one direction,
 * asymmetric routing past the capture point, a filter such as `src host`) shows a host's
 * queries and SYNs and none of what came back, which reads exactly like silence. The proof that
 * packets did reach such a host is TCP: a client that goes on after its SYN with an ACK or data
 * received the server's SYN-ACK (tcp_attempt.synack_unseen). A host is one-sided when at least
 * one of its TCP connections went on that way and the capture holds no packet addressed to it
 * at all.
 *
 * Per host sent (as a source): an exact count of its packets, for the first SIDES_MAX_HOSTS
 * sources (later sources are not judged). Received (as a destination): a Bloom filter of every
 * packet's destination address, two bits per address, so "nothing addressed to it" is never
 * wrong the other way: a false "received" only leaves a host unjudged, the old reading. Kept
 * over the whole run (several inputs together). */
#ifndef NT_CORRELATE_SIDES_H
#define NT_CORRELATE_SIDES_H

#include "correlate/correlate.h"

#define SIDES_MAX_HOSTS 65536

struct sides;

struct sides *sides_new(uint32_t max_hosts); /* default SIDES_MAX_HOSTS */
void sides_free(struct sides *s);
/* A packet with addresses (PKT_L_IP). Returns NT_OK or NT_ERR_NOMEM (the source is then not
 * counted, and not judged). */
int sides_packet(struct sides *s, const struct packet *pkt);
/* A TCP attempt from client established without its SYN-ACK in the capture. */
void sides_synack_unseen(struct sides *s, const struct nt_addr *client);
/* Fills st->one_sided_hosts and the first CORRELATE_ONE_SIDED_KEPT of them (most packets sent
 * first, then by address). */
void sides_judge(const struct sides *s, struct correlate_stats *st);

#endif
