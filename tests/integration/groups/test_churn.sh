#!/usr/bin/env bash
# Membership churn under load with kafka-python, confluent-kafka and kafkajs
# (three runs in parallel on one broker, each with its own topic and group):
# 3 members, a 4th joins, one leaves, one is SIGKILLed and expires after its
# 6 s session timeout; every record is consumed and nothing below an
# acknowledged commit is consumed again (see churn.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
pids=()
for client in kafka-python confluent kafkajs; do
  mkdir -p "$TEST_TMP/$client"
  /usr/bin/python3 "$here/churn.py" "$client" "$BOOTSTRAP" "$SESP_BIN" "$TEST_TMP/$client" >"$TEST_TMP/$client.out" 2>&1 &
  pids+=($!)
done
rc=0
i=0
for client in kafka-python confluent kafkajs; do
  if wait "${pids[$i]}"; then cat "$TEST_TMP/$client.out" >&2; else
    rc=1; cat "$TEST_TMP/$client.out" >&2; tail -20 "$TEST_TMP/$client"/*.log >&2 || true
  fi
  i=$((i + 1))
done
[ $rc -eq 0 ] || fail "churn"
kill -0 "$BROKER_PID" || fail "broker died"
stop_broker TERM
echo "PASS test_churn"
