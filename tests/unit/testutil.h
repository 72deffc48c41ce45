/* testutil.h: small helpers shared by the unit tests. */
#ifndef NT_TESTUTIL_H
#define NT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* Parses hex digits (spaces, newlines and '#'-to-end-of-line comments ignored) into out.
 * Returns the number of bytes, or aborts the test on bad input or overflow. */
size_t tu_hex(const char *hex, uint8_t *out, size_t cap);
/* Shuffles v[0..n) (Fisher-Yates) with a seeded LCG, *seed moved on: the same seed, the same
 * order on every machine. */
void tu_shuffle(int *v, int n, unsigned *seed);
/* The test program's table of interned host names (lives until exit). */
struct nt_names *tu_names(void);
/* Reads a whole file relative to the source tree (NT_SOURCE_DIR); malloc'd, *len set. Aborts
 * the test when missing. */
uint8_t *tu_read_file(const char *relpath, size_t *len);

/* Whether one of a finding's facts, or one of its causes' reasons, contains words. */
struct finding;
bool tu_has_fact(const struct finding *f, const char *words);
bool tu_has_reason(const struct finding *f, const char *words);

/* A strict RFC 8259 checker that also collects every decoded string (values and keys), for the
 * tests of the JSON and NDJSON writers. */
#define MAX_STRINGS 4096

struct jcheck {
    const unsigned char *s;
    size_t n, i;
    int depth;
    const char *err;
    char *strings[MAX_STRINGS]; /* decoded values and keys, malloc'd */
    size_t lens[MAX_STRINGS];
    size_t n_strings;
};

/* Checks doc (n bytes): NULL when it is not exactly one valid JSON value (the test fails with
 * the reason); else the checker holding every decoded string. */
struct jcheck *json_check(const char *doc, size_t n);
void jcheck_fini(struct jcheck *c);
/* Whether doc is exactly one valid JSON value (no test failure either way). */
bool json_valid(const char *doc, size_t n);
/* Whether the decoded strings hold s (n bytes) exactly. */
bool has_string(const struct jcheck *c, const char *s, size_t n);

#endif
