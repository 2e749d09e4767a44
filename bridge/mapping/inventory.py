"""Sellable stock per TikTok SKU and warehouse (pure).

NetSuite is the master. For one TikTok SKU in one merchant warehouse::

    available  = Σ max(0, NetSuite *available*) over the locations linked to the warehouse
                 (available = on hand - committed, so stock promised to other channels is excluded)
    allocated  = floor(available * allocation / listings)
    sellable   = min(cap, max(0, allocated - buffer - pending))

``pending`` is TikTok units sold but not yet committed in NetSuite: the larger of what the bridge
knows (orders received and not yet written, or staged as Pending Approval) and what TikTok itself
has reserved for orders beyond NetSuite's commitments to this shop's TikTok orders (orders the
bridge has not even seen yet: during a livestream spike TikTok accepts orders faster than their
webhooks arrive, and an absolute stock number must not hand those units back). ``listings`` is
how many TikTok SKUs of the shop sell the same NetSuite item (they split it rather than each
offering all of it). FBT warehouses
(``tiktok_managed``) hold stock TikTok counts itself: they are never computed, never pushed, and
their locations never feed a merchant warehouse.

TikTok's Update Inventory takes one product at a time and, for each SKU sent, *every* warehouse
the SKU is assigned to (FBT ones excepted); SKUs whose numbers did not change may be left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.mapping.inventory_spec import ResolvedRule
from bridge.mapping.locations_spec import ShopLocations

Stock = Mapping[tuple[str, str], int]  # (NetSuite item id, location id) -> available units
Quantities = dict[str, dict[str, int]]  # TikTok sku id -> warehouse id -> quantity


# --- locations ↔ warehouses ------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseInfo:
    """A TikTok warehouse as pulled (``type`` SALES_WAREHOUSE / RETURN_WAREHOUSE)."""

    id: str
    name: str = ""
    type: str = "SALES_WAREHOUSE"
    fbt: bool = False
    is_default: bool = False

    @property
    def sales(self) -> bool:
        return self.type in ("", "SALES_WAREHOUSE")


@dataclass(frozen=True)
class WarehouseLink:
    warehouse_id: str
    locations: tuple[str, ...]
    tiktok_managed: bool = False
    name: str = ""


@dataclass(frozen=True)
class LocationMap:
    """One shop's warehouses resolved against ``locations.yaml``."""

    links: dict[str, WarehouseLink] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()  # spec entries naming no pulled warehouse (by id or name)
    unlinked: tuple[str, ...] = ()  # pulled merchant sales warehouses with no link and not ignored
    fbt: frozenset[str] = frozenset()  # warehouses TikTok manages (spec-marked or pulled as FBT)

    def link(self, warehouse_id: str) -> WarehouseLink | None:
        return self.links.get(warehouse_id)

    def is_tiktok_managed(self, warehouse_id: str) -> bool:
        return warehouse_id in self.fbt

    def locations(self) -> set[str]:
        return {loc for lk in self.links.values() if not lk.tiktok_managed for loc in lk.locations}

    def fbt_locations(self) -> set[str]:
        return {loc for lk in self.links.values() if lk.tiktok_managed for loc in lk.locations}


def link_warehouses(spec: ShopLocations, warehouses: Sequence[WarehouseInfo],
                    ignore: Iterable[str] = ()) -> LocationMap:
    """Resolve a shop's spec entries to warehouse ids (by id, else exact name). An entry naming no
    pulled warehouse still links when it looks like an id (digits), so pushes work before a pull."""
    by_id = {w.id: w for w in warehouses}
    by_name: dict[str, WarehouseInfo] = {}
    for w in warehouses:
        by_name.setdefault(w.name, w)
    links: dict[str, WarehouseLink] = {}
    unknown: list[str] = []
    for entry in spec.warehouses:
        wh = by_id.get(entry.warehouse) or by_name.get(entry.warehouse)
        if wh is None:
            unknown.append(entry.warehouse)
            if not entry.warehouse.isdigit():
                continue
            wid, name = entry.warehouse, ""
        else:
            wid, name = wh.id, wh.name
        links[wid] = WarehouseLink(wid, tuple(entry.locations), entry.tiktok_managed, name)
    ignored = set(ignore)
    fbt = {wid for wid, lk in links.items() if lk.tiktok_managed} | {w.id for w in warehouses if w.fbt}
    unlinked = tuple(sorted(
        w.id for w in warehouses
        if w.sales and w.id not in links and w.id not in fbt and w.id not in ignored and w.name not in ignored
    ))
    return LocationMap(links, tuple(unknown), unlinked, frozenset(fbt))


