"""The control API under /_sandbox over HTTP: scenario building, bulk orders, clock, faults,
counters and the refusal shape."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import TikTokEnv


def _post(env: TikTokEnv, path: str, body: dict | None = None) -> requests.Response:
    return requests.post(env.url + "/_sandbox" + path, json=body or {}, timeout=10)


def _get(env: TikTokEnv, path: str, **params: str) -> requests.Response:
    return requests.get(env.url + "/_sandbox" + path, params=params, timeout=10)


def test_scenario_through_the_control_api(tiktok: TikTokEnv) -> None:
    shop = _post(tiktok, "/shops", {"name": "Control Shop", "region": "US", "fbt": True}).json()
    wh = next(w for w in shop["warehouses"] if w["type"] == "SALES_WAREHOUSE" and not w["fbt"])
    product = _post(tiktok, "/products", {"shop_id": shop["id"], "title": "Widget", "skus": [
        {"seller_sku": "W-1", "price": "9.99", "inventory": {wh["id"]: 3}}]}).json()
    sku_id = product["skus"][0]["id"]
    bulk = _post(tiktok, "/orders/bulk", {"orders": [
        {"shop_id": shop["id"], "items": [{"sku_id": sku_id, "quantity": 1}], "hold": False} for _ in range(5)]}).json()
    assert bulk["placed_count"] == 3 and bulk["refused_count"] == 2
    assert {r["reason"] for r in bulk["refused"]} == {"insufficient_stock"}
    refused = _post(tiktok, "/orders", {"shop_id": shop["id"], "items": [{"sku_id": sku_id}]})
    assert refused.status_code == 409 and refused.json()["error"] == "insufficient_stock"
    assert _post(tiktok, "/stock", {"sku_id": sku_id, "warehouse_id": wh["id"], "quantity": 10}).status_code == 200
    order = _post(tiktok, "/orders", {"shop_id": shop["id"], "items": [{"sku_id": sku_id, "quantity": 2}]}).json()
    assert order["status"] == "ON_HOLD" and len(order["line_items"]) == 2
    assert _post(tiktok, f"/orders/{order['id']}/release_hold").json()["status"] == "AWAITING_SHIPMENT"
    listed = _get(tiktok, "/orders", shop_id=shop["id"]).json()
    assert listed["total"] == 4
    inv = {r["seller_sku"]: r for r in _get(tiktok, "/inventory", shop_id=shop["id"]).json()}
    assert inv["W-1"]["available"][wh["id"]] == 10 - 2 and inv["W-1"]["committed"][wh["id"]] == 3 + 2
    assert _get(tiktok, "/orders/0").status_code == 404
    assert _post(tiktok, f"/orders/{order['id']}/advance").status_code == 409  # the seller must ship first
    assert _post(tiktok, "/orders", {"shop_id": shop["id"]}).status_code == 400
    token = _post(tiktok, "/tokens", {"app_key": "sandbox_app_key", "shop_id": shop["id"]}).json()
    assert token["access_token"].startswith("TTP_")
    before = _get(tiktok, "/clock").json()["now"]
    after = _post(tiktok, "/clock/advance", {"seconds": 86400}).json()["now"]
    assert after - before >= 86400
    faults = _post(tiktok, "/faults", {"latency_ms": 1, "webhook_drop": 0.5}).json()
    assert faults["latency_ms"] == 1 and faults["webhook_drop"] == 0.5
    assert _post(tiktok, "/faults", {"rate_429": 2}).status_code == 400
    assert _post(tiktok, "/faults", {"nonsense": 1}).status_code == 400


def test_counters_count_api_calls_per_endpoint(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    _post(tiktok, "/counters/reset")
    for _ in range(3):
        c.ok("GET", "/logistics/202309/warehouses")
    c.err("GET", "/logistics/202309/warehouses", secret="wrong")
    counters = _get(tiktok, "/counters").json()["api"]["GET /logistics/202309/warehouses"]
    assert counters == {"calls": 4, "code_0": 3, "code_106001": 1}


def test_state_and_reset(tiktok: TikTokEnv) -> None:
    state = _get(tiktok, "/state").json()
    assert {s["region"] for s in state["shops"]} == {"US", "GB"}
    _post(tiktok, "/shops", {"name": "Extra", "region": "GB"})
    assert len(_get(tiktok, "/state").json()["shops"]) == 3
    reset = _post(tiktok, "/reset", {"seed": 99}).json()
    assert len(reset["shops"]) == 2


def test_get_order_detail_can_be_made_to_leave_out_an_order_the_rest_of_the_api_still_knows(tiktok: TikTokEnv) -> None:
    """The knob the settlement tests use (``omit_from_order_detail``): Get Order Detail answers without the
    order, Get Price Detail still serves it; ``omit: false`` brings it back."""
    c, shop = tiktok.client, tiktok.client.shops["US"]["id"]
    kept, left_out = (tiktok.sandbox.place_order(shop, [{"seller_sku": "US-MUG-12", "quantity": 1}], hold=False)
                      for _ in range(2))
    assert _post(tiktok, f"/orders/{left_out['id']}/omit_from_detail").status_code == 200
    got = c.ok("GET", "/order/202507/orders", {"ids": [kept["id"], left_out["id"]]})["orders"]
    assert [o["id"] for o in got] == [kept["id"]]
    assert c.ok("GET", f"/order/202407/orders/{left_out['id']}/price_detail")["line_items"]
    assert _post(tiktok, f"/orders/{left_out['id']}/omit_from_detail", {"omit": False}).status_code == 200
    got = c.ok("GET", "/order/202507/orders", {"ids": [kept["id"], left_out["id"]]})["orders"]
    assert sorted(o["id"] for o in got) == sorted([kept["id"], left_out["id"]])
    assert _post(tiktok, "/orders/0/omit_from_detail").status_code == 404
