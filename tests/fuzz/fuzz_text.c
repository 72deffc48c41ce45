/* fuzz_text.c: libFuzzer target for the tcpdump text reader: one record through
 * text_parse_record, then the whole input through the line reader (as a FILE). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct packet pkt;
    struct text_state st;
    /* Host names are interned per input, as a run does, so memory does not grow across runs. */
    struct nt_names *names = nt_names_new();
    if (!names)
        return 0;

    /* One record, in each timestamp style the state can be in. */
    for (int mode = TEXT_TS_UNKNOWN; mode <= TEXT_TS_SINCE_FIRST; mode++) {
        memset(&st, 0, sizeof st);
        st.ts_mode = mode;
        st.names = names;
        packet_reset(&pkt);
        text_parse_record(&st, (const char *)data, size, &pkt);
    }

    nt_names_free(names);

    /* The reader: lines, joining, bad-line accounting (its own table of names). */
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    struct source *s;
    char err[SOURCE_ERROR_MAX];
    if (source_text_open(f, &s, err) != 0)
        return 0;
    for (int i = 0; i < 100000; i++) {
        packet_reset(&pkt);
        if (source_next(s, &pkt) != 1)
            break;
        /* the borrowed line must be readable whole */
        volatile char sink = 0;
        for (size_t j = 0; j < pkt.line_len; j++)
            sink ^= pkt.line[j];
        (void)sink;
    }
    source_close(s);
    return 0;
}
