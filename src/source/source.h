/* source.h: the reader interface. A source turns one input (pcap, pcapng or tcpdump text, from a
 * file or standard input) into a sequence of decoded packets, one per frame or text record as
 * read (IP fragments and TCP segments are put together later, by the flow stage, src/flow/).
 * Only source/pcap.c includes <pcap.h>. */
#ifndef NT_SOURCE_SOURCE_H
#define NT_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/packet.h"

enum source_kind { SOURCE_PCAP = 1, SOURCE_PCAPNG = 2, SOURCE_TEXT = 3, SOURCE_LIVE = 4 };

#define SOURCE_BAD_LINES_KEPT 5
#define SOURCE_ERROR_MAX      512
#define SOURCE_SAMPLES_KEPT   3
#define SOURCE_SAMPLE_MAX     120 /* bytes of a sample, with its NUL */

/* What a source measured about its input, for the report. */
struct source_stats {
    uint64_t packets;          /* packets (records) delivered */
    int linktype;              /* pcap: DLT of the (first) interface; text: -1 */
    uint64_t unsupported_link; /* pcap: frames of link types we cannot decode */
    /* text: lines that are not part of any tcpdump record we could read */
    uint64_t bad_lines;
    uint64_t first_bad_lines[SOURCE_BAD_LINES_KEPT];
    uint64_t lines; /* text: lines read */
    /* What looked like traffic but was not read (docs/json-schema.md, "unread_traffic"): text
     * lines with a timestamp, an address.port pair or a hex-dump offset that no record we could
     * read holds (or a record that names IP but whose network part was not understood); for
     * pcap and pcapng, frames whose IP, transport or DNS header could not be decoded (the
     * anomalies in source_frame_unread). The first few line or packet numbers are kept, and for
     * text the start of the first few lines (printable ASCII, others as '?'). */
    uint64_t unread;
    uint64_t first_unread[SOURCE_BAD_LINES_KEPT];
    char unread_sample[SOURCE_SAMPLES_KEPT][SOURCE_SAMPLE_MAX];
    /* text: lines that are not traffic (prose, tcpdump's banners and counts, shell prompts,
     * code fences, mail quoting markers alone) and were ignored */
    uint64_t ignored_lines;
    bool truncated; /* the input ended inside a record or packet */
    bool gzip;      /* the input was gzip-compressed (decompressed on the fly) */
    /* pcapng: the file was read by nettriage's own pcapng reader because libpcap refuses it
     * (interfaces of different link types or snap lengths, sections of different byte orders);
     * each packet is then decoded with its own interface's link type. */
    bool pcapng_fallback;
    /* A live capture (source/live.c): the kernel's counts from pcap_stats when it ended, so
     * the report can say whether the capture was complete: packets the filter passed
     * (ps_recv), dropped for lack of buffer space (ps_drop) and by the interface or its
     * driver (ps_ifdrop). has_capture_stats is false for files and replays. */
    bool has_capture_stats;
    uint64_t cap_received, cap_dropped, cap_if_dropped;
};

struct source;

/* Which kind the first bytes of an input show: pcap magic (either byte order, µs or ns),
 * pcapng section header, or text whose first non-blank line looks like a tcpdump record.
 * Returns 0 when none (with *why set to a short reason: "empty file", "binary data", ...). */
int source_sniff(const uint8_t *head, size_t n, const char **why);

/* Opens path ("-" for standard input) and recognises its kind from its content. On failure
 * returns a negative NT_ERR_* and writes a one-line reason (without the file name) into err
 * (SOURCE_ERROR_MAX bytes). The source owns everything it allocates; source_close frees it. */
int source_open(const char *path, struct source **out, char *err);

/* Reads the next packet into pkt (which the source resets first). Returns 1 for a packet, 0 at
 * the end of the input, or a negative NT_ERR_* when the input is damaged past this point; then
 * source_error() says why and the packets already delivered stand (partial results). Packet
 * bytes and pkt->line are valid until the next call. */
int source_next(struct source *s, struct packet *pkt);

