/* progress.h: the one progress line of the commands, on standard error when it is a terminal:
 * what a live capture has seen so far (report -i, --read-live: its source's tick), and how far
 * the reading of files got (report FILE...: bytes of the total, packets per second, time
 * left; the pipeline's read progress). One line, rewritten in place (a carriage return, then
 * for the live line erase to its end, for the file line spaces), never written anywhere but a
 * terminal. */
#ifndef NT_CLI_PROGRESS_H
#define NT_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "source/source.h"

struct pipeline;
struct pipeline_read_progress;

/* The reading of files is shown at most every PROGRESS_INTERVAL_NS, the first time once an
 * input has been read that long (a small file shows only its final line). */
#define PROGRESS_INTERVAL_NS 250000000

struct progress {
    FILE *tty;           /* where the line goes; NULL: nothing is ever written */
    struct pipeline *pl; /* live: the counts the line shows */
    bool shown;          /* a line is on the terminal now */
    uint64_t last[5];    /* live: what the line said last (rewritten only when that changed) */
    int64_t input_start_ns, last_draw_ns; /* files: CLOCK_MONOTONIC */
    uint32_t n_inputs;                    /* files: how many the command reads */
    uint32_t input;                       /* files: the one being read */
    size_t drawn;                         /* files: the length of the line shown */
};

/* A progress line on tty (NULL for none: the caller gives stderr only when it is a terminal
 * and --quiet was not given). pl is the pipeline whose counts a live line shows; n_inputs how
 * many files are read (their number is shown when more than one). */
void progress_init(struct progress *p, FILE *tty, struct pipeline *pl, uint32_t n_inputs);

/* A live source's tick (live_tick_fn, at most every LIVE_TICK_US): packets, lookups,
 * answers, TCP attempts and failures so far, and what the kernel dropped. */
void progress_live_tick(void *ctx, const struct source_stats *st);

/* The pipeline's read progress (pipeline_read_progress_fn): "reading 187.9 of 489.4 MiB (38%):
 * 391,424 packets, 172,412/s, about 4 s left" ("[2/3] " first with several inputs); without a
 * known size (a pipe) the bytes read and the rate only ("reading 3.3 MiB: ..."). At the end of
 * an input its final line ("read 489.4 of 489.4 MiB (100%): 999,421 packets, 149,285/s, in
 * 6.7 s") is written whatever the interval. The line is cut to the terminal's width and
 * rewritten with a carriage return and spaces, no escape sequence. */
void progress_read_tick(void *ctx, const struct pipeline_read_progress *rp);

/* Ends a live line where it stands (a newline: it stays on the terminal). */
void progress_end(struct progress *p);
/* Erases the file line (spaces over it; before an error message or the report is written). */
void progress_erase(struct progress *p);

#endif
