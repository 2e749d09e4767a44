"""Inventory through both sandboxes over HTTP: NetSuite's real SuiteScript user events post signed
events to the running bridge; the worker pushes to the TikTok sandbox; TikTok orders come back
through signed webhooks and the orders flow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.flows import inventory as flow
from bridge.sandbox.netsuite import ExecContext
from tests.inventory.sandboxes import Stack, Worker, inventory_idle, quiet, running_stack, wait_for

pytestmark = pytest.mark.e2e

MAIN, EAST = "1", "2"
WH1, WH2 = "Sandbox US Shop warehouse 1", "Sandbox US Shop warehouse 2"


@pytest.fixture(params=[pytest.param(False, id="strict-tiktok"), pytest.param(True, id="inventory_zero_quantity")])
def stack(request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str) -> Iterator[Stack]:
    """Run with the TikTok sandbox as documented (quantity [1, 99,999]) and with its knob accepting 0:
    inventory.yaml's default sold-out strategy (auto) must be right either way."""
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 2}},
                       products=[("Ceramic Mug", [{"seller_sku": "MUG-001", "inventory": {WH1: 0, WH2: 0}}])],
                       zero_quantity=request.param) as s:
        yield s


def test_receipt_other_channel_sale_and_tiktok_order_each_move_tiktok_stock(stack: Stack) -> None:
    wh1, wh2 = stack.warehouses[WH1], stack.warehouses[WH2]
    zero_ok = stack.tt.config.inventory_zero_quantity
    # East has nothing: 0 where TikTok takes it; else the documented minimum 1, and an exception
    # since no unit in NetSuite backs it (the product still sells from Main, so it stays active)
    sold_out = 0 if zero_ok else 1
    with Worker(stack.c):
        stack.receive("MUG-001", MAIN, 20)  # an item receipt in NetSuite
        wait_for(lambda: stack.tt_stock("MUG-001") == {wh1: 18, wh2: sold_out}, what="receipt on TikTok")
        assert (stack.c.store.cursors.get(flow.zero_refused_cursor(stack.shop.id)) is None) == zero_ok
        stack.sell_elsewhere("MUG-001", MAIN, 3)  # another channel sells and ships 3
        wait_for(lambda: stack.tt_stock("MUG-001")[wh1] == 15, what="other-channel sale on TikTok")
        stack.receive("MUG-001", EAST, 5)
        wait_for(lambda: stack.tt_stock("MUG-001") == {wh1: 15, wh2: 3}, what="second location")
        order_id = stack.tt_order("MUG-001", 2, warehouse_id=wh1)  # a TikTok buyer takes 2
        wait_for(lambda: stack.c.store.links.get("order", stack.shop.id, order_id) is not None
                 and stack.c.store.links.get("order", stack.shop.id, order_id).status == "synced",  # type: ignore[union-attr]
                 what="the TikTok order in NetSuite")
        quiet(stack.c)
    assert stack.ns_stock("MUG-001", MAIN)["committed"] == "2"
    assert stack.tt_stock("MUG-001") == {wh1: 13, wh2: 3}  # 17 on hand - 2 committed - buffer 2
    # the sales order's own user event names it (external id): its creation was rechecked, not pushed at once
    own = [result for payload, result in _jobs(stack, "inventory.changes")
           if payload.get("external_id") == f"TTS-{stack.shop.id}-{order_id}" and payload.get("event") == "create"]
    assert own and all(r.get("rechecked_later") == stack.shop.id for r in own), own
    # the sandbox shop sells SKUs NetSuite has no item for: the re-match lists them in one exception
    codes = [e.code for e in stack.c.store.exceptions.list(status="open") if e.code != "UNMATCHED_TIKTOK_SKUS"]
    assert codes == ([] if zero_ok else ["SOLD_OUT_HELD_AT_ONE"])
    assert [e.code for e in stack.c.store.exceptions.list(status="open")].count("UNMATCHED_TIKTOK_SKUS") == 1


