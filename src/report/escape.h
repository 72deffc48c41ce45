/* escape.h: escaping of untrusted text (anything that came off the wire or from an input file)
 * for each output medium. */
#ifndef NT_REPORT_ESCAPE_H
#define NT_REPORT_ESCAPE_H

#include <stddef.h>

#include "util/strbuf.h"

/* JSON string contents (without the quotes): RFC 8259, control bytes as \u00XX, bytes that are
 * not valid UTF-8 as \u00XX of their value (so output is always valid UTF-8 JSON). */
void esc_json(struct strbuf *out, const char *s, size_t n);
/* Markdown inline text: backslash-escapes every ASCII punctuation character CommonMark gives a
 * meaning to (including '|' for tables, '<', '>', '&' as entities), replaces control bytes and
 * invalid UTF-8 with \xNN, and newlines with a space, so untrusted text can neither format nor
 * break out of a paragraph, list item or table cell. */
void esc_md(struct strbuf *out, const char *s, size_t n);
/* Markdown code span content: for text inside `...`; picks nothing, only neutralises control
 * bytes, invalid UTF-8 and backticks (written as \x60) so the span cannot be closed early. */
void esc_md_code(struct strbuf *out, const char *s, size_t n);
/* Terminal: every control byte (C0, DEL, C1 in UTF-8) and invalid UTF-8 as \xNN, so no escape
 * sequence from the input reaches the terminal. */
void esc_term(struct strbuf *out, const char *s, size_t n);
/* HTML text and attribute values: & < > " ' as entities, control bytes as U+FFFD-free \xNN. */
void esc_html(struct strbuf *out, const char *s, size_t n);

#endif
