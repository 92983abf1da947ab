#!/usr/bin/env bash
# Runs every integration test: tests/integration/*/test_*.sh against the real
# binary, plus the Parquet, Delta and CLI runners.  Usage: run.sh BUILD_DIR
# Prints a summary and exits non-zero if any test failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
export SESP_BIN=$build/bin/sesp
pass=() failed=()

run() { # name command...
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@"; then pass+=("$name ($((SECONDS - start)) s)"); else failed+=("$name"); echo "=== $name FAILED"; fi
}

for t in "$here"/broker/test_*.sh "$here"/groups/test_*.sh; do
  run "$(basename "$(dirname "$t")")/$(basename "$t")" bash "$t"
done
if [ -x "$here/cli/test_cli.sh" ] || [ -f "$here/cli/test_cli.sh" ]; then
  run "cli/test_cli.sh" bash -c "source '$here/lib.sh'; start_broker; bash '$here/cli/test_cli.sh' '$SESP_BIN' \"\$BOOTSTRAP\""
fi
for r in parquet delta; do
  [ -f "$here/$r/run.sh" ] && run "$r/run.sh" bash "$here/$r/run.sh" "$build"
done

echo
echo "integration: ${#pass[@]} passed, ${#failed[@]} failed"
for p in "${pass[@]}"; do echo "  ok   $p"; done
for f in "${failed[@]}"; do echo "  FAIL $f"; done
[ ${#failed[@]} -eq 0 ]
