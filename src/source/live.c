/* live.c: a live capture through libpcap, or a capture file replayed at its recorded pace
 * through the same path (see live.h). The packets read may be written to pcap files (-w),
 * rotated by size as tcpdump rotates them (-C, -W). */
#include "source/live.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "source/pcapfile.h"
#include "source/source_impl.h"
#include "util/err.h"

/* How long one wait for packets (or one pause of a replay) lasts at most, so that a stop
 * request, the duration and the progress line are looked at this often. */
#define LIVE_POLL_MS 100

struct live_impl {
    pcap_t *p;
    bool replay; /* --read-live */
    double speed;
    int fd; /* the capture's selectable descriptor (live), -1 when none */
    int linktype;
    uint64_t max_packets;
    int64_t duration_us;
    int64_t start_us; /* monotonic clock when the source was opened */
    int64_t last_tick_us;
    live_tick_fn tick;
    void *tick_ctx;
    /* replay pacing: the first packet's stamp and when it was handed on */
    bool paced;
    struct nt_time first_ts;
    int64_t first_mono_us;
    /* a packet read but held back until its time has come (replay) */
    bool held;
    struct pcap_pkthdr *held_hdr;
    const u_char *held_data;
    /* -w */
    pcap_dumper_t *dump;
    char *write_base;
    char *write_name; /* the file being written */
    size_t write_name_cap;
    uint64_t rotate_bytes;
    uint32_t rotate_files;
    uint32_t file_idx;
    /* the last packet handed on (the latest stamp) and when (monotonic): the idle clock */
    bool have_last;
    struct nt_time last_ts;
    int64_t last_mono_us;
    bool filtered; /* a filter was set */
    bool ended;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool live_savefile_name(char *buf, size_t n, const char *base, uint32_t idx, uint32_t max_files)
{
    int width = 0;
    if (max_files > 0)
        for (uint32_t x = max_files - 1; x > 0; x /= 10)
            width++;
    int w;
    if (idx == 0 && width == 0)
        w = snprintf(buf, n, "%s", base);
    else
        w = snprintf(buf, n, "%s%0*" PRIu32, base, width, idx);
    return w >= 0 && (size_t)w < n;
}

/* The kernel's counts, when the capture has them (a live interface). */
static void take_stats(struct source *s, struct live_impl *li)
{
    if (li->replay)
        return;
    struct pcap_stat ps;
    if (pcap_stats(li->p, &ps) == 0) {
        s->stats.has_capture_stats = true;
        s->stats.cap_received = ps.ps_recv;
        s->stats.cap_dropped = ps.ps_drop;
        s->stats.cap_if_dropped = ps.ps_ifdrop;
    }
}

static void tick(struct source *s, struct live_impl *li, bool force)
{
    int64_t now = mono_us();
    if (!force && now - li->last_tick_us < LIVE_TICK_US)
        return;
    li->last_tick_us = now;
    take_stats(s, li);
    if (li->dump)
        pcap_dump_flush(li->dump);
    if (li->tick)
        li->tick(li->tick_ctx, &s->stats);
}

static int open_savefile(struct source *s, struct live_impl *li)
{
    size_t need = strlen(li->write_base) + 12;
    if (need > li->write_name_cap) {
        char *n = realloc(li->write_name, need);
        if (!n) {
            snprintf(s->error, sizeof s->error, "%s", nt_strerror(NT_ERR_NOMEM));
            return NT_ERR_NOMEM;
        }
        li->write_name = n;
        li->write_name_cap = need;
    }
    live_savefile_name(li->write_name, li->write_name_cap, li->write_base, li->file_idx,
                       li->rotate_files);
    li->dump = pcap_dump_open(li->p, li->write_name);
    if (!li->dump) {
        snprintf(s->error, sizeof s->error, "cannot write %s: %s", li->write_name,
                 pcap_geterr(li->p));
        return NT_ERR_WRITE;
    }
    return NT_OK;
}

/* Writes one packet to the -w file, first moving on to the next file when the current one
 * has grown past -C (checked before writing, as tcpdump does). */
static int save(struct source *s, struct live_impl *li, const struct pcap_pkthdr *h,
                const u_char *data)
{
    if (!li->dump)
        return NT_OK;
    if (li->rotate_bytes > 0) {
        int64_t size = pcap_dump_ftell64(li->dump);
        if (size > 0 && (uint64_t)size > li->rotate_bytes) {
            pcap_dump_close(li->dump);
            li->dump = NULL;
            li->file_idx++;
            if (li->rotate_files > 0 && li->file_idx >= li->rotate_files)
                li->file_idx = 0;
            int rc = open_savefile(s, li);
            if (rc < 0)
                return rc;
        }
    }
    pcap_dump((u_char *)li->dump, h, data);
    return NT_OK;
}

static void deliver(struct source *s, struct live_impl *li, struct packet *pkt,
                    const struct pcap_pkthdr *h, const u_char *data)
{
    packet_reset(pkt);
    pkt->num = s->stats.packets + 1;
    /* Nanosecond precision when the handle gave it (tv_usec holds nanoseconds then). */
    int64_t frac = (int64_t)h->ts.tv_usec;
    if (pcap_get_tstamp_precision(li->p) != PCAP_TSTAMP_PRECISION_NANO)
        frac *= 1000;
    if (!pf_time_norm((int64_t)h->ts.tv_sec, frac, &pkt->ts))
        memset(&pkt->ts, 0, sizeof pkt->ts);
    pkt->caplen = h->caplen;
    pkt->wirelen = h->len;
    pkt->linktype = li->linktype;
    if (!decode_linktype_supported(li->linktype)) {
        s->stats.unsupported_link++;
        return;
    }
    decode_packet(pkt, li->linktype, data, h->caplen);
    pkt->frame = data;
    pkt->frame_len = h->caplen;
    pkt->frame_linktype = li->linktype;
}

static int finish(struct source *s, struct live_impl *li)
{
    if (!li->ended) {
        li->ended = true;
        tick(s, li, true);
    }
    return 0;
}

/* A quiet interface: the packets' clock moves on by the time waited since the last packet
 * (source_set_idle), at most every LIVE_POLL_MS. Never for a replay: a file's time is its
 * packets'. */
static void idle(struct source *s, struct live_impl *li)
{
    if (li->replay || !s->idle || !li->have_last)
        return;
    int64_t waited = mono_us() - li->last_mono_us;
    if (waited < LIVE_POLL_MS * 1000)
        return;
    struct nt_time now = nt_time_add_us(li->last_ts, waited);
    s->idle(s->idle_ctx, &now);
}

/* Microseconds until a replayed packet stamped ts is due (0 or less: now). */
static int64_t replay_wait(struct live_impl *li, const struct nt_time *ts)
{
    if (li->speed <= 0)
        return 0;
    int64_t now = mono_us();
    if (!li->paced) {
        li->paced = true;
        li->first_ts = *ts;
        li->first_mono_us = now;
        return 0;
    }
    int64_t dsec = ts->sec - li->first_ts.sec;
    int64_t dns = (int64_t)ts->nsec - (int64_t)li->first_ts.nsec;
    double since_first_us = ((double)dsec * 1e6 + (double)dns / 1e3) / li->speed;
    if (since_first_us < 0) /* a stamp before the first: no pause (the clock stepped back) */
        since_first_us = 0;
    if (since_first_us > 1e15)
        since_first_us = 1e15;
    return li->first_mono_us + (int64_t)since_first_us - now;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL); /* a signal cuts it short: the loop looks at the stop request */
}

