"""Fulfillment tables and their repository.

* ``fulfillment_shipments`` — one row per package a NetSuite item fulfillment ships (or per TikTok
  package the bridge turned into an FBT fulfillment): tracking, provider, the TikTok line items it
  carries, the TikTok package it became, status and attempts. The row is written *before* TikTok
  is called (status ``sending``), so a retried job knows it may already have shipped and checks
  TikTok instead of shipping twice.
* ``fulfillment_units`` — one row per TikTok line item shipped (unique per order and line item):
  each unit is shipped once across every fulfillment of an order.
* ``sla_alerts`` — one row per order and alert level, so a ship-by alert is raised once.

Created by Alembic revision ``0005_fulfillment``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bridge.clock import Clock, SystemClock
from bridge.ports.fulfillment import Shipment, UnitConflict
from bridge.store.tables import metadata
from bridge.store.types import BigId, UTCDateTime

fulfillment_shipments = Table(
    "fulfillment_shipments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("fulfillment_id", String(64), nullable=False),  # NetSuite item fulfillment id
    Column("package_index", Integer, nullable=False),
    Column("seq", Integer, nullable=False, default=0),  # >0: units an edit added to a shipped package
    Column("tracking_number", String(100), nullable=False, default=""),
    Column("carrier", String(100), nullable=False, default=""),
    Column("provider_id", String(64), nullable=False, default=""),
    Column("provider_name", String(100), nullable=False, default=""),
    Column("line_item_ids", JSON, nullable=False, default=list),
    Column("method", String(32), nullable=False, default=""),  # mark_package_shipped | ship_package | label | fbt
    Column("tiktok_package_id", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="sending"),  # sending | shipped | refused | deleted
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("shipped_at", UTCDateTime, nullable=True),
    Column("tracking_updated_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "order_id", "fulfillment_id", "package_index", "seq",
                     name="uq_fulfillment_shipments_package"),
    Index("ix_fulfillment_shipments_order", "shop_id", "order_id"),
    Index("ix_fulfillment_shipments_status", "status", "updated_at"),
)

fulfillment_units = Table(
    "fulfillment_units",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("line_item_id", String(64), nullable=False),
    Column("shipment_id", BigInteger, nullable=False),
    Column("fulfillment_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "order_id", "line_item_id", name="uq_fulfillment_units_unit"),
    Index("ix_fulfillment_units_shipment", "shipment_id"),
)

sla_alerts = Table(
    "sla_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("level", String(16), nullable=False),  # warning | critical | missed
    Column("deadline", UTCDateTime, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "order_id", "level", name="uq_sla_alerts_level"),
)


def _shipment(row: Any) -> Shipment:
    d = dict(row)
    d["line_item_ids"] = tuple(str(x) for x in d.get("line_item_ids") or ())
    return Shipment(**d)


@dataclass
class FulfillmentStore:
    """Reads and writes of the fulfillment tables (thread-safe; one per container)."""

    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as c:
            yield c

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read: on SQLite a plain BEGIN, not the write lock (``BEGIN IMMEDIATE``) every other
        transaction takes, so a shipment lookup does not queue behind the writers."""
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            yield c

    # -- shipments ------------------------------------------------------------------------------
    def shipments(self, shop_id: str, order_id: str, fulfillment_id: str | None = None) -> list[Shipment]:
        stmt = select(fulfillment_shipments).where(fulfillment_shipments.c.shop_id == shop_id,
                                                   fulfillment_shipments.c.order_id == order_id)
        if fulfillment_id is not None:
            stmt = stmt.where(fulfillment_shipments.c.fulfillment_id == fulfillment_id)
        with self._read() as c:
            rows = c.execute(stmt.order_by(fulfillment_shipments.c.fulfillment_id,
                                           fulfillment_shipments.c.package_index,
                                           fulfillment_shipments.c.seq)).mappings().all()
        return [_shipment(r) for r in rows]

    def get(self, shipment_id: int) -> Shipment | None:
        with self._read() as c:
            row = c.execute(select(fulfillment_shipments).where(
                fulfillment_shipments.c.id == shipment_id)).mappings().first()
        return None if row is None else _shipment(row)

    def begin(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int, seq: int,
              tracking_number: str, carrier: str, provider_id: str, provider_name: str,
              line_item_ids: Sequence[str], method: str) -> Shipment:
        """Record a shipment about to be sent and reserve its units, atomically. ``UnitConflict``
        when a unit is held by another shipment; an existing row for the package is reused."""
        now = self.clock.now()
        key = (fulfillment_shipments.c.shop_id == shop_id, fulfillment_shipments.c.order_id == order_id,
               fulfillment_shipments.c.fulfillment_id == fulfillment_id,
               fulfillment_shipments.c.package_index == package_index, fulfillment_shipments.c.seq == seq)
        values = {"tracking_number": tracking_number, "carrier": carrier[:100], "provider_id": provider_id,
                  "provider_name": provider_name[:100], "line_item_ids": list(line_item_ids), "method": method,
                  "status": "sending", "updated_at": now}
        with self._tx() as c:
            row = c.execute(select(fulfillment_shipments.c.id).where(*key)).first()
            if row is None:
                sid = int(c.execute(insert(fulfillment_shipments).values(
                    shop_id=shop_id, order_id=order_id, fulfillment_id=fulfillment_id, package_index=package_index,
                    seq=seq, attempts=1, last_error="", created_at=now, **values)
                    .returning(fulfillment_shipments.c.id)).scalar_one())
            else:
                sid = int(row[0])
                c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == sid).values(
                    attempts=fulfillment_shipments.c.attempts + 1, **values))
            held = c.execute(select(fulfillment_units.c.line_item_id, fulfillment_units.c.fulfillment_id,
                                    fulfillment_units.c.shipment_id).where(
                fulfillment_units.c.shop_id == shop_id, fulfillment_units.c.order_id == order_id,
                fulfillment_units.c.line_item_id.in_(list(line_item_ids)))).all()
            taken = {str(r[0]): str(r[1]) for r in held if int(r[2]) != sid}
            if taken:
                raise UnitConflict(taken)
            mine = {str(r[0]) for r in held}
            for lid in line_item_ids:
                if lid not in mine:
                    c.execute(insert(fulfillment_units).values(shop_id=shop_id, order_id=order_id,
                                                               line_item_id=lid, shipment_id=sid,
                                                               fulfillment_id=fulfillment_id, created_at=now))
            c.execute(delete(fulfillment_units).where(fulfillment_units.c.shipment_id == sid,
                                                      fulfillment_units.c.line_item_id.not_in(list(line_item_ids))))
        got = self.get(sid)
        assert got is not None
        return got

    def shipped(self, shipment_id: int, *, tiktok_package_id: str, tracking_number: str | None = None,
                provider_id: str | None = None, provider_name: str | None = None) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {"status": "shipped", "tiktok_package_id": tiktok_package_id, "last_error": "",
                                  "shipped_at": now, "updated_at": now}
        if tracking_number is not None:
            values["tracking_number"] = tracking_number
        if provider_id is not None:
            values["provider_id"] = provider_id
        if provider_name is not None:
            values["provider_name"] = provider_name[:100]
        with self._tx() as c:
            c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == shipment_id,
                                                          fulfillment_shipments.c.shipped_at.is_(None)).values(**values))
            values.pop("shipped_at")
            c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == shipment_id).values(**values))

    def refused(self, shipment_id: int, error: str) -> None:
        """TikTok refused it: the units are free again for a corrected attempt."""
        with self._tx() as c:
            c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == shipment_id).values(
                status="refused", last_error=error[:2000], updated_at=self.clock.now()))
            c.execute(delete(fulfillment_units).where(fulfillment_units.c.shipment_id == shipment_id))

    def tracking_updated(self, shipment_id: int, *, tracking_number: str, provider_id: str, provider_name: str,
                         carrier: str) -> None:
        now = self.clock.now()
        with self._tx() as c:
            c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == shipment_id).values(
                tracking_number=tracking_number, provider_id=provider_id, provider_name=provider_name[:100],
                carrier=carrier[:100], tracking_updated_at=now, last_error="", updated_at=now))

    def note_error(self, shipment_id: int, error: str) -> None:
        with self._tx() as c:
            c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == shipment_id).values(
                last_error=error[:2000], updated_at=self.clock.now()))

    def mark_deleted(self, shop_id: str, order_id: str, fulfillment_id: str) -> list[Shipment]:
        """A fulfillment deleted in NetSuite: unsent shipments are dropped (their units freed);
        the shipped ones are returned (TikTok cannot un-ship them)."""
        rows = self.shipments(shop_id, order_id, fulfillment_id)
        with self._tx() as c:
            for r in rows:
                if r.status != "shipped":
                    c.execute(update(fulfillment_shipments).where(fulfillment_shipments.c.id == r.id).values(
                        status="deleted", updated_at=self.clock.now()))
                    c.execute(delete(fulfillment_units).where(fulfillment_units.c.shipment_id == r.id))
        return [r for r in rows if r.status == "shipped"]

    def record_external(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int,
                        tracking_number: str, provider_id: str, provider_name: str, line_item_ids: Sequence[str],
                        method: str, tiktok_package_id: str) -> Shipment:
        """A shipment that happened elsewhere (TikTok shipped an FBT package; units found shipped on
        TikTok) — recorded as shipped, units held, idempotent per package."""
        ship = self.begin(shop_id=shop_id, order_id=order_id, fulfillment_id=fulfillment_id,
                          package_index=package_index, seq=0, tracking_number=tracking_number, carrier="",
                          provider_id=provider_id, provider_name=provider_name, line_item_ids=line_item_ids,
                          method=method)
        self.shipped(ship.id, tiktok_package_id=tiktok_package_id)
        got = self.get(ship.id)
        assert got is not None
        return got

    # -- units ------------------------------------------------------------------------------------
    def units(self, shop_id: str, order_id: str) -> dict[str, str]:
        """Line item id → fulfillment id, for every unit of the order shipped or being shipped."""
        with self._read() as c:
            rows = c.execute(select(fulfillment_units.c.line_item_id, fulfillment_units.c.fulfillment_id).where(
                fulfillment_units.c.shop_id == shop_id, fulfillment_units.c.order_id == order_id)).all()
        return {str(r[0]): str(r[1]) for r in rows}

    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[Shipment]:
        """Shipments not on TikTok (sending or refused) last touched before ``older_than``."""
        with self._read() as c:
            rows = c.execute(select(fulfillment_shipments).where(
                fulfillment_shipments.c.status.in_(("sending", "refused")),
                fulfillment_shipments.c.updated_at <= older_than)
                .order_by(fulfillment_shipments.c.updated_at).limit(limit)).mappings().all()
        return [_shipment(r) for r in rows]

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self._read() as c:
            rows = c.execute(select(fulfillment_shipments.c.status, func.count())
                             .group_by(fulfillment_shipments.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    # -- SLA alerts -----------------------------------------------------------------------------
    def claim_sla_alert(self, shop_id: str, order_id: str, level: str, deadline: datetime) -> bool:
        """True the first time (order, level) is claimed: raise that alert once."""
        try:
            with self._tx() as c:
                c.execute(insert(sla_alerts).values(shop_id=shop_id, order_id=order_id, level=level,
                                                    deadline=deadline, raised_at=self.clock.now()))
        except IntegrityError:
            return False
        return True

    def sla_levels(self, shop_id: str, order_ids: Iterable[str]) -> dict[str, set[str]]:
        ids = list(order_ids)
        out: dict[str, set[str]] = {}
        with self._read() as c:
            for i in range(0, len(ids), 500):
                for oid, level in c.execute(select(sla_alerts.c.order_id, sla_alerts.c.level).where(
                        sla_alerts.c.shop_id == shop_id, sla_alerts.c.order_id.in_(ids[i:i + 500]))).all():
                    out.setdefault(str(oid), set()).add(str(level))
        return out


__all__ = ["FulfillmentStore", "Shipment", "UnitConflict", "fulfillment_shipments", "fulfillment_units",
           "sla_alerts"]
