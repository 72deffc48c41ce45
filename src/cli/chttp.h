/* chttp.h: ClickHouse's HTTP interface through libcurl, for --clickhouse (ship.c) and
 * `nettriage fleet` (fleet.c): an INSERT sends its data as the request body with the query in
 * the URL (?query=...), a SELECT sends the query as the body. The user and password go as HTTP
 * basic authentication (never in the URL); a URL carrying user:password@ is refused. */
#ifndef NT_CLI_CHTTP_H
#define NT_CLI_CHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

enum chttp_kind { CHTTP_INSERT, CHTTP_SELECT };

struct chttp_result {
    long status;        /* HTTP status, 0 when no answer came */
    struct strbuf body; /* the answer (an INSERT keeps its first 4 KiB) */
    char error[512];    /* what went wrong, for a message, when the call returned false */
    int ch_code;        /* ClickHouse's exception code in an error answer ("Code: 27."), or 0 */
};

/* True for ClickHouse's exception codes that say the data itself cannot be inserted (it would
 * fail again on every retry): CANNOT_PARSE_TEXT (6), CANNOT_PARSE_QUOTED_STRING (26),
 * CANNOT_PARSE_INPUT_ASSERTION_FAILED (27), CANNOT_PARSE_DATE (38), CANNOT_PARSE_DATETIME
 * (41), CANNOT_CONVERT_TYPE (70), CANNOT_PARSE_NUMBER (72), INCORRECT_DATA (117),
 * SIZES_OF_ARRAYS_DOESNT_MATCH (190). A missing table or a shard down is not one of them. */
bool chttp_data_error(int ch_code);

struct chttp;

/* NULL with a message on standard error when the URL is not http(s)://host[:port][/] or holds
 * credentials, or libcurl cannot start. user may be NULL (ClickHouse's default user). */
struct chttp *chttp_open(const char *url, const char *user, const char *password);
/* Runs one query; true on HTTP 200. r is filled either way (chttp_result_fini it). */
bool chttp_post(struct chttp *h, const char *query, enum chttp_kind kind, const char *data,
                size_t n, struct chttp_result *r);
void chttp_result_fini(struct chttp_result *r);
void chttp_close(struct chttp *h);

/* Credentials from the environment or a file (ship.h); false with a message on error. */
bool ship_credentials(char **user, char **password);

#endif
