/* test_cpus.c: the CPU quota that caps report --threads' default (src/util/cpus.c), read from
 * cgroup trees made here: v2 and v1, a quota on the cgroup or an ancestor, a container's cgroup
 * mounted as the hierarchy's root, no quota, and text that is not what it should be. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cpus.h"

static char root[256];

/* Writes text to root/rel, making its directories. */
static void put(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "%s/nt-cpus.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

#define MI_V2                                                                                      \
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "      \
    "rw,nsdelegate\n"

/* cgroup v2: the cgroup's cpu.max, or an ancestor's when tighter; "max" is no quota. */
static void test_v2_quota_and_ancestors(void **state)
{
    (void)state;
    const char *mi = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" MI_V2;
    const char *cg = "0::/system.slice/job.service\n";
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 0); /* no file at all */
    put("sys/fs/cgroup/system.slice/job.service/cpu.max", "max 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 0);
    put("sys/fs/cgroup/system.slice/job.service/cpu.max", "150000 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 2); /* 1.5 processors, rounded up */
    put("sys/fs/cgroup/system.slice/cpu.max", "100000 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 1); /* the parent's is tighter */
    put("sys/fs/cgroup/system.slice/cpu.max", "400000 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 2);
    /* the hierarchy's root (the mount point) counts too */
    put("sys/fs/cgroup/cpu.max", "50000 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 1);
}

/* A container: its own cgroup is the mount's root, so the path /proc/self/cgroup names is cut
 * by it (without a cgroup namespace) or is "/" (with one). */
static void test_v2_container_root(void **state)
{
    (void)state;
    const char *mi = "40 30 0:26 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n";
    put("sys/fs/cgroup/cpu.max", "200000 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, "0::/docker/abc\n"), 2);
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, "0::/\n"), 2);
}

/* cgroup v1: the cpu controller's hierarchy (mounted with cpuacct here), quota over period;
 * a quota of -1 is none. Other controllers' lines and mounts are not read. */
static void test_v1_cfs_quota(void **state)
{
    (void)state;
    const char *mi =
        "25 24 0:21 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
        "26 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n";
    const char *cg = "5:memory:/job\n4:cpu,cpuacct:/job\n0::/\n";
    put("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "-1\n");
    put("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 0);
    put("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "250000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 3);
    put("sys/fs/cgroup/memory/job/cpu.cfs_quota_us", "100000\n"); /* not the cpu hierarchy */
    put("sys/fs/cgroup/memory/job/cpu.cfs_period_us", "100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, mi, cg), 3);
    /* "cpuacct" alone is not "cpu" */
    const char *mi2 = "26 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct\n";
    assert_int_equal(nt_cgroup_cpu_cap(root, mi2, "4:cpuacct:/job\n"), 0);
}

/* What cannot be read or parsed means no quota, never a crash. */
static void test_unreadable_is_no_quota(void **state)
{
    (void)state;
    put("sys/fs/cgroup/odd/cpu.max", "lots\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, MI_V2, "0::/odd\n"), 0);
    put("sys/fs/cgroup/zero/cpu.max", "0 100000\n");
    assert_int_equal(nt_cgroup_cpu_cap(root, MI_V2, "0::/zero\n"), 0);
    assert_int_equal(nt_cgroup_cpu_cap(root, NULL, NULL), 0);
    assert_int_equal(nt_cgroup_cpu_cap(root, "", ""), 0);
    assert_int_equal(nt_cgroup_cpu_cap(root, "garbage without fields", "::::\n"), 0);
    assert_int_equal(nt_cgroup_cpu_cap(root, "1 2 3 4 5 6 - cgroup2\n", "0::/\n"), 0);
    assert_int_equal(nt_cgroup_cpu_cap(root, MI_V2, "0::/no/such/cgroup\n"), 0);
    /* this machine's own answer: at least one processor */
    assert_true(nt_usable_cpus() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v2_quota_and_ancestors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_container_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_cfs_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_is_no_quota, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
