#!/usr/bin/env bash
# Installs the dependencies, builds SESP and starts it on its embedded default:
# all services in one process, data under ./data, Kafka on 127.0.0.1:9092.
# Extra arguments go to `sesp start` (e.g. --set num.partitions=3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/bin/sesp start "$@"
