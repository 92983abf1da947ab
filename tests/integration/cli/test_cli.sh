#!/usr/bin/env bash
# End-to-end test of `sesp topic|produce|consume` against a running broker.
# Usage: test_cli.sh SESP_BIN BOOTSTRAP   (e.g. build/bin/sesp 127.0.0.1:9092)
# Covers create/list/describe/alter/delete, keyed lines with headers under every
# compression codec read back byte-exactly with --format and -e, start at an
# offset, a tail offset and a timestamp, group consumption, and the error paths
# (broker down, bad partition).  Exits non-zero with a message on any mismatch.
set -uo pipefail

SESP=${1:?usage: test_cli.sh SESP_BIN BOOTSTRAP}
BOOT=${2:?usage: test_cli.sh SESP_BIN BOOTSTRAP}
WORK=$(mktemp -d /tmp/sesp-cli-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RUN=$$  # topic names unique per run so a reused broker does not interfere
CHECKS=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
# sesp ARGS...: the CLI with the bootstrap and a 60 s bound on everything
sesp() { timeout 60 "$SESP" "$1" "${@:2}" -b "$BOOT"; }
topic() { timeout 60 "$SESP" topic "$1" -b "$BOOT" "${@:2}"; }
expect_diff() { # name expected actual
  diff -u "$2" "$3" >"$WORK/diff" || { cat "$WORK/diff" >&2; fail "$1: output differs from what was produced"; }
}

# --- topic administration -----------------------------------------------------
T=cli-admin-$RUN
topic create "$T" --partitions 3 --config retention.ms=86400000 >"$WORK/out" || fail "topic create $T"
grep -q "Created topic $T" "$WORK/out" || fail "topic create printed: $(cat "$WORK/out")"
ok "topic create"

if topic create "$T" --partitions 3 >"$WORK/out" 2>"$WORK/err"; then fail "creating $T twice succeeded"; fi
grep -qi "exist" "$WORK/err" || fail "duplicate create error does not say the topic exists: $(cat "$WORK/err")"
topic create "$T" --partitions 3 --if-not-exists >/dev/null || fail "create --if-not-exists on an existing topic failed"
ok "topic create on an existing topic (error, and --if-not-exists)"

topic list >"$WORK/list" || fail "topic list"
grep -qx "$T" "$WORK/list" || fail "topic list lacks $T: $(cat "$WORK/list")"
ok "topic list"

describe() { topic describe "$T" >"$WORK/desc" || fail "topic describe $T: $(cat "$WORK/desc")"; }
describe
grep -q "PartitionCount: 3" "$WORK/desc" || fail "describe: want PartitionCount: 3: $(cat "$WORK/desc")"
[ "$(grep -c $'^\tPartition: ' "$WORK/desc")" = 3 ] || fail "describe: want 3 partition lines: $(cat "$WORK/desc")"
grep -Eq $'^\tPartition: 0\tLeader: [0-9]+\tReplicas: [0-9]+\tIsr: [0-9]+' "$WORK/desc" ||
  fail "describe: partition 0 lacks leader/replicas/isr: $(cat "$WORK/desc")"
grep -q $'\tretention.ms=86400000\t(DYNAMIC_TOPIC_CONFIG' "$WORK/desc" ||
  fail "describe: retention.ms override missing or wrong source: $(cat "$WORK/desc")"
ok "topic describe (partitions, leader/replicas/isr, config with source)"

topic alter "$T" --partitions 5 >/dev/null || fail "alter --partitions 5"
describe
grep -q "PartitionCount: 5" "$WORK/desc" || fail "after alter: want PartitionCount: 5: $(cat "$WORK/desc")"
if topic alter "$T" --partitions 2 >/dev/null 2>&1; then fail "shrinking partitions 5 -> 2 succeeded"; fi
ok "topic alter --partitions (grow, and shrink refused)"

topic alter "$T" --config max.message.bytes=2000000 >/dev/null || fail "alter --config max.message.bytes"
describe
grep -q $'\tmax.message.bytes=2000000\t(DYNAMIC_TOPIC_CONFIG' "$WORK/desc" || fail "alter --config not visible: $(cat "$WORK/desc")"
grep -q $'\tretention.ms=86400000\t(DYNAMIC_TOPIC_CONFIG' "$WORK/desc" || fail "alter --config lost retention.ms: $(cat "$WORK/desc")"
topic alter "$T" --delete-config retention.ms >/dev/null || fail "alter --delete-config retention.ms"
describe
if grep -q $'\tretention.ms=[0-9-]*\t(DYNAMIC_TOPIC_CONFIG' "$WORK/desc"; then fail "retention.ms override still present: $(cat "$WORK/desc")"; fi
grep -q $'\tmax.message.bytes=2000000\t(DYNAMIC_TOPIC_CONFIG' "$WORK/desc" || fail "--delete-config lost max.message.bytes: $(cat "$WORK/desc")"
ok "topic alter --config / --delete-config"

topic delete "$T" >/dev/null || fail "topic delete $T"
for i in $(seq 50); do topic list >"$WORK/list" && ! grep -qx "$T" "$WORK/list" && break; sleep 0.2; done
grep -qx "$T" "$WORK/list" && fail "topic $T still listed after delete"
if topic describe "$T" >/dev/null 2>&1; then fail "describe of a deleted topic succeeded"; fi
ok "topic delete"

# --- produce / consume under every codec --------------------------------------
# Lines "key<TAB>value": keys repeat so several land in each partition; values carry
# spaces, '%', backslashes, ':' and UTF-8 to prove the bytes are not interpreted.
make_input() {
  for i in $(seq 1 40); do
    printf 'key%d\tvalue %d: 50%% \\n not-an-escape \xc3\xa9\xe2\x82\xac|%s\n' $((i % 7)) "$i" "$1"
  done
  printf 'emptyvalue\t\n'
  printf 'no separator on this line\n'
}
for codec in none gzip snappy lz4 zstd; do
  T=cli-codec-$codec-$RUN
  topic create "$T" --partitions 3 >/dev/null || fail "create $T"
  make_input "$codec" >"$WORK/in"
  sesp produce "$T" --key-separator $'\t' --compression "$codec" -H app=sesp-cli -H codec="$codec" <"$WORK/in" >"$WORK/pout" 2>&1 ||
    fail "produce with $codec: $(cat "$WORK/pout")"
  [ -s "$WORK/pout" ] && fail "produce printed on success: $(cat "$WORK/pout")"
  # Expected: what the consumer must print for each line (null key prints as nothing).
  awk -F'\t' -v c="$codec" '{ if (NF > 1) k = $1; else k = ""; v = (NF > 1) ? substr($0, length($1) + 2) : $0;
                              printf "%s|%s|app=sesp-cli,codec=%s\n", k, v, c }' "$WORK/in" | LC_ALL=C sort >"$WORK/expect"
  sesp consume "$T" --from-beginning -e --format '%k|%s|%h\n' >"$WORK/got" || fail "consume $codec"
  LC_ALL=C sort "$WORK/got" >"$WORK/got.sorted"
  expect_diff "codec $codec" "$WORK/expect" "$WORK/got.sorted"
  # Within each partition the offsets are 0..n-1 in order, and the partition/topic fields are right.
  sesp consume "$T" --from-beginning -e --format '%t %p %o\n' >"$WORK/po" || fail "consume $codec offsets"
  awk -v t="$T" '$1 != t { print "bad topic " $1; exit 1 } $3 != next_off[$2] + 0 { print "partition " $2 " offset " $3 " expected " next_off[$2] + 0; exit 1 } { next_off[$2] = $3 + 1 }' \
    "$WORK/po" || fail "codec $codec: offsets not contiguous per partition"
  [ "$(wc -l <"$WORK/po")" = "$(wc -l <"$WORK/in")" ] || fail "codec $codec: record count"
  ok "produce/consume round trip with $codec"
