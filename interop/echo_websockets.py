"""Interop: Python's `websockets` (a client nobody here wrote) against /echo.

Usage: python3 interop/echo_websockets.py ws://127.0.0.1:PORT/echo
Prints 'interop websockets: N passed, M failed' and exits non-zero on any failure.
"""
import asyncio
import json
import os
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from tally import Tally


async def main(url):
    tally = Tally("interop websockets")
    # permessage-deflate (issue 17): websockets offers it by default; bus answers it. Then a
    # 10-bit server window (its own shared encoding), then without the extension.
    for name, compression in [("deflate", "deflate"), ("deflate window 10", [ClientPerMessageDeflateFactory(server_max_window_bits=10)]),
                              ("plain", None)]:
        await run(url, tally, name, compression)
    return tally.report()


async def run(url, tally, name, compression):
    def check(what, ok):
        tally.check(f"{name}: {what}", ok)

    options = {"compression": compression} if isinstance(compression, str) or compression is None else {"extensions": compression, "compression": None}
    async with websockets.connect(url, max_size=None, **options) as ws:
        answered = ws.response.headers.get("Sec-WebSocket-Extensions")
        check(f"extension answer {answered!r}", (answered is not None and answered.startswith("permessage-deflate")) == (compression is not None))
        if name == "deflate window 10":
            check("window 10 answered", "server_max_window_bits=10" in (answered or ""))
        document = json.dumps([{"user": f"u{i % 7}", "text": f"line {i} of a chat that repeats itself", "ts": 1764763200 + i}
                               for i in range(300)])
        await ws.send(document)
        check("json document", await ws.recv() == document)
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


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1])) else 0)
