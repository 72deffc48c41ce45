/* icmp_path.c: see icmp_path.h. */
#include "detect/icmp_path.h"

#include <stdio.h>
#include <stdlib.h>

struct finding *icmp_path_finding(struct rule_ctx *rc, const struct icmp_event *e, size_t acc_size)
{
    const struct evidence *ev = e->ev;
    bool has_dst = ev->q_dst.family != NT_AF_NONE;
    uint8_t proto = ev->q_proto;
    uint16_t dport = ev->quote_has_ports ? ev->q_dport : 0;
    if (e->lookup) {
        proto = e->lookup->transport;
        dport = e->lookup->server_port;
    } else if (e->attempt) {
        proto = 6;
        dport = e->attempt->server_port;
    }
    char key[2 * NT_ADDR_FMT_MAX + 8], r[NT_ADDR_FMT_MAX], d[NT_ADDR_FMT_MAX] = "?";
    nt_addr_format(&ev->src, r, sizeof r);
    if (has_dst)
        nt_addr_format(&ev->q_dst, d, sizeof d);
    snprintf(key, sizeof key, "%s|%s", r, d);
    struct finding *f = rule_raise(rc, key);
    if (!f)
        return NULL;
    struct icmp_path_head *h = f->priv;
    if (!h) {
        h = calloc(1, acc_size);
        if (!h)
            return NULL;
        f->priv = h;
        f->priv_free = free;
        h->router = ev->src;
        h->has_dst = has_dst;
        h->dst = ev->q_dst;
        h->ip_version = ev->ip_version;
        h->proto = proto;
        h->dport = dport;
        if (has_dst) {
            f->has_server = true;
            f->server = ev->q_dst;
        }
        if (proto == 17 || proto == 6) {
            f->transport = proto == 6 ? 6 : 17;
            f->port = dport;
        }
        if (e->lookup && !e->quotes_response)
            f->service = "DNS";
    }
    if (dport != h->dport || proto != h->proto)
        h->mixed_ports = true;
    f->error_packets++;
    rule_take_icmp(rc);
    nt_time_widen(&h->first_error, &h->last_error, &ev->ts);
    finding_see_time(f, &ev->ts);
    return f;
}
