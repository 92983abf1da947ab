#!/usr/bin/env bash
# SIGTERM answers in-flight requests: a parked long-poll Fetch gets a
# well-formed response before the broker exits with status 0, and every
# record acknowledged with acks=all is readable after a restart.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker
/usr/bin/python3 "$(dirname "$0")/sigterm_inflight.py" 127.0.0.1 "$BROKER_PORT" "$BROKER_PID" "$TEST_TMP/acked" ||
  fail "in-flight requests at SIGTERM"
# The script sent the SIGTERM; the broker must finish on its own, with 0.
for ((i = 0; i < 200; i++)); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BROKER_PID" 2>/dev/null && fail "broker still running 20 s after SIGTERM"
rc=0; wait "$BROKER_PID" || rc=$?
BROKER_PID=""
[ "$rc" -eq 0 ] || { tail -20 "$TEST_TMP/broker.log" >&2; fail "broker exited with status $rc after SIGTERM"; }
grep -q "shutting down" "$TEST_TMP/broker.log" || fail "broker log has no SIGTERM shutdown line"
! grep -q "unanswered" "$TEST_TMP/broker.log" || fail "the broker gave up on requests at shutdown: $(grep unanswered "$TEST_TMP/broker.log")"
start_broker
/usr/bin/python3 - "$BOOTSTRAP" "$TEST_TMP/acked" <<'PY' || fail "acknowledged records lost across the SIGTERM restart"
import sys
from kafka import KafkaConsumer, TopicPartition
acked = [l.split() for l in open(sys.argv[2]) if l.strip()]
want = {int(o): v for o, v in acked}
tp = TopicPartition("sigterm", 0)
c = KafkaConsumer(bootstrap_servers=sys.argv[1], enable_auto_commit=False, consumer_timeout_ms=5000)
c.assign([tp])
c.seek_to_beginning(tp)
end = c.end_offsets([tp])[tp]
got = {}
for m in c:
    got[m.offset] = m.value.decode()
    if m.offset + 1 >= end:
        break
c.close()
bad = [(o, v, got.get(o)) for o, v in sorted(want.items()) if got.get(o) != v]
if bad:
    print(f"{len(bad)} of {len(want)} acknowledged records missing or changed, first {bad[:3]}"); sys.exit(1)
print(f"all {len(want)} acknowledged records read back after restart ({end} in the log)")
PY
stop_broker TERM
echo "PASS test_sigterm_inflight"
