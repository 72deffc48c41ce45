/* reader_oracle.c: nettriage's own pcap/pcapng reader (src/source/pcapfile.c) against libpcap,
 * its oracle, on every capture under the given files and directories.
 *
 * Each capture (a file starting with a pcap or pcapng magic) is read twice through source_open:
 * once as nettriage reads a regular file (its own reader), once with NETTRIAGE_READER=libpcap
 * (libpcap, and the pcapng fallback in pcap.c when libpcap refuses the file: that comparison is
 * then against the fallback, and counted apart). Both must give the same records (count, link
 * type, time to the nanosecond, captured and wire lengths, bytes), the same decoded packets
 * (number, time, layers, and the tcpdump-style line), the same statistics (fragments, DNS over
 * TCP, unsupported link types, the fallback flag) and the same ending (end of input, or the
 * same error code after the same packet). Error messages may differ and are printed with -v.
 *
 *   reader_oracle [-v] [--skip-missing] [--damage BYTES] PATH...
 *
 * With --damage, every capture of at most BYTES bytes is also compared damaged: cut short at
 * every length (at most 2000 of them, the first 512 all), and with 400 single bytes or 32-bit
 * words overwritten (chosen by a fixed seed), each variant read both ways as above. A
 * difference names the file and the damage, so that it can be made again.
 *
 * Exit status: 0 when every capture matched, 1 on a difference, 2 on a usage error, 77 (CTest's
 * skip) with --skip-missing when no PATH exists. gzip-compressed captures are counted, not
 * compared: both ways they are read by libpcap. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/packet.h"
#include "flow/flow.h"
#include "source/pcapfile.h"
#include "source/source.h"
#include "util/err.h"

struct rec {
    int linktype;
    int64_t sec;
    uint32_t nsec;
    uint32_t caplen, wirelen;
    uint64_t hash; /* FNV-1a of the bytes */
};

struct pkt {
    uint64_t num;
    int64_t sec;
    uint32_t nsec;
    uint8_t kind;
    uint32_t layers, caplen, wirelen;
    uint64_t line; /* FNV-1a of packet_format_line */
};

struct run {
    int open_rc, rc;
    bool native, fallback;
    enum source_kind kind;
    struct source_stats st;
    struct flow_stats fl; /* the flow stage over the packets read, as the pipeline runs it */
    char err[SOURCE_ERROR_MAX];
    struct rec *recs;
    size_t n_recs, cap_recs;
    struct pkt *pkts;
    size_t n_pkts, cap_pkts;
};

static bool verbose;

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 256;
    void *q = realloc(p, nc * size);
    if (!q) {
        fprintf(stderr, "reader_oracle: out of memory\n");
        exit(2);
    }
    *cap = nc;
    return q;
}

static void tap(void *arg, const struct pf_record *r)
{
    struct run *run = arg;
    run->recs = grow(run->recs, &run->cap_recs, run->n_recs, sizeof *run->recs);
    struct rec *x = &run->recs[run->n_recs++];
    memset(x, 0, sizeof *x); /* compared with memcmp, padding included */
    /* The fallback reader may have numbered a link type as the file does; compare in DLTs. */
    x->linktype = r->linktype >= 0 ? pf_linktype_to_dlt((uint32_t)r->linktype) : r->linktype;
    x->sec = r->ts.sec;
    x->nsec = r->ts.nsec;
    x->caplen = r->caplen;
    x->wirelen = r->wirelen;
    x->hash = fnv(r->data, r->caplen);
}

