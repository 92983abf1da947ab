"""Minimal Kafka wire helpers for tests that need requests no installed client
sends (or must watch a single request on its own socket): framing, request
header v1, a bounded reader for responses, and ListOffsets v0 / Fetch v4,
which are non-flexible so they are written field by field here."""
import select
import socket
import struct


class WireError(Exception):
    pass


def connect(host, port, timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def string(v):
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def request(api_key, version, corr, body, client=b"sesp-it"):
    """A whole frame: size, request header v1 (non-flexible), body."""
    msg = struct.pack(">hhih", api_key, version, corr, len(client)) + client + body
    return struct.pack(">i", len(msg)) + msg


def read_frame(s, timeout):
    """The next response frame, or None if the peer closed first; raises
    WireError on timeout so a hung broker is not mistaken for a close."""
    def exact(n):
        b = b""
        while len(b) < n:
            r, _, _ = select.select([s], [], [], timeout)
            if not r:
                raise WireError(f"no data within {timeout} s")
            try:
                d = s.recv(n - len(b))
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not d:
                return None
            b += d
        return b
    h = exact(4)
    if h is None:
        return None
    (n,) = struct.unpack(">i", h)
    if n < 4 or n > 256 << 20:
        raise WireError(f"bad frame size {n}")
    body = exact(n)
    if body is None:
        raise WireError("connection closed inside a response frame")
    return body


class Reader:
    """Bounded reads over one response body; WireError past the end."""

    def __init__(self, b):
        self.b, self.pos = b, 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.b):
            raise WireError(f"read of {n} bytes at {self.pos} past the end ({len(self.b)})")
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def nbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, item):
        n = self.i32()
        if n < 0:
            return None
        if n > len(self.b):
            raise WireError(f"array count {n} larger than the body")
        return [item(self) for _ in range(n)]

    def done(self):
        if self.pos != len(self.b):
            raise WireError(f"{len(self.b) - self.pos} bytes left after the body")


def list_offsets_v0(topic, parts):
    """ListOffsets v0 body; parts: [(partition, timestamp, max_num_offsets)]."""
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + string(topic) + struct.pack(">i", len(parts))
    for p, ts, mx in parts:
        body += struct.pack(">iqi", p, ts, mx)
    return body


def parse_list_offsets_v0(resp, corr):
    """{(topic, partition): (error, [offsets])} from a v0 response frame."""
    r = Reader(resp)
    if r.i32() != corr:
        raise WireError("correlation id mismatch")
    out = {}

    def part(r, topic):
        p, err = r.i32(), r.i16()
        offs = r.array(lambda r: r.i64())
        if offs is None:
            raise WireError("null old_style_offsets")
        out[(topic, p)] = (err, offs)

    def topic(r):
        name = r.string()
        r.array(lambda r: part(r, name))

    r.array(topic)
    r.done()
    return out


def fetch_v4(topic, partition, offset, max_wait_ms, min_bytes, max_bytes):
    return (struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, 0) + struct.pack(">i", 1) + string(topic) +
            struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes))


def parse_fetch_v4(resp, corr):
    """[(topic, partition, error, high_watermark, records)] from a v4 frame;
    records must be whole RecordBatch v2 batches (magic 2), checked here."""
    r = Reader(resp)
    if r.i32() != corr:
        raise WireError("correlation id mismatch")
    r.i32()  # throttle_time_ms
    out = []

    def part(r, topic):
        p, err, hw = r.i32(), r.i16(), r.i64()
        r.i64()  # last_stable_offset
        r.array(lambda r: (r.i64(), r.i64()))  # aborted transactions
        recs = r.nbytes() or b""
        pos = 0
        while pos < len(recs):
            if pos + 17 > len(recs):
                raise WireError("partial batch header in fetch records")
            base, length = struct.unpack(">qi", recs[pos:pos + 12])
            if recs[pos + 16] != 2 or length < 49 or pos + 12 + length > len(recs):
                raise WireError(f"bad batch at {pos}: base {base} length {length}")
            pos += 12 + length
        out.append((topic, p, err, hw, recs))

    def topic(r):
        name = r.string()
        r.array(lambda r: part(r, name))

    r.array(topic)
    r.done()
    return out
