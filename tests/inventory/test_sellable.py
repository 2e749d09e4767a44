"""The sellable-quantity computation (pure), table-driven."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.mapping.inventory import (
    LocationMap,
    SkuStock,
    WarehouseInfo,
    WarehouseLink,
    changed,
    link_warehouses,
    plan_product,
    sellable_quantity,
    update_body,
)
from bridge.mapping.inventory_spec import InventorySpec, ResolvedRule
from bridge.mapping.locations_spec import LocationsSpec

D = Decimal


def rule(allocation: str = "1", buffer: int = 0, cap: int = 99999) -> ResolvedRule:
    return ResolvedRule(D(allocation), buffer, cap)


@pytest.mark.parametrize(
    ("available", "r", "pending", "listings", "expected"),
    [
        pytest.param(10, rule(), 0, 1, 10, id="all-available-offered"),
        pytest.param(10, rule(buffer=3), 0, 1, 7, id="buffer-held-back"),
        pytest.param(2, rule(buffer=3), 0, 1, 0, id="buffer-larger-than-stock-floors-at-zero"),
        pytest.param(10, rule("0.5"), 0, 1, 5, id="half-allocated"),
        pytest.param(9, rule("0.5"), 0, 1, 4, id="allocation-rounds-down"),
        pytest.param(10, rule("0.8", 1), 2, 1, 5, id="allocation-then-buffer-then-pending"),
        pytest.param(10, rule(), 4, 1, 6, id="pending-tiktok-orders-subtracted"),
        pytest.param(3, rule(), 5, 1, 0, id="more-pending-than-stock-floors-at-zero"),
        pytest.param(-4, rule(), 0, 1, 0, id="negative-available-is-zero"),
        pytest.param(250000, rule(), 0, 1, 99999, id="capped-at-tiktok-maximum"),
        pytest.param(500, rule(cap=100), 0, 1, 100, id="capped-by-spec"),
        pytest.param(10, rule(), 0, 2, 5, id="two-listings-split-the-item"),
        pytest.param(11, rule(), 0, 3, 3, id="three-listings-round-down"),
        pytest.param(0, rule(), 0, 1, 0, id="zero-stays-zero"),
        pytest.param(10, rule("0"), 0, 1, 0, id="zero-allocation-sells-nothing"),
    ],
)
def test_sellable_quantity(available: int, r: ResolvedRule, pending: int, listings: int, expected: int) -> None:
    assert sellable_quantity(available, r, pending, listings) == expected


MAIN, EAST, FBT_LOC = "1", "2", "3"
W1, W2, WFBT = "wh-1", "wh-2", "wh-fbt"
LINKS = LocationMap(
    links={W1: WarehouseLink(W1, (MAIN,)), W2: WarehouseLink(W2, (EAST, "4")),
           WFBT: WarehouseLink(WFBT, (FBT_LOC,), tiktok_managed=True)},
    fbt=frozenset({WFBT}),
)


def plan(skus: list[SkuStock], stock: dict[tuple[str, str], int], r: ResolvedRule | None = None,
         pending: dict[str, dict[str | None, int]] | None = None,
         links: LocationMap = LINKS) -> dict[str, dict[str, int]]:
    return plan_product("P", skus, locations=links, stock=stock, rule_for=lambda s: r or rule(),
                        pending=pending).quantities


CASES = [
    pytest.param([SkuStock("s1", "MUG", "i1", (W1,))], {("i1", MAIN): 7}, None, None,
                 {"s1": {W1: 7}}, id="one-location-one-warehouse"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W2,))], {("i1", EAST): 3, ("i1", "4"): 4}, None, None,
                 {"s1": {W2: 7}}, id="multi-location-warehouse-adds-locations"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W2,))], {("i1", EAST): -2, ("i1", "4"): 4}, None, None,
                 {"s1": {W2: 4}}, id="an-oversold-location-does-not-eat-another"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, W2))], {("i1", MAIN): 5, ("i1", EAST): 2}, None, None,
                 {"s1": {W1: 5, W2: 2}}, id="every-warehouse-of-the-sku-is-sent"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, WFBT))], {("i1", MAIN): 5, ("i1", FBT_LOC): 80}, None, None,
                 {"s1": {W1: 5}}, id="fbt-warehouse-never-pushed-and-its-stock-never-sold"),
    pytest.param([SkuStock("s1", "HOODIE", "i1", (WFBT,))], {("i1", FBT_LOC): 80}, None, None,
                 {}, id="fbt-only-sku-is-left-to-tiktok"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1,))], {("i1", MAIN): 10, ("i1", FBT_LOC): 80}, rule(buffer=2), None,
                 {"s1": {W1: 8}}, id="buffer-applies-per-warehouse"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, W2))], {("i1", MAIN): 10, ("i1", EAST): 10}, rule("0.5"), None,
                 {"s1": {W1: 5, W2: 5}}, id="allocation-per-warehouse"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, W2))], {("i1", MAIN): 10, ("i1", EAST): 10}, None,
                 {"MUG": {W1: 3}}, {"s1": {W1: 7, W2: 10}}, id="pending-at-its-warehouse"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, W2))], {("i1", MAIN): 10, ("i1", EAST): 10}, None,
                 {"MUG": {None: 2}}, {"s1": {W1: 8, W2: 8}}, id="pending-of-unknown-warehouse-counts-everywhere"),
    pytest.param([SkuStock("s1", "MUG", None, (W1,)), SkuStock("s2", "CAP", "i2", (W1,))], {("i2", MAIN): 4}, None,
                 None, {"s2": {W1: 4}}, id="unmatched-sku-left-out"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1, "wh-unlinked"))], {("i1", MAIN): 4}, None, None,
                 {}, id="sku-with-unlinked-warehouse-is-not-sent"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1,)), SkuStock("s2", "MUG2", "i1", (W1,), listings=2)],
                 {("i1", MAIN): 9}, None, None, {"s1": {W1: 9}, "s2": {W1: 4}}, id="listings-split-one-item"),
    pytest.param([SkuStock("s1", "MUG", "i1", (W1,))], {}, None, None,
                 {"s1": {W1: 0}}, id="no-stock-row-means-zero-and-zero-is-sent"),
]


@pytest.mark.parametrize(("skus", "stock", "r", "pending", "expected"), CASES)
def test_plan_product(skus: list[SkuStock], stock: dict[tuple[str, str], int], r: ResolvedRule | None,
                      pending: dict[str, dict[str | None, int]] | None, expected: dict[str, dict[str, int]]) -> None:
    assert plan(skus, stock, r, pending) == expected


def test_plan_reports_why_skus_are_left_out() -> None:
    skus = [SkuStock("s1", "MUG", None, (W1,)), SkuStock("s2", "CAP", "i2", (W1, "wh-x")),
            SkuStock("s3", "TEE", "i3", (W1,))]
    p = plan_product("P", skus, locations=LINKS, stock={}, rule_for=lambda s: ResolvedRule(
        enabled=s.sku_id != "s3", sources=("defaults", "skus.TEE")))
    assert [(x.code, x.sku_id) for x in p.problems] == [("UNMATCHED_SKU", "s1"), ("UNLINKED_WAREHOUSE", "s2"),
                                                        ("DISABLED", "s3")]
    assert [x.sku_id for x in p.blocking()] == ["s2"] and sorted(p.skipped) == ["s1", "s2", "s3"]


def test_line_explains_the_number() -> None:
    p = plan_product("P", [SkuStock("s1", "MUG", "i1", (W1,))], locations=LINKS, stock={("i1", MAIN): 10},
                     rule_for=lambda s: ResolvedRule(D("0.8"), 1, sources=("defaults", "skus.MUG")),
                     pending={"MUG": {W1: 2}})
    (line,) = p.lines
    assert line.quantity == 5
    assert line.explain() == "MUG @ wh-1: available 10 (locations 1) * 0.8 - buffer 1 - pending 2 -> 5 " \
                             "[defaults, skus.MUG]"


@pytest.mark.parametrize(
    ("quantities", "last", "expected"),
    [
        pytest.param({"s1": {W1: 5}}, {("s1", W1): 5}, {}, id="unchanged-not-sent"),
        pytest.param({"s1": {W1: 5, W2: 2}}, {("s1", W1): 5, ("s1", W2): 3}, {"s1": {W1: 5, W2: 2}},
                     id="one-warehouse-changed-sends-all-warehouses-of-the-sku"),
        pytest.param({"s1": {W1: 5}, "s2": {W1: 1}}, {("s1", W1): 5}, {"s2": {W1: 1}}, id="never-pushed-is-sent"),
        pytest.param({"s1": {W1: 0}}, {("s1", W1): 0}, {}, id="zero-unchanged-not-sent"),
    ],
)
def test_changed(quantities: dict[str, dict[str, int]], last: dict[tuple[str, str], int],
                 expected: dict[str, dict[str, int]]) -> None:
    assert changed(quantities, last) == expected


def test_update_body_has_every_warehouse_per_sku() -> None:
    assert update_body({"s2": {W2: 0, W1: 3}, "s1": {W1: 1}}) == {"skus": [
        {"id": "s1", "inventory": [{"warehouse_id": W1, "quantity": 1}]},
        {"id": "s2", "inventory": [{"warehouse_id": W1, "quantity": 3}, {"warehouse_id": W2, "quantity": 0}]},
    ]}


# --- locations.yaml resolution ----------------------------------------------------------------------

PULLED = [WarehouseInfo("701", "Main WH"), WarehouseInfo("702", "East WH"), WarehouseInfo("703", "Returns",
          type="RETURN_WAREHOUSE"), WarehouseInfo("704", "FBT center", fbt=True), WarehouseInfo("705", "New WH")]


def test_link_by_id_or_name_and_report_unlinked() -> None:
    spec = LocationsSpec.model_validate({"shops": {"*": {"warehouses": [
        {"warehouse": "Main WH", "locations": ["1"]}, {"warehouse": "702", "locations": ["2", "5"]},
        {"warehouse": "Gone WH", "locations": ["9"]}]}}})
    m = link_warehouses(spec.for_shop("s"), PULLED)
    assert m.link("701") == WarehouseLink("701", ("1",), False, "Main WH")
    assert m.link("702") is not None and m.link("702").locations == ("2", "5")  # type: ignore[union-attr]
    assert m.unknown == ("Gone WH",)
    assert m.unlinked == ("705",)  # the return warehouse and the FBT one need no link
    assert m.is_tiktok_managed("704") and m.locations() == {"1", "2", "5"}


def test_fbt_marked_in_spec_even_when_tiktok_does_not_say() -> None:
    spec = LocationsSpec.model_validate({"shops": {"*": {"warehouses": [
        {"warehouse": "705", "tiktok_managed": True, "locations": ["3"]}]}}})
    m = link_warehouses(spec.for_shop("s"), PULLED, ignore=["Main WH", "702"])
    assert m.is_tiktok_managed("705") and m.fbt_locations() == {"3"} and m.unlinked == ()


def test_shop_entry_by_id_then_name_then_star() -> None:
    spec = LocationsSpec.model_validate({"shops": {
        "*": {"warehouses": [{"warehouse": "1", "locations": ["1"]}]},
        "Shop B": {"warehouses": [{"warehouse": "2", "locations": ["2"]}]},
        "777": {"warehouses": [{"warehouse": "3", "locations": ["3"]}]}}})
    assert spec.for_shop("777", "Shop B").warehouses[0].warehouse == "3"
    assert spec.for_shop("778", "Shop B").warehouses[0].warehouse == "2"
    assert spec.for_shop("779", "Other").warehouses[0].warehouse == "1"


# --- inventory.yaml resolution --------------------------------------------------------------------

SPEC = InventorySpec.model_validate({
    "defaults": {"allocation": "0.9", "buffer": 1},
    "categories": {"Kitchenware": {"buffer": 3}, "600020": {"allocation": "0.5"}},
    "skus": {"MUG": {"max": 20}},
    "shops": {"S1": {"defaults": {"allocation": "0.6"}, "categories": {"Kitchenware": {"buffer": 4}},
                     "skus": {"MUG": {"enabled": False}}}},
})


@pytest.mark.parametrize(
    ("shop", "sku", "cats", "expected"),
    [
        pytest.param("S9", "CAP", (), (D("0.9"), 1, 99999, True), id="defaults"),
        pytest.param("S9", "CAP", ("Kitchenware", "Home Supplies"), (D("0.9"), 3, 99999, True), id="category"),
        pytest.param("S9", "TEE", ("600020", "600002"), (D("0.5"), 1, 99999, True), id="category-by-id"),
        pytest.param("S9", "MUG", ("Kitchenware",), (D("0.9"), 3, 20, True), id="sku-over-category"),
        pytest.param("S1", "CAP", (), (D("0.6"), 1, 99999, True), id="shop-defaults-over-defaults"),
        pytest.param("S1", "CAP", ("Kitchenware",), (D("0.6"), 4, 99999, True), id="shop-category-over-category"),
        pytest.param("S1", "MUG", ("Kitchenware",), (D("0.6"), 4, 20, False), id="shop-sku-wins"),
    ],
)
def test_rule_precedence(shop: str, sku: str, cats: tuple[str, ...], expected: tuple[Decimal, int, int, bool]) -> None:
    r = SPEC.rule_for(shop, sku, cats)
    assert (r.allocation, r.buffer, r.cap, r.enabled) == expected


def test_rule_sources_name_the_keys() -> None:
    assert SPEC.rule_for("S1", "MUG", ("Kitchenware",)).sources == (
        "defaults", "shops.S1.defaults", "categories.Kitchenware", "shops.S1.categories.Kitchenware", "skus.MUG",
        "shops.S1.skus.MUG")


@pytest.mark.parametrize(
    ("tiktok_committed", "netsuite_committed", "pending", "expected"),
    [
        pytest.param(0, 0, {}, {W1: 10}, id="nothing-reserved"),
        pytest.param(3, 0, {}, {W1: 7}, id="orders-tiktok-took-that-the-bridge-has-not-seen"),
        pytest.param(3, 3, {}, {W1: 10}, id="orders-netsuite-committed-already-are-in-available"),
        pytest.param(3, 1, {}, {W1: 8}, id="partly-in-netsuite"),
        pytest.param(3, 0, {"MUG": {W1: 3}}, {W1: 7}, id="seen-and-reserved-counted-once"),
        pytest.param(1, 0, {"MUG": {W1: 2}}, {W1: 8}, id="the-larger-of-pending-and-reserved"),
        pytest.param(0, 4, {}, {W1: 10}, id="netsuite-ahead-of-tiktok-never-adds"),
    ],
)
def test_tiktok_reservations_count_as_pending(tiktok_committed: int, netsuite_committed: int,
                                              pending: dict[str, dict[str | None, int]],
                                              expected: dict[str, int]) -> None:
    from bridge.mapping.inventory import tiktok_reserved

    skus = [SkuStock("s1", "MUG", "i1", (W1, WFBT))]
    reserved = tiktok_reserved(skus, LINKS, {("s1", W1): tiktok_committed, ("s1", WFBT): 9},
                               {("i1", MAIN): netsuite_committed})
    assert ("s1", WFBT) not in reserved  # FBT reservations are TikTok's own stock
    p = plan_product("P", skus, locations=LINKS, stock={("i1", MAIN): 10}, rule_for=lambda s: rule(),
                     pending=pending, reserved=reserved)
    assert p.quantities == {"s1": expected}
