/* Placeholder until the CLI commands land; replaced by topic.c, produce.c, consume.c. */
#include <stdio.h>
#include "cli.h"
int sesp_cli_topic_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int sesp_cli_produce_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
int sesp_cli_consume_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
