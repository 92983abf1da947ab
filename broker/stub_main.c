/* Placeholder until broker/server lands. */
#include <stdio.h>
#include "broker.h"
int sesp_broker_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not implemented\n"); return 1; }
