#!/usr/bin/env bash
# Parquet interoperability with DuckDB, both directions.  Usage: run.sh BUILD_DIR
# Needs BUILD_DIR/tests/pq_gen (built with the unit tests) and node; installs
# @duckdb/node-api from package-lock.json if node_modules is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
gen=$build/tests/pq_gen
if [ ! -x "$gen" ]; then
  echo "missing $gen: build with -DSESP_TESTS=ON (target pq_gen)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
  (cd "$here" && npm ci --silent)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" write "$tmp/ours" >/dev/null
status=0
node "$here/check.js" ours "$tmp/ours" || status=1
node "$here/check.js" duck "$tmp/duck" "$gen" || status=1
if [ $status -eq 0 ]; then echo "parquet: all DuckDB cross-checks passed"; else echo "parquet: MISMATCHES (see above)"; fi
exit $status
