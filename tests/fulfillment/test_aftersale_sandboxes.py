"""Cancellations, returns, refunds and FBT through both sandboxes (the real SuiteScript user events
run; TikTok's webhooks 1, 4, 11 and 12 reach the bridge over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import requests

from bridge.domain.keys import order_key
from bridge.mapping.returns_spec import ReturnsSpec
from bridge.mapping.specs import SpecSet
from tests.fulfillment.conftest import Bridge


def ids(order: dict[str, Any], sku: str) -> list[str]:
    return [str(li["id"]) for li in order["line_items"] if li["seller_sku"] == sku]


@contextmanager
def settlement_off(bridge: Bridge) -> Iterator[None]:
    """The shop's settlement flow switched off: the returns flow's credit memo / cash refund is then
    the only record of a refund (docs/accounting.md); with settlement on, the statement is."""
    shop = bridge.c.store.shops.get(bridge.shop)
    assert shop is not None
    before = dict(shop.flows)
    bridge.c.store.shops.set_flows(bridge.shop, {**before, "settlement": False})
    try:
        yield
    finally:
        bridge.c.store.shops.set_flows(bridge.shop, before)


@pytest.fixture
def no_settlement(bridge: Bridge) -> Iterator[None]:
    with settlement_off(bridge):
        yield


def line(bridge: Bridge, order_id: str, sku: str) -> dict[str, Any]:
    item = bridge.world.netsuite_item_id(sku)
    return next(ln for ln in bridge.so_lines(order_id) if ln["item"]["id"] == item)


# --- cancellations ---------------------------------------------------------------------------------


def test_a_full_cancellation_before_shipping_closes_the_sales_order(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
    bridge.tt.cancel_order(o["id"], role="SYSTEM")
    bridge.drain()
    assert all(ln["isClosed"] for ln in bridge.so_lines(o["id"]) if ln.get("custcol_ttns_line_item_ids"))
    assert bridge.ns.get("salesOrder", bridge.so(o["id"])).data["status"]["id"] == "H"
    link = bridge.c.store.links.get("order", bridge.shop, o["id"])
    assert link is not None and link.status == "cancelled"
    assert bridge.exceptions(o["id"]) == []


def test_a_line_level_cancellation_closes_or_reduces_exactly_those_lines(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
    mugs = ids(o, "MUG-001")
    bridge.tt.cancel_order(o["id"], role="SYSTEM", line_item_ids=ids(o, "CAP-001") + mugs[:1])
    bridge.drain()
    # Before anything shipped the orders flow's merged update writes the cancellation (docs/ownership.md):
    # the cap's line is closed at no charge (kept, not removed; a closed line still counts in the total),
    # the mug's is reduced, and the sales order's total is TikTok's.
    item = bridge.world.netsuite_item_id("CAP-001")
    (cap,) = [ln for ln in bridge.so_lines(o["id"]) if ln["item"]["id"] == item]
    assert cap["isClosed"] is True and Decimal(str(cap["amount"])) == 0
    assert cap["custcol_ttns_line_item_ids"] == ",".join(ids(o, "CAP-001"))
    so = bridge.ns.get("salesOrder", bridge.so(o["id"])).data
    assert Decimal(str(so["total"])) == Decimal(bridge.link(o["id"])["expected_total"]) == Decimal("12.50")
    mug = line(bridge, o["id"], "MUG-001")
    assert not mug.get("isClosed") and int(Decimal(str(mug["quantity"]))) == 1
    assert mug["custcol_ttns_line_item_ids"] == mugs[1] and Decimal(str(mug["amount"])) == Decimal("12.50")
    alloc = {a["sku"]: a for a in bridge.link(o["id"])["allocation"]}
    assert alloc["MUG-001"]["line_item_ids"] == [mugs[1]] and "CAP-001" not in alloc
    assert bridge.link(o["id"])["units"] == {"MUG-001": 1}
    assert bridge.exceptions(o["id"]) == []
    # the rest still ships, and closes the order
    bridge.fulfill(o["id"], None, ["9400111202555842760101"])
    (pkg,) = bridge.packages(o["id"])
    assert pkg["order_line_item_ids"] == [mugs[1]] and bridge.link(o["id"])["fulfilled"] is True


def test_a_cancellation_after_the_warehouse_packed_it_is_cancelled_too_late(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 1), ("CAP-001", 1)])
    cap_line = int(line(bridge, o["id"], "CAP-001")["line"])
    bridge.fulfill(o["id"], [{"orderLine": cap_line, "quantity": 1}], ["9400111202555842760102"], shipStatus="B")
    assert bridge.packages(o["id"])[0]["package_status"] == "TO_FULFILL", "packed, not shipped: nothing pushed"
    bridge.tt.cancel_order(o["id"], role="SYSTEM")
    bridge.drain()
    assert line(bridge, o["id"], "MUG-001")["isClosed"] is True
    assert not line(bridge, o["id"], "CAP-001").get("isClosed")
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "CANCELLED_TOO_LATE" and exc.owner == "ops" and "return" in exc.fix_hint
    assert ids(o, "CAP-001")[0] in str(exc.evidence)


def test_lines_closed_in_netsuite_are_cancelled_on_tiktok(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 1), ("CAP-001", 1)])
    bridge.ns.close_sales_order_lines(bridge.so(o["id"]), [int(line(bridge, o["id"], "CAP-001")["line"])])
    bridge.drain()
    after = bridge.tt.order(o["id"])
    status = {li["seller_sku"]: li["display_status"] for li in after["line_items"]}
    assert status == {"MUG-001": "AWAITING_SHIPMENT", "CAP-001": "CANCELLED"}
    (c,) = bridge.tt.cancellations(order_id=o["id"])
    assert c["role"] == "SELLER" and c["cancel_reason"] == "seller_cancel_reason_out_of_stock"
    assert not line(bridge, o["id"], "MUG-001").get("isClosed"), "TikTok's cancellation changed nothing else"
    assert bridge.exceptions(o["id"]) == []


def test_a_cancel_whose_answer_was_lost_is_not_sent_again(bridge: Bridge) -> None:
    """Cancel Order has no idempotency key: TikTok cancels the units but the answer is lost; the retried
    job reads the order first, finds the units cancelled and sends nothing (one cancellation, no exception)."""
    from bridge.errors import WriteOutcomeUnknown

    real = bridge.c.ports.tiktok_aftersale
    sent: list[str] = []

    class LosesTheAnswer:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def cancel_order(self, *a: Any, **kw: Any) -> object:
            sent.append(str(a[1]))
            real.cancel_order(*a, **kw)
            raise WriteOutcomeUnknown("connection dropped after sending")

    svc = bridge.c.flows.cancellations
    o = bridge.order([("MUG-001", 1), ("CAP-001", 1)])
    with bridge.swapped(cancellations=replace(svc, aftersale=LosesTheAnswer())):
        bridge.ns.close_sales_order_lines(bridge.so(o["id"]), [int(line(bridge, o["id"], "CAP-001")["line"])])
        bridge.drain()
    assert sent == [o["id"]]  # sent once; the retry found the units cancelled on TikTok
    (c,) = bridge.tt.cancellations(order_id=o["id"])
    assert c["role"] == "SELLER"
    status = {li["seller_sku"]: li["display_status"] for li in bridge.tt.order(o["id"])["line_items"]}
    assert status == {"MUG-001": "AWAITING_SHIPMENT", "CAP-001": "CANCELLED"}
    assert bridge.exceptions(o["id"]) == []


def test_a_line_level_close_tiktok_does_not_allow_is_reported(bridge: Bridge) -> None:
    svc = bridge.c.flows.cancellations
    spec = bridge.c.specs.loaded().get("returns", ReturnsSpec)
    strict = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={
        "cancellations": spec.defaults.cancellations.model_copy(update={
            "reasons": {"wrong price": "seller_cancel_reason_wrong_price"}})})})
    specs = SpecSet(bridge.c.specs.loaded().directory, {**bridge.c.specs.loaded().specs, "returns": strict})
    with bridge.swapped(cancellations=replace(svc, specs=specs)):
        o = bridge.order([("MUG-001", 1), ("CAP-001", 1)])
        bridge.ns.update("salesOrder", bridge.so(o["id"]), {"custbody_ttns_cancel_reason": "Wrong price"})
        bridge.ns.close_sales_order_lines(bridge.so(o["id"]), [int(line(bridge, o["id"], "CAP-001")["line"])])
        bridge.drain()
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "CANCEL_NOT_ALLOWED" and "out-of-stock" in exc.title
    assert all(li["display_status"] != "CANCELLED" for li in bridge.tt.order(o["id"])["line_items"])


# --- returns and refunds -----------------------------------------------------------------------------


def test_a_return_with_refund_produces_the_right_credit_memo(bridge: Bridge, no_settlement: None) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)], seller_discount="1.50", shipping_fee="4.99")
    bridge.fulfill(o["id"], None, ["9400111202555842760201"])
    bridge.tt.advance_order(o["id"], to="DELIVERED")
    mug = ids(o, "MUG-001")[0]
    ret = bridge.tt.request_return(o["id"], line_item_ids=[mug], return_type="RETURN_AND_REFUND")
    bridge.drain()
    ra = bridge.ns.get("returnAuthorization", f"eid:TTS-RA-{ret['return_id']}")
    (ra_line,) = ra.data["item"]
    assert ra_line["custcol_ttns_line_item_ids"] == mug and int(ra_line["quantity"]) == 1
    assert ra.data["createdFrom"]["id"] == bridge.so(o["id"])

    returns = bridge.c.tiktok().shop(bridge.shop).returns
    returns.approve_return(ret["return_id"], "APPROVE_RETURN")
    bridge.drain()
    bridge.tt.buyer_ships_return(ret["return_id"])
    returns.approve_return(ret["return_id"], "APPROVE_RECEIVED_PACKAGE")
    bridge.drain()

    refund = bridge.tt.returns(order_id=o["id"])[0]["refund_amount"]
    cm = bridge.ns.get("creditMemo", f"eid:TTS-RET-{ret['return_id']}")
    (cm_line,) = cm.data["item"]
    assert cm.data["createdFrom"]["id"] == ra.id
    sale_price = next(Decimal(li["sale_price"]) for li in o["line_items"] if li["id"] == mug)
    assert Decimal(str(cm_line["amount"])) == Decimal(refund["refund_subtotal"]) == sale_price < Decimal("12.50")
    assert Decimal(str(cm.data["total"])) == Decimal(refund["refund_total"]) - Decimal(refund["refund_tax"])
    link = bridge.c.store.links.get("return", bridge.shop, ret["return_id"])
    assert link is not None and link.data["refund_id"] == cm.id and link.status == "RETURN_OR_REFUND_REQUEST_COMPLETE"

    # idempotent per return id: the same return synced again creates nothing

    again = bridge.c.flows.returns.sync(bridge.shop, o["id"], ret["return_id"])
    assert again["action"] == "unchanged"
    rows, _ = bridge.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-RET-{ret['return_id']}'")  # noqa: S608
    assert len(rows) == 1
    assert bridge.exceptions(o["id"]) == []


def test_a_refund_without_a_return_credits_through_a_closed_return_authorization(bridge: Bridge,
                                                                                 no_settlement: None) -> None:
    o = bridge.order([("CAP-001", 1)])
    bridge.fulfill(o["id"], None, ["9400111202555842760202"])
    ret = bridge.tt.request_return(o["id"], return_type="REFUND")
    bridge.drain()
    assert bridge.c.store.links.get("return", bridge.shop, ret["return_id"]) is not None
    bridge.c.tiktok().shop(bridge.shop).returns.approve_return(ret["return_id"], "APPROVE_REFUND")
    bridge.drain()
    cm = bridge.ns.get("creditMemo", f"eid:TTS-RET-{ret['return_id']}")
    assert Decimal(str(cm.data["total"])) == Decimal("15.00")
    ra = bridge.ns.get("returnAuthorization", f"eid:TTS-RA-{ret['return_id']}")
    assert all(ln["isClosed"] for ln in ra.data["item"]), "nothing comes back: nothing left to receive"
    assert bridge.exceptions(o["id"]) == []


def test_returns_switched_off_for_a_shop_write_nothing(bridge: Bridge) -> None:
    o = bridge.order([("CAP-001", 1)])
    bridge.fulfill(o["id"], None, ["9400111202555842760203"])
    bridge.c.store.shops.set_flows(bridge.shop, {"returns": False})
    try:
        ret = bridge.tt.request_return(o["id"], return_type="REFUND")
        bridge.drain()
    finally:
        bridge.c.store.shops.set_flows(bridge.shop, {"returns": True})
    assert bridge.c.store.links.get("return", bridge.shop, ret["return_id"]) is None
    assert bridge.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-RA-{ret['return_id']}'")[0] == []  # noqa: S608


# --- FBT -------------------------------------------------------------------------------------------------


def test_an_fbt_order_closes_in_netsuite_when_tiktok_ships_it(bridge: Bridge) -> None:
    shop = bridge.tt.shop(bridge.shop)
    fbt_wh = next(w["id"] for w in shop["warehouses"] if w.get("fbt"))
    bridge.tt.set_stock(seller_sku="CAP-001", shop_id=bridge.shop, warehouse_id=fbt_wh, quantity=5)
    cap = bridge.world.netsuite_item_id("CAP-001")
    fbt_loc, main = bridge.world.netsuite_location("LOC-FBT"), bridge.world.netsuite_location("LOC-MAIN")
    bridge.ns.receive_stock(cap, fbt_loc, 5)
    main_before = bridge.ns.stock_levels(item=cap, location=main)[0]["onHand"]

    o = bridge.order([("CAP-001", 1)], fbt=True)
    assert line(bridge, o["id"], "CAP-001")["location"]["id"] == fbt_loc
    bridge.tt.ship_fbt_order(o["id"], tracking_number="9400111202555842760301")
    bridge.drain()

    (ful,) = [f for f in (bridge.ns.get("itemFulfillment", i) for i in bridge.ns.list_ids("itemFulfillment"))
              if f.data["createdFrom"]["id"] == bridge.so(o["id"])]
    assert str(ful.data["externalId"]).startswith(f"TTS-FBT-{bridge.shop}-")
    assert ful.data["custbody_ttns_shipped_by"] == "TIKTOK"
    assert ful.data["package"][0]["packageTrackingNumber"] == "9400111202555842760301"
    # settlement recognises the revenue (summary mode): the fulfilled order is closed, never left to be billed
    assert bridge.ns.get("salesOrder", bridge.so(o["id"])).data["status"]["id"] == "H"
    assert bridge.link(o["id"])["fulfilled"] is True
    # stock left the FBT location once, the merchant's warehouse not at all
    assert bridge.ns.stock_levels(item=cap, location=fbt_loc)[0]["onHand"] in (4, "4", Decimal(4))
    assert bridge.ns.stock_levels(item=cap, location=main)[0]["onHand"] == main_before
    # the bridge's own fulfillment is not pushed back to TikTok
    pushed = [e for e in bridge.c.store.inbox.recent(source="netsuite", limit=500)
              if e.topic == "item_fulfillment.saved" and f'"fulfillment_id":"{ful.id}"' in e.body.decode()]
    assert pushed == []
    assert bridge.exceptions(o["id"]) == []


    report = bridge.c.flows.fulfillment.fbt_stock(bridge.shop)[bridge.shop]
    diffs = {d["sku"]: d for d in report["differences"]}
    assert report["source"] == "products_inventory" and "CAP-001" not in diffs
    assert {k: diffs["US-HOODIE-FBT"][k] for k in ("sku", "netsuite", "tiktok", "difference")} == {
        "sku": "US-HOODIE-FBT", "netsuite": 0, "tiktok": 250, "difference": -250}
    (exc,) = [e for e in bridge.c.store.exceptions.list(entity=f"fbt:{bridge.shop}")]
    assert exc.code == "FBT_STOCK_DIFFERENCE"


# --- the polling backstops and the cash refund ----------------------------------------------------------------


def test_lost_webhooks_are_made_up_by_the_cancellation_and_return_polls(bridge: Bridge, no_settlement: None) -> None:

    cancelled = bridge.order([("MUG-001", 1)])
    returned = bridge.order([("CAP-001", 1)])
    bridge.fulfill(returned["id"], None, ["9400111202555842760401"])
    bridge.tt.set_faults(webhook_drop=1.0)
    try:
        bridge.tt.cancel_order(cancelled["id"], role="SYSTEM")
        ret = bridge.tt.request_return(returned["id"], return_type="REFUND")
        bridge.c.tiktok().shop(bridge.shop).returns.approve_return(ret["return_id"], "APPROVE_REFUND")
        bridge.drain()
        assert not line(bridge, cancelled["id"], "MUG-001").get("isClosed"), "no webhook reached the bridge"
    finally:
        bridge.tt.set_faults(webhook_drop=0.0)
    assert bridge.c.flows.cancellations.poll()["enqueued"] >= 1
    assert bridge.c.flows.returns.poll()["enqueued"] >= 1
    bridge.drain()
    assert line(bridge, cancelled["id"], "MUG-001")["isClosed"] is True
    cm, _ = bridge.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-RET-{ret['return_id']}'")  # noqa: S608
    assert len(cm) == 1
    assert bridge.exceptions(cancelled["id"]) == [] and bridge.exceptions(returned["id"]) == []


def test_a_refund_can_be_a_cash_refund_from_the_clearing_account(bridge: Bridge, no_settlement: None) -> None:

    svc = bridge.c.flows.returns
    specs = bridge.c.specs.loaded()
    spec = specs.get("returns", ReturnsSpec)
    cash = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={
        "refund": spec.defaults.refund.model_copy(update={"document": "cash_refund"})})})
    with bridge.swapped(returns=replace(svc, specs=SpecSet(specs.directory, {**specs.specs, "returns": cash}))):
        o = bridge.order([("CAP-001", 1)])
        bridge.fulfill(o["id"], None, ["9400111202555842760402"])
        ret = bridge.tt.request_return(o["id"], return_type="REFUND")
        bridge.c.tiktok().shop(bridge.shop).returns.approve_return(ret["return_id"], "APPROVE_REFUND")
        bridge.drain()
    (row,), _ = bridge.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-RET-{ret['return_id']}'")  # noqa: S608
    refund = bridge.ns.get("cashRefund", row["id"])
    clearing, _ = bridge.ns.suiteql("SELECT id FROM account WHERE externalid = 'ACCT-1250'")
    assert refund.data["account"]["id"] == clearing[0]["id"] and Decimal(str(refund.data["total"])) == Decimal("15.00")
    assert bridge.exceptions(o["id"]) == []


# --- a cancelled order's customer deposit (customer_deposits mode, docs/accounting.md) -------------


def _deposit(bridge: Bridge, order_id: str) -> tuple[str, Decimal]:
    """The customer deposit the orders flow records for a prepaid order (orders.yaml deposit.enabled)."""
    link = bridge.c.store.links.get("order", bridge.shop, order_id)
    assert link is not None and link.netsuite_id
    so = bridge.ns.get("salesOrder", link.netsuite_id).data
    paid = Decimal(str(link.data["expected_total"]))
    written = bridge.c.netsuite().create("customerDeposit", {
        "externalId": f"TTS-DEP-{bridge.shop}-{order_id}", "customer": so["entity"],
        "salesOrder": {"id": link.netsuite_id}, "payment": paid, "subsidiary": so["subsidiary"]})
    return str(written.id), paid


def _balances(bridge: Bridge, order_id: str) -> dict[str, Decimal]:
    """Undeposited funds, customer deposits and clearing over the order's deposit documents."""
    rows = bridge.c.netsuite().suiteql(
        "SELECT a.acctnumber AS acct, tal.debit AS debit, tal.credit AS credit FROM transactionaccountingline tal "
        "INNER JOIN account a ON a.id = tal.account INNER JOIN transaction t ON t.id = tal.transaction "
        f"WHERE t.externalid LIKE 'TTS-%-{bridge.shop}-{order_id}%' AND a.acctnumber IN ('1200', '2100', '1250')")
    out = {"1200": Decimal(0), "2100": Decimal(0), "1250": Decimal(0)}
    for r in rows:
        out[str(r["acct"])] += Decimal(str(r.get("debit") or 0)) - Decimal(str(r.get("credit") or 0))
    return out


