#!/usr/bin/env python3
"""Checks a fully compacted topic read with '%o %k %s' lines (stdin) against
the produced lines "key:value" in MODEL: offsets strictly increase and every
key appears exactly once, with its last produced value, in produce order of
those last values.  Prints the number of records read.
usage: compaction_exact.py MODEL < consumed"""
import sys

last = {}
order = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line:
        continue
    k, v = line.split(":", 1)
    if k in last:
        order.remove(k)
    last[k] = v
    order.append(k)
got = []
prev = -1
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    off, k, v = line.split(" ", 2)
    if int(off) <= prev:
        sys.exit(f"offsets not increasing at {off}")
    prev = int(off)
    got.append((k, v))
want = [(k, last[k]) for k in order]
if got != want:
    extra = [kv for kv in got if kv not in want]
    missing = [kv for kv in want if kv not in got]
    sys.exit(f"read {len(got)} records, want {len(want)}; "
             f"unexpected e.g. {extra[:2]}, missing e.g. {missing[:2]}")
print(len(got))
