/* alert.h: the lines `nettriage watch` writes as incidents open, go on and close (events of
 * the incident tracker, detect/incident.h): one plain-text line, or one NDJSON object with
 * Elastic Common Schema names consistent with report/ndjson.c (event.kind "alert",
 * event.action "incident-opened", "incident-update", "incident-closed", "incident-ongoing").
 * Each call appends exactly one line ending in '\n'. */
#ifndef NT_REPORT_ALERT_H
#define NT_REPORT_ALERT_H

#include "detect/incident.h"
#include "util/strbuf.h"

void alert_text(struct strbuf *out, const struct incident_event *ev);
void alert_ndjson(struct strbuf *out, const struct incident_event *ev);

/* The tracker's counters (what was opened, closed, evicted, expired), as of its packet clock
 * (st->now): one text line, or one NDJSON object with
 * event.kind "metric", dataset "nettriage.watch". */
void alert_stats_text(struct strbuf *out, const struct incident_stats *st);
void alert_stats_ndjson(struct strbuf *out, const struct incident_stats *st);

/* "incident-opened", ... ; "recovered", "quiet", "input-ended", "evicted" (NULL for none). */
const char *alert_action_name(enum incident_action a);
const char *alert_close_reason_name(enum incident_close c);

#endif
