"""Interop: Python's `websockets` (a client nobody here wrote) against /echo.

Usage: python3 interop/echo_websockets.py ws://127.0.0.1:PORT/echo
Prints 'interop websockets: N passed, M failed' and exits non-zero on any failure.
"""
import asyncio
import os
import sys

import websockets

from tally import Tally


async def main(url):
    tally = Tally("interop websockets")
    check = tally.check

    async with websockets.connect(url, max_size=None) as ws:
        for text in ["hello", "", "κόσμε", "x" * 70000]:
            await ws.send(text)
            check(f"text {len(text)}", await ws.recv() == text)
        for size in [0, 1, 125, 126, 65535, 65536, (1 << 20) - 64]:
            payload = os.urandom(size)
            await ws.send(payload)
            check(f"binary {size}", await ws.recv() == payload)
        # Fragmented message sent as an async iterator of fragments.
        await ws.send(["frag", "mented"])
        check("fragmented", await ws.recv() == "fragmented")
        pong = await ws.ping(b"abc")
        await asyncio.wait_for(pong, 5)
        check("ping", True)
        await ws.close(code=1000, reason="done")
        check("close code echoed", ws.close_code == 1000)
    return tally.report()


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1])) else 0)
