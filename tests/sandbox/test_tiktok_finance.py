"""Finance in the TikTok sandbox: daily statements whose every transaction line (and SKU line)
obeys the documented formulas, statements that sum to payments, refunds and adjustments settled in
later statements, and re-issued statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.sandbox.tiktok import TikTokSandboxConfig
from tests.sandbox.conftest import TikTokEnv

D = Decimal
MONEY_RE_PLACES = D("0.01")


@pytest.fixture
def tiktok_config() -> TikTokSandboxConfig:
    # settle at delivery so a refund can land after settlement (both paths are exercised)
    return TikTokSandboxConfig(seed=5, webhook_time_scale=0.0001, settle_on="DELIVERED", tick_interval=0.05,
                               webhook_loopback_http=True)


def _d(value: str) -> Decimal:
    assert isinstance(value, str)
    out = D(value)
    assert out == out.quantize(MONEY_RE_PLACES), value
    return out


def _sum(tree: dict[str, Any], skip: tuple[str, ...] = ()) -> Decimal:
    return sum((_d(v) for k, v in tree.items() if k not in skip), D(0))


def check_line(line: dict[str, Any]) -> dict[str, Decimal]:
    """The documented identities, with signed amounts (deductions negative)."""
    revenue = _d(line["revenue_amount"])
    shipping = _d(line["shipping_cost_amount"])
    fee_tax = _d(line.get("fee_tax_amount", line.get("fee_and_tax_amount", "0")))
    adjustment = _d(line.get("adjustment_amount", "0.00"))
    assert revenue == _sum(line["revenue_breakdown"])
    assert shipping == _sum(line["shipping_cost_breakdown"], skip=("supplementary_component",))
    assert fee_tax == _sum(line["fee_tax_breakdown"]["fee"]) + _sum(line["fee_tax_breakdown"]["tax"])
    assert _d(line["settlement_amount"]) == revenue + shipping + fee_tax + adjustment
    rb = line["revenue_breakdown"]
    assert _d(rb["subtotal_before_discount_amount"]) >= 0 and _d(rb["seller_discount_amount"]) <= 0
    assert _d(rb["refund_subtotal_before_discount_amount"]) <= 0 and _d(rb["seller_discount_refund_amount"]) >= 0
    return {"revenue": revenue, "shipping": shipping, "fee_tax": fee_tax, "adjustment": adjustment,
            "settlement": _d(line["settlement_amount"])}


def _transactions(c: Any, statement_id: str, region: str) -> dict[str, Any]:
    first = c.ok("GET", f"/finance/202501/statements/{statement_id}/statement_transactions",
                 {"sort_field": "order_create_time", "page_size": 2}, region=region)
    rows = list(first["transactions"])
    token = first["next_page_token"]
    while token:
        page = c.ok("GET", f"/finance/202501/statements/{statement_id}/statement_transactions",
                    {"sort_field": "order_create_time", "page_size": 2, "page_token": token}, region=region)
        rows += page["transactions"]
        token = page["next_page_token"]
    assert len(rows) == first["total_count"]
    first["transactions"] = rows
    return first


def check_statement(c: Any, statement: dict[str, Any], region: str = "US") -> dict[str, Any]:
    doc = _transactions(c, statement["id"], region)
    totals = {"revenue": D(0), "shipping": D(0), "fee_tax": D(0), "adjustment": D(0)}
    for tx in doc["transactions"]:
        t = check_line(tx)
        for k in totals:
            totals[k] += t[k]
        if tx["type"] == "ORDER":
            assert tx["order_id"] and _d(tx["adjustment_amount"]) == 0
            sup = tx["supplementary_component"]
            paid, refunded = _d(sup["sales_tax_payment_amount"]), _d(sup["sales_tax_refund_amount"])
            assert _d(sup["sales_tax_amount"]) == paid - refunded
            fee = tx["fee_tax_breakdown"]["fee"]
            if _d(tx["revenue_breakdown"]["subtotal_before_discount_amount"]) > 0:
                assert all(_d(v) <= 0 for v in fee.values()), fee
        else:
            assert tx["adjustment_id"] and _d(tx["settlement_amount"]) == _d(tx["adjustment_amount"])
    b = doc["total_settlement_breakdown"]
    assert _d(b["total_revenue_amount"]) == totals["revenue"]
    assert _d(b["total_shipping_cost_amount"]) == totals["shipping"]
    assert _d(b["total_fee_tax_amount"]) == totals["fee_tax"]
    assert _d(b["total_adjustment_amount"]) == totals["adjustment"]
    assert _d(doc["total_settlement_amount"]) == _sum(b)
    assert _d(doc["payable_amount"]) == _d(doc["total_settlement_amount"]) + _d(doc["total_reserve_amount"])
    # the 202309 statement list agrees with the 202501 transactions
    assert _d(statement["settlement_amount"]) == _d(doc["total_settlement_amount"])
    parts = ("net_sales_amount", "shipping_cost_amount", "fee_amount", "adjustment_amount")
    assert _d(statement["settlement_amount"]) == sum(_d(statement[p]) for p in parts)
    return doc


def _ship_and_deliver(tiktok: TikTokEnv, order: dict[str, Any], tracking: str) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    usps = next(p["id"] for p in sb.describe()["providers"] if p["name"] == "USPS")
    c.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages", None,
         {"tracking_number": tracking, "shipping_provider_id": usps})
    sb.advance_order(order["id"], to="DELIVERED")


def test_statements_transactions_payments_obey_the_formulas(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    us = c.shops["US"]["id"]
    a = sb.place_order(us, [{"seller_sku": "US-TEE-BLK-M", "quantity": 2}, {"seller_sku": "US-MUG-12"}],
                       seller_discount="3.00", platform_discount="2.00", shipping_fee="5.99",
                       shipping_fee_platform_discount="1.00", tax_rate="0.0825", hold=False)
    b = sb.place_order(us, [{"seller_sku": "US-VASE-01", "quantity": 2}], tax_rate="0.05", hold=False)
    fbt = sb.place_order(us, [{"seller_sku": "US-HOODIE-FBT", "quantity": 2}], fbt=True, hold=False)
    cancelled = sb.place_order(us, [{"seller_sku": "US-MUG-12"}], hold=False)
    pending = sb.place_order(us, [{"seller_sku": "US-MUG-12"}], hold=False)
    _ship_and_deliver(tiktok, a, "9400111899223100000101")
    _ship_and_deliver(tiktok, b, "9400111899223100000102")
    sb.ship_fbt_order(fbt["id"])
    sb.advance_order(fbt["id"], to="DELIVERED")
    sb.cancel_order(cancelled["id"], role="SYSTEM")
    ret = sb.request_return(b["id"], [b["line_items"][0]["id"]], return_type="REFUND")
    c.ok("POST", f"/return_refund/202309/returns/{ret['return_id']}/approve", None, {"decision": "APPROVE_REFUND"})
    sb.add_adjustment(us, "-4.50", type="SHIPPING_FEE_ADJUSTMENT", order_id=a["id"])
    day1 = (datetime.fromtimestamp(sb.now(), tz=UTC) + timedelta(days=1)).date()
    made = sb.generate_statements(day1.isoformat(), shop_id=us)
    assert len(made) == 1
    listed = c.ok("GET", "/finance/202309/statements", {"sort_field": "statement_time"})["statements"]
    assert [s["id"] for s in listed] == [made[0]["id"]]
    assert listed[0]["statement_time"] % 86400 == 0  # 00:00 UTC
    doc = check_statement(c, listed[0])
    by_order = {t["order_id"]: t for t in doc["transactions"] if t["type"] == "ORDER"}
    assert set(by_order) == {a["id"], b["id"], fbt["id"]}  # not the cancelled one, not the undelivered one
    assert pending["id"] not in by_order
    adj = [t for t in doc["transactions"] if t["type"] == "SHIPPING_FEE_ADJUSTMENT"]
    assert len(adj) == 1 and adj[0]["adjustment_order_id"] == a["id"] and adj[0]["adjustment_amount"] == "-4.50"
    # order A: revenue is what the seller sold for (platform discounts are TikTok's), fees are deductions
    ta = by_order[a["id"]]
    pay_a = a["payment"]
    assert _d(ta["revenue_amount"]) == _d(pay_a["original_total_product_price"]) - _d(pay_a["seller_discount"])
    assert _d(ta["shipping_cost_breakdown"]["customer_paid_shipping_fee_amount"]) == _d(pay_a["shipping_fee"])
    assert _d(ta["fee_tax_breakdown"]["fee"]["referral_fee_amount"]) < 0
    assert _d(ta["supplementary_component"]["customer_payment_amount"]) == _d(pay_a["total_amount"])
    # order B was refunded (one of two units) before it settled
    tb = by_order[b["id"]]
    unit = b["line_items"][0]
    assert _d(tb["revenue_breakdown"]["refund_subtotal_before_discount_amount"]) == -_d(unit["original_price"])
    assert _d(tb["fee_tax_breakdown"]["fee"]["refund_administration_fee_amount"]) < 0
    # FBT pays the fulfillment fee
    assert _d(by_order[fbt["id"]]["shipping_cost_breakdown"]["actual_shipping_fee_amount"]) < 0
    # SKU-level transactions add up to the order line
    for oid, line in by_order.items():
        per_order = c.ok("GET", f"/finance/202501/orders/{oid}/statement_transactions")
        sku_totals = [check_line(s) for s in per_order["sku_transactions"]]
        assert sum(t["settlement"] for t in sku_totals) == _d(line["settlement_amount"]) == _d(
            per_order["settlement_amount"])
        assert _d(per_order["fee_and_tax_amount"]) == _d(line["fee_tax_amount"])
        assert _d(per_order["settlement_amount"]) == (_d(per_order["revenue_amount"])
                                                      + _d(per_order["shipping_cost_amount"])
                                                      + _d(per_order["fee_and_tax_amount"]))
        assert all(s["statement_id"] == listed[0]["id"] for s in per_order["sku_transactions"])
    payments = c.ok("GET", "/finance/202309/payments", {"sort_field": "create_time"})["payments"]
    assert len(payments) == 1 and payments[0]["id"] == listed[0]["payment_id"]
    p = payments[0]
    assert _d(p["settlement_amount"]["value"]) == _d(listed[0]["settlement_amount"])
    assert _d(p["amount"]["value"]) == _d(p["settlement_amount"]["value"]) + _d(p["reserve_amount"]["value"])
    settles = c.ok("GET", "/finance/202309/withdrawals", {"types": ["SETTLE"]})["withdrawals"]
    assert [_d(w["amount"]) for w in settles] == [_d(p["amount"]["value"])]
    with pytest.raises(Exception, match="already exists"):
        sb.generate_statements(day1.isoformat(), shop_id=us)

    # day 2: a refund after settlement and the re-issue of day 1
    sb.advance_clock(86400)
    late = sb.request_return(a["id"], [a["line_items"][0]["id"]], return_type="REFUND")
    c.ok("POST", f"/return_refund/202309/returns/{late['return_id']}/approve", None, {"decision": "APPROVE_REFUND"})
    day2 = day1 + timedelta(days=1)
    sb.generate_statements(day2.isoformat(), shop_id=us)
    listed = c.ok("GET", "/finance/202309/statements", {"sort_field": "statement_time", "sort_order": "DESC"})
    second = listed["statements"][0]
    doc2 = check_statement(c, second)
    assert [t["order_id"] for t in doc2["transactions"]] == [a["id"]]
    refund_line = doc2["transactions"][0]
    assert _d(refund_line["settlement_amount"]) < 0
    assert _d(refund_line["revenue_breakdown"]["subtotal_before_discount_amount"]) == 0
    assert _d(refund_line["fee_tax_breakdown"]["fee"]["referral_fee_amount"]) > 0  # the fee comes back …
    assert _d(refund_line["fee_tax_breakdown"]["fee"]["refund_administration_fee_amount"]) < 0  # … less the admin fee
    per_order = c.ok("GET", f"/finance/202501/orders/{a['id']}/statement_transactions")
    assert {s["statement_id"] for s in per_order["sku_transactions"]} == {listed["statements"][1]["id"], second["id"]}

    before = _d(listed["statements"][1]["settlement_amount"])
    sb.reissue_statement(listed["statements"][1]["id"], fee_delta="-1.25")
    reissued = c.ok("GET", "/finance/202309/statements", {"sort_field": "statement_time"})["statements"][0]
    assert _d(reissued["settlement_amount"]) == before - D("1.25")
    check_statement(c, reissued)
    payments = {p["id"]: p for p in c.ok("GET", "/finance/202309/payments", {"sort_field": "create_time"})["payments"]}
    assert _d(payments[reissued["payment_id"]]["settlement_amount"]["value"]) == _d(reissued["settlement_amount"])


def test_gb_statement_uses_commission(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    gb = c.shops["GB"]["id"]
    order = sb.place_order(gb, [{"seller_sku": "GB-MUG-12", "quantity": 3}], shipping_fee="2.99", hold=False)
    rm = next(p["id"] for p in sb.describe()["providers"] if p["name"] == "Royal Mail")
    c.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages", None,
         {"tracking_number": "AB123456789GB", "shipping_provider_id": rm}, region="GB")
    sb.advance_order(order["id"], to="COMPLETED")
    day = (datetime.fromtimestamp(sb.now(), tz=UTC) + timedelta(days=1)).date()
    sb.generate_statements(day, shop_id=gb)
    stmt = c.ok("GET", "/finance/202309/statements", {"sort_field": "statement_time"}, region="GB")["statements"][0]
    assert stmt["currency"] == "GBP"
    txs = check_statement(c, stmt, region="GB")["transactions"]
    assert len(txs) == 1
    line = txs[0]
    assert _d(line["fee_tax_breakdown"]["fee"]["platform_commission_amount"]) == -(
        _d(order["payment"]["sub_total"]) * D("0.09")).quantize(D("0.01"))
