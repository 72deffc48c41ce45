/* record.c: one record (continuation lines joined): its timestamp, then what begins it: "IP",
 * "IP6", ARP, or the -e link header (Ethernet, VLAN tags), or interface and direction
 * columns. text_parse_record is declared in source/source.h. */
#include "source/text/text_internal.h"

/* "Request who-has T tell S", "Reply S is-at MAC" (optionally after "Ethernet (len 6), IPv4
 * (len 4), "): the sender and target protocol addresses go to src and dst, as the decoder
 * puts them. */
static void parse_arp(struct nt_names *names, struct sc *s, struct packet *pkt)
{
    struct endpoint a, b;
    const char *q = find(s->p, s->e, "Request who-has ");
    const char *r = find(s->p, s->e, "Reply ");
    pkt->layers |= PKT_L_ARP;
    if (q && (!r || q < r)) {
        struct sc t = {q + 16, s->e};
        size_t n = tok_len(&t);
        if (!n || !text_parse_endpoint(names, t.p, n, EP_NOPORT, &b))
            return;
        t.p += n;
        pkt->arp_op = 1;
        pkt->dst = b.addr;
        const char *tl = find(t.p, t.e, " tell ");
        if (!tl || tl - t.p > 64)
            return;
        t.p = tl + 6;
        n = tok_len(&t);
        while (n && t.p[n - 1] == ',')
            n--;
        if (n && text_parse_endpoint(names, t.p, n, EP_NOPORT, &a))
            pkt->src = a.addr;
    } else if (r) {
        struct sc t = {r + 6, s->e};
        size_t n = tok_len(&t);
        if (!n || !text_parse_endpoint(names, t.p, n, EP_NOPORT, &a))
            return;
        pkt->arp_op = 2;
        pkt->src = a.addr;
        t.p += n;
        if (sc_lit(&t, " is-at ") && text_is_mac(t.p, t.e)) {
            for (int i = 0; i < 6; i++)
                pkt->arp_sha[i] = (uint8_t)(hex_val(t.p[3 * i]) << 4 | hex_val(t.p[3 * i + 1]));
        }
    }
}

/* Link layer (-e): "src > dst, ethertype IPv4 (0x0800), length N: ", following at most 4
 * ethertypes through VLAN tags (the first 2 kept), then the network part or ARP. */
static void parse_link(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc t = *s;
    uint32_t ethertype = 0;
    for (int hops = 0; hops < 4; hops++) {
        const char *et = find(t.p, t.e, "ethertype ");
        if (!et || et - t.p > 256)
            return;
        t.p = et + 10;
        const char *hx = find(t.p, t.e, " (0x");
        if (!hx || hx - t.p > 64)
            return;
        t.p = hx + 4;
        if (!sc_hex(&t, &ethertype) || !sc_lit(&t, ")"))
            return;
        if (sc_lit(&t, ", length ")) {
            uint32_t len;
            if (sc_u32(&t, &len) && hops == 0)
                pkt->caplen = pkt->wirelen = len;
            sc_lit(&t, ":");
        } else {
            sc_lit(&t, ",");
        }
        sc_ws(&t);
        if (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) {
            uint16_t vid;
            if (sc_lit(&t, "vlan ") && sc_u16(&t, &vid) && pkt->n_vlan < 2)
                pkt->vlan[pkt->n_vlan++] = vid;
            continue;
        }
        break;
    }
    switch (ethertype) {
    case 0x0800:
        sc_lit(&t, "IP ");
        text_parse_network(cx, &t, pkt, 4);
        break;
    case 0x86dd:
        sc_lit(&t, "IP6 ");
        text_parse_network(cx, &t, pkt, 6);
        break;
    case 0x0806:
    case 0x8035:
        parse_arp(cx->st->names, &t, pkt);
        break;
    default:
        break;
    }
    *s = t;
}

/* The interface and direction columns tcpdump 4.99 prints for "-i any" (Linux cooked v2)
 * and PKTAP before the protocol: "eth0  Out IP ...", "lo    In  IP ...", "wlan0 M   IP6 ...",
 * "eth0  B   ARP, ...", "eth0  P   IP ..." (In, Out, broadcast, multicast, to another host);
 * with -e the link part follows ("eth0  Out ifindex 2 00:11:22:33:44:55 ethertype IPv4 ...").
 * Returns false (s unchanged) when the record does not begin with them. */
static bool parse_if_dir(struct netctx *cx, struct sc *s, struct packet *pkt)
{
    struct sc f = *s;
    size_t n = tok_len(&f);
    if (n == 0 || n > 32)
        return false;
    f.p += n;
    const char *gap = f.p;
    sc_ws(&f);
    if (f.p == gap)
        return false;
    static const char *const dirs[] = {"In", "Out", "M", "B", "P"};
    size_t d = tok_len(&f), k;
    for (k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        if (d == strlen(dirs[k]) && memcmp(f.p, dirs[k], d) == 0)
            break;
    }
    if (k == sizeof dirs / sizeof dirs[0])
        return false;
    f.p += d;
    gap = f.p;
    sc_ws(&f);
    if (f.p == gap)
        return false;
    if (sc_lit(&f, "IP6 "))
        text_parse_network(cx, &f, pkt, 6);
    else if (sc_lit(&f, "IP "))
        text_parse_network(cx, &f, pkt, 4);
    else if (starts(f.p, f.e, "ARP, ") || starts(f.p, f.e, "RARP, "))
        parse_arp(cx->st->names, &f, pkt);
    else
        parse_link(cx, &f, pkt);
    *s = f;
    return true;
}

bool text_parse_record(struct text_state *st, const char *rec, size_t len, struct packet *pkt)
{
    struct sc s = {rec, rec + len};
    struct tsval v;
    struct sc body;
    if (!text_record_start(s.p, s.e, st->ts_mode, &body, &v))
        return false;
    text_apply_stamp(st, &v, &pkt->ts);
    pkt->linktype = -1;
    pkt->line = rec;
    pkt->line_len = len;
    struct netctx cx = {st, 0};
    s = body;
    if (sc_lit(&s, "IP6 ")) {
        text_parse_network(&cx, &s, pkt, 6);
    } else if (sc_lit(&s, "IP ")) {
        text_parse_network(&cx, &s, pkt, 4);
    } else if (sc_lit(&s, "ip: ")) { /* 4.99 -e on raw IP links */
        text_parse_network(&cx, &s, pkt, 4);
    } else if (starts(s.p, s.e, "ARP, ") || starts(s.p, s.e, "RARP, ")) {
        parse_arp(st->names, &s, pkt);
    } else if (!parse_if_dir(&cx, &s, pkt)) {
        parse_link(&cx, &s, pkt);
    }
    return true;
}