static void read_capture(const char *path, bool libpcap, struct run *run)
{
    memset(run, 0, sizeof *run);
    if (libpcap)
        setenv("NETTRIAGE_READER", "libpcap", 1);
    else
        unsetenv("NETTRIAGE_READER");
    struct source *s;
    run->open_rc = source_open(path, &s, run->err);
    unsetenv("NETTRIAGE_READER");
    if (run->open_rc < 0)
        return;
    run->native = source_pcap_native(s);
    source_pcap_set_tap(s, tap, run);
    static struct packet pkt;
    char line[1024];
    struct flow *fl = flow_new();
    if (!fl) {
        fprintf(stderr, "reader_oracle: out of memory\n");
        exit(2);
    }
    while ((run->rc = source_next(s, &pkt)) == 1) {
        flow_packet(fl, &pkt);
        do {
            run->pkts = grow(run->pkts, &run->cap_pkts, run->n_pkts, sizeof *run->pkts);
            struct pkt *x = &run->pkts[run->n_pkts++];
            memset(x, 0, sizeof *x);
            x->num = pkt.num;
            x->sec = pkt.ts.sec;
            x->nsec = pkt.ts.nsec;
            x->kind = pkt.ts.kind;
            x->layers = pkt.layers;
            x->caplen = pkt.caplen;
            x->wirelen = pkt.wirelen;
            size_t n = packet_format_line(&pkt, line, sizeof line);
            x->line = fnv((const uint8_t *)line, n);
        } while (flow_next(fl, &pkt));
    }
    if (run->rc == 0)
        flow_finish(fl);
    run->fl = *flow_stats(fl);
    flow_free(fl);
    run->st = *source_stats(s);
    run->fallback = run->st.pcapng_fallback;
    run->kind = source_kind(s);
    if (run->rc < 0)
        snprintf(run->err, sizeof run->err, "%s", source_error(s));
    source_close(s);
}

static void free_run(struct run *r)
{
    free(r->recs);
    free(r->pkts);
}

struct tally {
    unsigned long files, captures, gzip, same, differ, via_fallback, declined, open_errors,
        read_errors;
    unsigned long long records;
    unsigned long long variants, variant_differ, variant_errors;
};

static size_t damage_max;
static char variant_path[4096];

/* Compares the two runs; prints the first difference. */
static bool compare(const char *path, const struct run *a, const struct run *b)
{
    char why[1200] = "";
    if (a->open_rc != b->open_rc)
        snprintf(why, sizeof why, "open: %d (%s) vs libpcap %d (%s)", a->open_rc, a->err,
                 b->open_rc, b->err);
    else if (a->open_rc < 0)
        ; /* both failed the same way */
    else if (a->n_recs != b->n_recs)
        snprintf(why, sizeof why, "%zu records vs libpcap %zu", a->n_recs, b->n_recs);
    else if (a->rc != b->rc)
        snprintf(why, sizeof why, "ending %d (%s) vs libpcap %d (%s)", a->rc, a->err, b->rc,
                 b->err);
    for (size_t i = 0; !why[0] && i < a->n_recs; i++) {
        const struct rec *x = &a->recs[i], *y = &b->recs[i];
        if (memcmp(x, y, sizeof *x) != 0)
            snprintf(why, sizeof why,
                     "record %zu: link %d time %lld.%09u len %u/%u bytes %016llx vs libpcap "
                     "link %d time %lld.%09u len %u/%u bytes %016llx",
                     i + 1, x->linktype, (long long)x->sec, x->nsec, x->caplen, x->wirelen,
                     (unsigned long long)x->hash, y->linktype, (long long)y->sec, y->nsec,
                     y->caplen, y->wirelen, (unsigned long long)y->hash);
    }
    if (!why[0] && a->open_rc == 0) {
        if (a->n_pkts != b->n_pkts)
            snprintf(why, sizeof why, "%zu packets vs libpcap %zu", a->n_pkts, b->n_pkts);
        for (size_t i = 0; !why[0] && i < a->n_pkts; i++)
            if (memcmp(&a->pkts[i], &b->pkts[i], sizeof a->pkts[i]) != 0)
                snprintf(why, sizeof why, "decoded packet %zu differs", i + 1);
        if (!why[0] && (a->kind != b->kind || a->st.packets != b->st.packets ||
                        a->st.unsupported_link != b->st.unsupported_link ||
                        a->st.pcapng_fallback != b->st.pcapng_fallback ||
                        pf_linktype_to_dlt((uint32_t)a->st.linktype) !=
                            pf_linktype_to_dlt((uint32_t)b->st.linktype) ||
                        memcmp(&a->fl, &b->fl, sizeof a->fl) != 0))
            snprintf(why, sizeof why,
                     "statistics differ: kind %d/%d packets %llu/%llu unsupported %llu/%llu "
                     "fallback %d/%d linktype %d/%d fragments %llu/%llu dns-tcp %llu/%llu",
                     a->kind, b->kind, (unsigned long long)a->st.packets,
                     (unsigned long long)b->st.packets, (unsigned long long)a->st.unsupported_link,
                     (unsigned long long)b->st.unsupported_link, a->st.pcapng_fallback,
                     b->st.pcapng_fallback, a->st.linktype, b->st.linktype,
                     (unsigned long long)a->fl.frag.fragments,
                     (unsigned long long)b->fl.frag.fragments,
                     (unsigned long long)a->fl.tcpdns.messages,
                     (unsigned long long)b->fl.tcpdns.messages);
    }
    if (why[0]) {
        printf("DIFF %s: %s\n", path, why);
        return false;
    }
    if (verbose && (a->open_rc < 0 || a->rc < 0))
        printf("same %s: %s / libpcap: %s\n", path, a->err, b->err);
    return true;
}

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Writes buf as the variant file and compares both readers on it. */
static void variant(const char *path, const uint8_t *buf, size_t n, const char *damage,
                    struct tally *t)
{
    FILE *f = fopen(variant_path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "reader_oracle: cannot write %s\n", variant_path);
        exit(2);
    }
    struct run a, b;
    read_capture(variant_path, false, &a);
    read_capture(variant_path, true, &b);
    char label[4500];
    snprintf(label, sizeof label, "%s %s", path, damage);
    t->variants++;
    if (!compare(label, &a, &b))
        t->variant_differ++;
    else if (a.open_rc < 0 || a.rc < 0)
        t->variant_errors++;
    free_run(&a);
    free_run(&b);
}

