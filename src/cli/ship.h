/* ship.h: --clickhouse: NDJSON events shipped to ClickHouse's HTTP interface in batches
 * (docs/clickhouse.md, "Shipping").
 *
 * Lines are gathered into a batch; a full batch (8 MiB, 50,000 lines, or a second old) is
 * written to the spool directory first (a file named by the time and the hash of its content,
 * written then renamed), then POSTed (libcurl) as `INSERT INTO <table> FORMAT JSONEachRow`; the
 * file is deleted only after an HTTP 200. A failed send is retried later, with a back-off of
 * 0.5 s doubling to 10 s, so a server that is briefly down loses nothing; batches left by an
 * earlier run go first. A batch sent twice (the server stored it but the answer was lost) holds
 * the same event ids, which the ReplacingMergeTree tables keep once. The spool is bounded: a
 * batch that would take it past the bound is not written, and its lines are counted as
 * overflowed and reported. A batch whose data the server refuses (a parse error: it would be
 * refused again) is moved to SPOOL/rejected, counted and reported. Credentials come from the
 * environment or a file, never the command line (ship_open). */
#ifndef NT_CLI_SHIP_H
#define NT_CLI_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ship;

struct ship_config {
    const char *url;       /* http://host:8123/ (no user:password@) */
    const char *table;     /* nettriage.events or nettriage.alerts */
    const char *spool_dir; /* created when missing */
    uint64_t spool_max;    /* bytes of batches kept at most */
    double wait_s;         /* at the end, how long to keep retrying before giving up */
    bool quiet;            /* no notes on standard error while retrying */
    bool spool_set, spool_max_set, wait_set;
};

struct ship_stats {
    uint64_t lines;            /* lines handed to ship_line */
    uint64_t batches_sent;     /* batches the server accepted (HTTP 200) */
    uint64_t lines_sent;       /* lines in them */
    uint64_t failures;         /* sends that failed (and were retried or left spooled) */
    uint64_t overflow_lines;   /* lines dropped because the spool was full */
    uint64_t overflow_batches; /* batches dropped because the spool was full */
    uint64_t left_batches;     /* batches still in the spool at the end */
    uint64_t rejected_lines;   /* lines of batches whose data the server refused */
    uint64_t rejected_batches; /* (kept in SPOOL/rejected, not retried) */
};

/* The command-line options of shipping, shared by report and watch. */
enum ship_option { SHIP_OPT_URL, SHIP_OPT_SPOOL, SHIP_OPT_SPOOL_MAX, SHIP_OPT_WAIT };
#define SHIP_DEFAULT_SPOOL     "nettriage-spool"
#define SHIP_DEFAULT_SPOOL_MAX (256ull << 20)
#define SHIP_DEFAULT_WAIT_S    60.0
/* Fills the defaults (no URL: no shipping). */
void ship_config_default(struct ship_config *cfg, const char *table);
/* Sets one option of command cmd ("report", "watch") from its argument; false after a usage
 * error on standard error (cli_usage_error). */
bool ship_set_option(struct ship_config *cfg, const char *cmd, enum ship_option which,
                     const char *arg);
/* The name of an option given without --clickhouse (NULL when none): they need it. */
const char *ship_orphan_option(const struct ship_config *cfg);

/* Opens the shipper: checks the URL (refused with credentials in it), reads the credentials
 * ($NETTRIAGE_CLICKHOUSE_USER and $NETTRIAGE_CLICKHOUSE_PASSWORD, or the file named by
 * $NETTRIAGE_CLICKHOUSE_CREDENTIALS holding "user:password" on its first line, which must not
 * be readable by group or others), creates and locks the spool directory. NULL with a message
 * on standard error on failure. */
struct ship *ship_open(const struct ship_config *cfg);
/* Adds one line (with or without its newline). */
void ship_line(struct ship *s, const char *line, size_t n);
/* Adds every line of a buffer of NDJSON lines. */
void ship_lines(struct ship *s, const char *buf, size_t n);
/* Seals the batch when it is old enough and sends what is due; cheap, call it often. */
void ship_tick(struct ship *s);
/* Seals the last batch, sends the spool for at most cfg.wait_s, frees everything; fills st.
 * True when every batch was delivered and none overflowed. */
bool ship_close(struct ship *s, struct ship_stats *st);
/* Says on standard error what was shipped, left in the spool and overflowed. */
void ship_report(const struct ship_stats *st, const char *spool_dir);

#endif
