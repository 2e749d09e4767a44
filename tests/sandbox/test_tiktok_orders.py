"""Orders, lifecycle, webhooks, fulfillment, cancellations, returns and inventory in the TikTok
sandbox, over real HTTP (plus property tests of the money identities through the Python API)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.sandbox.tiktok import SandboxError, TikTokSandbox, TikTokSandboxConfig
from bridge.sandbox.tiktok.orders import BUYER_FEES, LINE_FEES
from tests.sandbox.conftest import TikTokEnv, WebhookReceiver

D = Decimal


def _sku(sb: TikTokSandbox, seller_sku: str) -> dict[str, Any]:
    return next(r for r in sb.inventory() if r["seller_sku"] == seller_sku)


def _subscribe(tiktok: TikTokEnv, receiver: WebhookReceiver, *topics: str, region: str = "US") -> None:
    for topic in topics:
        tiktok.client.ok("PUT", "/event/202309/webhooks", None, {"address": receiver.url, "event_type": topic},
                         region=region)


def _verify_webhook(tiktok: TikTokEnv, hit: dict[str, Any]) -> dict[str, Any]:
    c = tiktok.client
    expected = hmac.new(c.app_secret.encode(), c.app_key.encode() + hit["body"], hashlib.sha256).hexdigest()
    assert hit["headers"]["Authorization"] == expected
    doc: dict[str, Any] = json.loads(hit["body"])
    assert set(doc) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
    assert isinstance(doc["tts_notification_id"], str) and isinstance(doc["timestamp"], int)
    return doc


def _emitted(sb: TikTokSandbox, type_: int, key: str) -> list[Any]:
    """Values of ``data[key]`` of the webhooks of one type, in emission order (the delivery log)."""
    return [d["body"]["data"][key] for d in sb.webhook_deliveries(type=type_)]


def assert_order_identities(order: dict[str, Any]) -> None:
    p = {k: D(v) for k, v in order["payment"].items() if k != "currency"}
    lines = order["line_items"]
    assert all("quantity" not in li for li in lines)
    assert p["original_total_product_price"] == sum(D(li["original_price"]) for li in lines)
    assert p["seller_discount"] == sum(D(li["seller_discount"]) for li in lines)
    assert p["platform_discount"] == sum(D(li["platform_discount"]) for li in lines)
    for li in lines:
        assert D(li["sale_price"]) == D(li["original_price"]) - D(li["seller_discount"]) - D(li["platform_discount"])
    assert p["sub_total"] == p["original_total_product_price"] - p["seller_discount"] - p["platform_discount"]
    assert p["shipping_fee"] == (p["original_shipping_fee"] - p["shipping_fee_seller_discount"]
                                 - p["shipping_fee_platform_discount"])
    assert p["product_tax"] == sum(D(t["tax_amount"]) for li in lines for t in li["item_tax"])
    assert p["tax"] == p["product_tax"] + p["shipping_fee_tax"]
    fees = sum((p[f] for f in BUYER_FEES), D(0))
    assert p["total_amount"] == p["sub_total"] + p["shipping_fee"] + p["tax"] + fees
    for f in LINE_FEES:
        assert p[f] == sum(D(li[f]) for li in lines)
    assert all(v == v.quantize(D("0.01")) for v in p.values())


def assert_price_detail(detail: dict[str, Any], order: dict[str, Any]) -> None:
    d = {k: D(v) for k, v in detail.items() if k not in ("currency", "line_items", "tax_rate")}
    deductions = d["subtotal_deduction_seller"] + d["subtotal_deduction_platform"]
    assert d["sku_sale_price"] == d["sku_list_price"] - deductions
    assert d["subtotal"] == d["sku_sale_price"] + d["subtotal_tax_amount"]
    assert d["shipping_sale_price"] == (d["shipping_list_price"] - d["shipping_fee_deduction_seller"]
                                        - d["shipping_fee_deduction_platform"])
    assert d["total"] == d["sku_list_price"] + d["shipping_list_price"]
    assert d["payment"] == d["sku_sale_price"] + d["shipping_sale_price"] + d["tax_amount"]
    assert d["payment"] == D(order["payment"]["total_amount"])
    for key in ("sku_list_price", "payment", "tax_amount", "shipping_list_price"):
        assert d[key] == sum(D(li[key]) for li in detail["line_items"])


# ----------------------------------------------------------------------------------- placement
def test_multi_unit_order_has_one_line_per_unit_and_decrements_stock(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    before = _sku(sb, "US-TEE-BLK-M")
    order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-TEE-BLK-M", "quantity": 3},
                                                  {"seller_sku": "US-MUG-12", "quantity": 2}],
                           shipping_fee="6.99", shipping_fee_platform_discount="2.00", seller_discount="5.00",
                           platform_discount="1.50", tax_rate="0.0825", hold=False)
    got = c.ok("GET", "/order/202507/orders", {"ids": [order["id"]]})["orders"][0]
    assert len(got["line_items"]) == 5 and len({li["id"] for li in got["line_items"]}) == 5
    assert [li["seller_sku"] for li in got["line_items"]].count("US-TEE-BLK-M") == 3
    assert isinstance(got["id"], str) and all(isinstance(li["id"], str) for li in got["line_items"])
    assert_order_identities(got)
    assert_price_detail(c.ok("GET", f"/order/202407/orders/{order['id']}/price_detail"), got)
    after = _sku(sb, "US-TEE-BLK-M")
    wid = got["warehouse_id"]
    assert after["available"][wid] == before["available"][wid] - 3
    assert after["committed"][wid] == before["committed"].get(wid, 0) + 3
    inv = c.ok("POST", "/product/202309/inventory/search", None, {"sku_ids": [after["sku_id"]]})["inventory"]
    sku_inv = inv[0]["skus"][0]
    assert sku_inv["total_committed_quantity"] == 3
    assert sku_inv["total_available_quantity"] == sum(after["available"].values())


def test_vat_markets_price_vat_in_and_give_each_lines_vat_in_price_detail_not_a_us_sales_tax_entry(
        tiktok: TikTokEnv) -> None:
    """UK and EU shops: prices include VAT, Get Order Detail carries no tax on top and no US sales-tax entry
    (item_tax documents SALES_TAX only), Get Price Detail gives each line's VAT and rate (19 % and 7 % in DE)."""
    c, sb = tiktok.client, tiktok.sandbox
    gb = sb.place_order(c.shops["GB"]["id"], [{"seller_sku": "GB-MUG-12", "quantity": 2}], shipping_fee="2.49",
                        seller_discount="1.00", hold=False)
    got = c.ok("GET", "/order/202507/orders", {"ids": [gb["id"]]}, region="GB")["orders"][0]
    assert all(li["item_tax"] == [] for li in got["line_items"]) and D(got["payment"]["tax"]) == 0
    assert_order_identities(got)
    detail = c.ok("GET", f"/order/202407/orders/{gb['id']}/price_detail", region="GB")
    assert_price_detail(detail, got)
    gross = D(got["payment"]["total_amount"])
    assert D(detail["tax_amount"]) == gross - (gross / D("1.2")).quantize(D("0.01"))
    assert {li["tax_rate"] for li in detail["line_items"]} == {"0.2"}

    de = sb.add_shop(name="Sandbox DE Shop", region="DE", seller_name="Sandbox Seller DE")
    assert de["region"] == "DE" and sb.shop(de["id"])["currency"] == "EUR"
    wh = next(w["id"] for w in sb.shop(de["id"])["warehouses"] if not w.get("fbt"))
    sb.add_product(de["id"], "Becher", [{"seller_sku": "DE-MUG", "price": "11.90", "inventory": {wh: 10}}])
    sb.add_product(de["id"], "Kochbuch", [{"seller_sku": "DE-BOOK-01", "price": "10.70", "inventory": {wh: 10}}])
    order = sb.place_order(de["id"], [{"seller_sku": "DE-MUG", "quantity": 1},
                                      {"seller_sku": "DE-BOOK-01", "quantity": 2, "vat_rate": "0.07"}],
                           shipping_fee="4.90", hold=False)
    assert order["payment"]["currency"] == "EUR" and D(order["payment"]["tax"]) == 0
    assert all(li["item_tax"] == [] for li in order["line_items"])
    assert D(order["payment"]["total_amount"]) == D("11.90") + 2 * D("10.70") + D("4.90")
    from bridge.sandbox.tiktok.orders import price_detail_json
    pd = sb.run(lambda st: price_detail_json(st.orders[order["id"]]))
    assert_price_detail(pd, order)
    by_sku = {li["seller_sku"]: li["id"] for li in order["line_items"]}
    rates = {ln["id"]: (ln["tax_rate"], D(ln["subtotal_tax_amount"])) for ln in pd["line_items"]}
    assert rates[by_sku["DE-MUG"]] == ("0.19", D("1.90")) and rates[by_sku["DE-BOOK-01"]] == ("0.07", D("0.70"))
    assert D(pd["tax_amount"]) - D(pd["subtotal_tax_amount"]) == D("0.78")  # shipping's VAT at 19 %
    with pytest.raises(SandboxError, match="not emulated"):
        sb.add_shop(name="Nowhere", region="ZZ")


