/* ticket.h: the options that set a report in its incident ticket, shared by report and watch:
 * --reported, --actions (quoted in the report), --date (dates tcpdump text printed with times
 * of day only) and --timezone (the zone every dated time is written in, and --date's times of
 * day are read in). */
#ifndef NT_CLI_TICKET_H
#define NT_CLI_TICKET_H

#include <stdbool.h>

#include "util/ntime.h"

struct analysis;
struct pipeline_config;

struct cli_ticket {
    const char *reported; /* --reported TEXT, or NULL */
    const char *actions;  /* --actions TEXT, or NULL */
    const char *date;     /* --date YYYY-MM-DD as given, or NULL */
    struct nt_zone zone;  /* --timezone (UTC when not given) */
};

/* The options are numbered 0 --reported, 1 --actions, 2 --date, 3 --timezone: a command's
 * option table gives them the values BASE + 0 to BASE + 3 and hands ch - BASE here. */
#define CLI_TICKET_OPTIONS 4

/* Takes option number i with its value into t and cfg (--date sets cfg's date); false after a
 * usage error said for command cmd. */
bool cli_ticket_option(const char *cmd, int i, const char *arg, struct cli_ticket *t,
                       struct pipeline_config *cfg);

/* Before pipeline_new: --date's times of day are read in the --timezone zone. */
void cli_ticket_config(const struct cli_ticket *t, struct pipeline_config *cfg);

/* After pipeline_new: the texts and the date go into the report, and dated times are written
 * in the zone from now on. False out of memory. */
bool cli_ticket_analysis(const struct cli_ticket *t, struct analysis *a);

#endif
