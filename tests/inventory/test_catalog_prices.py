"""Catalog push (NetSuite as catalog source) and prices, through the worker with port fakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.bootstrap import build
from bridge.clock import ManualClock
from bridge.flows import catalog as cat
from bridge.mapping.catalog import AttributeRule, ItemDetail
from bridge.mapping.inventory import WarehouseInfo
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.store.repos import Shop
from tests.inventory.fakes import FakeNetSuite, FakeSku, FakeTikTok
from tests.inventory.test_inventory_flow import MAIN, SHOP, W1, W2, WFBT, World, write_specs

D = Decimal
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CATALOG = {"version": 1, "source": "netsuite", "match": {"by": "itemid"}, "defaults": {
    "category_id": "600010", "images": {"fallback_uris": ["tos-placeholder"]}, "weight": {"default": "1"},
    "dimensions": {"length": 10, "width": 8, "height": 4}, "price_level": "1"},
    "categories": [{"when": {"itemid_prefix": "TSHIRT"}, "category_id": "600020",
                    "attributes": {"100002": ["Cotton"]}}]}
PRICES = {"version": 1, "defaults": {"price_level": "1", "currencies": {"USD": "1"}, "max_change_pct": "50"},
          "windows": [{"name": "black-friday", "price_level": "5", "start": "2026-11-27T13:00:00Z",
                       "end": "2026-11-27T15:00:00Z"}]}


def detail(id_: str, itemid: str, name: str, *, matrix: str = "", parent: str | None = None,
           inactive: bool = False, weight: str | None = "0.5") -> ItemDetail:
    return ItemDetail(id_, itemid, name, f"{name} description", inactive, matrix, parent, "",
                      D(weight) if weight else None, "lb", {"itemId": itemid, "displayName": name})


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(START)
    specs = write_specs(tmp_path / "specs", catalog=CATALOG, prices=PRICES)
    c = build(Settings(database_url=sqlite_url, specs_dir=specs, retry_base_seconds=0.01, retry_cap_seconds=0.01),
              clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main", is_default=True), WarehouseInfo(W2, "East"),
                               WarehouseInfo(WFBT, "FBT center", fbt=True)])
    ns = FakeNetSuite()
    ns.item("107", "TSHIRT", matrix="PARENT")
    ns.item("108", "TSHIRT-RED-M", matrix="CHILD", parent="107")
    ns.item("109", "TSHIRT-BLUE-L", matrix="CHILD", parent="107")
    ns.item("110", "MUG-001")
    ns.item("111", "CAP-001", inactive=True)
    for d in (detail("107", "TSHIRT", "Logo T-Shirt", matrix="PARENT"),
              detail("108", "TSHIRT-RED-M", "Logo T-Shirt Red M", matrix="CHILD", parent="107"),
              detail("109", "TSHIRT-BLUE-L", "Logo T-Shirt Blue L", matrix="CHILD", parent="107"),
              detail("110", "MUG-001", "Ceramic Mug"), detail("111", "CAP-001", "Cap", inactive=True)):
        ns.details[d.id] = d
    for item, level, price in (("108", "1", "19.99"), ("109", "1", "21.995"), ("110", "1", "12.50"),
                               ("108", "5", "14.99"), ("109", "5", "15.99"), ("110", "5", "9.00")):
        ns.prices[(item, level, "1")] = D(price)
    ns.available[("110", MAIN)] = 30
    c = c.with_ports(tiktok_inventory=tiktok)
    c = c.with_ports(tiktok_catalog=tiktok)
    c = c.with_ports(netsuite_inventory=ns)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    w = World(c, tiktok, ns, clock)
    w.svc.pull_places()
    yield w
    c.close()


def shop(w: World) -> Shop:
    s = w.c.store.shops.get(SHOP)
    assert s is not None
    return s


def push_all(w: World, *, dry_run: bool = False) -> dict[str, cat.CatalogChange]:
    svc = w.c.flows.catalog
    return {g.key_item.itemid: svc.push_group(shop(w), g, dry_run=dry_run) for g in svc.groups()}


def test_dry_run_lists_what_would_change_and_sends_nothing(world: World) -> None:
    changes = push_all(world, dry_run=True)
    assert {k: v.action for k, v in changes.items()} == {"TSHIRT": "create", "MUG-001": "create", "CAP-001": "skip"}
    assert "2 SKU(s) in category 600020" in changes["TSHIRT"].details[0]
    assert world.tiktok.created == []


def test_push_creates_products_from_items_then_repeats_nothing(world: World) -> None:
    push_all(world)
    by_title = {b["title"]: b for b in world.tiktok.created}
    tee = by_title["Logo T-Shirt"]
    assert tee["category_id"] == "600020" and tee["product_attributes"] == [{"id": "100002",
                                                                             "values": [{"name": "Cotton"}]}]
    assert [(s["seller_sku"], s["price"]["amount"], s["sales_attributes"]) for s in tee["skus"]] == [
        ("TSHIRT-RED-M", "19.99", [{"name": "Variant", "value_name": "Red M"}]),
        ("TSHIRT-BLUE-L", "22.00", [{"name": "Variant", "value_name": "Blue L"}])]  # rounded to the cent
    assert tee["skus"][0]["inventory"] == [{"warehouse_id": W1, "quantity": 1}]  # default warehouse; [1, 99,999]
    assert tee["package_weight"] == {"value": "0.5", "unit": "POUND"} and tee["external_product_id"] == "107"
    # Create Product's idempotency key is the create intent's (drawn once per item, not from the content);
    # the intent is gone once the product is linked
    assert tee["idempotency_key"].startswith("ttns-") and len(tee["idempotency_key"]) <= 128
    assert by_title["Ceramic Mug"]["idempotency_key"] != tee["idempotency_key"]
    assert world.c.store.links.get(cat.KIND_CREATE_INTENT, SHOP, "107") is None
    # the new products are in the SKU index: the inventory flow can push their stock at once
    mug_pid = next(pid for pid, p in world.tiktok.products_.items() if p.title == "Ceramic Mug")
    assert world.svc.inv.products_for_items(["110"]) == {(SHOP, mug_pid)}
    assert world.svc.push_product(SHOP, mug_pid).sent == {world.tiktok.products_[mug_pid].skus[0].id: {W1: 29}}
    again = push_all(world)
    assert {v.action for v in again.values()} == {"unchanged", "skip"} and len(world.tiktok.created) == 2


def test_changed_item_updates_and_inactive_item_deactivates_never_deletes(world: World) -> None:
    push_all(world)
    world.netsuite.details["110"] = detail("110", "MUG-001", "Stoneware Mug")
    changes = push_all(world)
    assert changes["MUG-001"].action == "update"
    (pid, body) = world.tiktok.edits[-1]
    assert body["title"] == "Stoneware Mug" and "price" not in body["skus"][0] and "inventory" not in body["skus"][0]
    world.netsuite.details["110"] = detail("110", "MUG-001", "Stoneware Mug", inactive=True)
    assert push_all(world)["MUG-001"].action == "deactivate"
    assert world.tiktok.products_[pid].status == "SELLER_DEACTIVATED" and pid in world.tiktok.products_
    assert world.tiktok.status_calls == [([pid], False)]


def test_category_rules_are_checked_before_sending(world: World) -> None:
    world.tiktok.attributes["600010"] = [AttributeRule("200001", "Capacity", required=True),
                                         AttributeRule("100002", "Material", customizable=False,
                                                       values=(("1", "Ceramic"),))]
    changes = push_all(world, dry_run=True)
    assert changes["MUG-001"].action == "problem"
    assert "requires attribute Capacity (200001)" in changes["MUG-001"].details[0]
    world.c.store.queue.enqueue(JobSpec(kind=cat.KIND_CATALOG, key=f"catalog:{SHOP}:110",
                                        payload={"shop_id": SHOP, "item_id": "110"}))
    world.worker.drain()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert exc.code == "LISTING_INVALID" and exc.owner == "admin"
    assert all(b["title"] != "Ceramic Mug" for b in world.tiktok.created)


def test_tiktok_as_catalog_source_only_matches(world: World, tmp_path: Path) -> None:
    world.c = world.c.with_settings(specs_dir=write_specs(
        tmp_path / "specs2", catalog={"version": 1, "source": "tiktok"}, prices=PRICES))
    assert {v.action for v in push_all(world).values()} == {"skip"} and world.tiktok.created == []


# --- prices ------------------------------------------------------------------------------------------


def tiktok_products(w: World) -> None:
    w.tiktok.add("PT", [FakeSku("S-RED", "TSHIRT-RED-M", {W1: 0}, D("18.00")),
                        FakeSku("S-BLUE", "TSHIRT-BLUE-L", {W1: 0}, D("22.00"))])
    w.tiktok.add("PM", [FakeSku("S-MUG", "MUG-001", {W1: 0}, D("12.50"))])
    w.svc.refresh(shop(w))


def test_prices_follow_netsuite_with_currency_rounding_and_unchanged_not_sent(world: World) -> None:
    tiktok_products(world)
    plan = world.c.flows.catalog.push_prices(shop(world), "PT")
    assert plan.updates == {"S-RED": D("19.99")}  # S-BLUE: 21.995 rounds half up to 22.00, TikTok's price
    (blue,) = [ln for ln in plan.lines if ln.sku_id == "S-BLUE"]
    assert (blue.netsuite, blue.price, blue.rounding) == (D("21.995"), D("22.00"), D("0.005"))
    assert world.tiktok.price_updates == [("PT", {"S-RED": D("19.99")}, "USD")]  # S-BLUE already 22.00
    assert world.tiktok.sku("S-RED").price == D("19.99")
    world.c.flows.catalog.push_prices(shop(world), "PT")
    assert len(world.tiktok.price_updates) == 1


def test_effective_dated_prices_cut_over_at_their_time(world: World) -> None:
    tiktok_products(world)
    world.c.store.queue.enqueue(JobSpec(kind=cat.KIND_PRICES_PLAN, key="schedule:prices.plan",
                                        idempotency_key="plan-1"))
    world.worker.drain()
    assert world.tiktok.price_updates == []  # the window starts at 13:00
    world.clock.advance(3600)  # 13:00: the black-friday level is in force
    world.worker.drain()
    assert (world.tiktok.sku("S-RED").price, world.tiktok.sku("S-MUG").price) == (D("14.99"), D("9.00"))
    world.clock.set(START + timedelta(hours=2, minutes=50))
    world.c.store.queue.enqueue(JobSpec(kind=cat.KIND_PRICES_PLAN, key="schedule:prices.plan",
                                        idempotency_key="plan-2"))
    world.worker.drain()
    world.clock.advance(600)  # 15:00: back to the base price level
    world.worker.drain()
    assert (world.tiktok.sku("S-RED").price, world.tiktok.sku("S-MUG").price) == (D("19.99"), D("12.50"))


def test_promotion_locked_price_is_an_exception(world: World) -> None:
    tiktok_products(world)
    world.tiktok.price_locked.add("S-RED")
    world.c.store.queue.enqueue(cat.prices_spec_for("PT", SHOP))
    world.worker.drain()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert (exc.code, exc.owner) == ("PROMOTION_LOCKED_PRICE", "ops") and "promotion" in exc.fix_hint
    assert world.c.store.queue.counts().get("queued", 0) == 0


def test_a_big_price_jump_is_held_for_finance_and_force_sends_it(world: World) -> None:
    tiktok_products(world)
    world.netsuite.prices[("110", "1", "1")] = D("99.00")
    world.c.store.queue.enqueue(cat.prices_spec_for("PM", SHOP))
    world.worker.drain()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert (exc.code, exc.owner) == ("PRICE_CHANGE_HELD", "finance") and "12.50 -> 99.00" in exc.title
    assert world.tiktok.sku("S-MUG").price == D("12.50")
    world.c.flows.catalog.push_prices(shop(world), "PM", force=True)
    assert world.tiktok.sku("S-MUG").price == D("99.00")


def test_an_image_tiktok_refuses_is_one_exception_with_its_reason_and_the_other_items_are_listed(
        world: World, tmp_path: Path) -> None:
    defaults = {**CATALOG["defaults"], "images": {"field": "custitem_image_url", "fallback_uris": ["tos-placeholder"]}}
    world.c = world.c.with_settings(specs_dir=write_specs(
        tmp_path / "specs3", catalog={**CATALOG, "defaults": defaults}, prices=PRICES))
    d = world.netsuite.details["110"]
    world.netsuite.details["110"] = replace(d, fields={**d.fields, "custitem_image_url": "https://img.example/mug.tif"})
    world.tiktok.refused_images["https://img.example/mug.tif"] = "The image format is not supported."
    for item in ("107", "110"):
        world.c.store.queue.enqueue(JobSpec(kind=cat.KIND_CATALOG, key=cat.catalog_key(SHOP, item),
                                            payload={"shop_id": SHOP, "item_id": item}))
    world.worker.drain()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert exc.code == "CATALOG_IMAGE_REFUSED" and exc.owner == "admin" and exc.entity == f"catalog:{SHOP}:110"
    assert "The image format is not supported." in exc.title and "custitem_image_url" in exc.fix_hint
    assert exc.evidence["details"]["url"] == "https://img.example/mug.tif"
    assert [b["title"] for b in world.tiktok.created] == ["Logo T-Shirt"]  # the other product was listed


def _intent(world: World, item_id: str, seller_skus: list[str]) -> None:
    """What a create whose answer was lost leaves: the stored intent, no product link."""
    from bridge.store.repos import Link

    world.c.store.links.upsert(Link(cat.KIND_CREATE_INTENT, SHOP, item_id, item_id, "item", "", "", "pending",
                                    {"idempotency_key": "ttns-earlier", "seller_skus": seller_skus}, START))


def test_a_retried_create_reuses_the_intents_key(world: World) -> None:
    """No product carries the SKUs (the earlier create never reached TikTok): the create is sent again
    under the intent's key, not a new one, and the intent is cleared once the product is linked."""
    _intent(world, "110", ["MUG-001"])
    mug = next(g for g in world.c.flows.catalog.groups() if g.key_item.id == "110")
    change = world.c.flows.catalog.push_group(shop(world), mug)
    assert change.action == "create" and [b["idempotency_key"] for b in world.tiktok.created] == ["ttns-earlier"]
    assert world.c.store.links.get(cat.KIND_CREATE_INTENT, SHOP, "110") is None
    link = world.c.store.links.get("product", SHOP, change.product_id)
    assert link is not None and link.netsuite_id == "110"


