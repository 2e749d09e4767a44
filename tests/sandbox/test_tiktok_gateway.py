"""The TikTok sandbox gateway: signing vectors, signature / timestamp / token / shop_cipher checks,
digest-driven parameter validation, rate limiting and injected faults, all over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sandbox.tiktok.signing import request_sign, verify_request_sign, webhook_signature
from tests.sandbox.conftest import TikTokEnv, tts_sign

VECTORS = json.loads((Path(__file__).parent / "tiktok_signing_vectors.json").read_text())


def _body(v: dict) -> bytes | None:
    return v["body"].encode() if v["body"] is not None else None


def test_every_request_signing_vector_reproduces() -> None:
    assert len(VECTORS["request_signing"]) >= 10
    for v in VECTORS["request_signing"]:
        assert request_sign(v["app_secret"], v["path"], v["query"], _body(v)) == v["expected_sign"], v["id"]
        assert tts_sign(v["app_secret"], v["path"], v["query"], _body(v)) == v["expected_sign"], v["id"]
        assert verify_request_sign(v["app_secret"], v["path"], v["query"], _body(v), v["expected_sign"])


def test_every_webhook_signing_vector_reproduces() -> None:
    for v in VECTORS["webhook_signing"]:
        got = webhook_signature(v["app_key"], v["app_secret"], v["raw_body"].encode())
        assert got == v["expected_authorization_header"], v["id"]


@settings(max_examples=60, deadline=None)
@given(body=st.binary(min_size=1, max_size=200), pos=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_signed_body_verifies_and_any_changed_byte_does_not(body: bytes, pos: int, flip: int) -> None:
    query = {"app_key": "k", "timestamp": "1700000000", "shop_cipher": "ROW_x"}
    sign = request_sign("fake-secret", "/order/202309/orders/search", query, body)
    assert verify_request_sign("fake-secret", "/order/202309/orders/search", query, body, sign)
    mutated = bytearray(body)
    mutated[pos % len(body)] ^= flip
    assert not verify_request_sign("fake-secret", "/order/202309/orders/search", query, bytes(mutated), sign)


def test_signed_request_succeeds_and_wrong_secret_is_106001(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    data = c.ok("GET", "/authorization/202309/shops", region=None)
    assert [s["cipher"] for s in data["shops"]] == [c.shops["US"]["cipher"]]
    status, code, _ = c.err("GET", "/authorization/202309/shops", region=None, secret="not-the-secret")
    assert (status, code) == (401, 106001)
    # the body is signed too: the same bytes with one changed character fail
    body = {"order_status": "AWAITING_SHIPMENT"}
    good = json.dumps(body, separators=(",", ":")).encode()
    resp = c.call("POST", "/order/202309/orders/search", {"page_size": 5}, raw_body=good)
    assert resp.json()["code"] == 0
    q = {"app_key": c.app_key, "timestamp": str(int(time.time())), "page_size": "5",
         "shop_cipher": c.shops["US"]["cipher"]}
    q["sign"] = tts_sign(c.app_secret, "/order/202309/orders/search", q, good)
    tampered = good.replace(b"AWAITING", b"AWAITINH")
    resp = c.session.post(c.base + "/order/202309/orders/search", params=q, data=tampered,
                          headers={"x-tts-access-token": c.access_token, "content-type": "application/json"})
    assert resp.json()["code"] == 106001


def _signed_pairs(secret: str, path: str, pairs: list[tuple[str, str]], signed: str) -> list[tuple[str, str]]:
    """``pairs`` plus a sign over ``signed`` (the query part of the string to sign)."""
    msg = secret.encode() + (path + signed).encode() + secret.encode()
    return [*pairs, ("sign", hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest())]


def test_repeated_query_keys_verify_under_each_documented_reading_and_mean_the_array(tiktok: TikTokEnv) -> None:
    """``ids=A&ids=B``: the page's text signs every pair (``idsAidsB``), its Go and Java samples the
    first value (``idsA``), its Node sample the array joined (``idsA,B``); any other string is 106001.
    The handler reads the repeated key as the documented array ``ids=A,B``."""
    c, sb = tiktok.client, tiktok.sandbox
    us = c.shops["US"]
    a, b = (sb.place_order(us["id"], [{"seller_sku": "US-MUG-12", "quantity": 1}])["id"] for _ in range(2))
    path = "/order/202507/orders"
    ts = str(int(time.time()))
    pairs = [("app_key", c.app_key), ("timestamp", ts), ("shop_cipher", us["cipher"]), ("ids", a), ("ids", b)]
    head = f"app_key{c.app_key}"
    tail = f"shop_cipher{us['cipher']}timestamp{ts}"
    headers = {"x-tts-access-token": us["token"], "content-type": "application/json"}
    for signed in (f"{head}ids{a}ids{b}{tail}", f"{head}ids{a}{tail}", f"{head}ids{a},{b}{tail}"):
        resp = c.session.get(c.base + path, params=_signed_pairs(c.app_secret, path, pairs, signed), headers=headers)
        doc = resp.json()
        assert doc["code"] == 0, (signed, doc)
        assert [o["id"] for o in doc["data"]["orders"]] == [a, b]
    for signed in (f"{head}ids{b}{tail}", f"{head}ids{b}ids{a}{tail}", f"{head}{tail}"):
        resp = c.session.get(c.base + path, params=_signed_pairs(c.app_secret, path, pairs, signed), headers=headers)
        assert (resp.status_code, resp.json()["code"]) == (401, 106001), signed


def test_documented_prior_versions_are_served_and_other_versions_are_36009014(tiktok: TikTokEnv) -> None:
    """The 202309 upgrade guide documents v202309 of Get Order Detail, Search Products, Edit and
    Partial Edit Product, whose pages now show later versions; a prior version stays available after a
    new one (versioning page). A version that is neither answers the page's 36009014."""
    c, sb = tiktok.client, tiktok.sandbox
    us = c.shops["US"]
    order = sb.place_order(us["id"], [{"seller_sku": "US-MUG-12", "quantity": 1}])["id"]
    current = c.ok("GET", "/order/202507/orders", {"ids": [order]})
    assert c.ok("GET", "/order/202309/orders", {"ids": [order]}) == current
    found = c.ok("POST", "/product/202309/products/search", {"page_size": 5}, {"seller_skus": ["US-MUG-12"]})
    pid = found["products"][0]["id"]
    c.ok("POST", f"/product/202309/products/{pid}/partial_edit", None, {"title": "Mug, twelve ounces"})
    assert c.ok("GET", f"/product/202309/products/{pid}")["title"] == "Mug, twelve ounces"
    for method, path in (("GET", "/order/202401/orders"), ("POST", "/product/202311/products/search"),
                         ("GET", "/finance/202309/statements/1/statement_transactions")):  # retired (202501)
        status, code, message = c.err(method, path, {"ids": [order]} if "orders" in path else None,
                                      {} if method == "POST" else None)
        assert (status, code) == (404, 36009014) and "version" in message, path
    assert c.err("GET", "/order/202507/nothing_here")[1] == 36009009  # an unknown path stays 36009009


