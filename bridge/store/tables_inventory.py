"""Inventory tables and the small repository over them.

* ``inventory_skus``: the SKU index — every TikTok SKU of every shop with its product, seller SKU,
  warehouses and the NetSuite item it matched (refreshed by ``inventory.refresh`` / ``ttns skus
  match``); it turns a NetSuite item id into the TikTok products to update.
* ``inventory_pushed``: per (shop, SKU, warehouse) the number NetSuite allowed at the last push and
  when (a record for people; whether to send is decided against TikTok's own numbers, which TikTok
  moves itself on every order).
* ``inventory_places``: NetSuite locations and TikTok warehouses as last pulled.
* ``prices_pushed``: the last price pushed per (shop, SKU).

Created by Alembic revision ``0004_inventory``. Pending TikTok units are read from the shared
``links`` table (orders the orders flow recorded but NetSuite has not committed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)

from bridge import lease
from bridge.clock import Clock, SystemClock
from bridge.domain.order_memory import OrderMemory
from bridge.ports.inventory import Place, SkuRow, units_of
from bridge.store.group_commit import GroupCommit
from bridge.store.tables import links, metadata
from bridge.store.types import BigId, Money, UTCDateTime

inventory_skus = Table(
    "inventory_skus",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("sku_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("seller_sku", String(191), nullable=False, default=""),
    Column("item_id", String(64), nullable=True),  # NetSuite item internal id; NULL = unmatched
    Column("item_inactive", Boolean, nullable=False, default=False),
    Column("product_status", String(32), nullable=False, default=""),
    Column("warehouses", JSON, nullable=False, default=list),  # TikTok warehouse ids assigned to the SKU
    Column("categories", JSON, nullable=False, default=list),  # category chain ids and names, leaf first
    Column("listings", Integer, nullable=False, default=1),  # SKUs of the shop selling the same item
    Column("title", String(255), nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "sku_id"),
    Index("ix_inventory_skus_item_id", "item_id"),
    Index("ix_inventory_skus_shop_id_product_id", "shop_id", "product_id"),
    Index("ix_inventory_skus_shop_id_seller_sku", "shop_id", "seller_sku"),
)

inventory_pushed = Table(
    "inventory_pushed",
    metadata,
    Column("shop_id", String(64), nullable=False),
    Column("sku_id", String(64), nullable=False),
    Column("warehouse_id", String(64), nullable=False),
    Column("product_id", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("pushed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("shop_id", "sku_id", "warehouse_id"),
)

# The dynamic buffer's inputs (bridge.mapping.inventory_buffer): kind "free" rows hold a SKU's free
# stock at a push (value: units, buffer: the buffer then applied); kind "push" rows (sku_id "") the
# seconds from a stock change to TikTok's number. Rows older than the window are dropped on write.
inventory_observations = Table(
    "inventory_observations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sku_id", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("value", Float, nullable=False),
    Column("buffer", Integer, nullable=True),
    Index("ix_inventory_observations_shop_kind_sku_at", "shop_id", "kind", "sku_id", "at"),
)

# Observations of this kind record a TikTok order whose sale was counted (``first_sight``), the order id in
# ``sku_id``: a sale is counted once, whichever job sees the order first, however often it is retried.
ORDER_SEEN = "order"

inventory_places = Table(
    "inventory_places",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # location | warehouse
    Column("shop_id", String(64), nullable=False, default=""),  # "" for NetSuite locations
    Column("place_id", String(64), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("data", JSON, nullable=False, default=dict),
    Column("pulled_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "shop_id", "place_id"),
)

prices_pushed = Table(
    "prices_pushed",
    metadata,
    Column("shop_id", String(64), nullable=False),
    Column("sku_id", String(64), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("price", Money, nullable=False),
    Column("price_level", String(64), nullable=False, default=""),
    Column("pushed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("shop_id", "sku_id"),
)


def _sku(row: Any) -> SkuRow:
    return SkuRow(
        shop_id=row["shop_id"], sku_id=row["sku_id"], product_id=row["product_id"], seller_sku=row["seller_sku"],
        item_id=row["item_id"], item_inactive=bool(row["item_inactive"]), product_status=row["product_status"],
        warehouses=tuple(row["warehouses"] or ()), categories=tuple(row["categories"] or ()),
        listings=int(row["listings"] or 1), title=row["title"],
    )


@dataclass(frozen=True)
class _Sight:
    """One ``first_sight`` call waiting for its group's transaction, with the fence of the job that made it."""

    shop_id: str
    order_ids: tuple[str, ...]
    at: datetime
    keep_since: datetime
    sales: Mapping[str, Mapping[str, int]] | None
    sales_keep_since: datetime | None
    fence: lease.Fence | None


