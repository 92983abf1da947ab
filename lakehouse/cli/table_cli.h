/* The `sesp table` command: create|append|scan|describe|history|optimize|vacuum|restore URI. */
#ifndef SESP_TABLE_CLI_H
#define SESP_TABLE_CLI_H

/* argv[0] is "table"; returns a process exit code. */
int sesp_table_main(int argc, char **argv);

#endif
