-- docs/clickhouse.sql: the fleet store of nettriage's NDJSON events in ClickHouse (written for
-- 18.16, Debian bookworm's clickhouse-server; see docs/clickhouse.md).
--
-- Run it on every server of the cluster (each is a shard):
--   clickhouse-client --multiquery < docs/clickhouse.sql
-- The cluster is `nettriage_fleet` in the servers' <remote_servers> configuration (one shard
-- per server; docs/clickhouse.md shows it). Sensors insert into the Distributed tables
-- nettriage.events (report streams) and nettriage.alerts (watch alert streams), which send
-- each sensor's rows to one shard (sharding key: the sensor's name). On the shard, the
-- landing tables store nothing (engine Null): materialized views take each kind of event into
-- its own table, partitioned by day and ordered for the fleet questions. The fleet queries
-- read the Distributed tables over those (lookups, icmp_errors, tcp_attempts, findings,
-- incidents), which ask every shard.
--
-- Duplicates: every event has a stable id (event.id, a hash of its content and its sensor).
-- The tables are ReplacingMergeTree ordered with the id last, so rows sent twice (a batch
-- re-sent after a failure whose first send was in fact stored) become one when parts merge;
-- queries that count use FINAL, which merges at read time (ClickHouse's insert_deduplicate
-- needs Replicated tables and ZooKeeper; this schema does not).
--
-- Events whose time has no date (tcpdump text printed without -tttt) have no @timestamp and
-- cannot be placed in fleet time: the views leave them out.

CREATE DATABASE IF NOT EXISTS nettriage;

