"""End to end, as a merchant runs it: both sandboxes over HTTP, the bridge's web app on the world's
port and a worker running in the background (no test-driven draining). A TikTok order is paid; the
warehouse ships it from NetSuite in two boxes (the project's real user event posts the fulfillment);
TikTok shows both packages and the fulfilled sales order is closed (settlement recognises its revenue,
docs/accounting.md); the buyer returns one unit and gets refunded; NetSuite ends with the return
authorization for exactly TikTok's refund and no credit memo (the statement's refund line reverses the
revenue). An FBT order meanwhile closes in NetSuite when TikTok ships it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.bootstrap import App, build
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.tiktok import wiring
from bridge.web import create_app

pytestmark = pytest.mark.e2e


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def record(ns: Any, record_type: str, external_id: str) -> Any:
    """The sandbox record with this external id, or None (yet)."""
    rows, _ = ns.suiteql(f"SELECT id FROM transaction WHERE externalid = '{external_id}'")  # noqa: S608 - test ids
    return ns.get(record_type, rows[0]["id"]) if rows else None


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[SandboxWorld, App]]:
    world = SandboxWorld(tmp_path, run_scripts=True).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, worker_poll_interval=0.02, retry_base_seconds=0.05, retry_cap_seconds=0.5))
    c = c.with_clients(tiktok=wiring.build(c.settings, c.store, c.clock, sleep=lambda s: time.sleep(min(s, 0.05))))
    world.serve(create_app(root=c))
    world.connect_shop(c)
    stop = threading.Event()
    worker = threading.Thread(target=c.worker(threads=3, name="e2e").run, args=(stop,), daemon=True)
    worker.start()
    try:
        yield world, c
    finally:
        stop.set()
        worker.join(10)
        c.close()
        world.close()


def test_ship_in_two_boxes_return_one_unit_and_credit_it(running: tuple[SandboxWorld, App]) -> None:
    world, c = running
    tt, ns, shop = world.tiktok_sb, world.netsuite_sb, world.shop_id
    o = tt.place_order(shop, [{"seller_sku": "TSHIRT-RED-M", "quantity": 2}, {"seller_sku": "MUG-001", "quantity": 1}],
                       hold=False, shipping_fee="4.99")
    so = wait_for(lambda: (lk := c.store.links.get("order", shop, o["id"])) and lk.netsuite_id, "the sales order")
    lines = {ln["item"]["id"]: int(ln["line"]) for ln in ns.get("salesOrder", so).data["item"]}
    tee, mug = lines[world.netsuite_item_id("TSHIRT-RED-M")], lines[world.netsuite_item_id("MUG-001")]

    resp = requests.post(f"{world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
        "salesOrder": so, "lines": [{"orderLine": tee, "quantity": 2, "custcol_ttns_package": 1},
                                    {"orderLine": mug, "quantity": 1, "custcol_ttns_package": 2}],
        "packages": [{"trackingNumber": "1Z999AA10123456784"}, {"trackingNumber": "9400111202555842761234"}]})
    assert resp.status_code == 200, resp.text

    def shipped() -> list[dict[str, Any]]:
        return [p for p in tt.packages(order_id=o["id"]) if p["package_status"] == "PROCESSING"]

    packages = {p["tracking_number"]: p for p in wait_for(lambda: len(shipped()) == 2 and shipped(), "two packages")}
    units = {li["id"]: li["seller_sku"] for li in o["line_items"]}
    assert sorted(units[i] for i in packages["1Z999AA10123456784"]["order_line_item_ids"]) == ["TSHIRT-RED-M"] * 2
    assert [units[i] for i in packages["9400111202555842761234"]["order_line_item_ids"]] == ["MUG-001"]
    assert packages["1Z999AA10123456784"]["shipping_provider_name"] == "UPS"
    wait_for(lambda: c.store.links.get("order", shop, o["id"]).data.get("fulfilled"), "the order link fulfilled")

    tt.advance_order(o["id"], to="DELIVERED")
    mug_unit = next(i for i, sku in units.items() if sku == "MUG-001")
    ret = tt.request_return(o["id"], line_item_ids=[mug_unit], return_type="RETURN_AND_REFUND")
    wait_for(lambda: record(ns, "returnAuthorization", f"TTS-RA-{ret['return_id']}"), "the return authorization")
    returns = c.tiktok().shop(shop).returns
    returns.approve_return(ret["return_id"], "APPROVE_RETURN")
    tt.buyer_ships_return(ret["return_id"])
    returns.approve_return(ret["return_id"], "APPROVE_RECEIVED_PACKAGE")

    wait_for(lambda: (lk := c.store.links.get("return", shop, str(ret["return_id"]))) and lk.data.get("refund_by"),
             "the refund recorded")
    assert c.store.links.get("return", shop, str(ret["return_id"])).data["refund_by"] == "statement"
    assert ns.get("salesOrder", so).data["status"]["id"] == "H", "fulfilled and closed, never pending billing"
    ra = record(ns, "returnAuthorization", f"TTS-RA-{ret['return_id']}")
    refund = tt.returns(order_id=o["id"])[0]["refund_amount"]
    (ra_line,) = ra.data["item"]
    assert ra_line["item"]["id"] == world.netsuite_item_id("MUG-001")
    assert Decimal(str(ra_line["amount"])) == Decimal(refund["refund_subtotal"]) == Decimal("12.50")
    assert record(ns, "creditMemo", f"TTS-RET-{ret['return_id']}") is None, "the statement reverses the revenue"
    assert c.store.exceptions.list(status="open") == []


def test_an_fbt_order_closes_in_netsuite_without_touching_merchant_stock(
        running: tuple[SandboxWorld, App]) -> None:
    world, c = running
    tt, ns, shop = world.tiktok_sb, world.netsuite_sb, world.shop_id
    fbt_wh = next(w["id"] for w in tt.shop(shop)["warehouses"] if w.get("fbt"))
    tt.set_stock(seller_sku="MUG-001", shop_id=shop, warehouse_id=fbt_wh, quantity=3)
    item, fbt, main = (world.netsuite_item_id("MUG-001"), world.netsuite_location("LOC-FBT"),
                       world.netsuite_location("LOC-MAIN"))
    ns.receive_stock(item, fbt, 3)
    before = ns.stock_levels(item=item, location=main)[0]["onHand"]
    o = tt.place_order(shop, [{"seller_sku": "MUG-001", "quantity": 1}], hold=False, fbt=True)
    wait_for(lambda: (lk := c.store.links.get("order", shop, o["id"])) and lk.netsuite_id, "the sales order")
    tt.ship_fbt_order(o["id"])
    wait_for(lambda: c.store.links.get("order", shop, o["id"]).data.get("fulfilled"), "the FBT fulfillment")
    assert Decimal(str(ns.stock_levels(item=item, location=fbt)[0]["onHand"])) == 2
    assert ns.stock_levels(item=item, location=main)[0]["onHand"] == before
    assert c.store.exceptions.list(status="open") == []
