/* strbuf.h: a growable NUL-terminated byte buffer for building reports. */
#ifndef NT_UTIL_STRBUF_H
#define NT_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *s;    /* always NUL-terminated once anything was added; NULL when empty */
    size_t len; /* bytes before the NUL */
    size_t cap;
    bool oom; /* sticky: an allocation failed, and later appends are dropped */
};

void strbuf_init(struct strbuf *b);
void strbuf_fini(struct strbuf *b);
void strbuf_reset(struct strbuf *b);
void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents ("" when empty); valid until the next change. */
const char *strbuf_str(const struct strbuf *b);
/* Hands the heap string to the caller (who frees it) and empties b. NULL on out of memory. */
char *strbuf_take(struct strbuf *b);

#endif
