/* main.c: nettriage's entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_usage(FILE *out)
{
    fputs("usage: nettriage report [options] CAPTURE...\n"
          "       nettriage report [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage report [options] --read-live FILE [EXPRESSION...]\n"
          "       nettriage watch [options] INPUT\n"
          "       nettriage watch [options] -i IFACE [EXPRESSION...]\n"
          "       nettriage --help | --version\n"
          "\n"
          "Turns network traffic into an incident report: which protocol and service failed,\n"
          "when, the evidence, the likely causes ranked, and what to check next.\n"
          "\n"
          "CAPTURE is a pcap or pcapng file, a file of tcpdump's text output (as pasted into a\n"
          "ticket, wrapped lines and all), or - for standard input. The kind is recognised from\n"
          "the content, never from the file name. A log pasted into a terminal ends with one\n"
          "Ctrl-D; Ctrl-C while standard input is read ends it and the report is written.\n"
          "\n"
          "report options:\n"
          "      --format md|json|ndjson|text|html\n"
          "                         output format (default md: Markdown; ndjson: one JSON\n"
          "                         event per line, Elastic Common Schema names; text: for a\n"
          "                         terminal, 80 columns; html: one self-contained page with\n"
          "                         a timeline, lookup and ICMP tables, answer times)\n"
          "      --color always|never|auto\n"
          "                         colour for --format text (default auto: on a terminal,\n"
          "                         unless NO_COLOR is set)\n"
          "  -o, --output FILE      write the report to FILE instead of standard output\n"
          "  -r, --reported TEXT    how the incident came to light, quoted in the report\n"
          "  -t, --timeout S        seconds a DNS query may wait for an answer before it counts\n"
          "                         as unanswered (default 5; answers and ICMP errors that come\n"
          "                         later still belong to their query)\n"
          "\n"
          "bounds (what they evict is counted in every output):\n"
          "      --max-lookups N    DNS lookups kept open at once (default 1000000, about\n"
          "                         1 KiB each; past it the one due first is closed early)\n"
          "      --max-tcp N        TCP connection attempts kept open at once (default 1000000)\n"
          "      --answer-guard S   seconds an answered lookup waits for duplicate answers and\n"
          "                         the client's ICMP errors about it (default 1)\n"
          "      --bound NAME=N     one of the engine's other bounds (DNS-over-TCP streams,\n"
          "                         fragments, servers a rule measures, ...); --bounds lists\n"
          "                         them with their defaults and ranges\n"
          "\n"
          "live capture (stops on Ctrl-C or SIGTERM, -c or --duration; then the report):\n"
          "  -i IFACE               capture on IFACE (any: every interface) through libpcap\n"
          "  -f EXPR, EXPRESSION... capture filter, tcpdump's syntax; without one, -i keeps\n"
          "                         DNS on port 53, ICMP/ICMPv6 errors, TCP SYN/SYN-ACK/RST\n"
          "                         and IP fragments (said on standard error)\n"
          "  -c COUNT               stop after COUNT packets\n"
          "      --duration S       stop after S seconds\n"
          "  -w FILE                also write the packets read to FILE (pcap)\n"
          "  -C MB                  with -w: a new file (FILE1, FILE2...) past MB million bytes\n"
          "  -W N                   with -C: at most N files, overwritten in turn (FILE0...)\n"
          "  -Z USER                run as USER once the interface and files are open (as\n"
          "                         root the default is nobody; -Z root keeps root)\n"
          "      --read-live FILE   replay FILE through the live path at its recorded pace\n"
          "      --speed N          N times the recorded pace (default 1; 0: no pauses)\n"
          "  -q, --quiet            no progress line or notes on standard error\n"
          "\n"
          "  -h, --help             this help\n"
          "  -V, --version          the version\n"
          "\n"
          "watch: follows INPUT (a capture file, or - for a pcap stream on standard input, such\n"
          "as `tcpdump -i IFACE -U -w - | nettriage watch -`) until it ends or SIGINT/SIGTERM,\n"
          "and writes a line on standard output as each incident opens, goes on and closes (a\n"
          "service whose DNS lookups or TCP connections keep failing); then the full report of\n"
          "what was watched on standard error. SIGUSR1 writes the open incidents so far.\n"
          "  -i IFACE [EXPRESSION], -f EXPR, -w FILE, -C MB, -W N, -Z USER, --read-live FILE,\n"
          "  --speed N              capture live instead of INPUT, as report -i does (default\n"
          "                         filter, root given up after opening)\n"
          "      --format text|ndjson\n"
          "                         alert lines (default text; ndjson: Elastic Common Schema)\n"
          "      --report-format md|json|ndjson\n"
          "                         the report at the end (default md)\n"
          "  -o, --output FILE      write that report to FILE instead of standard error\n"
          "      --min-failures N   failed lookups or attempts in a row, in packet time, that\n"
          "                         open an incident (default 3)\n"
          "      --interval S       an update at most every S seconds while it lasts (default 60)\n"
          "      --quiet-close S    closed when no failure came for S seconds (default 300)\n"
          "      --max-services N   services followed at once (default 10000; past it the least\n"
          "                         recently seen is forgotten, counted)\n"
          "  -t, --timeout S, --max-lookups N, --max-tcp N, --answer-guard S: as for report\n"
          "\n"
          "exit status: 0 no problem found, 1 at least one problem found,\n"
          "             2 usage or input error (the report still shows what could be read)\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        cli_usage(stdout);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("nettriage %s\n", NT_VERSION);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(argc - 1, argv + 1);
    fprintf(stderr, "nettriage: unknown command '%s'\n", cmd);
    cli_usage(stderr);
    return EXIT_ERROR;
}