-- Landing table of `report --format ndjson` streams (and of watch's --report-format ndjson
-- report): the fields the views use, named as the JSON paths (one level of nesting, which is
-- what input_format_import_nested_json=1 maps in 18.16). Insert with
--   input_format_import_nested_json=1, input_format_skip_unknown_fields=1.
-- ClickHouse takes Array columns named `p.a`, `p.b` as one Nested structure whose arrays must
-- have the same length in every row: so at most one Array column per prefix here
-- (nettriage.clients; a finding's query names are not kept).
CREATE TABLE IF NOT EXISTS nettriage.events_local
(
    `@timestamp` String,
    `event.id` String,
    `event.dataset` String,
    `event.outcome` String,
    `event.duration` Int64,
    `event.end` String,
    `event.severity` UInt8,
    `observer.name` String,
    `observer.hostname` String,
    `source.ip` String,
    `source.address` String,
    `source.port` UInt16,
    `destination.ip` String,
    `destination.address` String,
    `destination.port` UInt16,
    `network.transport` String,
    `dns.response_code` String,
    `related.hosts` Array(String),
    `icmp.version` UInt8,
    `nettriage.icmp_kind` String,
    `rule.id` String,
    `rule.name` String,
    `message` String,
    `nettriage.outcome` String,
    `nettriage.rtt_ms` Float64,
    `nettriage.elapsed_ms` Float64,
    `nettriage.transmissions` UInt32,
    `nettriage.severity` String,
    `nettriage.service` String,
    `nettriage.lookups` UInt64,
    `nettriage.clients` Array(String),
    `nettriage.syns` UInt32
) ENGINE = Null;

-- Landing table of `watch --format ndjson` alert streams (incident opened / updated / closed).
-- Its nettriage.clients is a count, not a list: hence a table of its own.
CREATE TABLE IF NOT EXISTS nettriage.alerts_local
(
    `@timestamp` String,
    `event.id` String,
    `event.dataset` String,
    `event.action` String,
    `event.start` String,
    `event.end` String,
    `observer.name` String,
    `observer.hostname` String,
    `destination.ip` String,
    `destination.address` String,
    `destination.port` UInt16,
    `network.transport` String,
    `rule.id` String,
    `message` String,
    `nettriage.incident` UInt64,
    `nettriage.service` String,
    `nettriage.failures` UInt64,
    `nettriage.clients` UInt64
) ENGINE = Null;

-- One row per DNS lookup (dataset nettriage.dns). Ordered by server then time: "which servers
-- fail, since when" reads one server's rows in time order.
CREATE TABLE IF NOT EXISTS nettriage.lookups_local
(
    day Date,
    ts DateTime,
    ts_us UInt64, -- microseconds since 1970 (UTC)
    id String,
    sensor String,
    sensor_host String,
    client String,
    client_port UInt16,
    server String,
    server_port UInt16,
    transport String,
    qname String,
    outcome String,   -- answered, icmp_error, unanswered, ... (nettriage.outcome)
    failed UInt8,     -- event.outcome = failure: SERVFAIL/REFUSED/NOTIMP/FORMERR, ICMP, silence
    rcode String,
    rtt_ms Float64,   -- answered only
    elapsed_ms Float64,
    transmissions UInt32,
    icmp_kind String  -- the ICMP error's kind ("port unreachable"), nettriage.icmp_kind
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(day)
ORDER BY (server, ts_us, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS nettriage.lookups_mv TO nettriage.lookups_local AS
SELECT
    parseDateTimeBestEffortOrZero(`@timestamp`) AS ts,
    toDate(ts) AS day,
    toUInt64(ts) * 1000000 + toUInt64OrZero(substring(`@timestamp`, 21, 6)) AS ts_us,
    `event.id` AS id,
    `observer.name` AS sensor,
    `observer.hostname` AS sensor_host,
    if(`source.ip` != '', `source.ip`, `source.address`) AS client,
    `source.port` AS client_port,
    if(`destination.ip` != '', `destination.ip`, `destination.address`) AS server,
    `destination.port` AS server_port,
    `network.transport` AS transport,
    -- the question name is related.hosts[1] when the lookup has a question (ndjson.c writes it
    -- first); a lookup without one has no name here but its answers'
    if(length(`related.hosts`) > 0, `related.hosts`[1], '') AS qname,
    `nettriage.outcome` AS outcome,
    `event.outcome` = 'failure' AS failed,
    `dns.response_code` AS rcode,
    `nettriage.rtt_ms` AS rtt_ms,
    `nettriage.elapsed_ms` AS elapsed_ms,
    `nettriage.transmissions` AS transmissions,
    `nettriage.icmp_kind` AS icmp_kind
FROM nettriage.events_local
WHERE `event.dataset` = 'nettriage.dns' AND `@timestamp` != '';

-- One row per ICMP error (dataset nettriage.icmp): who sent it, to whom.
CREATE TABLE IF NOT EXISTS nettriage.icmp_errors_local
(
    day Date,
    ts DateTime,
    ts_us UInt64,
    id String,
    sensor String,
    sender String,
    target String,
    icmp_version UInt8 -- 4 or 6 (icmp.version; the type and code, icmp.response.*, are two
                       -- levels deep, which 18.16's JSONEachRow does not reach)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(day)
ORDER BY (sender, ts_us, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS nettriage.icmp_errors_mv TO nettriage.icmp_errors_local AS
SELECT
    parseDateTimeBestEffortOrZero(`@timestamp`) AS ts,
    toDate(ts) AS day,
    toUInt64(ts) * 1000000 + toUInt64OrZero(substring(`@timestamp`, 21, 6)) AS ts_us,
    `event.id` AS id,
    `observer.name` AS sensor,
    if(`source.ip` != '', `source.ip`, `source.address`) AS sender,
    if(`destination.ip` != '', `destination.ip`, `destination.address`) AS target,
    `icmp.version` AS icmp_version
FROM nettriage.events_local
WHERE `event.dataset` = 'nettriage.icmp' AND `@timestamp` != '';

-- One row per TCP connection attempt (dataset nettriage.tcp): SYNs and their outcome.
CREATE TABLE IF NOT EXISTS nettriage.tcp_attempts_local
(
    day Date,
    ts DateTime,
    ts_us UInt64,
    id String,
    sensor String,
    client String,
    server String,
    server_port UInt16,
    outcome String,  -- established, refused, icmp_error, unanswered, ... (nettriage.outcome)
    failed UInt8,
    syns UInt32,
    rtt_ms Float64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(day)
ORDER BY (server, server_port, ts_us, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS nettriage.tcp_attempts_mv TO nettriage.tcp_attempts_local AS
SELECT
    parseDateTimeBestEffortOrZero(`@timestamp`) AS ts,
    toDate(ts) AS day,
    toUInt64(ts) * 1000000 + toUInt64OrZero(substring(`@timestamp`, 21, 6)) AS ts_us,
    `event.id` AS id,
    `observer.name` AS sensor,
    if(`source.ip` != '', `source.ip`, `source.address`) AS client,
    if(`destination.ip` != '', `destination.ip`, `destination.address`) AS server,
    `destination.port` AS server_port,
    `nettriage.outcome` AS outcome,
    `event.outcome` = 'failure' AS failed,
    `nettriage.syns` AS syns,
    `nettriage.rtt_ms` AS rtt_ms
FROM nettriage.events_local
WHERE `event.dataset` = 'nettriage.tcp' AND `@timestamp` != '';

-- One row per finding (dataset nettriage.finding), as each sensor's report raised it.
CREATE TABLE IF NOT EXISTS nettriage.findings_local
(
    day Date,
    ts DateTime,
    ts_us UInt64,      -- its first evidence
    last_us UInt64,    -- its last evidence
    id String,
    sensor String,
    rule_id String,
    title String,
    severity String,
    severity_n UInt8,
    service String,
    server String,
    port UInt16,
    transport String,
    summary String,
    lookups UInt64,
    clients Array(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(day)
ORDER BY (rule_id, server, ts_us, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS nettriage.findings_mv TO nettriage.findings_local AS
SELECT
    parseDateTimeBestEffortOrZero(`@timestamp`) AS ts,
    toDate(ts) AS day,
    toUInt64(ts) * 1000000 + toUInt64OrZero(substring(`@timestamp`, 21, 6)) AS ts_us,
    toUInt64(parseDateTimeBestEffortOrZero(`event.end`)) * 1000000
        + toUInt64OrZero(substring(`event.end`, 21, 6)) AS last_us,
    `event.id` AS id,
    `observer.name` AS sensor,
    `rule.id` AS rule_id,
    `rule.name` AS title,
    `nettriage.severity` AS severity,
    `event.severity` AS severity_n,
    `nettriage.service` AS service,
    if(`destination.ip` != '', `destination.ip`, `destination.address`) AS server,
    `destination.port` AS port,
    `network.transport` AS transport,
    `message` AS summary,
    `nettriage.lookups` AS lookups,
    `nettriage.clients` AS clients
FROM nettriage.events_local
WHERE `event.dataset` = 'nettriage.finding' AND `@timestamp` != '';

-- One row per watch alert (dataset nettriage.incident): an incident opened, went on, closed.
CREATE TABLE IF NOT EXISTS nettriage.incidents_local
(
    day Date,
    ts DateTime,
    ts_us UInt64,
    first_failure_us UInt64,
    id String,
    sensor String,
    incident UInt64,
    action String,    -- opened, update, closed
    rule_id String,
    service String,
    server String,
    port UInt16,
    transport String,
    failures UInt64,
    clients UInt64,
    summary String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(day)
ORDER BY (server, port, ts_us, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS nettriage.incidents_mv TO nettriage.incidents_local AS
SELECT
    parseDateTimeBestEffortOrZero(`@timestamp`) AS ts,
    toDate(ts) AS day,
    toUInt64(ts) * 1000000 + toUInt64OrZero(substring(`@timestamp`, 21, 6)) AS ts_us,
    toUInt64(parseDateTimeBestEffortOrZero(`event.start`)) * 1000000
        + toUInt64OrZero(substring(`event.start`, 21, 6)) AS first_failure_us,
    `event.id` AS id,
    `observer.name` AS sensor,
    `nettriage.incident` AS incident,
    `event.action` AS action,
    `rule.id` AS rule_id,
    `nettriage.service` AS service,
    if(`destination.ip` != '', `destination.ip`, `destination.address`) AS server,
    `destination.port` AS port,
    `network.transport` AS transport,
    `nettriage.failures` AS failures,
    `nettriage.clients` AS clients,
    `message` AS summary
FROM nettriage.alerts_local
WHERE `event.dataset` = 'nettriage.incident' AND `@timestamp` != '';

-- The Distributed tables: where sensors insert (events, alerts; a sensor's rows go to one
-- shard, chosen by its name) and what the fleet queries read (every shard).
CREATE TABLE IF NOT EXISTS nettriage.events AS nettriage.events_local
ENGINE = Distributed(nettriage_fleet, nettriage, events_local, cityHash64(`observer.name`));
CREATE TABLE IF NOT EXISTS nettriage.alerts AS nettriage.alerts_local
ENGINE = Distributed(nettriage_fleet, nettriage, alerts_local, cityHash64(`observer.name`));
CREATE TABLE IF NOT EXISTS nettriage.lookups AS nettriage.lookups_local
ENGINE = Distributed(nettriage_fleet, nettriage, lookups_local, cityHash64(sensor));
CREATE TABLE IF NOT EXISTS nettriage.icmp_errors AS nettriage.icmp_errors_local
ENGINE = Distributed(nettriage_fleet, nettriage, icmp_errors_local, cityHash64(sensor));
CREATE TABLE IF NOT EXISTS nettriage.tcp_attempts AS nettriage.tcp_attempts_local
ENGINE = Distributed(nettriage_fleet, nettriage, tcp_attempts_local, cityHash64(sensor));
CREATE TABLE IF NOT EXISTS nettriage.findings AS nettriage.findings_local
ENGINE = Distributed(nettriage_fleet, nettriage, findings_local, cityHash64(sensor));
CREATE TABLE IF NOT EXISTS nettriage.incidents AS nettriage.incidents_local
ENGINE = Distributed(nettriage_fleet, nettriage, incidents_local, cityHash64(sensor));
