/* cpus.c: the processors this process may use: its affinity, capped by its cgroups' CPU quota
 * (see cpus.h).
 *
 * Where the quota is: /proc/self/mountinfo names the cgroup hierarchies' mounts (a "cgroup2"
 * file system; a "cgroup" one whose super options include the "cpu" controller) and the
 * cgroup each mount shows as its root; /proc/self/cgroup names this process's cgroup in each
 * hierarchy ("0::PATH" for v2, "N:CONTROLLERS:PATH" for v1). The cgroup's directory is the
 * mount point followed by PATH less the mount's root (a container's own cgroup is often
 * mounted as the root, with or without a cgroup namespace); its quota and every ancestor's up
 * to the mount point are read, and the tightest counts. Anything missing or unreadable counts
 * as no quota: the affinity alone is what nettriage used before. */
#include "util/cpus.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_MAX_NT 4096
#define DIR_MAX     (3 * PATH_MAX_NT) /* prefix, mount point and cgroup path */

/* Reads at most cap-1 bytes of path into buf, NUL-terminated; false when it cannot. */
static bool read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    bool ok = !ferror(f);
    fclose(f);
    buf[n] = '\0';
    return ok && n > 0;
}

/* True when comma-separated list (len bytes at s) holds word. */
static bool has_word(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *end = s + len;
    while (s < end) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        size_t n = c ? (size_t)(c - s) : (size_t)(end - s);
        if (n == wl && memcmp(s, word, wl) == 0)
            return true;
        if (!c)
            break;
        s = c + 1;
    }
    return false;
}

/* Field k (from 0) of the space-separated line [s, end): its start and length. */
static bool field(const char *s, const char *end, int k, const char **f, size_t *len)
{
    for (int i = 0;; i++) {
        while (s < end && *s == ' ')
            s++;
        if (s >= end)
            return false;
        const char *e = memchr(s, ' ', (size_t)(end - s));
        if (!e)
            e = end;
        if (i == k) {
            *f = s;
            *len = (size_t)(e - s);
            return true;
        }
        s = e;
    }
}

/* The end of the line at *at (its '\n', or the text's end); *at moves to the next line, NULL
 * after the last. */
static const char *take_line(const char **at)
{
    const char *s = *at, *end = strchr(s, '\n');
    *at = end ? end + 1 : NULL;
    return end ? end : s + strlen(s);
}

struct hier {
    char mount[PATH_MAX_NT], root[PATH_MAX_NT];
    bool found;
};

static void copy_field(char *dst, const char *s, size_t n)
{
    if (n >= PATH_MAX_NT)
        n = PATH_MAX_NT - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The v2 and v1-cpu mounts of mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS
 * [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS". The first of each kind counts. */
static void find_mounts(const char *mi, struct hier *v2, struct hier *v1)
{
    for (const char *next = mi; next && *next;) {
        const char *line = next, *end = take_line(&next);
        const char *sep = NULL;
        for (const char *p = line; p + 3 <= end; p++)
            if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') {
                sep = p + 2;
                break;
            }
        const char *root, *mount, *fstype, *super;
        size_t rl, ml, fl, sl;
        if (sep && field(line, sep, 3, &root, &rl) && field(line, sep, 4, &mount, &ml) &&
            field(sep, end, 0, &fstype, &fl) && field(sep, end, 2, &super, &sl)) {
            struct hier *h = NULL;
            if (fl == 7 && memcmp(fstype, "cgroup2", 7) == 0)
                h = v2;
            else if (fl == 6 && memcmp(fstype, "cgroup", 6) == 0 && has_word(super, sl, "cpu"))
                h = v1;
            if (h && !h->found) {
                copy_field(h->root, root, rl);
                copy_field(h->mount, mount, ml);
                h->found = true;
            }
        }
    }
}

/* This process's cgroup in the v2 hierarchy (v1: false) or the v1 one holding the cpu
 * controller (v1: true), into path; false when none is listed. */
static bool find_cgroup(const char *cg, bool v1, char *path)
{
    for (const char *next = cg; next && *next;) {
        const char *line = next, *end = take_line(&next);
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (c2) {
            bool is_v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
            bool match = v1 ? has_word(c1 + 1, (size_t)(c2 - c1 - 1), "cpu") : is_v2;
            if (match) {
                copy_field(path, c2 + 1, (size_t)(end - c2 - 1));
                return true;
            }
        }
    }
    return false;
}

/* Processors a quota allows, rounded up (0: none or unreadable). */
static long quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    return (long)((quota + period - 1) / period);
}

static long dir_cap(const char *dir, bool v1)
{
    char path[DIR_MAX + 32], buf[128];
    if (!v1) {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (!read_small(path, buf, sizeof buf))
            return 0;
        long long q, p;
        if (sscanf(buf, "%lld %lld", &q, &p) != 2)
            return 0; /* "max PERIOD": no quota */
        return quota_cpus(q, p);
    }
    long long q, p;
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
    if (!read_small(path, buf, sizeof buf) || sscanf(buf, "%lld", &q) != 1)
        return 0;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
    if (!read_small(path, buf, sizeof buf) || sscanf(buf, "%lld", &p) != 1)
        return 0;
    return quota_cpus(q, p); /* a quota of -1: none */
}

/* The tightest cap from the cgroup's directory up to the mount point. */
static long hier_cap(const char *prefix, const struct hier *h, const char *cgpath, bool v1)
{
    const char *rel = cgpath;
    size_t rl = strlen(h->root);
    if (strcmp(h->root, "/") != 0 && strncmp(cgpath, h->root, rl) == 0 &&
        (cgpath[rl] == '/' || cgpath[rl] == '\0'))
        rel = cgpath + rl;
    char base[2 * PATH_MAX_NT], dir[DIR_MAX];
    snprintf(base, sizeof base, "%s%s", prefix, h->mount);
    snprintf(dir, sizeof dir, "%s%s", base, rel);
    size_t bl = strlen(base);
    long cap = 0;
    for (;;) {
        size_t n = strlen(dir);
        while (n > bl && dir[n - 1] == '/')
            dir[--n] = '\0';
        long c = dir_cap(dir, v1);
        if (c > 0 && (cap == 0 || c < cap))
            cap = c;
        if (n <= bl)
            break;
        char *slash = strrchr(dir + bl, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    return cap;
}

long nt_cgroup_cpu_cap(const char *prefix, const char *mountinfo, const char *self_cgroup)
{
    struct hier *h = calloc(2, sizeof *h);
    char *path = malloc(PATH_MAX_NT);
    long cap = 0;
    if (h && path && mountinfo && self_cgroup) {
        find_mounts(mountinfo, &h[0], &h[1]);
        for (int v = 0; v < 2; v++) {
            if (!h[v].found || !find_cgroup(self_cgroup, v == 1, path))
                continue;
            long c = hier_cap(prefix, &h[v], path, v == 1);
            if (c > 0 && (cap == 0 || c < cap))
                cap = c;
        }
    }
    free(h);
    free(path);
    return cap;
}

/* A /proc file's whole text (they report no size), at most 1 MiB; NULL when unreadable. */
static char *read_proc(const char *path)
{
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    if (buf && !read_small(path, buf, cap)) {
        free(buf);
        return NULL;
    }
    return buf;
}

long nt_usable_cpus(void)
{
    long n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    else
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    char *mi = read_proc("/proc/self/mountinfo");
    char *cg = read_proc("/proc/self/cgroup");
    long cap = nt_cgroup_cpu_cap("", mi, cg);
    free(mi);
    free(cg);
    return cap > 0 && cap < n ? cap : n;
}
