/* dns_finding.c: see dns_finding.h. */
#include "detect/dns_finding.h"

#include <stdio.h>
#include <stdlib.h>

#include "detect/text.h"

struct finding *dns_server_finding(struct rule_ctx *rc, const struct dns_lookup *l, size_t acc_size,
                                   bool *created)
{
    /* The key "<server>|<transport>|<port>", written without printf (this runs for every
     * lookup a DNS finding counts); the address text is at most NT_ADDR_FMT_MAX - 1 bytes, so
     * the key always fits. */
    char key[NT_ADDR_FMT_MAX + 32];
    char *p = key + nt_addr_format(&l->server, key, NT_ADDR_FMT_MAX);
    p = text_put_bar_uint(p, l->transport);
    p = text_put_bar_uint(p, l->server_port);
    *p = '\0';
    *created = false;
    struct finding *f = rule_raise(rc, key);
    if (!f || f->priv)
        return f;
    f->priv = calloc(1, acc_size);
    if (!f->priv)
        return NULL;
    f->priv_free = free;
    f->transport = l->transport == 6 ? 6 : 17;
    f->port = l->server_port;
    f->service = "DNS";
    f->has_server = true;
    f->server = l->server;
    *created = true;
    return f;
}

void dns_finding_count(struct finding *f, const struct dns_lookup *l, uint64_t errors)
{
    finding_add_client(f, &l->client);
    char name[DNS_NAME_TEXT_MAX + 32];
    text_query_name(l, name, sizeof name);
    finding_add_name(f, name);
    f->lookups++;
    f->query_packets += l->transmissions;
    f->error_packets += errors;
    f->packets = f->query_packets + f->error_packets;
    if (l->late)
        f->late++;
}
