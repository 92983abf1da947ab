#!/usr/bin/env bash
# confluent-kafka members under range, roundrobin and cooperative-sticky (in
# parallel, one group each): exact layouts, sticky incremental moves, the
# protocol reported by `sesp group describe`, and no lost or re-consumed
# committed records (see assignors.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
pids=()
for a in range roundrobin cooperative-sticky; do
  mkdir -p "$TEST_TMP/$a"
  /usr/bin/python3 "$here/assignors.py" "$a" "$BOOTSTRAP" "$SESP_BIN" "$TEST_TMP/$a" >"$TEST_TMP/$a.out" 2>&1 &
  pids+=($!)
done
rc=0 i=0
for a in range roundrobin cooperative-sticky; do
  wait "${pids[$i]}" || rc=1
  cat "$TEST_TMP/$a.out" >&2
  i=$((i + 1))
done
[ $rc -eq 0 ] || fail "assignors"
stop_broker TERM
echo "PASS test_assignors"
