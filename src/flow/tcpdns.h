/* tcpdns.h: DNS over TCP (RFC 7766 section 8, RFC 1035 section 4.2.2) reassembled from the TCP
 * segments of a capture, bounded in flows and bytes.
 *
 * Each direction of a TCP connection to or from port 53 or 5355 is one flow, keyed by its
 * 5-tuple. A flow holds the next expected sequence number and the bytes of the message it is
 * in the middle of (at most 2 + 65535). Policy:
 *  - a flow starts at a SYN (the stream begins after it) or, for a connection whose SYN was not
 *    captured, at the first segment that starts a plausible message: a length of at least 12;
 *    the prefix alone, the whole message, or at least 512 bytes of it (senders split a message
 *    only at the segment size, so a short segment holding less than its "message" is the middle
 *    of a stream); as far as the segment shows, a known opcode and at most one question;
 *  - in-order payload is appended; a segment wholly below the expected sequence number is a
 *    retransmission (counted; whatever decode read from it is dropped, since its messages were
 *    read the first time), one that straddles it is trimmed to its new bytes;
 *  - out-of-order segments are not held: a segment past the expected sequence number is a gap
 *    (counted); the flow drops its partial message and resynchronises on that segment when it
 *    starts a plausible message, else waits for one that does;
 *  - a segment cut short by the snap length is a gap too (counted as uncaptured);
 *  - FIN or RST ends the flow (after its payload); a partial message then is counted
 *    incomplete, as are those still held at the end of the input;
 *  - when TCPDNS_MAX_FLOWS flows are open or TCPDNS_MAX_BYTES are buffered, the flow used
 *    least recently is dropped (evicted);
 *  - a length below 12 cannot hold a DNS header: its bytes are skipped, counted as bad.
 * Each complete message is parsed with dns_parse_message into the packet of the segment that
 * completed it. A segment that completes several messages yields the first on its own packet
 * and the others as extra packets (copies of it, same number and time) from tcpdns_next. A
 * segment that starts at a message boundary and holds the whole message was already parsed by
 * decode (decode/tcp.c): that parse is kept, not repeated. Where the flow shows decode's parse
 * was of a segment in the middle of a message (bytes that only looked like a length), it is
 * removed. Tunnelled packets are left as decode saw them. */
#ifndef NT_FLOW_TCPDNS_H
#define NT_FLOW_TCPDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

#define TCPDNS_MAX_FLOWS 4096
#define TCPDNS_MAX_BYTES ((size_t)32 << 20)
#define TCPDNS_MSG_MAX   (65535u + 2u)
/* Messages one segment may complete beyond the first; the rest are counted dropped. */
#define TCPDNS_MAX_EXTRA 1024

struct tcpdns_stats {
    uint64_t segments;       /* segments with payload offered on a DNS port */
    uint64_t messages;       /* messages delivered from tracked flows */
    uint64_t reassembled;    /* of which no single segment held whole */
    uint64_t extra;          /* of which delivered as extra packets (several in one segment) */
    uint64_t retransmitted;  /* segments wholly below the expected sequence number */
    uint64_t gaps;           /* segments past the expected sequence number */
    uint64_t uncaptured;     /* segments cut short by the snap length */
    uint64_t evicted;        /* flows dropped to make room */
    uint64_t incomplete;     /* flows ended (FIN, RST, end of input) inside a message */
    uint64_t bad_length;     /* length prefixes below 12 */
    uint64_t dropped;        /* messages past TCPDNS_MAX_EXTRA in one segment */
    uint64_t decode_removed; /* decode's parses of mid-message segments removed */
};

struct tcpdns;

/* A new, empty reassembler following at most max_flows flows and holding at most max_bytes
 * (the defaults are TCPDNS_MAX_FLOWS and TCPDNS_MAX_BYTES); NULL when out of memory.
 * tcpdns_free(NULL) is a no-op. */
struct tcpdns *tcpdns_new(uint32_t max_flows, size_t max_bytes);
void tcpdns_free(struct tcpdns *t);

/* Offers a decoded packet; its payload is found in the bytes it was decoded from (pkt->data) at
 * the offset decode recorded (pkt->payload_off). Packets that are not TCP segments to or from a
 * DNS port are ignored cheaply. May change pkt's DNS message and PKT_L_DNS bit as described
 * above. Extra messages the segment completed wait for tcpdns_next. Returns -1 when out of
 * memory (the flow is dropped), else 0. */
int tcpdns_add(struct tcpdns *t, struct packet *pkt);

/* When the last segment offered completed more than one message, fills pkt with the next
 * (a copy of that segment's packet, without its SYN, FIN and RST flags, carrying that message)
 * and returns true; false when none is waiting. */
bool tcpdns_next(struct tcpdns *t, struct packet *pkt);

/* Counts the flows still inside a message at the end of the input, and drops every flow. */
void tcpdns_finish(struct tcpdns *t);

const struct tcpdns_stats *tcpdns_stats(const struct tcpdns *t);

#endif