def test_pfand_fee_is_a_german_line_item_field_charged_on_top(tiktok: TikTokEnv) -> None:
    """Get Order Detail documents the line items' ``pfand_fee`` for the Germany market only; the pages do not
    say whether ``total_amount`` includes it, and the sandbox charges it on top (docs/sandbox-tiktok.md)."""
    c, sb = tiktok.client, tiktok.sandbox
    with pytest.raises(SandboxError, match="only available in the Germany market"):
        sb.place_order(c.shops["GB"]["id"], [{"seller_sku": "GB-MUG-12", "quantity": 1, "pfand_fee": "0.25"}])
    gb = sb.place_order(c.shops["GB"]["id"], [{"seller_sku": "GB-MUG-12", "quantity": 1}], hold=False)
    assert all("pfand_fee" not in li for li in gb["line_items"])
    de = sb.add_shop(name="Sandbox DE Shop", region="DE", seller_name="Sandbox Seller DE")["id"]
    wh = next(w["id"] for w in sb.shop(de)["warehouses"] if not w.get("fbt"))
    sb.add_product(de, "Wasser", [{"seller_sku": "DE-WATER-6", "price": "4.79", "inventory": {wh: 10}}])
    sb.add_product(de, "Becher", [{"seller_sku": "DE-MUG", "price": "11.90", "inventory": {wh: 10}}])
    o = sb.place_order(de, [{"seller_sku": "DE-WATER-6", "quantity": 2, "pfand_fee": "1.50"},
                            {"seller_sku": "DE-MUG", "quantity": 1}], hold=False)
    got = {li["seller_sku"]: li["pfand_fee"] for li in o["line_items"]}
    assert got == {"DE-WATER-6": "1.50", "DE-MUG": "0.00"}
    assert D(o["payment"]["total_amount"]) == 2 * D("4.79") + D("11.90") + 2 * D("1.50")
    with pytest.raises(SandboxError, match="non-negative"):
        sb.place_order(de, [{"seller_sku": "DE-MUG", "quantity": 1, "pfand_fee": "-1"}])


