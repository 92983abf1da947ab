/*
 * Entry point of the `sesp` binary: picks the subcommand and hands argv to
 * the component that owns it.  With no subcommand it runs every service in
 * one process on the embedded defaults (today: the broker).
 */
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "clients/cli/cli.h"
#include "clients/cli/group_cli.h"
#include "lakehouse/cli/table_cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sesp [COMMAND] [ARGS]\n"
               "\n"
               "  (none) | start         run all services on the embedded defaults\n"
               "  broker                 run the Kafka-compatible broker (--config FILE, --set k=v)\n"
               "  topic create|list|describe|alter|delete\n"
               "  produce                produce lines from stdin to a topic\n"
               "  consume                consume a topic to stdout\n"
               "  group list|describe|delete|reset-offsets\n"
               "  table create|append|scan|describe|history|optimize|vacuum|restore URI\n"
               "  version\n"
               "\n"
               "Run `sesp COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "start"))
        return sesp_broker_main(argc > 1 ? argc - 1 : argc, argc > 1 ? argv + 1 : argv);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "broker"))
        return sesp_broker_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "topic"))
        return sesp_cli_topic_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "produce"))
        return sesp_cli_produce_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "consume"))
        return sesp_cli_consume_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "group"))
        return sesp_cli_group_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "table"))
        return sesp_table_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("sesp %s\n", SESP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sesp: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
