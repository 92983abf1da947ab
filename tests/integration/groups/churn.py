#!/usr/bin/python3
"""Membership churn with one client library: three members consume a
6-partition topic while numbered messages are produced; a fourth joins, one
leaves cleanly, one is killed with SIGKILL and must be expired after its
session timeout.  Every record is consumed, nothing below an acknowledged
commit is consumed again, and the final commits reach the log end.
Usage: churn.py CLIENT BOOTSTRAP SESP_BIN TMPDIR   (CLIENT: kafka-python|confluent|kafkajs)"""
import subprocess
import sys
import time

from gcheck import (Member, NumberedProducer, check_consumption, committed_offsets, exact_cover, fail,
                    high_watermarks, log, wait_for)

client, bootstrap, sesp, tmp = sys.argv[1:5]
topic, group, N = f"churn-{client}", f"churn-{client}-g", 6
subprocess.run([sesp, "topic", "create", topic, "--partitions", str(N), "-b", bootstrap], check=True,
               stdout=subprocess.DEVNULL)
prod = NumberedProducer(bootstrap, topic)
ms = [Member(client, bootstrap, topic, group, tmp, f"{client}-m{i}") for i in (1, 2, 3)]
wait_for(lambda: exact_cover(ms, N) and all(m.consumed() > 0 for m in ms), 60, f"{client}: 3 members sharing {N} partitions")
log(f"{client}: 3 members: {[sorted(m.assignment()) for m in ms]}")

ms.append(Member(client, bootstrap, topic, group, tmp, f"{client}-m4"))
wait_for(lambda: exact_cover(ms, N) and ms[3].consumed() > 0, 60, f"{client}: the 4th member's share")
log(f"{client}: 4 members: {[sorted(m.assignment()) for m in ms]}")

leaver, victim, rest = ms[0], ms[1], ms[2:]
leaver.stop()
wait_for(lambda: exact_cover([victim] + rest, N), 30, f"{client}: rebalance after a clean leave")
log(f"{client}: after the leave: {[sorted(m.assignment()) for m in [victim] + rest]}")

victim_parts = victim.assignment()
victim.kill9()
t_kill = time.time()
wait_for(lambda: exact_cover(rest, N), 40, f"{client}: the killed member's partitions to move after its session timeout")
took = time.time() - t_kill
log(f"{client}: killed member expired, partitions {sorted(victim_parts)} moved after {took:.1f} s")
if took > 30:
    fail(f"{client}: the killed member's partitions took {took:.1f} s to move (session timeout 6 s)")

time.sleep(1)  # a last stretch of records for the final two members
delivered = prod.stop()
log(f"{client}: produced {len(delivered)} records")
wait_for(lambda: len({(int(e[2]), int(e[3])) for m in ms for e in m.events() if e[0] == "M"} & delivered) == len(delivered),
         60, f"{client}: every produced record to be consumed")
hw = high_watermarks(bootstrap, topic, N)
wait_for(lambda: committed_offsets(bootstrap, group, topic, N) == hw, 30, f"{client}: commits to reach the log end {hw}")
for m in rest:
    m.stop()
dups = check_consumption(ms, delivered, client)
log(f"{client}: all {len(delivered)} records consumed, {dups} redelivered (none below a commit)")
print(f"PASS churn {client}")
