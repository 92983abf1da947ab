#!/usr/bin/env bash
# Delta Lake integration tests: `sesp table` checked by an independent Delta
# reader (node + DuckDB), locally and on S3 (s3rver behind a failure-injecting
# proxy).  Usage: run.sh BUILD_DIR.  Exits non-zero on any mismatch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
if [ ! -d "$here/node_modules/@duckdb/node-api" ] || [ ! -d "$here/node_modules/s3rver" ]; then
  (cd "$here" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi)
fi
cd "$here"
exec node delta_test.js "${SESP_TABLE_BIN:-$build/bin/sesp}"
