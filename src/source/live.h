/* live.h: a live capture (libpcap, from an interface) or the replay of a capture file at its
 * recorded pace through the same path (--read-live), as a struct source like the others, so
 * source_next and the pipeline (pipeline_read_source) read it as they read a file. Only
 * the source files (src/source/) include <pcap.h>.
 *
 * The source stops (source_next returns 0) when source_live_request_stop() was called (a
 * signal handler: Ctrl-C, SIGTERM), after max_packets packets, or when duration_us has
 * passed; on a quiet link too, within about 0.1 s (it polls the capture descriptor with a
 * short timeout). Its stats carry the kernel's drop counts (pcap_stats) when it ends. On a
 * quiet interface it moves the packets' clock on by the time waited (source_set_idle). */
#ifndef NT_SOURCE_LIVE_H
#define NT_SOURCE_LIVE_H

#include <stdint.h>

#include "source/source.h"

#define LIVE_SNAPLEN 262144

/* Called by the live source at most every LIVE_TICK_US while it reads (also on a quiet link),
 * with its counts so far: the CLI's progress line. */
#define LIVE_TICK_US 250000
typedef void (*live_tick_fn)(void *ctx, const struct source_stats *st);

struct live_opts {
    const char *iface;     /* -i: an interface name, or "any"; NULL with read_file */
    const char *read_file; /* --read-live: a pcap or pcapng file replayed at its pace */
    double speed;          /* --speed: 1 the recorded pace, 10 ten times faster, 0 no pause */
    const char *filter;    /* a BPF expression (tcpdump's syntax), or NULL for none */
    uint64_t max_packets;  /* -c: stop after this many packets (0: no limit) */
    int64_t duration_us;   /* --duration: stop after this long (0: no limit) */
    const char *write;     /* -w: write the packets read to this pcap file (NULL: none) */
    uint64_t rotate_bytes; /* -C: a new file once the current one is larger (0: never) */
    uint32_t rotate_files; /* -W: at most this many files, then overwrite from the first */
    live_tick_fn tick;     /* may be NULL */
    void *tick_ctx;
};

/* Opens the interface (pcap_create, immediate mode, snap length LIVE_SNAPLEN, nanosecond
 * stamps when the interface gives them) or the file, compiles and sets the filter, and opens
 * the first -w file. On failure returns a negative NT_ERR_* with a one-line reason in err
 * (SOURCE_ERROR_MAX bytes): libpcap's words (no such device, permission) or the filter's
 * syntax error. */
int source_open_live(const struct live_opts *o, struct source **out, char *err);

/* The name of the savefile number idx of base, as tcpdump names them: without -W (max_files
 * 0) base, base1, base2, ...; with -W N the number is always appended, padded with zeros to
 * the width of N-1 (-W 3: base0, base1, base2; -W 11: base00 ... base10), except that -W 1
 * keeps base alone. Returns false when the name does not fit in n bytes. */
bool live_savefile_name(char *buf, size_t n, const char *base, uint32_t idx, uint32_t max_files);

#endif
