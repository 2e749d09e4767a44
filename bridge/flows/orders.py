"""Orders: every TikTok Shop order becomes exactly one correct NetSuite sales order, within seconds.

Triggers: webhooks 1 (status change) and 3 (address update) → ``orders.sync`` keyed by the order;
the polling backstop ``orders.poll`` re-discovers anything missed; ``ttns backfill orders``.
The job never trusts the event: it re-reads the current order from TikTok and converges NetSuite
to it, so events arriving late, twice or in reverse order end in the same state. The NetSuite write
is an upsert on ``TTS-{shop}-{order}``; unchanged content (the hash in ``links``) makes no call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bridge.clock import Clock
from bridge.domain.keys import order_key, order_key_prefix
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import Order
from bridge.errors import (
    ConfigurationError,
    Evidence,
    NeedsHumanError,
    RetriableError,
    SkippableError,
    netsuite_order_error,
)
from bridge.flows.accounting import policy_for
from bridge.flows.backstop import poll_shops
from bridge.mapping.accounting import posting_date
from bridge.mapping.attribution import AFFILIATE_FIELD
from bridge.mapping.catalog_spec import CatalogSpec
from bridge.mapping.order_summary import order_summary
from bridge.mapping.orders import (
    ItemRef,
    MappedOrder,
    TikTokVat,
    external_id,
    gate,
    map_order,
    vat_from_price_detail,
)
from bridge.mapping.orders_spec import OrderSettings, OrdersSpec, references, with_references
from bridge.mapping.ownership import Merge, adopt, carry_adopted, snapshot
from bridge.mapping.ownership import merge as merge_owned
from bridge.mapping.skus import MatchSpec
from bridge.mapping.specs import SpecError
from bridge.mapping.wire import jsonable
from bridge.ports.jobs import InboundEvent, JobContext, Steps, run_steps
from bridge.ports.netsuite import NetSuiteLookup, NetSuiteOrders, OrderBatchWriter, OrderWrite, WriteResult
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories, Shop
from bridge.ports.tiktok import TikTokOrders

if TYPE_CHECKING:
    from bridge.flows.cancellations import CancellationSync

log = logging.getLogger("bridge.flows.orders")

KIND_SYNC = "orders.sync"
KIND_POLL = "orders.poll"
KIND_DEPOSIT = "orders.deposit"
KIND_ATTRIBUTION = "orders.attribution"
KIND_DOCUMENT_NUMBERS = "orders.document_numbers"
# New sales orders within this window share one read of their document numbers (one SuiteQL call).
DOCUMENT_NUMBER_DELAY = timedelta(seconds=1)
DOCUMENT_NUMBER_WINDOW = 200  # the newest order links looked at per run


def document_numbers_spec(now: datetime) -> JobSpec:
    """The job that reads the document numbers of new sales orders; absorbed by one already waiting."""
    return JobSpec(kind=KIND_DOCUMENT_NUMBERS, key="netsuite:document-numbers", priority=120,
                   run_at=now + DOCUMENT_NUMBER_DELAY, coalesce=True)


# TikTok statuses that mean units have left a warehouse: the sales order's lines are no longer ours to
# rewrite (NetSuite refuses to change fulfilled lines); later syncs update the body only.
SHIPPING_STATUSES = frozenset({"PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
DETAIL_BATCH = 50
ITEM_CACHE_SECONDS = 3600



def sync_spec(shop_id: str, order_id: str, *, idempotency_key: str, reason: str, priority: int = 50,
              run_at: datetime | None = None) -> JobSpec:
    return JobSpec(
        kind=KIND_SYNC,
        key=order_key(shop_id, order_id),
        payload={"shop_id": shop_id, "order_id": order_id, "reason": reason},
        idempotency_key=idempotency_key,
        priority=priority,
        run_at=run_at,
        coalesce=True,  # the job re-reads the order: one waiting job per order is enough
    )


# --- routing (pure) ---------------------------------------------------------------------------


def order_router(delay_seconds: float, clock: Clock) -> Callable[[InboundEvent], list[JobSpec]]:
    """Webhooks 1 and 3 carry the order id; the job re-reads the order, so the rest is a hint. The
    job waits ``delay_seconds`` so the events TikTok sends for one order in a burst share one job."""

    def route_order_event(event: InboundEvent) -> list[JobSpec]:
        data = event.data.get("data") or {}
        order_id = str(data.get("order_id") or "")
        shop_id = event.shop_id or str(event.data.get("shop_id") or "")
        if not order_id or not shop_id:
            return []
        run_at = clock.now() + timedelta(seconds=delay_seconds) if delay_seconds else None
        return [sync_spec(shop_id, order_id, idempotency_key=f"{KIND_SYNC}:{event.source}:{event.event_id}",
                          reason=f"webhook {event.topic}", run_at=run_at)]

    return route_order_event


# --- reading orders in batches -----------------------------------------------------------------


class OrderReader:
    """Order details with batching: a read for one order also fetches up to 49 other orders of the
    same shop that have sync jobs waiting, so a burst costs one TikTok call per 50 orders. A cached
    detail serves a job only if it was fetched strictly after that job was enqueued (never as old as
    the event that caused it)."""

    def __init__(self, tiktok: TikTokOrders, store: Repositories, clock: Clock, ttl_seconds: float = 120) -> None:
        self.tiktok = tiktok
        self.store = store
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[Order, datetime]] = {}
        self.calls = 0

    def _fresh(self, shop_id: str, order_id: str, not_before: datetime) -> Order | None:
        hit = self._cache.get((shop_id, order_id))
        if hit is None:
            return None
        order, fetched_at = hit
        # Fresh only if read strictly after the event: a read at the very instant of the event may have
        # come before it (a frozen clock, or two events within the clock's resolution).
        if fetched_at <= not_before or self.clock.now() - fetched_at > self.ttl:
            return None
        return order

    def get(self, shop_id: str, order_id: str, not_before: datetime) -> Order | None:
        with self._lock:
            hit = self._fresh(shop_id, order_id, not_before)
        if hit is not None:
            return hit
        ids = [order_id]
        for key, created in self.store.queue.pending_keys(KIND_SYNC, order_key_prefix(shop_id), DETAIL_BATCH * 2):
            other = key.rsplit(":", 1)[-1]
            if other != order_id and len(ids) < DETAIL_BATCH:
                with self._lock:
                    if self._fresh(shop_id, other, created) is None:
                        ids.append(other)
        fetched_at = self.clock.now()  # before the call: the answer is at least this fresh
        orders = self.tiktok.get_orders(shop_id, ids)
        self.calls += 1
        with self._lock:
            self._evict()
            for o in orders:
                self._cache[(shop_id, o.id)] = (o, fetched_at)
        return next((o for o in orders if o.id == order_id), None)

    def read_many(self, shop_id: str, order_ids: Sequence[str]) -> list[Order]:
        """These orders' details, ``DETAIL_BATCH`` per TikTok call, kept for the sync jobs enqueued
        before now (``get`` serves them from the cache)."""
        out: list[Order] = []
        for i in range(0, len(order_ids), DETAIL_BATCH):
            fetched_at = self.clock.now()
            orders = self.tiktok.get_orders(shop_id, list(order_ids[i:i + DETAIL_BATCH]))
            self.calls += 1
            with self._lock:
                self._evict()
                for o in orders:
                    self._cache[(shop_id, o.id)] = (o, fetched_at)
            out += orders
        return out

    def _evict(self) -> None:
        if len(self._cache) < 20000:
            return
        cutoff = self.clock.now() - self.ttl
        for k in [k for k, (_, t) in self._cache.items() if t < cutoff]:
            del self._cache[k]


# --- writing orders ------------------------------------------------------------------------------


# --- the service ---------------------------------------------------------------------------------


@dataclass
class OrderSync:
    store: Repositories
    tiktok: TikTokOrders
    netsuite: NetSuiteOrders
    specs: Specs
    clock: Clock
    reader: OrderReader
    write_path: str = "rest"
    batch_writer: OrderBatchWriter | None = None  # the batch RESTlet's group commit (write path restlet)
    lookup: Callable[[], NetSuiteLookup] | None = None
    # Called with (shop id, seller SKUs) whenever TikTok units enter, move or leave NetSuite, so the
    # inventory flow rechecks those products (``InventorySync.on_order_seen``, wired in bootstrap).
    on_units: Callable[[str, list[str]], object] | None = None
    # Called with (shop id, seller SKUs) when the bridge created an order's sales order: its units moved from
    # pending into NetSuite's commitments, which leaves the stock figures as they were, so the inventory
    # flow rechecks later instead of at once (``InventorySync.on_order_written``; ``on_units`` when unset).
    on_written: Callable[[str, list[str]], object] | None = None
    # Called with (shop id, order id, {seller SKU: units}) when a sync finds an order with no link, before
    # it is written: TikTok sold those units, and the dynamic buffer should know now, not after the write.
    # Counted once per order (``InventorySync.on_tiktok_sale``, wired in bootstrap), usually already at
    # intake (``bridge.flows.sales_intake``); a retried sync does not count it again.
    on_sale: Callable[[str, str, dict[str, int]], object] | None = None
    # The cancellations flow, which decides what a cancellation after the write does (wired in bootstrap).
    cancellations: Callable[[], CancellationSync] | None = None
    poll_overlap_seconds: float = 300
    _refs: dict[tuple[str, str], str] = field(default_factory=dict)
    _refs_lock: threading.Lock = field(default_factory=threading.Lock)
    _items_lock: threading.Lock = field(default_factory=threading.Lock)
    # NetSuite's document number (tranId) of the sales orders read for a merge, for the console
    _tranids: dict[str, str] = field(default_factory=dict)

    def zone(self, shop_id: str) -> str:
        """The zone this shop's documents are dated in (settlement.yaml; docs/accounting.md)."""
        return policy_for(self.specs, shop_id, self.store.shops.get(shop_id)).time_zone  # its market's zone

    def settings_for(self, shop_id: str) -> OrderSettings:
        """The shop's settings with every ``eid:`` reference resolved to an internal id (looked up once
        per process: some NetSuite fields, e.g. paymentOption, take internal ids only)."""
        shop = self.store.shops.get(shop_id)
        settings = self.specs.get("orders", OrdersSpec).for_shop(shop_id, shop.region if shop is not None else "")
        wanted = [(path, table, value) for path, table, _label, value in references(settings)
                  if value.startswith("eid:")]
        if not wanted:
            return settings
        # One thread resolves while the others wait: a cold start under a burst costs one lookup.
        with self._refs_lock:
            missing = [(p, t, v) for p, t, v in wanted if (t, v) not in self._refs]
            if missing:
                if self.lookup is None:
                    raise ConfigurationError("orders.yaml uses eid: references but no NetSuite lookup is wired")
                by_table: dict[str, set[str]] = {}
                for _p, t, v in missing:
                    by_table.setdefault(t, set()).add(v[4:])
                found = self.lookup().internal_ids({t: sorted(e) for t, e in by_table.items()})
                self._refs.update({(t, f"eid:{e}"): i for (t, e), i in found.items()})
                absent = [(p, v) for p, t, v in missing if (t, v) not in self._refs]
                if absent:
                    raise NeedsHumanError(
                        "orders.yaml names NetSuite records that do not exist: "
                        + ", ".join(f"{v} (at {p})" for p, v in absent),
                        code="SPEC_REFERENCE_MISSING", owner="admin",
                        fix_hint="Create the records with those external ids in NetSuite, or correct the references "
                        "in orders.yaml (`ttns specs check` lists every one), then replay.",
                        evidence=Evidence.of("bridge", "resolve spec references", details={"missing": absent}),
                        entity="spec:orders")
            return with_references(settings, dict(self._refs))

    # -- items and customers ----------------------------------------------------------------
    def sku_rule(self, shop_id: str) -> MatchSpec:
        """The one SKU rule (catalog.yaml ``match``), the same ``ttns skus match`` and stock use."""
        shop = self.store.shops.get(shop_id)
        name = shop.name if shop is not None else ""
        try:
            return self.specs.get("catalog", CatalogSpec, needs=("match",)).for_shop(shop_id, name).match
        except SpecError:
            return MatchSpec()  # no catalog.yaml: the default rule (case and surrounding spaces ignored)

    def resolve_items(self, shop_id: str, skus: Sequence[str]) -> dict[str, ItemRef]:
        """Seller SKU (stripped, as the mapping looks it up) -> NetSuite item, by the one SKU rule."""
        rule = self.sku_rule(shop_id)
        out: dict[str, ItemRef] = {}
        by_key: dict[str, list[str]] = {}
        for sku in sorted({s.strip() for s in skus if s.strip()}):
            pinned = rule.override(sku)
            if pinned is not None:
                out[sku] = ItemRef(id=pinned)
            elif rule.key(sku):
                by_key.setdefault(rule.key(sku), []).append(sku)
        if not by_key:
            return out
        # cached per rule: changing catalog.yaml `match` never reads a link found under another rule
        prefix = f"{rule.by}:{rule.case}:{rule.spaces}:"
        wanted = sorted(by_key)

        def take(k: str, ref: ItemRef) -> None:
            for sku in by_key[k]:
                out[sku] = ref

        def fresh(link: Link | None) -> bool:
            return bool(link and link.netsuite_id and link.synced_at and link.synced_at >= self.clock.now() - timedelta(
                seconds=ITEM_CACHE_SECONDS))

        cached = self.store.links.get_many("item", "", [prefix + k for k in wanted])
        misses = []
        for k in wanted:
            link = cached.get(prefix + k)
            if link is not None and fresh(link):
                assert link.netsuite_id is not None
                take(k, ItemRef(id=link.netsuite_id, active=link.status != "inactive", name=str(
                    link.data.get("name", ""))))
            else:
                misses.append(k)
        if misses:
            with self._items_lock:  # concurrent jobs missing the same SKUs wait for one lookup
                again = self.store.links.get_many("item", "", [prefix + k for k in misses])
                for k in list(misses):
                    link = again.get(prefix + k)
                    if link is not None and fresh(link):
                        assert link.netsuite_id is not None
                        take(k, ItemRef(id=link.netsuite_id, active=link.status != "inactive",
                                        name=str(link.data.get("name", ""))))
                        misses.remove(k)
                found = self.netsuite.resolve_items(misses, rule) if misses else {}
                for k, ref in found.items():
                    if k not in by_key:
                        continue
                    take(k, ref)
                    self.store.links.upsert(Link("item", "", prefix + k, ref.id, "item", "", "", "inactive"
                                                 if not ref.active else "active", {"name": ref.name},
                                                 self.clock.now()))
        return out

    def resolve_customer(self, shop_id: str, order: Order, mapped: MappedOrder) -> str | None:
        if mapped.customer is None:
            return None
        link = self.store.links.get("customer", shop_id, order.user_id)
        if link and link.netsuite_id:
            return link.netsuite_id
        cid = self.netsuite.upsert_customer(jsonable(mapped.customer))
        self.store.links.upsert(Link("customer", shop_id, order.user_id, cid, "customer",
                                     mapped.customer_external_id or "", "", "synced", {}, self.clock.now()))
        return cid

    # -- one order ----------------------------------------------------------------------------
    def tiktok_vat(self, shop_id: str, order: Order, settings: OrderSettings) -> TikTokVat | None:
        """TikTok's own VAT per line (Get Price Detail) for an order of a VAT-inclusive market; one
        more TikTok read per sync of such an order, none for other markets."""
        if settings.tax.mode != "inclusive" or order.payment.tax:
            return None
        return vat_from_price_detail(self.tiktok.price_detail(shop_id, order.id))

    def _map(self, order: Order, shop_id: str, settings: OrderSettings, items: Mapping[str, ItemRef],
             vat: TikTokVat | None, customer_id: str | None = None) -> MappedOrder:
        return map_order(order, shop_id=shop_id, settings=settings, items=items, customer_id=customer_id,
                         time_zone=self.zone(shop_id), vat=vat, sku_key=self.sku_rule(shop_id).key)

    def plan(self, shop_id: str, order: Order, *, customer_lookup: bool = True) -> MappedOrder:
        """The NetSuite document this order needs now (reads NetSuite for items, never writes)."""
        settings = self.settings_for(shop_id)
        gate(order, settings)
        items = self.resolve_items(shop_id, [li.seller_sku for li in order.line_items if li.seller_sku])
        vat = self.tiktok_vat(shop_id, order, settings)
        mapped = self._map(order, shop_id, settings, items, vat)
        if customer_lookup and mapped.customer is not None:
            link = self.store.links.get("customer", shop_id, order.user_id)
            if link and link.netsuite_id:
                mapped = self._map(order, shop_id, settings, items, vat, customer_id=link.netsuite_id)
        return mapped

    def sync(self, shop_id: str, order_id: str, *, not_before: datetime, force: bool = False) -> dict[str, Any]:
        """Converge the sales order to the current TikTok order. ``force`` (a replay of an edit-conflict
        exception) writes TikTok's version over the conflicting fields a person changed."""
        return run_steps(self.sync_steps(shop_id, order_id, not_before=not_before, force=force))

    def sync_steps(self, shop_id: str, order_id: str, *, not_before: datetime,
                   force: bool = False) -> Generator[Future[WriteResult], WriteResult, dict[str, Any]]:
        """``sync`` in steps: on the restlet write path it yields the future of its order's batch write and
        is resumed with the result (or the error thrown in), so the worker need not hold a thread for it
        while the batch fills and goes out (``bridge.ports.jobs.Steps``)."""
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled("orders"):
            raise SkippableError(f"the orders flow is off for shop {shop_id}")
        order = self.reader.get(shop_id, order_id, not_before)
        if order is None:
            raise RetriableError(f"TikTok did not return order {order_id} (yet)",
                                 Evidence.of("tiktok", "order detail", details={"order_id": order_id}))
        link = self.store.links.get("order", shop_id, order_id)
        if link is None and self.on_sale is not None and order.status != "CANCELLED" and not order.is_fbt:
            self.on_sale(shop_id, order.id, _units(order))
        memory = OrderMemory.parse(link.data if link else None)
        update_ts = int(order.update_time.timestamp()) if order.update_time else 0
        if link and link.netsuite_id and memory.fulfilled:
            self._touch(shop_id, order, link, update_ts)  # the status still moves on (IN_TRANSIT … COMPLETED)
            return {"action": "kept", "reason": "already fulfilled in NetSuite", "netsuite_id": link.netsuite_id}
        settings = self.settings_for(shop_id)
        try:
            staged = gate(order, settings)
        except SkippableError as skip:
            if order.status == "CANCELLED" and (link is None or (not link.netsuite_id and link.status != "cancelled")):
                link = self._written_before(shop_id, order, settings.record_type) or link
            self._record_waiting(shop_id, order, link, str(skip), update_ts)
            if order.status == "CANCELLED" and link and link.netsuite_id:
                return self._cancelled(shop_id, order, link)
            raise
        held = self._hold_window(shop_id, order, link, settings, update_ts)
        if held is not None:
            return held
        items = self.resolve_items(shop_id, [li.seller_sku for li in order.line_items if li.seller_sku])
        vat = self.tiktok_vat(shop_id, order, settings)
        mapped = self._map(order, shop_id, settings, items, vat)
        customer_id = None
        if mapped.customer is not None and self.write_path == "rest":
            customer_id = self.resolve_customer(shop_id, order, mapped)
            mapped = self._map(order, shop_id, settings, items, vat, customer_id=customer_id)
        elif mapped.customer is not None:
            cl = self.store.links.get("customer", shop_id, order.user_id)
            if cl and cl.netsuite_id:
                customer_id = cl.netsuite_id
                mapped = self._map(order, shop_id, settings, items, vat, customer_id=customer_id)
        lines_locked = bool(link and link.netsuite_id and (memory.lines_locked or order.status in SHIPPING_STATUSES))
        content_hash = mapped.body_hash() if lines_locked else mapped.content_hash
        if link and link.netsuite_id and link.content_hash == content_hash:
            self._touch(shop_id, order, link, update_ts)
            return {"action": "unchanged", "netsuite_id": link.netsuite_id}
        hold = str(mapped.record.get("custbody_ttns_hold_reason") or "")
        if not hold and memory.hold_reason:
            # TikTok decided (or released the order): the bridge clears its own hold field.
            mapped = replace(mapped, record={**mapped.record, "custbody_ttns_hold_reason": ""})
        customer = jsonable(mapped.customer) if mapped.customer and customer_id is None else None
        merged = self._merge(shop_id, order_id, link, mapped, lines=not lines_locked, force=force)
        try:
            result = yield from self._write_steps(_order_write(mapped, customer, lines=not lines_locked,
                                                               merged=merged, path=self.write_path))
        except NeedsHumanError as exc:
            if exc.code != "NS_ALREADY_FULFILLED" or lines_locked:
                raise
            # NetSuite fulfilled some lines before TikTok said so: keep them, update the body only.
            lines_locked, content_hash = True, mapped.body_hash()
            merged = self._merge(shop_id, order_id, link, mapped, lines=False, force=force)
            result = yield from self._write_steps(_order_write(mapped, customer, lines=False, merged=merged,
                                                               path=self.write_path))
        if result.status in ("error", "deferred", "unknown") or not result.id:
            raise _write_error(result, order_id)
        if result.customer_id and mapped.customer is not None and customer_id is None:
            self.store.links.upsert(Link("customer", shop_id, order.user_id, result.customer_id, "customer",
                                         mapped.customer_external_id or "", "", "synced", {}, self.clock.now()))
        created = not (link and link.netsuite_id)
        synced = OrderMemory.parse(link.data if link else None).with_(
            tiktok_status=order.status,
            tiktok_update_time=update_ts,
            units=_units(order),
            warehouse_id=order.warehouse_id,
            expected_total=mapped.expected_total,
            platform_funded=mapped.platform_funded,
            vat=mapped.vat_by_rate() or None,  # per rate, for whoever books this order's VAT later (settlement)
            currency=order.currency,
            is_fbt=order.is_fbt,
            buyer=order.user_id,
            created_at=int(order.create_time.timestamp()) if order.create_time else None,
            summary=order_summary(order),
            hold_reason=hold or None,
            reason=hold or None,  # the console shows why next to the sync status
            conflict=None,
        )
        tranid = self._tranids.pop(order_key(shop_id, order_id), None)
        if tranid:
            synced = synced.with_(tranid=tranid)  # the document number people know the sales order by
        if synced.first_synced_at is None:
            synced = synced.with_(first_synced_at=self.clock.now().timestamp())  # when NetSuite first had it
        synced = synced.with_(lines_locked=True) if lines_locked else synced.with_(allocation=mapped.allocation())
        synced = synced.with_(written=_snapshot(mapped, merged, previous=synced.written, lines=not lines_locked))
        self.store.links.upsert(Link(
            "order", shop_id, order_id, result.id, mapped.record_type, mapped.external_id, content_hash,
            "staged" if staged else "synced", synced.dump(), self.clock.now()))
        if created:
            if self.on_written is not None:
                self.on_written(shop_id, sorted({li.seller_sku for li in order.line_items if li.seller_sku}))
            else:
                self._units_changed(shop_id, order)
            if not synced.tranid:
                self.store.queue.enqueue(document_numbers_spec(self.clock.now()))
            if settings.deposit.enabled and mapped.record_type == "salesOrder" and not staged:
                self.store.queue.enqueue(JobSpec(
                    kind=KIND_DEPOSIT, key=order_key(shop_id, order_id),
                    payload={"shop_id": shop_id, "order_id": order_id},
                    idempotency_key=f"{KIND_DEPOSIT}:{shop_id}:{order_id}"))
        return {"action": result.status, "netsuite_id": result.id, "total": str(mapped.computed_total),
                "staged": staged, **({"lines_locked": True} if lines_locked else {})}

    def _hold_window(self, shop_id: str, order: Order, link: Link | None, settings: OrderSettings,
                     update_ts: int) -> dict[str, Any] | None:
        """The merchant hold window (``hold_minutes`` in orders.yaml): a new order reaches NetSuite that
        many minutes after it was paid, so edits in TikTok's edit window settle first. The order waits
        (its units still count against stock) and one sync is queued for the end of the window."""
        if settings.hold_minutes <= 0 or (link is not None and link.netsuite_id):
            return None
        start = order.paid_time or order.create_time
        if start is None:
            return None
        until = start + timedelta(minutes=settings.hold_minutes)
        if self.clock.now() >= until:
            return None
        reason = f"merchant hold window: reaches NetSuite at {until.isoformat(timespec='seconds')}"
        self._record_waiting(shop_id, order, link, reason, update_ts, status="pending:HOLD_WINDOW")
        # Not coalesced: a sync due earlier must not absorb the one at the end of the window.
        self.store.queue.enqueue(replace(sync_spec(shop_id, order.id, idempotency_key=f"{KIND_SYNC}:hold:{shop_id}:"
                                                   f"{order.id}", reason="hold window ended", run_at=until),
                                         coalesce=False))
        return {"action": "held", "until": until.isoformat(), "reason": reason}

    def _merge(self, shop_id: str, order_id: str, link: Link | None, mapped: MappedOrder, *, lines: bool,
               force: bool) -> Merge | None:
        """The update that keeps what people changed in NetSuite (``bridge.mapping.ownership``); None
        for a create. A change a person and TikTok both made is an exception, and nothing is written."""
        if link is None or not link.netsuite_id:
            return None
        current = self.netsuite.get_order(mapped.record_type, link.netsuite_id)
        if current is None:
            return None
        if current.get("tranId"):
            self._tranids[order_key(shop_id, order_id)] = str(current["tranId"])
        desired = jsonable(mapped.record)
        if not lines:
            desired = {k: v for k, v in desired.items() if k != "item"}
        memory = OrderMemory.parse(link.data)
        key = order_key(shop_id, order_id)
        written = memory.written
        if memory.conflict and not force and self._conflict_ignored(key):
            # A person kept NetSuite's version: it becomes the base, so the next TikTok change of anything
            # else does not raise the same conflict again (docs/ownership.md).
            written = adopt(written, memory.conflict.get("conflicts", []) if isinstance(memory.conflict, dict)
                            else memory.conflict)
            memory = memory.with_(written=written, conflict=None)
            self.store.links.upsert(replace(link, data=memory.dump()))
            self.store.audit.record("worker", "order.conflict_adopted", entity=key, detail={
                "sales_order": link.netsuite_id})
        force = force and bool(memory.conflict)
        merged = merge_owned(desired, line_keys(mapped), written, current, force=force)
        if merged.conflicts:
            details = [c.as_evidence() for c in merged.conflicts]
            self.store.links.upsert(replace(link, data=memory.with_(conflict=details).dump()))
            raise NeedsHumanError(
                f"order {order_id}: TikTok changed {len(details)} thing(s) a person also changed in NetSuite "
                f"({', '.join(str(d['where']) for d in details)}); nothing was written",
                code="NS_EDIT_CONFLICT", owner="ops",
                fix_hint="Compare both versions in the evidence (netsuite = the person's value, tiktok = the "
                "new TikTok value). Replay applies TikTok's version to those fields (the person's values stay in "
                "this exception and the audit log); to keep NetSuite's version, ignore this exception.",
                evidence=Evidence.of("netsuite", "merge order update", details={
                    "sales_order": link.netsuite_id, "conflicts": details}),
                entity=key)
        if force:
            self.store.audit.record("worker", "order.conflict_overwritten", entity=key, detail={
                "sales_order": link.netsuite_id, "conflicts": memory.conflict})
        if merged.kept or merged.person_lines:
            self.store.audit.record("worker", "order.edits_kept", entity=key, detail={
                "sales_order": link.netsuite_id, "fields": list(merged.kept),
                "person_lines": list(merged.person_lines)})
        return merged

    def _conflict_ignored(self, key: str) -> bool:
        """Whether a person ignored the order's edit conflict (kept NetSuite's version) and none is open."""
        def conflicts(status: str) -> list[Any]:
            return [e for e in self.store.exceptions.list(status=status, entity=key) if e.code == "NS_EDIT_CONFLICT"]
        return not conflicts("open") and bool(conflicts("ignored"))

    def _units_changed(self, shop_id: str, order: Order) -> None:
        if self.on_units is not None:
            self.on_units(shop_id, sorted({li.seller_sku for li in order.line_items if li.seller_sku}))

    def _write_steps(self, write: OrderWrite) -> Generator[Future[WriteResult], WriteResult, WriteResult]:
        """The write: on the restlet path handed to the batch writer, whose future is yielded (the caller
        resumes with its result); on the REST path one upsert, no step."""
        if self.write_path == "restlet":
            if self.batch_writer is None:
                raise ConfigurationError("the orders flow writes through the batch RESTlet but was built without "
                                         "its batch writer (bridge.bootstrap builds it)")
            return (yield self.batch_writer.submit(write))
        return self.netsuite.upsert_order(write)

    def _record_waiting(self, shop_id: str, order: Order, link: Link | None, reason: str, update_ts: int,
                        status: str = "") -> None:
        """Orders not (yet) in NetSuite still count against sellable stock: keep their units."""
        if link and link.netsuite_id:
            return
        status = status or ("cancelled" if order.status == "CANCELLED" else f"pending:{order.status}")
        if link and link.status == status and OrderMemory.parse(link.data).tiktok_update_time == update_ts:
            return
        waiting = OrderMemory(tiktok_status=order.status, tiktok_update_time=update_ts, units=_units(order),
                              warehouse_id=order.warehouse_id, is_fbt=order.is_fbt, reason=reason,
                              currency=order.currency, summary=order_summary(order))
        self.store.links.upsert(Link("order", shop_id, order.id, None, "", "", "", status, waiting.dump(), None))
        self._units_changed(shop_id, order)

    def _touch(self, shop_id: str, order: Order, link: Link, update_ts: int) -> None:
        memory = OrderMemory.parse(link.data)
        if memory.tiktok_update_time == update_ts and memory.tiktok_status == order.status:
            return
        data = memory.with_(tiktok_status=order.status, tiktok_update_time=update_ts,
                            summary=order_summary(order)).dump()
        self.store.links.upsert(Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                                     link.external_id, link.content_hash, link.status, data, link.synced_at))

    def _written_before(self, shop_id: str, order: Order, record_type: str) -> Link | None:
        """An order cancelled before we recorded its sales order: a write from an earlier attempt (its
        worker died, or NetSuite timed out after committing) may still have created it. Looked up by
        external id once, when the cancellation is first seen, so it is closed rather than left open."""
        eid = external_id(shop_id, order.id)
        found = self.netsuite.find_order(record_type, eid)
        if found is None:
            return None
        recovered = OrderMemory(tiktok_status=order.status, units=_units(order), recovered="found by external id")
        link = Link("order", shop_id, order.id, found, record_type, eid, "", "synced", recovered.dump(),
                    self.clock.now())
        self.store.links.upsert(link)
        self.store.audit.record("worker", "order.recovered", entity=order_key(shop_id, order.id),
                                detail={"sales_order": found, "external_id": eid})
        return link

    def _cancelled(self, shop_id: str, order: Order, link: Link) -> dict[str, Any]:
        """The order was cancelled after its sales order was written: the cancellations flow decides."""
        if self.cancellations is None:
            raise ConfigurationError("the orders flow was built without the cancellations flow")
        result = self.cancellations().order_cancelled(self, shop_id, order, link)
        self._units_changed(shop_id, order)
        return result

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_sync(self, ctx: JobContext) -> dict[str, Any] | Steps:
        """On the restlet write path the sync's steps: the worker frees the thread while the order waits for
        its batch (docs/queue.md, "Jobs that wait"), so many more orders than threads can be in flight."""
        p = ctx.payload
        created = ctx.job.created_at or ctx.started_at
        steps = self.sync_steps(str(p["shop_id"]), str(p["order_id"]), not_before=created,
                                force=ctx.job.exception_id is not None)
        return steps if self.write_path == "restlet" else run_steps(steps)

    def handle_poll(self, ctx: JobContext) -> dict[str, Any]:
        """The backstop: every order updated since the last poll (with an overlap) gets a sync job
        unless its link already reflects that update."""
        def jobs_since(shop: Shop, since: datetime, now: datetime) -> list[JobSpec]:
            found: list[tuple[str, datetime | None]] = list(
                self.tiktok.search_orders(shop.id, update_time_ge=since, update_time_lt=now))
            links = self.store.links.get_many("order", shop.id, [oid for oid, _ in found])
            specs = []
            for oid, updated in found:
                ts = int(updated.timestamp()) if updated else 0
                link = links.get(oid)
                if link and OrderMemory.parse(link.data).update_time >= ts and ts:
                    continue
                specs.append(sync_spec(shop.id, oid, idempotency_key=f"{KIND_SYNC}:poll:{shop.id}:{oid}:{ts}",
                                       reason="poll", priority=80))
            return specs

        return poll_shops(self.store, self.clock, flow="orders", cursor=KIND_POLL, first_window=timedelta(hours=1),
                          overlap=timedelta(seconds=self.poll_overlap_seconds), jobs_since=jobs_since)

    def handle_document_numbers(self, ctx: JobContext) -> dict[str, Any]:
        """NetSuite's document numbers of the newest sales orders that have none yet, in one SuiteQL read
        for all of them (each create queues this job; the ones created meanwhile join the waiting one)."""
        waiting = {lk.netsuite_id: lk for lk in self.store.links.newest("order", limit=DOCUMENT_NUMBER_WINDOW)
                   if lk.netsuite_id and lk.netsuite_type in ("salesOrder", "cashSale") and not lk.data.get("tranid")}
        if not waiting:
            return {"read": 0}
        numbers = self.netsuite.document_numbers(sorted(waiting))
        stored = self.store.links.set_document_numbers("order", numbers)
        return {"read": len(waiting), "stored": stored}

    def handle_deposit(self, ctx: JobContext) -> dict[str, Any]:
        """The customer deposit for an order's prepaid amount (``deposit.enabled`` in orders.yaml)."""
        from bridge.mapping.orders import deposit_record

        shop_id, order_id = str(ctx.payload["shop_id"]), str(ctx.payload["order_id"])
        link = self.store.links.get("order", shop_id, order_id)
        if link is None or not link.netsuite_id:
            raise RetriableError(f"order {order_id} has no sales order yet")
        settings = self.settings_for(shop_id)
        if not settings.deposit.enabled:
            raise SkippableError("customer deposits are switched off in orders.yaml")
        memory = OrderMemory.parse(link.data)
        if settings.customer.strategy == "generic":
            customer = settings.customer.generic_id
        else:
            record_link = self.store.links.get("customer", shop_id, memory.buyer or "")
            customer = record_link.netsuite_id if record_link else None
        if not customer:
            raise NeedsHumanError(f"no NetSuite customer known for order {order_id}'s deposit",
                                  code="CUSTOMER_CONFLICT", owner="ops",
                                  fix_hint="Replay the order's sync first, then this job.",
                                  entity=order_key(shop_id, order_id))
        currency = settings.currencies.get((memory.currency or "").upper())
        created = memory.created_at
        tran_date = posting_date(datetime.fromtimestamp(created, UTC), self.zone(shop_id)).isoformat() \
            if created else None
        body = deposit_record(settings, shop_id=shop_id, order_id=order_id, sales_order_id=link.netsuite_id,
                              customer=customer,
                              amount=memory.expected_total if memory.expected_total is not None else Decimal(0),
                              currency=currency, tran_date=tran_date)
        dep_id = self.netsuite.upsert_record("customerDeposit", body["externalId"], jsonable(body))
        return {"customer_deposit": dep_id}

    # -- attribution ---------------------------------------------------------------------------
    def queue_attribution(self, shop_id: str, commissions: Mapping[str, Decimal]) -> int:
        """One job per order whose affiliate commission (TikTok's statement lines) the sales order does
        not show yet (called by the settlement flow when a statement arrives)."""
        specs = []
        for order_id, amount in sorted(commissions.items()):
            link = self.store.links.get("order", shop_id, order_id)
            if link is None or OrderMemory.parse(link.data).affiliate_commission == amount:
                continue  # not an order the bridge wrote, or already shown
            specs.append(JobSpec(kind=KIND_ATTRIBUTION, key=order_key(shop_id, order_id),
                                 payload={"shop_id": shop_id, "order_id": order_id, "amount": str(amount)},
                                 idempotency_key=f"{KIND_ATTRIBUTION}:{shop_id}:{order_id}:{amount}"))
        if specs:
            self.store.queue.enqueue_many(specs)
        return len(specs)

    def handle_attribution(self, ctx: JobContext) -> dict[str, Any]:
        """Write the affiliate commission on the sales order: only the bridge's own field
        (``custbody_ttns_affiliate_commission``), nothing a person may have changed."""
        shop_id, order_id = str(ctx.payload["shop_id"]), str(ctx.payload["order_id"])
        amount = Decimal(str(ctx.payload["amount"]))
        link = self.store.links.get("order", shop_id, order_id)
        if link is None or not link.netsuite_id:
            raise RetriableError(f"order {order_id} has no sales order yet for its affiliate commission")
        if OrderMemory.parse(link.data).affiliate_commission == amount:
            return {"action": "unchanged", "netsuite_id": link.netsuite_id}
        self.netsuite.upsert_record(link.netsuite_type, link.external_id, {AFFILIATE_FIELD: amount})
        fresh = self.store.links.get("order", shop_id, order_id) or link  # the sync may have moved it meanwhile
        memory = OrderMemory.parse(fresh.data).with_(affiliate_commission=amount)
        self.store.links.upsert(replace(fresh, data=memory.dump()))
        return {"action": "updated", "netsuite_id": link.netsuite_id, "affiliate_commission": str(amount)}


