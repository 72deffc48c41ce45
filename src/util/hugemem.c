/* hugemem.c: transparent huge pages for the engine's heap (see hugemem.h).
 *
 * Why from inside the program: with the kernel's THP mode "madvise" (Debian's default) only
 * advised memory gets huge pages, and glibc advises its heap only when the environment says
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1. On busy.pcap (2.1 M packets) that tunable took the
 * run from 3.5 s to 3.2 s; this module does the same for every run (docs/performance.md).
 *
 * How: the main arena grows by brk. Once the program holds NT_HUGEMEM_AFTER bytes of it,
 * M_TOP_PAD makes each growth at least TOP_PAD bytes, so growths are rare; nt_hugemem_follow,
 * called between packets, compares the break with the end it last advised and advises the new
 * range. The pages a packet touched before the call (its
 * own allocations, at the start of the new range) stay small: about one 2 MiB extent of every
 * TOP_PAD. Arrays of 128 KiB or more are in mappings of their own, which are not advised.
 * Keeping every array under 32 MiB in the heap instead (M_MMAP_THRESHOLD) was measured: no
 * faster, 1.2 MiB more memory. Under a sanitizer's allocator the break does not move: nothing
 * is advised. */
#include "util/hugemem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h> /* defines __GLIBC__ with glibc */
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 33) /* mallinfo2 */
#define HUGEMEM_FOLLOWS 1
#endif
#endif

#ifdef HUGEMEM_FOLLOWS

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define TOP_PAD ((size_t)16 << 20)

static bool inited, following, padded;
static uintptr_t advised_end; /* the break up to which advice was given, page aligned */
static uintptr_t page_mask;

/* False when the kernel has no transparent huge pages or has them "never". */
static bool thp_possible(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return false;
    char buf[128];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "[never]") == NULL && n > 0;
}

bool nt_hugemem_init(void)
{
    if (inited)
        return following;
    inited = true;
    const char *e = getenv("NT_HUGEPAGES");
    if ((e && strcmp(e, "0") == 0) || !thp_possible())
        return false;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        return false;
    page_mask = (uintptr_t)ps - 1;
    void *brk_now = sbrk(0);
    if (brk_now == (void *)-1)
        return false;
    /* What the heap holds already is small (the process just started): advice starts here. */
    advised_end = ((uintptr_t)brk_now + page_mask) & ~page_mask;
    following = true;
    return true;
}

void nt_hugemem_follow(void)
{
    if (!following)
        return;
    uintptr_t end = (uintptr_t)sbrk(0) & ~page_mask;
    if (end == advised_end)
        return;
    /* Only once the program holds NT_HUGEMEM_AFTER bytes of the heap: a small run (the quick
     * start's example, a test) keeps the allocator's defaults and small pages, which the 16 MiB
     * steps and huge pages would make larger (measured on the example: 10.9 MiB peak with them
     * off, 16.6 MiB with every growth advised, 16.0 MiB with the steps alone). mallinfo2 walks
     * the allocator's bins, but runs only when the break moved, and no more once padded. */
    if (!padded) {
        if (mallinfo2().uordblks < NT_HUGEMEM_AFTER || !mallopt(M_TOP_PAD, (int)TOP_PAD)) {
            advised_end = end;
            return;
        }
        padded = true;
    }
    if (end > advised_end) /* the kernel ignores advice it cannot follow: nothing to check */
        madvise((void *)advised_end, end - advised_end, MADV_HUGEPAGE);
    advised_end = end; /* grown, or trimmed back (a later growth is advised from there) */
}

#else

bool nt_hugemem_init(void)
{
    return false;
}

void nt_hugemem_follow(void)
{
}

#endif