static void damage(const char *path, struct tally *t)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t *buf = malloc(damage_max + 1), *mut = malloc(damage_max + 1);
    size_t n = buf && mut ? fread(buf, 1, damage_max + 1, f) : 0;
    fclose(f);
    if (n == 0 || n > damage_max) {
        free(buf);
        free(mut);
        return;
    }
    char what[96];
    size_t step = n <= 2000 ? 1 : n / 1500;
    for (size_t cut = 0; cut < n; cut += cut < 512 ? 1 : step) {
        snprintf(what, sizeof what, "(cut to %zu bytes)", cut);
        variant(path, buf, cut, what, t);
    }
    static const uint32_t words[] = {0,  0xffffffffu, 0x7fffffffu, 0x80000000u, 1,          12, 16,
                                     28, 0x0a0d0d0au, 65536,       0x00040000,  0xfffffffcu};
    rng = n * 2654435761u;
    for (int i = 0; i < 400; i++) {
        memcpy(mut, buf, n);
        size_t at = (size_t)(rnd() % n);
        if (i % 2 == 0) {
            static const int ops[] = {0x00, 0xff, -0x80, 1, -1};
            int op = ops[rnd() % 5];
            uint8_t v = op == 0x00    ? 0
                        : op == 0xff  ? 0xff
                        : op == -0x80 ? mut[at] ^ 0x80
                                      : (uint8_t)(mut[at] + op);
            mut[at] = v;
            snprintf(what, sizeof what, "(byte %zu set to 0x%02x)", at, v);
        } else {
            at &= ~(size_t)3;
            uint32_t w = words[rnd() % (sizeof words / sizeof words[0])];
            for (size_t k = 0; k < 4 && at + k < n; k++)
                mut[at + k] = (uint8_t)(w >> (8 * k));
            snprintf(what, sizeof what, "(bytes %zu.. set to 0x%08x little-endian)", at, w);
        }
        variant(path, mut, n, what, t);
    }
    free(buf);
    free(mut);
}