def _order_write(mapped: MappedOrder, customer: dict[str, Any] | None, *, lines: bool, merged: Merge | None = None,
                 path: str = "rest") -> OrderWrite:
    record = jsonable(mapped.record) if merged is None else dict(merged.record)
    if not lines:
        record = {k: v for k, v in record.items() if k != "item"}
    elif merged is not None and path == "restlet" and "item" in record:
        # The RESTlet matches lines itself (TikTok ids, then item), never touches a line it is not sent
        # and closes the TikTok lines it no longer gets: drop the kept-as-is person lines, the lines the
        # REST merge closes and the REST `line` numbers.
        rows = [{k: v for k, v in row.items() if k != "line"} for row in record["item"]["items"]]
        record["item"] = {"items": [row for row in rows if row.get("item")]}
    return OrderWrite(mapped.record_type, mapped.external_id, record, customer)


def line_keys(mapped: MappedOrder) -> list[str]:
    """One ownership key per mapped line (see ``bridge.mapping.ownership``)."""
    keys: list[str] = []
    for ln in mapped.lines:
        base = f"product:{ln.sku}:{ln.rate}" if ln.kind == "product" else f"{ln.kind}:{ln.description}"
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}#{n}"
        keys.append(key)
    return keys


def _snapshot(mapped: MappedOrder, merged: Merge | None, *, previous: Any, lines: bool) -> dict[str, Any]:
    """What this write set, for the next update's three-way merge."""
    record = jsonable(mapped.record)
    numbers = merged.line_numbers if merged is not None else {}
    prev = previous if isinstance(previous, dict) else {}
    max_line = int(prev.get("max_line") or 0)
    if merged is not None and lines:
        max_line = max([max_line, *numbers.values(), *merged.person_lines])
    snap = snapshot(record, line_keys(mapped), numbers, max_line=max_line)
    if not lines:
        snap["lines"] = prev.get("lines") or []
    return carry_adopted(snap, merged.base if merged is not None else prev)


