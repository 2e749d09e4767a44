"""What the client puts on the wire, and how it reacts to each kind of answer (a capturing stub
server over real HTTP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, Response, request

from bridge.errors import RetriableError, TokenExpiredError, WriteOutcomeUnknown
from bridge.serving import BackgroundServer
from bridge.tiktok import signing
from bridge.tiktok.client import ShopClient, TikTokApi, TikTokError, parse_retry_after
from tests.tiktok.conftest import Sleeps

SECRET = "test-secret-" + "x" * 8
KEY = "testappkey"


@dataclass
class Stub:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, status: int = 200, doc: Any = None, headers: dict[str, str] | None = None) -> None:
        self.replies.append((status, {"code": 0, "message": "Success", "request_id": "r1", "data": {}}
                             if doc is None else doc, headers or {}))


@pytest.fixture(scope="module")
def _stub_server() -> Iterator[Stub]:
    app = Flask("stub")
    stub = Stub("")

    @app.route("/<path:p>", methods=["GET", "POST", "PUT", "DELETE"])
    def any_path(p: str) -> Response:
        with stub.lock:
            stub.seen.append({"method": request.method, "path": request.path, "query": request.args.to_dict(),
                              "body": request.get_data(), "headers": dict(request.headers),
                              "content_type": request.content_type or ""})
            status, doc, headers = stub.replies.pop(0) if stub.replies else (
                200, {"code": 0, "message": "Success", "request_id": "r0", "data": {}}, {})
        if stub.delay:
            time.sleep(stub.delay)
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return Response(body, status=status, headers=headers, mimetype="application/json")

    with BackgroundServer(app, port=0, name="stub") as server:
        stub.url = server.url
        yield stub


@pytest.fixture
def stub(_stub_server: Stub) -> Stub:
    _stub_server.seen.clear()
    _stub_server.replies.clear()
    _stub_server.delay = 0.0
    return _stub_server


class StaticTokens:
    def __init__(self) -> None:
        self.refreshed = 0

    def access_token(self, shop_id: str) -> str:
        return f"TTP_token_{self.refreshed}"

    def refresh(self, shop_id: str, stale_token: str | None = None) -> str:
        self.refreshed += 1
        return f"TTP_token_{self.refreshed}"

    def cipher(self, shop_id: str) -> str:
        return "ROW_testcipher"


def make_api(stub: Stub, sleeps: Sleeps | None = None, **kw: Any) -> TikTokApi:
    return TikTokApi(app_key=KEY, app_secret=SECRET, base_url=stub.url, tokens=StaticTokens(),
                     sleep=sleeps or Sleeps(), rand=lambda: 0.5, **kw)


def _verifies(seen: dict[str, Any], body: bytes | None) -> bool:
    query = dict(seen["query"])
    sig = query.pop("sign")
    return signing.verify(SECRET, seen["path"], query, body, sig)


def test_the_bytes_signed_are_the_bytes_sent(stub: Stub) -> None:
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r", "data": {"orders": [], "next_page_token": ""}})
    shop = ShopClient(make_api(stub), "S1")
    list(shop.orders.search(update_time_ge=1_700_000_000, order_status="AWAITING_SHIPMENT",
                            warehouse_ids=["7068517275539719942"]))
    (seen,) = stub.seen
    assert seen["method"] == "POST" and seen["path"] == "/order/202309/orders/search"
    assert seen["body"] == signing.encode_body({"update_time_ge": 1_700_000_000, "order_status": "AWAITING_SHIPMENT",
                                                "warehouse_ids": ["7068517275539719942"]})
    assert _verifies(seen, seen["body"])
    assert seen["query"]["shop_cipher"] == "ROW_testcipher" and seen["query"]["app_key"] == KEY
    assert seen["query"]["page_size"] == "100" and abs(int(seen["query"]["timestamp"]) - time.time()) < 60
    assert "access_token" not in seen["query"]
    assert seen["headers"]["X-Tts-Access-Token"] == "TTP_token_0"
    assert seen["content_type"] == "application/json"


def test_unicode_and_decimal_bodies_and_array_queries(stub: Stub) -> None:
    api = make_api(stub)
    shop = ShopClient(api, "S1")
    shop.products.update_prices("1729592969712207008", {"1729592969712207013": Decimal("19.90")}, "GBP")
    shop.returns.reject_cancellation("C1", "reason_é", comment="Zoë’s order — 日本")
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r", "data": {"orders": []}})
    shop.orders.get_details(["576461413038785752", "576461413038785753"])
    prices, reject, detail = stub.seen
    assert json.loads(prices["body"]) == {"skus": [{"id": "1729592969712207013",
                                                    "price": {"amount": "19.90", "currency": "GBP"}}]}
    assert "Zoë’s order — 日本".encode() in reject["body"]  # UTF-8 on the wire, not \\u escapes
    for seen in (prices, reject):
        assert _verifies(seen, seen["body"])
    assert detail["method"] == "GET" and detail["body"] == b""
    assert detail["query"]["ids"] == "576461413038785752,576461413038785753"
    assert _verifies(detail, None)


def test_no_shop_cipher_on_authorization_apis(stub: Stub) -> None:
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r", "data": {"shops": [{"id": 7, "cipher": "C"}]}})
    shops = ShopClient(make_api(stub), "S1").authorized_shops()
    assert shops[0].id == "7"  # ids are strings even when a number arrives
    assert "shop_cipher" not in stub.seen[0]["query"] and _verifies(stub.seen[0], None)


def test_multipart_upload_is_not_body_signed(stub: Stub) -> None:
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r",
                    "data": {"uri": "tos-img/x", "url": "https://img.example/x", "width": 10, "height": 10}})
    img = ShopClient(make_api(stub), "S1").products.upload_image(b"\x89PNG fake", "a.png", content_type="image/png")
    (seen,) = stub.seen
    assert img.uri == "tos-img/x"
    assert seen["content_type"].startswith("multipart/form-data")
    assert "shop_cipher" not in seen["query"]
    assert _verifies(seen, None) and not _verifies(seen, seen["body"])


def test_429_honours_retry_after(stub: Stub) -> None:
    sleeps = Sleeps()
    stub.reply(429, {"code": 36009002, "message": "Too many requests", "request_id": "r", "data": None},
               {"Retry-After": "7"})
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r", "data": {"warehouses": [{"id": "1"}]}})
    whs = ShopClient(make_api(stub, sleeps), "S1").logistics.warehouses()
    assert [w.id for w in whs] == ["1"] and len(stub.seen) == 2
    assert sleeps.calls == [7.0]  # the server's floor beats the 0.375 s jittered backoff
    q1, q2 = stub.seen[0]["query"], stub.seen[1]["query"]
    assert _verifies(stub.seen[1], None) and q1["sign"] and q2["sign"]


def test_rate_limit_code_in_a_200_envelope_is_retried_too(stub: Stub) -> None:
    sleeps = Sleeps()
    stub.reply(200, {"code": 36009002, "message": "Too many requests", "request_id": "r", "data": None})
    stub.reply()
    ShopClient(make_api(stub, sleeps), "S1").fulfillment.mark_package_shipped(
        "O1", tracking_number="T", shipping_provider_id="P")  # a write: refused calls are safe to repeat
    assert len(stub.seen) == 2 and len(sleeps.calls) == 1


def test_5xx_retries_reads_but_never_repeats_writes(stub: Stub) -> None:
    stub.reply(503, {"code": 36009003, "message": "busy", "request_id": "r", "data": None})
    stub.reply()
    ShopClient(make_api(stub), "S1").logistics.warehouses()
    assert len(stub.seen) == 2
    stub.seen.clear()
    stub.reply(502, b"<html>bad gateway</html>")
    with pytest.raises(WriteOutcomeUnknown):
        ShopClient(make_api(stub), "S1").fulfillment.mark_package_shipped(
            "O1", tracking_number="T", shipping_provider_id="P")
    assert len(stub.seen) == 1


def test_write_timeout_is_an_unknown_outcome(stub: Stub) -> None:
    stub.delay = 0.5
    with pytest.raises(WriteOutcomeUnknown) as err:
        ShopClient(make_api(stub, timeout=0.1), "S1").returns.cancel_order("O1", "reason")
    assert "may have happened" in str(err.value)
    stub.delay = 0.0


def test_unreachable_host_is_retriable(stub: Stub) -> None:
    api = TikTokApi(app_key=KEY, app_secret=SECRET, base_url="http://127.0.0.1:9", tokens=StaticTokens(),
                    sleep=Sleeps(), max_attempts=2, timeout=1)
    with pytest.raises(RetriableError):
        ShopClient(api, "S1").logistics.warehouses()


def test_non_envelope_answer_is_fatal_with_evidence(stub: Stub) -> None:
    stub.reply(200, b"<html>captive portal</html>")
    with pytest.raises(TikTokError) as err:
        ShopClient(make_api(stub), "S1").logistics.warehouses()
    assert err.value.evidence.status == 200 and "captive portal" in err.value.evidence.body


def test_business_error_is_fatal_with_code_and_message(stub: Stub) -> None:
    stub.reply(200, {"code": 21011001, "message": "The tracking number is invalid", "request_id": "rid-9",
                     "data": None})
    with pytest.raises(TikTokError) as err:
        ShopClient(make_api(stub), "S1").fulfillment.update_shipping_info("O1", tracking_number="x",
                                                                         shipping_provider_id="p")
    e = err.value
    assert (e.code, e.tiktok_message, e.evidence.request_id) == (21011001, "The tracking number is invalid", "rid-9")
    assert len(stub.seen) == 1


def test_expired_token_refreshes_once(stub: Stub) -> None:
    api = make_api(stub)
    assert isinstance(api.tokens, StaticTokens)
    for _ in range(2):
        stub.reply(401, {"code": 105002, "message": "expired", "request_id": "r", "data": None})
    with pytest.raises(TokenExpiredError):
        ShopClient(api, "S1").logistics.warehouses()
    assert api.tokens.refreshed == 1 and len(stub.seen) == 2
    assert [s["headers"]["X-Tts-Access-Token"] for s in stub.seen] == ["TTP_token_0", "TTP_token_1"]


def test_explicit_token_is_never_refreshed(stub: Stub) -> None:
    stub.reply(401, {"code": 105002, "message": "expired", "request_id": "r", "data": None})
    with pytest.raises(TokenExpiredError):
        make_api(stub).call("authorization.shops", access_token="TTP_explicit")
    assert len(stub.seen) == 1


def test_secrets_never_reach_errors_or_the_call_log(stub: Stub) -> None:
    stub.reply(200, {"code": 106001, "message": "bad sign", "request_id": "r",
                     "data": {"access_token": "TTP_leak", "app_secret": SECRET}})
    with pytest.raises(TikTokError) as err:
        ShopClient(make_api(stub), "S1").logistics.warehouses()
    text = str(err.value) + json.dumps(err.value.evidence.as_dict())
    assert "TTP_leak" not in text and SECRET not in text and "TTP_token" not in text
    assert SECRET not in repr(make_api(stub))


@pytest.mark.parametrize(("value", "expected"), [("3", 3.0), ("0.5", 0.5), ("", None), ("soon", None),
                                                 ("-4", 0.0)])
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_internal_error_code_retries_reads_and_flags_writes(stub: Stub) -> None:
    stub.reply(200, {"code": 36009003, "message": "Internal error. Please try again.", "request_id": "r",
                     "data": None})
    stub.reply()
    ShopClient(make_api(stub), "S1").orders.get_details(["1"])
    assert len(stub.seen) == 2
    stub.seen.clear()
    stub.reply(200, {"code": 36009003, "message": "Internal error. Please try again.", "request_id": "r",
                     "data": None})
    with pytest.raises(WriteOutcomeUnknown):
        ShopClient(make_api(stub), "S1").returns.approve_cancellation("C1")
    assert len(stub.seen) == 1


def test_a_non_finite_number_in_a_2xx_answer_is_refused_for_good_naming_the_path(stub: Stub) -> None:
    """Python's parser turns ``NaN`` / ``Infinity`` into floats; JSON has no such numbers, so the answer
    is refused (fatal under a 2xx: repeating will not cure it) and the error names the API path."""
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        stub.seen.clear()
        stub.reply(200, b'{"code": 0, "message": "ok", "request_id": "r", "data": {"inventory": [{"skus": '
                        b'[{"id": "1", "total_available_quantity": ' + constant + b'}]}]}}')
        with pytest.raises(TikTokError) as err:
            ShopClient(make_api(stub), "S1").products.inventory(product_ids=["P1"])
        assert len(stub.seen) == 1  # not repeated
        text = str(err.value)
        assert f"holds {constant.decode()}" in text and "/product/" in text and "/inventory/search" in text, text
        assert err.value.evidence.status == 200 and constant.decode() in err.value.evidence.body


def test_a_non_finite_number_under_a_5xx_stays_transient(stub: Stub) -> None:
    stub.reply(503, b'{"code": 36009003, "message": "busy", "request_id": "r", "data": {"x": Infinity}}')
    stub.reply(doc={"code": 0, "message": "ok", "request_id": "r", "data": {"warehouses": [{"id": "1"}]}})
    assert [w.id for w in ShopClient(make_api(stub), "S1").logistics.warehouses()] == ["1"]  # a read: retried
    assert len(stub.seen) == 2
    stub.seen.clear()
    stub.reply(503, b'{"code": 36009003, "message": "busy", "request_id": "r", "data": {"x": NaN}}')
    api = make_api(stub, max_attempts=1)
    with pytest.raises(RetriableError) as err:
        ShopClient(api, "S1").logistics.warehouses()
    assert "holds NaN" in str(err.value) and "/logistics/" in str(err.value)


def test_the_token_exchange_refuses_a_non_finite_number_too(stub: Stub) -> None:
    from bridge.errors import FatalError
    from bridge.tiktok.oauth import OAuthClient

    oauth = OAuthClient(app_key=KEY, app_secret=SECRET, service_id="svc", auth_base=stub.url,
                        authorize_url=stub.url + "/open/authorize")
    stub.reply(200, b'{"code": 0, "message": "ok", "request_id": "r", "data": {"access_token": "a", '
                    b'"access_token_expire_in": Infinity, "refresh_token": "r", "refresh_token_expire_in": 1}}')
    with pytest.raises(FatalError) as err:
        oauth.exchange("auth-code")
    assert "holds Infinity" in str(err.value) and "/api/v2/token/get" in str(err.value)
    assert not isinstance(err.value, RetriableError)
