/* observer.h: what makes NDJSON events from many sensors mergeable in one fleet store
 * (docs/clickhouse.md): the sensor that wrote each event (ECS observer.name, observer.hostname)
 * and a stable event id derived from the event's content (ECS event.id), so that the events of
 * many sensors are told apart and a batch sent twice is stored once (ClickHouse's
 * ReplacingMergeTree keyed on the id). Also ECS related.hosts with a lookup's question name:
 * ClickHouse 18.16 maps nested JSON to columns one level deep only (`related.hosts`), and
 * dns.question.name is two levels deep. */
#ifndef NT_REPORT_OBSERVER_H
#define NT_REPORT_OBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/jsonw.h"

/* Longest sensor name or host name kept (a longer --sensor is refused by the CLI). */
#define OBSERVER_NAME_MAX 255
/* An event id: 32 lower-case hex digits (128 bits). */
#define OBSERVER_ID_LEN 32

/* Sets observer.name (NULL or "": the host name). observer.hostname is the host name
 * (gethostname), or $NETTRIAGE_HOSTNAME when set (containers whose host name means nothing,
 * reproducible output in tests). False when name is longer than OBSERVER_NAME_MAX or holds a
 * control character. */
bool observer_set_name(const char *name);
/* The sensor name events carry (resolved on first use). */
const char *observer_name(void);
const char *observer_hostname(void);

/* Writes the member "id" with a placeholder the event's end replaces with the id; call it once
 * per event, inside its "event" object. */
void ndjson_event_id(struct jsonw *w);
/* Ends an event's fleet members: writes "observer" (name, hostname), then hashes the line so
 * far (the id placeholder still zero) and writes the hash into the placeholder. Call it just
 * before the event's closing brace. ("related", which the fleet store reads the question name
 * from, is the event's own: ndjson.c writes it with the question name first.) */
void ndjson_observer_end(struct jsonw *w);

/* The 128-bit content hash of n bytes as 32 hex digits and a NUL (also the batch id of a spool
 * file in --clickhouse shipping). */
void observer_hash_hex(const void *data, size_t n, char out[OBSERVER_ID_LEN + 1]);

#endif
