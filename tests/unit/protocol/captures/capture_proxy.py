#!/usr/bin/env python3
"""TCP proxy that records the Kafka request frames real clients send.

Usage: capture_proxy.py LISTEN_PORT UPSTREAM_HOST:UPSTREAM_PORT OUT_DIR

Every byte is forwarded unchanged in both directions.  Each request frame a
client sends (the 4-byte size prefix stripped) is also written to
OUT_DIR/CCC-SSSS-kKEY-vVER-cCORR.bin (CCC: connection number, SSSS: frame
number on that connection) and listed in OUT_DIR/index.txt as
"file api_key api_version correlation_id client_id length".

The broker behind the proxy must advertise the proxy's address
(advertised.listeners), or clients would leave the proxy after bootstrap.
Stops on SIGTERM/SIGINT.  Standard library only.
"""
import os
import signal
import socket
import struct
import sys
import threading

lock = threading.Lock()
conn_seq = [0]


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def client_to_broker(c, u, conn, out_dir, index):
    seq = 0
    try:
        while True:
            hdr = recv_exact(c, 4)
            if hdr is None:
                break
            n = struct.unpack(">i", hdr)[0]
            frame = recv_exact(c, n) if n > 0 else b""
            if frame is None:
                break
            if len(frame) >= 8:
                key, ver, corr = struct.unpack(">hhi", frame[:8])
                cid = ""
                if len(frame) >= 10:
                    cl = struct.unpack(">h", frame[8:10])[0]
                    if cl >= 0:
                        cid = frame[10:10 + cl].decode("utf-8", "replace")
                name = "%03d-%04d-k%d-v%d-c%d.bin" % (conn, seq, key, ver, corr)
                with open(os.path.join(out_dir, name), "wb") as f:
                    f.write(frame)
                with lock:
                    index.write("%s %d %d %d %s %d\n" % (name, key, ver, corr, cid or "-", len(frame)))
                    index.flush()
            seq += 1
            u.sendall(hdr + frame)
    except OSError:
        pass
    finally:
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def broker_to_client(u, c):
    try:
        while True:
            b = u.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    finally:
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port = int(sys.argv[1])
    uhost, uport = sys.argv[2].rsplit(":", 1)
    out_dir = sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    index = open(os.path.join(out_dir, "index.txt"), "a")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    try:
        while True:
            c, _ = ls.accept()
            try:
                u = socket.create_connection((uhost, int(uport)))
            except OSError:
                c.close()
                continue
            with lock:
                conn_seq[0] += 1
                conn = conn_seq[0]
            threading.Thread(target=client_to_broker, args=(c, u, conn, out_dir, index), daemon=True).start()
            threading.Thread(target=broker_to_client, args=(u, c), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
