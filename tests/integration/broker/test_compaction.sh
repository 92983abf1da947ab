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

# kill -9 in the middle of a cleaning pass, restart, check.  The broker runs
# with a slow cleaner (128 KiB/s, 100 ms backoff) so a pass lasts seconds; the
# kill comes once the pass's .cleaned (or .swap) file exists, and that file is
# checked to be still there after the kill, so the pass was in progress.
partdir=$BROKER_DATA/compacted-0
[ -d "$partdir" ] || fail "no partition directory $partdir"
pass_files() { find "$partdir" -maxdepth 1 \( -name '*.cleaned' -o -name '*.swap' \) | wc -l; }
slow=(--set log.cleaner.io.max.bytes.per.second=131072 --set log.cleaner.backoff.ms=100)
stop_broker TERM
start_broker "${slow[@]}"
for r in 4 5; do produce_round $r 10000; done
caught=0
for attempt in 1 2 3 4 5; do
  seen=0
  for _ in $(seq 1 600); do   # up to 60 s for a pass to write its output
    if [ "$(pass_files)" -gt 0 ]; then seen=1; break; fi
    sleep 0.1
  done
  [ $seen = 1 ] || fail "no cleaning pass seen within 60 s (no .cleaned/.swap in $partdir)"
  stop_broker KILL
  if [ "$(pass_files)" -gt 0 ]; then caught=1; break; fi
  log "compaction: the pass ended before the kill (attempt $attempt), again"
  start_broker "${slow[@]}"
done
[ $caught = 1 ] || fail "could not kill -9 the broker during a cleaning pass"
log "compaction: killed during a pass, left: $(cd "$partdir" && ls -- *.cleaned *.swap 2>/dev/null | tr '\n' ' ')"
start_broker
n=$(consume | /usr/bin/python3 "$HERE/compaction_check.py" "$TEST_TMP/model") || fail "data wrong after kill -9"
log "compaction: kill -9 during cleaning lost nothing ($n records)"
sleep 5
n=$(consume | /usr/bin/python3 "$HERE/compaction_check.py" "$TEST_TMP/model") || fail "data wrong after the next pass"
stop_broker TERM
echo "PASS test_compaction"
