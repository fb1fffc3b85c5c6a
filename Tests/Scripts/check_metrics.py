"""GET /metrics, read by Prometheus' own Python client parser, before and after some traffic.

Usage: python3 Tests/Scripts/check_metrics.py http://127.0.0.1:PORT
Needs prometheus_client and websockets (pip). Subscribes over /bus, publishes JSON and binary
over /bus and text over POST /publish, then checks that the exposition parses, that every
family the README lists is there with its type, that histograms are well formed, and that the
counters moved by what was sent. Prints 'metrics: N passed, M failed'; exits 1 on a failure.
"""
import json
import os
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

# The interop scripts' pass/fail count, shared.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop"))
from tally import Tally  # noqa: E402

# Family name as the parser reports it (counters lose their _total suffix) -> type.
EXPECTED = {
    "bus_loops": "gauge",
    "bus_connections": "gauge",
    "bus_connections_accepted": "counter",
    "bus_connections_refused": "counter",
    "bus_subscriptions": "gauge",
    "bus_topics": "gauge",
    "bus_messages_published": "counter",
    "bus_published_bytes": "counter",
    "bus_messages_delivered": "counter",
    "bus_delivered_bytes": "counter",
    "bus_slow_consumer_drops": "counter",
    "bus_sse_streams": "gauge",
    "bus_sse_streams_opened": "counter",
    "bus_auth_failures": "counter",
    "bus_permission_denied": "counter",
    "bus_send_queue_depth_messages": "histogram",
    "bus_delivery_latency_seconds": "histogram",
    "bus_loop_iterations": "counter",
    "bus_loop_turn_seconds": "histogram",
}

tally = Tally("metrics")
check = tally.check


def scrape(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as reply:
        check("status 200", reply.status == 200)
        content_type = reply.headers.get("Content-Type", "")
        check("content type 0.0.4", content_type == "text/plain; version=0.0.4; charset=utf-8", content_type)
        text = reply.read().decode("utf-8")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return families


def value(families, family, sample, **labels):
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError(f"{sample} {labels}")


def check_shape(families):
    for name, kind in EXPECTED.items():
        check(f"family {name}", name in families, "missing")
        if name in families:
            check(f"type of {name}", families[name].type == kind, families[name].type)
    for family in families.values():
        if family.type != "histogram":
            continue
        series = {}
        for s in family.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[key]["count"] = s.value
        for key, data in series.items():
            bounds = [b for b, _ in data["buckets"]]
            counts = [c for _, c in data["buckets"]]
            check(f"{family.name}{key} bounds ascend", bounds == sorted(bounds))
            check(f"{family.name}{key} ends with +Inf", bounds and bounds[-1] == float("inf"))
            check(f"{family.name}{key} cumulative", counts == sorted(counts))
            check(f"{family.name}{key} +Inf = count", counts and counts[-1] == data["count"])


def traffic(base):
    """Three messages to one subscriber: JSON and binary over /bus, text over HTTP."""
    ws_url = base.replace("http://", "ws://") + "/bus"
    with connect(ws_url, subprotocols=["bus.v1"]) as sub, connect(ws_url, subprotocols=["bus.v1"]) as pub:
        json.loads(sub.recv(timeout=10))
        json.loads(pub.recv(timeout=10))
        sub.send(json.dumps({"type": "subscribe", "id": 1, "topic": "metrics.check"}))
        ack = json.loads(sub.recv(timeout=10))
        check("subscribe ack", ack.get("type") == "ack", ack)
        during = scrape(base)
        check("subscriptions gauge", value(during, "bus_subscriptions", "bus_subscriptions") >= 1)
        check("connections gauge", value(during, "bus_connections", "bus_connections") >= 3)
        pub.send(json.dumps({"type": "publish", "id": 2, "topic": "metrics.check", "data": {"n": 1}}))
        topic = b"metrics.check"
        pub.send(bytes([1, 0]) + len(topic).to_bytes(2, "big") + topic + b"\x00\x01\x02")
        request = urllib.request.Request(base + "/publish/metrics.check", data=b"hello",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            check("HTTP publish", reply.status == 200)
        for _ in range(3):
            sub.recv(timeout=10)


def main(base):
    before = scrape(base)
    check_shape(before)
    traffic(base)
    after = scrape(base)
    check_shape(after)

    def grew(family, sample, by, **labels):
        delta = value(after, family, sample, **labels) - value(before, family, sample, **labels)
        check(f"{sample}{labels} grew by {by}", delta == by, f"grew by {delta}")

    grew("bus_messages_published", "bus_messages_published_total", 2, kind="json")
    grew("bus_messages_published", "bus_messages_published_total", 1, kind="binary")
    grew("bus_messages_delivered", "bus_messages_delivered_total", 2, kind="json")
    grew("bus_messages_delivered", "bus_messages_delivered_total", 1, kind="binary")
    grew("bus_published_bytes", "bus_published_bytes_total", 3, kind="binary")
    timed = (value(after, "bus_delivery_latency_seconds", "bus_delivery_latency_seconds_count")
             - value(before, "bus_delivery_latency_seconds", "bus_delivery_latency_seconds_count"))
    check("delivery latency observed", 1 <= timed <= 3, timed)
    check("auth failures are 0", value(after, "bus_auth_failures", "bus_auth_failures_total") == 0)
    return tally.report()


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1].rstrip("/")) else 0)
