/* transport.c: what follows "src > dst: ": the transport (TCP flags, sequence numbers and
 * length; UDP length; -q's short forms; other protocols by name), the DNS message a UDP or TCP
 * payload carries, and the hand-over to ICMP. */
#include "source/text/text_internal.h"

/* "Flags [S.], cksum 0x.. (correct), seq 1:59, ack 1, win 64240, options [...], length 58" */
static void parse_tcp(struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    pkt->layers |= PKT_L_TCP;
    pkt->proto = 6;
    while (t.p < t.e && *t.p != ']') {
        const char *l = *t.p ? strchr(TCP_FLAG_LETTERS, *t.p) : NULL;
        if (l)
            pkt->tcp_flags |= (uint8_t)(1u << (l - TCP_FLAG_LETTERS));
        t.p++;
    }
    sc_lit(&t, "]");
    /* fields up to "length N" ("options [...]" may hold anything but no "length ") */
    const char *opt = find(t.p, t.e, "options [");
    const char *len = find(t.p, t.e, ", length ");
    if (opt && len && opt < len) {
        const char *oe = find(opt, t.e, "]");
        if (oe)
            len = find(oe, t.e, ", length ");
    }
    const char *fe = len ? len : t.e;
    uint64_t v;
    if (find_uint(t.p, fe, ", seq ", &v) && v <= UINT32_MAX)
        pkt->tcp_seq = (uint32_t)v;
    if (find_uint(t.p, fe, ", ack ", &v) && v <= UINT32_MAX)
        pkt->tcp_ack = (uint32_t)v;
    if (find_uint(t.p, fe, ", win ", &v) && v <= UINT16_MAX)
        pkt->tcp_win = (uint16_t)v;
    if (!len) {
        *s = t;
        return;
    }
    struct sc l = {len + 9, t.e};
    uint32_t plen = 0;
    if (sc_u32(&l, &plen))
        pkt->l4_payload_len = plen;
    /* 4.99 prints the DNS message after "length N ", newer versions after "length N: " */
    sc_lit(&l, ":");
    sc_ws(&l);
    if (plen && l.p < l.e && is_digit(*l.p)) {
        struct sc d = l;
        if (text_parse_dns(&d, &pkt->dns)) {
            pkt->layers |= PKT_L_DNS;
            l = d;
        }
    }
    *s = l;
}

/* Skips the checksum notes tcpdump -v prints before a payload. */
void text_skip_cksum_notes(struct sc *s)
{
    for (;;) {
        sc_ws(s);
        if (starts(s->p, s->e, "[udp sum ok]") || starts(s->p, s->e, "[bad udp cksum") ||
            starts(s->p, s->e, "[icmp6 sum ok]") || starts(s->p, s->e, "[bad icmp6 cksum") ||
            starts(s->p, s->e, "[no cksum]") || starts(s->p, s->e, "[udp sum")) {
            const char *b = find(s->p, s->e, "]");
            if (!b)
                return;
            s->p = b + 1;
            continue;
        }
        return;
    }
}

/* After "src > dst: ". Decides the transport from what is printed. */
void text_parse_payload(struct netctx *cx, struct sc *s, struct packet *pkt, int version,
                        bool ports)
{
    text_skip_cksum_notes(s);
    if (version == 4 && sc_lit(s, "ICMP ")) {
        text_parse_icmp4(cx, s, pkt);
        return;
    }
    if (version == 6) {
        const char *ic = find(s->p, s->e, "ICMP6, ");
        /* ICMP6 after extension headers ("HBH ", "frag (...) ") and checksum notes */
        if (ic && (ic - s->p) < 512 && !ports) {
            s->p = ic + 7;
            text_parse_icmp6(cx, s, pkt);
            return;
        }
    }
    /* GRE whose payload text_parse_tunnel did not follow (ERSPAN, NHRP, keepalives, ...) */
    if (starts(s->p, s->e, "GREv")) {
        pkt->proto = 47;
        return;
    }
    if (starts(s->p, s->e, "Flags [")) {
        s->p += 7;
        parse_tcp(s, pkt);
        return;
    }
    if (sc_lit(s, "tcp ")) { /* -q */
        pkt->layers |= PKT_L_TCP;
        pkt->proto = 6;
        uint32_t v;
        if (sc_u32(s, &v))
            pkt->l4_payload_len = v;
        return;
    }
    if (sc_lit(s, "UDP, length ") || sc_lit(s, "UDP, bad length ")) {
        pkt->layers |= PKT_L_UDP;
        pkt->proto = 17;
        uint32_t v;
        if (sc_u32(s, &v))
            pkt->l4_payload_len = v;
        return;
    }
    if (starts(s->p, s->e, "DCCP ")) {
        pkt->proto = 33;
        return;
    }
    if (starts(s->p, s->e, "sctp") || starts(s->p, s->e, "SCTP")) {
        pkt->proto = 132;
        return;
    }
    if (!ports)
        return;
    /* A transport with ports that is not TCP is UDP (TCP always prints "Flags"), unless the
     * -v header said otherwise. */
    if (pkt->proto == 6) {
        pkt->layers |= PKT_L_TCP;
    } else if (pkt->proto == 0 || pkt->proto == 17) {
        pkt->layers |= PKT_L_UDP;
        pkt->proto = 17;
    } else {
        return;
    }
    if (s->p < s->e && is_digit(*s->p)) {
        struct sc d = *s;
        if (text_parse_dns(&d, &pkt->dns)) {
            pkt->layers |= PKT_L_DNS;
            if (pkt->layers & PKT_L_UDP)
                pkt->l4_payload_len = pkt->dns.length;
            *s = d;
        }
    }
}
