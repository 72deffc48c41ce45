/* ticket.c: --reported, --actions, --date and --timezone for report and watch (ticket.h). */
#include "cli/ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "report/analysis.h"

bool cli_ticket_option(const char *cmd, int i, const char *arg, struct cli_ticket *t,
                       struct pipeline_config *cfg)
{
    switch (i) {
    case 0:
        t->reported = arg;
        return true;
    case 1:
        t->actions = arg;
        return true;
    case 2:
        if (!nt_date_parse(arg, &cfg->date_y, &cfg->date_m, &cfg->date_d)) {
            cli_usage_error(cmd, "--date wants a date YYYY-MM-DD (1970 to 9999), not '%s'", arg);
            return false;
        }
        cfg->date_set = true;
        t->date = arg;
        return true;
    case 3:
        if (!nt_zone_parse(arg, &t->zone)) {
            cli_usage_error(cmd,
                            "--timezone wants UTC, local or an offset +HH:MM / -HH:MM (up to "
                            "14:00), not '%s'",
                            arg);
            return false;
        }
        return true;
    default:
        return false;
    }
}

void cli_ticket_config(const struct cli_ticket *t, struct pipeline_config *cfg)
{
    cfg->date_zone = t->zone;
}

bool cli_ticket_analysis(const struct cli_ticket *t, struct analysis *a)
{
    a->reported = t->reported ? strdup(t->reported) : NULL;
    a->actions = t->actions ? strdup(t->actions) : NULL;
    nt_time_set_zone(&t->zone);
    if (t->date)
        snprintf(a->date, sizeof a->date, "%s", t->date);
    a->date_zone = t->zone;
    return (!t->reported || a->reported) && (!t->actions || a->actions);
}
