/* flow.c: the flow stage (see flow.h): IP fragment reassembly, then DNS over TCP reassembly,
 * over each decoded packet of one input. */
#include "flow/flow.h"

#include <stdlib.h>

#include "decode/decode.h"
#include "decode/ports.h"

struct flow {
    struct reasm *reasm;
    struct tcpdns *tcpdns;
    struct flow_stats st;
};

struct flow *flow_new(void)
{
    const struct flow_bounds b = {REASM_MAX_DATAGRAMS, REASM_MAX_BYTES, TCPDNS_MAX_FLOWS,
                                  TCPDNS_MAX_BYTES};
    return flow_new_bounded(&b);
}

struct flow *flow_new_bounded(const struct flow_bounds *b)
{
    struct flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->reasm = reasm_new(b->frag_datagrams, b->frag_bytes);
    f->tcpdns = tcpdns_new(b->tcp_flows, b->tcp_bytes);
    if (!f->reasm || !f->tcpdns) {
        flow_free(f);
        return NULL;
    }
    return f;
}

void flow_free(struct flow *f)
{
    if (!f)
        return;
    reasm_free(f->reasm);
    tcpdns_free(f->tcpdns);
    free(f);
}

/* A partial datagram never counts as DNS, TCP or ICMP: its transport header (in the first
 * fragment) describes bytes that are not here. */
static void strip_transport(struct packet *pkt)
{
    pkt->layers &= ~(uint32_t)(PKT_L_UDP | PKT_L_TCP | PKT_L_ICMP | PKT_L_DNS);
}

/* Feeds an IP fragment to reassembly; when it completes a datagram, pkt becomes that datagram
 * (decoded as raw IP from the reassembler's bytes, keeping the fragment's number, time and
 * VLAN tags). */
static void reassemble(struct flow *f, struct packet *pkt)
{
    if (!pkt->fragment || !(pkt->layers & PKT_L_IP)) {
        reasm_expire(f->reasm, &pkt->ts);
        return;
    }
    strip_transport(pkt);
    /* Only a fragment whose IP header follows the link header (decode's offsets say where it
     * read it) is reassembled: behind a tunnel or MPLS labels, the datagram decoded as raw IP
     * would lose what carried it. */
    if (pkt->n_tunnels || pkt->net_off != pkt->l2_len || pkt->net_off >= pkt->data_len) {
        f->st.frag_unlocated++;
        return;
    }
    const uint8_t *dg;
    size_t dg_len;
    if (reasm_add(f->reasm, &pkt->ts, pkt->data + pkt->net_off, pkt->data_len - pkt->net_off, &dg,
                  &dg_len) != 1)
        return;
    uint64_t num = pkt->num;
    struct nt_time ts = pkt->ts;
    uint16_t vlan[2] = {pkt->vlan[0], pkt->vlan[1]};
    uint8_t n_vlan = pkt->n_vlan;
    packet_reset(pkt);
    pkt->num = num;
    pkt->ts = ts;
    pkt->caplen = pkt->wirelen = (uint32_t)dg_len;
    decode_packet(pkt, NT_LINKTYPE_RAW, dg, dg_len);
    pkt->vlan[0] = vlan[0];
    pkt->vlan[1] = vlan[1];
    pkt->n_vlan = n_vlan;
}

void flow_packet(struct flow *f, struct packet *pkt)
{
    if (!pkt->data)
        return;
    const uint8_t *read = pkt->data;
    reassemble(f, pkt);
    /* Decoding the frame again gives this packet only when neither IP reassembly nor DNS-over-
     * TCP reassembly may change its view. */
    bool tcp_dns =
        (pkt->layers & PKT_L_TCP) && (nt_port_dns_tcp(pkt->sport) || nt_port_dns_tcp(pkt->dport));
    if (pkt->data != read || pkt->fragment || tcp_dns) {
        pkt->frame = NULL;
        pkt->frame_len = 0;
        pkt->frame_linktype = 0;
    }
    /* DNS over TCP: the packet may gain (or lose) its DNS message; extra messages the segment
     * completed wait in the reassembler for flow_next. Out of memory drops one flow's state
     * only, which the stats show. */
    (void)tcpdns_add(f->tcpdns, pkt);
}

bool flow_next(struct flow *f, struct packet *pkt)
{
    return tcpdns_next(f->tcpdns, pkt);
}

void flow_finish(struct flow *f)
{
    reasm_finish(f->reasm);
    tcpdns_finish(f->tcpdns);
}

const struct flow_stats *flow_stats(struct flow *f)
{
    f->st.frag = *reasm_stats(f->reasm);
    f->st.tcpdns = *tcpdns_stats(f->tcpdns);
    return &f->st;
}
