/* fleet.h: the fleet report (`nettriage fleet`): what many sensors' events in the fleet store
 * (docs/clickhouse.sql) say about a time range, as a model the CLI fills from ClickHouse and
 * the renderers here turn into Markdown, JSON or HTML (text is made only here, escaped for its
 * medium). Times are microseconds since 1970, UTC. */
#ifndef NT_REPORT_FLEET_H
#define NT_REPORT_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* One sensor's view of a finding. */
struct fleet_seen {
    char *sensor;
    uint64_t onset_us, last_us, lookups;
};

/* A finding as the fleet saw it: the rows of every sensor with the same rule, server, port
 * and transport, merged; onset is the earliest sensor's. */
struct fleet_finding {
    char *rule_id, *title, *severity, *service, *server, *transport, *summary;
    char *onset_sensor; /* the sensor that saw it first */
    uint64_t port, onset_us, last_us, lookups, clients, severity_n;
    struct fleet_seen *seen; /* sorted by onset */
    size_t n_seen;
};

/* A server whose lookups failed, across sites. */
struct fleet_server {
    char *server, *transport;
    uint64_t port, sensors, since_us, last_us, failures, lookups, clients;
};

/* Answer times of one server seen from one sensor (answered lookups). */
struct fleet_rtt {
    char *sensor, *server;
    uint64_t answers;
    int64_t p50_us, p90_us, p99_us;
};

/* A question name that failed. */
struct fleet_name {
    char *name;
    uint64_t failures, sensors, clients;
};

/* A sensor's coverage: the lookups it stored in the range. */
struct fleet_sensor {
    char *sensor;
    uint64_t first_us, last_us, lookups, failures;
};

struct fleet_report {
    const char *version;
    char *store;             /* the server's URL (no credentials are ever in it) */
    uint64_t from_us, to_us; /* the range asked (0 and UINT64_MAX: unbounded) */
    struct fleet_finding *findings;
    size_t n_findings;
    struct fleet_server *servers;
    size_t n_servers;
    struct fleet_rtt *rtts;
    size_t n_rtts;
    struct fleet_name *names;
    size_t n_names;
    struct fleet_sensor *sensors;
    size_t n_sensors;
};

void fleet_render_md(const struct fleet_report *r, struct strbuf *out);
void fleet_render_json(const struct fleet_report *r, struct strbuf *out);
void fleet_render_html(const struct fleet_report *r, struct strbuf *out);
void fleet_report_fini(struct fleet_report *r);

#endif
