/* capture.c: the default filter, Ctrl-C and dropping root for the commands that capture (see
 * capture.h; their progress line is cli/progress.c). */
#include "cli/capture.h"
#include "cli/cli.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "report/escape.h"
#include "source/live.h"

const char capture_default_filter[] =
    "udp port 53 or tcp port 53"
    " or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-sourcequench"
    " or icmp[icmptype] == icmp-redirect or icmp[icmptype] == icmp-timxceed"
    " or icmp[icmptype] == icmp-paramprob))"
    " or (icmp6 and icmp6[icmp6type] < 128)"
    " or (tcp[tcpflags] & (tcp-syn|tcp-rst) != 0)"
    " or (ip6[6] == 6 and ip6[53] & 0x06 != 0)"
    " or (ip[6:2] & 0x1fff != 0 and (ip[9] == 17 or ip[9] == 6))"
    " or (ip6[6] == 44)";

static void on_stop_signal(int sig)
{
    if (source_live_stop_requested()) {
        /* The second one: the user wants out now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    source_live_request_stop();
}

void capture_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read of standard input returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Gives up every capability (a binary given cap_net_raw runs as its user). */
static bool drop_capabilities(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    return syscall(SYS_capset, &hdr, data) == 0;
}

bool capture_drop_privileges(const char *user, const char *chown_path, char *err, size_t n,
                             const char **dropped_to)
{
    *dropped_to = NULL;
    if (geteuid() != 0) {
        if (user && strcmp(user, "root") != 0) {
            struct passwd *pw = getpwnam(user);
            if (!pw || pw->pw_uid != geteuid()) {
                snprintf(err, n, "-Z %s: only root can change to another user", user);
                return false;
            }
        }
        if (!drop_capabilities()) {
            snprintf(err, n, "cannot give up capabilities: %s", strerror(errno));
            return false;
        }
        return true;
    }
    const char *name = user ? user : "nobody";
    if (strcmp(name, "root") == 0)
        return true;
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(err, n, "-Z: no user '%s'%s%s", name, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        return false;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (chown_path && chown(chown_path, uid, gid) != 0) {
        snprintf(err, n, "cannot give %s to user %s: %s", chown_path, name, strerror(errno));
        return false;
    }
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(err, n, "cannot change to user %s: %s", name, strerror(errno));
        return false;
    }
    /* What the kernel says now, and root must not come back. */
    gid_t groups[2];
    int ng = getgroups(2, groups);
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid || ng != 1 ||
        groups[0] != gid || (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
        snprintf(err, n, "changing to user %s did not take (uid %u, euid %u)", name,
                 (unsigned)getuid(), (unsigned)geteuid());
        return false;
    }
    *dropped_to = name;
    return true;
}

const char *capture_filter_words(const char *filter, int argc, char **argv, int first, char **owned)
{
    *owned = NULL;
    if (filter)
        return filter;
    if (first >= argc)
        return NULL;
    size_t len = 1;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *e = malloc(len);
    if (!e)
        return NULL;
    e[0] = '\0';
    for (int i = first; i < argc; i++) {
        if (i > first)
            strcat(e, " ");
        strcat(e, argv[i]);
    }
    *owned = e;
    return e;
}

static void say_banner(const struct live_opts *lo, const struct capture_open *co,
                       const char *dropped_to)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "nettriage: ");
    strbuf_puts(&b, co->verb ? co->verb : lo->iface ? "capturing on" : "replaying");
    strbuf_putc(&b, ' ');
    esc_term(&b, co->label, strlen(co->label));
    if (lo->read_file) {
        if (lo->speed > 0)
            strbuf_printf(&b, " at %gx its recorded pace", lo->speed);
        else
            strbuf_puts(&b, " as fast as it reads");
    }
    if (lo->filter == capture_default_filter)
        strbuf_puts(&b, " with the default filter (DNS on port 53 over UDP and TCP, ICMP and "
                        "ICMPv6 errors, TCP SYN, SYN-ACK and RST, IP fragments; give a filter "
                        "expression to change it)");
    else if (!lo->filter)
        strbuf_puts(&b, " without a filter");
    else
        strbuf_puts(&b, " with the filter you gave");
    if (dropped_to) {
        strbuf_puts(&b, "; running as user ");
        esc_term(&b, dropped_to, strlen(dropped_to));
    }
    strbuf_putc(&b, '\n');
    if (lo->filter) {
        strbuf_puts(&b, "nettriage: filter: ");
        esc_term(&b, lo->filter, strlen(lo->filter));
        strbuf_putc(&b, '\n');
    }
    if (isatty(STDERR_FILENO))
        strbuf_puts(&b, "nettriage: press Ctrl-C to stop and write the report\n");
    fputs(strbuf_str(&b), stderr);
    strbuf_fini(&b);
}

struct source *capture_open_live(const struct live_opts *lo, const struct capture_open *co,
                                 FILE **out_f)
{
    *out_f = NULL;
    char err[SOURCE_ERROR_MAX];
    struct source *src = NULL;
    if (source_open_live(lo, &src, err) < 0) {
        cli_error(co->label, "%s", err);
        return NULL;
    }
    if (co->output && !(*out_f = fopen(co->output, "w"))) {
        cli_error(co->output, "%s", strerror(errno));
        source_close(src);
        return NULL;
    }
    char first[4096];
    const char *chown_path = NULL;
    if (lo->write && live_savefile_name(first, sizeof first, lo->write, 0, lo->rotate_files))
        chown_path = first;
    const char *dropped_to = NULL;
    if (!capture_drop_privileges(co->user, chown_path, err, sizeof err, &dropped_to)) {
        cli_error(NULL, "%s", err);
        if (*out_f)
            fclose(*out_f);
        *out_f = NULL;
        source_close(src);
        return NULL;
    }
    if (!co->quiet)
        say_banner(lo, co, dropped_to);
    return src;
}
