"""Interop: Python's `websockets` (a client nobody here wrote) speaking bus.v1 on /bus.

Usage: python3 interop/bus_websockets.py ws://127.0.0.1:PORT/bus
Written from Protocol.md alone: subprotocol negotiation, the welcome, subscribe/publish acks,
JSON and binary publishes delivered byte for byte, sequence numbers without gaps within one
epoch, error envelopes (with the request's id) that leave the connection open, and a pattern
resumed from its cursor. Unknown keys in server envelopes are ignored, as Protocol.md asks.
Prints 'interop bus websockets: N passed, M failed' and exits non-zero on any failure.
"""
import asyncio
import json
import os
import struct
import sys

from tally import Tally

try:
    import websockets
except ImportError:
    # Skipped with a visible message on a bare machine; a failure under BUS_REQUIRE_ALL=1 (.ci/run).
    if os.environ.get("BUS_REQUIRE_ALL") == "1":
        print("FAILED: python websockets is missing, and BUS_REQUIRE_ALL=1 makes that a failure")
        sys.exit(1)
    print("SKIPPED: interop bus websockets: python websockets is missing (pip install websockets)")
    sys.exit(0)

# A fresh topic prefix per run, so sequence numbers start at 1 even on a reused server.
PREFIX = "interop.py." + os.urandom(4).hex()


def parse_binary_message(frame):
    """Protocol.md "binary message": 0x02, epoch length, epoch, seq (8), topic length (2), topic, payload."""
    if len(frame) < 2 or frame[0] != 0x02:
        raise ValueError(f"not a binary message: {frame[:8]!r}")
    i = 1
    epoch_length = frame[i]
    i += 1
    epoch = frame[i:i + epoch_length].decode("ascii")
    i += epoch_length
    (seq,) = struct.unpack_from(">Q", frame, i)
    i += 8
    (topic_length,) = struct.unpack_from(">H", frame, i)
    i += 2
    topic = frame[i:i + topic_length].decode("utf-8")
    return topic, epoch, seq, frame[i + topic_length:]


def binary_publish(topic, payload, id=None):
    """Protocol.md "binary publish": 0x01, flags (bit 0: id follows), [id length, id], topic length (2), topic, payload."""
    topic_bytes = topic.encode()
    header = bytes([0x01, 0x01 if id else 0x00])
    if id:
        header += bytes([len(id.encode())]) + id.encode()
    return header + struct.pack(">H", len(topic_bytes)) + topic_bytes + payload


def has(envelope, **expected):
    """The envelope holds these keys and values (others are allowed: clients ignore unknown keys)."""
    return all(envelope.get(k) == v for k, v in expected.items())


async def resume_pattern(url, check, recv_json):
    """Protocol.md "Resuming a pattern": cut off, messages on old and new topics meanwhile, resumed
    from the last checkpoint and the positions received after it: each message exactly once."""
    pattern = PREFIX + ".resume.>"
    topics = [PREFIX + ".resume.t%d" % n for n in range(6)]
    async with websockets.connect(url, subprotocols=["bus.v1"]) as pub:
        await recv_json(pub)
        sub = await websockets.connect(url, subprotocols=["bus.v1"])
        await recv_json(sub)
        await sub.send(json.dumps({"type": "subscribe", "id": "c1", "topic": pattern, "checkpoints": True}))
        _, ack = await recv_json(sub)
        check("checkpoints ack carries a cursor", has(ack, type="ack", id="c1") and isinstance(ack.get("cursor"), str), ack)
        cursor, positions, received = ack["cursor"], {}, {}

        def take(message):
            nonlocal cursor, positions
            if message.get("type") == "checkpoint":
                cursor, positions = message["cursor"], {}
            elif message.get("type") == "message":
                positions[message["topic"]] = (message["epoch"], message["seq"])
                received.setdefault(message["topic"], []).append(message["seq"])

        for n in range(12):
            await pub.send(json.dumps({"type": "publish", "topic": topics[n % 3], "data": n}))
        while sum(len(v) for v in received.values()) < 12:
            take((await recv_json(sub))[1])
        await sub.close()
        for n in range(12, 24):  # three old topics and three new ones
            await pub.send(json.dumps({"type": "publish", "id": n, "topic": topics[n % 6], "data": n}))
            await recv_json(pub)
        sub = await websockets.connect(url, subprotocols=["bus.v1"])
        await recv_json(sub)
        since = {"cursor": cursor, "positions": [{"topic": t, "epoch": e, "seq": s} for t, (e, s) in positions.items()]}
        await sub.send(json.dumps({"type": "subscribe", "id": "c2", "topic": pattern, "since": since}))
        while True:
            _, message = await recv_json(sub)
            if message.get("type") == "ack":
                check("resume ack: recovered", has(message, id="c2", recovered=True) and "cursor" in message, message)
                break
            take(message)
        while sum(len(v) for v in received.values()) < 24:
            take((await recv_json(sub))[1])
        check("resumed pattern: every topic in order, no gap, no duplicate",
              all(seqs == list(range(1, len(seqs) + 1)) for seqs in received.values()) and len(received) == 6, received)
        await sub.close()


