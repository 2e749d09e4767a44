"""Merchant OAuth against the sandbox: authorize page → one-time code → token get / refresh →
authorized shops, plus the failure modes (reused / expired code, wrong secret, expired tokens)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import requests

from tests.sandbox.conftest import TikTokClient, TikTokEnv, WebhookReceiver

TOKEN_FIELDS = {"access_token", "access_token_expire_in", "refresh_token", "refresh_token_expire_in", "open_id",
                "seller_name", "seller_base_region", "user_type", "granted_scopes"}


def _app(tiktok: TikTokEnv) -> dict:
    return tiktok.sandbox.add_app(app_key="oauth_test_app", app_secret="fake-oauth-secret",
                                  redirect_uri="https://bridge.example.invalid/oauth/tiktok/callback")


def _code_from(resp: requests.Response, state: str) -> str:
    assert resp.status_code == 302
    loc = urlparse(resp.headers["Location"])
    assert loc.netloc == "bridge.example.invalid" and loc.path == "/oauth/tiktok/callback"
    params = parse_qs(loc.query)
    assert params["state"] == [state]
    return params["code"][0]


def _get_token(tiktok: TikTokEnv, **params: str) -> dict:
    return requests.get(tiktok.url + "/api/v2/token/get", params=params, timeout=5).json()


def test_authorize_page_redirects_with_single_use_code(tiktok: TikTokEnv) -> None:
    app = _app(tiktok)
    page = requests.get(tiktok.url + "/open/authorize", params={"service_id": app["service_id"], "state": "s<1>"},
                        timeout=5)
    assert page.status_code == 200 and 'id="authorize"' in page.text and "s&lt;1&gt;" in page.text
    seller = next(s for s in tiktok.sandbox.describe()["sellers"] if s["base_region"] == "GB")
    resp = requests.post(tiktok.url + "/open/authorize", allow_redirects=False, timeout=5, data={
        "service_id": app["service_id"], "state": "s<1>", "open_id": seller["open_id"], "action": "authorize"})
    code = _code_from(resp, "s<1>")
    doc = _get_token(tiktok, app_key=app["app_key"], app_secret=app["app_secret"], auth_code=code,
                     grant_type="authorized_code")
    assert doc["code"] == 0 and set(doc) == {"code", "message", "request_id", "data"}
    data = doc["data"]
    assert set(data) == TOKEN_FIELDS
    assert data["seller_base_region"] == "GB" and data["user_type"] == 0
    now = tiktok.sandbox.now()
    assert isinstance(data["access_token_expire_in"], int) and data["access_token_expire_in"] > now + 6 * 86400
    assert data["refresh_token_expire_in"] > data["access_token_expire_in"]
    again = _get_token(tiktok, app_key=app["app_key"], app_secret=app["app_secret"], auth_code=code,
                       grant_type="authorized_code")
    assert again["code"] == 36004005
    # the token sees exactly the seller's shop, with its cipher, and only under its own app key
    c = tiktok.client
    mine = TikTokClient(tiktok.url, app["app_key"], app["app_secret"], data["access_token"], {})
    shops = mine.ok("GET", "/authorization/202309/shops", region=None)["shops"]
    assert [(s["region"], s["cipher"]) for s in shops] == [("GB", c.shops["GB"]["cipher"])]
    assert c.err("GET", "/authorization/202309/shops", region=None, token=data["access_token"])[1] == 36009004


def test_headless_auto_authorize_deny_and_errors(tiktok: TikTokEnv) -> None:
    app = _app(tiktok)
    us_shop = tiktok.client.shops["US"]["id"]
    resp = requests.get(tiktok.url + "/open/authorize", allow_redirects=False, timeout=5,
                        params={"service_id": app["service_id"], "state": "xyz", "auto": "1", "shop_id": us_shop})
    code = _code_from(resp, "xyz")
    wrong = _get_token(tiktok, app_key=app["app_key"], app_secret="wrong", auth_code=code, grant_type="authorized_code")
    assert wrong["code"] == 36009004
    bad_grant = _get_token(tiktok, app_key=app["app_key"], app_secret=app["app_secret"], auth_code=code,
                           grant_type="refresh_token")
    assert bad_grant["code"] != 0
    denied = requests.get(tiktok.url + "/open/authorize", allow_redirects=False, timeout=5,
                          params={"service_id": app["service_id"], "state": "d", "auto": "1", "deny": "1"})
    params = parse_qs(urlparse(denied.headers["Location"]).query)
    assert params["error"] == ["auth_denied"] and params["code"] == ["null"]
    unknown = requests.get(tiktok.url + "/open/authorize", params={"service_id": "0", "state": "x"}, timeout=5)
    assert unknown.status_code == 400
    # a code lives 30 minutes on the business clock
    late = tiktok.sandbox.authorize(app["app_key"], shop_id=us_shop)
    tiktok.sandbox.advance_clock(31 * 60)
    expired = _get_token(tiktok, app_key=app["app_key"], app_secret=app["app_secret"], auth_code=late,
                         grant_type="authorized_code")
    assert expired["code"] == 36004005
    # the first code, still unused, is now expired as well
    assert _get_token(tiktok, app_key=app["app_key"], app_secret=app["app_secret"], auth_code=code,
                      grant_type="authorized_code")["code"] == 36004005


def test_expired_access_token_is_105002_and_refresh_recovers(tiktok: TikTokEnv) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    us = c.shops["US"]
    code = sb.authorize(c.app_key, shop_id=us["id"])
    data = _get_token(tiktok, app_key=c.app_key, app_secret=c.app_secret, auth_code=code,
                      grant_type="authorized_code")["data"]
    assert c.call("GET", "/logistics/202309/warehouses", token=data["access_token"]).json()["code"] == 0
    sb.advance_clock(7 * 86400 + 1)  # past the 7-day access token
    assert c.err("GET", "/logistics/202309/warehouses", token=data["access_token"])[1] == 105002
    refreshed = requests.get(tiktok.url + "/api/v2/token/refresh", timeout=5, params={
        "app_key": c.app_key, "app_secret": c.app_secret, "refresh_token": data["refresh_token"],
        "grant_type": "refresh_token"}).json()
    assert refreshed["code"] == 0 and set(refreshed["data"]) == TOKEN_FIELDS
    new = refreshed["data"]
    assert new["access_token"] != data["access_token"] and new["access_token_expire_in"] > sb.now()
    assert c.call("GET", "/logistics/202309/warehouses", token=new["access_token"]).json()["code"] == 0
    # once the refresh token itself expires, refreshing fails
    sb.expire_token(access_token=new["access_token"], refresh_too=True)
    gone = requests.get(tiktok.url + "/api/v2/token/refresh", timeout=5, params={
        "app_key": c.app_key, "app_secret": c.app_secret, "refresh_token": new["refresh_token"],
        "grant_type": "refresh_token"}).json()
    assert gone["code"] == 36004001
    assert requests.get(tiktok.url + "/api/v2/token/refresh", timeout=5, params={
        "app_key": c.app_key, "app_secret": c.app_secret, "refresh_token": "TTP_unknown",
        "grant_type": "refresh_token"}).json()["code"] == 36004005


def test_deauthorization_revokes_tokens_and_notifies_the_app(tiktok: TikTokEnv,
                                                              webhook_receiver: WebhookReceiver) -> None:
    c, sb = tiktok.client, tiktok.sandbox
    c.ok("PUT", "/event/202309/webhooks", None, {"address": webhook_receiver.url,
                                                 "event_type": "SELLER_DEAUTHORIZATION"})
    sb.deauthorize(c.app_key, c.shops["US"]["id"])
    assert c.err("GET", "/authorization/202309/shops", region=None)[1] == 105001
    hits = webhook_receiver.wait_for(1)
    assert len(hits) == 1
    doc = json.loads(hits[0]["body"])
    assert doc["type"] == 6 and doc["shop_id"] == c.shops["US"]["id"] and "deauthorized" in doc["data"]["message"]
