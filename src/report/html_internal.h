/* html_internal.h: what the parts of the HTML report share (html.c: the document and its
 * sections; html_charts.c: the SVG timeline and the answer times per server). Not for use
 * outside src/report/html*.c. Every string from an input goes through esc_html once. */
#ifndef NT_REPORT_HTML_INTERNAL_H
#define NT_REPORT_HTML_INTERNAL_H

#include <stdint.h>

#include "detect/finding.h"
#include "report/analysis.h"
#include "util/addr.h"
#include "util/ntime.h"
#include "util/strbuf.h"

#define H_WINDOWS 10 /* incident windows shaded on the timeline */

/* A time, an address, a duration, and a finding's title with its service, HTML-escaped. */
void html_time(struct strbuf *o, const struct nt_time *t);
void html_addr(struct strbuf *o, const struct nt_addr *a);
void html_dur(struct strbuf *o, int64_t us);
void html_label(struct strbuf *o, const struct finding *f);

/* The sections of html_charts.c. */
void html_render_timeline(const struct analysis *a, struct strbuf *o);
void html_render_servers(const struct analysis *a, struct strbuf *o);

#endif