enum source_kind source_kind(const struct source *s);
const char *source_kind_name(enum source_kind k); /* "pcap", "pcapng", "tcpdump text" */
const struct source_stats *source_stats(const struct source *s);
const char *source_error(const struct source *s); /* "" when none */
/* How far the reading got, for a progress line: bytes of the input as stored (a gzip file's
 * compressed bytes) read so far, which a counter gives without a system call (0 for a live
 * capture); and the input's size when it is a regular file, else -1 (standard input from a
 * pipe or a terminal). The reader reads ahead in large blocks, so the figure leads the
 * packets delivered by up to one block; at the end it is the size. */
uint64_t source_bytes_read(const struct source *s);
int64_t source_bytes_total(const struct source *s);
/* Whether a decoded frame (pcap, pcapng) looked like IP traffic that was not read: the capture
 * (snap length) cut its IP, tunnel, transport or DNS header short, or its link header names IP
 * over bytes that are not IP (an ICMP error's short quote, or a packet short on the wire, are
 * not that). */
bool source_frame_unread(const struct packet *pkt);
void source_close(struct source *s);

/* Stops the reading of standard input and of live sources (source/live.h), from a signal
 * handler (async-signal-safe: it sets a volatile sig_atomic_t). A live source's source_next
 * returns 0 within about 0.1 s, also on a quiet link; standard input's reading ends as at its
 * end (a read interrupted by the signal is not an error), so the report covers what was read.
 * source_stop_reset clears the request (tests, or a program that starts reading again). */
void source_live_request_stop(void);
bool source_live_stop_requested(void);
void source_stop_reset(void);

/* Host names a text input's lines print are interned in names (the run's table, which must
 * outlive every address read) instead of the source's own table, freed at source_close. Call
 * before the first source_next; no effect on captures. */
void source_set_names(struct source *s, struct nt_names *names);

/* Text inputs: fn is called with each line that looked like traffic but was not read (the
 * lines counted in source_stats.unread; for a record of several lines, its first line and the
 * whole record joined), as it is met, between the packets around it; the text is valid only
 * during the call. No effect on captures (a frame not understood is still a packet:
 * source_frame_unread). */
void source_set_unread_hook(struct source *s,
                            void (*fn)(void *ctx, uint64_t line_no, const char *line, size_t len),
                            void *ctx);
/* A live capture from an interface calls fn while it waits for packets on a quiet link (at
 * most every 0.1 s, inside source_next, between two packets), with the time it is now in the
 * packets' clock: the last packet's stamp plus the time waited since it (a monotonic clock).
 * Other sources (files, standard input, a replay) never call it: their time is their
 * packets'. */
typedef void (*source_idle_fn)(void *ctx, const struct nt_time *now);
void source_set_idle(struct source *s, source_idle_fn fn, void *ctx);

/* Backend entry points used by source_open (exposed for tests). Each takes ownership of f,
 * whose first bytes have not been consumed. */
int source_pcap_open(FILE *f, struct source **out, char *err);
int source_text_open(FILE *f, struct source **out, char *err);
void source_text_set_names(struct source *s, struct nt_names *names);

/* The tcpdump text parser on one record (continuation lines already joined with single
 * spaces). Fills pkt with what the text carries; returns false when the record is not a
 * tcpdump line we understand. state carries what earlier records set (timestamp mode, the
 * first timestamp for relative modes, the day count for times of day). */
struct text_state {
    int ts_mode;         /* detected timestamp style (TEXT_TS_*), 0 until the first record */
    struct nt_time last; /* timestamp of the previous record */
    int64_t day_offset;  /* seconds added to times of day after a midnight wrap */
    /* Where host names tcpdump printed are interned (the run's table); with NULL, a record
     * whose addresses are names is not read. */
    struct nt_names *names;
};
#define TEXT_TS_UNKNOWN     0
#define TEXT_TS_NONE        1 /* -t */
#define TEXT_TS_DEFAULT     2 /* HH:MM:SS.frac */
#define TEXT_TS_EPOCH       3 /* -tt: seconds.frac since the epoch */
#define TEXT_TS_DELTA       4 /* -ttt: delta since the previous packet */
#define TEXT_TS_DATE        5 /* -tttt: YYYY-MM-DD HH:MM:SS.frac */
#define TEXT_TS_SINCE_FIRST 6 /* -ttttt: delta since the first packet */
bool text_parse_record(struct text_state *st, const char *rec, size_t len, struct packet *pkt);

#endif
