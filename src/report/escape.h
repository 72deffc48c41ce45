/* escape.h: escaping of untrusted text (anything that came off the wire or from an input file)
 * for each output medium. */
#ifndef NT_REPORT_ESCAPE_H
#define NT_REPORT_ESCAPE_H

#include <stddef.h>

#include "util/strbuf.h"

/* JSON string contents (without the quotes): RFC 8259, control bytes (C0, DEL, C1) and
 * U+2028/2029 as \u00XX, bytes that are not valid UTF-8 as \u00XX of their value (so output
 * is always valid UTF-8 JSON, safe to print on a terminal). */
void esc_json(struct strbuf *out, const char *s, size_t n);
/* Markdown inline text: backslash-escapes the punctuation CommonMark/GFM give a meaning to
 * anywhere in a line (\ ` * _ [ ] | ~ $), writes < > & as entities, and escapes what only
 * matters at the start of a line (# + - = and "1." / "1)") only there; control bytes and
 * invalid UTF-8 become \xNN and newlines a space, so untrusted text can neither format nor
 * break out of a paragraph, list item or table cell. */
void esc_md(struct strbuf *out, const char *s, size_t n);
/* Markdown code span content, for text inside `...`: control bytes, invalid UTF-8, backticks
 * (which could close the span) and '|' (which splits a GFM table cell even inside a span) are
 * written as \xNN. */
void esc_md_code(struct strbuf *out, const char *s, size_t n);
/* The inside of a code span in running text, never in a table cell: like esc_md_code but a
 * '|' stays as it is (a command may pipe). */
void esc_md_cmd(struct strbuf *out, const char *s, size_t n);
/* Terminal: every control byte (C0, DEL, C1 in UTF-8), the Unicode bidirectional controls and
 * invalid UTF-8 as \xNN (each byte), so no escape sequence from the input reaches the terminal
 * and nothing reorders the text around it; other valid UTF-8 is written as it is. A backslash
 * stays a backslash (names in presentation form already write a literal one as "\\"). */
void esc_term(struct strbuf *out, const char *s, size_t n);
/* HTML text and quoted attribute values: & < > " ' as entities; control bytes, the bidirectional
 * controls and invalid UTF-8 as the text \xNN (so the page is valid UTF-8). */
void esc_html(struct strbuf *out, const char *s, size_t n);

#endif
