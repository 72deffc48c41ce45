/* observer.c: the sensor and the content-derived id of NDJSON events (observer.h). */
#include "report/observer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char sensor_name[OBSERVER_NAME_MAX + 1];
static char host_name[OBSERVER_NAME_MAX + 1];
static bool resolved;

/* Where the placeholder of the event being written is (one event at a time per thread). */
static _Thread_local struct strbuf *id_buf;
static _Thread_local size_t id_at;

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > OBSERVER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static void resolve(void)
{
    if (resolved)
        return;
    const char *env = getenv("NETTRIAGE_HOSTNAME");
    if (env && *env && name_ok(env)) {
        strcpy(host_name, env);
    } else if (gethostname(host_name, sizeof host_name) != 0 || !name_ok(host_name)) {
        strcpy(host_name, "unknown");
    }
    host_name[OBSERVER_NAME_MAX] = '\0';
    if (!sensor_name[0])
        strcpy(sensor_name, host_name);
    resolved = true;
}

bool observer_set_name(const char *name)
{
    if (name && !name_ok(name))
        return false;
    strcpy(sensor_name, name ? name : "");
    resolved = false;
    return true;
}

const char *observer_name(void)
{
    resolve();
    return sensor_name;
}

const char *observer_hostname(void)
{
    resolve();
    return host_name;
}

void ndjson_event_id(struct jsonw *w)
{
    static const char zeros[OBSERVER_ID_LEN + 1] = "00000000000000000000000000000000";
    jsonw_kv_str(w, "id", zeros);
    id_buf = w->out;
    /* The string ends with its closing quote. */
    id_at = w->out->oom || w->out->len < OBSERVER_ID_LEN + 1 ? SIZE_MAX
                                                             : w->out->len - OBSERVER_ID_LEN - 1;
}

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser: every input bit reaches every output bit. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

void observer_hash_hex(const void *data, size_t n, char out[OBSERVER_ID_LEN + 1])
{
    /* Two FNV-1a 64 lanes with different bases, the second over the bytes rotated by the
     * position, each finalised: 128 bits, deterministic on every platform. */
    const unsigned char *p = data;
    uint64_t a = 0xcbf29ce484222325u, b = 0x84222325cbf29ce4u ^ (uint64_t)n;
    for (size_t i = 0; i < n; i++) {
        a = (a ^ p[i]) * 0x100000001b3u;
        b = (b ^ (uint64_t)((p[i] + i) & 0xff)) * 0x100000001b3u;
        b ^= b >> 29;
    }
    a = mix64(a ^ (uint64_t)n);
    b = mix64(b + a);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[i] = hex[(a >> (60 - 4 * i)) & 0xf];
        out[16 + i] = hex[(b >> (60 - 4 * i)) & 0xf];
    }
    out[OBSERVER_ID_LEN] = '\0';
}

void ndjson_observer_end(struct jsonw *w)
{
    jsonw_kv_obj(w, "observer");
    jsonw_kv_str(w, "name", observer_name());
    jsonw_kv_str(w, "hostname", observer_hostname());
    jsonw_obj_end(w);

    struct strbuf *b = w->out;
    if (id_buf != b || id_at == SIZE_MAX || b->oom || id_at + OBSERVER_ID_LEN > b->len)
        return;
    /* The line starts after the previous newline (JSON strings never hold a raw one). */
    size_t start = id_at;
    while (start > 0 && b->s[start - 1] != '\n')
        start--;
    char id[OBSERVER_ID_LEN + 1];
    observer_hash_hex(b->s + start, b->len - start, id);
    memcpy(b->s + id_at, id, OBSERVER_ID_LEN);
    id_buf = NULL;
}
