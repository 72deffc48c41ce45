/* alert.c: the plain-text alert lines of `nettriage watch` (see alert.h). */
#include "report/alert.h"

#include <inttypes.h>
#include <string.h>

#include "report/escape.h"

const char *alert_action_name(enum incident_action a)
{
    switch (a) {
    case INCIDENT_OPENED:
        return "incident-opened";
    case INCIDENT_UPDATE:
        return "incident-update";
    case INCIDENT_CLOSED:
        return "incident-closed";
    case INCIDENT_STATE:
        return "incident-ongoing";
    }
    return "incident";
}

const char *alert_close_reason_name(enum incident_close c)
{
    switch (c) {
    case INCIDENT_CLOSE_RECOVERED:
        return "recovered";
    case INCIDENT_CLOSE_QUIET:
        return "quiet";
    case INCIDENT_CLOSE_ENDED:
        return "input-ended";
    case INCIDENT_CLOSE_EVICTED:
        return "evicted";
    case INCIDENT_CLOSE_NONE:
        break;
    }
    return NULL;
}

static void put_time(struct strbuf *out, const struct nt_time *t)
{
    char buf[NT_TIME_FMT_MAX];
    if (t->kind == NT_TIME_NONE) {
        strbuf_puts(out, "(no time)");
        return;
    }
    nt_time_format(t, buf, sizeof buf);
    strbuf_puts(out, buf);
}

static void put_duration(struct strbuf *out, int64_t us)
{
    char buf[64];
    nt_duration_format(us, buf, sizeof buf);
    strbuf_puts(out, buf);
}

/* "DNS 198.51.100.2 port 53/udp": the address escaped for a terminal (text input may give a
 * host name). */
static void put_service(struct strbuf *out, const struct incident_event *ev)
{
    char buf[NT_ADDR_FMT_MAX];
    nt_addr_format(&ev->server, buf, sizeof buf);
    strbuf_puts(out, ev->dns ? "DNS " : "TCP ");
    esc_term(out, buf, strlen(buf));
    strbuf_printf(out, " port %u/%s", (unsigned)ev->port,
                  ev->transport == 6    ? "tcp"
                  : ev->transport == 17 ? "udp"
                                        : "?");
}

static void put_counts(struct strbuf *out, const struct incident_event *ev)
{
    strbuf_printf(out, "%" PRIu64 " failed %s", ev->failures,
                  ev->dns ? (ev->failures == 1 ? "lookup" : "lookups")
                          : (ev->failures == 1 ? "connection attempt" : "connection attempts"));
    strbuf_printf(out, ", %s%" PRIu64 " %s", ev->clients_overflow ? "more than " : "", ev->clients,
                  ev->clients == 1 && !ev->clients_overflow ? "client" : "clients");
}

void alert_text(struct strbuf *out, const struct incident_event *ev)
{
    put_time(out, &ev->now);
    const char *what = ev->action == INCIDENT_OPENED   ? "opened"
                       : ev->action == INCIDENT_UPDATE ? "update"
                       : ev->action == INCIDENT_CLOSED ? "closed"
                                                       : "ongoing";
    strbuf_printf(out, " incident %" PRIu64 " %s: ", ev->incident, what);
    put_service(out, ev);
    strbuf_printf(out, " %s: ", ev->rule ? ev->rule : "?");
    put_counts(out, ev);
    strbuf_puts(out, "; first failure ");
    put_time(out, &ev->first_failure);
    if (ev->action == INCIDENT_UPDATE || ev->action == INCIDENT_STATE) {
        strbuf_puts(out, ", last ");
        put_time(out, &ev->last_failure);
    }
    if (ev->action == INCIDENT_CLOSED) {
        switch (ev->close_reason) {
        case INCIDENT_CLOSE_RECOVERED:
            strbuf_puts(out, "; answered again at ");
            put_time(out, &ev->end);
            strbuf_puts(out, ", after ");
            break;
        case INCIDENT_CLOSE_QUIET:
            strbuf_puts(out, "; no failure seen since ");
            put_time(out, &ev->end);
            strbuf_puts(out, ", lasted at least ");
            break;
        case INCIDENT_CLOSE_EVICTED:
            strbuf_puts(out, "; forgotten to stay within --max-services, last failure ");
            put_time(out, &ev->end);
            strbuf_puts(out, ", lasted at least ");
            break;
        default:
            strbuf_puts(out, "; still failing when the input ended, last failure ");
            put_time(out, &ev->end);
            strbuf_puts(out, ", lasted at least ");
            break;
        }
        put_duration(out, ev->duration_us);
    }
    strbuf_putc(out, '\n');
}

void alert_stats_text(struct strbuf *out, const struct incident_stats *st)
{
    put_time(out, &st->now);
    strbuf_printf(out,
                  " watch: incidents opened %" PRIu64 ", closed %" PRIu64 ", open %" PRIu32
                  "; services followed %" PRIu32 " (peak %" PRIu32 "), expired idle %" PRIu64
                  ", evicted %" PRIu64 " (with an open incident %" PRIu64 "); failures %" PRIu64
                  ", successes %" PRIu64 ", stale failures %" PRIu64 "\n",
                  st->opened, st->closed, st->open, st->services, st->services_peak,
                  st->services_expired, st->services_evicted, st->incidents_evicted, st->failures,
                  st->successes, st->stale);
}
