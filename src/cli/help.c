/* help.c: the help of each subcommand (--help) and the one-line usage errors. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "report/escape.h"
#include "util/strbuf.h"

void cli_usage(FILE *out)
{
    fputs("usage: nettriage report [options] CAPTURE...\n"
          "       nettriage [report options] CAPTURE...   (report, for a file or -)\n"
          "       nettriage report [options] -r FILE\n"
          "       nettriage report [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage watch [options] INPUT\n"
          "       nettriage watch [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage explain [options] INPUT\n"
          "       nettriage fleet --clickhouse URL [--from TIME] [--to TIME] [options]\n"
          "       nettriage --help | --version | help COMMAND\n"
          "\n"
          "Turns network traffic into an incident report: which protocol and service\n"
          "failed, when, the evidence, the likely causes ranked, and what to check next.\n"
          "\n"
          "commands:\n"
          "  report     read captures (or capture live) and write the incident report\n"
          "  watch      follow a capture or an interface and write a line as each\n"
          "             incident opens, goes on and closes; the report at the end\n"
          "  explain    write each packet or tcpdump line of a capture with a reading of\n"
          "             its fields and of how it relates to the others\n"
          "  fleet      the report of many sensors from the fleet store in ClickHouse\n"
          "             (docs/clickhouse.md; nettriage fleet --help)\n"
          "\n"
          "`nettriage COMMAND --help` shows a command's options; `man nettriage` the\n"
          "manual.\n"
          "\n"
          "CAPTURE is a pcap or pcapng file, a file of tcpdump's text output (as pasted\n"
          "into a ticket, wrapped lines and all), or - for standard input. The kind is\n"
          "recognised from the content, never from the file name.\n"
          "\n"
          "exit status: 0 no problem found, 1 at least one problem found,\n"
          "             2 usage or input error (the report still shows what could be read)\n",
          out);
}

void cli_help_report(FILE *out)
{
    fputs("usage: nettriage report [options] CAPTURE...\n"
          "       nettriage report [options] -r FILE\n"
          "       nettriage report [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage report [options] --read-live FILE [EXPRESSION...]\n"
          "       nettriage [options] CAPTURE...   (report, when CAPTURE is a file or -)\n"
          "\n"
          "Reads every CAPTURE (a pcap or pcapng file, a file of tcpdump's text output, or\n"
          "- for standard input; the kind is recognised from the content) and writes the\n"
          "incident report. A log pasted into a terminal ends with one Ctrl-D; Ctrl-C\n"
          "while standard input is read ends it and the report is written.\n"
          "\n"
          "The short options mean what they mean to tcpdump (-r -i -w -c -C -W -Z -n -q)\n"
          "or, for -f, to tshark; the others are long only.\n"
          "\n"
          "input and output:\n"
          "  -r FILE                read FILE (as a CAPTURE; may be given more than once)\n"
          "      --format md|json|ndjson|text|html\n"
          "                         output format (default md: Markdown; ndjson: one JSON\n"
          "                         event per line, Elastic Common Schema names; text: for\n"
          "                         a terminal, 80 columns; html: one self-contained page\n"
          "                         with a timeline, lookup and ICMP tables, answer times)\n"
          "      --color always|never|auto\n"
          "                         colour for --format text (default auto: on a terminal,\n"
          "                         unless NO_COLOR is set)\n"
          "  -o, --output FILE      write the report to FILE instead of standard output\n"
          "      --reported TEXT    how the incident came to light, quoted in the report\n"
          "      --sensor NAME      the sensor NDJSON events name (observer.name;\n"
          "                         default: the host name)\n"
          "      --clickhouse URL   also ship the NDJSON events to ClickHouse's HTTP\n"
          "                         interface (docs/clickhouse.md); user and password\n"
          "                         from $NETTRIAGE_CLICKHOUSE_USER and _PASSWORD or the\n"
          "                         file $NETTRIAGE_CLICKHOUSE_CREDENTIALS, never here\n"
          "      --spool DIR        batches wait there until stored (default\n"
          "                         nettriage-spool)\n"
          "      --spool-max MB     the spool's bound (default 256; overflow is counted)\n"
          "      --clickhouse-wait S\n"
          "                         at the end, retry for S seconds at most (default 60)\n"
          "      --actions TEXT     what the team did, quoted in the report's \"What was\n"
          "                         done\" beside what nettriage did\n"
          "      --date YYYY-MM-DD  the date of tcpdump text printed without one (times of\n"
          "                         day only), so that every time has a date; said in the\n"
          "                         report (without it such text has no date)\n"
          "      --timezone UTC|local|+HH:MM|-HH:MM\n"
          "                         the zone dated times are written in (default UTC;\n"
          "                         local: TZ's); --date's times of day are read in it\n"
          "      --redact           hide client addresses in every output: each client (an\n"
          "                         address that started a lookup or connection and served\n"
          "                         none) is client-1, client-2, ...; servers stay visible\n"
          "  -n                     accepted for tcpdump's habit and ignored: nettriage\n"
          "                         never resolves names (addresses and ports are always\n"
          "                         numbers)\n"
          "  -q, --quiet            no progress line or notes on standard error\n"
          "\n"
          "analysis:\n"
          "      --timeout S        seconds a DNS query may wait for an answer before it\n"
          "                         counts as unanswered (default 5; answers and ICMP\n"
          "                         errors that come later still belong to their query)\n"
          "      --max-lookups N    DNS lookups kept open at once (default 1000000, about\n"
          "                         1 KiB each; past it the one due first is closed early)\n"
          "      --max-tcp N        TCP connection attempts kept open at once (default\n"
          "                         1000000)\n"
          "      --answer-guard S   seconds an answered lookup waits for duplicate answers\n"
          "                         and the client's ICMP errors about it (default 1)\n"
          "      --bound NAME=N     one of the engine's other bounds (DNS-over-TCP\n"
          "                         streams, fragments, servers a rule measures, ...)\n"
          "      --bounds           list those bounds with their defaults and ranges (what\n"
          "                         a bound evicts is counted in every output)\n"
          "      --threads N        1: one thread; 2: the rules run on a second thread\n"
          "                         beside the reading (default 2 where the process may\n"
          "                         use two or more processors: its CPU affinity and its\n"
          "                         cgroups' CPU quota; the report is the same)\n"
          "\n"
          "live capture (stops on Ctrl-C or SIGTERM, -c or --duration; then the report):\n"
          "  -i, --interface IFACE  capture on IFACE (any: every interface) through\n"
          "                         libpcap\n"
          "  -f, --filter EXPR, EXPRESSION...\n"
          "                         capture filter, tcpdump's syntax; without one, -i\n"
          "                         keeps DNS on port 53, ICMP/ICMPv6 errors, TCP\n"
          "                         SYN/SYN-ACK/RST and IP fragments (said on standard\n"
          "                         error)\n"
          "  -c, --count COUNT      stop after COUNT packets\n"
          "      --duration S       stop after S seconds\n"
          "  -w, --write FILE       also write the packets read to FILE (pcap)\n"
          "  -C MB                  with -w: a new file (FILE1, FILE2...) past MB million\n"
          "                         bytes\n"
          "  -W N                   with -C: at most N files, overwritten in turn\n"
          "                         (FILE0...)\n"
          "  -Z, --user USER        run as USER once the interface and files are open (as\n"
          "                         root the default is nobody; -Z root keeps root)\n"
          "      --read-live FILE   replay FILE through the live path at its recorded pace\n"
          "      --speed N          N times the recorded pace (default 1; 0: no pauses)\n"
          "\n"
          "  -h, --help             this help\n"
          "      --version          the version\n"
          "\n"
          "exit status: 0 no problem found, 1 at least one problem found,\n"
          "             2 usage or input error (the report still shows what could be read)\n",
          out);
}

void cli_help_watch(FILE *out)
{
    fputs("usage: nettriage watch [options] INPUT\n"
          "       nettriage watch [options] -r FILE\n"
          "       nettriage watch [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage watch [options] --read-live FILE [EXPRESSION...]\n"
          "\n"
          "Follows INPUT (a capture file, or - for a pcap stream on standard input, such\n"
          "as `tcpdump -i IFACE -U -w - | nettriage watch -`) until it ends or\n"
          "SIGINT/SIGTERM, and writes a line on standard output as each incident opens,\n"
          "goes on and closes (a service whose DNS lookups or TCP connections keep\n"
          "failing); then the full report of what was watched on standard error. SIGUSR1\n"
          "writes the open incidents and the report so far (the report of the packets read\n"
          "so far), and the watch goes on.\n"
          "\n"
          "The short options mean what they mean to tcpdump (-r -i -w -C -W -Z -n) or, for\n"
          "-f, to tshark; the others are long only.\n"
          "\n"
          "output:\n"
          "  -r FILE                follow FILE (the INPUT)\n"
          "      --format text|ndjson\n"
          "                         alert lines (default text; ndjson: Elastic Common\n"
          "                         Schema)\n"
          "      --report-format md|json|ndjson|text|html\n"
          "                         the report at the end and on SIGUSR1 (default md)\n"
          "  -o, --output FILE      write that report to FILE instead of standard error\n"
          "  -n                     accepted for tcpdump's habit and ignored: nettriage\n"
          "                         never resolves names\n"
          "      --sensor NAME, --clickhouse URL, --spool DIR, --spool-max MB,\n"
          "      --clickhouse-wait S\n"
          "                         as for report; alerts go to nettriage.alerts\n"
          "      --reported TEXT, --actions TEXT\n"
          "                         quoted in the report, as for report\n"
          "      --date YYYY-MM-DD, --timezone UTC|local|+HH:MM|-HH:MM\n"
          "                         as for report; the alert lines' times follow\n"
          "                         --timezone too\n"
          "      --redact           the reports as report --redact writes them (alert\n"
          "                         lines name services and count clients: unchanged)\n"
          "\n"
          "incidents:\n"
          "      --min-failures N   failed lookups or attempts in a row, in packet time,\n"
          "                         that open an incident (default 3)\n"
          "      --interval S       an update at most every S seconds while it lasts\n"
          "                         (default 60)\n"
          "      --quiet-close S    closed when no failure came for S seconds (default\n"
          "                         300)\n"
          "      --max-services N   services followed at once (default 10000; past it the\n"
          "                         least recently seen is forgotten, counted)\n"
          "      --timeout S, --max-lookups N, --max-tcp N, --answer-guard S\n"
          "                         as for report (nettriage report --help)\n"
          "\n"
          "live capture (instead of INPUT, as report -i does: default filter, root given\n"
          "up after opening):\n"
          "  -i, --interface IFACE  capture on IFACE\n"
          "  -f, --filter EXPR, EXPRESSION...\n"
          "                         capture filter, tcpdump's syntax\n"
          "  -w, --write FILE       also write the packets read to FILE (pcap)\n"
          "  -C MB, -W N            rotate the -w files, as for report\n"
          "  -Z, --user USER        run as USER once the interface and files are open\n"
          "      --read-live FILE   replay FILE through the live path at its recorded pace\n"
          "      --speed N          N times the recorded pace (default 1; 0: no pauses)\n"
          "\n"
          "  -h, --help             this help\n"
          "\n"
          "exit status: 0 no incident, 1 at least one problem found,\n"
          "             2 usage or input error\n",
          out);
}

/* Writes "nettriage: MESSAGE (see nettriage CMD --help)" as one line on standard error, with
 * terminal escaping (the message may quote an argument, which may hold anything). */
