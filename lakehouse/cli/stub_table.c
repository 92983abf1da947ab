/* Placeholder until lakehouse/cli lands. */
#include <stdio.h>
#include "table_cli.h"
int sesp_table_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