def _jobs(stack: Stack, kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    from sqlalchemy import text

    def parsed(value: Any) -> dict[str, Any]:
        return dict(json.loads(value) if isinstance(value, str) else value or {})

    with stack.c.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT payload, result FROM jobs WHERE kind = :kind"), {"kind": kind}).all()
    return [(parsed(p), parsed(r)) for p, r in rows]


@pytest.mark.parametrize("webhook_delay", [pytest.param(0.0, id="webhooks-on-time"),
                                           pytest.param(1.0, id="webhooks-a-second-late")])
def test_flash_sale_tiktok_never_accepts_an_order_netsuite_cannot_fill(tmp_path: Path, sqlite_url: str,
                                                                       webhook_delay: float) -> None:
    """TikTok buyers keep buying one SKU while the shop counter sells the same stock in NetSuite,
    in bursts within the safety buffer between two bridge updates (half of it: the other half covers
    a TikTok order landing between the bridge's read of TikTok's number and its update, which no
    absolute-quantity API can exclude). With late webhooks the bridge pushes while TikTok holds
    orders it has not heard of: those units must not be handed back. Every order TikTok accepts
    must find stock in NetSuite: nothing back-ordered, nothing sold twice."""
    import threading
    import time
    from decimal import Decimal

    from bridge.sandbox.tiktok.errors import SandboxError

    buffer, burst, start = 4, 2, 60
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": buffer}},
                       products=[("Flash Cap", [{"seller_sku": "CAP-001", "inventory": {WH1: 0}}])],
                       zero_quantity=True) as s, \
            Worker(s.c, threads=4):
        wh1 = s.warehouses[WH1]
        s.receive("CAP-001", MAIN, start)
        wait_for(lambda: s.tt_stock("CAP-001") == {wh1: start - buffer}, what="the flash sale stock on TikTok")
        s.tt.set_faults(webhook_delay=webhook_delay)
        stop = threading.Event()
        accepted: list[str] = []
        refused = [0]

        def buyer() -> None:
            while not stop.is_set():
                try:
                    accepted.append(s.tt_order("CAP-001", 1, warehouse_id=wh1))
                except SandboxError:
                    refused[0] += 1
                time.sleep(0.2)  # a steady stream of buyers, not one instant burst

        def synced() -> int:
            return sum(1 for lk in s.c.store.links.list("order", s.shop.id, limit=10000) if lk.status == "synced")

        def caught_up() -> None:
            """The bridge has caught up with the last burst: every TikTok order accepted so far
            is in NetSuite and every stock event so far has been pushed. (The counter sells against
            NetSuite's availability, so it can only respect orders NetSuite has; with late webhooks
            the buyers keep ordering meanwhile, and every push sees orders the bridge has not.)"""
            n = len(accepted)
            wait_for(lambda: synced() >= n, what="TikTok orders in NetSuite")
            wait_for(lambda: inventory_idle(s.c), what="stock events pushed")

        buyers = [threading.Thread(target=buyer) for _ in range(2)]
        for t in buyers:
            t.start()
        other = 0
        try:
            while True:
                caught_up()
                available = int(Decimal(s.ns_stock("CAP-001", MAIN)["available"]))
                if available <= 0:
                    break
                for _ in range(min(burst, available)):  # a burst at the counter while TikTok sells on
                    s.sell_elsewhere("CAP-001", MAIN, 1)
                    other += 1
        finally:
            stop.set()
            for t in buyers:
                t.join(10)
        s.tt.wait_webhooks(timeout=15)
        wait_for(lambda: synced() >= len(accepted), what="every TikTok order in NetSuite")
        quiet(s.c)
        orders_in_netsuite = [lk for lk in s.c.store.links.list("order", s.shop.id, limit=10000)
                              if lk.status == "synced"]
    level = s.ns_stock("CAP-001", MAIN)
    assert accepted and other, "both channels sold"
    assert len(orders_in_netsuite) == len(accepted)  # every TikTok order reached NetSuite
    assert Decimal(level["backOrdered"]) == 0  # ... and found stock there
    assert len(accepted) + other <= start
    assert refused[0] > 0  # TikTok turned buyers away once the stock was gone


