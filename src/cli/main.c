/* main.c: nettriage's entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL,
                               "give a command (report, watch, explain, fleet) or a capture file");
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        const char *topic = strcmp(cmd, "help") == 0 && argc > 2 ? argv[2] : "";
        if (strcmp(topic, "report") == 0)
            cli_help_report(stdout);
        else if (strcmp(topic, "watch") == 0)
            cli_help_watch(stdout);
        else if (strcmp(topic, "explain") == 0)
            cli_help_explain(stdout);
        else if (strcmp(topic, "fleet") == 0)
            cli_help_fleet(stdout);
        else if (!*topic)
            cli_usage(stdout);
        else
            return cli_usage_error(
                NULL, "no help on '%s': the commands are report, watch, explain and fleet", topic);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("nettriage %s\n", NT_VERSION);
        return EXIT_CLEAN;
    }
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "fleet") == 0)
        return cmd_fleet(argc - 1, argv + 1);
    /* `nettriage FILE`, `nettriage -` and `nettriage -r FILE` (an option first, as with tcpdump):
     * the report. The options are report's, and so are the errors. */
    struct stat st;
    if (cmd[0] == '-' || (stat(cmd, &st) == 0 && !S_ISDIR(st.st_mode)))
        return cmd_report(argc, argv);
    return cli_usage_error(
        NULL, "'%s' is neither a command (report, watch, explain, fleet) nor a capture file", cmd);
}
