/* source_impl.h: what every source backend shares (private to src/source/). */
#ifndef NT_SOURCE_SOURCE_IMPL_H
#define NT_SOURCE_SOURCE_IMPL_H

#include "source/source.h"

struct source_ops {
    /* As source_next: 1 packet, 0 end, negative NT_ERR_* with s->error set. */
    int (*next)(struct source *s, struct packet *pkt);
    /* Frees the backend's state (impl) and closes its FILE. */
    void (*close)(struct source *s);
};

struct source {
    const struct source_ops *ops;
    enum source_kind kind;
    struct source_stats stats;
    char error[SOURCE_ERROR_MAX];
    void *impl;
    /* The gzip layer under the backend's stream when the input was compressed (source.c owns
     * it; its error, if any, replaces the backend's vaguer read error). NULL otherwise. */
    struct gz_layer *gz;
    /* Read from standard input: a stop request (source_live_request_stop) ends it cleanly. */
    bool from_stdin;
    /* Bytes of the input as stored read so far (source_bytes_read): a counter the reader or
     * the stream under it keeps, valid until source_close; NULL when none (live). */
    const uint64_t *bytes_at;
    int64_t bytes_total; /* the size of a regular file; -1 otherwise */
    /* source_set_unread_hook: each text line not understood, as it is met */
    void (*on_unread)(void *ctx, uint64_t line_no, const char *line, size_t len);
    void *unread_ctx;
    /* source_set_idle */
    source_idle_fn idle;
    void *idle_ctx;
};

/* Allocates a source with the given ops and kind (stats zeroed, linktype -1). NULL on out of
 * memory. */
struct source *source_alloc(const struct source_ops *ops, enum source_kind kind, void *impl);

#endif
