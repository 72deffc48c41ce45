/* text.c: formatting measured values for report sentences, never emitting a backtick. */
#include "detect/text.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NO_QUESTION "(no question)"
/* A lookup known only from an ICMP error whose quote did not show the question (tcpdump text
 * without -v): the name is unknown, not absent. */
#define NAME_UNKNOWN "(name not shown)"

/* Copies src into buf, writing each backtick as `repl` (so a wire value cannot open or close
 * a command span in a sentence). */
static void copy_safe(char *buf, size_t n, const char *src, const char *repl)
{
    size_t o = 0, rl = strlen(repl);
    if (n == 0)
        return;
    for (const char *p = src; *p; p++) {
        if (*p == '`') {
            if (o + rl >= n)
                break;
            memcpy(buf + o, repl, rl);
            o += rl;
        } else {
            if (o + 1 >= n)
                break;
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
}

void text_query_name(const struct dns_lookup *l, char *buf, size_t n)
{
    char tb[16], name[DNS_NAME_TEXT_MAX * 2];
    if (!l->has_question) {
        snprintf(buf, n, "%s", l->from_quote ? NAME_UNKNOWN : NO_QUESTION);
        return;
    }
    /* A backtick and a bar are "\096" and "\124" in the presentation form the decoder and the
     * text reader write (nt_label_byte): unlike the characters no medium rewrites them, so a
     * name in a command stays the name. A name spelled otherwise ("\`", "\|" or a raw '|',
     * as a caller may build one) is brought to that form here. */
    char tmp[DNS_NAME_TEXT_MAX * 2];
    size_t o = 0;
    for (const char *p = l->qname; *p && o + 5 < sizeof tmp; p++) {
        if (p[0] == '\\' && (p[1] == '`' || p[1] == '|'))
            continue; /* the character itself follows and is rewritten below */
        if (p[0] == '\\' && p[1]) {
            tmp[o++] = *p++; /* any other escape pair is kept whole */
            tmp[o++] = *p;
            continue;
        }
        if (*p == '|') {
            memcpy(tmp + o, "\\124", 4);
            o += 4;
            continue;
        }
        tmp[o++] = *p;
    }
    tmp[o] = '\0';
    copy_safe(name, sizeof name, tmp, "\\096");
    /* What snprintf(buf, n, "%s %s", name, type) writes, without printf: this runs for every
     * lookup a finding counts. */
    if (n == 0)
        return;
    const char *parts[3] = {name, " ", dns_type_name(l->qtype, tb, sizeof tb)};
    size_t at = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(parts[i]);
        if (k > n - 1 - at)
            k = n - 1 - at;
        memcpy(buf + at, parts[i], k);
        at += k;
    }
    buf[at] = '\0';
}

void text_shell_word(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    bool plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".:_-+=@/,", *p))
            plain = false;
    if (n == 0)
        return;
    if (plain) {
        snprintf(buf, n, "%s", s);
        return;
    }
    /* Inside single quotes the shell takes every byte literally but the quote itself. */
    buf[o++] = '\'';
    for (const char *p = s; *p && o + 6 < n; p++) {
        if (*p == '\'') {
            memcpy(buf + o, "'\\''", 4);
            o += 4;
        } else if (*p == '`') {
            memcpy(buf + o, "\\096", 4);
            o += 4;
        } else {
            buf[o++] = *p;
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

void text_shell_query(const char *name_and_type, char *buf, size_t n)
{
    char name[DNS_NAME_TEXT_MAX * 2], word[DNS_NAME_TEXT_MAX * 3];
    const char *sp = strrchr(name_and_type, ' ');
    size_t l = sp ? (size_t)(sp - name_and_type) : strlen(name_and_type);
    if (l >= sizeof name)
        l = sizeof name - 1;
    memcpy(name, name_and_type, l);
    name[l] = '\0';
    text_shell_word(name, word, sizeof word);
    /* A name that starts like an option ("-f/tmp/x.", "+short.") would be read by dig as one:
     * -q says the next word is the name. */
    snprintf(buf, n, "%s%s%s", name[0] == '-' || name[0] == '+' ? "-q " : "", word, sp ? sp : "");
}

const char *text_first_query_name(const struct finding *f)
{
    for (size_t i = 0; i < f->n_names; i++)
        if (strcmp(f->names[i], NO_QUESTION) != 0 && strcmp(f->names[i], NAME_UNKNOWN) != 0)
            return f->names[i];
    return NULL;
}

void text_addr(const struct nt_addr *a, char *buf, size_t n)
{
    char raw[NT_ADDR_FMT_MAX];
    nt_addr_format(a, raw, sizeof raw);
    copy_safe(buf, n, raw, "\\x60");
}

static void join_list(char *buf, size_t n, size_t count, uint64_t dropped,
                      void (*item)(const void *list, size_t i, char *out, size_t on),
                      const void *list)
{
    /* Whole items only: one that does not fit (with room kept for " and N more") ends the
     * list, and what was left out is counted. */
    const size_t shown_max = 5, tail_room = 32;
    size_t o = 0, shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && i < shown_max; i++) {
        char one[NT_ADDR_FMT_MAX + DNS_NAME_TEXT_MAX];
        item(list, i, one, sizeof one);
        bool last = i + 1 == count && dropped == 0;
        const char *sep = i == 0 ? "" : (last ? " and " : ", ");
        size_t need = strlen(sep) + strlen(one);
        if (o + need + (last ? 0 : tail_room) >= n)
            break;
        o += (size_t)snprintf(buf + o, n - o, "%s%s", sep, one);
        shown++;
    }
    uint64_t more = dropped + (count - shown);
    if (more && o + tail_room < n)
        snprintf(buf + o, n - o, "%s%" PRIu64 " more", shown ? " and " : "", more);
}

static void addr_item(const void *list, size_t i, char *out, size_t on)
{
    text_addr(&((const struct nt_addr *)list)[i], out, on);
}

static void name_item(const void *list, size_t i, char *out, size_t on)
{
    copy_safe(out, on, ((char *const *)list)[i], "\\096");
}

void text_addr_list(const struct nt_addr *a, size_t n_addr, uint64_t dropped, char *buf, size_t n)
{
    join_list(buf, n, n_addr, dropped, addr_item, a);
}

void text_name_list(char *const *names, size_t n_names, uint64_t dropped, char *buf, size_t n)
{
    join_list(buf, n, n_names, dropped, name_item, names);
}

void text_time(const struct nt_time *t, char *buf, size_t n)
{
    if (t->kind == NT_TIME_NONE || nt_time_format(t, buf, n) == 0)
        snprintf(buf, n, "an unknown time");
}

void text_all(uint64_t n, const char *one, const char *many, char *buf, size_t len)
{
    if (n == 1)
        snprintf(buf, len, "The %s", one);
    else if (n == 2)
        snprintf(buf, len, "Both %s", many);
    else
        snprintf(buf, len, "All %" PRIu64 " %s", n, many);
}

bool text_addr_loopback(const struct nt_addr *a)
{
    static const uint8_t v6_loop[16] = {[15] = 1};
    static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (a->family == NT_AF_INET)
        return a->a[0] == 127;
    if (a->family == NT_AF_INET6)
        return memcmp(a->a, v6_loop, 16) == 0 ||
               (memcmp(a->a, v4_mapped, 12) == 0 && a->a[12] == 127);
    return false;
}

bool text_no_path(const struct finding *f)
{
    if (!f->has_server || f->n_clients == 0)
        return false;
    bool all_self = f->clients_dropped == 0;
    bool all_loop = f->clients_dropped == 0 && text_addr_loopback(&f->server);
    for (size_t i = 0; i < f->n_clients; i++) {
        all_self = all_self && nt_addr_eq(&f->clients[i], &f->server);
        all_loop = all_loop && text_addr_loopback(&f->clients[i]);
    }
    return all_self || all_loop;
}

char *text_put_bar_uint(char *p, unsigned v)
{
    char d[10];
    size_t n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    *p++ = '|';
    while (n)
        *p++ = d[--n];
    return p;
}
