#!/usr/bin/python3
"""confluent-kafka members under each assignor: range and roundrobin give
their exact layouts, cooperative-sticky balances and moves only what it
must (old members keep a subset on a join, a superset on a leave), and the
broker reports the chosen protocol.  Records are produced throughout and all
are consumed, none below an acknowledged commit again.
Usage: assignors.py ASSIGNOR BOOTSTRAP SESP_BIN TMPDIR"""
import subprocess
import sys

from gcheck import (Member, NumberedProducer, check_consumption, committed_offsets, exact_cover, fail,
                    high_watermarks, log, wait_for)

assignor, bootstrap, sesp, tmp = sys.argv[1:5]
topic, group, N = f"asg-{assignor}", f"asg-{assignor}-g", 6
subprocess.run([sesp, "topic", "create", topic, "--partitions", str(N), "-b", bootstrap], check=True,
               stdout=subprocess.DEVNULL)
prod = NumberedProducer(bootstrap, topic, rate=100)
ms = [Member("confluent", bootstrap, topic, group, tmp, f"{assignor}-m{i}", f"assignor={assignor}") for i in (1, 2, 3)]
wait_for(lambda: exact_cover(ms, N) and all(m.consumed() for m in ms), 60, f"{assignor}: 3 members sharing {N} partitions")
layout = sorted(sorted(m.assignment()) for m in ms)
log(f"{assignor}: 3 members: {layout}")
if assignor == "range" and layout != [[0, 1], [2, 3], [4, 5]]:
    fail(f"range layout {layout}")
if assignor == "roundrobin" and layout != [[0, 3], [1, 4], [2, 5]]:
    fail(f"roundrobin layout {layout}")
if assignor == "cooperative-sticky" and sorted(len(x) for x in layout) != [2, 2, 2]:
    fail(f"cooperative-sticky is unbalanced: {layout}")

desc = subprocess.run([sesp, "group", "describe", group, "-b", bootstrap], check=True, capture_output=True, text=True).stdout
if f"ASSIGNOR {assignor}\n" not in desc or "STATE Stable\n" not in desc:
    fail(f"{assignor}: sesp group describe says:\n{desc}")

before = [m.assignment() for m in ms]
ms.append(Member("confluent", bootstrap, topic, group, tmp, f"{assignor}-m4", f"assignor={assignor}"))
wait_for(lambda: exact_cover(ms, N) and ms[3].consumed(), 60, f"{assignor}: the 4th member's share")
after = [m.assignment() for m in ms]
log(f"{assignor}: 4 members: {[sorted(a) for a in after]}")
if sorted(len(a) for a in after) != [1, 1, 2, 2]:
    fail(f"{assignor}: unbalanced with 4 members: {after}")
if assignor == "cooperative-sticky":
    for b, a in zip(before, after):
        if not a <= b:
            fail(f"cooperative-sticky moved partitions it did not have to: {sorted(b)} -> {sorted(a)}")

before = [m.assignment() for m in ms[1:]]
ms[0].stop()
wait_for(lambda: exact_cover(ms[1:], N), 30, f"{assignor}: rebalance after a leave")
after = [m.assignment() for m in ms[1:]]
log(f"{assignor}: after a leave: {[sorted(a) for a in after]}")
if assignor == "cooperative-sticky":
    for b, a in zip(before, after):
        if not b <= a:
            fail(f"cooperative-sticky took partitions from a staying member: {sorted(b)} -> {sorted(a)}")
delivered = prod.stop()
wait_for(lambda: len({(int(e[2]), int(e[3])) for m in ms for e in m.events() if e[0] == "M"} & delivered) == len(delivered),
         60, f"{assignor}: every produced record to be consumed")
hw = high_watermarks(bootstrap, topic, N)
wait_for(lambda: committed_offsets(bootstrap, group, topic, N) == hw, 30, f"{assignor}: commits to reach the log end {hw}")
for m in ms[1:]:
    m.stop()
dups = check_consumption(ms, delivered, assignor)
log(f"{assignor}: all {len(delivered)} records consumed, {dups} redelivered (none below a commit)")
print(f"PASS assignor {assignor}")
