# Shared helpers of the integration tests (sourced, not run): start and stop a
# real `sesp broker` on a free port with its own data directory, wait for it,
# and fail loudly.  Every test gets a fresh broker so tests don't share state.
SESP_BIN=${SESP_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin/sesp}
TEST_TMP=${TEST_TMP:-$(mktemp -d /tmp/sesp-it.XXXXXX)}
BROKER_PID=""

fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

free_port() {
  /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

wait_port() { # host port timeout_s
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# start_broker [extra --set args...]: uses BROKER_PORT and BROKER_DATA (set if empty).
start_broker() {
  BROKER_PORT=${BROKER_PORT:-$(free_port)}
  BROKER_DATA=${BROKER_DATA:-$TEST_TMP/data}
  BOOTSTRAP=127.0.0.1:$BROKER_PORT
  mkdir -p "$BROKER_DATA"
  "$SESP_BIN" broker --set "listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT" --set "log.dirs=$BROKER_DATA" \
    --set num.network.threads=2 "$@" >>"$TEST_TMP/broker.log" 2>&1 &
  BROKER_PID=$!
  wait_port 127.0.0.1 "$BROKER_PORT" 20 || { tail -30 "$TEST_TMP/broker.log" >&2; fail "broker did not start"; }
  export BOOTSTRAP BROKER_PORT BROKER_DATA
}

# stop_broker [signal]: SIGTERM by default (clean shutdown, must exit 0).
stop_broker() {
  local sig=${1:-TERM} rc=0
  [ -n "$BROKER_PID" ] || return 0
  kill -"$sig" "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || rc=$?
  BROKER_PID=""
  if [ "$sig" = TERM ] && [ "$rc" -ne 0 ]; then
    tail -30 "$TEST_TMP/broker.log" >&2
    fail "broker exited with status $rc on SIGTERM"
  fi
}

cleanup() {
  [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TEST_TMP" >&2; else rm -rf "$TEST_TMP"; fi
}
trap cleanup EXIT