static void usage_line(const char *cmd, const char *msg)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "nettriage: ");
    esc_term(&b, msg, strlen(msg));
    strbuf_printf(&b, " (see nettriage%s%s --help)\n", cmd ? " " : "", cmd ? cmd : "");
    fputs(b.oom ? "nettriage: out of memory\n" : strbuf_str(&b), stderr);
    strbuf_fini(&b);
}

void cli_error(const char *label, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "nettriage: ");
    if (label) {
        esc_term(&b, label, strlen(label));
        strbuf_puts(&b, ": ");
    }
    esc_term(&b, msg, strlen(msg));
    strbuf_putc(&b, '\n');
    fputs(b.oom ? "nettriage: out of memory\n" : strbuf_str(&b), stderr);
    strbuf_fini(&b);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    usage_line(cmd, msg);
    return EXIT_ERROR;
}

/* Whether arg ("--name" or "--name=value") names the long option whose value is val, exactly
 * or as the unique prefix getopt_long took it for. */
static bool names_long(const struct option *longopts, const char *arg, int val)
{
    if (strncmp(arg, "--", 2) != 0 || !arg[2])
        return false;
    size_t n = strcspn(arg + 2, "=");
    for (const struct option *o = longopts; o && o->name; o++)
        if (o->val == val && strncmp(o->name, arg + 2, n) == 0)
            return true;
    return false;
}