def test_a_cancelled_orders_customer_deposit_is_refunded_as_netsuite_does(bridge: Bridge) -> None:
    # cancelled whole: a customer refund applied to the deposit (paid from the clearing account: TikTok
    # refunds the buyer) and the deposit deposited into clearing (TikTok received it): nothing stays open
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
    dep_id, paid = _deposit(bridge, o["id"])
    bridge.tt.cancel_order(o["id"], role="SYSTEM")
    bridge.drain()
    [refund] = bridge.link(o["id"])["deposit_refunds"]
    assert refund["external_id"] == f"TTS-CRF-{bridge.shop}-{o['id']}" and Decimal(refund["amount"]) == paid
    assert bridge.c.netsuite().suiteql(
        f"SELECT status FROM transaction WHERE id = {int(dep_id)}")[0]["status"] == "B"
    assert _balances(bridge, o["id"]) == {"1200": 0, "2100": 0, "1250": 0}
    assert bridge.exceptions(o["id"]) == []
    # replayed: nothing more is refunded
    bridge.c.flows.cancellations.refund_deposit(bridge.shop, o["id"], full=True)
    assert len(bridge.link(o["id"])["deposit_refunds"]) == 1

    # cancelled in part: the cancelled units' share is refunded; the rest stays for the invoice
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
    dep_id, paid = _deposit(bridge, o["id"])
    bridge.tt.cancel_order(o["id"], role="SYSTEM", line_item_ids=ids(o, "CAP-001"))
    bridge.drain()
    left = Decimal(str(bridge.link(o["id"])["expected_total"]))
    [refund] = bridge.link(o["id"])["deposit_refunds"]
    assert Decimal(refund["amount"]) == paid - left > 0
    assert _balances(bridge, o["id"]) == {"1200": paid, "2100": -left, "1250": -(paid - left)}


