"""Ship-by SLA (``fulfillment.sla``, every 15 minutes): seller-shipped orders approaching their ship-by
time unshipped raise an ``SLA_AT_RISK`` exception and an alert, once per level (warning, critical,
missed); they close when the order ships (``completion``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.tiktok import Order
from bridge.flows.fulfillment.common import FLOW, carriers
from bridge.ports.alerts import Alert, Alerts
from bridge.ports.fulfillment import ShipmentRepository
from bridge.ports.jobs import JobContext
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories, Shop
from bridge.ports.tiktok import TikTokShipping

log = logging.getLogger("bridge.flows.fulfillment")

KIND_SLA = "fulfillment.sla"
SLA_SECONDS = 900
SHIPPABLE = ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")


@dataclass
class ShipBySla:
    store: Repositories
    shipments: ShipmentRepository
    tiktok: TikTokShipping
    specs: Specs
    clock: Clock
    alerter: Alerts | None = None

    def handle_sla(self, ctx: JobContext) -> dict[str, Any]:
        return self.sla_scan()

    def sla_scan(self) -> dict[str, Any]:
        now = self.clock.now()
        raised: list[dict[str, Any]] = []
        watched = 0
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(FLOW):
                continue
            sla = carriers(self.specs, shop).sla
            if not sla.enabled:
                continue
            orders = [o for status in SHIPPABLE for o in self.tiktok.search_orders(shop.id, status=status)]
            levels = self.shipments.sla_levels(shop.id, [o.id for o in orders])
            for o in orders:
                if o.is_fbt:
                    continue
                deadline = _deadline(o, sla.deadline)
                if deadline is None:
                    continue
                watched += 1
                left = deadline - now
                level = ("missed" if left <= timedelta(0) else "critical" if left <= timedelta(hours=sla.critical_hours)
                         else "warning" if left <= timedelta(hours=sla.warn_hours) else "")
                if not level or level in levels.get(o.id, set()):
                    continue
                if not self.shipments.claim_sla_alert(shop.id, o.id, level, deadline):
                    continue
                raised.append(self._sla_alert(shop, o, level, deadline, left))
        return {"watched": watched, "alerts": raised}

    def _sla_alert(self, shop: Shop, o: Order, level: str, deadline: datetime, left: timedelta) -> dict[str, Any]:
        entity = order_key(shop.id, o.id)
        hours = left.total_seconds() / 3600
        when = deadline.strftime("%Y-%m-%d %H:%M UTC")
        title = (f"TikTok order {o.id} missed its ship-by time ({when})" if level == "missed" else
                 f"TikTok order {o.id} must ship by {when} ({hours:.1f} h left) and has no fulfillment")
        self.store.exceptions.raise_(
            code="SLA_AT_RISK", owner="ops", title=title,
            fix_hint="Ship it in NetSuite (item fulfillment with the tracking number) before the deadline: TikTok "
            "ranks sellers on dispatch time and penalises late shipments. It resolves itself when the order ships.",
            evidence={"deadline": deadline.isoformat(), "level": level, "status": o.status,
                      "hours_left": round(hours, 2), "units": len([li for li in o.line_items if not li.cancelled])},
            entity=entity, shop_id=shop.id)
        if self.alerter is not None:
            try:
                self.alerter.fire(Alert(key=f"sla:{shop.id}:{o.id}", title=title, monitor="fulfillment_sla",
                                        severity="warning" if level == "warning" else "critical",
                                        text=f"Ship-by deadline {when}; status {o.status}.",
                                        path=f"/console/orders/{shop.id}/{o.id}"))
            except Exception:  # alerts never break a flow
                log.exception("sending an SLA alert failed")
        return {"order_id": o.id, "level": level, "deadline": deadline.isoformat()}


def _deadline(order: Order, first: str) -> datetime | None:
    order_of = [first] + [f for f in ("rts_sla_time", "shipping_due_time", "tts_sla_time") if f != first]
    for name in order_of:
        value = getattr(order, name, None)
        if isinstance(value, datetime):
            return value
    return None

