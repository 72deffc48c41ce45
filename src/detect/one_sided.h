/* one_sided.h: whether a finding's clients are hosts the capture holds one direction of
 * (correlate_stats.one_sided, correlate/sides.h), for the rules whose failures are silences: in
 * such a capture the absence of what came back is no evidence that nothing came. */
#ifndef NT_DETECT_ONE_SIDED_H
#define NT_DETECT_ONE_SIDED_H

#include <stdbool.h>
#include <stdint.h>

#include "detect/rule.h"

/* True when every client of f is one of the one-sided hosts the statistics kept (a finding with
 * clients past its list, or a client past the statistics' few, is not judged); *sent and
 * *unseen then sum their packets in the capture and their TCP connections established without a
 * captured SYN-ACK. */
bool finding_clients_one_sided(const struct rule_ctx *rc, const struct finding *f, uint64_t *sent,
                               uint64_t *unseen);

#endif
