/* one_sided.c: see one_sided.h. */
#include "detect/one_sided.h"

bool finding_clients_one_sided(const struct rule_ctx *rc, const struct finding *f, uint64_t *sent,
                               uint64_t *unseen)
{
    const struct correlate_stats *cs = rule_stats(rc);
    *sent = *unseen = 0;
    if (!cs || !f->n_clients || f->clients_dropped)
        return false;
    for (size_t i = 0; i < f->n_clients; i++) {
        size_t k = 0;
        while (k < cs->n_one_sided_kept && !nt_addr_eq(&cs->one_sided[k].host, &f->clients[i]))
            k++;
        if (k == cs->n_one_sided_kept)
            return false;
        *sent += cs->one_sided[k].sent;
        *unseen += cs->one_sided[k].synack_unseen;
    }
    return true;
}
