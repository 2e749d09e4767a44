"""Table-driven tests of the order mapping: real-shaped payloads → golden NetSuite payloads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.domain.keys import order_key
from bridge.domain.tiktok import Order
from bridge.errors import NeedsHumanError, SkippableError
from bridge.mapping import wire
from bridge.mapping.orders import ItemRef, explain, map_order
from bridge.mapping.orders_spec import OrderSettings, OrdersSpec
from bridge.mapping.specs import deep_merge, load_spec
from bridge.mapping.wire import jsonable
from tests.support.tiktok_orders import order, unit

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/orders"
SPEC = load_spec(ROOT / "tests/fixtures/specs/orders.yaml", OrdersSpec)
ITEMS = {sku: ItemRef(id=str(100 + i)) for i, sku in enumerate(["RED-S", "RED-M", "BLUE-L", "MUG", "CAP"])}


def settings(**overrides: Any) -> OrderSettings:
    base = SPEC.defaults.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return OrderSettings.model_validate(deep_merge(base, overrides))


@dataclass
class Case:
    id: str
    payload: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    total: str | None = None  # expected NetSuite total
    golden: bool = False


CASES = [
    Case("single-unit-plain", order("1001", [unit("a1", "MUG", "12.50")]), total="12.50", golden=True),
    Case(
        "multi-unit-multi-sku-both-discounts-shipping-discount-tax",
        order(
            "1002",
            [
                unit("a1", "RED-S", "19.99", seller="2.00", platform="1.50", tax="1.36"),
                unit("a2", "RED-S", "19.99", seller="2.00", platform="1.50", tax="1.36"),
                unit("a3", "RED-S", "19.99", seller="2.00", platform="1.50", tax="1.36"),
                unit("b1", "BLUE-L", "34.00", seller="0", platform="5.00", tax="2.39"),
                unit("c1", "MUG", "9.95", tax="0.82"),
            ],
            shipping="7.99", ship_seller="2.00", ship_platform="3.00", ship_tax="0.25", rdf="0.28",
        ),
        total="99.23",
        golden=True,
    ),
    Case(
        "line-rate-discounts",
        order("1003", [unit("a1", "RED-M", "20.00", seller="3.00", platform="2.00"),
                       unit("a2", "RED-M", "20.00", seller="3.00", platform="2.00")], shipping="5.00"),
        settings={"discounts": {"seller": {"mode": "line_rate"}, "platform": {"mode": "line_rate"}}},
        total="35.00",
        golden=True,
    ),
    Case(
        "shipping-as-lines",
        order("1004", [unit("a1", "CAP", "15.00")], shipping="6.00", ship_seller="1.00", ship_platform="2.00"),
        settings={"shipping": {"mode": "line", "item": "610", "seller_discount_item": "611",
                               "platform_discount_item": "612"}},
        total="18.00",
        golden=True,
    ),
    Case(
        "tax-not-recorded-marketplace-facilitator",
        order("1005", [unit("a1", "MUG", "10.00", tax="0.83")]),
        settings={"tax": {"mode": "none"}},
        total="10.00",
    ),
    Case(
        "gbp-order",
        order("1006", [unit("a1", "MUG", "8.99", currency="GBP")], currency="GBP", shipping="2.49"),
        total="11.48",
        golden=True,
    ),
    Case(
        "zero-decimal-currency",
        order("1007", [unit("a1", "MUG", "1500", currency="JPY")], currency="JPY", shipping="300"),
        settings={"currencies": {"JPY": "9"}},
        total="1800",
    ),
    Case(
        "line-cancelled-units-left-off",
        order("1008", [unit("a1", "RED-S", "19.99", tax="1.65"),
                       unit("a2", "RED-S", "19.99", tax="1.65", status="CANCELLED")]),
        total="21.64",
    ),
    Case(
        "cent-of-rounding-goes-to-the-rounding-line",
        order("1009", [unit("a1", "MUG", "10.00")]) | {
            "payment": order("1009", [unit("a1", "MUG", "10.00")])["payment"] | {"total_amount": "10.01"}},
        total="10.01",
    ),
    Case(
        "generic-customer-cash-sale",
        order("1010", [unit("a1", "CAP", "15.00")]),
        settings={"record_type": "cashSale", "customer": {"strategy": "generic", "generic_id": "42"}},
        total="15.00",
        golden=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mapping(case: Case) -> None:
    mapped = map_order(Order.model_validate(case.payload), shop_id="7494", settings=settings(**case.settings),
                       items=ITEMS)
    assert mapped.computed_total == mapped.expected_total
    if case.total is not None:
        assert mapped.computed_total == Decimal(case.total), explain(mapped)
    # the record's own numbers add up to the total
    lines_sum = sum((Decimal(str(row["amount"])) for row in mapped.record["item"]["items"]), Decimal(0))
    assert lines_sum + Decimal(str(mapped.record.get("shippingCost", 0))) == mapped.computed_total
    # every live unit is on exactly one product line
    units = [li["id"] for li in case.payload["line_items"] if li["display_status"] != "CANCELLED"]
    on_lines = [i for a in mapped.allocation() for i in a["line_item_ids"]]
    assert sorted(on_lines) == sorted(units)
    if case.golden:
        check_golden(case.id, {"record_type": mapped.record_type, "record": jsonable(mapped.record),
                               "customer": mapped.customer})


def check_golden(name: str, actual: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = wire.dumps(actual, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    if os.environ.get("TTNS_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs; review and rerun with TTNS_UPDATE_GOLDEN=1"


def test_units_of_one_sku_become_one_line_with_their_ids() -> None:
    mapped = map_order(
        Order.model_validate(order("2001", [unit(f"x{i}", "RED-S", "5.00") for i in range(3)]
                                   + [unit("y1", "MUG", "4.00")])),
        shop_id="S", settings=settings(), items=ITEMS)
    product = [ln for ln in mapped.lines if ln.kind == "product"]
    assert [(ln.sku, ln.quantity, ln.line_item_ids) for ln in product] == [
        ("MUG", 1, ("y1",)), ("RED-S", 3, ("x0", "x1", "x2"))]
    row = mapped.record["item"]["items"][1]
    assert row["custcol_ttns_line_item_ids"] == "x0,x1,x2" and row["quantity"] == 3


def test_same_sku_at_different_prices_keeps_exact_rates() -> None:
    mapped = map_order(Order.model_validate(order("2002", [unit("a", "MUG", "5.00"), unit("b", "MUG", "4.99")])),
                       shop_id="S", settings=settings(), items=ITEMS)
    assert [(ln.rate, ln.quantity) for ln in mapped.lines if ln.kind == "product"] == [
        (Decimal("4.99"), 1), (Decimal("5.00"), 1)]


@pytest.mark.parametrize(
    ("payload", "overrides", "code", "hint"),
    [
        pytest.param(order("3001", [unit("a", "NOPE-1", "5.00")]), {}, "UNKNOWN_SKU", "match.overrides",
                     id="unknown-sku"),
        pytest.param(order("3002", [unit("a", "MUG", "5.00", currency="CAD")], currency="CAD"), {},
                     "UNMAPPED_CURRENCY", "currencies", id="unmapped-currency"),
        pytest.param(order("3003", [unit("a", "MUG", "5.00")]), {"payment_option": {"default": None}},
                     "PAYMENT_METHOD_UNMAPPED", "payment_option", id="no-payment-method"),
        pytest.param(order("3004", [unit("a", "MUG", "5.00")], small_order_fee="1.00") | {
            "payment": order("3004", [unit("a", "MUG", "5.00")])["payment"] | {"total_amount": "6.00"}},
                     {}, "TOTAL_MISMATCH", "fees", id="unmapped-fee-is-not-rounded-away"),
        pytest.param(order("3005", [unit("a", "MUG", "5.00")], fulfillment_type="FULFILLMENT_BY_TIKTOK"),
                     {"fbt_location": None}, "FBT_LOCATION_UNMAPPED", "fbt_location", id="fbt-without-location"),
    ],
)
def test_failures_a_person_must_fix(payload: dict[str, Any], overrides: dict[str, Any], code: str, hint: str) -> None:
    with pytest.raises(NeedsHumanError) as err:
        map_order(Order.model_validate(payload), shop_id="S", settings=settings(**overrides), items=ITEMS)
    assert err.value.code == code and hint in err.value.fix_hint
    assert err.value.entity == order_key("S", payload["id"])


def test_inactive_item() -> None:
    items = {**ITEMS, "MUG": ItemRef(id="103", active=False)}
    with pytest.raises(NeedsHumanError) as err:
        map_order(Order.model_validate(order("3006", [unit("a", "MUG", "5.00")])), shop_id="S", settings=settings(),
                  items=items)
    assert err.value.code == "INACTIVE_ITEM"


@pytest.mark.parametrize(
    ("status", "policy", "outcome"),
    [
        ("UNPAID", "stage", "skip"),
        ("ON_HOLD", "wait", "skip"),
        ("ON_HOLD", "stage", "staged"),
        ("AWAITING_SHIPMENT", "wait", "synced"),
        ("IN_TRANSIT", "wait", "synced"),
        ("CANCELLED", "stage", "skip"),
    ],
)
def test_status_gate(status: str, policy: str, outcome: str) -> None:
    o = Order.model_validate(order("4001", [unit("a", "MUG", "5.00")], status=status))
    if outcome == "skip":
        with pytest.raises(SkippableError):
            map_order(o, shop_id="S", settings=settings(hold_policy=policy), items=ITEMS)
        return
    mapped = map_order(o, shop_id="S", settings=settings(hold_policy=policy), items=ITEMS)
    assert mapped.staged == (outcome == "staged")
    assert mapped.record["orderStatus"]["id"] == ("A" if outcome == "staged" else "B")
    assert ("shippingAddress" in mapped.record) == (outcome == "synced")


def test_per_buyer_customer_is_keyed_by_tiktok_user() -> None:
    mapped = map_order(Order.model_validate(order("5001", [unit("a", "MUG", "5.00")], user_id="u-777")),
                       shop_id="S1", settings=settings(), items=ITEMS)
    assert mapped.customer_external_id == "TTS-CUST-S1-u-777"
    assert mapped.customer == {"externalId": "TTS-CUST-S1-u-777", "isPerson": True, "firstName": "Ada",
                               "lastName": "Lovelace", "subsidiary": {"id": "1"}}
    assert "entity" not in mapped.record  # the flow resolves the customer id first
    with_id = map_order(Order.model_validate(order("5001", [unit("a", "MUG", "5.00")], user_id="u-777")),
                        shop_id="S1", settings=settings(), items=ITEMS, customer_id="88")
    assert with_id.record["entity"] == {"id": "88"}


def test_class_rule_and_order_type() -> None:
    o = Order.model_validate(order("6001", [unit("a", "MUG", "5.00")], order_type="PRE_ORDER",
                                   release_date=1770000000))
    mapped = map_order(o, shop_id="S", settings=settings(), items=ITEMS)
    assert mapped.record["class"] == {"id": "2"} and mapped.record["orderStatus"] == {"id": "A"}
    assert mapped.record["shipDate"] == "2026-02-02" and "pre-order" in mapped.record["memo"]


def test_content_hash_is_stable_and_tracks_content() -> None:
    p = order("7001", [unit("a", "MUG", "5.00")])
    a = map_order(Order.model_validate(p), shop_id="S", settings=settings(), items=ITEMS)
    b = map_order(Order.model_validate(p), shop_id="S", settings=settings(), items=ITEMS)
    c = map_order(Order.model_validate(p | {"buyer_message": "changed"}), shop_id="S", settings=settings(),
                  items=ITEMS)
    assert a.content_hash == b.content_hash != c.content_hash


def test_body_hash_differs_from_the_content_hash_and_fits_the_links_column() -> None:
    from bridge.store.tables import links

    p = order("7002", [unit("a", "MUG", "5.00")])
    a = map_order(Order.model_validate(p), shop_id="S", settings=settings(), items=ITEMS)
    b = map_order(Order.model_validate(p | {"buyer_message": "changed"}), shop_id="S", settings=settings(),
                  items=ITEMS)
    assert a.body_hash() != a.content_hash and a.body_hash() != b.body_hash()
    width = links.c.content_hash.type.length
    assert width is not None and len(a.body_hash()) <= width and len(a.content_hash) <= width


def test_official_sample_order_is_refused_rather_than_mis_posted() -> None:
    sample = json.loads((ROOT / "tests/fixtures/tiktok/official/order_detail_202507.json").read_text())
    raw = sample["data"]["orders"][0]
    o = Order.model_validate(raw)
    assert o.payment.total_amount == Decimal("5000") and o.line_items[0].seller_sku == "red_iphone_256"
    with pytest.raises(SkippableError):  # the sample is UNPAID
        map_order(o, shop_id="S", settings=settings(), items={"red_iphone_256": ItemRef("9")})
    paid = Order.model_validate(raw | {"status": "AWAITING_SHIPMENT"})
    with pytest.raises(NeedsHumanError) as err:  # its amounts do not add up, so no sales order is written
        map_order(paid, shop_id="S", settings=settings(currencies={"IDR": "5"}, fee_item="900"),
                  items={"red_iphone_256": ItemRef("9")})
    assert err.value.code == "TOTAL_MISMATCH"


def test_spec_values_may_reference_records_by_external_id() -> None:
    mapped = map_order(Order.model_validate(order("8001", [unit("a", "MUG", "5.00", seller="1.00")])),
                       shop_id="S", settings=settings(subsidiary="eid:SUB-US", discounts={"seller": {
                           "item": "eid:DISC-SELLER"}}), items={**ITEMS, "MUG": ItemRef("eid:ITEM-MUG")})
    assert mapped.record["subsidiary"] == {"externalId": "SUB-US"}
    items = mapped.record["item"]["items"]
    assert items[0]["item"] == {"externalId": "ITEM-MUG"} and items[1]["item"] == {"externalId": "DISC-SELLER"}


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", "2025-10-10"),
    ("America/Los_Angeles", "2025-10-09"),  # a US evening order is dated the day the buyer paid, locally
    ("America/New_York", "2025-10-09"),
    ("Europe/London", "2025-10-10"),
], ids=["utc", "los-angeles-evening", "new-york-evening", "london-early-morning"])
def test_the_sales_order_is_dated_the_local_day_the_buyer_paid(zone: str, expected: str) -> None:
    raw = order("2003", [unit("a", "MUG", "5.00")])
    raw["paid_time"] = 1760063400  # 2025-10-10 02:30 UTC
    mapped = map_order(Order.model_validate(raw), shop_id="S", settings=settings(), items=ITEMS, time_zone=zone)
    assert mapped.record["tranDate"] == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"commerce_platform": "TIKTOK_SHOP"}, {"custbody_x_source": "TIKTOK_SHOP"},
                     id="commerce-platform"),
        pytest.param({"is_replacement_order": True, "replaced_order_id": "576461416728782174"},
                     {"custbody_x_replaced": "576461416728782174"}, id="replacement-order"),
        pytest.param({"is_exchange_order": True, "exchange_source_order_id": "576461413038785752"},
                     {"custbody_x_exchanged": "576461413038785752"}, id="exchange-order"),
        pytest.param({}, {}, id="absent-fields-write-nothing"),
    ],
)
def test_order_source_fields_map_only_what_get_order_detail_documents(fields: dict[str, Any],
                                                                      expected: dict[str, str]) -> None:
    s = settings(body_fields={"custbody_x_source": "commerce_platform", "custbody_x_replaced": "replaced_order_id",
                              "custbody_x_exchanged": "exchange_source_order_id"})
    payload = order("5101", [unit("a1", "MUG", "12.50")]) | fields
    rec = map_order(Order.model_validate(payload), shop_id="S", settings=s, items=ITEMS).record
    assert {k: v for k, v in rec.items() if k.startswith("custbody_x_")} == expected


def test_creator_is_not_a_source_tiktok_never_fills_it() -> None:
    with pytest.raises(ValueError, match="creator"):
        settings(body_fields={"custbody_ttns_creator": "creator"})


def _with_fees(payload: dict[str, Any], fees: dict[str, str]) -> dict[str, Any]:
    pay = dict(payload["payment"])
    pay.update(fees)
    pay["total_amount"] = str(Decimal(pay["total_amount"]) + sum((Decimal(v) for v in fees.values()), Decimal(0)))
    return payload | {"payment": pay}


@pytest.mark.parametrize(
    ("fees", "spec", "expected"),
    [
        pytest.param({"retail_delivery_fee": "0.28"}, {"fee_item": "900", "fees": {}},
                     [("900", "0.28", "retail delivery fee")], id="colorado-rdf-to-the-fee-item"),
        pytest.param({"small_order_fee": "1.99", "buyer_service_fee": "0.35"}, {"fee_item": "900", "fees": {}},
                     [("900", "0.35", "buyer service fee"), ("900", "1.99", "small order fee")],
                     id="every-documented-fee-to-the-fee-item"),
        pytest.param({"retail_delivery_fee": "0.28", "handling_fee": "2.00"},
                     {"fee_item": "900", "fees": {"handling_fee": "901"}},
                     [("901", "2.00", "handling fee"), ("900", "0.28", "retail delivery fee")],
                     id="one-fee-sent-elsewhere"),
        pytest.param({"shipping_insurance_fee": "0.99", "item_insurance_fee": "1.10"},
                     {"fee_item": "900", "fees": {}},
                     [("900", "1.10", "item insurance fee"), ("900", "0.99", "shipping insurance fee")],
                     id="insurance-fees"),
    ],
)
def test_buyer_fees_map_to_the_fee_item(fees: dict[str, str], spec: dict[str, Any],
                                        expected: list[tuple[str, str, str]]) -> None:
    payload = _with_fees(order("5201", [unit("a1", "MUG", "12.50")]), fees)
    # the fixture maps retail_delivery_fee itself: replace, not merge, the fee settings
    mapped = map_order(Order.model_validate(payload), shop_id="S", settings=settings().model_copy(update=spec),
                       items=ITEMS)
    got = [(ln.item_id, str(ln.amount), ln.description) for ln in mapped.lines if ln.kind == "fee"]
    assert got == expected
    assert mapped.computed_total == mapped.expected_total == Decimal(payload["payment"]["total_amount"])
    assert not [ln for ln in mapped.lines if ln.kind == "rounding"]


def test_a_fee_with_no_item_is_one_exception_naming_the_fix() -> None:
    payload = _with_fees(order("5202", [unit("a1", "MUG", "12.50")]), {"retail_delivery_fee": "0.28"})
    with pytest.raises(NeedsHumanError) as err:
        map_order(Order.model_validate(payload), shop_id="S", settings=settings().model_copy(update={"fees": {}}),
                  items=ITEMS)
    assert err.value.code == "UNMAPPED_FEE" and "retail_delivery_fee 0.28" in str(err.value)
    assert "fee_item" in err.value.fix_hint


VAT = {"tax": {"mode": "inclusive", "rate": "0.20", "item": "720"}}


@pytest.mark.parametrize(("payload", "nets", "vat", "shipping_net"), [
    pytest.param(order("1101", [unit("a1", "MUG", "12.00", currency="GBP")], currency="GBP"),
                 ["10.00"], "2.00", None, id="one-line-divides-exactly"),
    pytest.param(order("1102", [unit("a1", "MUG", "8.99", currency="GBP")], currency="GBP", shipping="2.49"),
                 ["7.49"], "1.91", "2.08", id="line-and-body-shipping-net-with-vat-on-one-line"),
    pytest.param(order("1103", [unit("a1", "RED-S", "0.05", currency="GBP"), unit("b1", "BLUE-L", "0.05",
                                currency="GBP"), unit("c1", "CAP", "0.05", currency="GBP")], currency="GBP"),
                 ["0.05", "0.04", "0.04"], "0.02", None, id="per-line-rounding-remainder-to-the-largest-line"),
    pytest.param(order("1104", [unit("a1", "RED-S", "19.99", seller="2.00", currency="GBP"),
                                unit("a2", "RED-S", "19.99", seller="2.00", currency="GBP")], currency="GBP"),
                 ["33.32", "-3.33"], "5.99", None, id="discount-line-is-net-too"),
])
def test_vat_inclusive_prices_post_net_plus_vat_equal_to_tiktoks_total(
        payload: dict[str, Any], nets: list[str], vat: str, shipping_net: str | None) -> None:
    mapped = map_order(Order.model_validate(payload), shop_id="7494", settings=settings(**VAT), items=ITEMS)
    assert [str(ln.amount) for ln in mapped.lines if ln.kind in ("product", "discount")] == nets
    assert [str(ln.amount) for ln in mapped.lines if ln.kind == "tax"] == [vat]
    assert [ln.item_id for ln in mapped.lines if ln.kind == "tax"] == ["720"]
    assert mapped.rounding == 0
    shipping = mapped.record.get("shippingCost")
    assert (str(shipping) if shipping is not None and shipping else None) == shipping_net
    rows = sum((Decimal(str(r["amount"])) for r in mapped.record["item"]["items"]), Decimal(0))
    assert rows + Decimal(str(shipping or 0)) == Decimal(payload["payment"]["total_amount"])


@pytest.mark.parametrize(("units", "shipping"), [
    # the old rule rounded the order's net once and moved the cent to the largest line: the products
    # posted 33.31 (TikTok's 39.98 less VAT is 33.32) and the discount carried the other side
    pytest.param([("RED-S", "19.99", "2.00"), ("RED-S", "19.99", "2.00")], None, id="products-and-discount"),
    pytest.param([("MUG", "8.99", "1.00")], "2.49", id="products-discount-and-body-shipping"),
    pytest.param([("RED-S", "0.05", "0"), ("BLUE-L", "0.05", "0"), ("CAP", "0.05", "0")], "0.03",
                 id="three-lines-of-one-component-and-half-cent-shipping"),
    pytest.param([("MUG", "10.01", "0.03"), ("CAP", "7.77", "0")], "4.99", id="mixed"),
])
def test_vat_is_split_per_component_as_the_journal_and_the_audit_split_tiktoks_figures(
        units: list[tuple[str, str, str]], shipping: str | None) -> None:
    """Each component (the products, each discount, the shipping) posts net = its gross / 1.2 to the cent, the
    rule ``bridge.mapping.vat`` applies to TikTok's statement figures: so gross sales, discounts and shipping
    each agree with TikTok to the cent (net + VAT), not only their total."""
    from bridge.mapping.vat import net_of

    payload = order("1201", [unit(f"u{i}", sku, price, seller=disc, currency="GBP")
                             for i, (sku, price, disc) in enumerate(units)], currency="GBP",
                    **({"shipping": shipping} if shipping else {}))
    mapped = map_order(Order.model_validate(payload), shop_id="7494", settings=settings(**VAT), items=ITEMS)
    rate = Decimal("0.20")
    gross_products = sum((Decimal(p) for _s, p, _d in units), Decimal(0))
    gross_discount = -sum((Decimal(d) for _s, _p, d in units), Decimal(0))
    products = sum((ln.amount for ln in mapped.lines if ln.kind == "product"), Decimal(0))
    discounts = [ln.amount for ln in mapped.lines if ln.kind == "discount"]
    assert products == net_of(gross_products, rate, "GBP")
    assert discounts == ([net_of(gross_discount, rate, "GBP")] if gross_discount else [])
    shipping_net = Decimal(str(mapped.record.get("shippingCost") or 0))
    assert shipping_net == (net_of(Decimal(shipping), rate, "GBP") if shipping else 0)
    [vat] = [ln.amount for ln in mapped.lines if ln.kind == "tax"]
    gross = gross_products + gross_discount + Decimal(shipping or 0)
    assert vat == gross - products - sum(discounts, Decimal(0)) - shipping_net
    assert products + sum(discounts, Decimal(0)) + shipping_net + vat == Decimal(payload["payment"]["total_amount"])


@pytest.mark.parametrize(("tax", "fix"), [
    pytest.param({"mode": "inclusive", "item": "720"}, "tax.rate", id="no-rate"),
    pytest.param({"mode": "inclusive", "rate": "0.20", "item": None}, "tax.item", id="no-item"),
])
def test_inclusive_tax_needs_a_rate_and_an_item(tax: dict[str, Any], fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        settings(tax=tax)


MARKETS = OrdersSpec.model_validate({
    "defaults": SPEC.defaults.model_dump(by_alias=True, exclude_unset=True, mode="json"),
    "markets": {"GB": {"subsidiary": "2", "location": {"default": "20"}, "currencies": {"GBP": "2"},
                       "tax": {"mode": "inclusive", "rate": "0.20", "item": "720"}}},
    "shops": {"uk-outlet": {"subsidiary": "3"}},
})


@pytest.mark.parametrize(("shop", "region", "subsidiary", "location", "tax_mode"), [
    pytest.param("7494", "US", SPEC.defaults.subsidiary, SPEC.defaults.location.default, "line",
                 id="us-shop-takes-the-defaults"),
    pytest.param("7495", "GB", "2", "20", "inclusive", id="gb-shop-takes-the-gb-market"),
    pytest.param("7496", "gb", "2", "20", "inclusive", id="region-case-does-not-matter"),
    pytest.param("uk-outlet", "GB", "3", "20", "inclusive", id="shop-overrides-its-market"),
    pytest.param("7497", "", SPEC.defaults.subsidiary, SPEC.defaults.location.default, "line",
                 id="unknown-region-takes-the-defaults"),
])
def test_a_shops_market_sets_its_subsidiary_location_and_tax(shop: str, region: str, subsidiary: str | None,
                                                              location: str | None, tax_mode: str) -> None:
    s = MARKETS.for_shop(shop, region)
    assert (s.subsidiary, s.location.default, s.tax.mode) == (subsidiary, location, tax_mode)


@pytest.mark.parametrize(("markets", "key", "fix"), [
    pytest.param({"UK ": {}}, "markets", "two upper-case letters", id="market-key-not-a-region"),
    pytest.param({"GB": {"tax": {"mode": "inclusive", "item": "720"}}}, "markets.GB", "tax.rate",
                 id="market-inclusive-tax-without-rate"),
])
def test_market_problems_name_the_key_and_the_fix(markets: dict[str, Any], key: str, fix: str) -> None:
    from bridge.mapping.specs import SpecError
    raw = {"defaults": SPEC.defaults.model_dump(by_alias=True, exclude_unset=True, mode="json"), "markets": markets}
    try:
        spec = OrdersSpec.model_validate(raw)
    except Exception as exc:  # the key itself is invalid
        assert isinstance(exc, (ValueError, SpecError)) and fix in str(exc) and key in str(exc)
        return
    problems = spec.extra_problems("orders.yaml")
    assert problems and all(p.key.startswith(key) for p in problems)
    assert any(fix in f"{p.problem} {p.fix}" for p in problems)


# German deposit (pfand_fee, per line item). TikTok's pages do not say whether total_amount holds it on top
# of the prices or inside them: both readings reconcile, explicitly; neither is one exception naming it.
@pytest.mark.parametrize(("case", "on_top", "total_delta", "spec", "fee", "code"), [
    ("on top of the prices: a fee line, like the retail delivery fee", True, "0", {"fee_item": "900", "fees": {}},
     ("900", "0.50"), None),
    ("its own item under fees.pfand_fee", True, "0", {"fee_item": "900", "fees": {"pfand_fee": "905"}},
     ("905", "0.50"), None),
    ("inside the prices: no fee line, TikTok's total as is", False, "0", {"fee_item": "900", "fees": {}}, None, None),
    ("neither reading reconciles: one exception naming pfand_fee", True, "0.30", {"fee_item": "900", "fees": {}},
     None, "TOTAL_MISMATCH"),
    ("no item for it: one exception naming the field", True, "0", {"fee_item": None, "fees": {}}, None,
     "UNMAPPED_FEE"),
])
def test_pfand_fee_reconciles_on_either_reading_or_names_the_field(
        case: str, on_top: bool, total_delta: str, spec: dict[str, Any], fee: tuple[str, str] | None,
        code: str | None) -> None:
    units = [unit("b1", "MUG", "1.19") | {"pfand_fee": "0.25"}, unit("b2", "MUG", "1.19") | {"pfand_fee": "0.25"},
             unit("c1", "CAP", "5.00")]
    payload = order("5301", units, currency="EUR")
    pay = dict(payload["payment"])
    pay["total_amount"] = str(Decimal(pay["total_amount"]) + (Decimal("0.50") if on_top else 0) + Decimal(total_delta))
    payload = payload | {"payment": pay}
    run = lambda: map_order(Order.model_validate(payload), shop_id="S",  # noqa: E731
                            settings=settings().model_copy(update=spec), items=ITEMS)
    if code:
        with pytest.raises(NeedsHumanError) as err:
            run()
        assert err.value.code == code and "pfand_fee" in str(err.value), case
        return
    mapped = run()
    got = [(ln.item_id, str(ln.amount)) for ln in mapped.lines if ln.kind == "fee"]
    assert got == ([fee] if fee else []), case
    assert mapped.computed_total == mapped.expected_total == Decimal(pay["total_amount"]), case
    assert not [ln for ln in mapped.lines if ln.kind == "rounding"]
    assert any("pfand_fee inside" in n for n in mapped.notes) == (not on_top), case


# ---- VAT markets: several rates per order, TikTok's own figures, tax codes per line -----------------------
DE = {"tax": {"mode": "inclusive", "rate": "0.19", "rates": {"book-01": "0.07"}, "item": "720"},
      "shipping": {"mode": "line", "item": "730"}}
DE_CODES = {"tax": {"mode": "inclusive", "rate": "0.19", "rates": {"BOOK-01": "0.07"}, "item": None,
                    "codes": {"0.19": "819", "0.07": "807"}, "exempt_taxcode": "800"},
            "shipping": {"mode": "line", "item": "730"}}
CENT = Decimal("0.01")
DE_ITEMS = {**ITEMS, "BOOK-01": ItemRef(id="150"), "book-01": ItemRef(id="150")}


def _de(order_id: str, units: list[dict[str, Any]], **kw: Any) -> Order:
    return Order.model_validate(order(order_id, units, currency="EUR", **kw))


def _vat(lines: dict[str, tuple[str, str]], shipping: str = "0") -> Any:
    from bridge.mapping.orders import TikTokVat
    return TikTokVat({k: (Decimal(a), Decimal(r)) for k, (a, r) in lines.items()}, Decimal(shipping))


def _sku_key(s: str) -> str:
    return s.strip().upper()


MIXED = [unit("m1", "MUG", "11.90", currency="EUR"), unit("b1", "BOOK-01", "10.70", currency="EUR"),
         unit("b2", "BOOK-01", "10.70", currency="EUR")]


@pytest.mark.parametrize(("order_", "spec", "vat", "expected_vat", "expected_nets", "note"), [
    pytest.param(_de("1201", MIXED), DE, None, {"19": "1.90", "7": "1.40"}, ["20.00", "10.00"], "rates",
                 id="19-and-7-percent-lines-from-the-specs-rates"),
    pytest.param(_de("1202", MIXED, shipping="4.90"), DE, None, {"19": "2.68", "7": "1.40"},
                 ["20.00", "10.00", "4.12"], "rates", id="shipping-at-the-standard-rate-in-the-19-percent-group"),
    pytest.param(_de("1203", MIXED), DE, _vat({"m1": ("1.91", "0.19"), "b1": ("0.70", "0.07"),
                                               "b2": ("0.70", "0.07")}),
                 {"19": "1.91", "7": "1.40"}, ["20.00", "9.99"], "price detail",
                 id="tiktoks-own-vat-wins-over-recomputing-by-a-cent"),
    pytest.param(_de("1204", [unit("b1", "BOOK-01", "10.70", currency="EUR")]), DE,
                 _vat({"b1": ("1.71", "0.19")}), {"19": "1.71"}, ["8.99"], "price detail",
                 id="tiktoks-rate-wins-over-the-specs-reduced-rate"),
    pytest.param(_de("1205", [unit("m1", "MUG", "11.90", seller="1.19", currency="EUR"),
                              unit("b1", "BOOK-01", "10.70", seller="1.07", currency="EUR")]), DE, None,
                 {"19": "1.71", "7": "0.63"}, ["10.00", "10.00", "-1.00", "-1.00"], "rates",
                 id="a-discount-on-both-rates-becomes-one-line-per-rate"),
])
def test_vat_market_with_several_rates_posts_net_and_vat_per_rate_equal_to_tiktoks_total(
        order_: Order, spec: dict[str, Any], vat: Any, expected_vat: dict[str, str], expected_nets: list[str],
        note: str) -> None:
    mapped = map_order(order_, shop_id="de1", settings=settings(**spec), items=DE_ITEMS, vat=vat, sku_key=_sku_key)
    vat_lines = {ln.description.split()[1].rstrip("%"): str(ln.amount) for ln in mapped.lines if ln.kind == "tax"}
    assert vat_lines == expected_vat
    assert [str(ln.amount) for ln in mapped.lines if ln.kind in ("product", "discount", "shipping")] == expected_nets
    assert mapped.rounding == 0 and any(note in n for n in mapped.notes)
    rows = sum((Decimal(str(r["amount"])) for r in mapped.record["item"]["items"]), Decimal(0))
    assert rows == mapped.expected_total == Decimal(order_.payment.total_amount)


def test_vat_by_tax_code_puts_each_lines_code_and_vat_on_the_line_and_no_vat_item() -> None:
    o = _de("1210", [*MIXED, unit("c1", "CAP", "5.95", seller="0.60", currency="EUR")], shipping="4.90", rdf="0.50")
    mapped = map_order(o, shop_id="de1", settings=settings(**DE_CODES), items=DE_ITEMS, sku_key=_sku_key)
    rows = mapped.record["item"]["items"]
    assert not [ln for ln in mapped.lines if ln.kind == "tax"]
    by_item = {r["item"]["id"]: r for r in rows}
    assert by_item["150"]["taxCode"] == {"id": "807"} and by_item["150"]["tax1Amt"] == Decimal("1.40")
    assert by_item["103"]["taxCode"] == {"id": "819"} and by_item["730"]["taxCode"] == {"id": "819"}
    fee = next(r for r in rows if r["description"] == "retail delivery fee")
    assert fee["taxCode"] == {"id": "800"} and "tax1Amt" not in fee
    net = sum((Decimal(str(r["amount"])) for r in rows), Decimal(0))
    vat = sum((Decimal(str(r.get("tax1Amt", 0))) for r in rows), Decimal(0))
    assert net + vat == Decimal(o.payment.total_amount) == mapped.computed_total and mapped.rounding == 0
    for code, rate in (("807", Decimal("0.07")), ("819", Decimal("0.19"))):
        coded = [r for r in rows if r.get("taxCode") == {"id": code}]
        # a line carries at most the rounding cent over its own VAT
        assert all(abs(r["amount"] * rate - r["tax1Amt"]) <= Decimal("0.02") for r in coded)
    # within a rate the VAT is rounded once per component of the order (its products, each discount, its
    # shipping), as the statement journal and the ledger audit split TikTok's figures (bridge.mapping.vat)
    components: dict[tuple[Decimal, str], list[Any]] = {}
    for i, ln in enumerate(mapped.lines):
        if ln.vat_rate is not None and ln.kind in ("product", "discount", "shipping"):
            components.setdefault((ln.vat_rate, f"discount:{i}" if ln.kind == "discount" else ln.kind), []).append(ln)
    assert {k[1].partition(":")[0] for k in components} == {"product", "discount", "shipping"}
    for (rate, _kind), members in components.items():
        gross = sum((ln.amount + ln.vat for ln in members), Decimal(0))
        assert sum((ln.vat for ln in members), Decimal(0)) == gross - (gross / (1 + rate)).quantize(CENT)


def test_a_vat_rate_with_no_tax_code_is_one_exception_naming_the_fix() -> None:
    o = _de("1211", [unit("m1", "MUG", "10.50", currency="EUR")])
    with pytest.raises(NeedsHumanError) as err:
        map_order(o, shop_id="de1", settings=settings(**DE_CODES), items=DE_ITEMS,
                  vat=_vat({"m1": ("0.50", "0.05")}))
    assert err.value.code == "VAT_RATE_UNMAPPED" and "0.05" in str(err.value) and "tax.codes" in err.value.fix_hint


@pytest.mark.parametrize(("tax", "shipping", "fix"), [
    pytest.param({"codes": {"0.19": "819"}}, {"mode": "line", "item": "730"}, "0.07", id="codes-miss-a-rate"),
    pytest.param({}, {"mode": "body"}, "shipping.mode: line", id="codes-need-a-shipping-line"),
    pytest.param({"codes": {"19%": "819"}}, {"mode": "line", "item": "730"}, "fraction", id="code-key-not-a-rate"),
    pytest.param({"rates": {"BOOK-01": "7"}}, {"mode": "line", "item": "730"}, "fraction", id="rate-not-a-fraction"),
])
def test_vat_spec_problems_name_the_fix(tax: dict[str, Any], shipping: dict[str, Any], fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        settings(tax={**DE_CODES["tax"], **tax}, shipping=shipping)


def test_tiktoks_price_detail_gives_the_vat_per_line_or_nothing() -> None:
    from bridge.domain.tiktok import PriceDetail
    from bridge.mapping.orders import vat_from_price_detail
    got = vat_from_price_detail(PriceDetail.model_validate({
        "tax_amount": "3.70", "subtotal_tax_amount": "2.92", "line_items": [
            {"id": "m1", "subtotal_tax_amount": "1.52", "tax_rate": "0.19"},
            {"id": "b1", "subtotal_tax_amount": "1.40", "tax_rate": "0.07"}]}))
    assert got is not None and got.shipping == Decimal("0.78")
    assert dict(got.lines) == {"m1": (Decimal("1.52"), Decimal("0.19")), "b1": (Decimal("1.40"), Decimal("0.07"))}
    assert vat_from_price_detail(PriceDetail.model_validate({"tax_amount": "0.00", "line_items": []})) is None
