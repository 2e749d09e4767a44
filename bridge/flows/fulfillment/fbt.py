"""FBT: orders TikTok fulfills from its own warehouse. When TikTok ships one (webhook 4, PACKAGE_UPDATE,
or the ``fulfillment.fbt_poll`` package search as its backstop) → ``fulfillment.tiktok``: the sales order
gets an item fulfillment in NetSuite (transform, with TikTok's tracking, marked
``custbody_ttns_shipped_by = TIKTOK`` so the user event does not push it back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import LineItem
from bridge.errors import Evidence, NeedsHumanError, RetriableError
from bridge.flows.accounting import policy_for
from bridge.flows.backstop import poll_shops
from bridge.flows.fulfillment.common import FLOW, SHIPPED_BY_TIKTOK, active_shop, shipped_on_tiktok
from bridge.flows.fulfillment.completion import OrderCompletion
from bridge.ports.fulfillment import ShipmentRepository
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import NetSuiteFulfillment, NsDocument, SoLine
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories, Shop
from bridge.ports.tiktok import TikTokShipping

KIND_TIKTOK = "fulfillment.tiktok"
KIND_FBT_POLL = "fulfillment.fbt_poll"
FBT_POLL_SECONDS = 600
FBT_POLL_OVERLAP = timedelta(minutes=10)


def route_package(event: InboundEvent) -> list[JobSpec]:
    """Webhook 4 (PACKAGE_UPDATE): check each order it names (FBT shipments become NetSuite fulfillments)."""
    data = event.data.get("data") or {}
    shop = event.shop_id or str(event.data.get("shop_id") or "")
    if not shop:
        return []
    orders = sorted({str(o) for p in data.get("package_list") or [] if isinstance(p, dict)
                     for o in p.get("order_id_list") or []})
    return [JobSpec(kind=KIND_TIKTOK, key=order_key(shop, o), payload={"shop_id": shop, "order_id": o,
                                                                          "reason": "webhook 4"},
                    idempotency_key=f"{KIND_TIKTOK}:{event.source}:{event.event_id}:{o}"[:191], priority=30)
            for o in orders]


@dataclass
class FbtShipments:
    store: Repositories
    shipments: ShipmentRepository
    tiktok: TikTokShipping
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    completion: OrderCompletion

    def handle_tiktok(self, ctx: JobContext) -> dict[str, Any]:
        return self.tiktok_shipped(str(ctx.payload["shop_id"]), str(ctx.payload["order_id"]))

    def handle_fbt_poll(self, ctx: JobContext) -> dict[str, Any]:
        return self.fbt_poll()

    def tiktok_shipped(self, shop_id: str, order_id: str) -> dict[str, Any]:
        shop = active_shop(self.store, shop_id)
        order = self.tiktok.get_order(shop_id, order_id)
        if order is None:
            raise RetriableError(f"TikTok did not return order {order_id}")
        if not order.is_fbt:
            return {"action": "ignored", "reason": "seller-shipped order: NetSuite fulfillments drive it"}
        link = self.store.links.get("order", shop_id, order_id)
        if link is None or not link.netsuite_id:
            raise RetriableError(f"FBT order {order_id} has no sales order in NetSuite yet; tried again later",
                                 retry_after=60)
        packages: dict[str, list[LineItem]] = {}
        for li in order.line_items:
            if shipped_on_tiktok(li):
                packages.setdefault(li.package_id or f"tracking:{li.tracking_number}", []).append(li)
        if not packages:
            return {"action": "nothing shipped yet", "status": order.status}
        done = {s.tiktok_package_id for s in self.shipments.shipments(shop_id, order_id) if s.method == "fbt"
                and s.status == "shipped"}
        created = []
        lines: list[SoLine] | None = None
        for pkg, items in sorted(packages.items()):
            if pkg in done:
                continue
            if lines is None:
                lines = self.netsuite.order_lines(link.netsuite_type or "salesOrder", link.netsuite_id)
            ids = {li.id for li in items}
            rows = []
            for ln in lines:
                hit = [i for i in ln.line_item_ids if i in ids]
                if hit and not ln.closed:
                    rows.append({"orderLine": ln.line, "quantity": len(hit), "itemReceive": True})
            if not rows:
                raise NeedsHumanError(
                    f"TikTok shipped FBT package {pkg} of order {order_id} but no sales order line holds its units",
                    code="FBT_LINES_MISSING", owner="ops",
                    fix_hint="Check the sales order lines (custcol_ttns_line_item_ids) against the TikTok order, "
                    "then replay.", entity=order_key(shop_id, order_id),
                    evidence=Evidence.of("bridge", "fbt fulfillment", details={"package": pkg, "units": sorted(ids)}))
            first = items[0]
            # dated the day TikTok shipped it in the shop's market zone (COGS lands on that local day), not
            # the day the webhook or the poll got here: an evening shipment read after midnight stays on its day
            shipped_at = first.rts_time or order.rts_time or order.collection_time or self.clock.now()
            shipped_on = policy_for(self.specs, shop_id, shop).date_of(shipped_at)
            body = {"shipStatus": {"id": "C"}, "custbody_ttns_shipped_by": SHIPPED_BY_TIKTOK,
                    "tranDate": shipped_on.isoformat(),
                    "memo": f"Shipped by TikTok (FBT) package {pkg}"[:999],
                    "item": {"items": rows},
                    "package": {"items": [{"packageTrackingNumber": first.tracking_number or "", "packageWeight": 1,
                                           "packageDescr": f"TikTok FBT {first.shipping_provider_name}"[:100]}]}}
            written = self.netsuite.create_document(NsDocument(
                "itemFulfillment", f"TTS-FBT-{shop_id}-{pkg}"[:100], body, "salesOrder", link.netsuite_id))
            self.shipments.record_external(
                shop_id=shop_id, order_id=order_id, fulfillment_id=written.id, package_index=1,
                tracking_number=first.tracking_number, provider_id=first.shipping_provider_id,
                provider_name=first.shipping_provider_name, line_item_ids=sorted(ids), method="fbt",
                tiktok_package_id=pkg)
            created.append({"package": pkg, "item_fulfillment": written.id, "created": written.created,
                            "tracking_number": first.tracking_number})
            self.store.audit.record("worker", "fbt.fulfilled", entity=order_key(shop_id, order_id),
                                    detail={"package": pkg, "item_fulfillment": written.id})
        fully = self.completion.maybe_fulfilled(shop_id, order)
        return {"action": "fbt_fulfilled" if created else "unchanged", "fulfillments": created,
                "order_fulfilled": fully}

    def fbt_poll(self) -> dict[str, Any]:
        """The backstop for webhook 4: packages updated since the last run whose FBT order is open."""
        def jobs_since(shop: Shop, since: datetime, now: datetime) -> list[JobSpec]:
            orders: set[str] = set()
            for pkg in self.tiktok.search_packages(shop.id, update_time_ge=since):
                orders.update(o.id for o in pkg.orders)
            links = self.store.links.get_many("order", shop.id, sorted(orders))
            return [JobSpec(kind=KIND_TIKTOK, key=order_key(shop.id, oid), payload={"shop_id": shop.id,
                                                                                 "order_id": oid, "reason": "poll"},
                            idempotency_key=f"{KIND_TIKTOK}:poll:{shop.id}:{oid}:{int(now.timestamp()) // 60}",
                            priority=60)
                    for oid, ln in links.items()
                    if (memory := OrderMemory.parse(ln.data)).is_fbt and not memory.fulfilled]

        return poll_shops(self.store, self.clock, flow=FLOW, cursor=KIND_FBT_POLL, first_window=timedelta(hours=6),
                          overlap=FBT_POLL_OVERLAP, jobs_since=jobs_since)
