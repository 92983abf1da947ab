"""Shared by the group test drivers: member processes, the event files they
write (see member.py), a background numbered-message producer, polling with
deadlines, and the checks: every produced record consumed, and nothing below
an acknowledged commit consumed again."""
import os
import signal
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))


MEMBERS = []  # every member started, killed if the driver fails


def fail(msg):
    print("FAIL:", msg, flush=True)
    for m in MEMBERS:
        if m.proc.poll() is None:
            m.proc.kill()
    os._exit(1)


def log(msg):
    print(time.strftime("[%H:%M:%S]"), msg, flush=True)


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    fail(f"timed out after {timeout} s waiting for {what}")


def read_events(path):
    evs = []
    try:
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a kill -9 can leave half a line
                evs.append(line.split())
    except FileNotFoundError:
        pass
    return evs


class Member:
    def __init__(self, client, bootstrap, topic, group, tmp, name, *extra):
        if os.environ.get("MEMBER_DEBUG") and client == "confluent":
            extra += ("debug=" + os.environ["MEMBER_DEBUG"],)
        self.name = name
        self.path = os.path.join(tmp, name + ".events")
        self.errlog = open(os.path.join(tmp, name + ".log"), "a")
        if client == "kafkajs":
            cmd = ["node", os.path.join(HERE, "member.js"), bootstrap, topic, group, self.path]
        else:
            cmd = ["/usr/bin/python3", os.path.join(HERE, "member.py"), client, bootstrap, topic, group, self.path]
        self.proc = subprocess.Popen(cmd + list(extra), stdout=self.errlog, stderr=subprocess.STDOUT)
        MEMBERS.append(self)

    def events(self):
        return read_events(self.path)

    def assignment(self):
        """Latest assignment (set of partitions) or None before the first."""
        last = None
        for e in self.events():
            if e[0] == "A":
                last = set() if e[2] == "-" else {int(p) for p in e[2].split(",")}
        return last

    def assign_count(self):
        return sum(1 for e in self.events() if e[0] == "A")

    def consumed(self):
        return sum(1 for e in self.events() if e[0] == "M")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30):
        """Clean leave: SIGTERM, must exit 0 within timeout."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail(f"member {self.name} did not exit within {timeout} s of SIGTERM")
        if rc != 0:
            fail(f"member {self.name} exited with {rc}; see {self.errlog.name}")
        if not self.events() or self.events()[-1][0] != "X":
            fail(f"member {self.name} did not finish cleanly")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


def exact_cover(members, nparts):
    """The live members' latest assignments split 0..nparts-1 exactly."""
    seen = []
    for m in members:
        a = m.assignment()
        if a is None:
            return False
        seen.extend(a)
    return sorted(seen) == list(range(nparts))


class NumberedProducer:
    """Produces "n" values (null keys, so spread over partitions) at ~rate/s until stopped."""

    def __init__(self, bootstrap, topic, rate=250):
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
        self.topic, self.rate = topic, rate
        self.delivered = set()
        self.errors = []
        self._stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _cb(self, err, msg):
        if err:
            self.errors.append(str(err))
        else:
            self.delivered.add((msg.partition(), msg.offset()))

    def _run(self):
        i = 0
        while not self._stop.is_set():
            self.p.produce(self.topic, value=str(i).encode(), on_delivery=self._cb)
            i += 1
            self.p.poll(0)
            time.sleep(1.0 / self.rate)
        self.p.flush(30)

    def stop(self):
        self._stop.set()
        self.t.join(60)
        if self.errors:
            fail(f"produce errors: {self.errors[:3]}")
        return self.delivered


def check_consumption(members, delivered, label):
    """Every delivered record consumed; nothing consumed below a commit that was
    acknowledged before it (across all members); returns the number of redeliveries."""
    consumed, commits = [], {}
    for m in members:
        for e in m.events():
            if e[0] == "M":
                consumed.append((int(e[1]), int(e[2]), int(e[3]), m.name))
            elif e[0] == "C":
                commits.setdefault(int(e[2]), []).append((int(e[1]), int(e[3])))
    seen = {(p, o) for _, p, o, _ in consumed}
    missing = delivered - seen
    if missing:
        fail(f"{label}: {len(missing)} produced records never consumed, e.g. {sorted(missing)[:5]}")
    for p in commits:
        commits[p].sort()
    dups = 0
    counts = {}
    for t, p, o, who in consumed:
        counts[(p, o)] = counts.get((p, o), 0) + 1
        floor = max((nxt for tc, nxt in commits.get(p, []) if tc < t), default=0)
        if o < floor:
            fail(f"{label}: {who} consumed partition {p} offset {o} after offset {floor} had been committed")
    dups = sum(c - 1 for c in counts.values())
    return dups


def committed_offsets(bootstrap, group, topic, nparts):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    res = c.committed([TopicPartition(topic, p) for p in range(nparts)], timeout=10)
    c.close()
    return {tp.partition: tp.offset for tp in res}


def high_watermarks(bootstrap, topic, nparts):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "gcheck-watermarks"})
    hw = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(nparts)}
    c.close()
    return hw
