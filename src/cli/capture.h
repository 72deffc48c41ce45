/* capture.h: what the commands that capture (report -i, report --read-live, and reading
 * standard input) share: the default filter, Ctrl-C, dropping root (the progress line is
 * cli/progress.h). */
#ifndef NT_CLI_CAPTURE_H
#define NT_CLI_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "source/source.h"

struct pipeline;
struct live_opts;

/* The BPF filter used on an interface when none is given: what the rules read. DNS on port 53
 * (UDP and TCP, every packet of a DNS-over-TCP connection), ICMP errors (unreachable, source
 * quench, redirect, time exceeded, parameter problem) and ICMPv6 errors (types below 128),
 * TCP segments with SYN or RST (SYN, SYN-ACK, RST) over IPv4 and IPv6, and IP fragments
 * after the first of UDP and TCP (IPv4) or with a fragment header first (IPv6), which the
 * port tests cannot see. */
extern const char capture_default_filter[];

/* The capture filter: filter (-f EXPR) when given, else the words argv[first..argc-1] joined
 * with spaces, as tcpdump joins them. NULL when there are none, or out of memory when there
 * are (first < argc); *owned is what to free. */
const char *capture_filter_words(const char *filter, int argc, char **argv, int first,
                                 char **owned);

/* SIGINT and SIGTERM stop the reading of live sources and standard input
 * (source_live_request_stop) instead of ending the process, so the report of what was read is
 * written; a second signal ends the process as usual. */
void capture_catch_stop_signals(void);

/* Drops root after the capture and its files were opened, as tcpdump does: to user (-Z), or
 * to "nobody" when started as root without -Z; "root" keeps root. The supplementary groups
 * are set to the user's group alone, then the group, then the user (setgroups, setgid,
 * setuid: in that order, since each needs the privilege the next one gives up), and the
 * result is checked (ids, and that root cannot be taken back). A process that is not root
 * (e.g. a binary with cap_net_raw) keeps its user and gives up every capability instead.
 * chown_path (the -w file, or NULL) is given to the user first, so that rotation can
 * overwrite it. Returns false with a message in err (n bytes). *dropped_to says who the
 * process now runs as (NULL when nothing changed). */
bool capture_drop_privileges(const char *user, const char *chown_path, char *err, size_t n,
                             const char **dropped_to);

/* How report -i and watch -i (and their --read-live) open a live source. */
struct capture_open {
    const char *label;  /* the interface or the replayed file, for the messages */
    const char *verb;   /* the banner's verb ("watching"), or NULL: "capturing on" / "replaying" */
    const char *user;   /* -Z, or NULL */
    const char *output; /* -o FILE, opened for writing before root is given up, or NULL */
    bool quiet;         /* no banner */
};

/* Opens the live source (source_open_live), then the report file co->output (*out_f; NULL when
 * none), gives the first -w file to the user and drops root (capture_drop_privileges), and says
 * on standard error what it captures: the interface or file, the pace of a replay, the filter,
 * the user it runs as, and on a terminal that Ctrl-C stops it. Returns the source, or NULL
 * after saying why on standard error (nothing left open). */
struct source *capture_open_live(const struct live_opts *lo, const struct capture_open *co,
                                 FILE **out_f);

#endif
