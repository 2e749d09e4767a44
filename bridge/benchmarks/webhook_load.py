"""A webhook load generator in its own process (so its timing never waits on the benchmark's GIL):

    python -m bridge.benchmarks.webhook_load URL APP_KEY RATE SECONDS OUT.json [SENDERS] < orders.json

Sends signed order-status webhooks at RATE per second for SECONDS over SENDERS kept-alive connections
(default 8), spread over the order ids read from stdin, and writes the acknowledgement latencies (ms), how
late the sender was against its schedule (ms), and status counts to OUT.json. The app
secret comes from the environment (``TTNS_BENCH_APP_SECRET``), never from the command line.

Every request is built and signed before the clock starts and sent as prepared bytes on a plain socket, the
answer read with the least parsing HTTP/1.1 allows (status line, ``Content-Length``, ``Server-Timing``): the
generator shares the machine's two cores with what it measures (TikTok's senders are not on the bridge's
machine), and ``http.client`` cost about 0.35 ms of CPU per request, a third of the bare app's own.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
import time
from urllib.parse import urlparse

from bridge.tiktok.webhooks import sign


def request_bytes(host: str, path: str, app_key: str, secret: str, body: bytes) -> bytes:
    """One signed ``POST`` as it goes on the wire."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {sign(app_key, secret, body)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def read_answer(sock: socket.socket, buf: bytearray) -> tuple[int, float | None]:
    """Read one answer from ``sock`` (bytes beyond it stay in ``buf``): its status and the ``Server-Timing``
    ``dur`` (ms) when given. Needs ``Content-Length`` (the bridge and gunicorn always send it)."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the answer's headers")
        buf += chunk
    head = bytes(buf[:end]).decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP answer: {lines[0][:60]!r}")
    length, timing = 0, None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "server-timing" and "dur=" in value:
            timing = float(value.split("dur=")[1].split(";")[0].split(",")[0])
    total = end + 4 + length
    while len(buf) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the answer's body")
        buf += chunk
    del buf[:total]
    return int(parts[1]), timing


def main() -> None:
    url, app_key, rate, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    secret = os.environ["TTNS_BENCH_APP_SECRET"]
    spec = json.load(sys.stdin)
    orders, shop = spec["orders"], spec["shop_id"]
    total = int(rate * seconds)
    senders = int(sys.argv[6]) if len(sys.argv) > 6 else 8
    run = secrets.token_hex(4)
    target = urlparse(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    now = int(time.time())
    requests: list[bytes] = []
    for i in range(total):
        oid, updated = orders[i % len(orders)]
        body = json.dumps({"type": 1, "tts_notification_id": f"bench-{run}-{i}", "shop_id": shop, "timestamp": now,
                           "data": {"order_id": oid, "order_status": "AWAITING_SHIPMENT", "update_time": updated}},
                          separators=(",", ":")).encode()
        requests.append(request_bytes(f"{host}:{port}", target.path, app_key, secret, body))
    latencies: list[float] = []
    server: list[float] = []
    lateness: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def connect() -> socket.socket:
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send(k: int) -> None:
        sock: socket.socket | None = None
        buf = bytearray()
        mine_lat: list[float] = []
        mine_late: list[float] = []
        mine_server: list[float] = []
        mine_status: dict[int, int] = {}
        for i in range(k, total, senders):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            t0 = time.perf_counter()
            try:
                if sock is None:
                    sock, buf = connect(), bytearray()
                sock.sendall(requests[i])
                status, timing = read_answer(sock, buf)
            except (OSError, ValueError):  # a failed answer (ConnectionError: closed, not HTTP); the next reconnects
                if sock is not None:
                    sock.close()
                sock = None
                mine_status[0] = mine_status.get(0, 0) + 1
                continue
            mine_lat.append((time.perf_counter() - t0) * 1000)
            mine_late.append(max(0.0, (t0 - due) * 1000))
            if timing is not None:
                mine_server.append(timing)
            mine_status[status] = mine_status.get(status, 0) + 1
        if sock is not None:
            sock.close()
        with lock:
            latencies.extend(mine_lat)
            lateness.extend(mine_late)
            server.extend(mine_server)
            for s, n in mine_status.items():
                statuses[s] = statuses.get(s, 0) + n

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
