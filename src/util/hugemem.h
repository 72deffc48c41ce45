/* hugemem.h: transparent huge pages for the engine's heap.
 *
 * The engine's state (the open-lookup table and its entries, the rules' tables) is tens of MiB
 * reached at random, one or two cache lines a packet per table: with 4 KiB pages most of those
 * reaches also miss the TLB. On Linux with glibc, nt_hugemem_init makes the heap grow in large
 * steps, and nt_hugemem_follow asks the kernel
 * (madvise MADV_HUGEPAGE) for huge pages over what the heap grew by since its last call: what
 * glibc's own tunable glibc.malloc.hugetlb=1 does, from inside the program. Elsewhere, or with
 * the environment variable NT_HUGEPAGES=0, or where the kernel's transparent huge pages are
 * "never", both do nothing. Nothing but speed and resident memory depends on them. */
#ifndef NT_UTIL_HUGEMEM_H
#define NT_UTIL_HUGEMEM_H

#include <stdbool.h>

/* Once per process, before the engine's tables grow (later calls do nothing). Returns whether
 * the heap is followed. */
bool nt_hugemem_init(void);
/* Cheap (one comparison when the heap did not grow): call between packets. */
void nt_hugemem_follow(void);

#endif