def test_fbt_stock_small_differences_are_adjusted_in_netsuite_and_large_ones_go_to_a_person(bridge: Bridge) -> None:
    """locations.yaml (sandbox overlay) fbt_adjustments: adjust within 10 units and 20 % of TikTok's figure."""

    shop = bridge.tt.shop(bridge.shop)
    fbt_wh = next(w["id"] for w in shop["warehouses"] if w.get("fbt"))
    cap = bridge.world.netsuite_item_id("CAP-001")
    fbt_loc = bridge.world.netsuite_location("LOC-FBT")
    bridge.ns.receive_stock(cap, fbt_loc, 20)
    held = int(Decimal(str(bridge.ns.stock_levels(item=cap, location=fbt_loc)[0]["onHand"])))
    # TikTok counted 3 more than NetSuite holds at its FBT mirror location
    bridge.tt.set_stock(seller_sku="CAP-001", shop_id=bridge.shop, warehouse_id=fbt_wh, quantity=held + 3)

    report = bridge.c.flows.fulfillment.fbt_stock(bridge.shop)[bridge.shop]
    (adj,) = report["adjusted"]
    assert (adj["sku"], adj["netsuite"], adj["tiktok"]) == ("CAP-001", held, held + 3)
    rec = bridge.ns.get("inventoryAdjustment", adj["adjustment_id"]).data
    assert rec["externalId"] == adj["external_id"]
    assert rec["account"]["id"] == bridge.world.netsuite_sb.special_accounts["adjustment"]
    (line_,) = rec["inventory"]
    assert line_["item"]["id"] == cap and line_["location"]["id"] == fbt_loc and Decimal(str(line_["adjustQtyBy"])) == 3
    assert line_["memo"] == f"TikTok FBT on hand {held + 3}; NetSuite had {held}"  # traceable to TikTok's figure
    assert Decimal(str(bridge.ns.stock_levels(item=cap, location=fbt_loc)[0]["onHand"])) == held + 3
    # the hoodie's 250 units are far above the policy: a person decides, and only it is listed
    assert [d["sku"] for d in report["differences"]] == ["US-HOODIE-FBT"]
    (exc,) = bridge.c.store.exceptions.list(entity=f"fbt:{bridge.shop}")
    assert exc.code == "FBT_STOCK_DIFFERENCE" and "above fbt_adjustments" in exc.title
    # the next check finds CAP-001 matching: nothing posted twice
    adjustments = len(bridge.ns.list_ids("inventoryAdjustment"))
    again = bridge.c.flows.fulfillment.fbt_stock(bridge.shop)[bridge.shop]
    assert again["adjusted"] == [] and len(bridge.ns.list_ids("inventoryAdjustment")) == adjustments
    assert "CAP-001" not in [d["sku"] for d in again["differences"]]
    # the drift monitor's reading covers FBT: the hoodie still differs, the adjusted cap no longer
    drift = {r["sku"]: r for r in bridge.c.flows.fulfillment.fbt_drift()}
    assert drift["US-HOODIE-FBT"]["difference"] == -250 and "CAP-001" not in drift


