"""A webhook load generator in its own process (so its timing never waits on the benchmark's GIL):

    python -m bridge.benchmarks.webhook_load URL APP_KEY RATE SECONDS OUT.json [SENDERS] < orders.json

Sends signed order-status webhooks at RATE per second for SECONDS over SENDERS kept-alive connections
(default 8), spread over the order ids read from stdin, and writes the acknowledgement latencies (ms), how
late the sender was against its schedule (ms), and status counts to OUT.json. The app
secret comes from the environment (``TTNS_BENCH_APP_SECRET``), never from the command line.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import sys
import threading
import time
from urllib.parse import urlparse

from bridge.tiktok.webhooks import sign


def main() -> None:
    url, app_key, rate, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    secret = os.environ["TTNS_BENCH_APP_SECRET"]
    spec = json.load(sys.stdin)
    orders, shop = spec["orders"], spec["shop_id"]
    total = int(rate * seconds)
    latencies: list[float] = []
    server: list[float] = []
    lateness: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    senders = int(sys.argv[6]) if len(sys.argv) > 6 else 8
    run = secrets.token_hex(4)
    start = time.perf_counter() + 0.2

    target = urlparse(url)

    def send(k: int) -> None:
        # http.client on a kept-alive connection: a light sender, so the generator's own CPU does not
        # crowd the bridge it measures (TikTok's senders are not on the bridge's machine).
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=10)
        for i in range(k, total, senders):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            oid, updated = orders[i % len(orders)]
            body = json.dumps({"type": 1, "tts_notification_id": f"bench-{run}-{i}", "shop_id": shop,
                               "timestamp": int(time.time()), "data": {
                                   "order_id": oid, "order_status": "AWAITING_SHIPMENT", "update_time": updated}},
                              separators=(",", ":")).encode()
            headers = {"Authorization": sign(app_key, secret, body), "Content-Type": "application/json"}
            t0 = time.perf_counter()
            try:
                conn.request("POST", target.path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=10)
                with lock:
                    statuses[0] = statuses.get(0, 0) + 1
                continue
            dt = (time.perf_counter() - t0) * 1000
            timing = r.getheader("Server-Timing") or ""
            with lock:
                latencies.append(dt)
                lateness.append(max(0.0, (t0 - due) * 1000))
                if "dur=" in timing:
                    server.append(float(timing.split("dur=")[1].split(";")[0]))
                statuses[r.status] = statuses.get(r.status, 0) + 1

    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with open(out, "w") as fh:
        json.dump({"latencies_ms": latencies, "server_ms": server, "statuses": statuses, "late_ms": lateness,
                   "achieved_rate": total / elapsed}, fh)


if __name__ == "__main__":
    main()
