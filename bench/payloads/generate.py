#!/usr/bin/env python3
"""Writes the benchmark corpus of realistic JSON messages (issue 17), one JSON value a line:

  chat.jsonl    chat lines: user, room, text, timestamps, a few reactions (150-400 B)
  ticks.jsonl   price ticks: symbol, bid/ask, sizes, venue, sequence (120-200 B)
  orders.jsonl  nested order books / order documents of a few KiB

Seeded, so the files are the same on every run: `python3 bench/payloads/generate.py`.
`bus-cli bench fanout --payloads bench/payloads` publishes the lines in turn.
"""
import json
import os
import random

random.seed(17)
here = os.path.dirname(os.path.abspath(__file__))
WORDS = ("the a to is it and of you that in for on we this can be with have not are but just what so "
         "deploy build release merge review ticket meeting lunch coffee later today tomorrow thanks "
         "great idea sounds good looks fine broken fixed again please check the logs server client "
         "latency graph dashboard alert page on-call weekend rollout canary revert hotfix").split()
USERS = [f"{first}.{last}" for first in ("ana", "ben", "chen", "dana", "eli", "fatima", "gus", "hana", "ivan", "jo")
         for last in ("smith", "garcia", "kim", "nguyen", "okafor")]
ROOMS = ["general", "random", "eng-backend", "eng-frontend", "incidents", "release-train", "design", "sales-emea"]
SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "EURUSD", "GBPUSD", "USDJPY", "BTC-USD", "ETH-USD"]
VENUES = ["XNAS", "XNYS", "BATS", "EDGX", "IEXG", "LMAX", "CBOE"]


def sentence(n):
    words = [random.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + random.choice([".", "!", "?", "", " :)"])


def chat(i):
    message = {
        "id": f"msg_{100000 + i}",
        "room": random.choice(ROOMS),
        "user": {"id": random.randint(1000, 9999), "name": random.choice(USERS)},
        "text": sentence(random.randint(4, 30)),
        "sent_at": f"2026-12-03T12:{random.randint(0, 59):02d}:{random.randint(0, 59):02d}.{random.randint(0, 999):03d}Z",
    }
    if random.random() < 0.3:
        message["reply_to"] = f"msg_{100000 + random.randint(0, max(0, i - 1))}"
    if random.random() < 0.4:
        message["reactions"] = [{"emoji": random.choice(["+1", "tada", "eyes", "heart"]), "count": random.randint(1, 9)}
                                for _ in range(random.randint(1, 3))]
    return message


def tick(i):
    symbol = random.choice(SYMBOLS)
    price = {"EURUSD": 1.08, "GBPUSD": 1.27, "USDJPY": 151.2, "BTC-USD": 97000.0, "ETH-USD": 3400.0}.get(symbol, 180.0)
    mid = price * (1 + random.uniform(-0.01, 0.01))
    spread = mid * 0.0002
    return {"type": "tick", "symbol": symbol, "seq": 5000000 + i, "bid": round(mid - spread, 5), "ask": round(mid + spread, 5),
            "bid_size": random.randint(1, 50) * 100, "ask_size": random.randint(1, 50) * 100,
            "venue": random.choice(VENUES), "ts": 1764763200000000 + i * 1375}


def order(i):
    levels = random.randint(12, 30)
    mid = random.uniform(50, 500)
    return {
        "type": "order_book",
        "symbol": random.choice(SYMBOLS),
        "snapshot_id": 900000 + i,
        "bids": [{"price": round(mid - k * 0.01, 2), "size": random.randint(1, 400) * 10, "orders": random.randint(1, 12)}
                 for k in range(levels)],
        "asks": [{"price": round(mid + k * 0.01, 2), "size": random.randint(1, 400) * 10, "orders": random.randint(1, 12)}
                 for k in range(levels)],
        "trades": [{"id": f"t{i}-{k}", "price": round(mid + random.uniform(-0.05, 0.05), 2), "size": random.randint(1, 90) * 10,
                    "side": random.choice(["buy", "sell"]), "aggressor": random.choice(USERS)} for k in range(random.randint(3, 10))],
        "meta": {"venue": random.choice(VENUES), "session": "regular", "currency": "USD", "lot_size": 10,
                 "tick_size": 0.01, "halted": False, "source": "bench-corpus"},
    }


for name, make, count in (("chat", chat, 300), ("ticks", tick, 300), ("orders", order, 100)):
    with open(os.path.join(here, f"{name}.jsonl"), "w") as out:
        for i in range(count):
            out.write(json.dumps(make(i), separators=(",", ":")) + "\n")
