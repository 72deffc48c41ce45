/* cpus.h: how many processors this process may use (report --threads' default). */
#ifndef NT_UTIL_CPUS_H
#define NT_UTIL_CPUS_H

/* The processors this process may run on (its CPU affinity: taskset, a cpuset; else those
 * online), capped by the CPU time its cgroups allow: cgroup v2's cpu.max, v1's
 * cpu.cfs_quota_us over cpu.cfs_period_us, the tightest of its cgroup's and its ancestors'
 * up to the hierarchy's mount, rounded up. A container allowed one processor's time on a
 * larger machine thus counts 1, as Go's and the JVM's runtimes count it. At least 1. */
long nt_usable_cpus(void);

/* The cap alone, from the text of a /proc/self/mountinfo and a /proc/self/cgroup, the mount
 * points read under prefix ("" for the real ones; tests pass a directory of their own): the
 * processors the tightest quota allows, rounded up; 0 when no quota is set or nothing could be
 * read (then only the affinity counts). */
long nt_cgroup_cpu_cap(const char *prefix, const char *mountinfo, const char *self_cgroup);

#endif
