#!/usr/bin/env bash
# `sesp group list|describe|delete|reset-offsets` against a real broker: lag
# numbers against what was produced and committed, members and assignments
# of a live group, reset-offsets dry runs that change nothing and --execute
# runs that do (earliest, latest, offset with clamping, datetime, partition
# subsets), refusal while members are active, offset and group deletion, and
# usage errors.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
g() { "$SESP_BIN" group "$@" -b "$BOOTSTRAP"; }
# rows "TOPIC PARTITION CURRENT END LAG" of describe
rows() { g describe "$1" | awk '$1 == "'"${2:-cli}"'" && $2 ~ /^[0-9]+$/ {print $1, $2, $3, $4, $5}'; }
expect_rows() { # group expected-rows [topic]
  local got; got=$(rows "$1" "${3:-cli}")
  [ "$got" = "$2" ] || fail "describe $1: expected
$2
got
$got"
}

"$SESP_BIN" topic create cli --partitions 3 -b "$BOOTSTRAP" >/dev/null
for p in 0 1 2; do seq 1 $(((p + 1) * 10)) | "$SESP_BIN" produce cli -p $p -b "$BOOTSTRAP"; done

out=$(g list) || fail "list"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "list with no groups: $out"

# Commit 4/15/30 (of 10/20/30) for group cg.
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "commit"
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "cg", "enable.auto.commit": False})
c.commit(offsets=[TopicPartition("cli", 0, 4), TopicPartition("cli", 1, 15), TopicPartition("cli", 2, 30)], asynchronous=False)
c.close()
PY
expect_rows cg "cli 0 4 10 6
cli 1 15 20 5
cli 2 30 30 0"
g describe cg | grep -qx "STATE Empty" || fail "state of a group with only commits: $(g describe cg)"

# A live member (no commits of its own) holding all three partitions.
/usr/bin/python3 - "$BOOTSTRAP" "$TEST_TMP/live.ready" "$TEST_TMP/live.stop" <<'PY' &
import os, sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "cg", "enable.auto.commit": False,
              "client.id": "live-client", "session.timeout.ms": 6000})
c.subscribe(["cli"], on_assign=lambda cons, parts: open(sys.argv[2], "w").write(str(len(parts))))
while not os.path.exists(sys.argv[3]):
    c.poll(0.2)
c.close()
PY
live=$!
for _ in $(seq 1 300); do [ -s "$TEST_TMP/live.ready" ] && break; sleep 0.1; done
[ "$(cat "$TEST_TMP/live.ready" 2>/dev/null)" = 3 ] || fail "the live member got no assignment"
out=$(g describe cg)
echo "$out" | grep -qx "STATE Stable" || fail "live group state: $out"
echo "$out" | grep -qx "MEMBERS 1" || fail "live group members: $out"
echo "$out" | grep -Eq "^live-client-[^ ]+ +live-client +/?127\.0\.0\.1 +- +cli:0,cli:1,cli:2$" || fail "member row: $out"
[ "$(echo "$out" | awk '$1 == "cli" && $6 ~ /^live-client-/' | wc -l)" = 3 ] || fail "partition owners: $out"
expect_rows cg "cli 0 4 10 6
cli 1 15 20 5
cli 2 30 30 0"
g list | grep -Eq "^cg +Stable +consumer$" || fail "list: $(g list)"
if g reset-offsets cg --topic cli --to-earliest --execute >"$TEST_TMP/out" 2>&1; then fail "reset-offsets of an active group succeeded"; fi
grep -q "inactive" "$TEST_TMP/out" || fail "reset-offsets refusal: $(cat "$TEST_TMP/out")"
if g delete cg >"$TEST_TMP/out" 2>&1; then fail "deleting an active group succeeded"; fi
grep -q NON_EMPTY_GROUP "$TEST_TMP/out" || fail "delete refusal: $(cat "$TEST_TMP/out")"
touch "$TEST_TMP/live.stop"
wait $live || fail "live member"
g list | grep -Eq "^cg +Empty +consumer$" || fail "list after the member left: $(g list)"
expect_rows cg "cli 0 4 10 6
cli 1 15 20 5
cli 2 30 30 0"

