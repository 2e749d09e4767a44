"""Business time: wall clock times speed + an offset the control API can advance.

Hold expiry, token and auth-code expiry, order timestamps and statement dates use this clock; the
request ``timestamp`` window is always checked against the real wall clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class BusinessClock:
    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._speed = speed
        self._real_anchor = time.time()
        self._business_anchor = time.time() if start is None else start

    def now(self) -> float:
        with self._lock:
            return self._business_anchor + (time.time() - self._real_anchor) * self._speed

    def now_int(self) -> int:
        return int(self.now())

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._business_anchor += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            now_real = time.time()
            self._business_anchor += (now_real - self._real_anchor) * self._speed
            self._real_anchor = now_real
            self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed
