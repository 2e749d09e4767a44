"""The webhook sender: signed POSTs from background threads, TikTok's retry schedule
(time-scaled), a delivery log with every attempt, and the drop / duplicate / reorder / delay knobs.

A delivery is acknowledged by HTTP 200 (or refused for good by 401, which TikTok also accepts as
a final answer); anything else, a timeout or a connection error is retried after 2 min, 30 min,
3 h and 12 h (times ``webhook_time_scale``), and given up after the 4th retry.
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from .config import TikTokSandboxConfig
from .signing import webhook_signature

# A DNS label (letters, digits, inner hyphens); the last label of a domain name is not all digits.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_address_problem(address: str, loopback_http: bool = False) -> str | None:
    """Why ``address`` is not a webhook URL the configuration guide accepts, or ``None``.

    The guide's "Webhook URL Requirements": the ``https://`` scheme; a domain name, not an IP
    address; no port. With ``loopback_http`` (``TikTokSandboxConfig.webhook_loopback_http``) a
    loopback host (``127.0.0.0/8``, ``::1``, ``localhost``) may also use ``http://`` and a port.
    The 255-character limit is Update Shop Webhook's own field fact (checked by the digest)."""
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return "must be an https:// URL with a domain name"
    if loopback_http and _is_loopback(host):
        return None
    if scheme != "https":
        return "must use the https:// scheme"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "must be a domain name, not an IP address"
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return "must be a domain name"
    if port is not None or parts.netloc.endswith(":"):
        return "must not have a port"
    return None


@dataclass
class Delivery:
    id: int
    notification_id: str
    app_key: str
    app_secret: str = field(repr=False)
    shop_id: str
    type: int
    address: str
    body: bytes
    created_at: float
    state: str = "pending"  # pending | delivered | rejected | failed | dropped
    attempts: list[dict[str, Any]] = field(default_factory=list)
    duplicate: bool = False
    delayed_for_reorder: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tts_notification_id": self.notification_id,
            "app_key": self.app_key,
            "shop_id": self.shop_id,
            "type": self.type,
            "address": self.address,
            "state": self.state,
            "duplicate": self.duplicate,
            "reordered": self.delayed_for_reorder,
            "attempts": [dict(a) for a in self.attempts],
            "body": json.loads(self.body),
        }


def build_body(type_: int, notification_id: str, shop_id: str, timestamp: int, data: dict[str, Any]) -> bytes:
    doc = {"type": type_, "tts_notification_id": notification_id, "shop_id": shop_id, "timestamp": timestamp,
           "data": data}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class WebhookSender:
    def __init__(self, config: TikTokSandboxConfig, seed: int) -> None:
        self.config = config
        self._rng = random.Random(seed ^ 0x5EED)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int]] = []
        self._deliveries: dict[int, Delivery] = {}
        self._seq = 0
        self._in_flight = 0
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._local = threading.local()

    # --------------------------------------------------------------------------- lifecycle
    def _ensure_workers(self) -> None:
        if self._threads or self._stopped:
            return
        for i in range(max(1, self.config.webhook_workers)):
            t = threading.Thread(target=self._run, name=f"tiktok-sandbox-webhook-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def reset(self) -> None:
        with self._cond:
            self._heap.clear()
            self._deliveries.clear()

    # ------------------------------------------------------------------------------ submit
    def submit(self, notification_id: str, app_key: str, app_secret: str, shop_id: str, type_: int, address: str,
               body: bytes) -> list[int]:
        faults = self.config.faults
        with self._cond:
            ids = []
            copies = 2 if self._rng.random() < faults.webhook_duplicate else 1
            for n in range(copies):
                self._seq += 1
                d = Delivery(id=self._seq, notification_id=notification_id, app_key=app_key, app_secret=app_secret,
                             shop_id=shop_id, type=type_, address=address, body=body, created_at=time.time(),
                             duplicate=n > 0)
                self._deliveries[d.id] = d
                ids.append(d.id)
                if self._rng.random() < faults.webhook_drop:
                    d.state = "dropped"
                    continue
                delay = faults.webhook_delay
                if self._rng.random() < faults.webhook_reorder:
                    delay += faults.webhook_reorder_delay
                    d.delayed_for_reorder = True
                heapq.heappush(self._heap, (time.monotonic() + delay, self._seq, d.id))
            self._ensure_workers()
            self._cond.notify_all()
        return ids

    # ----------------------------------------------------------------------------- workers
    def _session(self) -> requests.Session:
        s: requests.Session | None = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            self._local.session = s
        return s

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    timeout = (self._heap[0][0] - time.monotonic()) if self._heap else 0.5
                    self._cond.wait(timeout=max(0.001, min(timeout, 0.5)))
                if self._stopped:
                    return
                _, _, did = heapq.heappop(self._heap)
                d = self._deliveries.get(did)
                if d is None:
                    continue
                self._in_flight += 1
            try:
                self._attempt(d)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, d: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            "Authorization": webhook_signature(d.app_key, d.app_secret, d.body),
        }
        started = time.time()
        status: int | None = None
        error = ""
        try:
            resp = self._session().post(d.address, data=d.body, headers=headers, timeout=self.config.webhook_timeout,
                                        allow_redirects=False)
            status = resp.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        attempt = {"n": len(d.attempts) + 1, "at": started, "status": status, "error": error,
                   "duration_ms": round((time.time() - started) * 1000, 1)}
        with self._cond:
            d.attempts.append(attempt)
            if status == 200:
                d.state = "delivered"
                return
            if status == 401:
                d.state = "rejected"
                return
            retries_done = len(d.attempts) - 1
            delays = self.config.webhook_retry_delays
            if retries_done >= len(delays):
                d.state = "failed"
                return
            delay = delays[retries_done] * self.config.webhook_time_scale
            attempt["next_retry_in"] = delay
            heapq.heappush(self._heap, (time.monotonic() + delay, d.id, d.id))
            self._cond.notify_all()

    # ------------------------------------------------------------------------------ reads
    def deliveries(self, shop_id: str | None = None, type_: int | None = None, state: str | None = None
                   ) -> list[dict[str, Any]]:
        with self._cond:
            rows = [d.as_dict() for d in self._deliveries.values()
                    if (shop_id is None or d.shop_id == shop_id) and (type_ is None or d.type == type_)
                    and (state is None or d.state == state)]
        return rows

    def stats(self) -> dict[str, int]:
        with self._cond:
            out: dict[str, int] = {}
            for d in self._deliveries.values():
                out[d.state] = out.get(d.state, 0) + 1
            out["queued"] = len(self._heap)
            out["in_flight"] = self._in_flight
        return out

    def wait_idle(self, timeout: float = 10.0, include_retries: bool = False) -> bool:
        """Wait until nothing is due now or in flight (``include_retries``: until nothing is
        scheduled at all)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                due = any(t <= now for t, _, _ in self._heap) if not include_retries else bool(self._heap)
                if not due and self._in_flight == 0:
                    return True
                remaining = deadline - now
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=min(remaining, 0.05))