int cli_bad_option(const char *cmd, int ch, const struct option *longopts, char **argv)
{
    /* getopt_long has moved optind past a long option (argv[optind - 1]); a short one is
     * optopt, and may sit in a group such as -qz. */
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    bool is_long = arg && (optopt == 0 || names_long(longopts, arg, optopt));
    char name[80];
    if (is_long)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(name, sizeof name, "-%c", optopt);
    if (ch == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", name);
    if (is_long && optopt != 0 && strchr(arg, '='))
        return cli_usage_error(cmd, "option '%s' takes no value", name);
    if (is_long && optopt == 0) {
        /* Unknown, or an ambiguous prefix of several. */
        size_t n = strcspn(arg + 2, "="), matches = 0;
        for (const struct option *o = longopts; o && o->name; o++)
            if (n > 0 && strncmp(o->name, arg + 2, n) == 0)
                matches++;
        if (matches > 1)
            return cli_usage_error(cmd, "option '%s' is ambiguous", name);
    }
    /* The letters other tools' users may type, and what to give instead. */
    if (!is_long && optopt == 't')
        return cli_usage_error(cmd, "unknown option '-t': the answer timeout is --timeout S "
                                    "(tcpdump's -t, no timestamps, has no meaning here)");
    if (!is_long && optopt == 'V')
        return cli_usage_error(cmd, "unknown option '-V': the version is --version");
    return cli_usage_error(cmd, "unknown option '%s'", name);
}
