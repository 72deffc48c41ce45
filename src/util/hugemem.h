/* hugemem.h: transparent huge pages for the engine's heap.
 *
 * The engine's state (the open-lookup table and its entries, the rules' tables) is tens of MiB
 * reached at random, one or two cache lines a packet per table: with 4 KiB pages most of those
 * reaches also miss the TLB. On Linux with glibc, once the program holds NT_HUGEMEM_AFTER bytes
 * of the heap, nt_hugemem_follow makes the heap grow in large steps and asks the kernel
 * (madvise MADV_HUGEPAGE) for huge pages over what it grew by since the last call: what
 * glibc's own tunable glibc.malloc.hugetlb=1 does, from inside the program. Elsewhere, or with
 * the environment variable NT_HUGEPAGES=0, or where the kernel's transparent huge pages are
 * "never", both do nothing. Nothing but speed and resident memory depends on them. */
#ifndef NT_UTIL_HUGEMEM_H
#define NT_UTIL_HUGEMEM_H

#include <stdbool.h>
#include <stdint.h>

/* How much of the heap the program must hold before the heap's growth is advised: runs that
 * need less keep small pages, so that they do not pay for huge ones. */
#define NT_HUGEMEM_AFTER ((uintptr_t)16 << 20)

/* Once per process, before the engine's tables grow (later calls do nothing). Returns whether
 * the heap is followed (then nt_hugemem_follow may change the allocator's M_TOP_PAD). */
bool nt_hugemem_init(void);
/* Cheap (sbrk and one comparison when the heap did not grow): call between packets, every
 * NT_HUGEMEM_PACKETS of them. What the packets in between allocate in a new growth before it is
 * advised stays in small pages: at the busy profile's 1 to 2 KiB a packet, part of the first
 * 2 MiB extent of a 16 MiB growth, which stays small anyway (hugemem.c). */
#define NT_HUGEMEM_PACKETS 64
void nt_hugemem_follow(void);

#endif
