/* history.c: a service's successes in bounded buckets (see history.h). */
#include "detect/history.h"

#include "detect/finding.h"

#include <stdlib.h>
#include <string.h>

void history_init(struct history *h)
{
    memset(h, 0, sizeof *h);
    h->width = 1;
}

static void pool_leave(struct history *h)
{
    struct history_pool *p = h->pool;
    if (!p)
        return;
    p->bytes -= h->pool_bytes;
    struct history *last = p->members[--p->n];
    p->members[h->pool_idx] = last;
    last->pool_idx = h->pool_idx;
    h->pool = NULL;
    h->pool_bytes = 0;
}

void history_fini(struct history *h)
{
    pool_leave(h);
    free(h->b);
    free(h->slot);
    memset(h, 0, sizeof *h);
}

/* A slot for a bucket's exact times: 1 + its index, 0 when out of memory. */
static uint32_t slot_take(struct history *h)
{
    if (h->free_slot) {
        uint32_t s = h->free_slot;
        h->free_slot = (uint32_t)h->slot[s - 1].t[0].sec;
        return s;
    }
    if (h->n_slot == h->cap_slot) {
        /* At most one slot a bucket, and freed slots are taken first: never more than
         * HISTORY_BUCKETS_MAX slots. */
        uint32_t nc = h->cap_slot ? h->cap_slot * 2 : 1; /* many services succeed once */
        if (nc > HISTORY_BUCKETS_MAX)
            nc = HISTORY_BUCKETS_MAX;
        if (nc <= h->cap_slot)
            return 0; /* (cannot happen, see above: a bound, not a write past the table) */
        struct history_slot *ns = realloc(h->slot, (size_t)nc * sizeof *ns);
        if (!ns)
            return 0;
        h->slot = ns;
        h->cap_slot = nc;
    }
    return ++h->n_slot;
}

/* Gives back bucket b's slot, if it has one, and marks it as no longer exact. */
static void slot_drop(struct history *h, struct history_bucket *b)
{
    if (b->slot) {
        h->slot[b->slot - 1].t[0].sec = h->free_slot;
        h->free_slot = b->slot;
        b->slot = 0;
    }
    b->n_exact = 0;
}

static struct nt_time *times(const struct history *h, const struct history_bucket *b)
{
    return h->slot[b->slot - 1].t;
}

static int64_t floor_to(int64_t sec, int64_t width)
{
    int64_t q = sec / width;
    if (sec % width != 0 && sec < 0)
        q--;
    return q * width;
}

static int bucket_cmp(uint8_t kind, int64_t start, const struct history_bucket *b)
{
    if (kind != b->kind)
        return kind < b->kind ? -1 : 1;
    if (start != b->start)
        return start < b->start ? -1 : 1;
    return 0;
}