static int live_next(struct source *s, struct packet *pkt)
{
    struct live_impl *li = s->impl;
    if (li->ended)
        return 0;
    for (;;) {
        if (source_live_stop_requested())
            return finish(s, li);
        if (li->max_packets && s->stats.packets >= li->max_packets)
            return finish(s, li);
        int64_t now = mono_us();
        int64_t left = INT64_MAX;
        if (li->duration_us > 0) {
            left = li->start_us + li->duration_us - now;
            if (left <= 0)
                return finish(s, li);
        }
        tick(s, li, false);
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc;
        if (li->held) {
            h = li->held_hdr;
            data = li->held_data;
            rc = 1;
        } else {
            rc = pcap_next_ex(li->p, &h, &data);
        }
        if (rc == PCAP_ERROR_BREAK) {
            /* The end of a replayed file; one without any packet is refused, as the file
             * itself is (unless a filter chose none of them). */
            finish(s, li);
            if (s->stats.packets == 0 && !li->filtered) {
                snprintf(s->error, sizeof s->error, "%s", nt_strerror(NT_ERR_NO_PACKETS));
                return NT_ERR_NO_PACKETS;
            }
            return 0;
        }
        if (rc < 0) {
            snprintf(s->error, sizeof s->error, "%s after packet %llu", pcap_geterr(li->p),
                     (unsigned long long)s->stats.packets);
            finish(s, li);
            return NT_ERR_IO;
        }
        if (rc == 0) {
            /* Nothing yet (non-blocking live capture): wait a little for the descriptor. */
            int ms = LIVE_POLL_MS;
            if (left / 1000 < ms)
                ms = (int)(left / 1000) + 1;
            if (li->fd >= 0) {
                struct pollfd pfd = {.fd = li->fd, .events = POLLIN};
                poll(&pfd, 1, ms); /* EINTR (a signal): looked at above */
            } else {
                sleep_us((int64_t)ms * 1000);
            }
            idle(s, li);
            continue;
        }
        if (li->replay) {
            struct nt_time ts;
            int64_t frac = (int64_t)h->ts.tv_usec;
            if (pcap_get_tstamp_precision(li->p) != PCAP_TSTAMP_PRECISION_NANO)
                frac *= 1000;
            int64_t wait =
                pf_time_norm((int64_t)h->ts.tv_sec, frac, &ts) ? replay_wait(li, &ts) : 0;
            if (wait > 0) {
                /* Not yet: hold the packet (libpcap's buffer stays valid until the next read)
                 * and pause at most LIVE_POLL_MS, then look at the stop conditions again. */
                li->held = true;
                li->held_hdr = h;
                li->held_data = data;
                int64_t pause = wait < LIVE_POLL_MS * 1000 ? wait : LIVE_POLL_MS * 1000;
                if (pause > left)
                    pause = left;
                sleep_us(pause);
                continue;
            }
            li->held = false;
        }
        int wr = save(s, li, h, data);
        if (wr < 0) {
            finish(s, li);
            return wr;
        }
        deliver(s, li, pkt, h, data);
        if (pkt->ts.kind != NT_TIME_NONE &&
            (!li->have_last || nt_time_cmp(&pkt->ts, &li->last_ts) > 0)) {
            li->last_ts = pkt->ts;
            li->have_last = true;
        }
        li->last_mono_us = mono_us();
        return 1;
    }
}

