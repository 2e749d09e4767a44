"""Guarantee 6 through both sandboxes: what a person changed on a TikTok sales order in NetSuite
survives TikTok's later updates (an address change, a partial cancellation, a status change), and a
change both made is an exception, not a silent overwrite (docs/ownership.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.bootstrap import build
from bridge.sandbox.netsuite.sandbox import UI, ExecContext
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.tiktok import wiring
from bridge.web import create_app
from tests.fulfillment.conftest import Bridge


@pytest.fixture(scope="module", params=["rest", "restlet"])
def bridge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    """Both sandboxes, once per NetSuite write path (REST upsert, the batch RESTlet running our SuiteScript)."""
    tmp: Path = tmp_path_factory.mktemp(f"ownership-{request.param}")
    world = SandboxWorld(tmp, run_scripts=True).start()
    db = f"sqlite:///{tmp / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02,
                             netsuite_write_path=request.param))
    c = c.with_clients(tiktok=wiring.build(c.settings, c.store, c.clock, sleep=lambda s: time.sleep(min(s, 0.05))))
    world.serve(create_app(root=c))
    world.connect_shop(c)
    try:
        yield Bridge(world, c, c.worker(threads=2, name=f"ownership-{request.param}"))
    finally:
        c.close()
        world.close()


def _ids(order: dict[str, Any], sku: str) -> list[str]:
    return [str(li["id"]) for li in order["line_items"] if li["seller_sku"] == sku]


def _person_edits(bridge: Bridge, order_id: str) -> int:
    """An admin adds a line and rewrites the memo in the NetSuite UI; returns the added line's number."""
    so = bridge.so(order_id)
    before = {int(ln["line"]) for ln in bridge.so_lines(order_id)}
    bridge.ns.update("salesOrder", so, {
        "memo": "gift wrap, call before delivery",
        "item": {"items": [{"item": {"id": bridge.world.netsuite_item_id("TSHIRT-RED-M")}, "quantity": 1,
                            "rate": "0.00", "description": "free gift (added by ops)"}]},
    }, ExecContext(context_type=UI))
    (added,) = {int(ln["line"]) for ln in bridge.so_lines(order_id)} - before
    return added


def _numbers(bridge: Bridge, order_id: str) -> dict[str, int]:
    return {str(ln.get("custcol_ttns_line_item_ids") or ln.get("description")): int(ln["line"])
            for ln in bridge.so_lines(order_id)}


def _survives(bridge: Bridge, order_id: str, added: int) -> dict[str, Any]:
    rec = bridge.ns.get("salesOrder", bridge.so(order_id)).data
    assert rec["memo"] == "gift wrap, call before delivery"
    (gift,) = [ln for ln in rec["item"] if int(ln["line"]) == added]
    assert gift["description"] == "free gift (added by ops)" and Decimal(str(gift["quantity"])) == 1
    assert bridge.exceptions(order_id) == []
    return dict(rec)


def test_a_person_edit_survives_an_address_change_a_partial_cancellation_and_a_status_change(
        bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)], seller_discount="1.00")
    added = _person_edits(bridge, o["id"])
    numbers = _numbers(bridge, o["id"])

    bridge.tt.update_address(o["id"], {**o["recipient_address"], "address_line1": "1 New Street"})
    bridge.drain()
    rec = _survives(bridge, o["id"], added)
    assert rec["shippingAddress"]["addr1"] == "1 New Street", "TikTok's own change is applied"
    assert _numbers(bridge, o["id"]) == numbers, "no line was renumbered"

    mugs = _ids(o, "MUG-001")
    bridge.tt.cancel_order(o["id"], role="SYSTEM", line_item_ids=mugs[:1])
    bridge.drain()
    rec = _survives(bridge, o["id"], added)
    mug = next(ln for ln in rec["item"] if mugs[1] in str(ln.get("custcol_ttns_line_item_ids") or ""))
    assert Decimal(str(mug["quantity"])) == 1

    tiktok_lines = [{"orderLine": int(ln["line"]), "quantity": int(Decimal(str(ln["quantity"])))}
                    for ln in rec["item"] if ln.get("custcol_ttns_line_item_ids") and not ln.get("isClosed")]
    bridge.fulfill(o["id"], tiktok_lines, ["9400111202555842769901"])
    bridge.tt.advance_order(o["id"], to="DELIVERED")
    bridge.drain()
    _survives(bridge, o["id"], added)


