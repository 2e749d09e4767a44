"""The inventory and catalog flows' own store: the index of TikTok SKUs and the NetSuite items they
sell, what was last pushed (quantities per warehouse, prices), the pulled warehouses and locations,
the dynamic buffer's observations, and what the orders flow's links say about units TikTok sold that
NetSuite has not committed yet. Implemented on SQL (``bridge.store.tables_inventory.InventoryStore``)
and in memory (``bridge.store.memory.MemoryInventory``); one contract suite runs both
(``tests/contract/test_store_ports.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class SkuRow:
    """One TikTok SKU in the index: its product, seller SKU, the NetSuite item it sells and where it is
    stocked."""

    shop_id: str
    sku_id: str
    product_id: str
    seller_sku: str = ""
    item_id: str | None = None
    item_inactive: bool = False
    product_status: str = ""
    warehouses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    listings: int = 1
    title: str = ""


@dataclass(frozen=True)
class Place:
    """A location pulled from one side (a TikTok warehouse, a NetSuite location), by kind."""

    kind: str
    shop_id: str
    place_id: str
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    pulled_at: datetime | None = None


class InventoryRepository(Protocol):
    """The SKU index and the inventory flows' memory (thread-safe)."""

    def replace_shop(self, shop_id: str, rows: Sequence[SkuRow]) -> int:
        """Make the shop's index exactly ``rows`` (SKUs gone from TikTok are dropped with their pushed
        numbers); returns how many rows were given."""
        ...

    def upsert(self, rows: Sequence[SkuRow]) -> None:
        """Add or replace these SKUs (the others stay)."""
        ...

    def product_skus(self, shop_id: str, product_id: str) -> list[SkuRow]:
        """A product's SKUs, by SKU id."""
        ...

    def shop_skus(self, shop_id: str | None = None) -> list[SkuRow]:
        """Every SKU (of a shop), by shop, product and SKU id."""
        ...

    def products(self, shop_id: str) -> list[str]:
        """The shop's product ids, sorted."""
        ...

    def products_for_items(self, item_ids: Iterable[str]) -> set[tuple[str, str]]:
        """(shop id, product id) of every TikTok product selling any of these NetSuite items."""
        ...

    def products_for_seller_skus(self, shop_id: str, seller_skus: Iterable[str]) -> set[str]:
        """The shop's products holding any of these seller SKUs."""
        ...

    def counts(self, shop_id: str | None = None) -> dict[str, int]:
        """``skus``, ``matched`` (with a NetSuite item) and ``products`` in the index."""
        ...

    def last_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(sku id, warehouse id) → the quantity last pushed to TikTok."""
        ...

    def record_pushed(self, shop_id: str, product_id: str, quantities: Mapping[str, Mapping[str, int]]) -> None:
        """Replace what was pushed for these SKUs (sku id → warehouse id → quantity)."""
        ...

    def forget_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> None:
        """Forget what was pushed for these SKUs (the next push sends everything)."""
        ...

    def save_places(self, kind: str, shop_id: str, places: Sequence[Place]) -> None:
        """Make the shop's places of ``kind`` exactly ``places`` (pulled now)."""
        ...

    def places(self, kind: str, shop_id: str | None = None) -> list[Place]:
        """Places of ``kind`` (of a shop), by shop and place id."""
        ...

    def last_prices(self, shop_id: str, sku_ids: Sequence[str]) -> dict[str, tuple[str, Decimal]]:
        """sku id → (currency, price) last pushed."""
        ...

    def record_prices(self, shop_id: str, currency: str, prices: Mapping[str, Decimal], level: str) -> None:
        """Replace the last pushed price of these SKUs (from NetSuite price level ``level``)."""
        ...

    def product_for_item(self, shop_id: str, item_id: str) -> str | None:
        """The TikTok product the catalog push created or linked for a NetSuite item (a ``product`` link
        whose NetSuite record is the item), or None."""
        ...

    def observe(self, shop_id: str, kind: str, values: Mapping[str, tuple[float, int | None]], at: datetime,
                keep_since: datetime) -> None:
        """Record observations (sku id → (value, buffer)) at ``at`` and drop the shop's observations of this
        kind older than ``keep_since``."""
        ...

    def observations(self, shop_id: str, kind: str, sku_ids: Sequence[str], since: datetime
                     ) -> dict[str, list[tuple[datetime, float, int | None]]]:
        """(at, value, buffer) per sku id since ``since``, oldest first (every asked id is a key)."""
        ...

    def first_sight(self, shop_id: str, order_ids: Sequence[str], at: datetime, keep_since: datetime,
                    sales: Mapping[str, Mapping[str, int]] | None = None,
                    sales_keep_since: datetime | None = None) -> list[str]:
        """Record that these TikTok orders' sales were counted (at ``at``) and return the ones not
        recorded before, in the order given; records older than ``keep_since`` are dropped. Atomic: of
        two concurrent calls naming one order only one gets it back, so a sale is counted once. With
        ``sales`` (order id → units per sku id) the new orders' units are recorded as ``sale``
        observations in the same transaction (older ones than ``sales_keep_since`` dropped), so an order
        is never marked seen without its units counted."""
        ...

    def order_latencies(self, shop_id: str, since: datetime, limit: int = 200) -> list[float]:
        """Seconds from TikTok's create time (the middle of its second) to NetSuite first having the sales
        order, for the shop's orders first written since ``since`` (the latest ``limit``, newest first)."""
        ...

    def pending_units(self, shop_id: str, *, include_staged: bool = True) -> dict[str, dict[str | None, int]]:
        """Units per seller SKU and warehouse (None when the link does not know it) of TikTok orders NetSuite
        has not committed: order links ``pending:*`` (not ``pending:CANCELLED``) and, with
        ``include_staged``, ``staged``; FBT orders left out."""
        ...


def units_of(order_ids: Sequence[str], sales: Mapping[str, Mapping[str, int]] | None) -> dict[str, int]:
    """Units per sku id these orders sold (``sales``: order id → units per sku id), positive only."""
    out: dict[str, int] = {}
    for oid in order_ids:
        for sku, n in (sales or {}).get(oid, {}).items():
            if sku and n > 0:
                out[sku] = out.get(sku, 0) + n
    return out


__all__ = ["InventoryRepository", "Place", "SkuRow", "units_of"]
