"""Time as a dependency: the system clock in production, a manual one in tests and the sandboxes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (or follows real time plus an offset if ``running``)."""

    def __init__(self, start: datetime | None = None, *, running: bool = False) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._lock = threading.Lock()
        self._base = start
        self._running = running
        self._anchor = datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            if self._running:
                return self._base + (datetime.now(UTC) - self._anchor)
            return self._base

    def advance(self, seconds: float = 0.0, **kwargs: float) -> datetime:
        with self._lock:
            self._base += timedelta(seconds=seconds, **kwargs)
            return self._base + ((datetime.now(UTC) - self._anchor) if self._running else timedelta())

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("aware datetime required")
        with self._lock:
            self._base = when
            self._anchor = datetime.now(UTC)
