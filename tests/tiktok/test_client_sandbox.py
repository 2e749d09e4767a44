"""The client against the TikTok Shop sandbox over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bridge.bootstrap import App
from bridge.errors import FatalError, RetriableError
from bridge.tiktok.client import TikTokError
from tests.tiktok.conftest import Sandbox, Sleeps, make_settings, wire_fast


def _place(sandbox: Sandbox, shop_id: str, items: list[dict[str, object]], **opts: object) -> str:
    order = sandbox.sb.place_order(shop_id, items, hold=False, **opts)
    return str(order["id"])


def test_orders_search_and_detail(container: App, sandbox: Sandbox, us_shop: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    oid = _place(sandbox, us_shop, [{"seller_sku": "US-TEE-BLK-M", "quantity": 2}, {"seller_sku": "US-MUG-12"}],
                 shipping_fee="5.00", tax_rate="0.0725")
    shop = container.tiktok().shop(us_shop)
    found = list(shop.orders.search(update_time_ge=since))
    assert oid in [o.id for o in found]
    (order,) = shop.orders.get_details([oid])
    assert order.id == oid and order.status == "AWAITING_SHIPMENT"
    assert len(order.line_items) == 3  # one line item per unit
    by_sku = order.lines_by_sku()
    assert sorted(len(v) for v in by_sku.values()) == [1, 2]
    assert all(isinstance(li.sale_price, Decimal) for li in order.line_items)
    assert order.payment.currency == "USD" and isinstance(order.payment.total_amount, Decimal)
    assert order.payment.total_amount == order.payment.sub_total + order.payment.shipping_fee + order.payment.tax
    assert order.create_time is not None and order.create_time.tzinfo is not None
    assert order.fulfillment_type == "FULFILLMENT_BY_SELLER" and not order.fulfilled_by_tiktok
    assert order.recipient_address.region_code == "US" and order.packages
    assert order.delivery_option_id and order.warehouse_id
    # every call is recorded for the console's timelines, without secrets in the path
    calls = container.store.calls.recent(limit=50)
    assert {"orders.search", "orders.detail"} <= {c["operation"] for c in calls}
    assert all("sign=" not in c["path"] and "access_token" not in c["path"] for c in calls)


def test_pagination_and_detail_batching(container: App, sandbox: Sandbox, us_shop: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    placed = sandbox.sb.place_orders([{"shop_id": us_shop, "items": [{"seller_sku": "US-MUG-12"}], "hold": False}
                                      for _ in range(53)])
    ids = [str(i) for i in placed["orders"]]
    assert len(ids) == 53
    shop = container.tiktok().shop(us_shop)
    before = max(c["id"] for c in container.store.calls.recent(limit=1))
    found = [o.id for o in shop.orders.search(update_time_ge=since, page_size=20)]
    assert sorted(found) == sorted(ids)  # three pages, nothing lost or repeated
    details = shop.orders.get_details(list(reversed(ids)) + ids[:3])
    assert [o.id for o in details] == list(reversed(ids))  # the order asked for, duplicates once
    ops = [c["operation"] for c in container.store.calls.recent(limit=1000) if c["id"] > before]
    assert ops.count("orders.search") == 3 and ops.count("orders.detail") == 2  # 50 + 3


def test_products_inventory_and_prices(container: App, sandbox: Sandbox, us_shop: str) -> None:
    shop = container.tiktok().shop(us_shop)
    products = list(shop.products.search(status="ACTIVATE"))
    mug = next(p for p in products if any(s.seller_sku == "US-MUG-12" for s in p.skus))
    full = shop.products.get(mug.id)
    sku = full.skus[0]
    assert sku.price.sale_price == Decimal("12.50") and sku.price.currency == "USD"
    wh = sku.inventory[0].warehouse_id
    res = shop.products.update_inventory(mug.id, {sku.id: {wh: 77}})
    assert res.ok
    (rec,) = shop.products.inventory(product_ids=[mug.id])
    assert rec.skus[0].warehouse_inventory[0].available_quantity == 77
    shop.products.update_prices(mug.id, {sku.id: Decimal("13.75")}, "USD")
    assert shop.products.get(mug.id).skus[0].price.sale_price == Decimal("13.75")
    whs = shop.logistics.warehouses()
    assert any(w.type == "SALES_WAREHOUSE" for w in whs)
    cats = shop.products.categories(category_version="v2")
    leaf = next(c for c in cats if c.is_leaf)
    assert isinstance(shop.products.attributes(leaf.id, category_version="v2"), list)
    shop.products.rules(leaf.id, category_version="v2")


def test_fulfillment_mark_shipped_and_package_detail(container: App, sandbox: Sandbox, us_shop: str) -> None:
    shop = container.tiktok().shop(us_shop)
    oid = _place(sandbox, us_shop, [{"seller_sku": "US-VASE-01"}])
    (order,) = shop.orders.get_details([oid])
    options = shop.logistics.delivery_options(order.warehouse_id)
    assert order.delivery_option_id in {d.id for d in options}
    providers = shop.logistics.shipping_providers(order.delivery_option_id)
    usps = next(p for p in providers if p.name == "USPS")
    result = shop.fulfillment.mark_package_shipped(oid, tracking_number="9400111899223197428490",
                                                   shipping_provider_id=usps.id)
    assert result.package_id
    pkg = shop.fulfillment.get_package(result.package_id)
    assert pkg.id == result.package_id and pkg.tracking_number == "9400111899223197428490"
    assert shop.orders.get(oid).status in ("AWAITING_COLLECTION", "IN_TRANSIT")  # type: ignore[union-attr]
    # a business refusal is fatal with TikTok's code, never retried
    with pytest.raises(TikTokError) as err:
        shop.fulfillment.mark_package_shipped(oid, tracking_number="not-a-tracking-number",
                                              shipping_provider_id=usps.id)
    assert err.value.code and err.value.code != 0


def test_finance_statements_and_transactions(container: App, sandbox: Sandbox, us_shop: str) -> None:
    shop = container.tiktok().shop(us_shop)
    oid = _place(sandbox, us_shop, [{"seller_sku": "US-TEE-WHT-L", "quantity": 2}], shipping_fee="4.00")
    (order,) = shop.orders.get_details([oid])
    provider = shop.logistics.shipping_providers(order.delivery_option_id)[0]
    pattern_ok = {"USPS": "9400111899223197428491", "UPS": "1Z999AA10123456784", "FedEx": "123456789012"}
    shop.fulfillment.mark_package_shipped(oid, tracking_number=pattern_ok[provider.name],
                                          shipping_provider_id=provider.id)
    sandbox.sb.advance_order(oid, to="COMPLETED")
    tomorrow = datetime.fromtimestamp(sandbox.sb.now(), UTC).date() + timedelta(days=1)
    sandbox.sb.generate_statements(tomorrow.isoformat(), shop_id=us_shop)
    (statement,) = list(shop.finance.statements())
    assert statement.statement_time is not None and statement.statement_time.date() == tomorrow
    txs = shop.finance.statement_transactions(statement.id)
    assert txs.transactions and sum(t.settlement_amount for t in txs.transactions) == statement.settlement_amount
    for t in txs.transactions:
        assert t.revenue_amount + t.fee_tax_amount + t.shipping_cost_amount + t.adjustment_amount == \
            t.settlement_amount
    assert statement.revenue_amount + statement.fee_amount + statement.adjustment_amount + \
        statement.shipping_cost_amount == statement.settlement_amount
    by_order = shop.finance.order_transactions(oid)
    assert by_order.order_id == oid and by_order.settlement_amount == sum(
        t.settlement_amount for t in txs.transactions if t.order_id == oid)


def test_wrong_secret_is_refused_106001_fatal(sqlite_url: str, sandbox: Sandbox, container: App,
                                             us_shop: str) -> None:
    bad = make_settings(sqlite_url, sandbox, tiktok_app_secret="not-the-secret")
    # same store (tokens and cipher are right), wrong app secret
    from bridge.bootstrap import build

    c2 = build(bad, areas=())
    c2.store.shops._box = container.store.shops.box  # the same database, so the same encryption key
    tiktok = wire_fast(c2).tiktok()
    with pytest.raises(FatalError) as err:
        tiktok.shop(us_shop).authorized_shops()
    assert isinstance(err.value, TikTokError) and err.value.code == 106001
    assert "sign" in str(err.value).lower()
    ops = [(c["operation"], c["outcome"]) for c in c2.store.calls.recent(limit=5)]
    assert ops[0] == ("authorization.shops", "fatal") and len(ops) >= 1
    c2.close()


def test_429_retried_with_backoff_then_success(container: App, sandbox: Sandbox, us_shop: str,
                                               sleeps: Sleeps) -> None:
    shop = container.tiktok().shop(us_shop)
    sandbox.sb.set_faults(per_endpoint={"GET /logistics/202309/warehouses": {"rate_429": 1.0}})
    with pytest.raises(RetriableError) as err:
        shop.logistics.warehouses()
    assert err.value.evidence.code == "36009002"
    assert len(sleeps.calls) == 3  # four attempts, three backoffs, each longer than the last
    assert sleeps.calls == sorted(sleeps.calls) and sleeps.calls[0] > 0
    sandbox.sb.set_faults(per_endpoint={})
    assert shop.logistics.warehouses()


def test_sandbox_rate_limit_recovers_with_real_backoff(container: App, sandbox: Sandbox,
                                                      us_shop: str) -> None:
    tiktok = wire_fast(container, sleep=__import__("time").sleep, backoff_base=0.2).tiktok()
    sandbox.sb.set_faults(per_endpoint={"GET /logistics/202309/warehouses": {"qps": 2}})
    shop = tiktok.shop(us_shop)
    for _ in range(4):  # beyond 2 QPS: the sandbox answers 429 and the client backs off and succeeds
        assert shop.logistics.warehouses()
    outcomes = [c["outcome"] for c in container.store.calls.recent(limit=20) if c["operation"] ==
                "logistics.warehouses"]
    assert "retry" in outcomes and outcomes.count("ok") == 4


def test_expired_token_refreshes_once_then_succeeds(container: App, sandbox: Sandbox, us_shop: str) -> None:
    before = container.store.shops.tokens(us_shop)
    assert before is not None
    assert sandbox.sb.expire_token(shop_id=us_shop) >= 1
    shop = container.tiktok().shop(us_shop)
    assert shop.logistics.warehouses()
    after = container.store.shops.tokens(us_shop)
    assert after is not None and after.access_token != before.access_token
    ops = [(c["operation"], c["outcome"], c["code"]) for c in reversed(container.store.calls.recent(limit=3))]
    assert ops == [("logistics.warehouses", "refresh_token", "105002"), ("token.refresh", "ok", "0"),
                   ("logistics.warehouses", "ok", "0")]
    assert any(a["action"] == "shop.token_refreshed" for a in container.store.audit.list())


def test_revoked_token_is_fatal_not_refreshed(container: App, sandbox: Sandbox, us_shop: str) -> None:
    sandbox.sb.revoke_token(shop_id=us_shop)
    with pytest.raises(TikTokError) as err:
        container.tiktok().shop(us_shop).authorized_shops()
    assert err.value.code == 105001


def test_shop_cipher_only_where_required(container: App, sandbox: Sandbox, us_shop: str) -> None:
    shop = container.tiktok().shop(us_shop)
    # the sandbox refuses shop_cipher on /authorization and requires it on shop APIs
    assert [s.id for s in shop.authorized_shops()] == [us_shop]
    assert shop.events.list() == []


def test_facade_orders_validate_as_the_flows_domain_orders(container: App, sandbox: Sandbox,
                                                           us_shop: str) -> None:
    """``bridge.tiktok.adapters.orders`` turns the facade's orders into ``bridge.domain.tiktok.Order`` by
    ``model_dump``; that must keep working for a real order (taxes, packages, address …)."""
    from bridge.domain.tiktok import Order as DomainOrder

    oid = _place(sandbox, us_shop, [{"seller_sku": "US-TEE-BLK-M", "quantity": 2}], tax_rate="0.0725",
                 shipping_fee="3.00")
    (order,) = container.tiktok().shop(us_shop).orders.get_details([oid])
    assert order.line_items[0].item_tax and order.line_items[0].item_tax[0].rate == Decimal("0.0725")
    domain = DomainOrder.model_validate(order.model_dump())
    assert domain.id == oid and domain.payment.total_amount == order.payment.total_amount
    assert [li.id for li in domain.line_items] == [li.id for li in order.line_items]
    assert domain.update_time == order.update_time
