#!/usr/bin/env bash
# Compaction and idempotent producers: batches of idempotent producers whose
# records are all superseded stay as empty batches (header only) while the
# producers are known, so real consumers (kcat/librdkafka, kafka-python)
# must step over them and still read exactly each key's latest value.  After
# a restart with a short producer.id.expiration.ms the producers expire and
# the next cleaning drops those empty batches.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TOPIC=compactp
start_broker

"$SESP_BIN" topic create $TOPIC -b "$BOOTSTRAP" --partitions 1 --config cleanup.policy=compact \
  --config segment.bytes=8192 --config min.cleanable.dirty.ratio=0.01 || fail "create topic"

# produce FILE [idempotent]: one kcat process = one producer (id).
produce() {
  cat "$1" >>"$TEST_TMP/model"
  kcat -b "$BOOTSTRAP" -t $TOPIC -P -K: -X topic.request.required.acks=-1 -X batch.size=1024 -X linger.ms=5 \
    -X enable.idempotence="${2:-false}" <"$1" || fail "produce $1"
}
fill() { # round count: unique keys that roll segments
  local i
  for ((i = 0; i < $2; i++)); do echo "fill$1-$i:x$i"; done >"$TEST_TMP/fill$1"
  produce "$TEST_TMP/fill$1"
}
consume_kcat() { kcat -b "$BOOTSTRAP" -t $TOPIC -C -o beginning -e -q -f '%o %k %s\n'; }
consume_kp() { /usr/bin/python3 "$HERE/kp_consume.py" "$BOOTSTRAP" $TOPIC; }
empty_batches() { /usr/bin/python3 "$HERE/segment_batches.py" "$BROKER_DATA/$TOPIC-0" | cut -d' ' -f1; }
# exact: waits until kcat reads exactly each key's latest value.
exact() {
  local n i
  for i in $(seq 1 60); do
    if n=$(consume_kcat | /usr/bin/python3 "$HERE/compaction_exact.py" "$TEST_TMP/model" 2>"$TEST_TMP/why"); then
      echo "$n"
      return 0
    fi
    sleep 1
  done
  fail "not compacted to the latest values: $(cat "$TEST_TMP/why")"
}

: >"$TEST_TMP/model"
# Four idempotent producers update keys 0..59; a plain producer then
# supersedes every one of those records.
for p in 1 2 3 4; do
  for ((i = 0; i < 300; i++)); do echo "key$((i % 60)):p$p-v$i"; done >"$TEST_TMP/idem$p"
  produce "$TEST_TMP/idem$p" true
done
for ((i = 0; i < 60; i++)); do echo "key$i:final$i"; done >"$TEST_TMP/final"
produce "$TEST_TMP/final"
fill 1 1500
n=$(exact)
e=$(empty_batches)
[ "$e" -ge 4 ] || fail "expected an empty batch per idempotent producer, found $e"
log "compacted to $n records; $e empty batches kept for the idempotent producers"
consume_kcat | /usr/bin/python3 "$HERE/compaction_exact.py" "$TEST_TMP/model" >/dev/null || fail "kcat read wrong data"
consume_kp | /usr/bin/python3 "$HERE/compaction_exact.py" "$TEST_TMP/model" >/dev/null || fail "kafka-python read wrong data"
log "kcat and kafka-python read exactly the latest values across the empty batches"

# Restart (recovery accepts the empty batches) with producer ids expiring
# after 1 s; more dirty data makes the cleaner run again and drop them.
stop_broker TERM
start_broker --set producer.id.expiration.ms=1000 --set producer.id.expiration.check.interval.ms=200
grep -q "unknown configuration 'producer.id" "$TEST_TMP/broker.log" && fail "producer.id.* keys reported unknown"
consume_kcat | /usr/bin/python3 "$HERE/compaction_exact.py" "$TEST_TMP/model" >/dev/null || fail "data wrong after restart"
sleep 1.5
for ((i = 0; i < 60; i += 2)); do echo "key$i:again$i"; done >"$TEST_TMP/again"
produce "$TEST_TMP/again"
fill 2 1500
for i in $(seq 1 60); do
  e=$(empty_batches)
  [ "$e" -eq 0 ] && break
  fill 3-$i 50
  sleep 1
done
[ "$e" -eq 0 ] || fail "$e empty batches of expired producers were not dropped"
n=$(exact)
consume_kp | /usr/bin/python3 "$HERE/compaction_exact.py" "$TEST_TMP/model" >/dev/null || fail "kafka-python read wrong data after expiry"
log "producers expired, their empty batches dropped; $n records, latest values intact"
stop_broker TERM
echo "PASS test_compaction_producers"
