"""What the drift monitors read beyond the repositories (the queue's and the links' history, open
exceptions by age) and where their readings are kept for the dashboard. Implemented on SQL
(``bridge.store.tables_monitoring.MonitoringStore``) and in memory (``bridge.store.memory.MemoryMonitoring``);
one contract suite runs both (``tests/contract/test_store_ports.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.ports.store import ExceptionRecord


@dataclass(frozen=True)
class ReadingRow:
    """One monitor's reading at one evaluation."""

    monitor: str
    at: datetime
    status: str  # ok | alert | disabled | unavailable | error
    value: Decimal | None
    threshold: Decimal | None
    unit: str
    note: str
    samples: list[dict[str, Any]]


@dataclass(frozen=True)
class PendingKey:
    """A job key with jobs of one kind and none done yet."""

    key: str
    since: datetime  # when its first job not skipped was created
    failed: bool  # one of its jobs failed or is dead


@dataclass(frozen=True)
class SyncedOrder:
    """An order link with a NetSuite record."""

    shop_id: str
    tiktok_id: str
    external_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StalledKind:
    """Jobs of one kind due (or with their lease expired) before a cutoff."""

    kind: str
    count: int
    oldest: datetime  # the earliest ``run_at`` among them


class MonitorReads(Protocol):
    """The monitors' reads and their readings (thread-safe)."""

    def pending_keys(self, kind: str, *, created_since: datetime, first_before: datetime) -> list[PendingKey]:
        """Keys of the jobs of ``kind`` created since ``created_since`` that have no ``done`` job and whose
        first job not skipped was created at or before ``first_before`` (keys with only skipped jobs are
        left out)."""
        ...

    def synced_orders(self, *, updated_since: datetime, limit: int) -> list[SyncedOrder]:
        """Order links ``synced`` or ``staged`` with a NetSuite record, changed since ``updated_since``, the
        latest changed first (at most ``limit``)."""
        ...

    def busy_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` with a job queued or running (any number of keys)."""
        ...

    def open_exceptions(self, *, first_seen_before: datetime, limit: int) -> tuple[int, list[ExceptionRecord]]:
        """How many exceptions are open since at or before ``first_seen_before``, and the oldest ``limit``."""
        ...

    def stalled_jobs(self, *, before: datetime) -> list[StalledKind]:
        """Per kind: jobs queued with ``run_at`` at or before ``before``, or running with their lease expired
        at or before it."""
        ...

    def record_readings(self, rows: Sequence[ReadingRow]) -> None:
        """Keep these readings (samples as given: the caller redacts and trims them)."""
        ...

    def prune_readings(self, before: datetime) -> int:
        """Forget readings taken before ``before``; returns how many went."""
        ...

    def latest_readings(self) -> list[ReadingRow]:
        """The newest reading of every monitor."""
        ...

    def reading_history(self, *, since: datetime, monitors: Sequence[str] = (), limit: int = 20000
                        ) -> list[ReadingRow]:
        """Readings taken since ``since`` (of some monitors), oldest first."""
        ...


__all__ = ["MonitorReads", "PendingKey", "ReadingRow", "StalledKind", "SyncedOrder"]
