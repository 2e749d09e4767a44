"""The account's one concurrency pool, the latency model and the fault dice.

NetSuite counts concurrent REST, SuiteQL and RESTlet requests of an account in one pool; a request
over the limit is refused at once (not queued). Counters feed the benchmarks.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from .config import Faults, LatencyModel


class PoolFull(Exception):
    """The account's concurrency limit is reached."""


class ConcurrencyPool:
    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.in_flight = 0
        self.peak = 0

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self.limit = max(1, int(limit))

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self.in_flight >= self.limit:
                raise PoolFull
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def saturated(self) -> bool:
        with self._lock:
            return self.in_flight >= self.limit


class Counters:
    """Thread-safe counters (REST calls per operation, RESTlet and SuiteQL calls, rejections …)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._c: Counter[str] = Counter()
        self._governance: Counter[str] = Counter()

    def inc(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._c[key] += n

    def governance(self, script: str, units: int) -> None:
        with self._lock:
            self._governance[script] += units
            self._c["governance.units"] += units

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"counts": dict(sorted(self._c.items())), "governance": dict(sorted(self._governance.items()))}

    def reset(self) -> None:
        with self._lock:
            self._c.clear()
            self._governance.clear()


class Chaos:
    """Latency and fault decisions; knobs can change at run time."""

    def __init__(self, latency: LatencyModel, faults: Faults, seed: int | None = None) -> None:
        self.latency = latency
        self.faults = faults
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._scripted: list[dict[str, Any]] = []

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def delay(self, op: str, lines: int = 0) -> float:
        lat = self.latency
        if lat.scale <= 0:
            return 0.0
        base = lat.base.get(op, 0.1) + lat.per_line * max(0, lines)
        with self._lock:
            factor = 1 + self._rng.uniform(-lat.jitter, lat.jitter)
        return max(0.0, base * factor * lat.scale)

    def work(self, op: str, lines: int = 0) -> None:
        seconds = self.delay(op, lines)
        if seconds > 0:
            time.sleep(seconds)

    def script_fault(self, fault: dict[str, Any]) -> None:
        """Queue a one-shot fault: ``{"kind": "429"|"5xx"|"timeout_after_commit"|"invalid_login",
        "op": optional op name, "recordType": optional, "mode": optional "hang"|"drop" (a timeout after
        commit's, else ``faults.timeout_mode``)}``."""
        with self._lock:
            self._scripted.append(dict(fault))

    def take_scripted(self, op: str, record_type: str | None) -> str | None:
        with self._lock:
            for i, f in enumerate(self._scripted):
                if f.get("op") not in (None, op):
                    continue
                if f.get("recordType") not in (None, record_type):
                    continue
                del self._scripted[i]
                return f"{f['kind']}:{f['mode']}" if f.get("mode") else str(f["kind"])
        return None

    def clear_scripted(self) -> None:
        with self._lock:
            self._scripted.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"latency": asdict(self.latency), "faults": asdict(self.faults), "scripted": list(self._scripted)}