# Dry runs print the plan and change nothing.
out=$(g reset-offsets cg --topic cli --to-earliest)
echo "$out" | awk '$1 == "cli" {print $2, $3, $4}' | tr '\n' ';' | grep -qx "0 4 0;1 15 0;2 30 0;" || fail "plan: $out"
echo "$out" | grep -q "Dry run" || fail "dry run not announced: $out"
g reset-offsets cg --topic cli --to-latest >/dev/null
expect_rows cg "cli 0 4 10 6
cli 1 15 20 5
cli 2 30 30 0"

# --execute: an offset beyond the end of partition 0 is clamped to its end.
g reset-offsets cg --topic cli --to-offset 12 --execute >/dev/null || fail "reset --to-offset"
expect_rows cg "cli 0 10 10 0
cli 1 12 20 8
cli 2 12 30 18"
g reset-offsets cg --topic cli:1 --to-latest --execute >/dev/null || fail "reset one partition to latest"
expect_rows cg "cli 0 10 10 0
cli 1 20 20 0
cli 2 12 30 18"
g reset-offsets cg --topic cli:0,2 --to-earliest --execute >/dev/null || fail "reset two partitions to earliest"
expect_rows cg "cli 0 0 10 10
cli 1 20 20 0
cli 2 0 30 30"

# --to-datetime, on records with known timestamps, for a group that did not exist.
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "produce with timestamps"
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
for i in range(10):
    p.produce("clits", value=b"v%d" % i, partition=0, timestamp=1000 * (i + 1))
assert p.flush(10) == 0
PY
g reset-offsets cg2 --topic clits --to-datetime 5500 --execute >/dev/null || fail "reset --to-datetime"
expect_rows cg2 "clits 0 5 10 5" clits
g reset-offsets cg2 --topic clits --to-datetime 1000 --execute >/dev/null
expect_rows cg2 "clits 0 0 10 10" clits
g reset-offsets cg2 --topic clits --to-datetime 99999999999 --execute >/dev/null
expect_rows cg2 "clits 0 10 10 0" clits

# Deleting one partition's offsets, then whole groups.
g delete cg --topic cli:2 >/dev/null || fail "delete offsets"
expect_rows cg "cli 0 0 10 10
cli 1 20 20 0"
g delete cg cg2 >"$TEST_TMP/out" || fail "delete groups: $(cat "$TEST_TMP/out")"
[ "$(grep -c '^Deleted group' "$TEST_TMP/out")" = 2 ] || fail "delete output: $(cat "$TEST_TMP/out")"
[ "$(g list | wc -l)" = 1 ] || fail "groups left after delete: $(g list)"
if g describe cg >"$TEST_TMP/out" 2>&1; then fail "describe of a deleted group succeeded"; fi
grep -q "does not exist" "$TEST_TMP/out" || fail "describe of a deleted group: $(cat "$TEST_TMP/out")"

# Usage errors exit 2.
for args in "frobnicate" "describe" "list extra" "reset-offsets cg --to-earliest" "reset-offsets cg --topic cli" \
            "reset-offsets cg --topic cli --to-earliest --to-latest" "describe cg --execute" "reset-offsets cg --topic cli --to-offset -3"; do
  rc=0; "$SESP_BIN" group $args -b "$BOOTSTRAP" >/dev/null 2>&1 || rc=$?
  [ $rc = 2 ] || fail "sesp group $args: exit $rc, expected 2"
done
if g reset-offsets cg --topic nosuchtopic --to-earliest >/dev/null 2>&1; then fail "reset of an unknown topic succeeded"; fi
if g reset-offsets cg --topic cli:7 --to-earliest >/dev/null 2>&1; then fail "reset of an unknown partition succeeded"; fi
rc=0; "$SESP_BIN" group list -b 127.0.0.1:1 --timeout 2000 >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "list against a dead address: exit $rc"

stop_broker TERM
echo "PASS test_group_cli"