# --- the computation -------------------------------------------------------------------------------


def sellable_quantity(available: int, rule: ResolvedRule, pending: int = 0, listings: int = 1) -> int:
    """``min(cap, max(0, floor(available * allocation / listings) - buffer - pending))``."""
    allocated = math.floor(Decimal(max(0, available)) * rule.allocation / max(1, listings))
    return max(0, min(rule.cap, allocated - rule.buffer - max(0, pending)))


@dataclass(frozen=True)
class SkuStock:
    """A TikTok SKU to compute: its NetSuite item and the warehouses TikTok assigned it to."""

    sku_id: str
    seller_sku: str
    item_id: str | None
    warehouses: tuple[str, ...]
    categories: tuple[str, ...] = ()
    listings: int = 1


@dataclass(frozen=True)
class Line:
    """How one (SKU, warehouse) number came about, for dry runs, `ttns inventory show` and tests."""

    sku_id: str
    seller_sku: str
    warehouse_id: str
    available: int
    allocation: Decimal
    buffer: int
    pending: int
    reserved: int  # TikTok's own reservations not yet committed in NetSuite (0 when not read)
    listings: int
    cap: int
    quantity: int
    locations: tuple[str, ...]
    sources: tuple[str, ...]

    def explain(self) -> str:
        base = f"{self.seller_sku} @ {self.warehouse_id}: available {self.available} (locations " \
               f"{', '.join(self.locations) or '-'}) * {self.allocation}"
        if self.listings > 1:
            base += f" / {self.listings} listings"
        pending = f"pending {self.pending}" + (f" (TikTok reserved {self.reserved})" if self.reserved else "")
        return (f"{base} - buffer {self.buffer} - {pending} -> {self.quantity}"
                f"{' (capped)' if self.quantity == self.cap and self.cap < self.available else ''}"
                f" [{', '.join(self.sources)}]")


@dataclass(frozen=True)
class Problem:
    code: str  # UNLINKED_WAREHOUSE | UNMATCHED_SKU | DISABLED
    sku_id: str
    warehouse_id: str = ""
    detail: str = ""


@dataclass
class ProductPlan:
    product_id: str
    quantities: Quantities = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # SKUs left out (disabled, unmatched, FBT only)

    def blocking(self) -> list[Problem]:
        """Problems that make a SKU unsendable (TikTok needs all its warehouses)."""
        return [p for p in self.problems if p.code == "UNLINKED_WAREHOUSE"]


def pending_at(pending: Mapping[str | None, int], warehouse_id: str) -> int:
    """Units pending at this warehouse; units whose warehouse is unknown count everywhere (never
    oversell while TikTok has orders NetSuite has not committed)."""
    return int(pending.get(warehouse_id, 0)) + int(pending.get(None, 0))


