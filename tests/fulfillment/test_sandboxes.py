"""Fulfillment through both sandboxes: a TikTok order becomes a sales order (orders flow), a warehouse
ships it in the NetSuite sandbox (the project's real user event POSTs the signed event to the
bridge), the worker pushes it, and the TikTok sandbox shows what TikTok would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import requests

from bridge.clock import ManualClock
from bridge.flows import fulfillment as flow
from bridge.sandbox.netsuite import ExecContext
from tests.fulfillment.conftest import UPS, USPS, Bridge


def _ids(order: dict[str, object], sku: str) -> list[str]:
    return [str(li["id"]) for li in order["line_items"] if li["seller_sku"] == sku]  # type: ignore[index, union-attr]


def retrack(bridge: Bridge, fulfillment_id: str, tracking: str) -> None:
    """A person corrects the tracking number on the fulfillment's package in the NetSuite UI."""
    bridge.ns.update("itemFulfillment", fulfillment_id, {"package": {"items": [
        {"packageTrackingNumber": tracking, "packageWeight": "1.0"}]}}, ExecContext(), replace={"package"})
    bridge.drain()


def test_two_packages_for_one_order_show_on_tiktok_with_their_items_and_tracking(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
    mug, cap = bridge.line_of(o["id"], "MUG-001"), bridge.line_of(o["id"], "CAP-001")
    fid = bridge.fulfill(o["id"], [{"orderLine": mug, "quantity": 2, "custcol_ttns_package": 1},
                                   {"orderLine": cap, "quantity": 1, "custcol_ttns_package": 2}], [USPS, UPS])

    shipped = {p["tracking_number"]: p for p in bridge.packages(o["id"])}
    assert set(shipped) == {USPS, UPS}
    assert sorted(shipped[USPS]["order_line_item_ids"]) == sorted(_ids(o, "MUG-001"))
    assert shipped[USPS]["shipping_provider_name"] == "USPS" and shipped[USPS]["package_status"] == "PROCESSING"
    assert shipped[UPS]["order_line_item_ids"] == _ids(o, "CAP-001") and shipped[UPS]["shipping_provider_name"] == "UPS"
    assert bridge.tt.order(o["id"])["status"] == "AWAITING_COLLECTION"
    assert bridge.link(o["id"])["fulfilled"] is True and bridge.link(o["id"])["allocation"]  # other data kept
    assert bridge.exceptions(o["id"]) == []

    # The same fulfillment saved again (a memo edit: a new event) ships nothing twice.
    calls = bridge.tiktok_calls("/packages")
    bridge.ns.update("itemFulfillment", fid, {"memo": "checked"}, ExecContext())
    bridge.drain()
    assert bridge.tiktok_calls("/packages") == calls
    assert len(bridge.packages(o["id"])) == 2 and bridge.exceptions(o["id"]) == []
    assert [s.status for s in bridge.shipments.shipments(bridge.shop, o["id"])] == ["shipped", "shipped"]


def test_partial_shipments_ship_each_unit_once_and_close_the_order_with_the_last(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 3)])
    mug = bridge.line_of(o["id"], "MUG-001")
    bridge.fulfill(o["id"], [{"orderLine": mug, "quantity": 1}], ["9400111202555842760001"])
    assert "fulfilled" not in bridge.link(o["id"])
    assert bridge.tt.order(o["id"])["status"] == "PARTIALLY_SHIPPING"
    # the rest in two boxes, no package numbers on the lines: split evenly
    bridge.fulfill(o["id"], [{"orderLine": mug, "quantity": 2}], ["9400111202555842760002", "9400111202555842760003"])
    pkgs = bridge.packages(o["id"])
    units = [i for p in pkgs for i in p["order_line_item_ids"]]
    assert sorted(units) == sorted(_ids(o, "MUG-001")) and len(pkgs) == 3
    assert all(len(p["order_line_item_ids"]) == 1 for p in pkgs)
    assert bridge.link(o["id"])["fulfilled"] is True
    assert bridge.exceptions(o["id"]) == []