def _units(order: Order) -> dict[str, int]:
    out: dict[str, int] = {}
    for li in order.line_items:
        if li.seller_sku and not li.cancelled:
            out[li.seller_sku] = out.get(li.seller_sku, 0) + 1
    return out


def _write_error(result: WriteResult, order_id: str) -> Exception:
    if result.status == "deferred":
        return RetriableError(f"NetSuite deferred order {order_id} (governance); it is sent again")
    if result.status == "unknown":
        # The batch's answer was lost and the order exists, which does not say whether this write applied:
        # nothing is recorded; the retry reads, merges and sends it again (the RESTlet saves nothing when the
        # order already carries it).
        return RetriableError(
            f"NetSuite's answer to the write of order {order_id} was lost: not known whether it applied; "
            "it is read, merged and sent again",
            Evidence.of("netsuite", "upsert order", code="WRITE_OUTCOME_UNKNOWN",
                        details={"order_id": order_id, "sales_order": result.id}), retry_after=30.0)
    err = result.error or {}
    code = str(err.get("code") or "")
    ev = Evidence.of("netsuite", "upsert order", code=code or None, details={"error": err, "order_id": order_id})
    path = err.get("path")
    return netsuite_order_error(order_id, code, str(err.get("message") or ""), ev, path=str(path) if path else None)


# --- jobs ----------------------------------------------------------------------------------------