def test_fbt_stock_is_compared_and_adjusted_per_fbt_warehouse_at_its_own_location(bridge: Bridge) -> None:
    """A second FBT warehouse, linked to its own NetSuite location: each warehouse's TikTok figure is
    compared with its own location, and the adjustment posts where the difference is."""
    from bridge.mapping.locations_spec import LocationsSpec

    fbt_wh = next(w["id"] for w in bridge.tt.shop(bridge.shop)["warehouses"] if w.get("fbt"))
    second = bridge.tt.add_warehouse(bridge.shop, "FBT US second center", fbt=True)
    loc2 = bridge.ns.create("location", {"externalId": "LOC-FBT-2", "name": "TikTok FBT Warehouse 2",
                                         "makeInventoryAvailable": True}).rec.id
    specs = bridge.c.specs.loaded()
    data = specs.get("locations", LocationsSpec).model_dump(mode="json")
    data["shops"]["Sandbox US Shop"]["warehouses"].append(
        {"warehouse": "FBT US second center", "tiktok_managed": True, "locations": [loc2]})
    stock = replace(bridge.c.flows.fulfillment.stock, specs=SpecSet(specs.directory, {
        **specs.specs, "locations": LocationsSpec.model_validate(data)}))
    cap = bridge.world.netsuite_item_id("CAP-001")
    fbt_loc = bridge.world.netsuite_location("LOC-FBT")
    bridge.ns.receive_stock(cap, fbt_loc, 1)
    first = int(Decimal(str(bridge.ns.stock_levels(item=cap, location=fbt_loc)[0]["onHand"])))
    bridge.tt.set_stock(seller_sku="CAP-001", shop_id=bridge.shop, warehouse_id=fbt_wh, quantity=first)  # agrees
    bridge.ns.receive_stock(cap, loc2, 10)
    bridge.tt.set_stock(seller_sku="CAP-001", shop_id=bridge.shop, warehouse_id=second["id"], quantity=11)

    report = stock.fbt_stock(bridge.shop)[bridge.shop]
    assert report["warehouses"] == [fbt_wh, second["id"]] and loc2 in report["locations"]
    (adj,) = report["adjusted"]
    assert (adj["sku"], adj["warehouse"], adj["location"], adj["netsuite"], adj["tiktok"]) == (
        "CAP-001", second["id"], loc2, 10, 11)
    (line_,) = bridge.ns.get("inventoryAdjustment", adj["adjustment_id"]).data["inventory"]
    assert line_["location"]["id"] == loc2 and Decimal(str(line_["adjustQtyBy"])) == 1
    assert Decimal(str(bridge.ns.stock_levels(item=cap, location=loc2)[0]["onHand"])) == 11
    assert Decimal(str(bridge.ns.stock_levels(item=cap, location=fbt_loc)[0]["onHand"])) == first  # untouched
    # the hoodie still differs at the first FBT warehouse only, and is reported there
    (hoodie,) = [d for d in report["differences"] if d["sku"] == "US-HOODIE-FBT"]
    assert (hoodie["warehouse"], hoodie["location"]) == (fbt_wh, fbt_loc)
    assert not [r for r in stock.fbt_drift() if r["sku"] == "CAP-001"]