def test_an_edited_tracking_number_is_sent_as_update_shipping_info(bridge: Bridge) -> None:
    o = bridge.order([("CAP-001", 1)])
    fid = bridge.fulfill(o["id"], None, ["9400111202555842760010"])
    retrack(bridge, fid, UPS.replace("84", "85"))
    (pkg,) = bridge.packages(o["id"])
    assert pkg["tracking_number"] == UPS.replace("84", "85") and pkg["shipping_provider_name"] == "UPS"
    assert bridge.exceptions(o["id"]) == []


def test_a_refused_tracking_number_is_an_exception_and_the_corrected_one_ships(bridge: Bridge) -> None:
    o = bridge.order([("CAP-001", 1)])
    bad = "9400111202555842769999"
    bridge.tt.mark_tracking_invalid(bad)
    fid = bridge.fulfill(o["id"], None, [bad])
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "INVALID_TRACKING" and exc.owner == "ops" and bad in exc.fix_hint
    assert bridge.packages(o["id"])[0]["package_status"] == "TO_FULFILL"
    retrack(bridge, fid, "9400111202555842760020")
    (pkg,) = bridge.packages(o["id"])
    assert pkg["tracking_number"] == "9400111202555842760020" and pkg["package_status"] == "PROCESSING"
    assert bridge.exceptions(o["id"]) == [], "the successful push resolves the exception"


def test_an_unmapped_carrier_names_the_carrier_and_the_fix(bridge: Bridge) -> None:
    o = bridge.order([("CAP-001", 1)])
    bridge.fulfill(o["id"], None, ["ZX12345678"])
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "CARRIER_UNMAPPED" and exc.owner == "admin"
    assert "ZX12345678" in exc.title and "carriers.yaml" in exc.fix_hint
    assert bridge.packages(o["id"])[0]["package_status"] == "TO_FULFILL"


def test_tiktok_shipping_orders_take_the_label_path(bridge: Bridge) -> None:
    o = bridge.order([("MUG-001", 1)], shipping_type="TIKTOK")
    bridge.fulfill(o["id"], None, [])
    (pkg,) = bridge.packages(o["id"])
    assert pkg["package_status"] == "PROCESSING" and pkg["tracking_number"], "TikTok bought the label"
    (row,) = bridge.shipments.shipments(bridge.shop, o["id"])
    assert row.method == "label" and row.tracking_number == pkg["tracking_number"]
    assert bridge.link(o["id"])["fulfilled"] is True


def test_a_lost_answer_is_resolved_from_tiktok_never_shipped_twice(bridge: Bridge) -> None:
    """TikTok ships the package but the answer is lost: the retried job finds it shipped."""
    from bridge.errors import WriteOutcomeUnknown

    real = bridge.c.ports.tiktok_shipping

    class LosesTheAnswer:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def mark_package_shipped(self, *a: object, **kw: object) -> str:
            real.mark_package_shipped(*a, **kw)
            raise WriteOutcomeUnknown("connection dropped after sending")

    svc = bridge.c.flows.fulfillment
    with bridge.swapped(fulfillment=replace(svc, tiktok=LosesTheAnswer())):
        o = bridge.order([("CAP-001", 1)])
        bridge.fulfill(o["id"], None, ["9400111202555842760030"])
    (pkg,) = bridge.packages(o["id"])
    assert pkg["tracking_number"] == "9400111202555842760030"
    (row,) = bridge.shipments.shipments(bridge.shop, o["id"])
    assert row.status == "shipped" and row.attempts == 2
    assert bridge.exceptions(o["id"]) == []


def test_orders_approaching_their_ship_by_time_raise_one_alert_per_level(bridge: Bridge) -> None:
    o = bridge.order([("CAP-001", 1)])
    deadline = datetime.fromtimestamp(int(bridge.tt.order(o["id"])["rts_sla_time"]), UTC)
    svc = bridge.c.flows.fulfillment
    early = replace(svc, clock=ManualClock(deadline - timedelta(hours=20))).sla_scan()
    assert o["id"] not in [a["order_id"] for a in early["alerts"]]
    soon = replace(svc, clock=ManualClock(deadline - timedelta(hours=6)))
    assert [a["level"] for a in soon.sla_scan()["alerts"] if a["order_id"] == o["id"]] == ["warning"]
    assert [a for a in soon.sla_scan()["alerts"] if a["order_id"] == o["id"]] == [], "raised once"
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "SLA_AT_RISK" and exc.owner == "ops" and exc.evidence["deadline"] == deadline.isoformat()
    bridge.fulfill(o["id"], None, ["9400111202555842760040"])
    assert bridge.exceptions(o["id"]) == [], "shipping resolves the SLA exception"


