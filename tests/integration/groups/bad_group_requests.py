#!/usr/bin/python3
"""Hand-encoded group requests with bad fields against a real broker: each
gets the error Kafka gives (or, for absurd sizes, some error), never a crash
or a hang, and the broker keeps serving afterwards.  Usage: HOST PORT"""
import os
import socket
import struct
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
JOIN_GROUP, HEARTBEAT, SYNC_GROUP, LEAVE_GROUP, API_VERSIONS = 11, 12, 14, 13, 18
UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, MEMBER_ID_REQUIRED = 25, 22, 79


def fail(msg):
    print("FAIL:", msg)
    os._exit(1)


def s16(b):
    return struct.pack(">h", len(b)) + b


def nstr(b):  # nullable string
    return struct.pack(">h", -1) if b is None else s16(b)


def byts(b):
    return struct.pack(">i", len(b)) + b


class Conn:
    def __init__(self):
        self.s = socket.create_connection((HOST, PORT), timeout=30)
        self.corr = 0

    def call(self, api, ver, body):
        self.corr += 1
        hdr = struct.pack(">hhi", api, ver, self.corr) + s16(b"bad-group")
        req = hdr + body
        self.s.sendall(struct.pack(">i", len(req)) + req)
        n = struct.unpack(">i", self.exact(4))[0]
        resp = self.exact(n)
        corr = struct.unpack(">i", resp[:4])[0]
        if corr != self.corr:
            fail(f"api {api}: correlation id {corr}, expected {self.corr}")
        return resp[4:]

    def exact(self, n):
        b = b""
        while len(b) < n:
            d = self.s.recv(n - len(b))
            if not d:
                raise ConnectionError("connection closed while reading a response")
            b += d
        return b


def join(c, group, member, meta=b"\x00\x01", instance=None):
    """JoinGroup v5; returns (error, generation, member_id)."""
    body = (s16(group) + struct.pack(">ii", 6000, 6000) + s16(member) + nstr(instance) + s16(b"consumer")
            + struct.pack(">i", 1) + s16(b"range") + byts(meta))
    r = c.call(JOIN_GROUP, 5, body)
    _throttle, err, gen = struct.unpack(">ihi", r[:10])
    off = 10
    (pl,) = struct.unpack(">h", r[off:off + 2])
    off += 2 + max(pl, 0)            # protocol name
    (ll,) = struct.unpack(">h", r[off:off + 2])
    off += 2 + max(ll, 0)            # leader
    (ml,) = struct.unpack(">h", r[off:off + 2])
    member_id = r[off + 2:off + 2 + ml]
    return err, gen, member_id


def heartbeat(c, group, gen, member):
    r = c.call(HEARTBEAT, 3, s16(group) + struct.pack(">i", gen) + s16(member) + nstr(None))
    return struct.unpack(">ih", r[:6])[1]


def sync(c, group, gen, member):
    body = s16(group) + struct.pack(">i", gen) + s16(member) + nstr(None) + struct.pack(">i", 1) + s16(member) + byts(b"")
    r = c.call(SYNC_GROUP, 3, body)
    return struct.unpack(">ih", r[:6])[1]


def full_join(c, group):
    err, _, mid = join(c, group, b"")
    if err != MEMBER_ID_REQUIRED or not mid:
        fail(f"first JoinGroup v5 with an empty member id: error {err}, member id {mid!r} (expected 79 and an id)")
    err, gen, mid2 = join(c, group, mid)
    if err != 0 or mid2 != mid or gen < 1:
        fail(f"JoinGroup with the given member id: error {err}, generation {gen}, member {mid2!r}")
    err = sync(c, group, gen, mid)
    if err != 0:
        fail(f"SyncGroup as leader: error {err}")
    return gen, mid


c = Conn()

# A member id the coordinator never handed out, for a group that does not exist
# and for one that does.
err, _, _ = join(c, b"bad-g-none", b"consumer-made-up-1234")
if err != UNKNOWN_MEMBER_ID:
    fail(f"JoinGroup with an unknown member id (new group): error {err}, expected {UNKNOWN_MEMBER_ID}")
gen, mid = full_join(c, b"bad-g")
err, _, _ = join(c, b"bad-g", b"consumer-made-up-5678")
if err != UNKNOWN_MEMBER_ID:
    fail(f"JoinGroup with an unknown member id (existing group): error {err}, expected {UNKNOWN_MEMBER_ID}")
print("unknown member id -> UNKNOWN_MEMBER_ID")

# Heartbeats: the right generation is fine, any other is ILLEGAL_GENERATION.
if heartbeat(c, b"bad-g", gen, mid) != 0:
    fail("heartbeat with the right generation failed")
for bad in (gen + 1, gen + 1000, -5):
    err = heartbeat(c, b"bad-g", bad, mid)
    if err != ILLEGAL_GENERATION:
        fail(f"heartbeat with generation {bad} (current {gen}): error {err}, expected {ILLEGAL_GENERATION}")
err = heartbeat(c, b"bad-g", gen, b"nobody")
if err != UNKNOWN_MEMBER_ID:
    fail(f"heartbeat from an unknown member: error {err}, expected {UNKNOWN_MEMBER_ID}")
print("wrong generation -> ILLEGAL_GENERATION")

# Huge protocol metadata (4 MiB, under socket.request.max.bytes): an error, not a crash.
for group in (b"bad-g-huge", b"bad-g"):
    member = b"" if group == b"bad-g-huge" else mid
    err, _, _ = join(c, group, member, meta=os.urandom(4 << 20))
    if err == 0:
        fail(f"JoinGroup with 4 MiB of protocol metadata to {group!r} was accepted")
    print(f"huge metadata to {group.decode()} -> error {err}")

# A lying metadata length: the frame ends before the bytes it announces.
body = (s16(b"bad-g-lie") + struct.pack(">ii", 6000, 6000) + s16(b"") + nstr(None) + s16(b"consumer")
        + struct.pack(">i", 1) + s16(b"range") + struct.pack(">i", 1 << 30) + b"xx")
try:
    c.call(JOIN_GROUP, 5, body)
    # An error answer is fine too; the point is that the broker survives.
except ConnectionError:
    pass

# The broker keeps serving: a fresh connection joins, heartbeats and leaves.
c2 = Conn()
gen2, mid2 = full_join(c2, b"bad-g-after")
if heartbeat(c2, b"bad-g-after", gen2, mid2) != 0:
    fail("heartbeat after the bad requests failed")
# The group joined before the bad requests is still intact.
c3 = Conn()
if heartbeat(c3, b"bad-g", gen, mid) != 0:
    fail("the earlier member lost its membership after the bad requests")
print("PASS bad group requests")
