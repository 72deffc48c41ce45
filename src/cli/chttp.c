/* chttp.c: ClickHouse's HTTP interface through libcurl (chttp.h). */
#include "cli/chttp.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_MAX  (256u << 20) /* an answer larger than this is refused */
#define INSERT_KEEP 4096u

struct chttp {
    CURL *curl;
    char *base; /* the URL without a trailing '?' part */
    char *user, *password;
};

static bool curl_ready;

struct sink {
    struct strbuf *b;
    size_t max;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * n;
    if (s->b->len + len > s->max) {
        size_t room = s->max > s->b->len ? s->max - s->b->len : 0;
        strbuf_append(s->b, p, room);
        s->too_big = true;
        return s->max == INSERT_KEEP ? len : 0; /* an INSERT's answer is only cut */
    }
    strbuf_append(s->b, p, len);
    return len;
}

struct chttp *chttp_open(const char *url, const char *user, const char *password)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fputs("nettriage: libcurl could not start\n", stderr);
            return NULL;
        }
        curl_ready = true;
    }
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    char *scheme = NULL, *tmp = NULL;
    bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    if (!ok) {
        cli_error(NULL, "'%s' is not an http:// or https:// URL", url);
        curl_free(scheme);
        curl_url_cleanup(u);
        return NULL;
    }
    curl_free(scheme);
    if (curl_url_get(u, CURLUPART_USER, &tmp, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &tmp, 0) == CURLUE_OK) {
        curl_free(tmp);
        curl_url_cleanup(u);
        fputs("nettriage: credentials in the URL are refused (they would show in the process "
              "list): give them in $NETTRIAGE_CLICKHOUSE_USER and $NETTRIAGE_CLICKHOUSE_PASSWORD "
              "or a file named by $NETTRIAGE_CLICKHOUSE_CREDENTIALS\n",
              stderr);
        return NULL;
    }
    curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    char *clean = NULL;
    curl_url_get(u, CURLUPART_URL, &clean, 0);
    curl_url_cleanup(u);

    struct chttp *h = calloc(1, sizeof *h);
    if (!h || !clean || !(h->curl = curl_easy_init()) || !(h->base = strdup(clean)) ||
        (user && !(h->user = strdup(user))) || (password && !(h->password = strdup(password)))) {
        curl_free(clean);
        chttp_close(h);
        fputs("nettriage: out of memory\n", stderr);
        return NULL;
    }
    curl_free(clean);
    return h;
}

bool chttp_post(struct chttp *h, const char *query, enum chttp_kind kind, const char *data,
                size_t n, struct chttp_result *r)
{
    memset(r, 0, sizeof *r);
    strbuf_init(&r->body);
    CURL *c = h->curl;
    curl_easy_reset(c);
    struct strbuf url;
    strbuf_init(&url);
    strbuf_puts(&url, h->base);
    if (kind == CHTTP_INSERT) {
        char *q = curl_easy_escape(c, query, 0);
        if (!q) {
            strbuf_fini(&url);
            snprintf(r->error, sizeof r->error, "out of memory");
            return false;
        }
        /* Nested ECS objects map to the `a.b` columns one level deep (18.16); fields the
         * tables do not keep are skipped; a Distributed table inserts on its shards before
         * answering, so a 200 means stored. */
        strbuf_printf(&url,
                      "?query=%s&input_format_import_nested_json=1"
                      "&input_format_skip_unknown_fields=1&insert_distributed_sync=1",
                      q);
        curl_free(q);
    } else {
        data = query;
        n = strlen(query);
    }
    if (url.oom) {
        strbuf_fini(&url);
        snprintf(r->error, sizeof r->error, "out of memory");
        return false;
    }
    struct sink sink = {&r->body, kind == CHTTP_INSERT ? INSERT_KEEP : SELECT_MAX, false};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, strbuf_str(&url));
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "nettriage/" NT_VERSION);
    if (h->user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password ? h->password : "");
    }
    /* No "Expect: 100-continue" (libcurl sends it for bodies over 1 MiB and then waits a
     * second for an answer ClickHouse 18.16 does not give). */
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    strbuf_fini(&url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc != CURLE_OK) {
        snprintf(r->error, sizeof r->error, "%s",
                 sink.too_big ? "the answer is too large"
                 : errbuf[0]  ? errbuf
                              : curl_easy_strerror(rc));
        return false;
    }
    if (r->status != 200) {
        /* ClickHouse says why in the body ("Code: 27, e.displayText() = DB::Exception: ..."): its
         * first line, and the exception code. */
        const char *b = strbuf_str(&r->body);
        int len = (int)strcspn(b, "\n");
        snprintf(r->error, sizeof r->error, "HTTP %ld: %.*s", r->status, len > 300 ? 300 : len, b);
        const char *code = strncmp(b, "Code: ", 6) == 0 ? b : strstr(b, "Code: ");
        r->ch_code = code ? (int)strtol(code + 6, NULL, 10) : 0;
        return false;
    }
    if (r->body.oom) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return false;
    }
    return true;
}

bool chttp_data_error(int ch_code)
{
    static const int codes[] = {6, 26, 27, 38, 41, 70, 72, 117, 190};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == ch_code)
            return true;
    return false;
}

void chttp_result_fini(struct chttp_result *r)
{
    strbuf_fini(&r->body);
}

void chttp_close(struct chttp *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    if (h->password)
        memset(h->password, 0, strlen(h->password));
    free(h->base);
    free(h->user);
    free(h->password);
    free(h);
}