@pytest.mark.parametrize(
    "fees",
    [
        pytest.param({"retail_delivery_fee": "0.28"}, id="colorado-retail-delivery-fee"),
        pytest.param({"small_order_fee": "1.99", "buyer_service_fee": "0.35"}, id="small-order-and-service-fee"),
        pytest.param({"handling_fee": "2.00", "shipping_insurance_fee": "0.99", "item_insurance_fee": "1.10"},
                     id="order-level-only-fees"),
    ],
)
def test_buyer_fees_are_in_the_order_detail_and_its_total(tiktok: TikTokEnv, fees: dict[str, str]) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12", "quantity": 3}], shipping_fee="4.00",
                           tax_rate="0.0825", hold=False, **fees)
    got = c.ok("GET", "/order/202507/orders", {"ids": [order["id"]]})["orders"][0]
    assert_order_identities(got)
    p = got["payment"]
    assert {f: p[f] for f in fees} == fees
    assert all(D(p[f]) == 0 for f in BUYER_FEES if f not in fees)
    before_fees = D(p["sub_total"]) + D(p["shipping_fee"]) + D(p["tax"])
    assert D(p["total_amount"]) - before_fees == sum((D(v) for v in fees.values()), D(0))


def test_order_is_refused_when_stock_is_insufficient(tiktok: TikTokEnv) -> None:
    sb, shop = tiktok.sandbox, tiktok.client.shops["US"]["id"]
    vase = _sku(sb, "US-VASE-01")
    stock = sum(vase["available"].values())
    with pytest.raises(SandboxError) as err:
        sb.place_order(shop, [{"seller_sku": "US-VASE-01", "quantity": stock + 1}])
    assert err.value.reason == "insufficient_stock"
    assert _sku(sb, "US-VASE-01")["available"] == vase["available"]
    bulk = sb.place_orders([{"shop_id": shop, "items": [{"seller_sku": "US-VASE-01", "quantity": 15}], "hold": False}
                            for _ in range(4)])
    assert bulk["placed_count"] == stock // 15 and bulk["refused_count"] == 4 - stock // 15
    assert all(r["reason"] == "insufficient_stock" for r in bulk["refused"])
    assert sum(_sku(sb, "US-VASE-01")["available"].values()) == stock - 15 * bulk["placed_count"]


_money = st.decimals(min_value=D("0.50"), max_value=D("250"), places=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.sampled_from(["US-TEE-BLK-M", "US-TEE-WHT-L", "US-MUG-12"]),
                                st.integers(1, 4), _money), min_size=1, max_size=4),
       seller_pct=st.integers(0, 40), platform_pct=st.integers(0, 30), ship=_money, ship_seller_pct=st.integers(0, 50),
       ship_platform_pct=st.integers(0, 50), tax=st.sampled_from(["0", "0.0625", "0.0825", "0.1025"]))
def test_order_totals_identity_holds_for_random_orders(items: list, seller_pct: int, platform_pct: int,
                                                        ship: Decimal, ship_seller_pct: int, ship_platform_pct: int,
                                                        tax: str) -> None:
    sb = _PROPERTY_SANDBOX
    shop = sb.describe()["shops"][0]["id"]
    gross = sum(price * qty for _, qty, price in items)
    order = sb.place_order(
        shop, [{"seller_sku": s, "quantity": q, "price": str(p)} for s, q, p in items],
        seller_discount=str((gross * seller_pct / 100).quantize(D("0.01"))),
        platform_discount=str((gross * platform_pct / 100).quantize(D("0.01"))),
        shipping_fee=str(ship), shipping_fee_seller_discount=str((ship * ship_seller_pct / 100).quantize(D("0.01"))),
        shipping_fee_platform_discount=str((ship * ship_platform_pct / 100).quantize(D("0.01"))),
        tax_rate=tax, hold=False)
    assert len(order["line_items"]) == sum(q for _, q, _ in items)
    assert_order_identities(order)
    assert D(order["payment"]["seller_discount"]) == (gross * seller_pct / 100).quantize(D("0.01"))


_PROPERTY_SANDBOX = TikTokSandbox(TikTokSandboxConfig(seed=11, webhook_enabled=False))
for _r in _PROPERTY_SANDBOX.inventory():
    for _w in _r["available"]:
        _PROPERTY_SANDBOX.set_stock(_r["sku_id"], 10**6, _w)


# ---------------------------------------------------------------------- lifecycle and webhooks
def test_lifecycle_emits_signed_status_webhooks(tiktok: TikTokEnv, webhook_receiver: WebhookReceiver) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    _subscribe(tiktok, webhook_receiver, "ORDER_STATUS_CHANGE", "RECIPIENT_ADDRESS_UPDATE")
    got = c.ok("GET", "/event/202309/webhooks")
    assert got["total_count"] == 2 and {w["event_type"] for w in got["webhooks"]} == {
        "ORDER_STATUS_CHANGE", "RECIPIENT_ADDRESS_UPDATE"}
    order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12", "quantity": 2}], shipping_fee="4.00")
    oid = order["id"]
    detail = c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]
    assert detail["status"] == "ON_HOLD" and detail["is_on_hold_order"] and "recipient_address" not in detail
    pkg_refused = c.err("POST", f"/fulfillment/202309/orders/{oid}/packages", None,
                        {"tracking_number": "9400111899223100000001", "shipping_provider_id": "1"})
    assert pkg_refused[1] == 21042057
    sb.update_address(oid)
    sb.advance_clock(3600)  # the one-hour hold passes on the business clock
    detail = c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]
    assert detail["status"] == "AWAITING_SHIPMENT" and detail["recipient_address"]["region_code"] == "US"
    option = next(d for w in c.shops["US"]["detail"]["warehouses"] for d in w["delivery_options"]
                  if d["id"] == detail["delivery_option_id"])
    usps = next(p["id"] for p in sb.describe()["providers"] if p["name"] == "USPS")
    assert usps in option["provider_ids"]
    shipped = c.ok("POST", f"/fulfillment/202309/orders/{oid}/packages", None,
                   {"tracking_number": "9400111899223100000001", "shipping_provider_id": usps})
    assert sorted(shipped["order_line_item_ids"]) == sorted(li["id"] for li in detail["line_items"])
    for _ in range(3):
        sb.advance_order(oid)
    final = c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]
    assert final["status"] == "COMPLETED" and final["tracking_number"] == "9400111899223100000001"
    hits = webhook_receiver.wait_for(8)
    docs = [_verify_webhook(tiktok, h) for h in hits]
    expected = ["UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED",
                "COMPLETED"]
    # deliveries run concurrently (TikTok promises no order): the set arrives, the log keeps emission order
    assert sorted(d["data"]["order_status"] for d in docs if d["type"] == 1) == sorted(expected)
    assert [d["body"]["data"]["order_status"] for d in sb.webhook_deliveries(type=1)] == expected
    assert [d["data"]["order_id"] for d in docs if d["type"] == 3] == [oid]
    assert all(d["shop_id"] == c.shops["US"]["id"] for d in docs)
    assert len({d["tts_notification_id"] for d in docs}) == len(docs)
    # after an unsubscribe the topic goes quiet
    c.ok("DELETE", "/event/202309/webhooks", None, {"event_type": "RECIPIENT_ADDRESS_UPDATE"})
    assert c.ok("GET", "/event/202309/webhooks")["total_count"] == 1


