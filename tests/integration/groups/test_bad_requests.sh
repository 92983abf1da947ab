#!/usr/bin/env bash
# Raw group requests with bad fields (unknown member id, wrong generation,
# huge or lying protocol metadata) get Kafka's error codes and never take the
# broker down; it keeps serving groups afterwards and exits cleanly.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
/usr/bin/python3 "$(dirname "$0")/bad_group_requests.py" 127.0.0.1 "$BROKER_PORT" || fail "bad group requests"
kill -0 "$BROKER_PID" 2>/dev/null || fail "broker died"
stop_broker TERM
echo "PASS test_bad_requests"
