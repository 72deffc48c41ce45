/* pcap.c: pcap and pcapng input through libpcap (the only file that includes <pcap.h>). */
#include "source/source_impl.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "util/err.h"

struct pcap_impl {
    pcap_t *p;
    FILE *f; /* owned by libpcap once opened */
    int linktype;
};

static int pcap_next_packet(struct source *s, struct packet *pkt)
{
    struct pcap_impl *pi = s->impl;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(pi->p, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) {
        if (s->stats.packets == 0) {
            snprintf(s->error, sizeof s->error, "%s", nt_strerror(NT_ERR_NO_PACKETS));
            return NT_ERR_NO_PACKETS;
        }
        return 0;
    }
    if (rc != 1) {
        /* libpcap says what was wrong ("truncated dump file; tried to read 98 captured bytes,
         * only got 40"); packets already delivered stand. */
        const char *msg = pcap_geterr(pi->p);
        snprintf(s->error, sizeof s->error, "%s after packet %llu",
                 msg && *msg ? msg : "read error", (unsigned long long)s->stats.packets);
        s->stats.truncated = true;
        return strstr(s->error, "truncated") ? NT_ERR_TRUNCATED : NT_ERR_CORRUPT;
    }
    packet_reset(pkt);
    pkt->num = s->stats.packets + 1;
    pkt->ts.kind = NT_TIME_ABSOLUTE;
    /* Opened with nanosecond precision: tv_usec holds nanoseconds. A damaged or crafted file
     * can hold a fraction of a second or more there; carry it into the seconds. */
    uint64_t frac = (uint64_t)hdr->ts.tv_usec;
    pkt->ts.sec = (int64_t)hdr->ts.tv_sec + (int64_t)(frac / 1000000000u);
    pkt->ts.nsec = (uint32_t)(frac % 1000000000u);
    pkt->caplen = hdr->caplen;
    pkt->wirelen = hdr->len;
    pkt->linktype = pi->linktype;
    if (!decode_linktype_supported(pi->linktype)) {
        s->stats.unsupported_link++;
        return 1;
    }
    decode_packet(pkt, pi->linktype, data, hdr->caplen);
    return 1;
}

static void pcap_close_source(struct source *s)
{
    struct pcap_impl *pi = s->impl;
    if (!pi)
        return;
    if (pi->p)
        pcap_close(pi->p); /* closes pi->f too */
    else if (pi->f)
        fclose(pi->f);
    free(pi);
    s->impl = NULL;
}

static const struct source_ops pcap_ops = {.next = pcap_next_packet, .close = pcap_close_source};

int source_pcap_open(FILE *f, struct source **out, char *err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct pcap_impl *pi = calloc(1, sizeof *pi);
    if (!pi) {
        fclose(f);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    pi->f = f;
    pi->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pi->p) {
        fclose(f);
        free(pi);
        /* libpcap's messages for a header cut short say "truncated dump file". */
        snprintf(err, SOURCE_ERROR_MAX, "%s", errbuf[0] ? errbuf : "cannot read capture header");
        return strstr(errbuf, "truncated") ? NT_ERR_TRUNCATED : NT_ERR_CORRUPT;
    }
    pi->linktype = pcap_datalink(pi->p);
    /* source_open sets the kind (pcap or pcapng) from the magic it saw. */
    struct source *s = source_alloc(&pcap_ops, SOURCE_PCAP, pi);
    if (!s) {
        pcap_close(pi->p);
        free(pi);
        snprintf(err, SOURCE_ERROR_MAX, "%s", nt_strerror(NT_ERR_NOMEM));
        return NT_ERR_NOMEM;
    }
    s->stats.linktype = pi->linktype;
    *out = s;
    return NT_OK;
}