/* Index of the first bucket not before (kind, start). */
static size_t lower_bound(const struct history *h, uint8_t kind, int64_t start)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bucket_cmp(kind, start, &h->b[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Merges b into a (same kind, a before b in time); b's slot is given back. */
static void merge_into(struct history *h, struct history_bucket *a, struct history_bucket *b)
{
    if (a->n_exact && b->n_exact && a->count + b->count <= HISTORY_EXACT) {
        /* Both sorted and a's times come first (a's bucket is earlier). */
        memcpy(times(h, a) + a->n_exact, times(h, b), b->n_exact * sizeof(struct nt_time));
        a->n_exact = (uint8_t)(a->n_exact + b->n_exact);
    } else {
        slot_drop(h, a);
    }
    slot_drop(h, b);
    if (nt_time_cmp(&b->min, &a->min) < 0)
        a->min = b->min;
    if (nt_time_cmp(&b->max, &a->max) > 0)
        a->max = b->max;
    a->count += b->count;
}

/* The slots still held, renumbered in bucket order into a table of their number and a few
 * more (a busy service's next bucket takes one): a service quiet for long (a slot a bucket)
 * and then busy gives back the table its quiet past needed once its buckets merge. Out of
 * memory, the table stays as it is. */
#define SLOTS_SPARE 4
static void slots_compact(struct history *h, uint32_t spare)
{
    uint32_t held = 0;
    for (size_t i = 0; i < h->n; i++)
        held += h->b[i].slot != 0;
    uint32_t cap = held + spare;
    if (cap > HISTORY_BUCKETS_MAX)
        cap = HISTORY_BUCKETS_MAX;
    if (cap >= h->cap_slot)
        return;
    if (!cap) {
        free(h->slot);
        h->slot = NULL;
        h->n_slot = h->cap_slot = h->free_slot = 0;
        return;
    }
    struct history_slot *ns = malloc((size_t)cap * sizeof *ns);
    if (!ns)
        return;
    uint32_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->b[i].slot) {
            ns[k] = h->slot[h->b[i].slot - 1];
            h->b[i].slot = ++k;
        }
    free(h->slot);
    h->slot = ns;
    h->n_slot = held;
    h->cap_slot = cap;
    h->free_slot = 0;
}

/* Doubles the width and merges neighbours that now share a bucket. */
static void coarsen(struct history *h)
{
    h->width *= 2;
    size_t j = 0;
    for (size_t i = 0; i < h->n; i++) {
        struct history_bucket b = h->b[i];
        b.start = floor_to(b.start, h->width);
        if (j && h->b[j - 1].kind == b.kind && h->b[j - 1].start == b.start)
            merge_into(h, &h->b[j - 1], &b);
        else
            h->b[j++] = b;
    }
    h->n = j;
    slots_compact(h, SLOTS_SPARE);
}

/* The bytes a history holds: its buckets' and slots' tables. */
static size_t history_bytes(const struct history *h)
{
    return h->cap * sizeof(struct history_bucket) + h->cap_slot * sizeof(struct history_slot);
}

/* Gives back the buckets' table beyond the buckets held (a pool past its budget). */
static void buckets_compact(struct history *h)
{
    size_t cap = h->n;
    if (cap >= h->cap || !cap)
        return;
    struct history_bucket *nb = realloc(h->b, cap * sizeof *nb);
    if (!nb)
        return; /* the table stays as it is */
    h->b = nb;
    h->cap = cap;
}

static void pool_count(struct history *h)
{
    size_t now = history_bytes(h);
    h->pool->bytes = h->pool->bytes - h->pool_bytes + now;
    h->pool_bytes = now;
}

/* Coarsens h to the pool's width; tight: its tables cut to what it holds (shrink). */
static void pool_widen(struct history *h, bool tight)
{
    if (!h->width)
        h->width = 1;
    while (h->width < h->pool->min_width)
        coarsen(h);
    if (tight) {
        buckets_compact(h);
        slots_compact(h, 0);
    }
    pool_count(h);
}

/* Past the budget: doubles every member's width until they fit. A doubling that gives nothing
 * back (each history down to a bucket or so: too many histories for the budget) stops it, and
 * it is tried again only once the pool has grown by an eighth since. */
static void pool_shrink(struct history_pool *p)
{
    if (p->stuck_bytes && p->bytes <= p->stuck_bytes + p->stuck_bytes / 8)
        return;
    p->stuck_bytes = 0;
    while (p->bytes > p->max_bytes && p->min_width < HISTORY_POOL_WIDTH_MAX) {
        size_t before = p->bytes;
        p->min_width *= 2;
        p->doublings++;
        for (size_t i = 0; i < p->n; i++)
            pool_widen(p->members[i], true);
        if (p->bytes >= before) {
            p->stuck_bytes = p->bytes;
            return;
        }
    }
}

void history_pool_init(struct history_pool *p, size_t max_bytes)
{
    memset(p, 0, sizeof *p);
    p->max_bytes = max_bytes;
    p->min_width = 1;
}

void history_pool_fini(struct history_pool *p)
{
    for (size_t i = 0; i < p->n; i++) /* (members not finished: they leave the pool) */
        p->members[i]->pool = NULL;
    free(p->members);
    memset(p, 0, sizeof *p);
}

void history_pool_join(struct history_pool *p, struct history *h)
{
    if (h->pool)
        return;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        struct history **nm = realloc(p->members, nc * sizeof *nm);
        if (!nm) {
            p->not_joined++;
            return;
        }
        p->members = nm;
        p->cap = nc;
    }
    h->pool = p;
    h->pool_idx = p->n;
    h->pool_bytes = 0;
    p->members[p->n++] = h;
    pool_widen(h, false);
    if (p->bytes > p->max_bytes)
        pool_shrink(p);
}

static bool add(struct history *h, const struct nt_time *t);

bool history_add(struct history *h, const struct nt_time *t)
{
    bool ok = add(h, t);
    if (h->pool) {
        pool_count(h);
        if (h->pool->bytes > h->pool->max_bytes)
            pool_shrink(h->pool);
    }
    return ok;
}

static bool add(struct history *h, const struct nt_time *t)
{
    if (t->kind == NT_TIME_NONE)
        return true;
    if (!h->width)
        h->width = 1; /* zeroed memory is an empty history too */
    h->total++;
    int64_t start = floor_to(t->sec, h->width);
    size_t i;
    /* Successes arrive nearly in time order: try the last bucket first. */
    if (h->n && bucket_cmp(t->kind, start, &h->b[h->n - 1]) == 0)
        i = h->n - 1;
    else
        i = lower_bound(h, t->kind, start);
    if (i == h->n || bucket_cmp(t->kind, start, &h->b[i]) != 0) {
        if (h->n == HISTORY_BUCKETS_MAX) {
            coarsen(h);
            h->total--;
            return add(h, t);
        }
        if (h->n == h->cap) {
            size_t nc = h->cap ? h->cap * 2 : 1;
            if (nc > HISTORY_BUCKETS_MAX)
                nc = HISTORY_BUCKETS_MAX;
            struct history_bucket *nb = realloc(h->b, nc * sizeof *nb);
            if (!nb)
                return false;
            h->b = nb;
            h->cap = nc;
        }
        memmove(&h->b[i + 1], &h->b[i], (h->n - i) * sizeof h->b[0]);
        h->n++;
        struct history_bucket *b = &h->b[i];
        memset(b, 0, sizeof *b);
        b->start = start;
        b->kind = t->kind;
        b->min = b->max = *t;
    }
    struct history_bucket *b = &h->b[i];
    if (b->count < HISTORY_EXACT && b->n_exact == b->count &&
        (b->slot || (b->slot = slot_take(h)) != 0)) {
        /* (Out of memory for a slot, the bucket keeps its count and bounds only.) */
        struct nt_time *x = times(h, b);
        size_t k = b->n_exact;
        while (k > 0 && nt_time_cmp(&x[k - 1], t) > 0) {
            x[k] = x[k - 1];
            k--;
        }
        x[k] = *t;
        b->n_exact++;
    } else {
        slot_drop(h, b);
    }
    b->count++;
    if (nt_time_cmp(t, &b->min) < 0)
        b->min = *t;
    if (nt_time_cmp(t, &b->max) > 0)
        b->max = *t;
    return true;
}