def test_a_ranged_string_parameter_takes_a_plain_number_only(tiktok: TikTokEnv) -> None:
    """Search Returns documents ``page_size`` as a string with "Valid range: [10-50]"."""
    c = tiktok.client
    for bad in ("abc", "1e2", "NaN", "5", "51"):
        status, code, message = c.err("POST", "/return_refund/202309/returns/search", {"page_size": bad}, {})
        assert (status, code) == (400, 25001001) and "page_size" in message and "[10, 50]" in message, bad
    assert c.ok("POST", "/return_refund/202309/returns/search", {"page_size": "10"}, {})["return_orders"] == []


def test_timestamp_window_is_minus_five_minutes_plus_thirty_seconds(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    now = int(time.time())
    assert c.call("GET", "/authorization/202309/shops", region=None, timestamp=now - 280).json()["code"] == 0
    assert c.call("GET", "/authorization/202309/shops", region=None, timestamp=now + 20).json()["code"] == 0
    for ts in (now - 301 - 5, now + 31 + 5):
        status, code, message = c.err("GET", "/authorization/202309/shops", region=None, timestamp=ts)
        assert (status, code) == (401, 36009004) and "timestamp" in message


def test_app_key_sign_and_token_checks(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    path = "/logistics/202309/warehouses"
    q = {"app_key": "no-such-app", "timestamp": str(int(time.time())), "shop_cipher": c.shops["US"]["cipher"]}
    q["sign"] = tts_sign("whatever", path, q, None)
    assert c.session.get(c.base + path, params=q).json()["code"] == 36009004
    q = {"app_key": c.app_key, "timestamp": str(int(time.time())), "shop_cipher": c.shops["US"]["cipher"]}
    assert c.session.get(c.base + path, params=q, headers={"x-tts-access-token": c.access_token}).json()["code"] \
        == 36009004  # no sign at all
    assert c.err("GET", path, token="")[1] == 36009004
    assert c.err("GET", path, token="TTP_not-a-token")[1] == 36009004
    fresh = sb.issue_token(c.app_key, shop_id=c.shops["US"]["id"])["access_token"]
    assert c.call("GET", path, token=fresh).json()["code"] == 0
    sb.expire_token(access_token=fresh)
    assert c.err("GET", path, token=fresh)[:2] == (401, 105002)
    other = sb.issue_token(c.app_key, shop_id=c.shops["US"]["id"])["access_token"]
    sb.revoke_token(access_token=other)
    assert c.err("GET", path, token=other)[1] == 105001


def test_shop_cipher_rules(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    assert c.err("GET", "/logistics/202309/warehouses", region=None)[1] == 106013
    assert c.err("GET", "/authorization/202309/shops", region="US")[1] == 36009004
    assert c.err("GET", "/seller/202309/shops", region="US")[1] == 36009004
    assert c.ok("GET", "/seller/202309/shops", region=None)["shops"][0]["region"] == "US"
    # a cipher of a shop this token was not granted
    assert c.err("GET", "/logistics/202309/warehouses", cipher=c.shops["GB"]["cipher"])[1] == 101000
    assert c.err("GET", "/logistics/202309/warehouses", cipher="ROW_unknown")[1] == 101000
    assert c.ok("GET", "/logistics/202309/warehouses", region="GB")["warehouses"]


def test_parameters_and_body_are_validated_against_the_digest(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    status, code, message = c.err("POST", "/order/202309/orders/search", {}, {})
    assert status == 400 and code == 36009003 and "page_size" in message
    status, code, message = c.err("POST", "/order/202309/orders/search", {"page_size": 101}, {})
    assert "page_size" in message and "[1, 100]" in message
    _, _, message = c.err("POST", "/order/202309/orders/search", {"page_size": 10}, {"order_status": "SHIPPED"})
    assert "order_status" in message and "AWAITING_SHIPMENT" in message
    _, _, message = c.err("POST", "/order/202309/orders/search", {"page_size": 10}, {"update_time_ge": "yesterday"})
    assert "update_time_ge" in message and "int" in message
    _, _, message = c.err("POST", "/order/202309/orders/search", {"page_size": 10, "sort_order": "UP"}, {})
    assert "sort_order" in message
    _, code, message = c.err("GET", "/order/202507/orders", {"ids": [str(i) for i in range(51)]})
    assert "ids" in message and "50" in message
    # a module with its own invalid-parameter code: products use 12052910, fulfillment 21001001
    _, code, message = c.err("POST", "/product/202309/products/activate", None, {"listing_platforms": ["X"]})
    assert code == 12052910 and "product_ids" in message
    _, code, _ = c.err("POST", "/fulfillment/202309/orders/1/packages", None, {"tracking_number": "1"})
    assert code == 21001001
    # format, path and method
    resp = c.call("POST", "/order/202309/orders/search", {"page_size": 10}, raw_body=b"{not json")
    assert resp.status_code == 400 and resp.json()["code"] == 36009022
    resp = c.call("GET", "/order/202309/orders/nowhere")
    assert resp.status_code == 404 and resp.json()["code"] == 36009009
    resp = c.call("DELETE", "/order/202309/orders/search", {"page_size": 10})
    assert resp.status_code == 405 and resp.json()["code"] == 36009010


def test_rate_limit_per_app_shop_and_api_answers_429(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    sb.set_faults(per_endpoint={"GET /logistics/202309/warehouses": {"qps": 3}})
    codes = [c.call("GET", "/logistics/202309/warehouses") for _ in range(12)]
    limited = [r for r in codes if r.status_code == 429]
    assert limited and all(r.json()["code"] == 36009002 for r in limited)
    assert len(limited) <= 12 - 3
    # another API and another shop have their own buckets
    assert c.call("POST", "/order/202309/orders/search", {"page_size": 1}, {}).json()["code"] == 0
    assert c.call("GET", "/logistics/202309/warehouses", region="GB").json()["code"] == 0
    counters = sb.counters_snapshot()["api"]["GET /logistics/202309/warehouses"]
    assert counters["code_36009002"] == len(limited)


def test_injected_faults_answer_in_the_envelope(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    sb.set_faults(per_endpoint={"/finance/": {"rate_5xx": 1.0}})
    resp = c.call("GET", "/finance/202309/statements", {"sort_field": "statement_time"})
    assert resp.status_code in (500, 502, 503) and resp.json()["code"] == 36009003
    assert c.call("GET", "/logistics/202309/warehouses").json()["code"] == 0
    sb.set_faults(per_endpoint={}, rate_429=1.0)
    resp = c.call("GET", "/logistics/202309/warehouses")
    assert resp.status_code == 429 and resp.json()["code"] == 36009002


def test_unemulated_documented_endpoint_is_validated_then_501(tiktok: TikTokEnv) -> None:
    c = tiktok.client
    assert c.err("GET", "/fbt/202409/merchants/onboarded_regions")[0] == 501


def test_dropped_and_timed_out_calls_are_injected_and_counted(tiktok: TikTokEnv) -> None:
    import requests

    c, sb = tiktok.client, tiktok.sandbox
    key = "GET /logistics/202309/warehouses"
    sb.set_faults(per_endpoint={key: {"rate_drop": 1.0}})
    try:
        resp = c.call("GET", "/logistics/202309/warehouses")
    except requests.ConnectionError:
        pass
    else:
        assert resp.status_code == 502 and not resp.content
    sb.set_faults(per_endpoint={key: {"rate_timeout": 1.0}}, timeout_seconds=0.5)
    started = time.monotonic()
    assert c.call("GET", "/logistics/202309/warehouses").json()["code"] == 0  # handled, answered late
    assert time.monotonic() - started >= 0.5
    sb.set_faults(per_endpoint={})
    snap = sb.counters_snapshot()
    assert snap["faults"] == {key: {"drop": 1, "timeout": 1}}
    assert snap["api"][key]["calls"] == 1  # the dropped call never reached the handler
