#!/usr/bin/env bash
# Malformed frames close only the offending connection; the broker keeps serving.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker
/usr/bin/python3 "$(dirname "$0")/bad_frames.py" 127.0.0.1 "$BROKER_PORT" || fail "bad frames"
kill -0 "$BROKER_PID" 2>/dev/null || fail "broker died"
stop_broker TERM
echo "PASS test_bad_frames"
