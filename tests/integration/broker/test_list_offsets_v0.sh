#!/usr/bin/env bash
# ListOffsets v0 (old_style_offsets) from kafka-python pinned to 0.10.0 and
# raw frames, over a log with several segments.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker --set log.segment.bytes=1024
/usr/bin/python3 "$(dirname "$0")/list_offsets_v0.py" 127.0.0.1 "$BROKER_PORT" "$BROKER_DATA" || fail "ListOffsets v0"
kill -0 "$BROKER_PID" 2>/dev/null || fail "broker died"
stop_broker TERM
echo "PASS test_list_offsets_v0"
