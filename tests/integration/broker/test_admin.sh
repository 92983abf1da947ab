#!/usr/bin/env bash
# Admin APIs from kafka-python's KafkaAdminClient and confluent-kafka's
# AdminClient: create/delete topics, partitions, describe/alter configs,
# with Kafka's error codes; a topic's config overrides survive a restart;
# a deleted topic's data directories are removed.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker --set node.id=1
/usr/bin/python3 "$(dirname "$0")/admin_clients.py" "$BOOTSTRAP" setup || fail "admin clients"
for t in kp-a ck-a ck-b; do
  for i in $(seq 1 50); do
    ls -d "$BROKER_DATA/$t-"* >/dev/null 2>&1 || break
    sleep 0.1
  done
  ! ls -d "$BROKER_DATA/$t-"* >/dev/null 2>&1 || fail "data of deleted topic $t is still there"
done
[ -d "$BROKER_DATA/adm-keep-1" ] || fail "adm-keep-1 directory missing"
stop_broker TERM
start_broker --set node.id=1
/usr/bin/python3 "$(dirname "$0")/admin_clients.py" "$BOOTSTRAP" after_restart || fail "after restart"
stop_broker TERM
log "admin APIs: ok"
