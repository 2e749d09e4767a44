"""Fulfillment: one module per flow, all keyed by the order (``bridge.domain.keys.order_key``) so one
order's fulfillment, cancellation and order jobs never run at the same time.

* ``push`` — ``ShipmentPush``: a NetSuite item fulfillment → TikTok packages shipped, tracking corrected
  (``fulfillment.push``, from the ``item_fulfillment.saved`` / ``.deleted`` user event);
* ``fbt`` — ``FbtShipments``: an FBT order TikTok shipped → a NetSuite item fulfillment
  (``fulfillment.tiktok`` from webhook 4, ``fulfillment.fbt_poll`` as its backstop);
* ``sla`` — ``ShipBySla``: orders near their ship-by time unshipped → exceptions and alerts
  (``fulfillment.sla``);
* ``fbt_stock`` — ``FbtStock``: the FBT location's NetSuite stock against TikTok's
  (``fulfillment.fbt_stock``);
* ``completion`` — ``OrderCompletion``: what happens once every unit shipped (push and FBT call it).

``FulfillmentSync`` is the area as ``bridge.bootstrap`` builds it: one set of ports, the flows built over
them (``dataclasses.replace`` with another port or other specs rebuilds every flow), and the entry points
the CLI, the demo and the monitors call. Bootstrap registers each flow's own handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.flows.fulfillment.common import FLOW, SHIPPED_BY_TIKTOK, shipped_on_tiktok
from bridge.flows.fulfillment.completion import OrderCompletion
from bridge.flows.fulfillment.fbt import (
    FBT_POLL_OVERLAP,
    FBT_POLL_SECONDS,
    KIND_FBT_POLL,
    KIND_TIKTOK,
    FbtShipments,
    route_package,
)
from bridge.flows.fulfillment.fbt_stock import KIND_FBT_STOCK, FbtStock, fbt_adjustment_external_id, route_fbt_inventory
from bridge.flows.fulfillment.push import (
    HOLD_RETRY_MAX,
    HOLD_RETRY_MINUTES,
    KIND_PUSH,
    NETSUITE_TOPICS,
    HoldError,
    ShipmentPush,
    route_netsuite,
)
from bridge.flows.fulfillment.sla import KIND_SLA, SLA_SECONDS, ShipBySla
from bridge.mapping.fulfillment import Fulfillment
from bridge.ports.alerts import Alerts
from bridge.ports.fulfillment import ShipmentRepository
from bridge.ports.netsuite import NetSuiteFulfillment
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories
from bridge.ports.tiktok import TikTokShipping


@dataclass
class FulfillmentSync:
    """The fulfillment area: its ports and the flows built over them."""

    store: Repositories
    shipments: ShipmentRepository
    tiktok: TikTokShipping
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    alerter: Alerts | None = None
    completion: OrderCompletion = field(init=False)
    shipping: ShipmentPush = field(init=False)
    fbt: FbtShipments = field(init=False)
    sla: ShipBySla = field(init=False)
    stock: FbtStock = field(init=False)

    def __post_init__(self) -> None:
        self.completion = OrderCompletion(store=self.store, shipments=self.shipments, netsuite=self.netsuite,
                                          specs=self.specs, clock=self.clock, alerter=self.alerter)
        self.shipping = ShipmentPush(store=self.store, shipments=self.shipments, tiktok=self.tiktok,
                                     netsuite=self.netsuite, specs=self.specs, clock=self.clock,
                                     completion=self.completion)
        self.fbt = FbtShipments(store=self.store, shipments=self.shipments, tiktok=self.tiktok, netsuite=self.netsuite,
                                specs=self.specs, clock=self.clock, completion=self.completion)
        self.sla = ShipBySla(store=self.store, shipments=self.shipments, tiktok=self.tiktok, specs=self.specs,
                             clock=self.clock, alerter=self.alerter)
        self.stock = FbtStock(store=self.store, tiktok=self.tiktok, netsuite=self.netsuite, specs=self.specs,
                              clock=self.clock)

    # -- entry points (CLI, demo, monitors) -------------------------------------------------------------
    def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Push one NetSuite fulfillment (the ``fulfillment.push`` payload) to TikTok."""
        return self.shipping.push(payload)

    def deleted(self, f: Fulfillment) -> dict[str, Any]:
        return self.shipping.deleted(f)

    def tiktok_shipped(self, shop_id: str, order_id: str) -> dict[str, Any]:
        """Record in NetSuite what TikTok shipped of one FBT order."""
        return self.fbt.tiktok_shipped(shop_id, order_id)

    def fbt_poll(self) -> dict[str, Any]:
        return self.fbt.fbt_poll()

    def sla_scan(self) -> dict[str, Any]:
        return self.sla.sla_scan()

    def fbt_stock(self, shop_id: str | None = None) -> dict[str, Any]:
        return self.stock.fbt_stock(shop_id)

    def fbt_drift(self) -> list[dict[str, Any]]:
        return self.stock.fbt_drift()

    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[dict[str, str]]:
        return self.shipping.unshipped(older_than=older_than, limit=limit)


__all__ = [
    "FBT_POLL_OVERLAP",
    "FBT_POLL_SECONDS",
    "FLOW",
    "HOLD_RETRY_MAX",
    "HOLD_RETRY_MINUTES",
    "KIND_FBT_POLL",
    "KIND_FBT_STOCK",
    "KIND_PUSH",
    "KIND_SLA",
    "KIND_TIKTOK",
    "NETSUITE_TOPICS",
    "SHIPPED_BY_TIKTOK",
    "SLA_SECONDS",
    "FbtShipments",
    "FbtStock",
    "FulfillmentSync",
    "HoldError",
    "OrderCompletion",
    "ShipBySla",
    "ShipmentPush",
    "fbt_adjustment_external_id",
    "order_key",
    "route_fbt_inventory",
    "route_netsuite",
    "route_package",
    "shipped_on_tiktok",
]
