/*
 * `sesp group list|describe|delete|reset-offsets`: consumer group
 * administration over librdkafka's Admin API.  argv[0] is "group"; returns a
 * process exit code (0 ok, 1 failure, 2 usage error).
 */
#ifndef SESP_GROUP_CLI_H
#define SESP_GROUP_CLI_H

int sesp_cli_group_main(int argc, char **argv);

#endif
