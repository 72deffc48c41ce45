/* flow.h: the flow stage, between decode and correlate. It puts back together what the
 * network split: IP fragments into datagrams (flow/reasm.h) and DNS messages over TCP into
 * whole messages (flow/tcpdns.h), over the packets of one input in capture order.
 *
 * It works on the bytes a packet was decoded from (packet.data): packets without them (tcpdump
 * text records, frames of link types decode does not read) pass unchanged. What it does to a
 * packet:
 *  - an IP fragment loses its transport layers (a partial datagram never counts as DNS, TCP or
 *    ICMP); the fragment that completes a datagram becomes the whole datagram, decoded as raw
 *    IP, with the fragment's number, time and VLAN tags;
 *  - a TCP segment to or from a DNS port may gain (or lose) its DNS message; when it completes
 *    several messages, the others come from flow_next as extra packets with the same number and
 *    time (they are not packets of the input);
 *  - the packet's frame (packet.frame, for evidence lines) is cleared whenever flow changed what
 *    decoding that frame again would give: fragments, reassembled datagrams, DNS-over-TCP
 *    segments.
 * Only fragments whose IP header follows the link header are reassembled (not those behind a
 * tunnel: they are counted unlocated), and only such TCP segments are followed. */
#ifndef NT_FLOW_FLOW_H
#define NT_FLOW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/packet.h"
#include "flow/reasm.h"
#include "flow/tcpdns.h"

/* What the stage measured over one input, for the report. */
struct flow_stats {
    struct reasm_stats frag;
    uint64_t frag_unlocated; /* fragments whose IP header could not be found (tunnels) */
    struct tcpdns_stats tcpdns;
};

struct flow;

/* The stage's bounds (options of `report`: --bound flow.NAME=N). */
struct flow_bounds {
    uint32_t frag_datagrams; /* IP datagrams in reassembly at once (REASM_MAX_DATAGRAMS) */
    size_t frag_bytes;       /* bytes they hold (REASM_MAX_BYTES) */
    uint32_t tcp_flows;      /* DNS-over-TCP flows followed at once (TCPDNS_MAX_FLOWS) */
    size_t tcp_bytes;        /* bytes they buffer (TCPDNS_MAX_BYTES) */
};

/* A new stage for one input, with the default bounds or with b; NULL when out of memory.
 * flow_free(NULL) is a no-op. */
struct flow *flow_new(void);
struct flow *flow_new_bounded(const struct flow_bounds *b);
void flow_free(struct flow *f);

/* Offers the next decoded packet of the input; may change it as described above. Bytes it
 * points to must stay valid until the next call. Out of memory drops one datagram's or one TCP
 * flow's state only, which the stats show. */
void flow_packet(struct flow *f, struct packet *pkt);

/* After flow_packet: fills pkt with the next extra DNS message the last segment completed and
 * returns true; false when none is waiting. */
bool flow_next(struct flow *f, struct packet *pkt);

/* At the end of the input: datagrams and messages still incomplete are counted and dropped. */
void flow_finish(struct flow *f);

const struct flow_stats *flow_stats(struct flow *f);

#endif
