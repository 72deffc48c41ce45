/* test_hugemem.c: the heap's huge-page advice (util/hugemem.c). After nt_hugemem_init, memory the
 * heap grows by is advised as nt_hugemem_follow is called: the kernel's map of the process
 * (/proc/self/smaps, VmFlags "hg") shows it. NT_HUGEPAGES=0 turns it off. Skipped where the
 * module does nothing (not glibc on Linux, transparent huge pages "never", a sanitizer's
 * allocator that ignores mallopt). */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/hugemem.h"

/* Bytes of [lo, hi) inside mappings advised for huge pages. */
static size_t advised_bytes(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    uintptr_t a = 0, b = 0;
    size_t got = 0;
    while (fgets(line, sizeof line, f)) {
        uintmax_t s, e;
        if (sscanf(line, "%jx-%jx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            a = (uintptr_t)s;
            b = (uintptr_t)e;
            continue;
        }
        if (strncmp(line, "VmFlags:", 8) != 0 || !strstr(line, " hg"))
            continue;
        uintptr_t x = a > lo ? a : lo, y = b < hi ? b : hi;
        if (y > x)
            got += y - x;
    }
    fclose(f);
    return got;
}

/* Whether malloc takes its memory from the break (glibc's, not a sanitizer's allocator): 2 MiB
 * allocated in small blocks must move it. */
static bool heap_grows(void)
{
    static void *q[2048];
    uintptr_t lo = (uintptr_t)sbrk(0);
    for (int i = 0; i < 2048; i++)
        if ((q[i] = malloc(1024)) != NULL)
            memset(q[i], 0, 1024);
    bool grew = (uintptr_t)sbrk(0) - lo >= ((size_t)1 << 20);
    for (int i = 0; i < 2048; i++)
        free(q[i]);
    return grew;
}

#define CHUNKS 64000 /* of 1 KiB: about 63 MiB, four growths of the heap's 16 MiB steps */

static void test_heap_advised_as_it_grows(void **state)
{
    (void)state;
    if (!nt_hugemem_init() || !heap_grows())
        skip();
    uintptr_t lo = (uintptr_t)sbrk(0);
    void **p = malloc(CHUNKS * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < CHUNKS; i++) {
        p[i] = malloc(1024);
        assert_non_null(p[i]);
        memset(p[i], (int)i, 1024);
        if (i % 64 == 63)
            nt_hugemem_follow();
    }
    nt_hugemem_follow();
    uintptr_t hi = (uintptr_t)sbrk(0);
    assert_true(hi - lo > (size_t)48 << 20); /* the chunks came from the heap */
    size_t adv = advised_bytes(lo, hi);
    /* Every growth after the program held NT_HUGEMEM_AFTER bytes, but the pages touched before
     * the growth was seen (and the page-aligned ends): at least the last 32 MiB of the ~63. */
    assert_true(adv >= ((size_t)32 << 20) / 10 * 9);
    assert_true(advised_bytes(lo, lo + ((size_t)8 << 20)) == 0); /* the first growth: no */
    for (size_t i = 0; i < CHUNKS; i++)
        free(p[i]);
    free(p);
    /* Following a heap that did not grow, or shrank, changes nothing and does not fail. */
    nt_hugemem_follow();
    nt_hugemem_follow();
    assert_true(nt_hugemem_init()); /* once per process: the same answer again */
}

/* In a child process (init is once per process): a heap of which the program holds less than
 * NT_HUGEMEM_AFTER is not advised at all. */
static void test_small_heap_left_alone(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!nt_hugemem_init() || !heap_grows())
            _exit(0); /* nothing to check where the module does nothing */
        uintptr_t lo = (uintptr_t)sbrk(0);
        for (int i = 0; i < 8000; i++) { /* about 8 MiB, kept */
            void *q = malloc(1024);
            if (q)
                memset(q, 1, 1024);
            nt_hugemem_follow();
        }
        uintptr_t hi = (uintptr_t)sbrk(0);
        _exit(hi - lo < ((size_t)7 << 20) || advised_bytes(lo, hi) != 0 ? 1 : 0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* In a child process (init is once per process): NT_HUGEPAGES=0 leaves the heap alone. */
static void test_turned_off_by_environment(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("NT_HUGEPAGES", "0", 1);
        uintptr_t lo = (uintptr_t)sbrk(0);
        bool on = nt_hugemem_init();
        for (int i = 0; i < 20000; i++) {
            void *q = malloc(1024);
            if (q)
                memset(q, 1, 1024); /* kept: the heap must grow */
        }
        nt_hugemem_follow();
        _exit(on || advised_bytes(lo, (uintptr_t)sbrk(0)) != 0 ? 1 : 0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turned_off_by_environment),
        cmocka_unit_test(test_small_heap_left_alone),
        cmocka_unit_test(test_heap_advised_as_it_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