def plan_product(
    product_id: str,
    skus: Sequence[SkuStock],
    *,
    locations: LocationMap,
    stock: Stock,
    rule_for: Callable[[SkuStock], ResolvedRule],
    pending: Mapping[str, Mapping[str | None, int]] | None = None,
    reserved: Mapping[tuple[str, str], int] | None = None,
    unmatched: str = "leave",
) -> ProductPlan:
    """Quantities for every sendable SKU of one product, every non-FBT warehouse of each (pure).
    ``unmatched`` (inventory.yaml): ``leave`` skips a SKU with no NetSuite item, otherwise it is 0.

    ``pending``: units of TikTok orders the bridge recorded but NetSuite has not committed, per
    seller SKU and warehouse (None: warehouse unknown). ``reserved``: per (sku id, warehouse), units
    TikTok reserved beyond NetSuite's commitments to this shop's orders; the larger of the two is
    subtracted."""
    plan = ProductPlan(product_id)
    pending = pending or {}
    reserved = reserved or {}
    for sku in skus:
        rule = rule_for(sku)
        if not rule.enabled:
            plan.skipped.append(sku.sku_id)
            plan.problems.append(Problem("DISABLED", sku.sku_id, detail=f"disabled by {rule.sources[-1]}"))
            continue
        if sku.item_id is None:
            plan.problems.append(Problem("UNMATCHED_SKU", sku.sku_id, detail=f"seller SKU {sku.seller_sku!r} "
                                         "matches no NetSuite item"))
            sold_out = [w for w in sku.warehouses if not locations.is_tiktok_managed(w)]
            if unmatched == "leave" or not sold_out:
                plan.skipped.append(sku.sku_id)
            else:  # inventory.yaml unmatched: nothing in NetSuite backs it, so it is sold out
                plan.quantities[sku.sku_id] = dict.fromkeys(sold_out, 0)
            continue
        merchant = [w for w in sku.warehouses if not locations.is_tiktok_managed(w)]
        if not merchant:
            plan.skipped.append(sku.sku_id)  # FBT only: TikTok counts it
            continue
        per_wh: dict[str, int] = {}
        blocked = False
        for wid in merchant:
            link = locations.link(wid)
            if link is None:
                plan.problems.append(Problem("UNLINKED_WAREHOUSE", sku.sku_id, wid,
                                             f"warehouse {wid} has no NetSuite location in locations.yaml"))
                blocked = True
                continue
            available = sum(max(0, int(stock.get((sku.item_id, loc), 0))) for loc in link.locations)
            known = pending_at(pending.get(sku.seller_sku, {}), wid)
            tiktok = int(reserved.get((sku.sku_id, wid), 0))
            p = max(known, tiktok)
            qty = sellable_quantity(available, rule, p, sku.listings)
            per_wh[wid] = qty
            plan.lines.append(Line(sku.sku_id, sku.seller_sku, wid, available, rule.allocation, rule.buffer, p,
                                   tiktok if tiktok > known else 0, sku.listings, rule.cap, qty, link.locations,
                                   rule.sources))
        if blocked:
            plan.skipped.append(sku.sku_id)
            continue
        plan.quantities[sku.sku_id] = per_wh
    return plan


def changed(quantities: Quantities, last: Mapping[tuple[str, str], int]) -> Quantities:
    """The SKUs whose number differs from the last one pushed in any warehouse, each with all its
    warehouses (TikTok refuses a SKU sent with only some of them)."""
    return {sku: dict(per_wh) for sku, per_wh in quantities.items()
            if any(last.get((sku, wh)) != q for wh, q in per_wh.items())}


def tiktok_reserved(
    skus: Sequence[SkuStock],
    locations: LocationMap,
    tiktok_committed: Mapping[tuple[str, str], int],
    netsuite_committed: Mapping[tuple[str, str], int],
) -> dict[tuple[str, str], int]:
    """Units TikTok has reserved per (sku id, warehouse) that NetSuite has not committed to this
    shop's TikTok orders at the warehouse's locations: TikTok's committed quantity minus NetSuite's
    (split evenly when several listings sell one item), never below zero."""
    out: dict[tuple[str, str], int] = {}
    for sku in skus:
        if sku.item_id is None:
            continue
        for wid in sku.warehouses:
            link = locations.link(wid)
            tc = int(tiktok_committed.get((sku.sku_id, wid), 0))
            if link is None or link.tiktok_managed or tc <= 0:
                continue
            nsc = sum(int(netsuite_committed.get((sku.item_id, loc), 0)) for loc in link.locations)
            out[(sku.sku_id, wid)] = max(0, tc - nsc // max(1, sku.listings))
    return out


def update_body(quantities: Quantities) -> dict[str, Any]:
    """The Update Inventory request body for one product."""
    return {"skus": [
        {"id": sku, "inventory": [{"warehouse_id": wh, "quantity": int(q)} for wh, q in sorted(per_wh.items())]}
        for sku, per_wh in sorted(quantities.items())
    ]}


__all__ = [
    "Line",
    "LocationMap",
    "Problem",
    "ProductPlan",
    "Quantities",
    "SkuStock",
    "Stock",
    "WarehouseInfo",
    "WarehouseLink",
    "changed",
    "link_warehouses",
    "pending_at",
    "plan_product",
    "sellable_quantity",
    "tiktok_reserved",
    "update_body",
]