static bool exact(const struct history_bucket *b)
{
    return b->n_exact == b->count;
}

void history_window(const struct history *h, const struct nt_time *first,
                    const struct nt_time *last, struct history_window *out)
{
    memset(out, 0, sizeof *out);
    out->total = h->total;
    out->before_exact = out->after_exact = true;
    if (first->kind == NT_TIME_NONE || !h->n)
        return; /* (an empty history may be zeroed memory: width 0) */
    uint8_t kind = first->kind;
    bool bound = false;

    /* The last success before first: from the bucket holding first, backwards. */
    size_t i = lower_bound(h, kind, floor_to(first->sec, h->width) + 1);
    while (i > 0 && h->b[i - 1].kind == kind) {
        const struct history_bucket *b = &h->b[--i];
        if (nt_time_cmp(&b->min, first) >= 0)
            continue;
        out->has_before = true;
        if (nt_time_cmp(&b->max, first) < 0) {
            out->before = b->max;
        } else if (exact(b)) {
            const struct nt_time *x = times(h, b);
            size_t k = b->n_exact;
            while (nt_time_cmp(&x[k - 1], first) >= 0)
                k--; /* stops: x[0] == min < first */
            out->before = x[k - 1];
        } else {
            out->before = b->min;
            out->before_exact = false;
            bound = true;
        }
        break;
    }

    /* The first success after last: from the bucket holding last, forwards. */
    for (i = lower_bound(h, kind, floor_to(last->sec, h->width)); i < h->n && h->b[i].kind == kind;
         i++) {
        const struct history_bucket *b = &h->b[i];
        if (nt_time_cmp(&b->max, last) <= 0)
            continue;
        out->has_after = true;
        if (nt_time_cmp(&b->min, last) > 0) {
            out->after = b->min;
        } else if (exact(b)) {
            const struct nt_time *x = times(h, b);
            size_t k = 0;
            while (nt_time_cmp(&x[k], last) <= 0)
                k++; /* stops: the last exact time == max > last */
            out->after = x[k];
        } else {
            out->after = b->max;
            out->after_exact = false;
            bound = true;
        }
        break;
    }

    /* Successes in [first, last]. */
    for (i = lower_bound(h, kind, floor_to(first->sec, h->width));
         i < h->n && h->b[i].kind == kind && h->b[i].start <= last->sec; i++) {
        const struct history_bucket *b = &h->b[i];
        if (nt_time_cmp(&b->max, first) < 0 || nt_time_cmp(&b->min, last) > 0)
            continue;
        if (nt_time_cmp(&b->min, first) >= 0 && nt_time_cmp(&b->max, last) <= 0) {
            out->during_min += b->count;
            out->during_max += b->count;
        } else if (exact(b)) {
            const struct nt_time *x = times(h, b);
            for (size_t k = 0; k < b->n_exact; k++)
                if (nt_time_cmp(&x[k], first) >= 0 && nt_time_cmp(&x[k], last) <= 0) {
                    out->during_min++;
                    out->during_max++;
                }
        } else {
            /* Only the earliest and latest are known; the others may fall either side. */
            uint64_t sure = 0;
            if (nt_time_cmp(&b->min, first) >= 0)
                sure++;
            if (nt_time_cmp(&b->max, last) <= 0)
                sure++;
            out->during_min += sure;
            out->during_max += b->count - (2 - sure);
            bound = true;
        }
    }
    if (bound)
        out->width = h->width;
}

void history_fill_window(const struct history *h, const struct nt_time *first,
                         const struct nt_time *last, struct incident_window *w)
{
    struct history_window hw;
    history_window(h, first, last, &hw);
    w->ok_total = hw.total;
    w->has_ok_before = hw.has_before;
    w->ok_before = hw.before;
    w->ok_before_bound = !hw.before_exact;
    w->has_ok_after = hw.has_after;
    w->ok_after = hw.after;
    w->ok_after_bound = !hw.after_exact;
    w->ok_during = hw.during_min;
    w->ok_during_max = hw.during_max;
    w->bound_width_s = hw.width;
}
