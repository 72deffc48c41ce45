/* clock.c: the monotonic clock the correlator runs on (see the top of correlate.c): each timed
 * packet's place on it, clock steps back (merged captures) and confirmed jumps ahead. */
#include "correlate/correlate_internal.h"

/* A stamp in microseconds, the seconds bounded so that nothing below overflows. */
static int64_t raw_us(const struct nt_time *t)
{
    const int64_t lim = 4000000000000LL; /* about 127,000 years */
    int64_t sec = t->sec > lim ? lim : t->sec < -lim ? -lim : t->sec;
    return sec * 1000000 + (int64_t)(t->nsec / 1000);
}

static void record_step(struct correlator *c, const struct packet *pkt, uint32_t input)
{
    c->st.clock_steps++;
    if (c->st.n_clock_steps_kept < CORRELATE_STEPS_KEPT) {
        struct clock_step *s = &c->st.clock_steps_kept[c->st.n_clock_steps_kept++];
        s->input = input;
        s->pkt = pkt->num;
        s->from = c->prev_ts;
        s->to = pkt->ts;
    }
}

void correlate_advance_clock(struct correlator *c, const struct packet *pkt, uint32_t input)
{
    const struct nt_time *t = &pkt->ts;
    int64_t raw = raw_us(t);
    if (!c->have_vclock || t->kind != c->prev_ts.kind) {
        /* The first stamp of the input, or another kind of clock: go on from here (the clock
         * starts at 0 for each input, where lookups made before any stamp also stand). */
        c->offset = sat_sub(c->vclock, raw);
        c->vclock = c->now = sat_add(raw, c->offset);
        c->have_vclock = true;
        c->prev_ts = *t;
        return;
    }
    int64_t vt = sat_add(raw, c->offset);
    if (vt < c->vclock) {
        if (sat_sub(c->vclock, vt) > CORRELATE_STEP_BACK_US) {
            record_step(c, pkt, input);
            c->offset = sat_add(c->offset, sat_sub(c->vclock, vt));
        }
        vt = c->vclock;
    } else if (vt > sat_add(c->vclock, CLOCK_JUMP_US)) {
        /* One stray stamp far ahead must not close every open lookup: the jump is taken when
         * the next packet confirms it. Meanwhile the packet keeps its own time (a query in it
         * must not look older than it is once the jump is confirmed), but the clock that
         * expires state does not move. */
        if (!c->vjump_held) {
            c->vjump_held = true;
            c->now = vt;
            return;
        }
        record_step(c, pkt, input);
    }
    c->vjump_held = false;
    c->vclock = c->now = vt;
    c->prev_ts = *t;
}

bool correlate_idle_clock(struct correlator *c, const struct nt_time *t)
{
    /* Before any stamp, or with a jump ahead waiting for its confirmation: the next packet
     * decides. The packet stamps stay as they are (prev_ts): the next packet is placed as
     * before, and one stamped up to CORRELATE_STEP_BACK_US before the moved clock joins it
     * without a step. */
    if (!c->have_vclock || c->vjump_held || t->kind != c->prev_ts.kind)
        return false;
    int64_t vt = sat_add(raw_us(t), c->offset);
    if (vt <= c->vclock || vt > sat_add(c->vclock, CLOCK_JUMP_US))
        return false;
    c->vclock = c->now = vt;
    return true;
}
