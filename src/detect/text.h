/* text.h: helpers rules use to put measured values into report sentences. Sentences are plain
 * text in which a pair of backticks marks a command (renderers show it as code); values that
 * came off the wire go through these helpers, which never emit a backtick. */
#ifndef NT_DETECT_TEXT_H
#define NT_DETECT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "correlate/correlate.h"
#include "detect/finding.h"

/* "yummyrecipesforme.com. A" (or "(no question)"). */
void text_query_name(const struct dns_lookup *l, char *buf, size_t n);
/* An address, with any backtick written as \x60. */
void text_addr(const struct nt_addr *a, char *buf, size_t n);
/* "192.0.2.1, 192.0.2.2 and 3 more" from a list (dropped counts beyond the list). */
void text_addr_list(const struct nt_addr *a, size_t n_addr, uint64_t dropped, char *buf, size_t n);
void text_name_list(char *const *names, size_t n_names, uint64_t dropped, char *buf, size_t n);
/* A time as the report shows it (nt_time_format), or "an unknown time". */
void text_time(const struct nt_time *t, char *buf, size_t n);
/* The first query name of a finding that can be put in a command ("example.com. A"), or NULL
 * when its lookups had no question. */
const char *text_first_query_name(const struct finding *f);
/* One shell word for a suggested command: s as it is when it holds only letters, digits and
 * ".:_-+=@/,", else single-quoted (a quote inside written '\'', a backtick \096) so that a
 * value from the wire ("$(id)", "a|b", "x;y") is passed literally, never run, when the analyst
 * pastes the command. */
void text_shell_word(const char *s, char *buf, size_t n);
/* "'name.' A" from a query name with its type ("name. A"): the name as one shell word, after
 * dig's "-q" when it starts with '-' or '+' (so dig cannot take it for an option). */
void text_shell_query(const char *name_and_type, char *buf, size_t n);
/* A loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
bool text_addr_loopback(const struct nt_addr *a);
/* True when no network lies between a finding's clients and its server: every client is the
 * server itself, or the server and every client are loopback addresses. Nothing can be lost,
 * delayed or tunnelled "on the path" then. False when the finding has no server or no client. */
bool text_no_path(const struct finding *f);
/* "The error" (1), "Both errors" (2), "All 5 errors" (n), for the start of a sentence. */
void text_all(uint64_t n, const char *one, const char *many, char *buf, size_t len);
/* Writes "|<v>" in decimal at p (at most 11 bytes, no NUL) and returns the end: the fields of
 * finding and sketch keys, without printf on the per-lookup path. */
char *text_put_bar_uint(char *p, unsigned v);

#endif