def test_two_tiktok_products_with_the_items_skus_are_left_to_a_person(world: World) -> None:
    from bridge.errors import NeedsHumanError
    from tests.inventory.fakes import FakeSku

    _intent(world, "110", ["MUG-001"])
    world.tiktok.add("P-A", [FakeSku("S-A", "MUG-001", {W1: 1})], title="Ceramic Mug")
    world.tiktok.add("P-B", [FakeSku("S-B", "MUG-001", {W1: 1})], title="Ceramic Mug")
    mug = next(g for g in world.c.flows.catalog.groups() if g.key_item.id == "110")
    with pytest.raises(NeedsHumanError) as err:
        world.c.flows.catalog.push_group(shop(world), mug)
    assert err.value.code == "CATALOG_DUPLICATE_PRODUCTS" and "P-A, P-B" in err.value.message
    assert world.tiktok.created == []  # nothing sent


def test_an_intent_left_behind_a_linked_product_is_cleared(world: World) -> None:
    """A worker stopped between linking the product and clearing the intent: the next push clears it,
    so its key can never bring the product back for a later create."""
    push_all(world)
    _intent(world, "110", ["MUG-001"])
    assert push_all(world)["MUG-001"].action == "unchanged"
    assert world.c.store.links.get(cat.KIND_CREATE_INTENT, SHOP, "110") is None
    assert len(world.tiktok.created) == 2
