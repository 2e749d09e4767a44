"""Inventory: NetSuite is the master and TikTok never oversells.

Triggers, all ending in ``inventory.push`` jobs keyed by TikTok product:

* NetSuite ``inventory.changed`` (user events on every stock-moving record, and sales orders whose
  commitment changed) and ``inventory.sweep`` (the Map/Reduce delta sweep) → ``inventory.changes``
  turns item ids into the products selling them and *coalesces*: one push per product per window
  (``coalesce_seconds`` in inventory.yaml), so a burst of 50 stock moves becomes one TikTok call;
* TikTok webhook 27 (inventory status change) → a *check* of that product against TikTok's own
  numbers;
* a TikTok order the orders flow records (``on_order_seen``) → a recheck of its products;
* a TikTok order the orders flow sees for the first time, before writing it (``on_tiktok_sale``) →
  ``inventory.raise``: when the sale raises a SKU's dynamic buffer, TikTok's own numbers are lowered
  by the raise at once, without waiting for NetSuite's (a raise only lowers what TikTok may sell);
* nightly ``inventory.full`` (cron) and ``ttns inventory push --all`` → every product re-asserted,
  zeros included.

A push reads NetSuite's available stock for the product's items, subtracts the TikTok units not
yet committed in NetSuite, applies inventory.yaml, and sends one Update Inventory per product with
every warehouse of each SKU; SKUs whose numbers equal the ones TikTok shows now are left out (a
forced push sends them all). The comparison is with TikTok's own numbers, read before every update,
because TikTok moves them itself on every order and cancellation. TikTok's refusals become
exceptions for a person (promotion-locked stock, unlinked warehouses …), never retry loops.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bridge.clock import Clock
from bridge.errors import Evidence, NeedsHumanError, SkippableError, tiktok_refusal_codes
from bridge.mapping.catalog import MatchResult, MatchRow, NsItem, TtSku, match_skus
from bridge.mapping.catalog_spec import CatalogSpec, MatchSpec
from bridge.mapping.inventory import (
    Line,
    LocationMap,
    ProductPlan,
    Quantities,
    SkuStock,
    Stock,
    WarehouseInfo,
    changed,
    link_warehouses,
    plan_product,
    tiktok_reserved,
)
from bridge.mapping.inventory_buffer import (
    BufferBounds,
    BufferDecision,
    FreeStock,
    applied_level,
    dynamic_buffer,
    lowered,
)
from bridge.mapping.inventory_spec import TIKTOK_MIN_QUANTITY, InventorySpec, ResolvedRule
from bridge.mapping.locations_spec import LocationsSpec
from bridge.mapping.specs import SpecError
from bridge.ports.inventory import InventoryRepository, Place, SkuRow, units_of
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import NetSuiteInventory
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories, Shop
from bridge.ports.tiktok import ProductInfo, Refusal, TikTokInventory
from bridge.priority import urgent

log = logging.getLogger("bridge.flows.inventory")

KIND_CHANGES = "inventory.changes"
KIND_PUSH = "inventory.push"
KIND_FULL = "inventory.full"
KIND_REFRESH = "inventory.refresh"
KIND_INDEX = "inventory.index"
KIND_RECHECK = "inventory.recheck"  # a raised dynamic buffer is recomputed (and released) later
KIND_RAISE = "inventory.raise"  # a TikTok sale raised a dynamic buffer: TikTok's numbers lowered at once
PRODUCT_TOPICS = ("5", "15", "16")  # product status change, information change, creation
FLOW = "inventory"
NETSUITE_TOPICS = ("inventory.changed", "inventory.sweep")

# TikTok's refusals this flow acts on (their codes and the pages' words: bridge.errors.TIKTOK_REFUSALS).
# The SKU's warehouses are not what was sent: re-read the product, retry once.
WAREHOUSES_CHANGED = tiktok_refusal_codes("WAREHOUSES_CHANGED")
PROMOTION_LOCKED = tiktok_refusal_codes("PROMOTION_LOCKED")
NOT_LIVE = tiktok_refusal_codes("NOT_LIVE")
# Update Inventory documents quantity as [1, 99,999]; a TikTok that holds to it refuses a sold-out 0.
QUANTITY_OUT_OF_RANGE = tiktok_refusal_codes("QUANTITY_OUT_OF_RANGE")
GONE = tiktok_refusal_codes("PRODUCT_GONE")

Mode = Literal["delta", "force", "check"]
# Claimed before order syncs (50): in a spike a stock push waiting behind hundreds of order writes is
# an oversell; a push is a few reads and one TikTok call.
PUSH_PRIORITY = 45
# TikTok sales counted and buffer raises sent to TikTok (no NetSuite call): claimed before everything else.
URGENT_PRIORITY = 30
ORDER_SEEN = "order"  # observations recording a TikTok order whose sale was counted (InventoryRepository.first_sight)
ORDER_SEEN_SECONDS = 86400.0  # how long an order's counted sale is remembered (its sync may be retried for hours)
LATENCY_LOOKBACK_SECONDS = 600.0  # order and push latencies of the last ten minutes feed the dynamic buffer


def product_key(shop_id: str, product_id: str) -> str:
    return f"inventory:{shop_id}:{product_id}"


def zero_refused_cursor(shop_id: str) -> str:
    """Set once TikTok refused a 0 for the shop (strategy ``auto`` then deactivates instead)."""
    return f"inventory.zero_refused:{shop_id}"


def deactivated_cursor(shop_id: str, product_id: str) -> str:
    """Set while a product is deactivated by the bridge because every SKU sold out."""
    return f"inventory.sold_out:{shop_id}:{product_id}"


# --- routing (pure) ---------------------------------------------------------------------------------


def route_netsuite(event: InboundEvent) -> list[JobSpec]:
    """``inventory.changed`` / ``inventory.sweep``: the item ids whose stock moved, in one job."""
    data = event.data.get("data") if isinstance(event.data.get("data"), dict) else {}
    items = sorted({str(c.get("item_id")) for c in (data or {}).get("changes") or []
                    if isinstance(c, dict) and c.get("item_id") not in (None, "")})
    if not items:
        return []
    payload: dict[str, Any] = {"item_ids": items, "topic": event.topic, "event_id": event.event_id}
    for name in ("record_type", "event", "external_id"):  # which record moved them (the user event's data)
        value = (data or {}).get(name)
        if isinstance(value, str) and value:
            payload[name] = value
    return [JobSpec(kind=KIND_CHANGES, key=f"{KIND_CHANGES}:{event.event_id}"[:191], payload=payload,
                    idempotency_key=f"{KIND_CHANGES}:{event.source}:{event.event_id}"[:191], priority=40)]


def route_tiktok_stock(event: InboundEvent) -> list[JobSpec]:
    """Webhook 27 (inventory status change): check that product against TikTok's own numbers."""
    data = event.data.get("data") or {}
    product_id = str(data.get("product_id") or "")
    shop_id = event.shop_id or str(event.data.get("shop_id") or "")
    if not product_id or not shop_id:
        return []
    return [JobSpec(kind=KIND_PUSH, key=product_key(shop_id, product_id),
                    payload={"shop_id": shop_id, "product_id": product_id, "mode": "check",
                             "reason": f"webhook 27 {data.get('current_inventory_status') or ''}".strip()},
                    idempotency_key=f"{KIND_PUSH}:tiktok:{event.event_id}", priority=40)]


def route_tiktok_product(event: InboundEvent) -> list[JobSpec]:
    """Webhooks 5 / 15 / 16: a product changed status, changed (e.g. its SKUs' warehouses) or was
    created on TikTok: re-read it into the SKU index, then recheck its stock."""
    data = event.data.get("data") or {}
    product_id = str(data.get("product_id") or "")
    shop_id = event.shop_id or str(event.data.get("shop_id") or "")
    if not product_id or not shop_id:
        return []
    return [JobSpec(kind=KIND_INDEX, key=product_key(shop_id, product_id),
                    payload={"shop_id": shop_id, "product_id": product_id, "reason": f"webhook {event.topic}"},
                    idempotency_key=f"{KIND_INDEX}:tiktok:{event.event_id}", priority=70)]


