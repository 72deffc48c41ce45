/* cli.h: the subcommands of the nettriage command line. */
#ifndef NT_CLI_CLI_H
#define NT_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, grep-like: scripts and CI can act on them. */
#define EXIT_CLEAN    0 /* the analysis ran and found no problem */
#define EXIT_FINDINGS 1 /* the analysis found at least one problem */
#define EXIT_ERROR    2 /* usage or input error */

struct option;

int cmd_report(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

/* The help: the overview (commands) and each command's options (help.c). */
void cli_usage(FILE *out);
void cli_help_report(FILE *out);
void cli_help_watch(FILE *out);
void cli_help_explain(FILE *out); /* explain.c */
void cli_help_fleet(FILE *out);   /* fleet.c */

/* A usage error: one line on standard error, "nettriage: MESSAGE (see nettriage CMD --help)"
 * (CMD NULL: "nettriage --help"), the message terminal-escaped. Returns EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for getopt_long's '?' (an unknown option, an ambiguous prefix, a value given
 * to an option that takes none) or ':' (a missing value; the option string starts with ':'),
 * with opterr 0. Returns EXIT_ERROR. */
int cli_bad_option(const char *cmd, int ch, const struct option *longopts, char **argv);

/* Option values (args.c). A whole number from lo to hi (decimal, no sign); seconds from lo to
 * hi (a decimal number with a fraction); the same seconds in microseconds, rounded. False,
 * *out untouched, for anything else: the caller says so with cli_usage_error. */
bool cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool cli_parse_seconds(const char *s, double lo, double hi, double *out);
bool cli_parse_us(const char *s, double lo, double hi, int64_t *out);
/* A count from 1 to max. */
bool cli_parse_count(const char *s, uint32_t max, uint32_t *out);

/* A run-time error: "nettriage: LABEL: MESSAGE" (label NULL: "nettriage: MESSAGE") as one line
 * on standard error, the label and the message terminal-escaped (a file name, or what a file or
 * a server said, may hold anything). */
void cli_error(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
