#!/usr/bin/env bash
# Static membership with confluent-kafka (see static.py); kafka-python 2.0.2
# and kafkajs have no group.instance.id.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
/usr/bin/python3 "$here/static.py" "$BOOTSTRAP" "$SESP_BIN" "$TEST_TMP" || { tail -5 "$TEST_TMP"/*.log >&2; fail "static membership"; }
stop_broker TERM
echo "PASS test_static"
