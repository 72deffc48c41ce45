/* evline.c: the tcpdump-style line of a captured packet that the report cites, made when it is
 * printed. Correlate and detect keep the packet's facts and a copy of its bytes
 * (struct evidence.frame); the line is formatted here, only for the few packets a report shows,
 * by decoding those bytes again exactly as the source decoded them. */
#include "report/evline.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

bool evline_fill(struct evidence *ev, struct packet *scratch)
{
    if (ev->text || !ev->frame)
        return true;
    packet_reset(scratch);
    scratch->caplen = ev->frame_len;
    scratch->wirelen = ev->frame_wirelen;
    scratch->linktype = ev->frame_linktype;
    decode_packet(scratch, ev->frame_linktype, ev->frame, ev->frame_len);
    char buf[EVIDENCE_LINE_MAX];
    size_t n = packet_format_line(scratch, buf, sizeof buf);
    ev->text = malloc(n + 1);
    if (!ev->text)
        return false;
    memcpy(ev->text, buf, n);
    ev->text[n] = '\0';
    return true;
}

bool evline_fill_analysis(struct analysis *a)
{
    struct packet *scratch = malloc(sizeof *scratch);
    if (!scratch)
        return false;
    bool ok = true;
    for (size_t i = 0; i < a->n_findings && ok; i++) {
        struct finding *f = a->findings[i];
        for (size_t k = 0; k < f->n_evidence && ok; k++)
            ok = evline_fill(&f->evidence[k], scratch);
    }
    for (size_t i = 0; i < a->n_unmatched_examples && ok; i++)
        ok = evline_fill(&a->unmatched_examples[i], scratch);
    for (size_t i = 0; i < a->n_not_taken_examples && ok; i++)
        ok = evline_fill(&a->not_taken_examples[i], scratch);
    free(scratch);
    return ok;
}