class InventoryStore:
    """Reads and writes of the inventory tables (thread-safe; one per container)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        # Concurrent first_sight calls (one per order sync in a flash sale) share one transaction.
        self._sights: GroupCommit[_Sight, list[str]] = GroupCommit(self.engine.begin, self._first_sights)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as c:
            yield c

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read: on SQLite a plain BEGIN, not the write lock every other transaction takes (a push's
        and an order's reads no longer queue behind the writers)."""
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            yield c

    # -- the SKU index --------------------------------------------------------------------------
    def replace_shop(self, shop_id: str, rows: Sequence[SkuRow]) -> int:
        """Make the shop's index exactly ``rows`` (SKUs gone from TikTok are dropped with their
        pushed numbers). Returns how many rows were written."""
        now = self.clock.now()
        keep = {r.sku_id for r in rows}
        with self._tx() as c:
            existing = {r[0] for r in c.execute(select(inventory_skus.c.sku_id).where(
                inventory_skus.c.shop_id == shop_id))}
            gone = sorted(existing - keep)
            for i in range(0, len(gone), 500):
                chunk = gone[i:i + 500]
                c.execute(delete(inventory_skus).where(inventory_skus.c.shop_id == shop_id,
                                                       inventory_skus.c.sku_id.in_(chunk)))
                c.execute(delete(inventory_pushed).where(inventory_pushed.c.shop_id == shop_id,
                                                         inventory_pushed.c.sku_id.in_(chunk)))
            self._upsert(c, rows, existing, now)
        return len(rows)

    def upsert(self, rows: Sequence[SkuRow]) -> None:
        now = self.clock.now()
        with self._tx() as c:
            shops = {r.shop_id for r in rows}
            existing: set[str] = set()
            for shop in shops:
                ids = [r.sku_id for r in rows if r.shop_id == shop]
                existing |= {r[0] for r in c.execute(select(inventory_skus.c.sku_id).where(
                    inventory_skus.c.shop_id == shop, inventory_skus.c.sku_id.in_(ids)))}
            self._upsert(c, rows, existing, now)

    @staticmethod
    def _upsert(c: Connection, rows: Sequence[SkuRow], existing: set[str], now: datetime) -> None:
        for r in rows:
            values = {"product_id": r.product_id, "seller_sku": r.seller_sku, "item_id": r.item_id,
                      "item_inactive": r.item_inactive, "product_status": r.product_status,
                      "warehouses": list(r.warehouses), "categories": list(r.categories), "listings": r.listings,
                      "title": r.title[:255], "updated_at": now}
            if r.sku_id in existing:
                c.execute(update(inventory_skus).where(inventory_skus.c.shop_id == r.shop_id,
                                                       inventory_skus.c.sku_id == r.sku_id).values(**values))
            else:
                c.execute(insert(inventory_skus).values(shop_id=r.shop_id, sku_id=r.sku_id, **values))

    def product_skus(self, shop_id: str, product_id: str) -> list[SkuRow]:
        with self._read() as c:
            rows = c.execute(select(inventory_skus).where(inventory_skus.c.shop_id == shop_id,
                                                          inventory_skus.c.product_id == product_id)
                             .order_by(inventory_skus.c.sku_id)).mappings()
            return [_sku(r) for r in rows]

    def shop_skus(self, shop_id: str | None = None) -> list[SkuRow]:
        stmt = select(inventory_skus).order_by(inventory_skus.c.shop_id, inventory_skus.c.product_id,
                                               inventory_skus.c.sku_id)
        if shop_id is not None:
            stmt = stmt.where(inventory_skus.c.shop_id == shop_id)
        with self._read() as c:
            return [_sku(r) for r in c.execute(stmt).mappings()]

    def products(self, shop_id: str) -> list[str]:
        with self._read() as c:
            return [r[0] for r in c.execute(select(inventory_skus.c.product_id).distinct().where(
                inventory_skus.c.shop_id == shop_id).order_by(inventory_skus.c.product_id))]

    def products_for_items(self, item_ids: Iterable[str]) -> set[tuple[str, str]]:
        """(shop id, product id) of every TikTok product selling any of these NetSuite items."""
        ids = sorted({str(i) for i in item_ids if i})
        out: set[tuple[str, str]] = set()
        with self._read() as c:
            for i in range(0, len(ids), 500):
                rows = c.execute(select(inventory_skus.c.shop_id, inventory_skus.c.product_id).where(
                    inventory_skus.c.item_id.in_(ids[i:i + 500])))
                out |= {(str(a), str(b)) for a, b in rows}
        return out

    def products_for_seller_skus(self, shop_id: str, seller_skus: Iterable[str]) -> set[str]:
        skus = sorted({s for s in seller_skus if s})
        out: set[str] = set()
        with self._read() as c:
            for i in range(0, len(skus), 500):
                rows = c.execute(select(inventory_skus.c.product_id).where(
                    inventory_skus.c.shop_id == shop_id, inventory_skus.c.seller_sku.in_(skus[i:i + 500])))
                out |= {str(r[0]) for r in rows}
        return out

    def counts(self, shop_id: str | None = None) -> dict[str, int]:
        skus = self.shop_skus(shop_id)
        return {"skus": len(skus), "matched": sum(1 for s in skus if s.item_id),
                "products": len({(s.shop_id, s.product_id) for s in skus})}

    # -- what was pushed ------------------------------------------------------------------------
    def last_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        ids = list(sku_ids)
        with self._read() as c:
            for i in range(0, len(ids), 500):
                rows = c.execute(select(inventory_pushed.c.sku_id, inventory_pushed.c.warehouse_id,
                                        inventory_pushed.c.quantity).where(
                    inventory_pushed.c.shop_id == shop_id, inventory_pushed.c.sku_id.in_(ids[i:i + 500])))
                for sku, wh, q in rows:
                    out[(str(sku), str(wh))] = int(q)
        return out

    def record_pushed(self, shop_id: str, product_id: str, quantities: Mapping[str, Mapping[str, int]]) -> None:
        now = self.clock.now()
        with self._tx() as c:
            for sku, per_wh in quantities.items():
                c.execute(delete(inventory_pushed).where(inventory_pushed.c.shop_id == shop_id,
                                                         inventory_pushed.c.sku_id == sku))
                for wh, q in per_wh.items():
                    c.execute(insert(inventory_pushed).values(shop_id=shop_id, sku_id=sku, warehouse_id=wh,
                                                              product_id=product_id, quantity=int(q), pushed_at=now))

    def forget_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> None:
        with self._tx() as c:
            c.execute(delete(inventory_pushed).where(inventory_pushed.c.shop_id == shop_id,
                                                     inventory_pushed.c.sku_id.in_(list(sku_ids))))

    # -- pulled places --------------------------------------------------------------------------
    def save_places(self, kind: str, shop_id: str, places: Sequence[Place]) -> None:
        now = self.clock.now()
        with self._tx() as c:
            c.execute(delete(inventory_places).where(inventory_places.c.kind == kind,
                                                     inventory_places.c.shop_id == shop_id))
            for p in places:
                c.execute(insert(inventory_places).values(kind=kind, shop_id=shop_id, place_id=p.place_id,
                                                          name=p.name[:255], data=p.data, pulled_at=now))

    def places(self, kind: str, shop_id: str | None = None) -> list[Place]:
        stmt = select(inventory_places).where(inventory_places.c.kind == kind).order_by(
            inventory_places.c.shop_id, inventory_places.c.place_id)
        if shop_id is not None:
            stmt = stmt.where(inventory_places.c.shop_id == shop_id)
        with self._read() as c:
            return [Place(r["kind"], r["shop_id"], r["place_id"], r["name"], dict(r["data"] or {}), r["pulled_at"])
                    for r in c.execute(stmt).mappings()]

    # -- prices ---------------------------------------------------------------------------------
    def last_prices(self, shop_id: str, sku_ids: Sequence[str]) -> dict[str, tuple[str, Decimal]]:
        with self._read() as c:
            rows = c.execute(select(prices_pushed.c.sku_id, prices_pushed.c.currency, prices_pushed.c.price).where(
                prices_pushed.c.shop_id == shop_id, prices_pushed.c.sku_id.in_(list(sku_ids))))
            return {str(s): (str(cur), Decimal(p)) for s, cur, p in rows}

    def record_prices(self, shop_id: str, currency: str, prices: Mapping[str, Decimal], level: str) -> None:
        now = self.clock.now()
        with self._tx() as c:
            for sku, price in prices.items():
                c.execute(delete(prices_pushed).where(prices_pushed.c.shop_id == shop_id,
                                                      prices_pushed.c.sku_id == sku))
                c.execute(insert(prices_pushed).values(shop_id=shop_id, sku_id=sku, currency=currency, price=price,
                                                       price_level=level, pushed_at=now))

    def product_for_item(self, shop_id: str, item_id: str) -> str | None:
        """The TikTok product the catalog push created or linked for a NetSuite item (links kind
        ``product``: tiktok_id = product id, netsuite_id = the parent's or single item's id)."""
        with self._read() as c:
            row = c.execute(select(links.c.tiktok_id).where(
                links.c.kind == "product", links.c.netsuite_id == item_id, links.c.shop_id == shop_id)).first()
        return None if row is None else str(row[0])

    # -- observations for the dynamic buffer -----------------------------------------------------
    def observe(self, shop_id: str, kind: str, values: Mapping[str, tuple[float, int | None]], at: datetime,
                keep_since: datetime) -> None:
        """Record observations (sku id -> (value, buffer)) and drop the shop's rows of this kind
        older than ``keep_since``."""
        with self._tx() as c:
            c.execute(delete(inventory_observations).where(
                inventory_observations.c.shop_id == shop_id, inventory_observations.c.kind == kind,
                inventory_observations.c.at < keep_since))
            if values:
                c.execute(insert(inventory_observations), [
                    {"shop_id": shop_id, "kind": kind, "sku_id": sku, "at": at, "value": float(v), "buffer": b}
                    for sku, (v, b) in values.items()])

    def first_sight(self, shop_id: str, order_ids: Sequence[str], at: datetime, keep_since: datetime,
                    sales: Mapping[str, Mapping[str, int]] | None = None,
                    sales_keep_since: datetime | None = None) -> list[str]:
        """Orders whose sale is counted now (observations of kind ``order``, the order id in ``sku_id``):
        the ones not recorded before are recorded and returned. SQLite's write transaction (BEGIN
        IMMEDIATE) makes the read and the insert one step; PostgreSQL takes a transaction lock per shop."""
        # Each order sync counts its order here when the sales intake has not yet: one write transaction
        # per order held SQLite's write lock in a flash sale (py-spy, README "RESTlet path"). Concurrent
        # calls share one transaction; each runs under its own job's fence (checked by its first write),
        # so a stale job's count fails alone and is never recorded.
        return self._sights.submit(_Sight(shop_id, tuple(order_ids), at, keep_since, sales, sales_keep_since,
                                          lease.current()))

    def _first_sights(self, c: Connection, sights: Sequence[_Sight]) -> list[list[str]]:
        out = []
        for sight in sights:
            with lease.holding(sight.fence):
                out.append(self._first_sight(c, sight.shop_id, sight.order_ids, sight.at, sight.keep_since,
                                             sight.sales, sight.sales_keep_since))
        return out

    def _first_sight(self, c: Connection, shop_id: str, order_ids: Sequence[str], at: datetime, keep_since: datetime,
                     sales: Mapping[str, Mapping[str, int]] | None, sales_keep_since: datetime | None) -> list[str]:
        wanted = list(dict.fromkeys(o for o in order_ids if o))
        o = inventory_observations
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                      {"k": f"ttns.inventory.first_sight:{shop_id}"})
        c.execute(delete(o).where(o.c.shop_id == shop_id, o.c.kind == ORDER_SEEN, o.c.at < keep_since))
        if not wanted:
            return []
        seen: set[str] = set()
        for i in range(0, len(wanted), 500):
            seen |= {str(r[0]) for r in c.execute(select(o.c.sku_id).where(
                o.c.shop_id == shop_id, o.c.kind == ORDER_SEEN, o.c.sku_id.in_(wanted[i:i + 500])))}
        new = [oid for oid in wanted if oid not in seen]
        units = units_of(new, sales)
        if units:
            c.execute(delete(o).where(o.c.shop_id == shop_id, o.c.kind == "sale",
                                      o.c.at < (sales_keep_since or keep_since)))
            c.execute(insert(o), [{"shop_id": shop_id, "kind": "sale", "sku_id": sku, "at": at, "value": float(n),
                                   "buffer": None} for sku, n in units.items()])
        if new:
            c.execute(insert(o), [{"shop_id": shop_id, "kind": ORDER_SEEN, "sku_id": oid, "at": at, "value": 0.0,
                                   "buffer": None} for oid in new])
        return new

    def observations(self, shop_id: str, kind: str, sku_ids: Sequence[str], since: datetime
                     ) -> dict[str, list[tuple[datetime, float, int | None]]]:
        """(at, value, buffer) per sku id since ``since``, oldest first."""
        out: dict[str, list[tuple[datetime, float, int | None]]] = {s: [] for s in sku_ids}
        if not sku_ids:
            return out
        with self._read() as c:
            rows = c.execute(select(inventory_observations.c.sku_id, inventory_observations.c.at,
                                    inventory_observations.c.value, inventory_observations.c.buffer).where(
                inventory_observations.c.shop_id == shop_id, inventory_observations.c.kind == kind,
                inventory_observations.c.sku_id.in_(list(sku_ids)), inventory_observations.c.at >= since,
            ).order_by(inventory_observations.c.at, inventory_observations.c.id))
            for sku, at, value, buffer in rows:
                out.setdefault(str(sku), []).append((at, float(value), buffer))
        return out

    def order_latencies(self, shop_id: str, since: datetime, limit: int = 200) -> list[float]:
        """Seconds from the buyer placing a TikTok order (TikTok's create time) to NetSuite first having
        its sales order, for the shop's orders first written since ``since`` (the latest ``limit``).
        TikTok's create time is in whole seconds: the middle of that second is taken. The bridge's own
        link times are not a latency: an order written at once gets its link when it is written."""
        start = since.timestamp()
        with self._read() as c:
            rows = c.execute(select(links.c.data).where(
                links.c.kind == "order", links.c.shop_id == shop_id, links.c.synced_at.is_not(None),
                links.c.synced_at >= since, links.c.netsuite_id.is_not(None),
            ).order_by(links.c.synced_at.desc()).limit(limit))
            out: list[float] = []
            for (raw,) in rows:
                memory = OrderMemory.parse(raw)
                if memory.first_synced_at is None or memory.created_at is None or memory.first_synced_at < start:
                    continue
                out.append(max(0.0, memory.first_synced_at - (memory.created_at + 0.5)))
            return out

    # -- pending TikTok units (read from the orders flow's links) ----------------------------------
    def pending_units(self, shop_id: str, *, include_staged: bool = True) -> dict[str, dict[str | None, int]]:
        """Units per seller SKU (and warehouse when the link knows it) of TikTok orders NetSuite has
        not committed: links of kind ``order`` in status ``pending:*`` (not yet written) and, when
        ``include_staged``, ``staged`` (written as Pending Approval, which commits no stock). FBT
        orders are left out: TikTok ships them from its own stock."""
        conds: list[ColumnElement[bool]] = [links.c.status.like("pending:%")]
        if include_staged:
            conds.append(links.c.status == "staged")
        out: dict[str, dict[str | None, int]] = {}
        with self._read() as c:
            rows = c.execute(select(links.c.status, links.c.data).where(
                links.c.kind == "order", links.c.shop_id == shop_id, or_(*conds)))
            for status, raw in rows:
                memory = OrderMemory.parse(raw)
                if status == "pending:CANCELLED" or memory.is_fbt:
                    continue
                wh = memory.warehouse_id or None
                for sku, n in (memory.units or {}).items():
                    per = out.setdefault(str(sku), {})
                    per[wh] = per.get(wh, 0) + int(n)
        return out


__all__ = ["InventoryStore", "Place", "SkuRow", "inventory_observations", "inventory_places", "inventory_pushed",
           "inventory_skus", "prices_pushed"]
