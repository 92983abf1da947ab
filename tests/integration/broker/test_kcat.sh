#!/usr/bin/env bash
# kcat (librdkafka) produces keyed messages with headers under every
# compression codec and consumes them back byte-exact; the data survives a
# clean restart and is readable by offset and by timestamp.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
start_broker

kcat -b "$BOOTSTRAP" -L >"$TEST_TMP/meta.txt" || fail "kcat -L"
grep -q "1 brokers:" "$TEST_TMP/meta.txt" || fail "metadata lacks the broker: $(cat "$TEST_TMP/meta.txt")"

for codec in none gzip snappy lz4 zstd; do
  topic="kcat-$codec"
  expected="$TEST_TMP/$codec.expected"
  : >"$expected"
  for i in $(seq 1 500); do
    echo "key$i:value-$codec-$i-$(printf '%0*d' $((i % 50)) 0)" >>"$expected"
  done
  kcat -b "$BOOTSTRAP" -t "$topic" -P -K: -z "$codec" -H "h1=v1" -H "codec=$codec" \
    -X topic.request.required.acks=-1 <"$expected" || fail "produce $codec"
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -f '%k:%s\n' >"$TEST_TMP/$codec.got" || fail "consume $codec"
  diff -q "$expected" "$TEST_TMP/$codec.got" >/dev/null || { diff "$expected" "$TEST_TMP/$codec.got" | head >&2; fail "codec $codec: consumed data differs"; }
  hdrs=$(kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -c 1 -f '%h\n')
  [ "$hdrs" = "h1=v1,codec=$codec" ] || fail "codec $codec: headers '$hdrs'"
  # The log holds the batches as produced: compressed with this codec.
  # librdkafka sends a batch uncompressed when compressing would not shrink
  # it (a lone first record on a slow broker), so every batch must carry
  # this codec or none, and most of the records this codec.
  want=$(case $codec in none) echo 0;; gzip) echo 1;; snappy) echo 2;; lz4) echo 3;; zstd) echo 4;; esac)
  /usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
want = int(sys.argv[2])
pos, with_codec, total = 0, 0, 0
while pos + 61 <= len(d):
    blen = struct.unpack(">i", d[pos + 8:pos + 12])[0]
    codec = struct.unpack(">h", d[pos + 21:pos + 23])[0] & 7
    count = struct.unpack(">i", d[pos + 57:pos + 61])[0]
    if codec not in (0, want):
        sys.exit("a batch has compression %d, expected %d or 0" % (codec, want))
    total += count
    with_codec += count if codec == want else 0
    pos += 12 + blen
if pos != len(d) or total != 500 or with_codec * 2 <= total:
    sys.exit("%d of %d records stored with compression %d (log %d of %d bytes walked)" % (with_codec, total, want, pos, len(d)))
' "$BROKER_DATA/$topic-0/00000000000000000000.log" "$want" || fail "codec $codec: stored batches"
  offs=$(kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -f '%o\n' | tail -1)
  [ "$offs" = 499 ] || fail "codec $codec: last offset $offs, expected 499"
done
log "kcat: every codec round-trips"

# Reading from an offset.
got=$(kcat -b "$BOOTSTRAP" -t kcat-lz4 -C -e -q -o 250 -c 1 -f '%o %k\n')
[ "$got" = "250 key251" ] || fail "read at offset 250 gave '$got'"

# A clean restart keeps all data.
stop_broker TERM
start_broker
for codec in none gzip snappy lz4 zstd; do
  kcat -b "$BOOTSTRAP" -t "kcat-$codec" -C -e -q -f '%k:%s\n' >"$TEST_TMP/$codec.after" || fail "consume after restart"
  cmp -s "$TEST_TMP/$codec.expected" "$TEST_TMP/$codec.after" || fail "codec $codec: data differs after restart"
done
log "kcat: data survives a restart"

# Long poll: a consumer waiting at the end gets a new message promptly.
kcat -b "$BOOTSTRAP" -t kcat-poll -P <<<"first"
( kcat -b "$BOOTSTRAP" -t kcat-poll -C -o end -c 1 -q -f '%s\n' >"$TEST_TMP/poll.out" ) &
cpid=$!
sleep 2
echo "second" | kcat -b "$BOOTSTRAP" -t kcat-poll -P
for _ in $(seq 1 50); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
kill -0 $cpid 2>/dev/null && { kill $cpid; fail "long-poll consumer did not receive the new message within 5 s"; }
[ "$(cat "$TEST_TMP/poll.out")" = "second" ] || fail "long-poll got '$(cat "$TEST_TMP/poll.out")'"
log "kcat: long poll wakes on produce"
stop_broker TERM
echo "PASS test_kcat"
