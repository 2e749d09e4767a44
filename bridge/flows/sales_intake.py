"""TikTok sales counted at intake, ahead of the order writes.

A TikTok order is a sale the dynamic buffer must know about at once (docs/inventory.md, "The dynamic
buffer"), but its ``orders.sync`` job waits ``order_sync_delay_seconds`` and then for a worker thread
behind every other order job. So the webhook that announces an order (topic 1, a new order's status)
also queues ``orders.intake``, one per shop at a time (coalesced): it takes the orders whose syncs are
waiting, newest first, drops those the bridge already knows (an order link) or already counted, reads
the rest from TikTok in batches (Get Order Detail takes 50 ids; the details stay in the order reader's
cache for the syncs that follow, so the syncs make no extra call), and counts their units at once
(``InventorySync.on_tiktok_sales``: once per order, then an ``inventory.raise`` per product). It calls
no NetSuite and runs on the worker's urgent threads. The sync still counts an order this job did not see
(found by the poll, a replay); the count is once per order whichever comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.domain.keys import order_key_prefix
from bridge.errors import SkippableError
from bridge.flows.orders import KIND_SYNC, OrderReader, _units
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.queue import JobSpec
from bridge.ports.store import Repositories

log = logging.getLogger("bridge.flows.sales_intake")

KIND_INTAKE = "orders.intake"
INTAKE_PRIORITY = 30  # before everything else: it only reads TikTok and counts
SCAN = 200  # waiting order syncs looked at per run, newest first
# Webhook 1 statuses of an order TikTok has just accepted (the webhook says CANCEL for cancelled). Later
# statuses (shipped, delivered …) are not new sales; an order first seen in one is counted by its sync.
NEW_ORDER_STATUSES = frozenset({"", "UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"})


def intake_spec(shop_id: str) -> JobSpec:
    """One waiting intake job per shop: the webhooks arriving while it waits join it."""
    return JobSpec(kind=KIND_INTAKE, key=f"{KIND_INTAKE}:{shop_id}", payload={"shop_id": shop_id},
                   priority=INTAKE_PRIORITY, coalesce=True)


def with_intake(route: Callable[[InboundEvent], list[JobSpec]]) -> Callable[[InboundEvent], list[JobSpec]]:
    """The order router, plus the shop's intake job when the event announces a new order."""

    def route_with_intake(event: InboundEvent) -> list[JobSpec]:
        specs = route(event)
        data = event.data.get("data") or {}
        status = str(data.get("order_status") or "").upper()
        shop_id = event.shop_id or str(event.data.get("shop_id") or "")
        if specs and shop_id and status in NEW_ORDER_STATUSES:
            specs = [*specs, intake_spec(shop_id)]
        return specs

    return route_with_intake


@dataclass
class SalesIntake:
    store: Repositories
    reader: OrderReader
    # Of these order ids, the ones whose sale is not counted yet (``InventorySync.uncounted_orders``).
    uncounted: Callable[[str, Sequence[str]], list[str]]
    # Count these orders' units (order id -> {seller SKU: units}), once per order (``on_tiktok_sales``).
    count: Callable[[str, Mapping[str, Mapping[str, int]]], int]
    scan: int = SCAN

    def handle(self, ctx: JobContext) -> dict[str, Any]:
        shop_id = str(ctx.payload["shop_id"])
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled("orders"):
            raise SkippableError(f"the orders flow is off for shop {shop_id}")
        prefix = order_key_prefix(shop_id)
        ids = [key[len(prefix):] for key, _created in
               self.store.queue.pending_keys(KIND_SYNC, prefix, self.scan, newest_first=True)]
        known = self.store.links.get_many("order", shop_id, ids)
        new = self.uncounted(shop_id, [oid for oid in ids if oid not in known])
        if not new:
            return {"scanned": len(ids), "read": 0, "counted": 0}
        orders = self.reader.read_many(shop_id, new)
        sales = {o.id: _units(o) for o in orders if o.status != "CANCELLED" and not o.is_fbt}
        jobs = self.count(shop_id, sales) if sales else 0
        return {"scanned": len(ids), "read": len(orders), "counted": len(sales), "raises": jobs}


__all__ = ["KIND_INTAKE", "NEW_ORDER_STATUSES", "SalesIntake", "intake_spec", "with_intake"]
