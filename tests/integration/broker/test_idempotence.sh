#!/usr/bin/env bash
# An idempotent producer (confluent-kafka, enable.idempotence, acks=all)
# writes through a proxy that cuts connections at random, so responses are
# lost and batches retried; the broker must store every message exactly once
# and in order.  Then the same across broker restarts in the middle.
# Metadata advertises the proxy, so every connection of the producer goes
# through it.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
N=${IDEM_MESSAGES:-20000}

PROXY_PORT=$(free_port)
BROKER_PORT=$(free_port)
start_broker --set "advertised.listeners=PLAINTEXT://127.0.0.1:$PROXY_PORT" --set num.partitions=1
/usr/bin/python3 "$HERE/idem_proxy.py" "$PROXY_PORT" "$BROKER_PORT" 0.2 1.5 "$TEST_TMP/cuts" &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null; cleanup' EXIT
wait_port 127.0.0.1 "$PROXY_PORT" 10 || fail "proxy did not start"

/usr/bin/python3 "$HERE/idem_producer.py" "127.0.0.1:$PROXY_PORT" idem-cuts "$N" || fail "producer through the cutting proxy"
/usr/bin/python3 "$HERE/idem_check.py" "$BOOTSTRAP" idem-cuts "$N" || fail "idem-cuts: not exactly once"
cuts=$(cat "$TEST_TMP/cuts" 2>/dev/null || echo 0)
[ "$cuts" -ge 5 ] || fail "the proxy cut only $cuts live connections: the test did not exercise retries"
log "idempotence: the proxy cut $cuts live connections"
log "idempotence: $N messages exactly once through connection cuts"

# Restarts while producing: the producer keeps retrying until the broker is back.
/usr/bin/python3 "$HERE/idem_producer.py" "127.0.0.1:$PROXY_PORT" idem-restart "$N" &
PROD_PID=$!
sleep 3
stop_broker TERM
sleep 1
start_broker --set "advertised.listeners=PLAINTEXT://127.0.0.1:$PROXY_PORT" --set num.partitions=1
sleep 3
stop_broker KILL
sleep 1
start_broker --set "advertised.listeners=PLAINTEXT://127.0.0.1:$PROXY_PORT" --set num.partitions=1
wait $PROD_PID || fail "producer across restarts"
/usr/bin/python3 "$HERE/idem_check.py" "$BOOTSTRAP" idem-restart "$N" || fail "idem-restart: not exactly once"
log "idempotence: $N messages exactly once across a clean and a kill -9 restart"
stop_broker TERM
echo "PASS test_idempotence"
