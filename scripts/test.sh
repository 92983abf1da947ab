#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. install dependencies (scripts/install-deps.sh),
#   2. build with AddressSanitizer + UndefinedBehaviorSanitizer and run the unit tests (ctest),
#   3. build the libFuzzer targets with clang and run each for SESP_FUZZ_SECONDS (default 60),
#   4. build the release binary and run the integration tests against it,
#   5. run the wire-facing broker tests and the Parquet/Delta tests again against the ASan + UBSan binary.
# Environment: SESP_FUZZ_SECONDS=N, SESP_SKIP_FUZZ=1, SESP_SKIP_INTEGRATION=1.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
status=0

bash scripts/install-deps.sh

echo "=== unit tests (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSESP_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs") || status=1

if [ "${SESP_SKIP_FUZZ:-0}" != 1 ]; then
  secs=${SESP_FUZZ_SECONDS:-60}
  echo "=== fuzzing (${secs} s per target)"
  CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSESP_FUZZ=ON -DSESP_TESTS=ON >/dev/null
  cmake --build build-fuzz -j"$jobs"
  mkdir -p build-fuzz/logs
  pids=()
  for f in build-fuzz/fuzz/*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    # Seed corpus: tests/fuzz/<area>/corpus/<target>/, else the area's corpus/ when the area builds this target.
    corpus=$(ls -d tests/fuzz/*/corpus/"$name" 2>/dev/null | head -1 || true)
    if [ -z "$corpus" ]; then
      area=$(grep -l "$name" tests/fuzz/*/CMakeLists.txt 2>/dev/null | head -1 || true)
      [ -n "$area" ] && [ -d "$(dirname "$area")/corpus" ] && corpus=$(dirname "$area")/corpus
    fi
    work=build-fuzz/corpus/$name
    mkdir -p "$work"
    [ -n "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    ( "$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -artifact_prefix=build-fuzz/logs/"$name"- "$work" \
        >build-fuzz/logs/"$name".log 2>&1 && echo "fuzz $name: ok" ) || { echo "fuzz $name: FAILED"; tail -40 build-fuzz/logs/"$name".log; exit 1; } &
    pids+=($!)
    # Two at a time on a 2-core machine.
    if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
fi

if [ "${SESP_SKIP_INTEGRATION:-0}" != 1 ]; then
  echo "=== integration tests"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$jobs"
  bash tests/integration/run.sh build || status=1
fi

if [ "${SESP_SKIP_INTEGRATION:-0}" != 1 ]; then
  # Real clients and hand-made frames against the sanitized broker: a memory
  # error or a leak aborts it, and the test sees the broker die.
  echo "=== integration tests against the ASan + UBSan binary"
  for t in broker/test_bad_frames broker/test_kcat broker/test_python_clients broker/test_kafkajs broker/test_admin \
           broker/test_sigterm_inflight broker/test_list_offsets_v0 \
           groups/test_bad_requests groups/test_churn groups/test_static; do
    if SESP_BIN="$PWD/build-asan/bin/sesp" bash "tests/integration/$t.sh" >"build-asan/$(basename "$t").log" 2>&1; then
      echo "  ok   $t (asan)"
    else
      echo "  FAIL $t (asan)"; tail -40 "build-asan/$(basename "$t").log"; status=1
    fi
  done
  for r in parquet delta; do
    if bash "tests/integration/$r/run.sh" build-asan >"build-asan/$r.log" 2>&1; then
      echo "  ok   $r/run.sh (asan)"
    else
      echo "  FAIL $r/run.sh (asan)"; tail -40 "build-asan/$r.log"; status=1
    fi
  done
fi

[ $status -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit $status