def test_the_fulfilled_user_event_reaches_the_bridge_for_a_bridge_written_order(bridge: Bridge) -> None:
    """The regression the SuiteCloud fix is for: the sales order carries custbody_ttns_source = TTNS
    (the bridge wrote it); the transform must not copy it onto the fulfillment."""
    o = bridge.order([("CAP-001", 1)])
    assert bridge.ns.get("salesOrder", bridge.so(o["id"])).data["custbody_ttns_source"] == "TTNS"
    resp = requests.post(f"{bridge.world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
        "salesOrder": bridge.so(o["id"]), "packages": [{"trackingNumber": "9400111202555842760050"}]})
    fid = str(resp.json()["id"])
    assert "custbody_ttns_source" not in bridge.ns.get("itemFulfillment", fid).data
    events = [e for e in bridge.c.store.inbox.recent(source="netsuite", limit=500)
              if e.topic == "item_fulfillment.saved" and f'"fulfillment_id":"{fid}"' in e.body.decode()]
    assert len(events) == 1


def test_where_mark_package_as_shipped_is_missing_packages_are_split_and_shipped(bridge: Bridge) -> None:
    """A market without Mark Package As Shipped (forced here with carriers.yaml ``shipping.api``):
    the order's package is split by what each NetSuite package holds, then each one is shipped."""
    from bridge.mapping.carriers_spec import CarriersSpec
    from bridge.mapping.specs import SpecSet

    svc = bridge.c.flows.fulfillment
    specs = bridge.c.specs.loaded()
    spec = specs.get("carriers", CarriersSpec)
    forced = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={
        "shipping": spec.defaults.shipping.model_copy(update={"api": "ship_package"})})})
    with bridge.swapped(fulfillment=replace(svc, specs=SpecSet(specs.directory, {**specs.specs, "carriers": forced}))):
        o = bridge.order([("MUG-001", 2), ("CAP-001", 1)])
        mug, cap = bridge.line_of(o["id"], "MUG-001"), bridge.line_of(o["id"], "CAP-001")
        bridge.fulfill(o["id"], [{"orderLine": mug, "quantity": 2, "custcol_ttns_package": 2},
                                 {"orderLine": cap, "quantity": 1, "custcol_ttns_package": 1}],
                       ["9400111202555842760060", UPS.replace("84", "60")])
    shipped = {p["tracking_number"]: sorted(p["order_line_item_ids"]) for p in bridge.packages(o["id"])}
    assert shipped == {"9400111202555842760060": sorted(_ids(o, "CAP-001")),
                       UPS.replace("84", "60"): sorted(_ids(o, "MUG-001"))}
    assert {r.method for r in bridge.shipments.shipments(bridge.shop, o["id"])} == {"ship_package"}
    assert bridge.link(o["id"])["fulfilled"] is True and bridge.exceptions(o["id"]) == []