def test_webhook_retried_on_500_per_scaled_schedule_then_given_up(webhook_receiver: WebhookReceiver) -> None:
    from tests.sandbox.conftest import _env

    cfg = TikTokSandboxConfig(seed=3, webhook_time_scale=0.00002, tick_interval=0.05, webhook_loopback_http=True)
    env = _env(cfg)
    tiktok = next(env)
    try:
        sb, c = tiktok.sandbox, tiktok.client
        _subscribe(tiktok, webhook_receiver, "ORDER_STATUS_CHANGE")
        webhook_receiver.script(500, 500)  # the first push and the first retry fail
        sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
        assert sb.wait_webhooks(timeout=10, include_retries=True)
        log = sb.webhook_deliveries(type=1)
        assert len(log) == 1 and log[0]["state"] == "delivered"
        attempts = log[0]["attempts"]
        assert [a["status"] for a in attempts] == [500, 500, 200]
        assert [a.get("next_retry_in") for a in attempts[:2]] == pytest.approx([120 * 0.00002, 1800 * 0.00002])
        bodies = {h["body"] for h in webhook_receiver.received}
        assert len(bodies) == 1  # the same notification (same id, same bytes) every time
        webhook_receiver.script(*([503] * 5))
        order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
        assert sb.wait_webhooks(timeout=10, include_retries=True)
        failed = [d for d in sb.webhook_deliveries(type=1) if d["body"]["data"]["order_id"] == order["id"]]
        assert failed[0]["state"] == "failed" and len(failed[0]["attempts"]) == 5  # push + 4 retries
        # a 401 is a final answer: no retry
        webhook_receiver.script(401)
        order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
        assert sb.wait_webhooks(timeout=10, include_retries=True)
        rejected = [d for d in sb.webhook_deliveries(type=1) if d["body"]["data"]["order_id"] == order["id"]]
        assert rejected[0]["state"] == "rejected" and len(rejected[0]["attempts"]) == 1
    finally:
        env.close()


def test_webhook_fault_knobs_drop_and_duplicate(tiktok: TikTokEnv, webhook_receiver: WebhookReceiver) -> None:
    sb, c = tiktok.sandbox, tiktok.client
    _subscribe(tiktok, webhook_receiver, "ORDER_STATUS_CHANGE")
    sb.set_faults(webhook_drop=1.0)
    sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
    sb.set_faults(webhook_drop=0.0, webhook_duplicate=1.0)
    sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
    assert sb.wait_webhooks(timeout=5, include_retries=True)
    log = sb.webhook_deliveries(type=1)
    assert [d["state"] for d in log[:1]] == ["dropped"]
    dup = list(log[1:])
    assert len(dup) == 2 and dup[0]["tts_notification_id"] == dup[1]["tts_notification_id"]
    assert len(webhook_receiver.wait_for(2)) == 2
    # a held-back notification arrives after a later one
    sb.set_faults(webhook_duplicate=0.0, webhook_reorder=1.0, webhook_reorder_delay=0.3)
    held = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
    sb.set_faults(webhook_reorder=0.0)
    quick = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], paid=False)
    hits = webhook_receiver.wait_for(4)
    arrived = [json.loads(h["body"])["data"]["order_id"] for h in hits[2:]]
    assert arrived == [quick["id"], held["id"]]


