/* testutil.h: small helpers shared by the unit tests. */
#ifndef NT_TESTUTIL_H
#define NT_TESTUTIL_H

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
/* Reads a whole file relative to the source tree (NT_SOURCE_DIR); malloc'd, *len set. Aborts
 * the test when missing. */
uint8_t *tu_read_file(const char *relpath, size_t *len);

#endif
