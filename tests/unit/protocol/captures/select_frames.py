#!/usr/bin/env python3
"""Picks the committed frames out of a capture run and writes the fuzz seeds.

Usage: select_frames.py RAW_DIR CAPTURE_DIR FUZZ_CORPUS_DIR

RAW_DIR holds one sub-directory per scenario written by capture_proxy.py.  For
each (scenario, api key) listed in WANT, the largest frame of that key (the
first among equals) is copied to CAPTURE_DIR/<client>-<api>-v<version>.bin;
JoinGroup also keeps its first frame (empty member id) as ...-v<version>-first.bin
when the client had to rejoin (MEMBER_ID_REQUIRED, JoinGroup v4+).
Each selected frame is also written to FUZZ_CORPUS_DIR as the fuzz target's
input: api key (2 bytes), version (2 bytes), then the body after the header.
"""
import os
import struct
import sys

APIS = {0: "produce", 1: "fetch", 2: "listoffsets", 3: "metadata", 8: "offsetcommit", 9: "offsetfetch",
        10: "findcoordinator", 11: "joingroup", 12: "heartbeat", 13: "leavegroup", 14: "syncgroup",
        18: "apiversions", 19: "createtopics", 22: "initproducerid", 32: "describeconfigs"}
GROUP = [1, 2, 8, 9, 10, 11, 12, 13, 14]
WANT = {
    "rdk-admin": ("rdk", [19, 32]),
    "rdk-idempotent": ("rdk", [22, 0]),
    "rdk-group": ("rdk", GROUP),
    "kpy-produce": ("kpy", [0]),
    "kpy-group": ("kpy", GROUP),
    "kjs": ("kjs", [18, 3, 0] + GROUP),
}
# First request version with header v2 (flexible) per api key, for the seeds.
FLEX = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 18: 3, 19: 5, 22: 2, 32: 4}


def body_offset(frame):
    key, ver = struct.unpack(">hh", frame[:4])
    cl = struct.unpack(">h", frame[8:10])[0]
    off = 10 + max(cl, 0)
    if ver >= FLEX[key]:
        assert frame[off] == 0, "header tagged fields"
        off += 1
    return off


def main():
    raw, cap, fuzz = sys.argv[1:4]
    for sc, (client, keys) in WANT.items():
        idx = [l.split() for l in open(os.path.join(raw, sc, "index.txt"))]
        for key in keys:
            frames = [(int(r[5]), i, r) for i, r in enumerate(idx) if int(r[1]) == key]
            if not frames:
                sys.exit("%s: no frame with api key %d" % (sc, key))
            picks = [("", max(frames, key=lambda f: (f[0], -f[1]))[2])]
            if key == 11 and frames[0][2] is not picks[0][1]:
                picks.append(("-first", frames[0][2]))
            for suffix, r in picks:
                data = open(os.path.join(raw, sc, r[0]), "rb").read()
                ver = int(r[2])
                name = "%s-%s-v%d%s" % (client, APIS[key], ver, suffix)
                with open(os.path.join(cap, name + ".bin"), "wb") as f:
                    f.write(data)
                seed = "cap_%s_%d_v%d%s_%08d" % (client, key, ver, suffix.replace("-", "_"), int(r[3]))
                with open(os.path.join(fuzz, seed), "wb") as f:
                    f.write(data[:4] + data[body_offset(data):])
                print("%-34s corr %-3s %s" % (name + ".bin", r[3], r[0]))


if __name__ == "__main__":
    main()
