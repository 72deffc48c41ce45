/* cli.h: the subcommands of the nettriage command line. */
#ifndef NT_CLI_CLI_H
#define NT_CLI_CLI_H

#include <stdio.h>

/* Exit statuses, grep-like: scripts and CI can act on them. */
#define EXIT_CLEAN    0 /* the analysis ran and found no problem */
#define EXIT_FINDINGS 1 /* the analysis found at least one problem */
#define EXIT_ERROR    2 /* usage or input error */

int cmd_report(int argc, char **argv);
int cmd_watch(int argc, char **argv);
void cli_usage(FILE *out);

#endif