def test_a_change_both_made_is_an_exception_with_both_versions_and_replay_applies_tiktok(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 1)])
    so = bridge.so(o["id"])
    bridge.ns.update("salesOrder", so, {"shippingAddress": {"addr1": "Warehouse pickup desk"}},
                     ExecContext(context_type=UI))
    bridge.tt.update_address(o["id"], {**o["recipient_address"], "address_line1": "9 Buyer Road"})
    bridge.drain()
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "NS_EDIT_CONFLICT" and exc.owner == "ops"
    text = str(exc.evidence)
    assert "Warehouse pickup desk" in text and "9 Buyer Road" in text
    assert bridge.ns.get("salesOrder", so).data["shippingAddress"]["addr1"] == "Warehouse pickup desk"

    bridge.c.store.exceptions.replay(exc.id, bridge.c.store.queue, by="test")
    bridge.drain()
    assert bridge.ns.get("salesOrder", so).data["shippingAddress"]["addr1"] == "9 Buyer Road"
    assert bridge.exceptions(o["id"]) == []


def test_ignoring_a_conflict_adopts_netsuites_value_as_the_base_so_the_next_tiktok_change_does_not_raise_it(
        bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2)])
    so = bridge.so(o["id"])
    bridge.ns.update("salesOrder", so, {"shippingAddress": {"addr1": "Warehouse pickup desk"}},
                     ExecContext(context_type=UI))
    bridge.tt.update_address(o["id"], {**o["recipient_address"], "address_line1": "9 Buyer Road"})
    bridge.drain()
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "NS_EDIT_CONFLICT"
    assert bridge.c.store.exceptions.close(exc.id, status="ignored", by="test")  # keep NetSuite's version

    mugs = _ids(o, "MUG-001")
    bridge.tt.cancel_order(o["id"], role="SYSTEM", line_item_ids=mugs[:1])  # TikTok changes something else
    bridge.drain()
    rec = bridge.ns.get("salesOrder", so).data
    assert rec["shippingAddress"]["addr1"] == "Warehouse pickup desk", "the kept version stays"
    assert bridge.exceptions(o["id"]) == [], "the ignored conflict is not raised again"
    mug = next(ln for ln in rec["item"] if mugs[1] in str(ln.get("custcol_ttns_line_item_ids") or ""))
    assert Decimal(str(mug["quantity"])) == 1, "the cancellation was written"

    bridge.tt.update_address(o["id"], {**o["recipient_address"], "address_line1": "12 Later Lane"})
    bridge.drain()  # TikTok changes the address again, nobody changed it since: TikTok's new one is written
    assert bridge.ns.get("salesOrder", so).data["shippingAddress"]["addr1"] == "12 Later Lane"
    assert bridge.exceptions(o["id"]) == []


def test_a_partial_cancellation_re_prorates_the_discount_lines_in_the_same_write(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)], seller_discount="1.50", platform_discount="0.60")
    so = bridge.so(o["id"])
    c = bridge.tt.cancel_order(o["id"], role="SYSTEM", line_item_ids=_ids(o, "CAP-001"))
    tiktok_total = Decimal(o["payment"]["total_amount"]) - Decimal(c["refund_amount"]["refund_total"])
    # The cancellation job alone (no orders poll, no webhook 1 yet): the total is right at once.
    result = bridge.c.flows.cancellations.sync(bridge.shop, o["id"], str(c["cancel_id"]))
    assert result["action"] == "reduced"
    rec = bridge.ns.get("salesOrder", so).data
    assert Decimal(str(rec["total"])) == tiktok_total
    assert Decimal(bridge.link(o["id"])["expected_total"]) == tiktok_total
    discounts = sorted(Decimal(str(ln["amount"])) for ln in rec["item"] if "discount" in str(ln.get("description")))
    assert sum(discounts) > Decimal("-2.10"), "the cancelled cap's share of the discounts left with it"
    bridge.drain()
    assert Decimal(str(bridge.ns.get("salesOrder", so).data["total"])) == tiktok_total
    assert bridge.exceptions(o["id"]) == []


def test_a_pending_buyer_cancellation_holds_the_sales_order_until_tiktok_decides(bridge: Bridge) -> None:
    from bridge.sandbox.tiktok import aftersale

    o = bridge.order([("MUG-001", 1)])
    so = bridge.so(o["id"])
    c = bridge.tt.cancel_order(o["id"], role="BUYER")
    assert c["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    bridge.drain()
    rec = bridge.ns.get("salesOrder", so).data
    assert "Buyer requested cancellation" in rec["custbody_ttns_hold_reason"]
    assert rec["orderStatus"]["id"] == "A" and rec["custbody_ttns_sync_status"] == "ON_HOLD"
    assert "Buyer requested cancellation" in bridge.link(o["id"])["reason"], "the console shows why"

    reason = "order_manage_list_action_respond_popup_reject_reason_invalid_cancellation_reason"
    bridge.tt.run(lambda st: aftersale.reject_cancellation(st, bridge.shop, str(c["cancel_id"]),
                                                           {"reject_reason": reason}))
    bridge.drain()
    rec = bridge.ns.get("salesOrder", so).data
    assert not rec.get("custbody_ttns_hold_reason") and rec["orderStatus"]["id"] == "B"
    assert rec["custbody_ttns_sync_status"] == "SYNCED" and "reason" not in bridge.link(o["id"])
    assert bridge.exceptions(o["id"]) == []