static void live_close(struct source *s)
{
    struct live_impl *li = s->impl;
    if (!li)
        return;
    if (li->dump)
        pcap_dump_close(li->dump);
    if (li->p)
        pcap_close(li->p);
    free(li->write_base);
    free(li->write_name);
    free(li);
    s->impl = NULL;
}

static const struct source_ops live_ops = {.next = live_next, .close = live_close};

/* Frees what was opened, writes the reason (what, then more) and returns code. */
static int fail(struct live_impl *li, char *err, int code, const char *what, const char *more)
{
    snprintf(err, SOURCE_ERROR_MAX, "%s%s", what, more);
    if (li) {
        if (li->p)
            pcap_close(li->p);
        free(li->write_base);
        free(li);
    }
    return code;
}

/* Opens the interface with the options tcpdump uses for a capture read as it comes. */
static int open_iface(struct live_impl *li, const char *iface, char *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    li->p = pcap_create(iface, eb);
    if (!li->p)
        return fail(li, err, NT_ERR_IO, eb[0] ? eb : "cannot open the interface", "");
    pcap_set_snaplen(li->p, LIVE_SNAPLEN);
    pcap_set_promisc(li->p, 0);
    pcap_set_immediate_mode(li->p, 1);
    /* A buffer of 32 MiB: in immediate mode the kernel ring holds slots of about the snap
     * length (256 KiB), so libpcap's default of 2 MiB would hold only 8 packets of a burst. */
    pcap_set_buffer_size(li->p, 32 << 20);
    pcap_set_timeout(li->p, LIVE_POLL_MS);
    /* Nanosecond stamps when the interface gives them; microseconds otherwise. */
    pcap_set_tstamp_precision(li->p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(li->p);
    if (rc < 0) {
        const char *why = pcap_geterr(li->p);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            return fail(li, err, NT_ERR_IO, "no such interface", "");
        if (rc == PCAP_ERROR_PERM_DENIED)
            return fail(li, err, NT_ERR_IO, why,
                        " (capturing needs root, or cap_net_raw and cap_net_admin on the "
                        "binary: see the man page)");
        if (rc == PCAP_ERROR_IFACE_NOT_UP)
            return fail(li, err, NT_ERR_IO, "the interface is not up", "");
        return fail(li, err, NT_ERR_IO, why && *why ? why : pcap_statustostr(rc), "");
    }
    if (pcap_setnonblock(li->p, 1, eb) < 0)
        return fail(li, err, NT_ERR_IO, eb, "");
    li->fd = pcap_get_selectable_fd(li->p);
    return NT_OK;
}

int source_open_live(const struct live_opts *o, struct source **out, char *err)
{
    *out = NULL;
    err[0] = '\0';
    if (!o->iface == !o->read_file)
        return fail(NULL, err, NT_ERR_USAGE, "a live source reads an interface or a file", "");
    struct live_impl *li = calloc(1, sizeof *li);
    if (!li)
        return fail(NULL, err, NT_ERR_NOMEM, nt_strerror(NT_ERR_NOMEM), "");
    li->fd = -1;
    li->max_packets = o->max_packets;
    li->duration_us = o->duration_us;
    li->tick = o->tick;
    li->tick_ctx = o->tick_ctx;
    li->rotate_bytes = o->rotate_bytes;
    li->rotate_files = o->rotate_files;
    li->speed = o->speed;
    enum source_kind kind = SOURCE_LIVE;
    if (o->read_file) {
        char eb[PCAP_ERRBUF_SIZE] = "";
        li->replay = true;
        li->p =
            pcap_open_offline_with_tstamp_precision(o->read_file, PCAP_TSTAMP_PRECISION_NANO, eb);
        if (!li->p)
            return fail(li, err, NT_ERR_IO, eb[0] ? eb : "cannot read the capture", "");
        /* The kind the file is (libpcap reads both): pcapng sections are version 1. */
        kind = pcap_major_version(li->p) == 1 ? SOURCE_PCAPNG : SOURCE_PCAP;
    } else {
        int rc = open_iface(li, o->iface, err);
        if (rc < 0)
            return rc;
    }
    li->linktype = pcap_datalink(li->p);
    if (o->filter) {
        struct bpf_program prog;
        if (pcap_compile(li->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
            return fail(li, err, NT_ERR_USAGE, "bad filter expression: ", pcap_geterr(li->p));
        li->filtered = true;
        int rc = pcap_setfilter(li->p, &prog);
        pcap_freecode(&prog);
        if (rc < 0)
            return fail(li, err, NT_ERR_IO, "cannot set the filter: ", pcap_geterr(li->p));
    }
    struct source *s = source_alloc(&live_ops, kind, li);
    if (!s || (o->write && !(li->write_base = strdup(o->write)))) {
        free(s);
        return fail(li, err, NT_ERR_NOMEM, nt_strerror(NT_ERR_NOMEM), "");
    }
    if (o->write) {
        int rc = open_savefile(s, li);
        if (rc < 0) {
            snprintf(err, SOURCE_ERROR_MAX, "%s", s->error);
            live_close(s);
            free(s);
            return rc;
        }
    }
    s->stats.linktype = li->linktype;
    li->start_us = mono_us();
    li->last_tick_us = li->start_us;
    *out = s;
    return NT_OK;
}