static void one_file(const char *path, struct tally *t)
{
    t->files++;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t m[4];
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    if (n < 2)
        return;
    if (m[0] == 0x1f && m[1] == 0x8b) {
        t->gzip++;
        return;
    }
    if (n < 4)
        return;
    uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    if (v != 0xa1b2c3d4 && v != 0xd4c3b2a1 && v != 0xa1b23c4d && v != 0x4d3cb2a1 && v != 0x0a0d0d0a)
        return;
    t->captures++;
    struct run a, b;
    read_capture(path, false, &a);
    read_capture(path, true, &b);
    if (compare(path, &a, &b)) {
        t->same++;
        t->records += a.n_recs;
        if (a.open_rc < 0)
            t->open_errors++;
        else if (a.rc < 0)
            t->read_errors++;
        if (b.fallback)
            t->via_fallback++;
        if (a.open_rc == 0 && !a.native)
            t->declined++;
        if (verbose)
            printf("ok   %s: %zu records%s%s\n", path, a.n_recs,
                   b.fallback ? " (libpcap refused it: compared with the fallback reader)" : "",
                   a.open_rc == 0 && !a.native ? " (declined: libpcap both ways)" : "");
    } else {
        t->differ++;
    }
    free_run(&a);
    free_run(&b);
    if (damage_max)
        damage(path, t);
}

static char cleanup_dir[64];

static void remove_dir(void)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/variant", cleanup_dir);
    remove(p);
    remove(cleanup_dir);
}

static void atexit_dir(const char *dir)
{
    snprintf(cleanup_dir, sizeof cleanup_dir, "%s", dir);
    atexit(remove_dir);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void walk(const char *path, struct tally *t)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (S_ISREG(st.st_mode)) {
        one_file(path, t);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        return;
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = grow(names, &cap, n, sizeof *names);
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            fprintf(stderr, "reader_oracle: out of memory\n");
            exit(2);
        }
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        walk(names[i], t);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    bool skip_missing = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--skip-missing") == 0)
            skip_missing = true;
        else if (strcmp(argv[i], "--damage") == 0 && i + 1 < argc)
            damage_max = (size_t)strtoul(argv[++i], NULL, 10);
        else
            break;
    }
    if (i == argc || argv[i][0] == '-') {
        fprintf(stderr, "usage: reader_oracle [-v] [--skip-missing] [--damage BYTES] PATH...\n");
        return 2;
    }
    if (damage_max) {
        /* Memory-backed when the system has it: the variants are many and short-lived. */
        char dir[64];
        snprintf(dir, sizeof dir, "%s/nt-reader-oracle-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "reader_oracle: cannot make a temporary directory\n");
            return 2;
        }
        snprintf(variant_path, sizeof variant_path, "%s/variant", dir);
        atexit_dir(dir);
    }
    struct tally t;
    memset(&t, 0, sizeof t);
    int present = 0;
    for (; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("reader_oracle: %s is absent%s\n", argv[i], skip_missing ? ", skipped" : "");
            if (!skip_missing)
                return 2;
            continue;
        }
        present++;
        walk(argv[i], &t);
    }
    if (present == 0) {
        printf("reader_oracle: nothing to compare (the corpora are absent): skipped\n");
        return 77;
    }
    printf("reader_oracle: %lu captures compared (of %lu files): %lu identical, %lu different; "
           "%llu records; %lu compared with the pcapng fallback (libpcap refused them); %lu "
           "declined by nettriage's reader (libpcap both ways); %lu fail to open and %lu stop at "
           "damage, the same way in both; %lu gzip-compressed not compared\n",
           t.captures, t.files, t.same, t.differ, t.records, t.via_fallback, t.declined,
           t.open_errors, t.read_errors, t.gzip);
    if (damage_max)
        printf("reader_oracle: %llu damaged variants compared: %llu different, %llu read with "
               "an error the same way in both\n",
               t.variants, t.variant_differ, t.variant_errors);
    if (t.captures == 0) {
        printf("reader_oracle: no capture found\n");
        return 1;
    }
    return t.differ || t.variant_differ ? 1 : 0;
}
