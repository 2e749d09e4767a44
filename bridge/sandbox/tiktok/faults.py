"""Rate limiting per app + shop + API (token bucket, default 50 QPS) and the request fault knobs
(latency with jitter, random 429 / 5xx, per-endpoint overrides)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, fields
from typing import Any

from .config import FaultConfig

_OVERRIDABLE = ("latency_ms", "jitter_ms", "rate_429", "rate_5xx", "rate_drop", "rate_timeout", "qps")


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}

    def allow(self, key: tuple[str, str, str], qps: float) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (qps, now))
            tokens = min(qps, tokens + (now - last) * qps)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


class FaultEngine:
    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self._rng = random.Random(seed ^ 0xFA17)
        self._lock = threading.Lock()

    def update(self, **knobs: Any) -> dict[str, Any]:
        names = {f.name for f in fields(FaultConfig)}
        unknown = set(knobs) - names
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        with self._lock:
            for name, value in knobs.items():
                if name == "per_endpoint":
                    if not isinstance(value, dict):
                        raise ValueError("per_endpoint must map an endpoint key or path prefix to knobs")
                    for k, over in value.items():
                        bad = set(over) - set(_OVERRIDABLE)
                        if bad:
                            raise ValueError(f"per_endpoint[{k}]: unknown knob(s) {', '.join(sorted(bad))}")
                    self.config.per_endpoint = {str(k): {kk: float(vv) for kk, vv in v.items()}
                                                for k, v in value.items()}
                else:
                    number = float(value)
                    if name.startswith(("rate_", "webhook_drop", "webhook_dup", "webhook_reorder")) and \
                            name != "webhook_reorder_delay" and not 0 <= number <= 1:
                        raise ValueError(f"{name} is a probability in [0, 1]")
                    if number < 0:
                        raise ValueError(f"{name} must not be negative")
                    setattr(self.config, name, number)
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.config)

    def knobs_for(self, endpoint_key: str, path: str) -> dict[str, float]:
        with self._lock:
            out = {k: float(getattr(self.config, k)) for k in _OVERRIDABLE if hasattr(self.config, k)}
            for key, over in self.config.per_endpoint.items():
                if key == endpoint_key or (key.startswith("/") and path.startswith(key)):
                    out.update(over)
        return out

    def latency_seconds(self, knobs: dict[str, float]) -> float:
        base = knobs.get("latency_ms", 0.0)
        jitter = knobs.get("jitter_ms", 0.0)
        if base <= 0 and jitter <= 0:
            return 0.0
        with self._lock:
            extra = self._rng.uniform(0, jitter) if jitter > 0 else 0.0
        return (base + extra) / 1000.0

    def draw(self, knobs: dict[str, float]) -> str | None:
        """``"429"``, ``"5xx"``, ``"drop"``, ``"timeout"`` or None."""
        bands = [(kind, knobs.get(f"rate_{kind}", 0.0)) for kind in ("429", "5xx", "drop", "timeout")]
        if all(rate <= 0 for _kind, rate in bands):
            return None
        with self._lock:
            x = self._rng.random()
        for kind, rate in bands:
            if x < rate:
                return kind
            x -= rate
        return None

    def pick_5xx(self) -> int:
        with self._lock:
            return self._rng.choice((500, 502, 503))