def test_a_split_whose_answer_was_lost_is_not_split_again(bridge: Bridge) -> None:
    """Split Order has no idempotency key: TikTok splits the package but the answer is lost; the retried
    push reads the order, finds the package holding exactly the units and ships it (one split)."""
    from bridge.errors import WriteOutcomeUnknown
    from bridge.mapping.carriers_spec import CarriersSpec
    from bridge.mapping.specs import SpecSet

    real = bridge.c.ports.tiktok_shipping
    splits: list[str] = []

    class LosesTheSplitAnswer:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def split(self, shop_id: str, order_id: str, groups: object) -> object:
            splits.append(order_id)
            got = real.split(shop_id, order_id, groups)
            if len(splits) == 1:
                raise WriteOutcomeUnknown("connection dropped after sending")
            return got

    svc = bridge.c.flows.fulfillment
    specs = bridge.c.specs.loaded()
    spec = specs.get("carriers", CarriersSpec)
    forced = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={
        "shipping": spec.defaults.shipping.model_copy(update={"api": "ship_package"})})})
    with bridge.swapped(fulfillment=replace(svc, tiktok=LosesTheSplitAnswer(),
                                            specs=SpecSet(specs.directory, {**specs.specs, "carriers": forced}))):
        o = bridge.order([("MUG-001", 1), ("CAP-001", 1)])
        cap = bridge.line_of(o["id"], "CAP-001")
        bridge.fulfill(o["id"], [{"orderLine": cap, "quantity": 1}], ["9400111202555842760070"])
    assert splits == [o["id"]]  # split once; the retry found the package
    shipped = {p["tracking_number"]: sorted(p["order_line_item_ids"]) for p in bridge.packages(o["id"])
               if p.get("tracking_number")}
    assert shipped == {"9400111202555842760070": sorted(_ids(o, "CAP-001"))}
    assert len(bridge.packages(o["id"])) == 2  # the shipped one and the rest, no third
    (row,) = bridge.shipments.shipments(bridge.shop, o["id"])
    assert row.status == "shipped" and row.attempts == 2
    assert bridge.exceptions(o["id"]) == []


def test_an_order_on_hold_is_not_shipped_and_is_tried_again_after_the_hold(bridge: Bridge) -> None:
    from bridge.store.queue import JobSpec

    o = bridge.tt.place_order(bridge.shop, [{"seller_sku": "CAP-001", "quantity": 1}], hold=True)
    bridge.drain()
    event = {"fulfillment_id": "F-HOLD", "tiktok_shop_id": bridge.shop, "tiktok_order_id": o["id"], "status": "C",
             "packages": [{"index": 1, "tracking_number": "9400111202555842760070"}],
             "lines": [{"line": "1", "item_id": "x", "quantity": 1,
                        "tiktok_line_item_ids": o["line_items"][0]["id"]}]}
    bridge.c.store.queue.enqueue(JobSpec(kind=flow.KIND_PUSH, key=flow.order_key(bridge.shop, o["id"]),
                                         payload={"shop_id": bridge.shop, "order_id": o["id"], "fulfillment": event,
                                                  "topic": "item_fulfillment.saved"}))
    bridge.drain()
    (exc,) = bridge.exceptions(o["id"])
    assert exc.code == "ORDER_ON_HOLD" and "hold" in exc.fix_hint
    assert bridge.tt.order(o["id"])["status"] == "ON_HOLD" and bridge.shipments.shipments(bridge.shop, o["id"]) == []
    from sqlalchemy import select

    from bridge.store.tables import jobs

    with bridge.c.store.engine.connect() as conn:
        later = conn.execute(select(jobs.c.payload, jobs.c.run_at).where(
            jobs.c.kind == flow.KIND_PUSH, jobs.c.key == flow.order_key(bridge.shop, o["id"]),
            jobs.c.status == "queued")).all()
    (payload, run_at), = later
    assert payload["hold_retries"] == 1 and run_at > datetime.now(UTC) + timedelta(minutes=5)


def test_the_cli_shows_an_orders_shipments_and_pushes_a_fulfillment_again(bridge: Bridge) -> None:
    from click.testing import CliRunner

    from bridge.cli import Obj, main

    def ttns(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), obj=Obj(bridge.c), catch_exceptions=False)
        assert result.exit_code in (0, 3), result.output
        return result.output

    o = bridge.order([("CAP-001", 1)])
    fid = bridge.fulfill(o["id"], None, ["9400111202555842760080"])
    shown = ttns("fulfillment", "show", o["id"], "--shop", bridge.shop)
    assert "fulfilled: yes" in shown and "9400111202555842760080" in shown and "USPS" in shown
    calls = bridge.tiktok_calls("/packages")
    assert "nothing new to ship" in ttns("fulfillment", "push", fid)
    assert bridge.tiktok_calls("/packages") == calls, "pushing again ships nothing twice"
    assert "unshipped order(s) watched" in ttns("fulfillment", "sla")
