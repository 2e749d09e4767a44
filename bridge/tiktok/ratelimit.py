"""Token buckets per (shop, API): TikTok's limit is per API per app+shop (default 50 QPS).

``acquire`` blocks until a token is free. Time comes from a ``Ticker`` (monotonic seconds and a
sleep), so tests drive it without waiting. Thread-safe: the buckets' state sits behind one lock
that is never held while sleeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


class Ticker(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealTicker:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``qps`` requests per second per key, with a burst of ``burst`` (default: one second's worth)."""

    def __init__(self, qps: float, *, burst: float | None = None, ticker: Ticker | None = None) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = float(qps)
        self.burst = float(burst if burst is not None else max(1.0, qps))
        self.ticker: Ticker = ticker or RealTicker()
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _reserve(self, key: tuple[str, str]) -> float:
        """Take a token (possibly going into debt) and return how long the caller must wait."""
        with self._lock:
            now = self.ticker.monotonic()
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.qps)
            b.updated = now
            b.tokens -= 1.0
            return 0.0 if b.tokens >= 0 else -b.tokens / self.qps

    def acquire(self, shop_id: str, api: str) -> float:
        """Wait for a token for ``api`` of ``shop_id``; returns the seconds waited."""
        wait = self._reserve((shop_id, api))
        if wait > 0:
            self.ticker.sleep(wait)
        return wait

    def try_acquire(self, shop_id: str, api: str) -> bool:
        """Take a token only if one is free now."""
        key = (shop_id, api)
        with self._lock:
            now = self.ticker.monotonic()
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.qps)
            b.updated = now
            if b.tokens < 1.0:
                return False
            b.tokens -= 1.0
            return True


__all__ = ["RateLimiter", "RealTicker", "Ticker"]