# ------------------------------------------------------------------------------------ fulfillment
def _paid_order(tiktok: TikTokEnv, items: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    kw.setdefault("hold", False)
    return tiktok.sandbox.place_order(tiktok.client.shops["US"]["id"], items, **kw)


def _provider(sb: TikTokSandbox, name: str) -> str:
    return next(p["id"] for p in sb.describe()["providers"] if p["name"] == name)


def test_fulfillment_validation_and_partial_shipping(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    order = _paid_order(tiktok, [{"seller_sku": "US-TEE-BLK-M", "quantity": 2}, {"seller_sku": "US-MUG-12"}])
    oid, lines = order["id"], [li["id"] for li in order["line_items"]]
    other = _paid_order(tiktok, [{"seller_sku": "US-MUG-12"}])
    ups, usps = _provider(sb, "UPS"), _provider(sb, "USPS")
    royal_mail = _provider(sb, "Royal Mail")
    path = f"/fulfillment/202309/orders/{oid}/packages"
    good = {"order_line_item_ids": lines[:1], "tracking_number": "1Z999AA10123456784", "shipping_provider_id": ups}
    assert c.err("POST", path, None, {**good, "shipping_provider_id": royal_mail})[1] == 21011022
    assert c.err("POST", path, None, {**good, "tracking_number": "1Z999-AA10123456784"})[1] == 21004012
    assert c.err("POST", path, None, {**good, "tracking_number": "12345"})[1] == 21004015
    assert c.err("POST", path, None, {**good, "order_line_item_ids": [other["line_items"][0]["id"]]})[1] == 21011029
    sb.mark_tracking_invalid("1Z999AA10123456785")
    assert c.err("POST", path, None, {**good, "tracking_number": "1Z999AA10123456785"})[1] == 11028006
    first = c.ok("POST", path, None, good)
    assert first["order_line_item_ids"] == lines[:1]
    assert c.err("POST", path, None, good)[1] == 21008099  # each unit ships once
    assert c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]["status"] == "PARTIALLY_SHIPPING"
    # the rest ships through "ship package" with a self-shipment
    rest = next(p for p in c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]["packages"]
                if p["id"] != first["package_id"])
    c.ok("POST", f"/fulfillment/202309/packages/{rest['id']}/ship", None,
         {"self_shipment": {"tracking_number": "9400111899223100000002", "shipping_provider_id": usps}})
    detail = c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]
    assert detail["status"] == "AWAITING_COLLECTION"
    assert {li["tracking_number"] for li in detail["line_items"]} == {"1Z999AA10123456784", "9400111899223100000002"}
    pkgs = c.ok("POST", "/fulfillment/202309/packages/search", {"page_size": 50}, {"package_status": "PROCESSING"})
    mine = [p for p in pkgs["packages"] if p["orders"][0]["id"] == oid]
    assert len(mine) == 2 and sum(len(p["order_line_item_ids"]) for p in mine) == 3
    pkg = c.ok("GET", f"/fulfillment/202309/packages/{first['package_id']}")
    assert pkg["tracking_number"] == "1Z999AA10123456784" and pkg["shipping_provider_id"] == ups
    # tracking can be corrected while awaiting collection, per package
    c.ok("POST", f"/fulfillment/202309/packages/{first['package_id']}/shipping_info/update", None,
         {"tracking_number": "1Z999AA10123456786", "shipping_provider_id": ups})
    assert c.err("POST", f"/fulfillment/202309/orders/{oid}/shipping_info/update", None,
                 {"tracking_number": "1Z999AA10123456787", "shipping_provider_id": ups})[1] == 21011048
    assert any(s["tracking_number"] == "1Z999AA10123456786" for s in sb.shipments())


def test_split_and_fbt_orders(tiktok: TikTokEnv, webhook_receiver: WebhookReceiver) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    _subscribe(tiktok, webhook_receiver, "PACKAGE_UPDATE")
    order = _paid_order(tiktok, [{"seller_sku": "US-TEE-BLK-M", "quantity": 3}])
    oid, lines = order["id"], [li["id"] for li in order["line_items"]]
    attrs = c.ok("GET", "/fulfillment/202309/orders/split_attributes", {"order_ids": [oid]})["split_attributes"]
    assert attrs == [{"order_id": oid, "can_split": True, "must_split": False}]
    split = c.ok("POST", f"/fulfillment/202309/orders/{oid}/split", None, {"splittable_groups": [
        {"id": "g1", "order_line_item_ids": lines[:1]}, {"id": "g2", "order_line_item_ids": lines[1:]}]})
    assert [p["splittable_group_id"] for p in split["packages"]] == ["g1", "g2"]
    assert len(c.ok("GET", "/order/202507/orders", {"ids": [oid]})["orders"][0]["packages"]) == 2
    fbt = _paid_order(tiktok, [{"seller_sku": "US-HOODIE-FBT", "quantity": 2}], fbt=True)
    assert fbt["fulfillment_type"] == "FULFILLMENT_BY_TIKTOK"
    refused = c.err("POST", f"/fulfillment/202309/orders/{fbt['id']}/packages", None,
                    {"tracking_number": "9400111899223100000003", "shipping_provider_id": _provider(sb, "USPS")})
    assert refused[1] == 21008025
    shipped = sb.ship_fbt_order(fbt["id"])
    assert shipped["status"] == "AWAITING_COLLECTION" and shipped["tracking_number"]
    pkg = c.ok("GET", f"/fulfillment/202309/packages/{shipped['packages'][0]['id']}")
    assert pkg["package_status"] == "PROCESSING" and pkg["tracking_number"] == shipped["tracking_number"]
    docs = [_verify_webhook(tiktok, h) for h in webhook_receiver.wait_for(2)]
    assert [d["type"] for d in docs] == [4, 4]
    by_order = {d["data"]["package_list"][0]["order_id_list"][0]: d["data"] for d in docs}
    assert by_order[oid]["role_type"] == "ROLE_SELLER" and len(by_order[oid]["package_list"]) == 2
    assert by_order[fbt["id"]]["role_type"] == "ROLE_SYSTEM"


# --------------------------------------------------------------------------- cancels and returns
def test_buyer_cancellation_needs_seller_and_releases_stock(tiktok: TikTokEnv,
                                                            webhook_receiver: WebhookReceiver) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    _subscribe(tiktok, webhook_receiver, "CANCELLATION_STATUS_CHANGE", "ORDER_STATUS_CHANGE")
    before = _sku(sb, "US-TEE-WHT-L")
    order = _paid_order(tiktok, [{"seller_sku": "US-TEE-WHT-L", "quantity": 2}])
    cancel = sb.cancel_order(order["id"], role="BUYER")
    assert cancel["cancel_status"] == "CANCELLATION_REQUEST_PENDING" and cancel["cancel_type"] == "BUYER_CANCEL"
    found = c.ok("POST", "/return_refund/202309/cancellations/search", {"page_size": 10},
                 {"order_ids": [order["id"]]})["cancellations"]
    assert [x["cancel_id"] for x in found] == [cancel["cancel_id"]]
    assert D(found[0]["refund_amount"]["refund_total"]) == D(order["payment"]["total_amount"])
    reasons = c.ok("GET", "/return_refund/202309/reject_reasons", {"return_or_cancel_id": cancel["cancel_id"]})
    assert any(r["name"] == "seller_reject_apply_product_has_been_packed" for r in reasons["reasons"])
    c.ok("POST", f"/return_refund/202309/cancellations/{cancel['cancel_id']}/approve")
    assert c.err("POST", f"/return_refund/202309/cancellations/{cancel['cancel_id']}/approve")[1] == 25020003
    detail = c.ok("GET", "/order/202507/orders", {"ids": [order["id"]]})["orders"][0]
    assert detail["status"] == "CANCELLED" and detail["cancellation_initiator"] == "BUYER"
    assert all(li["display_status"] == "CANCELLED" for li in detail["line_items"])
    assert _sku(sb, "US-TEE-WHT-L")["available"] == before["available"]
    assert len(webhook_receiver.wait_for(6)) == 6
    assert _emitted(sb, 11, "cancel_status") == [
        "CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_COMPLETE"]
    assert _emitted(sb, 1, "order_status")[-1] == "CANCEL"  # the webhook page's spelling of CANCELLED


