/* evline.h: evidence lines made at report time (see evline.c). */
#ifndef NT_REPORT_EVLINE_H
#define NT_REPORT_EVLINE_H

#include <stdbool.h>

#include "correlate/evidence.h"
#include "decode/packet.h"
#include "report/analysis.h"

/* Sets ev->text from its frame when it has none yet (scratch: any packet buffer). Returns
 * false on out of memory. */
bool evline_fill(struct evidence *ev, struct packet *scratch);
/* Fills the lines of every evidence the report can print: the findings' and the unmatched
 * ICMP examples'. Returns false on out of memory. */
bool evline_fill_analysis(struct analysis *a);

#endif
