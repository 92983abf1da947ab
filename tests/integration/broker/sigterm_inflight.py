#!/usr/bin/python3
"""SIGTERM with requests in flight: a Fetch parked in long-poll (max_wait_ms
30000, min_bytes far above what exists) on its own connection while an
acks=all producer keeps sending on another; this script sends SIGTERM to the
broker and requires the parked Fetch to be answered with a well-formed
response (not a closed socket) well before its 30 s wait could expire.
It writes the acknowledged (offset, value) pairs to ACKED_FILE, one per
line, for the after-restart check.
Usage: sigterm_inflight.py HOST PORT BROKER_PID ACKED_FILE"""
import os
import select
import signal
import sys
import threading
import time

from kafka import KafkaProducer

import kwire

HOST, PORT, PID, ACKED = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
TOPIC = "sigterm"
MAX_WAIT_MS, MIN_BYTES = 30000, 64 << 20


def fail(msg):
    print("FAIL:", msg)
    os._exit(1)


acked, failed, lock = [], [0], threading.Lock()
stop = threading.Event()


def on_ok(value, md):
    with lock:
        acked.append((md.offset, value))


def on_err(_e):
    with lock:
        failed[0] += 1


def produce():
    # retries=0: a send the broker did not acknowledge stays unacknowledged,
    # so the restart check covers exactly what the broker confirmed.
    p = KafkaProducer(bootstrap_servers=f"{HOST}:{PORT}", acks="all", retries=0, linger_ms=0,
                      max_in_flight_requests_per_connection=5, request_timeout_ms=5000)
    i = 0
    while not stop.is_set():
        v = b"m-%06d" % i
        p.send(TOPIC, value=v).add_callback(on_ok, v).add_errback(on_err)
        i += 1
        time.sleep(0.002)
    p.close(timeout=3)


t = threading.Thread(target=produce, daemon=True)
t.start()
deadline = time.time() + 20
while time.time() < deadline:
    with lock:
        if len(acked) >= 200:
            break
    time.sleep(0.05)
else:
    fail(f"producer got only {len(acked)} acknowledgements before the test")

# Park the Fetch: from offset 0 the partition holds some KB, far below
# min_bytes, so the broker must hold it for max_wait_ms.
f = kwire.connect(HOST, PORT)
f.sendall(kwire.request(1, 4, 4242, kwire.fetch_v4(TOPIC, 0, 0, MAX_WAIT_MS, MIN_BYTES, MIN_BYTES)))
sent_at = time.time()
r, _, _ = select.select([f], [], [], 1.5)
if r:
    fail("the Fetch was answered (or its connection closed) before SIGTERM: not parked")
with lock:
    before = len(acked)
os.kill(PID, signal.SIGTERM)
term_at = time.time()
try:
    resp = kwire.read_frame(f, 15)
except kwire.WireError as e:
    fail(f"parked Fetch after SIGTERM: {e}")
if resp is None:
    fail("parked Fetch: connection closed by the broker without a response")
got_at = time.time()
try:
    parts = kwire.parse_fetch_v4(resp, 4242)
except kwire.WireError as e:
    fail(f"parked Fetch: malformed response: {e}")
if len(parts) != 1 or parts[0][:3] != (TOPIC, 0, 0):
    fail(f"parked Fetch: unexpected response {[(x[0], x[1], x[2]) for x in parts]}")
if got_at - sent_at > MAX_WAIT_MS / 1000 * 0.8:
    fail(f"parked Fetch answered after {got_at - sent_at:.1f} s: by its timeout, not by the shutdown")
print(f"parked Fetch answered {got_at - term_at:.2f} s after SIGTERM "
      f"({got_at - sent_at:.1f} s after it was sent): high watermark {parts[0][3]}, {len(parts[0][4])} bytes of records")

stop.set()
t.join(20)
with lock:
    print(f"producer: {before} acknowledged before SIGTERM, {len(acked)} in all, {failed[0]} failed")
    with open(ACKED, "w") as out:
        for off, v in acked:
            out.write(f"{off} {v.decode()}\n")
f.close()
print("PASS sigterm_inflight")
