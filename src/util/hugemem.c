/* hugemem.c: transparent huge pages for the engine's heap (see hugemem.h).
 *
 * Why from inside the program: with the kernel's THP mode "madvise" (Debian's default) only
 * advised memory gets huge pages, and glibc advises its heap only when the environment says
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1. On busy.pcap (2.1 M packets) that tunable took the
 * run from 3.5 s to 3.2 s; this module does the same for every run (docs/performance.md).
 *
 * How: the main arena grows by brk. M_TOP_PAD makes each growth at least TOP_PAD bytes, so
 * growths are rare; nt_hugemem_follow, called between packets, compares the break with the end
 * it last advised and advises the new range. The pages a packet touched before the call (its
 * own allocations, at the start of the new range) stay small: about one 2 MiB extent of every
 * TOP_PAD. Arrays of 128 KiB or more start in mappings of their own, which are not advised; but
 * glibc raises its mapping threshold to the size of each such array freed (up to 32 MiB), so
 * once a table has grown once its next arrays come from the heap too. Keeping every array in
 * the heap from the start (M_MMAP_THRESHOLD) was measured: no faster, 1.2 MiB more memory. */
#include "util/hugemem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h> /* defines __GLIBC__ with glibc */
#include <string.h>

#if defined(__linux__) && defined(__GLIBC__)

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define TOP_PAD ((size_t)16 << 20)

static bool inited, following;
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
    if (!mallopt(M_TOP_PAD, (int)TOP_PAD))
        return false;
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
    if (end > advised_end) /* the kernel ignores advice it cannot follow: nothing to check */
        madvise((void *)advised_end, end - advised_end, MADV_HUGEPAGE);
    advised_end = end; /* grown, or trimmed back (a later growth is advised from there) */
}

#else

bool nt_hugemem_init(void)
{
    return false;
}

void nt_hugemem_follow(void) {}

#endif
