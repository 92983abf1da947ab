/*
 * The broker's admin APIs: CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, DescribeCluster,
 * DescribeLogDirs and DeleteRecords, every version Kafka 3.9 accepts, with
 * Kafka's validation, error codes and messages.  They act on the server's
 * topic registry (broker/server/topics.h) and log (broker/log/log.h); this
 * header is the module's whole public surface.
 */
#ifndef SESP_ADMIN_H
#define SESP_ADMIN_H

#include "broker/server/server.h"

/* Adds every admin handler to s (call before the network starts, e.g. from
 * the sesp_server_start ext hook).  0 or SESP_ERR_* from sesp_server_add_api. */
int sesp_admin_register(sesp_server *s);

#endif
