#!/usr/bin/python3
"""Static membership (group.instance.id) with confluent-kafka: a member that
restarts within its session timeout, after a clean close or a SIGKILL, gets
its old partitions back without a rebalance (the other members' assignment
callbacks do not fire again); one that stays away past the timeout does cause
one.  All records are consumed, none below an acknowledged commit again.
Usage: static.py BOOTSTRAP SESP_BIN TMPDIR"""
import subprocess
import sys
import time

from gcheck import (Member, NumberedProducer, check_consumption, committed_offsets, exact_cover, fail,
                    high_watermarks, log, wait_for)

bootstrap, sesp, tmp = sys.argv[1:4]
topic, group, N = "static", "static-g", 6
subprocess.run([sesp, "topic", "create", topic, "--partitions", str(N), "-b", bootstrap], check=True,
               stdout=subprocess.DEVNULL)
prod = NumberedProducer(bootstrap, topic, rate=100)


def member(name, inst):
    return Member("confluent", bootstrap, topic, group, tmp, name, f"instance={inst}")


live = {i: member(f"s{i}", f"static-{i}") for i in (1, 2, 3)}
everyone = list(live.values())
wait_for(lambda: exact_cover(live.values(), N) and all(m.consumed() for m in live.values()), 60, "3 static members")
log(f"static: 3 members: {[sorted(m.assignment()) for m in live.values()]}")
desc = subprocess.run([sesp, "group", "describe", group, "-b", bootstrap], check=True, capture_output=True, text=True).stdout
for i in (1, 2, 3):
    if f" static-{i} " not in desc:
        fail(f"sesp group describe lacks instance id static-{i}:\n{desc}")


def bounce(i, how):
    old = live[i]
    parts = old.assignment()
    others = {j: (m, m.assign_count()) for j, m in live.items() if j != i}
    if how == "term":
        old.stop()
    else:
        old.kill9()
    new = member(f"s{i}-{how}", f"static-{i}")
    everyone.append(new)
    live[i] = new
    wait_for(lambda: new.assignment() is not None and new.consumed() > 0, 5, f"static-{i} back after {how}")
    if new.assignment() != parts:
        fail(f"static-{i} came back ({how}) with {sorted(new.assignment())}, had {sorted(parts)}")
    # The rebalance a dynamic member would cause takes well under this.
    time.sleep(3)
    for j, (m, n) in others.items():
        if m.assign_count() != n:
            fail(f"static-{i} restarting ({how}) made static-{j} rebalance ({n} -> {m.assign_count()} assignments)")
    if new.assign_count() != 1:
        fail(f"static-{i} was assigned {new.assign_count()} times after restarting ({how})")
    log(f"static: static-{i} restarted after {how} with {sorted(parts)}, no rebalance")


bounce(2, "term")
bounce(3, "kill")

# Positive control: a static member that stays away past its session timeout is removed.
counts = {j: live[j].assign_count() for j in (1, 3)}
live[2].stop()
t0 = time.time()
rest = [live[1], live[3]]
wait_for(lambda: exact_cover(rest, N), 30, "a rebalance once static-2 stayed away past its session timeout")
took = time.time() - t0
if took < 5 or any(live[j].assign_count() == counts[j] for j in (1, 3)):
    fail(f"static-2's absence: partitions moved after {took:.1f} s, counts {counts}")
log(f"static: static-2 expired after {took:.1f} s: {[sorted(m.assignment()) for m in rest]}")

delivered = prod.stop()
wait_for(lambda: len({(int(e[2]), int(e[3])) for m in everyone for e in m.events() if e[0] == "M"} & delivered) == len(delivered),
         60, "every produced record to be consumed")
hw = high_watermarks(bootstrap, topic, N)
wait_for(lambda: committed_offsets(bootstrap, group, topic, N) == hw, 30, f"commits to reach the log end {hw}")
for m in rest:
    m.stop()
dups = check_consumption(everyone, delivered, "static")
log(f"static: all {len(delivered)} records consumed, {dups} redelivered (none below a commit)")
print("PASS static")
