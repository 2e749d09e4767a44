"""The endpoint table against the facts digested from the Partner Center pages, the payload
models, and the rate limiter."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from bridge.tiktok import models as m
from bridge.tiktok.endpoints import ENDPOINTS, Endpoint, endpoint
from bridge.tiktok.ratelimit import RateLimiter


def _digest() -> list[dict[str, Any]]:
    raw = resources.files("bridge.sandbox.tiktok").joinpath("digest.json").read_text(encoding="utf-8")
    eps: list[dict[str, Any]] = json.loads(raw)["endpoints"]
    return eps


def _unversioned(path: str) -> str:
    return re.sub(r"^(/[a-z_]+)/\d{6}/", r"\1/V/", path)


@pytest.mark.parametrize("ep", list(ENDPOINTS.values()), ids=lambda e: e.name)
def test_every_endpoint_is_documented_and_on_the_newest_version(ep: Endpoint) -> None:
    facts = {(d["method"], d["path"]): d for d in _digest()}
    doc = facts.get((ep.method, ep.path_template))
    assert doc is not None, f"{ep.name}: {ep.method} {ep.path_template} is not in the specs"
    assert doc["version"] == ep.version
    assert doc["shop_cipher"] == ep.shop_cipher, f"{ep.name}: shop_cipher flag differs from the specs"
    assert doc["content_type"].startswith("multipart") == ep.multipart
    assert sorted(doc["path_params"]) == sorted(ep.path_params)
    newer = [d["version"] for d in _digest() if d["method"] == ep.method
             and _unversioned(d["path"]) == _unversioned(ep.path_template) and d["version"] > ep.version]
    assert not newer, f"{ep.name}: the specs document a newer version {newer}"
    if ep.page_size:
        page = doc["query"].get("page_size", {})
        assert "page_token" in doc["query"]
        assert "range" not in page or page["range"][1] == ep.page_size


def test_issue_endpoints_are_all_in_the_table() -> None:
    needed = {
        "authorization.shops", "events.webhooks.get", "events.webhooks.update", "events.webhooks.delete",
        "orders.search", "orders.detail", "orders.price_detail", "products.search", "products.get",
        "products.create", "products.edit", "products.partial_edit", "products.activate", "products.deactivate",
        "products.inventory.search", "products.inventory.update", "products.prices.update", "products.categories",
        "products.attributes", "products.rules", "products.brands", "products.images.upload",
        "logistics.warehouses", "logistics.delivery_options", "logistics.shipping_providers",
        "fulfillment.mark_package_shipped", "fulfillment.ship_package", "fulfillment.update_shipping_info",
        "fulfillment.packages.search", "fulfillment.packages.get", "fulfillment.split_attributes",
        "fulfillment.split", "returns.cancellations.search", "returns.cancellations.approve",
        "returns.cancellations.reject", "returns.cancellations.create", "returns.search", "returns.approve",
        "returns.reject", "returns.reject_reasons", "finance.statements", "finance.payments",
        "finance.withdrawals", "finance.statement_transactions", "finance.order_transactions",
    }
    assert needed <= set(ENDPOINTS)
    assert endpoint("orders.detail").path_template == "/order/202507/orders"
    assert endpoint("finance.statement_transactions").version == "202501"


def test_path_parameters_are_filled_and_quoted() -> None:
    ep = endpoint("fulfillment.ship_package")
    assert ep.path(package_id="11/22") == "/fulfillment/202309/packages/11%2F22/ship"
    with pytest.raises(ValueError, match="package_id"):
        ep.path()
    with pytest.raises(ValueError, match="shop_cipher"):
        Endpoint("bad", "GET", "/seller/{version}/shops", "202309", shop_cipher=True)
    with pytest.raises(KeyError):
        endpoint("orders.nope")


def test_money_ids_and_times() -> None:
    li = m.LineItem.model_validate({"id": 576461413038785752, "sale_price": "19.99", "seller_discount": "",
                                    "rts_time": 1619611563, "brand_new_field": {"x": 1}})
    assert li.id == "576461413038785752" and li.sale_price == Decimal("19.99") and li.seller_discount == 0
    assert li.rts_time == datetime(2021, 4, 28, 12, 6, 3, tzinfo=UTC)
    assert li.model_extra == {"brand_new_field": {"x": 1}}
    with pytest.raises(ValidationError):
        m.LineItem.model_validate({"id": "1", "sale_price": 19.99})
    with pytest.raises(ValidationError):
        m.LineItem.model_validate({"id": 1.5})
    with pytest.raises(ValidationError):
        m.LineItem.model_validate({"id": "1", "sale_price": "NaN"})
    assert m.parse_time(0) is None and m.parse_time("1700000000") == datetime.fromtimestamp(1700000000, UTC)
    assert m.parse_time(1700000000123) == datetime.fromtimestamp(1700000000, UTC)


def test_order_model_reads_a_documented_detail_payload() -> None:
    raw = {"id": "576461413038785752", "status": "ON_HOLD", "order_type": "PRE_ORDER", "is_on_hold_order": True,
           "fulfillment_type": "FULFILLMENT_BY_TIKTOK", "create_time": 1619611561,
           "payment": {"currency": "USD", "sub_total": "38.00", "total_amount": "40.50", "tax": "2.50"},
           "recipient_address": {"region_code": "US", "district_info": [
               {"address_level_name": "State", "address_name": "California", "address_level": "L1"}]},
           "line_items": [{"id": "a", "sku_id": "S1", "sale_price": "19.00", "item_tax": [{"tax_amount": "1.25"}]},
                          {"id": "b", "sku_id": "S1", "sale_price": "19.00", "item_tax": [{"tax_amount": "1.25"}]}],
           "packages": [{"id": "1152321127278713123"}], "delivery_option_id": "7091146663229654785"}
    o = m.Order.model_validate(raw)
    assert o.on_hold and o.fulfilled_by_tiktok and o.currency == "USD"
    assert o.recipient_address.district("state") == "California"
    assert [li.id for li in o.lines_by_sku()["S1"]] == ["a", "b"] and o.line_items[0].tax == Decimal("1.25")
    assert o.payment.total_amount == Decimal("40.50") and o.packages[0].id == "1152321127278713123"


def test_finance_models_flatten_breakdowns_into_decimals() -> None:
    t = m.StatementTransaction.model_validate({
        "id": "T1", "revenue_amount": "100.00", "fee_tax_amount": "-8.50", "settlement_amount": "91.50",
        "fee_tax_breakdown": {"fee": {"referral_fee_amount": "-6.00", "transaction_fee_amount": "-2.50"},
                              "tax": {"vat_amount": "0"}},
        "shipping_cost_breakdown": {"actual_shipping_fee_amount": "-4.00",
                                    "supplementary_component": {"fbt_shipping_cost_amount": "-1.00"}},
    })
    assert t.fee_tax_breakdown.fee == {"referral_fee_amount": Decimal("-6.00"),
                                       "transaction_fee_amount": Decimal("-2.50")}
    assert t.shipping_cost_breakdown["supplementary_component.fbt_shipping_cost_amount"] == Decimal("-1.00")
    assert t.revenue_amount + t.fee_tax_amount == t.settlement_amount


def test_package_detail_and_token_grant() -> None:
    p = m.Package.from_detail({"package_id": "P1", "package_status": "PROCESSING", "order_line_item_ids": [1, 2]})
    assert (p.id, p.status, p.order_line_item_ids) == ("P1", "PROCESSING", ["1", "2"])
    g = m.TokenGrant.model_validate({"access_token": "TTP_a", "refresh_token": "TTP_r",
                                     "access_token_expire_in": 1700000000, "open_id": "o"})
    assert g.access_token_expire_in == datetime.fromtimestamp(1700000000, UTC)
    assert "TTP_a" not in repr(g) and "TTP_a" not in str(g)
    a = m.Attribute.model_validate({"id": "1", "is_requried": True})
    assert a.is_required


class FakeTicker:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def test_rate_limiter_is_per_shop_and_api_and_blocks_when_empty() -> None:
    t = FakeTicker()
    rl = RateLimiter(2, ticker=t)
    assert rl.acquire("A", "orders.search") == 0 and rl.acquire("A", "orders.search") == 0
    assert rl.acquire("A", "orders.search") == pytest.approx(0.5)
    assert rl.acquire("A", "orders.detail") == 0  # another API has its own bucket
    assert rl.acquire("B", "orders.search") == 0  # another shop too
    assert not rl.try_acquire("A", "orders.search")
    t.now += 1.0
    assert rl.try_acquire("A", "orders.search")


def test_rate_limiter_spreads_concurrent_callers() -> None:
    t = FakeTicker()
    rl = RateLimiter(50, burst=1, ticker=t)
    waits: list[float] = []
    lock = threading.Lock()

    def go() -> None:
        w = rl._reserve(("S", "x"))
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # one token free, then one every 20 ms: each caller gets its own slot
    assert sorted(round(w, 4) for w in waits) == [round(i * 0.02, 4) for i in range(20)]
    with pytest.raises(ValueError):
        RateLimiter(0)