def test_seller_cancel_rules(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    order = _paid_order(tiktok, [{"seller_sku": "US-MUG-12", "quantity": 3}])
    one = [order["line_items"][0]["id"]]
    base = {"order_id": order["id"], "order_line_item_ids": one}
    assert c.err("POST", "/return_refund/202309/cancellations", None,
                 {**base, "cancel_reason": "seller_cancel_reason_wrong_price"})[1] == 25005010
    assert c.err("POST", "/return_refund/202309/cancellations", None,
                 {**base, "cancel_reason": "no_such_reason"})[1] == 25001014
    assert c.err("POST", "/return_refund/202309/cancellations", None,
                 {**base, "cancel_reason": "seller_cancel_unpaid_reason_out_of_stock"})[1] == 25001021
    done = c.ok("POST", "/return_refund/202309/cancellations", None,
                {**base, "cancel_reason": "seller_cancel_reason_out_of_stock"})
    assert done["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
    detail = c.ok("GET", "/order/202507/orders", {"ids": [order["id"]]})["orders"][0]
    assert detail["status"] == "AWAITING_SHIPMENT"
    statuses = {li["id"]: li["display_status"] for li in detail["line_items"]}
    assert statuses[one[0]] == "CANCELLED" and list(statuses.values()).count("CANCELLED") == 1
    assert_order_identities(detail)  # the payment is still what the buyer paid at checkout
    with pytest.raises(SandboxError):
        sb.cancel_order(order["id"], role="BUYER", line_item_ids=[order["line_items"][1]["id"]])


def test_return_and_refund_flow(tiktok: TikTokEnv, webhook_receiver: WebhookReceiver) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    _subscribe(tiktok, webhook_receiver, "RETURN_STATUS_CHANGE")
    order = _paid_order(tiktok, [{"seller_sku": "US-TEE-BLK-M", "quantity": 2}], tax_rate="0.08")
    c.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages", None,
         {"tracking_number": "9400111899223100000009", "shipping_provider_id": _provider(sb, "USPS")})
    with pytest.raises(SandboxError):  # a return needs a delivered order
        sb.request_return(order["id"])
    sb.advance_order(order["id"], to="DELIVERED")
    unit = order["line_items"][0]
    ret = sb.request_return(order["id"], [unit["id"]], return_type="RETURN_AND_REFUND")
    rid = ret["return_id"]
    refund = ret["refund_amount"]
    assert D(refund["refund_subtotal"]) == D(unit["sale_price"])
    assert D(refund["refund_total"]) == D(refund["refund_subtotal"]) + D(refund["refund_shipping_fee"]) + D(
        refund["refund_tax"])
    assert c.err("POST", f"/return_refund/202309/returns/{rid}/approve", None, {"decision": "APPROVE_REFUND"})[1] \
        == 25020004
    c.ok("POST", f"/return_refund/202309/returns/{rid}/approve", None, {"decision": "APPROVE_RETURN"})
    sb.buyer_ships_return(rid)
    c.ok("POST", f"/return_refund/202309/returns/{rid}/approve", None, {"decision": "APPROVE_RECEIVED_PACKAGE"})
    found = c.ok("POST", "/return_refund/202309/returns/search", {"page_size": 10}, {"order_ids": [order["id"]]})
    assert [(r["return_id"], r["return_status"]) for r in found["return_orders"]] == [
        (rid, "RETURN_OR_REFUND_REQUEST_COMPLETE")]
    # a refund-only request on the other unit, rejected with a documented reason
    other = sb.request_return(order["id"], [order["line_items"][1]["id"]], return_type="REFUND")
    reasons = c.ok("GET", "/return_refund/202309/reject_reasons", {"return_or_cancel_id": other["return_id"]})
    reason = reasons["reasons"][0]["name"]
    assert c.err("POST", f"/return_refund/202309/returns/{other['return_id']}/reject", None,
                 {"decision": "REJECT_REFUND", "reject_reason": "made_up"})[1] == 25001014
    c.ok("POST", f"/return_refund/202309/returns/{other['return_id']}/reject", None,
         {"decision": "REJECT_REFUND", "reject_reason": reason})
    expected = ["RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM",
                "RETURN_OR_REFUND_REQUEST_COMPLETE", "RETURN_OR_REFUND_REQUEST_PENDING",
                "REFUND_OR_RETURN_REQUEST_REJECT"]
    docs = [_verify_webhook(tiktok, h) for h in webhook_receiver.wait_for(6)]
    assert sorted(d["data"]["return_status"] for d in docs) == sorted(expected)
    assert _emitted(sb, 12, "return_status") == expected


# ------------------------------------------------------------------------------------ catalog
def test_inventory_update_rules(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    tee = _sku(sb, "US-TEE-BLK-M")
    path = f"/product/202309/products/{tee['product_id']}/inventory/update"
    w1, w2 = sorted(tee["available"])
    assert c.err("POST", path, None, {"skus": [{"id": tee["sku_id"], "inventory": [
        {"warehouse_id": w1, "quantity": 10}]}]})[1] == 12019028  # every warehouse of the SKU is required
    assert c.err("POST", path, None, {"skus": [{"id": tee["sku_id"], "inventory": [  # outside [1, 99,999]
        {"warehouse_id": w1, "quantity": -1}, {"warehouse_id": w2, "quantity": 1}]}]})[1] == 12052055
    c.ok("POST", path, None, {"skus": [{"id": tee["sku_id"], "inventory": [
        {"warehouse_id": w1, "quantity": 42}, {"warehouse_id": w2, "quantity": 1}]}]})
    assert _sku(sb, "US-TEE-BLK-M")["available"] == {w1: 42, w2: 1}
    sb.set_promotion_lock(tee["sku_id"])
    assert c.err("POST", path, None, {"skus": [{"id": tee["sku_id"], "inventory": [
        {"warehouse_id": w1, "quantity": 41}, {"warehouse_id": w2, "quantity": 1}]}]})[1] == 12052393
    c.ok("POST", path, None, {"skus": [{"id": tee["sku_id"], "inventory": [
        {"warehouse_id": w1, "quantity": 50}, {"warehouse_id": w2, "quantity": 1}]}]})
    assert c.err("POST", "/product/202309/products/999/inventory/update", None,
                 {"skus": [{"id": "1", "inventory": [{"quantity": 1}]}]})[1] == 12052032


@pytest.mark.parametrize("tiktok_config", [
    pytest.param(TikTokSandboxConfig(seed=7, webhook_enabled=False), id="strict-default"),
    pytest.param(TikTokSandboxConfig(seed=7, webhook_enabled=False, inventory_zero_quantity=True),
                 id="inventory_zero_quantity")])
def test_inventory_quantity_range_is_the_documented_one_unless_the_knob_allows_zero(
        tiktok: TikTokEnv, tiktok_config: TikTokSandboxConfig) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    tee = _sku(sb, "US-TEE-BLK-M")
    path = f"/product/202309/products/{tee['product_id']}/inventory/update"
    w1, w2 = sorted(tee["available"])

    def update(q1: int, q2: int) -> dict[str, Any]:
        return {"skus": [{"id": tee["sku_id"], "inventory": [{"warehouse_id": w1, "quantity": q1},
                                                             {"warehouse_id": w2, "quantity": q2}]}]}

    # "Valid range: [1, 99,999]": above it is refused either way, with the page's own code
    status, code, message = c.err("POST", path, None, update(100_000, 1))[:3]
    assert code == 12052055 and "99999" in message and "skus[0].inventory[0].quantity" in message
    if tiktok_config.inventory_zero_quantity:
        c.ok("POST", path, None, update(0, 3))
        assert _sku(sb, "US-TEE-BLK-M")["available"] == {w1: 0, w2: 3}
    else:
        assert c.err("POST", path, None, update(0, 3))[1] == 12052055
        assert _sku(sb, "US-TEE-BLK-M")["available"] == tee["available"]  # all or nothing
    # creating a product with zero stock follows the same range
    wh = next(w["id"] for w in c.shops["US"]["detail"]["warehouses"] if w["is_default"] and not w["fbt"])
    img = c.ok("POST", "/product/202309/images/upload", None, None,
               files={"data": ("mug.png", b"\x89PNG fake image bytes", "image/png")})
    body = {"title": "Zero stock mug", "description": "<p>Mug</p>", "category_id": "600010",
            "category_version": "v2", "main_images": [{"uri": img["uri"]}],
            "package_weight": {"unit": "POUND", "value": "0.5"},
            "skus": [{"seller_sku": "ZERO-1", "price": {"amount": "5.00", "currency": "USD"},
                      "inventory": [{"warehouse_id": wh, "quantity": 0}]}]}
    if tiktok_config.inventory_zero_quantity:
        assert c.ok("POST", "/product/202309/products", None, body)["product_id"]
    else:
        assert c.err("POST", "/product/202309/products", None, body)[1] == 12052055


def test_product_create_search_edit_prices_and_status(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    wh = next(w["id"] for w in c.shops["US"]["detail"]["warehouses"] if w["is_default"] and not w["fbt"])
    img = c.ok("POST", "/product/202309/images/upload", None, None,
               files={"data": ("tee.png", b"\x89PNG fake image bytes", "image/png")})
    body = {"title": "Linen Shirt", "description": "<p>Linen</p>", "category_id": "600020", "category_version": "v2",
            "main_images": [{"uri": img["uri"]}], "package_weight": {"unit": "POUND", "value": "0.5"},
            "skus": [{"seller_sku": "US-LINEN-S", "price": {"amount": "29.90", "currency": "USD"},
                      "inventory": [{"warehouse_id": wh, "quantity": 5}]}]}
    assert c.err("POST", "/product/202309/products", None, {**body, "category_version": "v1"})[1] == 12052217
    assert c.err("POST", "/product/202309/products", None, {**body, "category_id": "600002"})[1] == 12052024
    assert c.err("POST", "/product/202309/products", None, {**body, "save_mode": "LATER"})[1] == 12052910
    bad_currency = {**body, "skus": [{**body["skus"][0], "price": {"amount": "29.90", "currency": "GBP"}}]}
    assert c.err("POST", "/product/202309/products", None, bad_currency)[1] == 12052084
    created = c.ok("POST", "/product/202309/products", None, body)
    pid, sku_id = created["product_id"], created["skus"][0]["id"]
    found = c.ok("POST", "/product/202502/products/search", {"page_size": 50}, {"seller_skus": ["US-LINEN-S"]})
    assert [p["id"] for p in found["products"]] == [pid]
    # money is a decimal string on the pages: a JSON number is refused, as is a documented range broken
    as_number = c.err("POST", f"/product/202309/products/{pid}/prices/update", None,
                      {"skus": [{"id": sku_id, "price": {"amount": 24.9, "currency": "USD"}}]})
    assert as_number[1] == 12052910 and "skus[0].price.amount: must be of type string" in as_number[2]
    too_high = c.err("POST", f"/product/202309/products/{pid}/prices/update", None, {"skus": [{
        "id": sku_id, "price": {"amount": "24.90", "currency": "USD"},
        "list_price": {"amount": "9000", "currency": "USD"}}]})
    assert too_high[1] == 12052910 and "list_price.amount: must be within [0.01, 7600]" in too_high[2]
    for text in ("1e999", "-5.00", " 5.00", "NaN"):
        assert c.err("POST", f"/product/202309/products/{pid}/prices/update", None, {"skus": [{
            "id": sku_id, "price": {"amount": text, "currency": "USD"}}]})[1] == 12052073, text
    c.ok("POST", f"/product/202309/products/{pid}/prices/update", None,
         {"skus": [{"id": sku_id, "price": {"amount": "24.90", "currency": "USD"}}]})
    got = c.ok("GET", f"/product/202309/products/{pid}")
    assert got["skus"][0]["price"]["sale_price"] == "24.90" and got["status"] == "ACTIVATE"
    c.ok("POST", f"/product/202509/products/{pid}/partial_edit", None, {"title": "Linen Shirt II"})
    assert c.ok("GET", f"/product/202309/products/{pid}")["title"] == "Linen Shirt II"
    assert c.ok("POST", "/product/202309/products/deactivate", None, {"product_ids": [pid]}) == {}
    again = c.ok("POST", "/product/202309/products/deactivate", None, {"product_ids": [pid]})
    assert again["errors"][0]["code"] == 12052901
    c.ok("POST", "/product/202309/products/activate", None, {"product_ids": [pid]})
    cats = c.ok("GET", "/product/202309/categories", {"category_version": "v2"})["categories"]
    assert any(x["id"] == "600020" and x["is_leaf"] for x in cats)
    attrs = c.ok("GET", "/product/202309/categories/600020/attributes", {"category_version": "v2"})["attributes"]
    assert {a["name"] for a in attrs} >= {"Color", "Size"}
    c.ok("GET", "/product/202309/categories/600020/rules", {"category_version": "v2"})
    assert c.ok("GET", "/product/202309/brands", {"page_size": 10})["total_count"] >= 1
    for w in c.ok("GET", "/logistics/202309/warehouses")["warehouses"]:
        if w["type"] != "SALES_WAREHOUSE":
            continue
        for opt in c.ok("GET", f"/logistics/202309/warehouses/{w['id']}/delivery_options")["delivery_options"]:
            c.ok("GET", f"/logistics/202309/delivery_options/{opt['id']}/shipping_providers")


def test_order_search_filters_sorting_and_pages(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    shop = c.shops["US"]["id"]
    placed = [sb.place_order(shop, [{"seller_sku": "US-MUG-12"}], hold=False, buyer_user_id=f"buyer-{i % 2}")
              for i in range(5)]
    sb.advance_clock(120)
    touched = placed[3]
    sb.cancel_order(touched["id"], role="SYSTEM")
    since = int(sb.now()) - 5
    page1 = c.ok("POST", "/order/202309/orders/search", {"page_size": 2, "sort_field": "create_time",
                                                          "sort_order": "ASC"}, {})
    assert page1["total_count"] == 5 and len(page1["orders"]) == 2 and page1["next_page_token"]
    seen = [o["id"] for o in page1["orders"]]
    token = page1["next_page_token"]
    while token:
        page = c.ok("POST", "/order/202309/orders/search", {"page_size": 2, "sort_field": "create_time",
                                                            "sort_order": "ASC", "page_token": token}, {})
        seen += [o["id"] for o in page["orders"]]
        token = page["next_page_token"]
    assert sorted(seen) == sorted(o["id"] for o in placed) and len(seen) == 5
    changed = c.ok("POST", "/order/202309/orders/search", {"page_size": 50}, {"update_time_ge": since})
    assert [o["id"] for o in changed["orders"]] == [touched["id"]]
    assert changed["orders"][0]["status"] == "CANCELLED"
    buyer = c.ok("POST", "/order/202309/orders/search", {"page_size": 50}, {"buyer_user_id": "buyer-1"})
    assert {o["id"] for o in buyer["orders"]} == {placed[1]["id"], placed[3]["id"]}
    waiting = c.ok("POST", "/order/202309/orders/search", {"page_size": 50}, {"order_status": "AWAITING_SHIPMENT"})
    assert waiting["total_count"] == 4
    assert c.err("POST", "/order/202309/orders/search", {"page_size": 2, "page_token": "garbage!"}, {})[1] != 0


def test_product_create_honours_its_idempotency_key(tiktok: TikTokEnv) -> None:
    """Create Product's documented ``idempotency_key`` (unique within the shop): a repeat creates nothing
    and answers with the product the key created, even with a changed body; another key creates."""
    c = tiktok.client
    wh = next(w["id"] for w in c.shops["US"]["detail"]["warehouses"] if w["is_default"] and not w["fbt"])
    body = {"title": "Wool Scarf", "description": "<p>Wool</p>", "category_id": "600020", "category_version": "v2",
            "main_images": [{"uri": "tos-maliva-i-sbx/scarf"}], "package_weight": {"unit": "POUND", "value": "0.5"},
            "skus": [{"seller_sku": "US-SCARF-1", "price": {"amount": "19.90", "currency": "USD"},
                      "inventory": [{"warehouse_id": wh, "quantity": 5}]}], "idempotency_key": "ttns-k1"}
    first = c.ok("POST", "/product/202309/products", None, body)
    again = c.ok("POST", "/product/202309/products", None, {**body, "title": "Wool Scarf, grey"})
    assert again == first
    found = c.ok("POST", "/product/202502/products/search", {"page_size": 50}, {"seller_skus": ["US-SCARF-1"]})
    assert [p["id"] for p in found["products"]] == [first["product_id"]]
    assert c.ok("GET", f"/product/202309/products/{first['product_id']}")["title"] == "Wool Scarf"
    other = {**body, "idempotency_key": "ttns-k2",
             "skus": [{**body["skus"][0], "seller_sku": "US-SCARF-2"}]}
    assert c.ok("POST", "/product/202309/products", None, other)["product_id"] != first["product_id"]
