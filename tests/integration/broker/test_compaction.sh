#!/usr/bin/env bash
# A compacted topic (cleanup.policy=compact, small segments) gets many
# updates of few keys; the broker's cleaner must shrink it while every key
# keeps its latest value at its original offset.  Then kill -9 while the
# cleaner works and restart: nothing is lost.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
start_broker

"$SESP_BIN" topic create compacted -b "$BOOTSTRAP" --partitions 1 --config cleanup.policy=compact \
  --config segment.bytes=16384 --config min.cleanable.dirty.ratio=0.01 --config delete.retention.ms=1000 \
  || fail "create compacted topic"

produce_round() { # round count
  local r=$1 n=$2 i
  for ((i = 0; i < n; i++)); do echo "key$((i % 97)):r$r-v$i"; done >"$TEST_TMP/round$r"
  cat "$TEST_TMP/round$r" >>"$TEST_TMP/model"
  kcat -b "$BOOTSTRAP" -t compacted -P -K: -X topic.request.required.acks=-1 -X batch.size=4096 <"$TEST_TMP/round$r" || fail "produce round $r"
}
consume() { kcat -b "$BOOTSTRAP" -t compacted -C -e -q -f '%o %k %s\n'; }

: >"$TEST_TMP/model"
for r in 1 2 3; do produce_round $r 10000; done
total=$(wc -l <"$TEST_TMP/model")
n=$total
for _ in $(seq 1 60); do
  n=$(consume | /usr/bin/python3 "$HERE/compaction_check.py" "$TEST_TMP/model") || fail "compacted data wrong"
  [ "$n" -lt $((total / 2)) ] && break
  sleep 1
done
[ "$n" -lt $((total / 2)) ] || fail "cleaner did not compact: $n of $total records remain"
log "compaction: $total records compacted to $n, latest value of every key kept"

# kill -9 in the middle of cleaning, restart, check.
for r in 4 5; do produce_round $r 10000; done
sleep 0.5
stop_broker KILL
start_broker
n=$(consume | /usr/bin/python3 "$HERE/compaction_check.py" "$TEST_TMP/model") || fail "data wrong after kill -9"
log "compaction: kill -9 during cleaning lost nothing ($n records)"
sleep 5
n=$(consume | /usr/bin/python3 "$HERE/compaction_check.py" "$TEST_TMP/model") || fail "data wrong after the next pass"
stop_broker TERM
echo "PASS test_compaction"
