#!/usr/bin/python3
"""Hand-made bad frames against a real broker: each must close (only) the
offending connection, while a well-behaved producer on another connection
keeps producing and the broker keeps answering.  Usage: bad_frames.py HOST PORT"""
import os
import socket
import struct
import sys
import threading
import time

from kafka import KafkaProducer

HOST, PORT = sys.argv[1], int(sys.argv[2])


def fail(msg):
    print("FAIL:", msg)
    os._exit(1)


def conn():
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.settimeout(5)
    return s


def closed_by_peer(s, timeout=5.0):
    """True if the broker closes the connection (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def header(api_key, version, corr, client=b"bad-frames"):
    return struct.pack(">hhih", api_key, version, corr, len(client)) + client


def frame(body):
    return struct.pack(">i", len(body)) + body


def read_frame(s):
    def exact(n):
        b = b""
        while len(b) < n:
            d = s.recv(n - len(b))
            if not d:
                fail("connection closed while reading a response")
            b += d
        return b
    (n,) = struct.unpack(">i", exact(4))
    return exact(n)


stop = threading.Event()
produced = {"n": 0, "err": None}


def background_producer():
    try:
        p = KafkaProducer(bootstrap_servers=f"{HOST}:{PORT}", acks=1, linger_ms=0)
        while not stop.is_set():
            p.send("bad-frames-bg", value=b"still-serving").get(timeout=10)
            produced["n"] += 1
        p.close()
    except Exception as e:  # noqa: BLE001 - reported below
        produced["err"] = repr(e)


t = threading.Thread(target=background_producer, daemon=True)
t.start()
time.sleep(2)
before = produced["n"]
if before == 0:
    fail(f"background producer made no progress before the bad frames: {produced['err']}")

cases = {
    "negative length": struct.pack(">i", -5) + b"abcde",
    "huge length": struct.pack(">i", 0x7FFFFFF0) + b"\x00" * 100,
    "unknown api key": frame(header(9999, 0, 1)),
    "unsupported version of Metadata": frame(header(3, 999, 2)),
    "garbage after a valid header": frame(header(3, 1, 3) + b"\xff\xff\xff\x7f" + os.urandom(64)),
    "header cut inside client id": frame(struct.pack(">hhih", 3, 1, 4, 300) + b"abc"),
    "empty frame": frame(b""),
    "three bytes of frame": frame(b"\x00\x03\x00"),
}
for name, data in cases.items():
    s = conn()
    s.sendall(data)
    if not closed_by_peer(s):
        fail(f"{name}: connection not closed")
    s.close()
    print(f"{name}: closed")

# Truncated body: promise 100 bytes, send 10, hang up. Nothing to observe but survival.
s = conn()
s.sendall(struct.pack(">i", 100) + b"\x00" * 10)
s.close()

# KIP-511: ApiVersions at a version we don't know gets UNSUPPORTED_VERSION in v0 form.
s = conn()
s.sendall(frame(header(18, 127, 77)))
resp = read_frame(s)
corr, err = struct.unpack(">ih", resp[:6])
if corr != 77 or err != 35:
    fail(f"ApiVersions v127: correlation {corr} error {err}, expected 77 and 35")
(n_keys,) = struct.unpack(">i", resp[6:10])
if n_keys < 0 or len(resp) < 10 + 6 * n_keys:
    fail(f"ApiVersions v127: malformed api list ({n_keys} keys in {len(resp)} bytes)")
keys = {struct.unpack(">hhh", resp[10 + 6 * i:16 + 6 * i])[0] for i in range(n_keys)}
if not {0, 1, 2, 3, 18} <= keys:
    fail(f"ApiVersions v127: api list {sorted(keys)} lacks Produce/Fetch/ListOffsets/Metadata/ApiVersions")
print("ApiVersions v127: UNSUPPORTED_VERSION with the api list")
# The same connection still works for a valid ApiVersions v0.
s.sendall(frame(header(18, 0, 78)))
resp = read_frame(s)
corr, err = struct.unpack(">ih", resp[:6])
if corr != 78 or err != 0:
    fail(f"ApiVersions v0 after v127: correlation {corr} error {err}")
s.close()

time.sleep(2)
stop.set()
t.join(15)
if produced["err"]:
    fail(f"background producer failed: {produced['err']}")
if produced["n"] <= before:
    fail("background producer made no progress during the bad frames")
print(f"background producer: {produced['n']} acknowledged sends, kept serving")
print("PASS bad_frames")