def test_catalog_push_lists_netsuite_items_on_tiktok_and_their_stock_and_prices_follow(
        tmp_path: Path, sqlite_url: str) -> None:
    from decimal import Decimal


    catalog = {"version": 1, "source": "netsuite", "match": {"by": "itemid"}, "defaults": {
        "category_id": "600010", "images": {"fallback_uris": ["tos-maliva-i-sbx/ttns-placeholder"]},
        "weight": {"default": "1"}}, "categories": [{"when": {"itemid_prefix": "TSHIRT"}, "category_id": "600020"}]}
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 0}}, products=[],
                       catalog=catalog) as s:
        svc = s.c.flows.catalog
        dry = {g.key_item.itemid: svc.push_group(s.shop, g, dry_run=True) for g in svc.groups()}
        assert dry["TSHIRT"].action == "create" and dry["MUG-001"].action == "create"
        assert s.tt.products(s.shop.id)[-1]["title"] == "Hoodie (FBT)"  # the dry run created nothing
        done = {g.key_item.itemid: svc.push_group(s.shop, g) for g in svc.groups()}
        tee = next(p for p in s.tt.products(s.shop.id) if p["id"] == done["TSHIRT"].product_id)
        assert sorted(k["seller_sku"] for k in tee["skus"]) == ["TSHIRT-BLUE-L", "TSHIRT-RED-M"]
        assert {k["seller_sku"]: k["price"]["sale_price"] for k in tee["skus"]} == {
            "TSHIRT-RED-M": "19.99", "TSHIRT-BLUE-L": "21.99"}
        assert tee["category_chains"][-1]["id"] == "600020"
        assert {g.key_item.itemid: svc.push_group(s.shop, g).action for g in svc.groups()}["TSHIRT"] == "unchanged"
        with Worker(s.c):
            s.receive("TSHIRT-RED-M", MAIN, 7)
            wait_for(lambda: s.tt_stock("TSHIRT-RED-M")[s.warehouses[WH1]] == 7, what="stock of a listed item")
        s.ns.sb.update("inventoryItem", s.items["MUG-001"], {"price": {"items": [
            {"priceLevel": {"id": "1"}, "price": "13.75"}]}}, ExecContext(context_type="USERINTERFACE"), {"price"})
        plan = svc.push_prices(s.shop, done["MUG-001"].product_id)
        assert list(plan.updates.values()) == [Decimal("13.75")]
        mug = next(p for p in s.tt.products(s.shop.id) if p["id"] == done["MUG-001"].product_id)
        assert mug["skus"][0]["price"]["sale_price"] == "13.75"


@pytest.mark.parametrize(("policy", "zero_ok", "lone_after", "lone_status"), [
    pytest.param("zero", True, 0, "ACTIVATE", id="zero-pushes-0"),
    pytest.param("deactivate", False, 7, "SELLER_DEACTIVATED", id="deactivate-takes-the-product-offline"),
])
def test_tiktok_skus_without_a_netsuite_item_follow_the_policy_through_both_sandboxes(
        tmp_path: Path, sqlite_url: str, policy: str, zero_ok: bool, lone_after: int, lone_status: str) -> None:
    """Issue 17 point 6: a TikTok SKU NetSuite has no item for follows inventory.yaml `unmatched` at the first
    sync (`ttns skus match` + `ttns inventory push --all`), and one exception lists every such SKU (the
    default, leave, is the stack's own: test_receipt_other_channel_sale_and_tiktok_order_each_move_tiktok_stock)."""
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 0}, "unmatched": policy},
                       products=[("Not in NetSuite", [{"seller_sku": "NO-SUCH-ITEM", "inventory": {WH1: 7}}])],
                       zero_quantity=zero_ok) as s:
        s.c.flows.inventory.first_sync("setup")
        assert s.tt_stock("NO-SUCH-ITEM")[s.warehouses[WH1]] == lone_after
        lone = next(p for p in s.tt.products(s.shop.id) if p["title"] == "Not in NetSuite")
        assert lone["status"] == lone_status
        (exc,) = s.c.store.exceptions.list(status="open", entity=f"skus:{s.shop.id}:unmatched")
        assert exc.code == "UNMATCHED_TIKTOK_SKUS" and "NO-SUCH-ITEM" in exc.title
