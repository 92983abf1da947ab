#!/usr/bin/env bash
# With log.flush.interval.messages=1 every acknowledged message is on disk:
# kill -9 the broker in the middle of production, restart it, and assert every
# message the producer saw acknowledged is in the log, in order, exactly once.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker --set log.flush.interval.messages=1
kcat -b "$BOOTSTRAP" -t durable -P <<<"m-first" || fail "first produce"
/usr/bin/python3 "$(dirname "$0")/durability_producer.py" "$BOOTSTRAP" durable "$TEST_TMP/acked" 6 &
ppid=$!
sleep 3
stop_broker KILL
wait $ppid || true
acked=$(wc -l <"$TEST_TMP/acked")
[ "$acked" -gt 100 ] || fail "only $acked messages acknowledged before the kill; the test proves nothing"
start_broker --set log.flush.interval.messages=1
kcat -b "$BOOTSTRAP" -t durable -C -e -q -f '%s\n' >"$TEST_TMP/log" || fail "consume after restart"
# Every acked value appears exactly once, and in production order.
/usr/bin/python3 - "$TEST_TMP/acked" "$TEST_TMP/log" <<'PY' || fail "acknowledged messages lost"
import sys
acked = open(sys.argv[1]).read().split()
log = open(sys.argv[2]).read().split()
pos = {v: i for i, v in enumerate(log)}
missing = [v for v in acked if v not in pos]
if missing:
    print(f"{len(missing)} of {len(acked)} acknowledged messages missing, first {missing[:5]}"); sys.exit(1)
if len(set(log)) != len(log):
    print("duplicates in the log"); sys.exit(1)
order = [pos[v] for v in acked]
if order != sorted(order):
    print("acknowledged messages out of order"); sys.exit(1)
print(f"all {len(acked)} acknowledged messages present ({len(log)} in the log)")
PY
# The log is appendable after recovery.
kcat -b "$BOOTSTRAP" -t durable -P <<<"m-after"
kcat -b "$BOOTSTRAP" -t durable -C -e -q -f '%s\n' | tail -1 | grep -qx "m-after" || fail "append after recovery"
stop_broker TERM
echo "PASS test_durability"
