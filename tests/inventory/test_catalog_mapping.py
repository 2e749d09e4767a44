"""SKU matching, listings, category checks and price plans (pure), table-driven where it helps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bridge.mapping.catalog import (
    AttributeRule,
    ItemDetail,
    NsItem,
    TtSku,
    check_category,
    group_items,
    match_skus,
    plan_listing,
)
from bridge.mapping.catalog_spec import CatalogSpec, MatchSpec
from bridge.mapping.prices import PricedSku, plan_prices, round_price
from bridge.mapping.prices_spec import PricesSpec

D = Decimal
ITEMS = [NsItem("1", "TSHIRT", matrix="PARENT"), NsItem("2", "TSHIRT-RED-M", matrix="CHILD", parent="1"),
         NsItem("3", "MUG-001", upccode="0012"), NsItem("4", "CAP", upccode="0099"),
         NsItem("5", "CAP-OLD", upccode="0099"), NsItem("6", "DISC", itemtype="Discount"),
         NsItem("7", "SPARE")]


def status_of(seller_sku: str, spec: MatchSpec | None = None) -> tuple[str, str]:
    r = match_skus("S", [TtSku("P", "k", seller_sku)], ITEMS, spec or MatchSpec())
    row = next(x for x in r.rows if x.sku_id == "k")
    return row.status, row.item_id


@pytest.mark.parametrize(
    ("seller_sku", "spec", "expected"),
    [
        pytest.param("TSHIRT-RED-M", None, ("matched", "2"), id="matrix-child-matches"),
        pytest.param("TSHIRT", None, ("unmatched_tiktok", ""), id="matrix-parent-never-matches"),
        pytest.param(" mug-001 ", None, ("matched", "3"), id="case-and-spaces-ignored"),
        pytest.param("0099", MatchSpec(by="upccode"), ("ambiguous_netsuite", ""), id="two-items-share-a-upc"),
        pytest.param("0099", MatchSpec(by="upccode", overrides={"0099": "4"}), ("matched", "4"),
                     id="override-pins-one"),
        pytest.param("X1", MatchSpec(overrides={"X1": "404"}), ("override_missing", "404"), id="override-to-nothing"),
        pytest.param("DISC", None, ("unmatched_tiktok", ""), id="discount-items-are-not-sold"),
        pytest.param("", None, ("unmatched_tiktok", ""), id="no-seller-sku"),
    ],
)
def test_match(seller_sku: str, spec: MatchSpec | None, expected: tuple[str, str]) -> None:
    assert status_of(seller_sku, spec) == expected


def test_audit_lists_leftovers_and_duplicates() -> None:
    skus = [TtSku("P1", "a", "MUG-001"), TtSku("P2", "b", "mug-001"), TtSku("P3", "c", "NOPE")]
    r = match_skus("S", skus, ITEMS, MatchSpec())
    c = r.counts()
    assert (c["matched"], c["unmatched_tiktok"], c["duplicate_tiktok_skus"]) == (2, 1, 2)
    assert r.listings == {"3": 2}  # two TikTok SKUs sell item 3: they split it
    assert sorted(x.item_key for x in r.rows if x.status == "unmatched_netsuite") == [
        "CAP", "CAP-OLD", "SPARE", "TSHIRT-RED-M"]


SPEC = CatalogSpec.model_validate({
    "defaults": {"category_id": "600010", "images": {"fallback_uris": ["u1"]},
                 "weight": {"default": "2", "unit": "KILOGRAM"},
                 "variant_attributes": [{"name": "Color", "field": "custitem_color", "attribute_id": "100000"}]},
    "shops": {"UK shop": {"defaults": {"category_id": "600011"}}}})


def item(id_: str, itemid: str, *, parent: str | None = None, matrix: str = "", weight: str | None = None,
         unit: str = "", **fields: str) -> ItemDetail:
    return ItemDetail(id_, itemid, itemid.title(), "", False, matrix, parent, "", D(weight) if weight else None,
                      unit, {"itemId": itemid, **fields})


@pytest.mark.parametrize(
    ("weight", "unit", "expected"),
    [
        pytest.param("24", "oz", {"value": "1.5", "unit": "POUND"}, id="ounces-become-pounds"),
        pytest.param("0.4", "kg", {"value": "0.4", "unit": "KILOGRAM"}, id="kilograms"),
        pytest.param(None, "", {"value": "2", "unit": "KILOGRAM"}, id="spec-default-when-none"),
    ],
)
def test_listing_weight(weight: str | None, unit: str, expected: dict[str, str]) -> None:
    (g,) = group_items([item("3", "MUG-001", weight=weight, unit=unit)])
    body = plan_listing(g, SPEC.for_shop("S"), prices={"3": D("12.50")}, currency="USD", warehouse_id="w1",
                        images=["u1"], shop_id="S").body
    assert body["package_weight"] == expected


def test_listing_variants_from_a_field_and_shop_override_by_name() -> None:
    (g,) = group_items([item("1", "TEE", matrix="PARENT"),
                        item("2", "TEE-R", parent="1", matrix="CHILD", custitem_color="Red"),
                        item("3", "TEE-B", parent="1", matrix="CHILD", custitem_color="Blue")])
    listing = plan_listing(g, SPEC.for_shop("x", "UK shop"), prices={"2": D("9"), "3": D("9")}, currency="GBP",
                           warehouse_id="w1", images=["u1"], shop_id="x")
    assert listing.body["category_id"] == "600011"
    assert [s["sales_attributes"] for s in listing.body["skus"]] == [
        [{"name": "Color", "value_name": "Red", "id": "100000"}], [{"name": "Color", "value_name": "Blue",
                                                                    "id": "100000"}]]
    assert listing.sku_items == {"TEE-R": "2", "TEE-B": "3"} and not listing.problems


def test_listing_problems_name_the_fix() -> None:
    (g,) = group_items([item("3", "MUG-001")])
    listing = plan_listing(g, SPEC.for_shop("S"), prices={}, currency="USD", warehouse_id="w1", images=[],
                           shop_id="S")
    assert any("no positive price" in p for p in listing.problems)
    assert any("no image" in p for p in listing.problems)


@pytest.mark.parametrize(
    ("attrs", "body_attrs", "dims_required", "problem"),
    [
        pytest.param([AttributeRule("9", "Capacity", required=True)], [], False, "requires attribute Capacity",
                     id="required-attribute-missing"),
        pytest.param([AttributeRule("8", "Material", customizable=False, values=(("1", "Cotton"),))],
                     [{"id": "8", "values": [{"name": "Silk"}]}], False, "does not accept 'Silk'",
                     id="value-outside-a-closed-list"),
        pytest.param([], [{"id": "7", "values": [{"name": "x"}]}], False, "does not exist",
                     id="attribute-not-in-the-category"),
        pytest.param([], [], True, "requires package dimensions", id="dimensions-required"),
    ],
)
def test_category_rules(attrs: list[AttributeRule], body_attrs: list[dict[str, object]], dims_required: bool,
                        problem: str) -> None:
    body = {"category_id": "600010", "title": "Mug", "main_images": [{"uri": "u"}], "skus": [{}],
            "product_attributes": body_attrs}
    problems = check_category(body, attrs, package_dimensions_required=dims_required)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("amount", "step", "expected"),
    [
        pytest.param("19.994", "0.01", "19.99", id="down"),
        pytest.param("19.995", "0.01", "20.00", id="half-up"),
        pytest.param("1499.5", "1", "1500", id="yen-half-up"),
        pytest.param("0.001", "0.01", "0.01", id="never-below-one-step"),
    ],
)
def test_round_price(amount: str, step: str, expected: str) -> None:
    assert round_price(D(amount), D(step)) == D(expected)


def test_price_plan_windows_missing_and_held() -> None:
    spec = PricesSpec.model_validate({
        "defaults": {"price_level": "1", "currencies": {"USD": "1"}, "max_change_pct": "30"},
        "windows": [{"name": "bf", "price_level": "5", "start": "2026-11-27T00:00:00Z", "skus": ["A"]}]})
    skus = [PricedSku("ka", "A", "1"), PricedSku("kb", "B", "2"), PricedSku("kc", "C", "3")]
    ns = {("1", "5"): D("8.00"), ("1", "1"): D("10.00"), ("2", "1"): D("30.00")}
    plan = plan_prices("S", skus, spec=spec, currency="USD", at=datetime(2026, 11, 28, tzinfo=UTC), netsuite=ns,
                       current={"ka": D("10.00"), "kb": D("10.00"), "kc": D("5")})
    assert {ln.seller_sku: (ln.level, ln.action) for ln in plan.lines} == {
        "A": ("5", "update"), "B": ("1", "held"), "C": ("1", "missing")}
    assert plan.updates == {"ka": D("8.00")}
    assert spec.boundaries(datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)) == [
        (datetime(2026, 11, 27, tzinfo=UTC), "bf:start")]
