"""Issue 17 points 2, 3 and 4 through both sandboxes: buyer-paid fees of the order detail post to the
fee item so the sales order reconciles to TikTok's total, and the one SKU rule resolves a seller
SKU that differs from the NetSuite item name in case and spaces."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bridge.domain.keys import order_key, order_key_prefix
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.specs import SpecSet
from tests.fulfillment.conftest import Bridge

D = Decimal


def _fee_item(bridge: Bridge) -> str:
    rows, _ = bridge.ns.suiteql("SELECT id FROM item WHERE externalid = 'FEE-BUYER'")
    return str(rows[0]["id"])


@pytest.mark.parametrize(
    "fees",
    [
        pytest.param({"retail_delivery_fee": "0.28"}, id="colorado-retail-delivery-fee"),
        pytest.param({"small_order_fee": "1.99", "buyer_service_fee": "0.35"}, id="small-order-and-service-fee"),
    ],
)
def test_buyer_fees_post_to_the_fee_item_and_the_order_reconciles(bridge: Bridge, fees: dict[str, str]) -> None:
    o = bridge.order([("MUG-001", 2)], shipping_fee="4.99", **fees)
    assert bridge.exceptions(o["id"]) == []
    rec = bridge.ns.get("salesOrder", bridge.so(o["id"])).data
    fee_id = _fee_item(bridge)
    fee_lines = sorted(D(str(ln["amount"])) for ln in rec["item"] if str(ln["item"]["id"]) == fee_id)
    assert fee_lines == sorted(D(v) for v in fees.values())
    pay = o["payment"]
    lines = sum((D(str(ln["amount"])) for ln in rec["item"]), D(0)) + D(str(rec.get("shippingCost") or 0))
    # tax mode none (US marketplace facilitator): the sales order is TikTok's total minus tax, to the cent
    assert lines == D(pay["total_amount"]) - D(pay["tax"])


def test_a_seller_sku_differing_in_case_and_spaces_resolves_to_the_netsuite_item_by_the_one_sku_rule(
        bridge: Bridge) -> None:
    """Issue 17 point 2: catalog.yaml's match rule (case and surrounding spaces ignored by default) is what
    orders resolve by, so TikTok's " mug-001 " is NetSuite's MUG-001, no UNKNOWN_SKU."""
    wh = bridge.world.seller_warehouse
    bridge.tt.add_product(bridge.shop, "Mug (lower-case SKU)", [{"seller_sku": " mug-001 ", "price": "12.50",
                                                                   "inventory": {wh: 5}}])
    o = bridge.order([(" mug-001 ", 2)])
    assert bridge.exceptions(o["id"]) == []
    (line,) = [ln for ln in bridge.so_lines(o["id"]) if ln.get("custcol_ttns_line_item_ids")]
    assert line["item"]["id"] == bridge.world.netsuite_item_id("MUG-001") and D(str(line["quantity"])) == 2


class _Later:
    """The bridge's clock, some minutes on (the hold window's end without waiting for it)."""

    def __init__(self, minutes: int) -> None:
        self.delta = timedelta(minutes=minutes)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.delta


def test_the_merchant_hold_window_keeps_a_new_order_out_of_netsuite_until_it_ends(bridge: Bridge) -> None:
    """Issue 17 point 4: orders.yaml hold_minutes holds a new order (its units still count against stock)
    and it reaches NetSuite once the window ended."""
    svc = bridge.c.flows.orders
    specs = bridge.c.specs.loaded()
    spec = specs.get("orders", OrdersSpec)
    held = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"hold_minutes": 10})})
    with bridge.swapped(orders=replace(svc, specs=SpecSet(specs.directory, {**specs.specs, "orders": held}))):
        o = bridge.tt.place_order(bridge.shop, [{"seller_sku": "MUG-001", "quantity": 1}], hold=False)
        bridge.drain()
        link = bridge.c.store.links.get("order", bridge.shop, o["id"])
        assert link is not None and not link.netsuite_id and link.status == "pending:HOLD_WINDOW"
        assert link.data["units"] == {"MUG-001": 1}, "its units still count against sellable stock"
        queued = bridge.c.store.queue.pending_keys("orders.sync", order_key_prefix(bridge.shop), 100)
        assert any(k == order_key(bridge.shop, o["id"]) for k, _created in queued), "one sync waits for the end"
        done = replace(bridge.c.flows.orders, clock=_Later(11)).sync(
            bridge.shop, o["id"], not_before=datetime.now(UTC) - timedelta(minutes=5))
    assert done["action"] in ("created", "written") and bridge.so(o["id"]) == done["netsuite_id"]
    assert bridge.exceptions(o["id"]) == []
