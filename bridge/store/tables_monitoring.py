"""Monitoring tables: drift monitor readings (history for the dashboard) and alerts (de-duplication).

Both live on the shared ``metadata`` (``bridge.store.tables.load_area_tables`` imports this module);
the schema is created by Alembic revision ``0003_monitoring``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)

from bridge.ports.monitoring import PendingKey, ReadingRow, StalledKind, SyncedOrder
from bridge.ports.store import ExceptionRecord
from bridge.store.tables import exceptions, jobs, links, metadata
from bridge.store.types import BigId, Money, UTCDateTime

# One row per monitor per evaluation: the number the dashboard shows and the history it charts.
monitor_readings = Table(
    "monitor_readings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("monitor", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # ok | alert | unavailable | error
    Column("value", Money, nullable=True),  # None when the monitor could not measure
    Column("threshold", Money, nullable=True),
    Column("unit", String(16), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("samples", JSON, nullable=False, default=list),  # [{entity, label, detail, href}], redacted
    Index("ix_monitor_readings_monitor_at", "monitor", "at"),
    Index("ix_monitor_readings_at", "at"),
)

# One row per alert key. The key is the alert's identity: it is not re-sent while it keeps firing
# until the re-notify interval passes, and is sent again (as new) after it cleared.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(191), nullable=False),
    Column("monitor", String(64), nullable=False, default=""),
    Column("severity", String(16), nullable=False, default="warning"),  # info | warning | critical
    Column("status", String(16), nullable=False, default="firing"),  # firing | resolved
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("link", String(500), nullable=False, default=""),
    Column("value", Money, nullable=True),
    Column("threshold", Money, nullable=True),
    Column("detail", JSON, nullable=False, default=dict),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("last_sent_at", UTCDateTime, nullable=True),
    Column("sends", Integer, nullable=False, default=0),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("delivery", JSON, nullable=False, default=dict),  # channel -> "ok" | error text (last attempt)
    UniqueConstraint("key"),
    Index("ix_alerts_status_last_seen", "status", "last_seen"),
)



class MonitoringStore:
    """``bridge.ports.monitoring.MonitorReads`` on SQL (reads take no write lock on SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            yield c

    def pending_keys(self, kind: str, *, created_since: datetime, first_before: datetime) -> list[PendingKey]:
        not_skipped = case((jobs.c.status != "skipped", jobs.c.created_at), else_=None)
        done = func.sum(case((jobs.c.status == "done", 1), else_=0))
        stmt = (
            select(jobs.c.key, func.min(not_skipped).label("since"),
                   func.max(case((jobs.c.status.in_(("failed", "dead")), 1), else_=0)).label("failed"))
            .where(jobs.c.kind == kind, jobs.c.created_at >= created_since)
            .group_by(jobs.c.key)
            .having(and_(done == 0, func.min(not_skipped) <= first_before))
        )
        with self._read() as c:
            return [PendingKey(str(key), since, bool(failed)) for key, since, failed in c.execute(stmt).all()]

    def synced_orders(self, *, updated_since: datetime, limit: int) -> list[SyncedOrder]:
        stmt = (select(links.c.shop_id, links.c.tiktok_id, links.c.external_id, links.c.data)
                .where(links.c.kind == "order", links.c.netsuite_id.is_not(None), links.c.updated_at >= updated_since,
                       links.c.status.in_(("synced", "staged")))
                .order_by(links.c.updated_at.desc()).limit(limit))
        with self._read() as c:
            return [SyncedOrder(str(r.shop_id), str(r.tiktok_id), str(r.external_id or ""), dict(r.data or {}))
                    for r in c.execute(stmt).all()]

    def busy_keys(self, keys: Sequence[str]) -> set[str]:
        ids = list(keys)
        busy: set[str] = set()
        with self._read() as c:
            for i in range(0, len(ids), 500):
                busy |= {str(k) for (k,) in c.execute(select(jobs.c.key).where(
                    jobs.c.key.in_(ids[i:i + 500]), jobs.c.status.in_(("queued", "running"))))}
        return busy

    def open_exceptions(self, *, first_seen_before: datetime, limit: int) -> tuple[int, list[ExceptionRecord]]:
        cond = and_(exceptions.c.status == "open", exceptions.c.first_seen <= first_seen_before)
        with self._read() as c:
            n = int(c.execute(select(func.count()).select_from(exceptions).where(cond)).scalar_one())
            rows = c.execute(select(exceptions).where(cond).order_by(exceptions.c.first_seen).limit(limit)).mappings()
            return n, [ExceptionRecord(**dict(r)) for r in rows]

    def stalled_jobs(self, *, before: datetime) -> list[StalledKind]:
        cond = or_(and_(jobs.c.status == "queued", jobs.c.run_at <= before),
                   and_(jobs.c.status == "running", jobs.c.lease_expires_at <= before))
        with self._read() as c:
            rows = c.execute(select(jobs.c.kind, func.count(), func.min(jobs.c.run_at)).where(cond)
                             .group_by(jobs.c.kind)).all()
        return [StalledKind(str(kind), int(n), oldest) for kind, n, oldest in rows]

    def record_readings(self, rows: Sequence[ReadingRow]) -> None:
        if not rows:
            return
        with self.engine.begin() as c:
            c.execute(insert(monitor_readings), [
                {"monitor": r.monitor, "at": r.at, "status": r.status, "value": r.value, "threshold": r.threshold,
                 "unit": r.unit, "note": r.note, "samples": r.samples} for r in rows])

    def prune_readings(self, before: datetime) -> int:
        with self.engine.begin() as c:
            return int(c.execute(delete(monitor_readings).where(monitor_readings.c.at < before)).rowcount)

    def latest_readings(self) -> list[ReadingRow]:
        newest = (select(monitor_readings.c.monitor, func.max(monitor_readings.c.id).label("id"))
                  .group_by(monitor_readings.c.monitor).subquery())
        stmt = select(monitor_readings).join(newest, monitor_readings.c.id == newest.c.id)
        with self._read() as c:
            return [_reading(r) for r in c.execute(stmt).mappings().all()]

    def reading_history(self, *, since: datetime, monitors: Sequence[str] = (), limit: int = 20000
                        ) -> list[ReadingRow]:
        stmt = (select(monitor_readings).where(monitor_readings.c.at >= since)
                .order_by(monitor_readings.c.at, monitor_readings.c.id).limit(limit))
        if monitors:
            stmt = stmt.where(monitor_readings.c.monitor.in_(list(monitors)))
        with self._read() as c:
            return [_reading(r) for r in c.execute(stmt).mappings()]


def _reading(r: Any) -> ReadingRow:
    return ReadingRow(str(r["monitor"]), r["at"], str(r["status"]), r["value"], r["threshold"], str(r["unit"]),
                      str(r["note"]), list(r["samples"] or []))


__all__ = ["MonitoringStore", "alerts", "monitor_readings"]
