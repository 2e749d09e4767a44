"""An order whose every live unit has shipped (by the seller or by TikTok): the order link records it
(``OrderMemory.fulfilled``), the sales order reaches its final state for the shop's accounting mode, and
the ship-by alerts close."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import Order
from bridge.flows.accounting import policy_for
from bridge.flows.fulfillment.common import shipped_on_tiktok
from bridge.mapping.accounting import invoice_external_id
from bridge.ports.alerts import Alerts
from bridge.ports.fulfillment import ShipmentRepository
from bridge.ports.netsuite import LineChange, NetSuiteFulfillment, NsDocument
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories

log = logging.getLogger("bridge.flows.fulfillment")


@dataclass
class OrderCompletion:
    store: Repositories
    shipments: ShipmentRepository
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    alerter: Alerts | None = None

    def maybe_fulfilled(self, shop_id: str, order: Order, extra: Iterable[str] = ()) -> bool:
        """Set ``fulfilled`` on the order link once every live unit is shipped."""
        live = {li.id for li in order.line_items if not li.cancelled}
        shipped = {li.id for li in order.line_items if shipped_on_tiktok(li)} | set(extra)
        recorded = {i for s in self.shipments.shipments(shop_id, order.id) if s.status == "shipped"
                    for i in s.line_item_ids}
        if not live or not live <= (shipped | recorded):
            return False
        link = self.store.links.get("order", shop_id, order.id)
        if link is not None and not OrderMemory.parse(link.data).fulfilled:
            fulfilled = OrderMemory.parse(link.data).with_(fulfilled=True, fulfilled_at=self.clock.now().isoformat())
            link = Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                        link.external_id, link.content_hash, link.status, fulfilled.dump(), link.synced_at)
            self.store.links.upsert(link)
        if link is not None:
            self._finish_order(shop_id, order.id, link)
        self._resolve_sla(shop_id, order.id)
        return True

    def _finish_order(self, shop_id: str, order_id: str, link: Link) -> None:
        """A fully fulfilled sales order reaches its final state (docs/accounting.md): closed where
        the statement recognises the revenue (summary), billed with one invoice where the order
        documents do (receivable modes), left alone while settlement does not post for the shop."""
        finished = OrderMemory.parse(link.data).finished
        if not link.netsuite_id or link.netsuite_type not in ("", "salesOrder") or finished:
            return
        policy = policy_for(self.specs, shop_id, self.store.shops.get(shop_id))
        action = policy.on_fulfilled
        if action == "keep":
            return
        done: dict[str, Any] = {"finished": action}
        if action == "close":
            lines = self.netsuite.order_lines("salesOrder", link.netsuite_id)
            # every line but a unit line still waiting to ship: discount, shipping and charge lines hold
            # no TikTok units and have nothing to fulfil (NetSuite may still show them a quantity of 1),
            # so they close too; the order reaches Closed, nothing is left for billing
            changes = [LineChange(ln.line, close=True) for ln in lines
                       if not ln.closed and (not ln.quantity or ln.fulfilled >= ln.quantity or not ln.line_item_ids)]
            if changes:
                self.netsuite.change_order_lines("salesOrder", link.netsuite_id, changes)
            done["closed_lines"] = len(changes)
        else:
            day = policy.date_of(self.clock.now())
            written = self.netsuite.create_document(NsDocument(
                "invoice", invoice_external_id(shop_id, order_id),
                {"tranDate": day.isoformat(), "memo": f"TikTok Shop order {order_id} (billed at shipment)",
                 "custbody_ttns_order_id": order_id, "custbody_ttns_source": "TTNS"},
                "salesOrder", link.netsuite_id, replace_items=False))
            done["invoice_id"] = written.id
        fresh = self.store.links.get("order", shop_id, order_id) or link
        self.store.links.upsert(replace(fresh, data=OrderMemory.parse(fresh.data).with_(**done).dump()))
        self.store.audit.record("worker", f"order.{action}d_after_fulfillment", entity=order_key(shop_id, order_id),
                                detail={"sales_order": link.netsuite_id, "mode": policy.mode, **done})

    def _resolve_sla(self, shop_id: str, order_id: str) -> None:
        for exc in self.store.exceptions.list(entity=order_key(shop_id, order_id)):
            if exc.code == "SLA_AT_RISK":
                self.store.exceptions.close(exc.id, status="resolved", by="fulfillment",
                                            note="the order shipped")
        if self.alerter is not None:
            try:
                self.alerter.clear(f"sla:{shop_id}:{order_id}")
            except Exception:  # alerts never break a flow
                log.exception("clearing an SLA alert failed")
