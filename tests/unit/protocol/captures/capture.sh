#!/usr/bin/env bash
# Re-captures the client request frames of this folder: starts a real `sesp
# broker` behind capture_proxy.py, runs librdkafka (confluent-kafka),
# kafka-python and kafkajs against the proxy, then select_frames.py copies the
# chosen frames here and writes their fuzz seeds to tests/fuzz/protocol/corpus/.
# Usage: bash tests/unit/protocol/captures/capture.sh [BUILD_DIR]   (default: build)
# Needs build/bin/sesp, /usr/bin/python3 with confluent_kafka and kafka, node
# with tests/integration/node/node_modules (npm ci there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bin=$root/${1:-build}/bin/sesp
work=$(mktemp -d /tmp/sesp-capture.XXXXXX)
proxy_port=${SESP_CAPTURE_PORT:-29092}
broker_port=$((proxy_port + 1))
boot=127.0.0.1:$proxy_port
export NODE_PATH=$root/tests/integration/node/node_modules

"$bin" broker --set listeners=PLAINTEXT://127.0.0.1:$broker_port \
  --set advertised.listeners=PLAINTEXT://127.0.0.1:$proxy_port --set log.dirs="$work/data" >"$work/broker.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null || true; wait $broker 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$broker_port) 2>/dev/null && break
  sleep 0.1
done

run() {  # run SCENARIO COMMAND...: one proxy (and one raw dir) per scenario
  local sc=$1; shift
  python3 "$here/capture_proxy.py" "$proxy_port" 127.0.0.1:$broker_port "$work/raw/$sc" >"$work/proxy-$sc.log" 2>&1 &
  local proxy=$!
  sleep 0.5
  "$@"
  sleep 0.3
  kill $proxy; wait $proxy 2>/dev/null || true
  echo "captured $sc: $(wc -l <"$work/raw/$sc/index.txt") frames"
}
run rdk-admin /usr/bin/python3 "$here/rdk_clients.py" "$boot" admin
run rdk-idempotent /usr/bin/python3 "$here/rdk_clients.py" "$boot" idempotent
run rdk-group /usr/bin/python3 "$here/rdk_clients.py" "$boot" group
run kpy-produce /usr/bin/python3 "$here/kpy_clients.py" "$boot" produce
run kpy-group /usr/bin/python3 "$here/kpy_clients.py" "$boot" group
run kjs node "$here/kjs_clients.js" "$boot"

python3 "$here/select_frames.py" "$work/raw" "$here" "$root/tests/fuzz/protocol/corpus"
echo "raw frames kept in $work/raw"
