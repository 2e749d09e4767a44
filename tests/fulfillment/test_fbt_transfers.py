"""FBT inbound orders recorded as NetSuite inventory transfers: the pure mapping (table-driven), the
``fbt_transfers`` key of locations.yaml, and through both sandboxes over HTTP (the TikTok sandbox
receives an inbound order into its FBT warehouse; the bridge reads Search FBT Inventory Record and
Get Inbound Order and posts the transfer the NetSuite sandbox moves stock with)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bridge.mapping.fbt_transfers import inbound_external_id, inbound_transfer
from bridge.mapping.locations_spec import LocationsSpec
from bridge.mapping.specs import SpecSet
from tests.fulfillment.conftest import Bridge

ITEMS = {"CAP": "11", "MUG": "12"}


@pytest.mark.parametrize(("batches", "lines", "defective", "unknown", "memo_has"), [
    ([("CAP", 10, 0)], [("11", 10)], {}, (), None),
    ([("CAP", 4, 0), ("CAP", 6, 0), ("MUG", 3, 0)], [("11", 10), ("12", 3)], {}, (), None),
    ([("CAP", 8, 2)], [("11", 8)], {"CAP": 2}, (), "defective units not transferred as sellable: CAP x2"),
    ([("CAP", 0, 5)], [], {"CAP": 5}, (), "CAP x5"),
    ([("CAP", 2, 0), ("GHOST", 1, 0)], [("11", 2)], {}, ("GHOST",), None),
])
def test_an_inbound_order_maps_to_one_transfer_of_its_normal_units(
        batches: list[tuple[str, int, int]], lines: list[tuple[str, int]], defective: dict[str, int],
        unknown: tuple[str, ...], memo_has: str | None) -> None:
    plan = inbound_transfer("S1", "IBR77", batches, ITEMS, "1", "9", date(2026, 12, 7), subsidiary="3")
    assert plan.external_id == inbound_external_id("S1", "IBR77") == "TTS-FBT-IN-S1-IBR77"
    body = plan.body
    assert (body["location"], body["transferLocation"], body["tranDate"], body["subsidiary"]) == (
        {"id": "1"}, {"id": "9"}, "2026-12-07", {"id": "3"})
    assert [(ln["item"]["id"], ln["adjustQtyBy"]) for ln in body["inventory"]["items"]] == lines
    assert "IBR77" in body["memo"] and plan.defective == defective and plan.unknown == unknown
    if memo_has:
        assert memo_has in body["memo"]
    else:
        assert "defective" not in body["memo"]


def _spec(**transfers: Any) -> dict[str, Any]:
    return {"shops": {"*": {"warehouses": [{"warehouse": "W-MAIN", "locations": ["1"]},
                                           {"warehouse": "FBT-1", "tiktok_managed": True, "locations": ["9"]},
                                           {"warehouse": "FBT-2", "tiktok_managed": True}]}},
            "fbt_transfers": transfers}


@pytest.mark.parametrize(("transfers", "problem"), [
    ({}, None),
    ({"policy": "record", "from_locations": {"FBT-1": "1"}}, None),
    ({"policy": "record", "from_locations": {"W-MAIN": "1"}}, "fbt_transfers.from_locations.W-MAIN"),
    ({"policy": "record", "from_locations": {"FBT-1": "9"}}, "location 9 is an FBT location"),
    ({"policy": "record", "from_locations": {"FBT-2": "1"}}, "lists no NetSuite location"),
])
def test_fbt_transfers_keys_are_validated_with_file_key_and_fix(transfers: dict[str, Any],
                                                                 problem: str | None) -> None:
    spec = LocationsSpec.model_validate(_spec(**transfers))
    found = [str(p) for p in spec.extra_problems("locations.yaml")]
    if problem is None:
        assert found == []
    else:
        (msg,) = found
        assert msg.startswith("locations.yaml: fbt_transfers.from_locations.") and problem in msg and "fix:" in msg


def test_record_without_from_locations_is_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError, match="fbt_transfers.from_locations|from_locations"):
        LocationsSpec.model_validate(_spec(policy="record"))
    assert LocationsSpec.model_validate(_spec()).fbt_transfers.policy == "off"
    assert LocationsSpec.model_validate(_spec(policy=False)).fbt_transfers.policy == "off"  # YAML `off`


def _on_hand(bridge: Bridge, item: str, location: str) -> Decimal:
    rows = bridge.ns.stock_levels(item=item, location=location)
    return Decimal(str(rows[0]["onHand"])) if rows else Decimal(0)


def _recording(bridge: Bridge) -> tuple[Any, str, str, str]:
    """The FBT stock flow with ``fbt_transfers: record`` (stock leaves LOC-MAIN) and adjustments
    within 50 units / 100 %: (flow, FBT warehouse id, merchant location, FBT location)."""
    shop = bridge.tt.shop(bridge.shop)
    fbt_wh = next(w["id"] for w in shop["warehouses"] if w.get("fbt"))
    specs = bridge.c.specs.loaded()
    data = specs.get("locations", LocationsSpec).model_dump(mode="json")
    listed = next(w["warehouse"] for w in data["shops"]["Sandbox US Shop"]["warehouses"] if w.get("tiktok_managed"))
    main, fbt_loc = bridge.world.netsuite_location("LOC-MAIN"), bridge.world.netsuite_location("LOC-FBT")
    data["fbt_transfers"] = {"policy": "record", "from_locations": {listed: main}}
    data["fbt_adjustments"] = {"policy": "adjust", "max_units": 50, "max_percent": "100",
                               "account": data.get("fbt_adjustments", {}).get("account") or "1"}
    stock = replace(bridge.c.flows.fulfillment.stock, specs=SpecSet(specs.directory, {
        **specs.specs, "locations": LocationsSpec.model_validate(data)}))
    return stock, fbt_wh, main, fbt_loc


def _mine(report: dict[str, Any], key: str, order_id: str) -> list[dict[str, Any]]:
    return [r for r in report["inbound"][key] if r["inbound_order"] == order_id]


def test_stock_received_at_the_fbt_warehouse_is_one_transfer_and_no_adjustment(bridge: Bridge) -> None:
    """TikTok receives 10 normal + 1 defective caps at its FBT warehouse: one NetSuite transfer of 10
    from the merchant location to the FBT location, the FBT check then agrees (no adjustment, no
    exception); a second run posts nothing more."""
    stock, fbt_wh_id, main, fbt_loc = _recording(bridge)
    fbt_wh = {"id": fbt_wh_id}
    cap = bridge.world.netsuite_item_id("CAP-001")
    bridge.ns.receive_stock(cap, fbt_loc, 2)
    at_fbt = int(_on_hand(bridge, cap, fbt_loc))
    bridge.tt.set_stock(seller_sku="CAP-001", shop_id=bridge.shop, warehouse_id=fbt_wh["id"], quantity=at_fbt)
    main_before = _on_hand(bridge, cap, main)

    received = bridge.tt.receive_inbound_order(bridge.shop, fbt_wh["id"],
                                               [{"seller_sku": "CAP-001", "normal": 10, "defective": 1}])
    assert received["id"].startswith("IBR")
    # TikTok's side: its FBT stock rose by the normal units, with an INBOUND_ORDER record naming the order
    tt_stock = stock.tiktok.fbt_stock(bridge.shop, [fbt_wh["id"]]).at(fbt_wh["id"])
    assert tt_stock["CAP-001"] == at_fbt + 10
    recs = stock.tiktok.fbt_inventory_records(bridge.shop, [fbt_wh["id"]])
    assert {(r.order_id, r.order_type, r.goods_type, r.changed) for r in recs} >= {
        (received["id"], "INBOUND_ORDER", "NORMAL", 10), (received["id"], "INBOUND_ORDER", "DEFECTIVE", 1)}

    report = stock.fbt_stock(bridge.shop)[bridge.shop]
    (t,) = _mine(report, "transfers", received["id"])
    assert t["inbound_order"] == received["id"] and t["units"] == {"CAP-001": 10} and t["new"]
    assert t["defective_not_transferred"] == {"CAP-001": 1}
    rec = bridge.ns.get("inventoryTransfer", t["transfer_id"]).data
    assert rec["externalId"] == f"TTS-FBT-IN-{bridge.shop}-{received['id']}" and received["id"] in rec["memo"]
    assert "defective" in rec["memo"]
    (line_,) = rec["inventory"]["items"] if isinstance(rec["inventory"], dict) else rec["inventory"]
    assert line_["item"]["id"] == cap and Decimal(str(line_["adjustQtyBy"])) == 10
    # NetSuite's own stock moved: the FBT location now holds TikTok's figure, the merchant's 10 fewer
    assert _on_hand(bridge, cap, fbt_loc) == at_fbt + 10
    assert _on_hand(bridge, cap, main) == main_before - 10
    assert not [a for a in report["adjusted"] if a["sku"] == "CAP-001"]
    assert not [d for d in report["differences"] if d["sku"] == "CAP-001"]
    assert not [e for e in bridge.c.store.exceptions.list(entity=f"fbt-inbound:{bridge.shop}:{received['id']}")]

    again = stock.fbt_stock(bridge.shop)[bridge.shop]
    (t2,) = _mine(again, "transfers", received["id"])
    assert t2["transfer_id"] == t["transfer_id"] and not t2["new"]
    assert _on_hand(bridge, cap, fbt_loc) == at_fbt + 10 and _on_hand(bridge, cap, main) == main_before - 10
    assert not [a for a in again["adjusted"] if a["sku"] == "CAP-001"]


def _fbt_only_sku(bridge: Bridge, sku: str, in_netsuite: bool) -> str | None:
    """A TikTok SKU stocked only in the FBT warehouse (0 units there), optionally a NetSuite item
    with 30 units at the merchant location; its NetSuite id."""
    fbt_wh = next(w["id"] for w in bridge.tt.shop(bridge.shop)["warehouses"] if w.get("fbt"))
    bridge.tt.add_product(bridge.shop, sku, [{"seller_sku": sku, "price": "9.00", "inventory": {fbt_wh: 0}}])
    if not in_netsuite:
        return None
    bridge.ns.seed({"inventoryItem": [{"externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku,
                                       "price": {"items": [{"priceLevel": {"id": "1"}, "price": "9.00"}]}}]})
    item = str(bridge.world.netsuite_item_id(sku))
    bridge.ns.receive_stock(item, bridge.world.netsuite_location("LOC-MAIN"), 30)
    return item


def test_a_partly_received_inbound_order_waits_and_is_not_adjusted_meanwhile(bridge: Bridge) -> None:
    stock, fbt_wh, main, fbt_loc = _recording(bridge)
    item = _fbt_only_sku(bridge, "FBT-PART-01", in_netsuite=True)
    assert item is not None
    part = bridge.tt.receive_inbound_order(bridge.shop, fbt_wh, [{"seller_sku": "FBT-PART-01", "normal": 4}],
                                           complete=False)
    report = stock.fbt_stock(bridge.shop)[bridge.shop]
    assert not _mine(report, "transfers", part["id"])
    assert _mine(report, "waiting", part["id"]) == [{"inbound_order": part["id"], "status": "PARTIALLY_RECEIVED"}]
    # within the adjustment limits, yet left to a person while the order is still being received
    assert not [a for a in report["adjusted"] if a["sku"] == "FBT-PART-01"]
    (diff,) = [d for d in report["differences"] if d["sku"] == "FBT-PART-01"]
    assert (diff["netsuite"], diff["tiktok"]) == (0, 4)
    assert _on_hand(bridge, item, fbt_loc) == 0

    bridge.tt.receive_inbound_batches(part["id"], [{"seller_sku": "FBT-PART-01", "normal": 6}])
    done = stock.fbt_stock(bridge.shop)[bridge.shop]
    (t,) = _mine(done, "transfers", part["id"])
    assert t["units"] == {"FBT-PART-01": 10}
    assert _on_hand(bridge, item, fbt_loc) == 10 and _on_hand(bridge, item, main) == 20
    assert not [d for d in done["differences"] if d["sku"] == "FBT-PART-01"]
    assert not [a for a in done["adjusted"] if a["sku"] == "FBT-PART-01"]


def test_an_inbound_order_with_a_sku_netsuite_lacks_is_not_posted_and_goes_to_a_person(bridge: Bridge) -> None:
    stock, fbt_wh, main, fbt_loc = _recording(bridge)
    _fbt_only_sku(bridge, "FBT-GHOST-01", in_netsuite=False)
    got = bridge.tt.receive_inbound_order(bridge.shop, fbt_wh, [{"seller_sku": "FBT-GHOST-01", "normal": 3}])
    report = stock.fbt_stock(bridge.shop)[bridge.shop]
    assert not _mine(report, "transfers", got["id"])
    assert _mine(report, "not_posted", got["id"]) == [{"inbound_order": got["id"], "unknown_skus": ["FBT-GHOST-01"]}]
    (exc,) = bridge.c.store.exceptions.list(entity=f"fbt-inbound:{bridge.shop}:{got['id']}")
    assert exc.code == "FBT_INBOUND_NOT_RECORDED" and "FBT-GHOST-01" in exc.title
    # the item is created in NetSuite: the next run posts the transfer and closes the exception
    bridge.ns.seed({"inventoryItem": [{"externalId": "ITEM-FBT-GHOST-01", "itemId": "FBT-GHOST-01",
                                       "displayName": "FBT-GHOST-01"}]})
    item = str(bridge.world.netsuite_item_id("FBT-GHOST-01"))
    bridge.ns.receive_stock(item, main, 5)
    again = stock.fbt_stock(bridge.shop)[bridge.shop]
    (t,) = _mine(again, "transfers", got["id"])
    assert t["units"] == {"FBT-GHOST-01": 3} and _on_hand(bridge, item, fbt_loc) == 3
    assert not bridge.c.store.exceptions.list(entity=f"fbt-inbound:{bridge.shop}:{got['id']}")
