#!/usr/bin/env bash
# Installs everything SESP needs to build, run and test on a bare Debian 12
# machine: the Debian packages (compiler, libraries, Kafka test clients) and
# the npm packages the integration tests use (kafkajs, DuckDB, s3rver).
# Idempotent: packages already present are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libevent-dev librdkafka-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  libjansson-dev libcunit1-dev libssl-dev libcurl4-openssl-dev
  clang-14 libclang-rt-14-dev
  kcat python3 python3-kafka python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard
  nodejs npm
  netcat-openbsd procps
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with nodejs from another source; don't ask apt for it then.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages of the integration tests: every folder under tests/ holding a
# package.json gets its node_modules (npm ci when a lock file exists).
while IFS= read -r pj; do
  dir=$(dirname "$pj")
  if [ ! -d "$dir/node_modules" ] || [ "$pj" -nt "$dir/node_modules" ]; then
    echo "install-deps: npm packages in $dir"
    if [ -f "$dir/package-lock.json" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    else
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    fi
    touch "$dir/node_modules"
  fi
done < <(find tests bench -name package.json -not -path '*/node_modules/*' 2>/dev/null)
echo "install-deps: done"