# --- refunds in VAT markets --------------------------------------------------------------------------------


def _vat_shop(bridge: Bridge, region: str) -> str:
    """A connected TikTok shop in ``region`` with two products (DE: a 7 % book) stocked in NetSuite."""
    sb, ns, world = bridge.tt, bridge.ns, bridge.world
    shop = sb.add_shop(name=f"VAT refunds {region}", region=region, seller_name=f"Seller {region}")["id"]
    wh = next(w["id"] for w in sb.shop(shop)["warehouses"] if not w.get("fbt"))
    for sku, price in ((f"{region}-RF-MUG", "11.90"), (f"{region}-BOOK-01", "10.70")):
        sb.add_product(shop, sku, [{"seller_sku": sku, "price": price, "inventory": {wh: 20}}])
        ns.seed({"inventoryItem": [{"externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku,
                                    "price": {"items": [{"priceLevel": {"id": "1"}, "price": price}]}}]})
        location = world.netsuite_location("LOC-UK" if region == "GB" else f"LOC-{region}")
        ns.receive_stock(world.netsuite_item_id(sku), location, 50)
    world.connect_shop(bridge.c, shop)
    return str(shop)


@pytest.mark.parametrize("region", ["GB", "DE"])
def test_a_vat_market_refund_reverses_net_and_vat_per_rate_as_the_sales_order_booked_them(
        bridge: Bridge, region: str) -> None:
    """GB: VAT on the VAT item; DE: 19 % and 7 % on each line's tax code (tax1Amt). The returned units'
    credit memo (settlement off: it is the refund's record) totals TikTok's refund to the cent and books
    each rate's VAT as the sales order did (TikTok's refund amounts include VAT)."""
    shop = _vat_shop(bridge, region)
    sb, ns = bridge.tt, bridge.ns
    store = bridge.c.store
    before = dict(store.shops.get(shop).flows)  # type: ignore[union-attr]
    store.shops.set_flows(shop, {**before, "settlement": False})
    book_rate = "0.07" if region == "DE" else "0.20"
    o = sb.place_order(shop, [{"seller_sku": f"{region}-RF-MUG", "quantity": 1},
                              {"seller_sku": f"{region}-BOOK-01", "quantity": 2, "vat_rate": book_rate}],
                       hold=False, shipping_fee="4.90", seller_discount="1.00")
    bridge.drain()
    link = store.links.get("order", shop, o["id"])
    assert link is not None and link.netsuite_id
    so = ns.get("salesOrder", link.netsuite_id).data
    assert Decimal(str(so["total"])) == Decimal(o["payment"]["total_amount"])
    tracking = "RM123456785GB" if region == "GB" else "01234567890123"  # Royal Mail / DPD
    resp = requests.post(f"{bridge.world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
        "salesOrder": link.netsuite_id, "packages": [{"trackingNumber": tracking, "weight": "1"}]})
    assert resp.status_code == 200, resp.text
    bridge.drain()
    sb.advance_order(o["id"], to="DELIVERED")
    o = dict(sb.order(o["id"]))
    returned = [next(str(li["id"]) for li in o["line_items"] if li["seller_sku"].endswith("MUG")),
                next(str(li["id"]) for li in o["line_items"] if "BOOK" in li["seller_sku"])]  # DE: both rates
    ret = sb.request_return(o["id"], line_item_ids=returned, return_type="RETURN_AND_REFUND")
    bridge.drain()
    returns = bridge.c.tiktok().shop(shop).returns
    returns.approve_return(ret["return_id"], "APPROVE_RETURN")
    bridge.drain()
    sb.buyer_ships_return(ret["return_id"])
    returns.approve_return(ret["return_id"], "APPROVE_RECEIVED_PACKAGE")
    bridge.drain()
    store.shops.set_flows(shop, before)
    assert store.exceptions.list(status="open", entity=order_key(shop, o["id"])) == []

    refund = sb.returns(order_id=o["id"])[0]["refund_amount"]
    assert Decimal(refund["refund_tax"]) == 0  # VAT is inside TikTok's refund
    cm = ns.get("creditMemo", f"eid:TTS-RET-{ret['return_id']}").data
    assert Decimal(str(cm["total"])) == Decimal(refund["refund_total"])  # to the cent
    paid = {str(li["id"]): Decimal(li["sale_price"]) for li in o["line_items"]}
    rates = {returned[0]: Decimal("0.19" if region == "DE" else "0.20"), returned[1]: Decimal(book_rate)}
    expected: dict[Decimal, Decimal] = {}
    for i in returned:  # each unit is on its own line here: net_of per line is per rate
        gross = paid[i]
        expected[rates[i]] = expected.get(rates[i], Decimal(0)) + gross - (gross / (1 + rates[i])).quantize(
            Decimal("0.01"), rounding="ROUND_HALF_UP")
    if region == "DE":
        by_code: dict[str, Decimal] = {}
        for ln in cm["item"]:
            assert ln.get("taxCode"), "every line carries its tax code: NetSuite adds no VAT of its own"
            by_code[str(ln["taxCode"]["id"])] = by_code.get(str(ln["taxCode"]["id"]), Decimal(0)) + \
                Decimal(str(ln["tax1Amt"]))
        codes = {}
        for rate, eid in (("0.19", "VAT-DE-19"), ("0.07", "VAT-DE-7")):
            rows, _ = ns.suiteql(f"SELECT id FROM salestaxitem WHERE externalid = '{eid}'")  # noqa: S608
            codes[str(rows[0]["id"])] = Decimal(rate)
        assert {codes[k]: v for k, v in by_code.items()} == expected
        assert Decimal(str(cm["taxTotal"])) == sum(expected.values())
    else:
        rows, _ = ns.suiteql("SELECT id FROM item WHERE externalid = 'VAT-UK'")
        vat_lines = [ln for ln in cm["item"] if str(ln["item"]["id"]) == str(rows[0]["id"])]
        assert [Decimal(str(ln["amount"])) for ln in vat_lines] == [expected[Decimal("0.20")]]
        net = sum((Decimal(str(ln["amount"])) for ln in cm["item"] if ln not in vat_lines), Decimal(0))
        assert net + expected[Decimal("0.20")] == Decimal(refund["refund_total"])