# --- the service ---------------------------------------------------------------------------------------


@dataclass
class PushResult:
    shop_id: str
    product_id: str
    action: str  # sent | unchanged | skipped | dry_run | deactivated (sold out, docs/inventory.md)
    sent: Quantities = field(default_factory=dict)
    plan: ProductPlan | None = None
    reason: str = ""
    refused: list[Refusal] = field(default_factory=list)
    buffers: dict[str, BufferDecision] = field(default_factory=dict)  # sku id -> the buffer applied

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "product_id": self.product_id, "sent": self.sent}
        if self.reason:
            out["reason"] = self.reason
        if self.plan is not None:
            out["skipped_skus"] = self.plan.skipped
            out["problems"] = [f"{p.code} {p.sku_id} {p.warehouse_id}".strip() for p in self.plan.problems]
        if self.refused:
            out["refused"] = [f"{r.code} {r.sku_id}: {r.message}" for r in self.refused]
        raised = {sku: d.buffer for sku, d in self.buffers.items() if d.buffer > d.floor}
        if raised:
            out["buffers"] = raised
        return out


@dataclass
class InventorySync:
    store: Repositories
    inv: InventoryRepository
    tiktok: TikTokInventory
    netsuite: NetSuiteInventory
    specs: Specs
    clock: Clock
    # (shop, product) -> the recheck step this process created the recheck of (due when the step ends):
    # the enqueue is idempotent on it, so a flash sale's hundreds of asks per step cost one write
    _rechecks: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _rechecks_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- specs ----------------------------------------------------------------------------------
    def spec(self) -> InventorySpec:
        try:
            return self.specs.get("inventory", InventorySpec)
        except SpecError:
            return InventorySpec()  # no inventory.yaml: everything available is offered, no buffer

    def locations_spec(self) -> LocationsSpec:
        return self.specs.get("locations", LocationsSpec)

    def match_spec(self, shop: Shop) -> MatchSpec:
        try:
            # only the SKU matching part: a catalog.yaml not filled in for pushing products does not hold stock
            return self.specs.get("catalog", CatalogSpec, needs=("match",)).for_shop(shop.id, shop.name).match
        except SpecError:
            return MatchSpec()

    def location_map(self, shop: Shop) -> LocationMap:
        spec = self.locations_spec()
        pulled = [_warehouse(p) for p in self.inv.places("warehouse", shop.id)]
        return link_warehouses(spec.for_shop(shop.id, shop.name), pulled, spec.ignore_warehouses)

    # -- coalescing -----------------------------------------------------------------------------
    def coalesce(self, shop_id: str, product_ids: Iterable[str], reason: str, *, mode: Mode = "delta",
                 observe: bool = True) -> int:
        """At most two pushes per product per window (``coalesce_seconds``), the first at once: the
        first change of a window queues a push due now; changes arriving while a push of the product
        is queued and due join it (it reads the stock when it runs: no backlog of stale pushes builds
        up behind a slow one); changes after the window's push started join one push due when the
        window closes. Per-product order holds: every push of a product has the product's key.
        ``observe``: the push's stock -> TikTok latency feeds the dynamic buffer. Returns jobs created."""
        window = self.spec().coalesce_seconds
        now = self.clock.now()
        bucket = math.floor(now.timestamp() / window)
        closes = datetime.fromtimestamp((bucket + 1) * window, UTC)
        created = 0
        for pid in sorted(set(product_ids)):
            payload = {"shop_id": shop_id, "product_id": pid, "mode": mode, "reason": reason}
            if observe:
                payload["since"] = now.isoformat()
            spec = JobSpec(kind=KIND_PUSH, key=product_key(shop_id, pid), payload=payload, coalesce=True,
                           idempotency_key=f"{KIND_PUSH}:{shop_id}:{pid}:{bucket}", run_at=now,
                           priority=PUSH_PRIORITY)
            res = self.store.queue.enqueue(spec)
            if not res.created:
                job = self.store.queue.get(res.job_id)
                if job is not None and job.status != "queued":
                    # The window's first push already read the stock: one more when the window closes.
                    res = self.store.queue.enqueue(JobSpec(
                        kind=KIND_PUSH, key=spec.key, payload=payload, priority=PUSH_PRIORITY, coalesce=True,
                        idempotency_key=f"{spec.idempotency_key}:after", run_at=max(closes, now)))
            created += int(res.created)
        return created

    def on_items_changed(self, item_ids: Sequence[str], reason: str, *, written_for: str = "") -> dict[str, Any]:
        """Push the products selling these items. ``written_for``: the change is the creation of a TikTok
        sales order of that shop (``created_tiktok_order``): that shop's products are rechecked later
        (``recheck_later``), every other shop's pushed now (the order took stock they sell too)."""
        products = self.inv.products_for_items(item_ids)
        by_shop: dict[str, set[str]] = {}
        for shop_id, pid in products:
            by_shop.setdefault(shop_id, set()).add(pid)
        created = 0
        for shop_id, pids in sorted(by_shop.items()):
            shop = self.store.shops.get(shop_id)
            if shop is None or not shop.flow_enabled(FLOW):
                continue
            if shop_id == written_for:
                created += self.recheck_later(shop_id, pids)
            else:
                created += self.coalesce(shop_id, pids, reason)
        return {"items": len(item_ids), "products": len(products), "jobs": created,
                **({"rechecked_later": written_for} if written_for else {})}

    def created_tiktok_order(self, payload: dict[str, Any]) -> str:
        """The shop whose TikTok sales order an ``inventory.changed`` event reports the creation of, or "".
        The bridge alone creates them (external id ``TTS-{shop}-{order}``), and creating one moves units
        the bridge counted as pending into NetSuite's commitments to that shop's TikTok orders; a push
        counts both (pending, and TikTok's reservations beyond those commitments, against NetSuite's
        available), so the shop's numbers do not change unless NetSuite committed something else."""
        eid = str(payload.get("external_id") or "")
        if payload.get("record_type") != "salesorder" or payload.get("event") != "create" or not eid.startswith("TTS-"):
            return ""
        for shop in self.store.shops.list():
            if eid.startswith(f"TTS-{shop.id}-"):
                return shop.id
        return ""

    def recheck_later(self, shop_id: str, product_ids: Iterable[str]) -> int:
        """One push of each product when the recheck step (``velocity_window_seconds`` / 6, at least 1 s)
        ends, however many orders ask for it meanwhile: for changes that should leave TikTok's numbers as
        they are (a TikTok order's units moving into NetSuite), verified without a NetSuite read per order.
        In a flash sale those reads took the NetSuite slots the sales orders need (docs/inventory.md).
        Its own key: a job waiting for a later time under the product's key would hold back the
        product's pushes until then. When due it queues a push like any change. Coalesced, at the pushes'
        priority: a recheck still waiting (its time passed while the worker was busy with a burst) absorbs
        the later ones, so a backlog never becomes a string of pushes, one per missed step, after the
        burst (at priority 80 they waited behind every order sync, then ran one per missed step)."""
        spec = self.spec()
        step = max(1.0, spec.velocity_window_seconds / 6)
        bucket = math.floor(self.clock.now().timestamp() / step)
        created = 0
        for pid in sorted(set(product_ids)):
            with self._rechecks_lock:
                if self._rechecks.get((shop_id, pid)) == bucket:
                    continue  # queued by this process for this step already: the enqueue would find it
            res = self.store.queue.enqueue(JobSpec(
                kind=KIND_RECHECK, key=f"{KIND_RECHECK}:{shop_id}:{pid}",
                payload={"shop_id": shop_id, "product_id": pid},
                idempotency_key=f"{KIND_RECHECK}:{shop_id}:{pid}:{bucket}", coalesce=True,
                run_at=datetime.fromtimestamp((bucket + 1) * step, UTC), priority=PUSH_PRIORITY))
            if res.created:  # (one absorbed by an earlier step's recheck may run before this step ends)
                with self._rechecks_lock:
                    self._rechecks[(shop_id, pid)] = bucket
            created += int(res.created)
        return created

    # -- one product ----------------------------------------------------------------------------
    def _shop(self, shop_id: str) -> Shop:
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled(FLOW):
            raise SkippableError(f"the inventory flow is off for shop {shop_id}")
        return shop

    def inputs(self, shop: Shop, product_id: str, rows: Sequence[SkuRow] | None = None) -> PlanInputs:
        """Everything a product's numbers depend on, read in an order where an order moving between
        two reads is counted twice (safe), never missed: pending links, then NetSuite's
        commitments to this shop's TikTok orders and its available stock, both in one query (one
        moment: an order NetSuite commits is in both or in neither)."""
        rows = list(rows if rows is not None else self.inv.product_skus(shop.id, product_id))
        spec = self.spec()
        items = sorted({r.item_id for r in rows if r.item_id and not r.item_inactive})
        pending = self.inv.pending_units(shop.id, include_staged=spec.count_staged_orders)
        stock, committed = self.netsuite.stock_figures(shop.id, items) if items else ({}, {})
        skus = [SkuStock(r.sku_id, r.seller_sku, r.item_id, r.warehouses, r.categories, r.listings) for r in rows]

        def rule_for(s: SkuStock) -> ResolvedRule:
            return spec.rule_for(shop.id, s.seller_sku, s.categories, shop.name)

        return PlanInputs(product_id, skus, self.location_map(shop), stock, pending, committed, rule_for,
                          {r.sku_id for r in rows if r.item_inactive}, spec.unmatched_for(shop.id, shop.name))

    def plan_with_buffers(self, shop: Shop, product_id: str) -> tuple[ProductPlan, dict[str, BufferDecision]]:
        """What a push would compute now, with TikTok's reservations and the dynamic buffers, and
        how each buffer came about (reads NetSuite and TikTok, records nothing)."""
        inputs = self.inputs(shop, product_id)
        actual = self.tiktok.stock(shop.id, [product_id])
        committed = {(s, w): st.committed for s, per in actual.items() for w, st in per.items()}
        inputs, decisions = self.buffers(shop, inputs, inputs.plan(committed), record=False)
        return inputs.plan(committed), decisions

    def plan(self, shop: Shop, product_id: str, rows: Sequence[SkuRow] | None = None) -> ProductPlan:
        """What the product's SKUs should show on TikTok by NetSuite and the bridge's own records
        (reads NetSuite, writes nothing)."""
        return self.inputs(shop, product_id, rows).plan()

    def push_product(self, shop_id: str, product_id: str, *, mode: Mode = "delta", dry_run: bool = False,
                     reason: str = "", since: datetime | None = None) -> PushResult:
        """Push one product's numbers. ``since``: when the change that queued this push was seen (its
        stock -> TikTok latency is observed for the dynamic buffer)."""
        with urgent():  # its NetSuite reads go before queued order writes: a late push is an oversell
            result = self._push_product(shop_id, product_id, mode=mode, dry_run=dry_run, reason=reason)
        if not dry_run:
            self._after_push(shop_id, product_id, result, since)
        return result

    def _after_push(self, shop_id: str, product_id: str, result: PushResult, since: datetime | None) -> None:
        """Observe the push latency; while a dynamic buffer is raised, recheck the product later so the
        buffer is released as the sales slow down (no other change may come)."""
        spec = self.spec()
        now = self.clock.now()
        if since is not None and result.action == "sent":
            keep = now - timedelta(seconds=max(LATENCY_LOOKBACK_SECONDS, spec.velocity_window_seconds))
            self.inv.observe(shop_id, "push", {"": (max(0.0, (now - since).total_seconds()), None)}, now, keep)
        if any(d.buffer > d.floor for d in result.buffers.values()):
            self.recheck_later(shop_id, [product_id])

    def buffers(self, shop: Shop, inputs: PlanInputs, plan: ProductPlan, *, record: bool
                ) -> tuple[PlanInputs, dict[str, BufferDecision]]:
        """The dynamic buffer of every SKU of ``plan`` (computed with the spec's buffers and TikTok's
        reservations) from the observations, and the inputs that apply it. ``record``: this plan's
        free stock becomes an observation."""
        spec = self.spec()
        rules = {s.sku_id: inputs.rule_for(s) for s in inputs.skus if s.item_id is not None}
        free: dict[str, int] = {}
        for ln in plan.lines:
            if ln.sku_id in rules and rules[ln.sku_id].dynamic:
                free[ln.sku_id] = free.get(ln.sku_id, 0) + ln.available - ln.pending
        now = self.clock.now()
        decisions: dict[str, BufferDecision] = {}
        for sid, r in rules.items():
            if sid not in free:
                decisions[sid] = dynamic_buffer(BufferBounds(r.buffer, r.buffer_max, False), [], now, [], [])
        if not free:
            return inputs, decisions
        window = timedelta(seconds=spec.velocity_window_seconds)
        seller = {s.sku_id: s.seller_sku for s in inputs.skus}
        seen = self._seen(shop.id, sorted(free), [seller.get(sid, "") for sid in free])
        for sid, units in free.items():
            r = rules[sid]
            past, applied = seen.history.get(sid, []), seen.applied.get(sid, [])
            obs = [FreeStock(a, int(v)) for a, v, _b in past] + [FreeStock(now, units)]
            decisions[sid] = dynamic_buffer(
                BufferBounds(r.buffer, r.buffer_max, True, spec.velocity_window_seconds, spec.fallback_latency_seconds),
                obs, now, seen.orders, seen.pushes, seen.sales.get(seller.get(sid, ""), []), applied)
        if record:
            # A held level is not recorded as applied again: only a window of observations is kept, so a
            # hold re-recorded at every recheck would always look fresh and never end once the latencies
            # outgrow the window. The hold ends at the latest a window after the level was last decided.
            self.inv.observe(shop.id, "free", {sid: (free[sid], None if decisions[sid].bound == "held"
                                                     else decisions[sid].buffer) for sid in free}, now, now - window)
        if all(d.buffer == rules[sid].buffer for sid, d in decisions.items()):
            return inputs, decisions
        base_rule = inputs.rule_for

        def rule_for(s: SkuStock) -> ResolvedRule:
            r = base_rule(s)
            d = decisions.get(s.sku_id)
            return replace(r, buffer=d.buffer) if d is not None else r

        return replace(inputs, rule_for=rule_for), decisions

    def _seen(self, shop_id: str, sku_ids: Sequence[str], seller_skus: Sequence[str]) -> Seen:
        """The dynamic buffer's observations for these SKUs (one read each)."""
        spec = self.spec()
        now = self.clock.now()
        since = now - timedelta(seconds=spec.velocity_window_seconds)
        lookback = now - timedelta(seconds=max(LATENCY_LOOKBACK_SECONDS, spec.velocity_window_seconds))
        history = self.inv.observations(shop_id, "free", sku_ids, since)
        raised = self.inv.observations(shop_id, "raise", sku_ids, since)
        applied = {sid: sorted([(a, int(b)) for a, _v, b in history.get(sid, []) if b is not None]
                               + [(a, int(v)) for a, v, _b in raised.get(sid, [])]) for sid in sku_ids}
        sold = self.inv.observations(shop_id, "sale", sorted(set(seller_skus) - {""}), since)
        sales = {sku: [(a, int(v)) for a, v, _b in rows] for sku, rows in sold.items()}
        pushes = [v for _a, v, _b in self.inv.observations(shop_id, "push", [""], lookback).get("", [])]
        return Seen(history, applied, sales, self.inv.order_latencies(shop_id, lookback), pushes)

    def on_tiktok_sale(self, shop_id: str, units: dict[str, int], order_id: str = "") -> int:
        """One TikTok order seen for the first time (``on_tiktok_sales``); without ``order_id`` the units
        are counted without the once-per-order check. Returns jobs created."""
        if order_id:
            return self.on_tiktok_sales(shop_id, {order_id: units})
        return self._count_sales(shop_id, units)

    def on_order_sold(self, shop_id: str, order_id: str, units: dict[str, int]) -> int:
        """The orders flow's hook (``OrderSync.on_sale``): a sync found an order with no link. Usually the
        sales intake counted it already: that is found with a read, and only an uncounted order takes the
        write transaction of ``first_sight`` (which still decides, so it is counted once)."""
        if not self.uncounted_orders(shop_id, [order_id]):
            return 0
        return self.on_tiktok_sales(shop_id, {order_id: units})

    def uncounted_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[str]:
        """Of these TikTok orders, the ones whose sale has not been counted (read only)."""
        if not order_ids:
            return []
        since = self.clock.now() - timedelta(seconds=ORDER_SEEN_SECONDS)
        seen = self.inv.observations(shop_id, ORDER_SEEN, list(order_ids), since)
        return [oid for oid in order_ids if not seen.get(oid)]

    def on_tiktok_sales(self, shop_id: str, orders: Mapping[str, Mapping[str, int]]) -> int:
        """TikTok orders seen (order id -> units per seller SKU), before they are written: each order's
        units are a sale the dynamic buffer counts from now, once per order however many jobs see it
        and however often they are retried (``first_sight`` marks the order seen and records its units
        in one transaction), and each product selling them gets an ``inventory.raise``. Cheap (a few
        writes, one index read, a few enqueues). A store error reaches the caller, whose job is retried:
        a sale is never dropped with a log line. Returns jobs created."""
        wanted = {oid: u for oid, u in orders.items() if oid and any(n > 0 for n in u.values())}
        shop = self.store.shops.get(shop_id)
        if not wanted or shop is None or not shop.flow_enabled(FLOW):
            return 0
        now = self.clock.now()
        window = timedelta(seconds=self.spec().velocity_window_seconds)
        new = self.inv.first_sight(shop_id, sorted(wanted), now, now - timedelta(seconds=ORDER_SEEN_SECONDS),
                                   sales=wanted, sales_keep_since=now - window)
        return self._raise(shop_id, units_of(new, wanted))

    def _count_sales(self, shop_id: str, units: Mapping[str, int]) -> int:
        sold = {sku: n for sku, n in units.items() if sku and n > 0}
        shop = self.store.shops.get(shop_id)
        if not sold or shop is None or not shop.flow_enabled(FLOW):
            return 0
        now = self.clock.now()
        window = timedelta(seconds=self.spec().velocity_window_seconds)
        self.inv.observe(shop_id, "sale", {sku: (n, None) for sku, n in sold.items()}, now, now - window)
        return self._raise(shop_id, sold)

    def _raise(self, shop_id: str, sold: Mapping[str, int]) -> int:
        """An express ``inventory.raise`` for each product selling these SKUs."""
        if not sold:
            return 0
        created = 0
        for pid in sorted(self.inv.products_for_seller_skus(shop_id, sold)):
            created += int(self.store.queue.enqueue(JobSpec(
                kind=KIND_RAISE, key=f"{KIND_RAISE}:{shop_id}:{pid}", coalesce=True, priority=URGENT_PRIORITY,
                payload={"shop_id": shop_id, "product_id": pid})).created)
        return created

    def raise_buffers(self, shop_id: str, product_id: str) -> dict[str, Any]:
        """Recompute the product's dynamic buffers from the observations alone (no NetSuite read);
        where one rose above the buffer in TikTok's numbers, lower TikTok's own numbers by the rise
        (``lowered``) and record it. The next push, from NetSuite's figures, holds it (``_held``)."""
        shop = self._shop(shop_id)
        spec = self.spec()
        rows = [r for r in self.inv.product_skus(shop_id, product_id) if r.item_id and not r.item_inactive]
        rules = {r.sku_id: spec.rule_for(shop.id, r.seller_sku, r.categories, shop.name) for r in rows}
        dynamic = [r for r in rows if rules[r.sku_id].dynamic]
        if not dynamic:
            return {"action": "unchanged", "reason": "no dynamic buffer"}
        now = self.clock.now()
        seen = self._seen(shop_id, [r.sku_id for r in dynamic], [r.seller_sku for r in dynamic])
        raises: dict[str, tuple[int, int]] = {}
        decisions: dict[str, BufferDecision] = {}
        for r in dynamic:
            rule = rules[r.sku_id]
            applied = seen.applied.get(r.sku_id, [])
            d = dynamic_buffer(
                BufferBounds(rule.buffer, rule.buffer_max, True, spec.velocity_window_seconds,
                             spec.fallback_latency_seconds),
                [FreeStock(a, int(v)) for a, v, _b in seen.history.get(r.sku_id, [])], now, seen.orders, seen.pushes,
                seen.sales.get(r.seller_sku, []), applied)
            in_force = applied_level(applied, rule.buffer)
            if d.buffer > in_force:
                raises[r.sku_id], decisions[r.sku_id] = (in_force, d.buffer), d
        if not raises:
            return {"action": "unchanged"}
        managed = self.inv.last_pushed(shop_id, sorted(raises))
        actual = self.tiktok.stock(shop.id, [product_id])
        current = {sku: {wh: st.available for wh, st in per.items() if (sku, wh) in managed}
                   for sku, per in actual.items() if sku in raises}
        todo = lowered(current, raises, 0 if self.sold_out_strategy(shop) == "zero" else TIKTOK_MIN_QUANTITY)
        refused = self.tiktok.update_inventory(shop.id, product_id, todo) if todo else []
        if refused:  # the push that follows sends NetSuite's figures and makes any refusal an exception
            log.warning("TikTok refused a buffer raise", extra={"shop_id": shop_id, "product_id": product_id,
                                                                  "codes": sorted({x.code for x in refused})})
            return {"action": "refused", "refused": [f"{x.code} {x.sku_id}" for x in refused]}
        self.inv.observe(shop_id, "raise", {sid: (new, None) for sid, (_old, new) in raises.items()}, now,
                         now - timedelta(seconds=spec.velocity_window_seconds))
        self._after_push(shop_id, product_id, PushResult(shop_id, product_id, "raised", todo, buffers=decisions), None)
        log.info("dynamic buffer raised on TikTok", extra={"shop_id": shop_id, "product_id": product_id,
                                                           "buffers": {s: n for s, (_o, n) in raises.items()}})
        return {"action": "raised" if todo else "recorded", "buffers": {s: n for s, (_o, n) in raises.items()},
                "sent": todo}

    def _push_product(self, shop_id: str, product_id: str, *, mode: Mode, dry_run: bool, reason: str
                      ) -> PushResult:
        shop = self._shop(shop_id)
        rows = self.inv.product_skus(shop_id, product_id)
        if not rows:
            rows = self.index_product(shop, product_id)
            if not rows:
                return PushResult(shop_id, product_id, "skipped", reason="TikTok has no such product")
        if any(r.product_status and r.product_status != "ACTIVATE" for r in rows):
            rows = self._reactivate(shop, product_id, rows, dry_run)
            if not rows:
                return PushResult(shop_id, product_id, "skipped", reason="product is not live; TikTok takes stock "
                                  "of live products only")
        result = self._send(shop, product_id, self.inputs(shop, product_id, rows), mode, dry_run, reason,
                            retried=False)
        blocking = result.plan.blocking() if result.plan is not None else []
        if blocking and not dry_run:
            whs = sorted({p.warehouse_id for p in blocking})
            raise NeedsHumanError(
                f"product {product_id}: TikTok warehouse(s) {', '.join(whs)} have no NetSuite location, so "
                f"{len({p.sku_id for p in blocking})} SKU(s) cannot be updated",
                code="UNLINKED_WAREHOUSE", owner="admin", entity=product_key(shop_id, product_id),
                fix_hint="Link the warehouse in mapping_specs/locations.yaml (`ttns locations pull`, then "
                         "`ttns locations link`), or list it under ignore_warehouses; then replay.",
                evidence=Evidence.of("tiktok", "inventory plan", details={"warehouses": whs,
                                                                           "sent": result.sent}))
        return result

    def _send(self, shop: Shop, product_id: str, inputs: PlanInputs, mode: Mode, dry_run: bool, reason: str, *,
              retried: bool) -> PushResult:
        buffers: dict[str, BufferDecision] = {}
        result = self._send_with(shop, product_id, inputs, mode, dry_run, reason, retried=retried, buffers=buffers)
        if not result.buffers:
            result.buffers = buffers
        return result

    def _send_with(self, shop: Shop, product_id: str, inputs: PlanInputs, mode: Mode, dry_run: bool, reason: str,
                   *, retried: bool, buffers: dict[str, BufferDecision]) -> PushResult:
        """``delta`` and ``check``: every SKU whose number differs from the one TikTok shows now is
        sent; ``force``: every SKU, sent. TikTok's own numbers (available and reserved) are read
        before sending: reserved units of orders the bridge has not seen yet are not handed back,
        and the comparison is with what TikTok shows, never with the number last pushed — TikTok
        moves its number itself on every order and cancellation (by the order's units, where the
        bridge's number moves by the allocated share), and a number pushed while an order was
        counted twice between two reads must be raised again once it is counted once."""
        actual = self.tiktok.stock(shop.id, [product_id])
        committed = {(s, w): st.committed for s, per in actual.items() for w, st in per.items()}
        decided_at = self.clock.now()
        inputs, decided = self.buffers(shop, inputs, inputs.plan(committed), record=not dry_run and not retried)
        buffers.update(decided)
        base = inputs.plan()
        plan = inputs.plan(committed)
        targets = dict(plan.quantities)
        now = {(s, w): st.available for s, per in actual.items() for w, st in per.items()}
        todo = targets if mode == "force" else changed(targets, now)
        record = dict(base.quantities)
        strategy = self.sold_out_strategy(shop)
        if inputs.unmatched == "deactivate" and inputs.skus and all(s.item_id is None for s in inputs.skus):
            strategy = "deactivate"  # no SKU of the product has a NetSuite item: take it offline
        held: list[Line] = []
        if strategy != "zero":
            if strategy == "deactivate" and _all_sold_out(plan):
                return self._deactivate(shop, product_id, plan, record, dry_run, reason)
            todo, held = _hold_at_one(todo, plan)
            if mode != "force":  # a SKU already held at 1 on TikTok is not sent again
                todo = changed(todo, now)
        if dry_run:
            return PushResult(shop.id, product_id, "dry_run", todo, plan, reason)
        todo = self._with_later_raises(shop.id, todo, decided, decided_at, 0 if strategy == "zero" else 1)
        if not todo:
            self.inv.record_pushed(shop.id, product_id, record)  # TikTok already shows these numbers
            return PushResult(shop.id, product_id, "unchanged", {}, plan, reason)
        refused = self.tiktok.update_inventory(shop.id, product_id, todo)
        if not refused:
            self.inv.record_pushed(shop.id, product_id, record)
            log.info("inventory pushed", extra={"shop_id": shop.id, "product_id": product_id, "skus": len(todo),
                                                "mode": mode, "reason": reason})
            if held:
                self._held_exception(shop, product_id, held, strategy)
            return PushResult(shop.id, product_id, "sent", todo, plan, reason)
        return self._refused(shop, product_id, plan, todo, record, refused, mode, reason, retried=retried)

    def _with_later_raises(self, shop_id: str, todo: Quantities, decided: dict[str, BufferDecision],
                           since: datetime, minimum: int) -> Quantities:
        """``todo`` lowered by any buffer raise recorded since this push decided its buffers: a raise
        sent to TikTok meanwhile must not be undone by this push's older, lower buffer."""
        dyn = sorted(s for s, d in decided.items() if d.bound != "fixed" and s in todo)
        if not dyn:
            return todo
        later = self.inv.observations(shop_id, "raise", dyn, since)
        ups = {s: (decided[s].buffer, max(int(v) for _a, v, _b in rows)) for s, rows in later.items() if rows}
        low = lowered(todo, {s: up for s, up in ups.items() if up[1] > up[0]}, minimum)
        return {s: {**per, **low.get(s, {})} for s, per in todo.items()} if low else todo

    # -- sold out (inventory.yaml sold_out) ------------------------------------------------------------
    def sold_out_strategy(self, shop: Shop) -> str:
        """The strategy in effect: ``auto`` is ``zero`` until TikTok refused a 0 for the shop, then
        ``deactivate``."""
        strategy = self.spec().sold_out_for(shop.id, shop.name)
        if strategy == "auto":
            return "deactivate" if self.store.cursors.get(zero_refused_cursor(shop.id)) else "zero"
        return strategy

    def _deactivate(self, shop: Shop, product_id: str, plan: ProductPlan, record: Quantities, dry_run: bool,
                    reason: str) -> PushResult:
        """Every SKU of the product is sold out everywhere: take the product offline instead of a 0."""
        if dry_run:
            return PushResult(shop.id, product_id, "dry_run", {}, plan, "every SKU sold out: would deactivate")
        refused = self.tiktok.set_active(shop.id, [product_id], False)
        if refused and refused[0].code not in NOT_LIVE:  # 12052901: already offline
            raise NeedsHumanError(
                f"TikTok refused to deactivate sold-out product {product_id}: {refused[0].code} {refused[0].message}",
                code="SOLD_OUT_DEACTIVATE_REFUSED", owner="ops", entity=product_key(shop.id, product_id),
                fix_hint="Deactivate the product in Seller Center (every SKU is sold out and this shop's TikTok "
                         "refuses a quantity of 0), or change sold_out.strategy in inventory.yaml; then replay.",
                evidence=Evidence.of("tiktok", "deactivate product", code=refused[0].code,
                                     details={"product_id": product_id}))
        self.store.cursors.set(deactivated_cursor(shop.id, product_id), "1")
        self.inv.record_pushed(shop.id, product_id, record)
        self.index_product(shop, product_id)  # the SKU index learns the product's new status
        log.info("sold-out product deactivated", extra={"shop_id": shop.id, "product_id": product_id})
        return PushResult(shop.id, product_id, "deactivated", {}, plan, reason or "every SKU sold out")

    def _reactivate(self, shop: Shop, product_id: str, rows: list[SkuRow], dry_run: bool) -> list[SkuRow]:
        """A product the bridge deactivated because it sold out comes back when it has stock again.
        Returns the rows to push with, or [] when the product stays offline."""
        if self.store.cursors.get(deactivated_cursor(shop.id, product_id)) != "1":
            return []  # offline for another reason (seller, audit, deleted): not the bridge's to undo
        if any(r.product_status in ("DELETED", "PLATFORM_DEACTIVATED", "FREEZE") for r in rows):
            return []
        plan = self.inputs(shop, product_id, rows).plan()
        if _all_sold_out(plan) or not plan.quantities:
            return []
        if dry_run:
            return rows
        refused = self.tiktok.set_active(shop.id, [product_id], True)
        if refused:
            raise NeedsHumanError(
                f"TikTok refused to activate product {product_id} again: {refused[0].code} {refused[0].message}",
                code="SOLD_OUT_ACTIVATE_REFUSED", owner="ops", entity=product_key(shop.id, product_id),
                fix_hint="The bridge deactivated this product when it sold out and it has stock again. Activate "
                         "it in Seller Center (or fix what TikTok names), then replay.",
                evidence=Evidence.of("tiktok", "activate product", code=refused[0].code,
                                     details={"product_id": product_id}))
        self.store.cursors.set(deactivated_cursor(shop.id, product_id), "")
        # TikTok still shows what it showed before the product sold out: the push compares with that.
        return self.index_product(shop, product_id)

    def _held_exception(self, shop: Shop, product_id: str, held: list[Line], strategy: str) -> None:
        """Sold-out SKUs shown as 1: an exception where no stock covers that unit."""
        exposed = [ln for ln in held if ln.available - ln.pending < 1]
        if not exposed:
            return  # the buffer holds back a unit in NetSuite for each: nothing can oversell
        names = ", ".join(sorted({f"{ln.seller_sku} @ {ln.warehouse_id}" for ln in exposed}))
        self.store.exceptions.raise_(
            code="SOLD_OUT_HELD_AT_ONE", owner="ops", shop_id=shop.id, entity=product_key(shop.id, product_id),
            title=f"TikTok shows 1 unit of sold-out SKU(s) {names}: one more order would oversell",
            fix_hint="This shop's TikTok refuses a quantity of 0 (sold_out.strategy "
                     f"{strategy}), so a sold-out SKU of a product still selling is held at the documented minimum "
                     "of 1. Restock in NetSuite, raise the SKU's buffer in inventory.yaml so the unit shown is "
                     "held back, or deactivate the SKU in Seller Center; then resolve this exception.",
            evidence={"product_id": product_id, "held": [
                {"sku_id": ln.sku_id, "seller_sku": ln.seller_sku, "warehouse_id": ln.warehouse_id,
                 "available": ln.available, "pending": ln.pending} for ln in exposed]})

    def _refused(self, shop: Shop, product_id: str, plan: ProductPlan, todo: Quantities, due: Quantities,
                 refused: list[Refusal], mode: Mode, reason: str, *, retried: bool) -> PushResult:
        codes = {r.code for r in refused}
        entity = product_key(shop.id, product_id)
        zeros = any(q < 1 for per_wh in todo.values() for q in per_wh.values())
        if codes == QUANTITY_OUT_OF_RANGE and zeros:
            return self._zero_refused(shop, product_id, todo, refused, mode, reason, retried=retried)
        if codes & GONE or codes == NOT_LIVE:
            # The product was deleted or taken offline on TikTok: re-read it; nothing to push now.
            self.index_product(shop, product_id)
            return PushResult(shop.id, product_id, "skipped", reason=f"TikTok: {refused[0].message}", refused=refused)
        if codes & WAREHOUSES_CHANGED and not retried:
            rows = self.index_product(shop, product_id)  # the SKUs' warehouses changed on TikTok
            return self._send(shop, product_id, self.inputs(shop, product_id, rows), mode, False, reason,
                              retried=True)
        sent: Quantities = {}
        if len(todo) > 1 and not any(r.sku_id for r in refused):
            # TikTok refused the request as a whole: send SKU by SKU so one locked SKU does not hold
            # back the others, and learn which SKUs it refuses.
            refused = []
            for sku, per_wh in sorted(todo.items()):
                one = self.tiktok.update_inventory(shop.id, product_id, {sku: per_wh})
                if one:
                    refused.extend(Refusal(r.code, r.message, r.sku_id or sku, r.warehouse_id) for r in one)
                else:
                    sent[sku] = per_wh
            if sent:
                self.inv.record_pushed(shop.id, product_id, {s: due[s] for s in sent if s in due})
        skus = sorted({r.sku_id for r in refused if r.sku_id}) or sorted(todo)
        seller = {ln.sku_id: ln.seller_sku for ln in plan.lines}
        names = ", ".join(f"{seller.get(s, s)} ({s})" for s in skus)
        ev = Evidence.of("tiktok", "inventory update", code=refused[0].code, details={
            "product_id": product_id, "refused": [r.__dict__ for r in refused],
            "wanted": {s: todo[s] for s in skus if s in todo}, "sent": sent})
        if {r.code for r in refused} == PROMOTION_LOCKED:
            raise NeedsHumanError(
                f"TikTok refuses lower stock for {names}: the SKU is locked by a promotion",
                code="PROMOTION_LOCKED_STOCK", owner="ops", entity=entity, evidence=ev,
                fix_hint="NetSuite has less stock than TikTok shows. End the promotion or reduce its reserved stock "
                         "in TikTok Seller Center (or add stock in NetSuite); the next change, the nightly "
                         "re-assertion or a replay sends the number again.")
        first = refused[0]
        raise NeedsHumanError(
            f"TikTok refused the stock update of product {product_id} ({names}): {first.code} {first.message}",
            code="INVENTORY_REFUSED", owner="ops", entity=entity, evidence=ev,
            fix_hint="Read TikTok's message in the evidence (product status, warehouses, audit), fix the product "
                     "in Seller Center or the mapping, then replay.")

    def _zero_refused(self, shop: Shop, product_id: str, todo: Quantities, refused: list[Refusal], mode: Mode,
                      reason: str, *, retried: bool) -> PushResult:
        """TikTok holds to the documented [1, 99,999]. ``auto`` learns it for the shop and sends again
        under ``deactivate``; ``zero`` makes it the admin's choice."""
        entity = product_key(shop.id, product_id)
        configured = self.spec().sold_out_for(shop.id, shop.name)
        if configured == "auto" and not retried:
            self.store.cursors.set(zero_refused_cursor(shop.id), self.clock.now().isoformat())
            log.warning("TikTok refuses a quantity of 0 for this shop; sold-out products are deactivated from now on",
                        extra={"shop_id": shop.id, "product_id": product_id})
            return self._send(shop, product_id, self.inputs(shop, product_id), mode, False, reason, retried=True)
        raise NeedsHumanError(
            f"TikTok refuses a quantity of 0 for product {product_id}: {refused[0].code} {refused[0].message}",
            code="SOLD_OUT_ZERO_REFUSED", owner="admin", entity=entity,
            fix_hint="This shop's TikTok holds to the documented range [1, 99,999]. Set sold_out.strategy to "
                     "auto, deactivate or keep_one for the shop in mapping_specs/inventory.yaml (docs/inventory.md, "
                     "\"Sold out\"), then replay.",
            evidence=Evidence.of("tiktok", "inventory update", code=refused[0].code,
                                 details={"product_id": product_id, "wanted": todo}))

    # -- the SKU index ---------------------------------------------------------------------------
    def index_product(self, shop: Shop, product_id: str) -> list[SkuRow]:
        """Re-read one product from TikTok and match its SKUs (a new product, or its warehouses
        changed)."""
        product = self.tiktok.product(shop.id, product_id)
        if product is None:
            existing = self.inv.product_skus(shop.id, product_id)
            if existing:
                self.inv.upsert([replace(r, product_status="DELETED") for r in existing])
            return []
        match = self.match_spec(shop)
        keys = [s.seller_sku for s in product.skus if s.seller_sku]
        items = self.netsuite.items_by_key(match.by, keys, match) if keys else []
        override_ids = sorted({i for s in keys if (i := match.override(s)) is not None})
        if override_ids:
            known = {i.id for i in items}
            items += [i for i in self.netsuite.items_by_key("id", override_ids) if i.id not in known]
        result = match_skus(shop.id, _tt_skus(product), items, match)
        others = [r for r in self.inv.shop_skus(shop.id) if r.product_id != product_id]
        rows = _rows(shop.id, [product], result, others, {i.id for i in items if i.inactive})
        self.inv.upsert(rows)
        self._unmatched_exception(shop, [r for r in result.rows if r.status == "unmatched_tiktok"],
                                  entity=f"skus:{shop.id}:unmatched:{product_id}")
        return rows

    def refresh(self, shop: Shop, *, progress: Callable[[str, int, int | None], None] | None = None,
                items: Sequence[NsItem] | None = None) -> MatchResult:
        """Pull every product of the shop and match its SKUs to NetSuite items; rewrite the index."""
        tick = progress or (lambda _what, _n, _total: None)
        products: list[ProductInfo] = []
        for p in self.tiktok.products(shop.id):
            products.append(p)
            tick("tiktok", len(products), None)
        if self.spec().has_category_rules():
            # Category rules need each product's category chain, which only the detail read has;
            # SKUs indexed before keep theirs.
            previous = {r.sku_id: r for r in self.inv.shop_skus(shop.id) if r.categories}
            for i, p in enumerate(products):
                if not p.categories:
                    prev = next((previous[s.id] for s in p.skus if s.id in previous), None)
                    products[i] = (replace(p, categories=prev.categories) if prev
                                   else self.tiktok.product(shop.id, p.id) or p)
                tick("categories", i + 1, len(products))
        if items is None:
            items = []
            for it in self.netsuite.items():
                items.append(it)
                tick("netsuite", len(items), None)
        result = match_skus(shop.id, [s for p in products for s in _tt_skus(p)], items, self.match_spec(shop))
        rows = _rows(shop.id, products, result, [], {i.id for i in items if i.inactive})
        self.inv.replace_shop(shop.id, rows)
        self._unmatched_exception(shop, [r for r in result.rows if r.status == "unmatched_tiktok"])
        return result

    def _unmatched_exception(self, shop: Shop, rows: Sequence[MatchRow], entity: str = "") -> None:
        """One exception per shop listing the TikTok SKUs no NetSuite item backs, and what the policy does;
        resolved by the first match that finds every SKU backed."""
        if not rows:
            for exc in self.store.exceptions.list(status="open", entity=entity or f"skus:{shop.id}:unmatched"):
                if exc.code == "UNMATCHED_TIKTOK_SKUS":
                    self.store.exceptions.close(exc.id, status="resolved", by="auto",
                                                note="every TikTok SKU of the shop now has a NetSuite item")
            return
        policy = self.spec().unmatched_for(shop.id, shop.name)
        does = {"leave": "TikTok keeps showing its own stock for them (unmatched: leave)",
                "zero": "they are shown as sold out (unmatched: zero, the way sold_out.strategy says)",
                "deactivate": "products with no matched SKU are deactivated, the others' unmatched SKUs shown as "
                              "sold out (unmatched: deactivate)"}[policy]
        names = sorted({r.seller_sku or f"(no seller SKU, {r.sku_id})" for r in rows})
        self.store.exceptions.raise_(
            code="UNMATCHED_TIKTOK_SKUS", owner="ops", shop_id=shop.id, entity=entity or f"skus:{shop.id}:unmatched",
            title=f"{len(rows)} TikTok SKU(s) have no NetSuite item: {', '.join(names[:20])}"
                  + (" …" if len(names) > 20 else ""),
            fix_hint=f"{does}. Create the items in NetSuite, pin them under match.overrides in catalog.yaml, or "
                     "choose the policy with unmatched in inventory.yaml (per shop under shops.<id>.unmatched); "
                     "then run `ttns skus match` and resolve this exception.",
            evidence={"policy": policy, "skus": [{"sku_id": r.sku_id, "product_id": r.product_id,
                                                  "seller_sku": r.seller_sku, "detail": r.detail} for r in rows]})

    def pull_places(self) -> dict[str, int]:
        """NetSuite locations and every active shop's TikTok warehouses, stored for linking."""
        locs = self.netsuite.locations()
        self.inv.save_places("location", "", [Place("location", "", loc.id, loc.name, {
            "inactive": loc.inactive, "make_inventory_available": loc.make_inventory_available}) for loc in locs])
        count = {"locations": len(locs), "warehouses": 0}
        for shop in self.store.shops.list(status="active"):
            whs = self.tiktok.warehouses(shop.id)
            self.inv.save_places("warehouse", shop.id, [Place("warehouse", shop.id, w.id, w.name, {
                "type": w.type, "fbt": w.fbt, "is_default": w.is_default}) for w in whs])
            count["warehouses"] += len(whs)
        return count

    def all_products(self, shop_id: str) -> list[str]:
        return self.inv.products(shop_id)

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_changes(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        return self.on_items_changed([str(i) for i in p.get("item_ids") or []],
                                     f"netsuite {p.get('topic', '')}".strip(), written_for=self.created_tiktok_order(p))

    def handle_push(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        modes: dict[str, Mode] = {"delta": "delta", "force": "force", "check": "check"}
        since = datetime.fromisoformat(str(p["since"])) if p.get("since") else None
        result = self.push_product(str(p["shop_id"]), str(p["product_id"]),
                                                    mode=modes.get(str(p.get("mode")), "delta"),
                                                    reason=str(p.get("reason") or ""), since=since)
        return result.as_dict()

    def handle_recheck(self, ctx: JobContext) -> dict[str, Any]:
        """A recheck (``recheck_later``): push the product again. While a dynamic buffer is raised, the
        buffer falls with the velocity; after TikTok orders were written to NetSuite, their units are
        verified to be committed there."""
        shop_id = str(ctx.payload["shop_id"])
        return {"jobs": self.coalesce(shop_id, [str(ctx.payload["product_id"])], "recheck", observe=False)}

    def handle_raise(self, ctx: JobContext) -> dict[str, Any]:
        return self.raise_buffers(str(ctx.payload["shop_id"]), str(ctx.payload["product_id"]))

    def handle_index(self, ctx: JobContext) -> dict[str, Any]:
        shop = self._shop(str(ctx.payload["shop_id"]))
        pid = str(ctx.payload["product_id"])
        rows = self.index_product(shop, pid)
        jobs = self.coalesce(shop.id, [pid], str(ctx.payload.get("reason") or "product changed")) if rows else 0
        return {"skus": len(rows), "matched": sum(1 for r in rows if r.item_id), "jobs": jobs}

    def handle_full(self, ctx: JobContext) -> dict[str, Any]:
        """Nightly: refresh the SKU index and warehouses, then re-assert every product (zeros too)."""
        bucket = str(ctx.payload.get("bucket") or self.clock.now().strftime("%Y%m%d"))
        try:
            self.pull_places()
        except Exception:
            log.exception("pulling locations and warehouses failed; the links pulled before are used")
        enqueued = 0
        items: list[NsItem] | None = None
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(FLOW):
                continue
            ctx.check_lease()
            if items is None:
                items = list(self.netsuite.items())
            self.refresh(shop, items=items)
            specs = [JobSpec(kind=KIND_PUSH, key=product_key(shop.id, pid),
                             payload={"shop_id": shop.id, "product_id": pid, "mode": "force", "reason": "nightly"},
                             idempotency_key=f"{KIND_PUSH}:full:{shop.id}:{pid}:{bucket}", priority=110)
                     for pid in self.all_products(shop.id)]
            for i in range(0, len(specs), 500):
                enqueued += sum(1 for r in self.store.queue.enqueue_many(specs[i:i + 500]) if r.created)
        return {"enqueued": enqueued}

    def handle_refresh(self, ctx: JobContext) -> dict[str, Any]:
        shop_id = str(ctx.payload.get("shop_id") or "")
        shops = [s for s in self.store.shops.list(status="active") if not shop_id or s.id == shop_id]
        out: dict[str, Any] = {}
        for shop in shops:
            out[shop.id] = self.refresh(shop).counts()
        return out

    def on_order_written(self, shop_id: str, skus: Iterable[str]) -> int:
        """The orders flow created the sales order of a TikTok order: its units moved from pending into
        NetSuite's commitments, which leaves the products' numbers as they were (``created_tiktok_order``);
        they are rechecked once per recheck step (``recheck_later``), not pushed per order. Never raises
        into the caller."""
        try:
            products = self.inv.products_for_seller_skus(shop_id, skus)
            return self.recheck_later(shop_id, products) if products else 0
        except Exception:
            log.exception("inventory recheck after a sales order was written could not be queued",
                          extra={"shop_id": shop_id})
            return 0

    def on_order_seen(self, shop_id: str, skus: Iterable[str]) -> int:
        """The orders flow recorded (or released) TikTok units for these seller SKUs: recheck their
        products once the coalescing window closes. Cheap (one index read, a few enqueues); never
        raises into the caller."""
        try:
            products = self.inv.products_for_seller_skus(shop_id, skus)
            return self.coalesce(shop_id, products, "tiktok order") if products else 0
        except Exception:
            log.exception("inventory recheck after a TikTok order could not be queued", extra={"shop_id": shop_id})
            return 0

    def first_sync(self, reason: str) -> dict[str, int]:
        """What a merchant does when setting up (`ttns locations pull`, `ttns skus match`, `ttns inventory
        push --all`), in this process: pull locations and warehouses, match SKUs, push every product once."""
        places = self.pull_places()
        matched = pushed = 0
        for shop in self.store.shops.list(status="active"):
            matched += self.refresh(shop).counts().get("matched", 0)
            for pid in self.all_products(shop.id):
                if self.push_product(shop.id, pid, mode="force", reason=reason).action == "sent":
                    pushed += 1
        return {"locations": int(places["locations"]), "warehouses": int(places["warehouses"]), "matched": matched,
                "pushed": pushed}

    def drift(self, *, limit: int = 200, offset: int = 0, only_drift: bool = True) -> list[dict[str, Any]]:
        """TikTok's stock against what the bridge would show now, per SKU and merchant warehouse (for
        the drift monitor and the console). Reads in batches: NetSuite once per shop, TikTok per 100
        products. Rows: shop_id, sku, sku_id, product_id, warehouse_id, tiktok, sellable, diff, detail, at."""
        now = self.clock.now()
        out: list[dict[str, Any]] = []
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(FLOW):
                continue
            rows = [r for r in self.inv.shop_skus(shop.id) if r.product_status in ("", "ACTIVATE")]
            if not rows:
                continue
            by_product: dict[str, list[SkuRow]] = {}
            for r in rows:
                by_product.setdefault(r.product_id, []).append(r)
            inputs = self.inputs(shop, "", rows)  # one batch of reads for the whole shop
            products = sorted(by_product)
            actual: dict[str, dict[str, Any]] = {}
            for i in range(0, len(products), 100):
                actual.update(self.tiktok.stock(shop.id, products[i:i + 100]))
            committed = {(s, w): st.committed for s, per in actual.items() for w, st in per.items()}
            plan = replace(inputs, product_id="*").plan(committed)
            for line in plan.lines:
                st = actual.get(line.sku_id, {}).get(line.warehouse_id)
                if st is None or line.sku_id not in plan.quantities:
                    continue
                sellable = plan.quantities[line.sku_id][line.warehouse_id]
                diff = int(st.available) - sellable
                if only_drift and diff == 0:
                    continue
                pid = next((r.product_id for r in rows if r.sku_id == line.sku_id), "")
                out.append({"shop_id": shop.id, "sku": line.seller_sku, "sku_id": line.sku_id, "product_id": pid,
                            "warehouse_id": line.warehouse_id, "tiktok": int(st.available), "sellable": sellable,
                            "diff": diff, "detail": line.explain(), "at": now})
        return out[offset:offset + limit]


@dataclass(frozen=True)
class Seen:
    """What the dynamic buffer is computed from, read from the observations: per SKU id the free
    stock history (at, free, buffer) and the buffers applied (at, buffer: pushes and raises), per
    seller SKU the TikTok sales (at, units), and the latencies (seconds)."""

    history: dict[str, list[tuple[datetime, float, int | None]]]
    applied: dict[str, list[tuple[datetime, int]]]
    sales: dict[str, list[tuple[datetime, int]]]
    orders: list[float]
    pushes: list[float]


@dataclass
class PlanInputs:
    """What one product's numbers are computed from (``plan`` is pure over it)."""

    product_id: str
    skus: list[SkuStock]
    locations: LocationMap
    stock: Stock
    pending: dict[str, dict[str | None, int]]
    netsuite_committed: dict[tuple[str, str], int] | None  # None: unknown, TikTok reservations unused
    rule_for: Callable[[SkuStock], ResolvedRule]
    inactive: set[str]
    unmatched: str = "leave"  # inventory.yaml unmatched

    def plan(self, tiktok_committed: dict[tuple[str, str], int] | None = None) -> ProductPlan:
        reserved = (tiktok_reserved(self.skus, self.locations, tiktok_committed, self.netsuite_committed)
                    if tiktok_committed and self.netsuite_committed is not None else None)
        plan = plan_product(self.product_id, self.skus, locations=self.locations, stock=self.stock,
                            rule_for=self.rule_for, pending=self.pending, reserved=reserved,
                            unmatched="leave" if self.unmatched == "leave" else "zero")
        for sku in self.inactive & set(plan.quantities):  # an inactive NetSuite item sells nothing
            plan.quantities[sku] = dict.fromkeys(plan.quantities[sku], 0)
        return plan


def _all_sold_out(plan: ProductPlan) -> bool:
    """Every SKU of the product computed, and 0 in every warehouse (nothing skipped that may sell)."""
    return bool(plan.quantities) and not plan.skipped and all(
        q < 1 for per_wh in plan.quantities.values() for q in per_wh.values())


def _hold_at_one(todo: Quantities, plan: ProductPlan) -> tuple[Quantities, list[Line]]:
    """``todo`` with every 0 raised to the documented minimum of 1, and the plan lines held so."""
    out: Quantities = {}
    held_keys: set[tuple[str, str]] = set()
    for sku, per_wh in todo.items():
        out[sku] = {}
        for wh, q in per_wh.items():
            if q < TIKTOK_MIN_QUANTITY:
                held_keys.add((sku, wh))
            out[sku][wh] = max(q, TIKTOK_MIN_QUANTITY)
    held = [ln for ln in plan.lines if (ln.sku_id, ln.warehouse_id) in held_keys]
    return out, held


def _warehouse(p: Place) -> WarehouseInfo:
    return WarehouseInfo(p.place_id, p.name, str(p.data.get("type") or "SALES_WAREHOUSE"), bool(p.data.get("fbt")),
                         bool(p.data.get("is_default")))


def _tt_skus(p: ProductInfo) -> list[TtSku]:
    return [TtSku(p.id, s.id, s.seller_sku, p.status, s.warehouses, p.categories, p.title) for s in p.skus]


def _rows(shop_id: str, products: Sequence[ProductInfo], result: MatchResult, others: Sequence[SkuRow],
          inactive: set[str]) -> list[SkuRow]:
    """Index rows; ``listings`` counts every SKU of the shop selling the same item (others included)."""
    listings: dict[str, int] = dict(result.listings)
    for r in others:
        if r.item_id:
            listings[r.item_id] = listings.get(r.item_id, 0) + 1
    out: list[SkuRow] = []
    for p in products:
        for s in p.skus:
            item = result.matches.get(s.id)
            out.append(SkuRow(shop_id, s.id, p.id, s.seller_sku, item, item in inactive, p.status, s.warehouses,
                              p.categories,
                              listings.get(item, 1) if item else 1, p.title))
    return out


# --- entry points -----------------------------------------------------------------------------------


__all__ = [
    "KIND_CHANGES",
    "KIND_FULL",
    "KIND_INDEX",
    "KIND_PUSH",
    "KIND_RAISE",
    "KIND_RECHECK",
    "KIND_REFRESH",
    "InventorySync",
    "PushResult",
    "product_key",
    "route_netsuite",
    "route_tiktok_product",
    "route_tiktok_stock",
]
