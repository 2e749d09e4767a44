"""The TikTok Shop sandbox answers a client nobody here wrote: the PyPI package ``tiktok-shop-api``
(an unofficial, generated SDK: ``TikTokShop(app_key, app_secret, access_token, shop_cipher,
base_url=…)``, one attribute per API group, ``TikTokShopAuth`` for the code exchange and refresh,
``Webhooks.verify`` / ``Webhooks.parse``), used as its
README shows, over real HTTP on loopback. Only the base URL differs from a live call.

It signs the way the sandbox requires: ``app_secret + path + sorted key+value (sign and access_token
left out) + body + app_secret``, HMAC-SHA256 lower hex, the token in ``x-tts-access-token``, and it adds
``shop_cipher`` only to operations that take one (not to ``/authorization/…``). A list query parameter
(``ids`` of Get Order Detail) goes out as repeated keys, each pair signed: one of the readings the
signing page documents, see ``test_a_list_parameter_sent_as_repeated_keys_works``."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tiktok_shop_api import TikTokShop, TikTokShopAuth, TikTokShopError, Webhooks
from tiktok_shop_api.generated.models import UpdateInventoryRequest

from tests.sandbox.conftest import TikTokEnv, WebhookReceiver


def client(tiktok: TikTokEnv, region: str = "US", **kw: Any) -> TikTokShop:
    shop = tiktok.client.shops[region]
    values: dict[str, Any] = {"app_key": tiktok.client.app_key, "app_secret": tiktok.client.app_secret,
                              "access_token": shop["token"], "shop_cipher": shop["cipher"]}
    values.update(kw)
    return TikTokShop(**values, base_url=tiktok.url, timeout=10)


def sku(tiktok: TikTokEnv, seller_sku: str) -> dict[str, Any]:
    return next(r for r in tiktok.sandbox.inventory() if r["seller_sku"] == seller_sku)


def test_signed_gets_with_and_without_the_shop_cipher(tiktok: TikTokEnv) -> None:
    us = tiktok.client.shops["US"]
    with client(tiktok) as tts:
        shops = tts.authorization.get_authorized_shops()  # /authorization/…: no shop_cipher
        assert shops is not None and us["cipher"] in {s.cipher for s in shops.data.shops}
        order = tiktok.sandbox.place_order(us["id"], [{"seller_sku": "US-MUG-12", "quantity": 2}])
        detail = tts.orders.get_order_detail(ids=[order["id"]])  # ids: comma-joined, signed as sent
        assert detail is not None
        (got,) = detail.data.orders
        assert got.id == order["id"] and len(got.line_items) == 2  # one line item per unit
        assert got.payment.total_amount == order["payment"]["total_amount"]  # money stays a decimal string


def test_a_signed_write_changes_the_sandbox(tiktok: TikTokEnv) -> None:
    tee = sku(tiktok, "US-TEE-BLK-M")
    w1, w2 = sorted(tee["available"])
    body = UpdateInventoryRequest.from_dict({"skus": [{"id": tee["sku_id"], "inventory": [
        {"warehouse_id": w1, "quantity": 42}, {"warehouse_id": w2, "quantity": 7}]}]})
    with client(tiktok) as tts:
        tts.products.update_inventory(tee["product_id"], body=body)
        assert sku(tiktok, "US-TEE-BLK-M")["available"] == {w1: 42, w2: 7}
        # the sandbox's documented refusal reaches the client as TikTok's error code
        partial = UpdateInventoryRequest.from_dict({"skus": [{"id": tee["sku_id"], "inventory": [
            {"warehouse_id": w1, "quantity": 1}]}]})
        with pytest.raises(TikTokShopError) as err:
            tts.products.update_inventory(tee["product_id"], body=partial)
        assert err.value.code == 12019028


def test_a_wrong_secret_is_refused_as_a_bad_sign(tiktok: TikTokEnv) -> None:
    with client(tiktok, app_secret="not-the-secret") as tts, pytest.raises(TikTokShopError) as err:
        tts.authorization.get_authorized_shops()
    assert err.value.code == 106001


def test_the_sandbox_webhooks_verify_and_parse(tiktok: TikTokEnv, webhook_receiver: WebhookReceiver) -> None:
    c = tiktok.client
    c.ok("PUT", "/event/202309/webhooks", None, {"address": webhook_receiver.url, "event_type": "ORDER_STATUS_CHANGE"})
    order = tiktok.sandbox.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12", "quantity": 1}])
    hits = webhook_receiver.wait_for(2)
    assert len(hits) >= 2
    for hit in hits:
        signature = hit["headers"]["Authorization"]
        assert Webhooks.verify(app_key=c.app_key, app_secret=c.app_secret, raw_body=hit["body"], signature=signature)
        assert not Webhooks.verify(app_key=c.app_key, app_secret="wrong", raw_body=hit["body"], signature=signature)
        event: Any = Webhooks.verify_and_parse(app_key=c.app_key, app_secret=c.app_secret, raw_body=hit["body"],
                                               signature=signature)
        assert event.type_ == 1 and event.data.order_id == order["id"]
        assert event.tts_notification_id == json.loads(hit["body"])["tts_notification_id"]


def test_a_list_parameter_sent_as_repeated_keys_works(tiktok: TikTokEnv) -> None:
    """tiktok-shop-api 0.1.0 encodes ``ids=[A, B]`` the httpx way, ``ids=A&ids=B``, and signs each pair
    (``…idsAidsB…``): the "Sign your API request" page's text ("concatenate all the parameters in the
    format {key}{value}"). The sandbox verifies it, and reads the repeated key as the documented array
    ``ids=A,B``; the ids joined by the caller into one string work the same."""
    us = tiktok.client.shops["US"]
    a, b = (tiktok.sandbox.place_order(us["id"], [{"seller_sku": "US-MUG-12", "quantity": 1}]) for _ in range(2))
    with client(tiktok) as tts:
        repeated = tts.orders.get_order_detail(ids=[a["id"], b["id"]])
        assert repeated is not None and [o.id for o in repeated.data.orders] == [a["id"], b["id"]]
        detail = tts.orders.get_order_detail(ids=[f"{a['id']},{b['id']}"])
        assert detail is not None and [o.id for o in detail.data.orders] == [a["id"], b["id"]]


def test_oauth_code_exchange_refresh_and_the_new_token_signs(tiktok: TikTokEnv) -> None:
    c, us = tiktok.client, tiktok.client.shops["US"]
    auth = TikTokShopAuth(c.app_key, c.app_secret, base_url=tiktok.url, timeout=10)
    code = tiktok.sandbox.authorize(c.app_key, shop_id=us["id"])
    tokens = auth.exchange_code(code)
    assert tokens.access_token and tokens.refresh_token and tokens.access_token_expire_in > time.time()
    with pytest.raises(TikTokShopError):
        auth.exchange_code(code)  # a code is single use
    refreshed = auth.refresh(tokens.refresh_token)
    assert refreshed.access_token and refreshed.access_token_expire_in >= tokens.access_token_expire_in
    with client(tiktok, access_token=refreshed.access_token) as tts:
        shops = tts.authorization.get_authorized_shops()
        assert shops is not None and us["cipher"] in {s.cipher for s in shops.data.shops}
