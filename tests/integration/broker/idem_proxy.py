#!/usr/bin/env python3
"""TCP proxy for test_idempotence.sh: forwards 127.0.0.1:LISTEN to
127.0.0.1:TARGET and cuts every connection after a random short lifetime,
so an idempotent producer sees lost responses and must retry.
Counts the connections it cut mid-stream in COUNT_FILE (rewritten on each cut)
so the test can assert the cuts really happened.
usage: idem_proxy.py LISTEN TARGET [min_life_s max_life_s [COUNT_FILE]]"""
import asyncio
import random
import sys

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
LO = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
HI = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
COUNT_FILE = sys.argv[5] if len(sys.argv) > 5 else None
cuts = 0


async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        w.close()


async def handle(cr, cw):
    try:
        br, bw = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        cw.close()
        return
    tasks = [asyncio.ensure_future(pipe(cr, bw)), asyncio.ensure_future(pipe(br, cw))]
    # The cut happens at an arbitrary point: often after the broker appended a
    # batch but before the producer read the response.
    done, pending = await asyncio.wait(tasks, timeout=random.uniform(LO, HI),
                                       return_when=asyncio.FIRST_COMPLETED)
    global cuts
    if len(pending) == 2 and COUNT_FILE:
        cuts += 1
        with open(COUNT_FILE, "w") as f:
            f.write(f"{cuts}\n")
    for t in pending:
        t.cancel()
    cw.close()
    bw.close()


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
