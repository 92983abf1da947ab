#!/usr/bin/env python3
# How the frames in test_wire.c were captured: run this fake broker, then
#   kcat -b 127.0.0.1:19092 -L ; echo hello-sesp | kcat -b 127.0.0.1:19092 -P -t sesptest -k key1
#   /usr/bin/python3 -c "from kafka import KafkaClient; KafkaClient(bootstrap_servers='127.0.0.1:19092', client_id='kpy-client').check_version()"
# Frames (without size prefix) are appended as "api_key version hex" to /tmp/cap/frames.txt.
import socket, struct, threading, sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 19092
import os
os.makedirs('/tmp/cap', exist_ok=True)
out = open('/tmp/cap/frames.txt', 'a')
lock = threading.Lock()
APIS = [(0, 0, 9), (1, 0, 11), (3, 0, 4), (18, 0, 3), (2, 0, 5), (8, 0, 7), (9, 0, 5), (10, 0, 3)]
def uvar(n):
    b = b''
    while True:
        x = n & 0x7f; n >>= 7
        if n: b += bytes([x | 0x80])
        else: return b + bytes([x])
def s16(s): return struct.pack('>h', len(s)) + s.encode()
def api_versions(v):
    if v >= 3:
        body = struct.pack('>h', 0) + uvar(len(APIS) + 1)
        for k, lo, hi in APIS: body += struct.pack('>hhh', k, lo, hi) + b'\0'
        return body + struct.pack('>i', 0) + b'\0'
    body = struct.pack('>hi', 0, len(APIS))
    for k, lo, hi in APIS: body += struct.pack('>hhh', k, lo, hi)
    if v >= 1: body += struct.pack('>i', 0)
    return body
def metadata(v, topics):
    assert v <= 4
    b = b''
    if v >= 3: b += struct.pack('>i', 0)
    b += struct.pack('>i', 1) + struct.pack('>i', 1) + s16('127.0.0.1') + struct.pack('>i', PORT)
    if v >= 1: b += struct.pack('>h', -1)
    if v >= 2: b += s16('testcluster')
    if v >= 1: b += struct.pack('>i', 1)
    b += struct.pack('>i', len(topics))
    for t in topics:
        b += struct.pack('>h', 0) + s16(t)
        if v >= 1: b += b'\0'
        b += struct.pack('>i', 1) + struct.pack('>hii', 0, 0, 1) + struct.pack('>ii', 1, 1) + struct.pack('>ii', 1, 1)
    return b
def parse_md_topics(body, v):
    n = struct.unpack('>i', body[:4])[0]; p = 4; ts = []
    for _ in range(max(n, 0)):
        l = struct.unpack('>h', body[p:p+2])[0]; ts.append(body[p+2:p+2+l].decode()); p += 2 + l
    return ts
def handle(c):
    try:
        while True:
            hdr = c.recv(4, socket.MSG_WAITALL)
            if len(hdr) < 4: return
            n = struct.unpack('>i', hdr)[0]
            f = c.recv(n, socket.MSG_WAITALL)
            key, ver, corr = struct.unpack('>hhi', f[:8])
            with lock:
                out.write('%d %d %s\n' % (key, ver, f.hex())); out.flush()
            cl = struct.unpack('>h', f[8:10])[0]
            body = f[10 + max(cl, 0):]
            if key == 18:
                resp = struct.pack('>i', corr) + api_versions(ver)
            elif key == 3:
                ts = parse_md_topics(body, ver) or ['test']
                resp = struct.pack('>i', corr) + metadata(ver, ts)
            else:
                continue
            c.sendall(struct.pack('>i', len(resp)) + resp)
    finally:
        c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', PORT)); s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
