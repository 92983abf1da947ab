#!/usr/bin/env python3
"""Checks a compacted topic read with kcat -f '%o %k %s\\n' (stdin) against
the produced lines "key:value" in MODEL: offsets strictly increase, every
record read was produced, and each key's last record read is the key's last
produced value.  Prints the number of records read.
usage: compaction_check.py MODEL < consumed"""
import sys

produced = [l.rstrip("\n").split(":", 1) for l in open(sys.argv[1]) if l.strip()]
last = {}
allpairs = set()
for k, v in produced:
    last[k] = v
    allpairs.add((k, v))
prev = -1
seen = {}
n = 0
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    off, k, v = line.split(" ", 2)
    off = int(off)
    if off <= prev:
        sys.exit(f"offsets not increasing at {off}")
    prev = off
    if (k, v) not in allpairs:
        sys.exit(f"record {k}={v} at {off} was never produced")
    seen[k] = v
    n += 1
bad = [k for k in last if seen.get(k) != last[k]]
if bad:
    sys.exit(f"{len(bad)} keys lost their latest value, e.g. {bad[0]}: want {last[bad[0]]} got {seen.get(bad[0])}")
print(n)
