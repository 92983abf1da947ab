/*
 * The Kafka client commands of the `sesp` CLI, built on librdkafka:
 * topic administration, produce and consume.  Each takes argv with argv[0]
 * being the command name and returns a process exit code.
 */
#ifndef SESP_CLI_H
#define SESP_CLI_H

int sesp_cli_topic_main(int argc, char **argv);
int sesp_cli_produce_main(int argc, char **argv);
int sesp_cli_consume_main(int argc, char **argv);

#endif
