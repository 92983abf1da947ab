/*
 * The broker's public surface: the `sesp broker` command.  Everything else
 * (net, protocol, log, topics) is internal to broker/.
 */
#ifndef SESP_BROKER_H
#define SESP_BROKER_H

/* argv[0] is the command name; options: --config FILE, --set key=value. */
int sesp_broker_main(int argc, char **argv);

#endif