async def main(url):
    tally = Tally("interop bus websockets")
    check = tally.check

    async def recv_json(ws):
        frame = await asyncio.wait_for(ws.recv(), 10)
        if not isinstance(frame, str):
            raise AssertionError(f"expected a text frame, got {len(frame)} binary bytes")
        return frame, json.loads(frame)

    async with websockets.connect(url, subprotocols=["bus.v1"], max_size=None) as sub, \
            websockets.connect(url, subprotocols=["bus.v1"], max_size=None) as pub:
        check("subprotocol bus.v1 selected", sub.subprotocol == "bus.v1" and pub.subprotocol == "bus.v1")
        # websockets offers permessage-deflate by default: every message below goes both ways
        # compressed (issue 17), the large random payloads compressed by the client too.
        extensions = [ws.response.headers.get("Sec-WebSocket-Extensions", "") for ws in (sub, pub)]
        check("permessage-deflate negotiated", all(e.startswith("permessage-deflate") for e in extensions), extensions)
        for name, ws in (("subscriber", sub), ("publisher", pub)):
            _, welcome = await recv_json(ws)
            check(f"{name} welcome", welcome.get("type") == "welcome" and welcome.get("protocol") == "bus.v1"
                  and isinstance(welcome.get("max_message_size"), int), welcome)
            max_payload = welcome["max_payload"]

        # Two overlapping subscriptions: each message must still arrive once.
        await sub.send(json.dumps({"type": "subscribe", "id": "s1", "topic": PREFIX + ".>"}))
        _, ack = await recv_json(sub)
        check("pattern subscribe ack", has(ack, type="ack", id="s1", op="subscribe", topic=PREFIX + ".>"), ack)
        await sub.send(json.dumps({"type": "subscribe", "id": 2, "topic": PREFIX + ".json"}))
        _, ack = await recv_json(sub)
        check("literal subscribe ack has position", ack.get("id") == 2 and ack.get("seq") == 0
              and isinstance(ack.get("epoch"), str), ack)
        epoch = ack.get("epoch")

        # JSON publishes: data must reach the subscriber exactly as sent (spacing, escapes, order).
        datas = ['{ "text" : "hi",  "n":[1, 2.50, -0e3 ,true,null] }', '"κόσμε \\u00e9 \\ud83d\\ude00"',
                 "42", '"' + "x" * 100_000 + '"', "[]"]
        acks = []
        for n, data in enumerate(datas):
            await pub.send('{"type":"publish","id":%d,"topic":"%s.json","data":%s}' % (100 + n, PREFIX, data))
            _, ack = await recv_json(pub)
            acks.append(ack)
        check("publish acks in order with seq 1..n", [(a.get("id"), a.get("seq")) for a in acks]
              == [(100 + n, n + 1) for n in range(len(datas))], acks)
        check("publish acks carry the epoch", all(a.get("epoch") == epoch for a in acks), acks[0])
        check("subscribers counts both matching patterns", all(a.get("subscribers") == 2 for a in acks), acks[0])
        for n, data in enumerate(datas):
            raw, message = await recv_json(sub)
            check(f"json message {n} envelope", message.get("type") == "message" and message.get("topic") == PREFIX + ".json"
                  and message.get("epoch") == epoch and message.get("seq") == n + 1, raw[:120])
            check(f"json message {n} data byte-exact", raw.endswith('"data":' + data + "}"), raw[-80:])

        # Binary publishes, acked with the id as a JSON string, delivered byte for byte.
        sizes = [0, 1, 125, 126, 65535, 65536, 500_000, max_payload]
        payloads = [os.urandom(size) for size in sizes]
        for n, payload in enumerate(payloads):
            await pub.send(binary_publish(PREFIX + ".bin", payload, id=f"b{n}"))
            _, ack = await recv_json(pub)
            check(f"binary ack {n}", ack.get("id") == f"b{n}" and ack.get("op") == "publish"
                  and ack.get("seq") == n + 1 and ack.get("subscribers") == 1, ack)
        bin_epoch = None
        for n, payload in enumerate(payloads):
            frame = await asyncio.wait_for(sub.recv(), 10)
            check(f"binary message {n} is a binary frame", isinstance(frame, bytes))
            if not isinstance(frame, bytes):
                continue
            topic, message_epoch, seq, body = parse_binary_message(frame)
            bin_epoch = bin_epoch or message_epoch
            check(f"binary message {n} header", topic == PREFIX + ".bin" and seq == n + 1 and message_epoch == bin_epoch,
                  (topic, seq))
            check(f"binary message {n} payload byte-exact ({len(payload)} bytes)", body == payload)
        # A binary publish without an id is not acked; the next ack is the next request's.
        await pub.send(binary_publish(PREFIX + ".bin", b"\x00quiet"))
        frame = await asyncio.wait_for(sub.recv(), 10)
        check("binary publish without id delivered", isinstance(frame, bytes) and parse_binary_message(frame)[3] == b"\x00quiet")

        # Bad requests: an error envelope with the request's id; the connection stays open.
        bad = [
            ("bad json", "{nope", {"code": "bad_json"}),
            ("unknown type", '{"type":"frobnicate","id":7,"topic":"a"}', {"code": "unknown_type", "id": 7}),
            ("publish to a pattern", '{"type":"publish","id":"e3","topic":"a.*","data":1}',
             {"code": "invalid_topic", "id": "e3", "topic": "a.*"}),
            ("missing data", '{"type":"publish","id":8,"topic":"a"}', {"code": "bad_request", "id": 8}),
            ("not subscribed", '{"type":"unsubscribe","id":9,"topic":"never.held"}', {"code": "not_subscribed", "id": 9}),
            ("bad binary header", b"\x01\x80\x00\x01a", {"code": "bad_request"}),
            ("binary payload too large", binary_publish(PREFIX + ".bin", bytes(max_payload + 1), id="big"),
             {"code": "payload_too_large", "id": "big"}),
        ]
        for name, request, expected in bad:
            await pub.send(request)
            _, error = await recv_json(pub)
            check(f"error envelope: {name}", error.get("type") == "error" and isinstance(error.get("message"), str)
                  and all(error.get(k) == v for k, v in expected.items())
                  and ("id" in expected or "id" not in error), error)
        await pub.send('{"type":"publish","id":"after","topic":"%s.json","data":{}}' % PREFIX)
        _, ack = await recv_json(pub)
        check("connection still open after errors", ack.get("id") == "after" and ack.get("seq") == len(datas) + 1, ack)
        raw, message = await recv_json(sub)
        check("message after errors", message.get("seq") == len(datas) + 1, raw)

        await sub.send(json.dumps({"type": "unsubscribe", "id": "u1", "topic": PREFIX + ".>"}))
        _, ack = await recv_json(sub)
        check("unsubscribe ack", has(ack, type="ack", id="u1", op="unsubscribe", topic=PREFIX + ".>"), ack)
        await sub.close(code=1000)
        check("close code echoed", sub.close_code == 1000)
    await resume_pattern(url, check, recv_json)
    return tally.report()


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1])) else 0)