done

# Same key -> same partition (the producer's partitioner is keyed).
sesp consume "cli-codec-zstd-$RUN" --from-beginning -e --format '%k %p\n' | awk '$1 ~ /^key/' | sort -u >"$WORK/kp"
[ "$(awk '{print $1}' "$WORK/kp" | sort | uniq -d | wc -l)" = 0 ] || fail "one key landed on several partitions: $(cat "$WORK/kp")"
ok "keyed records stay on one partition per key"

# Binary values (NUL, CR, high bytes) survive exactly with the default format.
T=cli-binary-$RUN
topic create "$T" --partitions 1 >/dev/null || fail "create $T"
printf 'a\0b\r\n\xff\xfe\x01\n\n' >"$WORK/bin"
sesp produce "$T" <"$WORK/bin" || fail "produce binary"
sesp consume "$T" --from-beginning -e >"$WORK/bin.got" || fail "consume binary"
cmp "$WORK/bin" "$WORK/bin.got" || fail "binary values changed in transit: $(od -c "$WORK/bin.got")"
ok "binary-safe values"

# --- start positions -----------------------------------------------------------
T=cli-offsets-$RUN
topic create "$T" --partitions 1 >/dev/null || fail "create $T"
seq 0 9 | sed 's/^/v/' | sesp produce "$T" || fail "produce first batch"
sesp consume "$T" --offset 4 -e >"$WORK/got" || fail "consume --offset 4"
seq 4 9 | sed 's/^/v/' >"$WORK/expect"
expect_diff "--offset 4" "$WORK/expect" "$WORK/got"
ok "consume --offset N"
sesp consume "$T" --offset -3 -e >"$WORK/got" || fail "consume --offset -3"
seq 7 9 | sed 's/^/v/' >"$WORK/expect"
expect_diff "--offset -3" "$WORK/expect" "$WORK/got"
ok "consume --offset -N (from the end)"
sesp consume "$T" --partition 0 --from-beginning -c 2 >"$WORK/got" || fail "consume -c 2"
printf 'v0\nv1\n' >"$WORK/expect"
expect_diff "-c 2" "$WORK/expect" "$WORK/got"
ok "consume --partition/--count"
sesp consume "$T" -e >"$WORK/got" || fail "consume from end"
[ -s "$WORK/got" ] && fail "consume without a start position printed old records: $(cat "$WORK/got")"
ok "consume defaults to the end"

