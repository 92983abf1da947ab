#!/usr/bin/env bash
# Runs the kafka-python and confluent-kafka round trips against a fresh broker.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker
/usr/bin/python3 "$(dirname "$0")/test_python_clients.py" "$BOOTSTRAP" || fail "python clients"
stop_broker TERM