sleep 1.2
TS=$(date +%s%3N)
sleep 0.2
seq 10 14 | sed 's/^/v/' | sesp produce "$T" || fail "produce second batch"
sesp consume "$T" --timestamp "$TS" -e --format '%T %s\n' >"$WORK/got" || fail "consume --timestamp"
awk '{ print $2 }' "$WORK/got" >"$WORK/got.vals"
seq 10 14 | sed 's/^/v/' >"$WORK/expect"
expect_diff "--timestamp $TS" "$WORK/expect" "$WORK/got.vals"
awk -v ts="$TS" '$1 < ts { print "record timestamp " $1 " before " ts; exit 1 }' "$WORK/got" || fail "timestamps"
ok "consume --timestamp MS"
sesp consume "$T" --timestamp $((TS + 3600000)) -e >"$WORK/got" || fail "consume --timestamp in the future"
[ -s "$WORK/got" ] && fail "a timestamp after every record printed: $(cat "$WORK/got")"
ok "consume --timestamp after the last record starts at the end"

# --- consumer group ------------------------------------------------------------
T=cli-codec-lz4-$RUN
sesp consume "$T" --group "cli-group-$RUN" --from-beginning -e --format '%k|%s|%h\n' >"$WORK/got" || fail "group consume"
make_input lz4 | awk -F'\t' -v c=lz4 '{ if (NF > 1) k = $1; else k = ""; v = (NF > 1) ? substr($0, length($1) + 2) : $0;
                              printf "%s|%s|app=sesp-cli,codec=%s\n", k, v, c }' | LC_ALL=C sort >"$WORK/expect"
LC_ALL=C sort "$WORK/got" >"$WORK/got.sorted"
expect_diff "group consume" "$WORK/expect" "$WORK/got.sorted"
ok "consume --group (subscribe, all partitions, -e)"

# --- error paths ---------------------------------------------------------------
T=cli-offsets-$RUN
if echo x | timeout 60 "$SESP" produce "$T" --partition 9 -b "$BOOT" -X message.timeout.ms=5000 2>"$WORK/err"; then
  fail "producing to a missing partition succeeded"
fi
grep -q "not delivered" "$WORK/err" || fail "produce failure message: $(cat "$WORK/err")"
ok "produce to a missing partition fails with a count"

if timeout 60 "$SESP" consume "cli-missing-$RUN" -e -b "$BOOT" 2>"$WORK/err" >/dev/null; then fail "consuming a missing topic succeeded"; fi
grep -q "does not exist" "$WORK/err" || fail "missing topic message: $(cat "$WORK/err")"
ok "consume of a missing topic fails"

DEAD=127.0.0.1:1
start=$SECONDS
if timeout 30 "$SESP" topic list -b "$DEAD" --timeout 2000 2>"$WORK/err"; then fail "topic list against $DEAD succeeded"; fi
grep -q "cannot reach a broker" "$WORK/err" || fail "broker-down message: $(cat "$WORK/err")"
if echo x | timeout 30 "$SESP" produce t -b "$DEAD" --timeout 2000 2>/dev/null; then fail "produce against $DEAD succeeded"; fi
if timeout 30 "$SESP" consume t -b "$DEAD" --timeout 2000 2>/dev/null; then fail "consume against $DEAD succeeded"; fi
[ $((SECONDS - start)) -le 15 ] || fail "broker-down errors took $((SECONDS - start)) s"
ok "broker down: clear error, exit 1, bounded time"

for codec in none gzip snappy lz4 zstd; do topic delete "cli-codec-$codec-$RUN" >/dev/null || fail "delete cli-codec-$codec-$RUN"; done
topic delete "cli-offsets-$RUN" "cli-binary-$RUN" >/dev/null || fail "delete two topics at once"
ok "cleanup (multi-topic delete)"

echo "test_cli: all $CHECKS checks passed"
