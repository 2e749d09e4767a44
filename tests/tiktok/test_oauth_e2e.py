"""Merchant OAuth end to end over HTTP (bridge ⇄ sandbox), the CLI connect, doctor, and the sandbox
delivering a signed webhook to a running bridge."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from bridge.bootstrap import App, build
from bridge.cli import Obj, main
from bridge.domain.keys import order_key, shop_key
from bridge.serving import BackgroundServer
from bridge.tiktok.oauth import new_state, state_key
from bridge.tiktok.webhooks import SUBSCRIBED_EVENT_TYPES
from bridge.web import create_app
from tests.tiktok.conftest import Sandbox, make_settings, wire_fast
from tests.tiktok.test_webhooks_web import order_router

OAUTH_VIEWS = ("tiktok_oauth.connect_page", "tiktok_oauth.connect_start", "tiktok_oauth.callback")


def without_console_login(app: Flask) -> Flask:
    """The OAuth protocol tests run without the console login in front (the login itself is the
    console's, tested there; ``test_connect_pages_are_behind_the_console_login`` checks the hook)."""
    for name in OAUTH_VIEWS:
        fn = app.view_functions[name]
        app.view_functions[name] = getattr(fn, "__wrapped__", fn)
    return app


@dataclass
class Bridge:
    url: str
    container: App


@pytest.fixture
def bridge(sqlite_url: str, sandbox: Sandbox) -> Iterator[Bridge]:
    """A running bridge web app wired to the sandbox, its TTNS_PUBLIC_URL being its own address."""
    holder: dict[str, Callable[..., Any]] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    with BackgroundServer(dispatch, port=0, name="bridge") as server:
        c = build(make_settings(sqlite_url, sandbox, public_url=server.url), areas=("shops",))
        c = wire_fast(c)
        c.registry.router("tiktok", "1", order_router)
        holder["app"] = without_console_login(create_app(root=c))
        sandbox.sb.update_app(sandbox.app_key, redirect_uri=server.url + "/oauth/tiktok/callback")
        try:
            yield Bridge(server.url, c)
        finally:
            c.close()


def _authorize_in_browser(bridge: Bridge, sandbox: Sandbox, region: str = "US") -> tuple[requests.Session, str]:
    """Click through: connect page → start → sandbox authorize page → Authorize. Returns the callback URL."""
    s = requests.Session()
    page = s.get(bridge.url + "/connect/tiktok", timeout=10)
    assert page.status_code == 200 and "Connect TikTok Shop" in page.text
    assert 'action=\'/connect/tiktok/start\'' in page.text
    start = s.post(bridge.url + "/connect/tiktok/start", allow_redirects=False, timeout=10)
    assert start.status_code == 303
    authorize = start.headers["Location"]
    assert authorize.startswith(sandbox.url + "/open/authorize?")
    params = parse_qs(urlparse(authorize).query)
    assert params["service_id"] == [sandbox.service_id] and params["state"][0]
    shown = s.get(authorize, timeout=10)
    assert shown.status_code == 200 and "Authorize" in shown.text
    seller = sandbox.shop(region)["seller_open_id"]
    back = s.post(sandbox.url + "/open/authorize", data={"service_id": sandbox.service_id,
                                                         "state": params["state"][0], "open_id": seller,
                                                         "action": "authorize"}, allow_redirects=False, timeout=10)
    assert back.status_code in (302, 303)
    callback = back.headers["Location"]
    assert callback.startswith(bridge.url + "/oauth/tiktok/callback?")
    return s, callback


def test_connect_end_to_end(bridge: Bridge, sandbox: Sandbox) -> None:
    s, callback = _authorize_in_browser(bridge, sandbox)
    done = s.get(callback, allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.text
    us = sandbox.shop("US")
    assert done.headers["Location"] == f"/connect/tiktok?connected={us['id']}"
    page = s.get(bridge.url + done.headers["Location"], timeout=10)
    assert "Connected: Sandbox US Shop" in page.text and "webhooks could not" not in page.text

    store = bridge.container.store
    shop = store.shops.get(us["id"])
    assert shop is not None and shop.cipher == us["cipher"] and shop.status == "active"
    assert shop.region == "US" and shop.open_id == us["seller_open_id"] and shop.webhooks_subscribed_at
    tokens = store.shops.tokens(us["id"])
    assert tokens is not None and tokens.access_token.startswith("TTP_") and tokens.access_expires_at
    with store.engine.connect() as conn:
        raw_access, raw_refresh = conn.execute(
            text("SELECT access_token, refresh_token FROM shops WHERE id = :id"), {"id": us["id"]}).one()
    assert tokens.access_token not in raw_access and tokens.refresh_token not in raw_refresh
    assert "TTP_" not in raw_access  # encrypted at rest

    subs = {(k[1], k[2]): v.address for k, v in sandbox.sb.state.subscriptions.items()}
    assert {et for (sid, et) in subs if sid == us["id"]} == set(SUBSCRIBED_EVENT_TYPES)
    assert set(subs.values()) == {bridge.url + "/webhooks/tiktok"}
    audit = [a for a in store.audit.list() if a["action"] == "shop.connected"]
    assert audit and audit[0]["entity"] == shop_key(us['id']) and "TTP_" not in str(audit)

    replay = s.get(callback, allow_redirects=False, timeout=10)
    assert replay.status_code == 400 and "not valid" in replay.text
    assert store.shops.list() == [store.shops.get(us["id"])]


def test_a_strict_sandbox_refuses_the_loopback_bridge_webhook_address(bridge: Bridge, sandbox: Sandbox) -> None:
    """Without ``webhook_loopback_http`` the sandbox follows the configuration guide (https, a domain
    name, no port): the loopback bridge connects, but its subscriptions are refused and said so."""
    assert bridge.url.startswith("http://127.0.0.1:") and sandbox.sb.config.webhook_loopback_http
    sandbox.sb.config.webhook_loopback_http = False
    try:
        s, callback = _authorize_in_browser(bridge, sandbox)
        done = s.get(callback, allow_redirects=False, timeout=10)
        us = sandbox.shop("US")["id"]
        assert done.status_code == 303 and done.headers["Location"].startswith(f"/connect/tiktok?connected={us}")
        page = s.get(bridge.url + done.headers["Location"], timeout=10)
        assert "webhooks could not all be subscribed" in page.text
        shop = bridge.container.store.shops.get(us)
        assert shop is not None and shop.status == "active" and shop.webhooks_subscribed_at is None
        assert sandbox.sb.state.subscriptions == {}
        sandbox.sb.place_order(us, [{"seller_sku": "US-MUG-12"}], hold=False)
        assert sandbox.sb.wait_webhooks(timeout=10)
        assert sandbox.sb.webhook_deliveries(shop_id=us) == []
    finally:
        sandbox.sb.config.webhook_loopback_http = True


def test_bad_expired_and_denied_states_are_refused(bridge: Bridge, sandbox: Sandbox) -> None:
    c = bridge.container
    key = state_key(c.settings)
    expired = new_state(c.store, key, ttl_seconds=-1)
    forged = "abcdefghijklmnopqrstuvwxyz012345." + "0" * 32
    tampered = new_state(c.store, key)[:-1] + "x"
    code = sandbox.sb.authorize(sandbox.app_key, shop_id=sandbox.shop("US")["id"])
    for state in (expired, forged, tampered, "", "no-dot"):
        r = requests.get(bridge.url + "/oauth/tiktok/callback", params={"code": code, "state": state}, timeout=10)
        assert r.status_code == 400 and "invalid, has expired or was already used" in r.text
        assert "<script" not in r.text
    denied = requests.get(bridge.url + "/oauth/tiktok/callback",
                          params={"code": "null", "error": "auth_denied", "state": new_state(c.store, key)},
                          timeout=10)
    assert denied.status_code == 400 and "did not authorize" in denied.text
    assert c.store.shops.list() == []


def test_a_spent_code_is_refused_with_a_clear_page(bridge: Bridge, sandbox: Sandbox) -> None:
    s, callback = _authorize_in_browser(bridge, sandbox)
    code = parse_qs(urlparse(callback).query)["code"][0]
    sandbox.sb.state.auth_codes[code].used = True  # e.g. already exchanged by `ttns shops connect`
    r = s.get(callback, timeout=10)
    assert r.status_code == 400 and "invalid, expired" in r.text


class _KeepOpen(Obj):
    """The CLI closes its app at exit; tests reuse theirs."""

    def __init__(self, container: App) -> None:
        super().__init__()
        self._app = container

    def close(self) -> None:
        return


def test_cli_connect_list_flows_and_doctor(container: App, sandbox: Sandbox) -> None:
    runner = CliRunner()
    us = sandbox.shop("US")
    code = sandbox.sb.authorize(sandbox.app_key, shop_id=us["id"])
    r = runner.invoke(main, ["shops", "connect", "--auth-code", code, "--no-webhooks"], obj=_KeepOpen(container))
    assert r.exit_code == 0, r.output
    assert f"connected {us['id']}" in r.output
    again = runner.invoke(main, ["shops", "connect", "--auth-code", code], obj=_KeepOpen(container))
    assert again.exit_code != 0 and "already used" in again.output

    listed = runner.invoke(main, ["shops", "list"], obj=_KeepOpen(container))
    assert listed.exit_code == 0 and us["id"] in listed.output and "Sandbox US Shop" in listed.output
    assert re.search(r"\b6d 23h\b", listed.output)  # the token's countdown

    off = runner.invoke(main, ["shops", "flows", us["id"], "--disable", "inventory"], obj=_KeepOpen(container))
    assert off.exit_code == 0 and re.search(r"inventory\s+off", off.output)
    shop = container.store.shops.get(us["id"])
    assert shop is not None and not shop.flow_enabled("inventory") and shop.flow_enabled("orders")
    bad = runner.invoke(main, ["shops", "flows", us["id"], "--enable", "nonsense"], obj=_KeepOpen(container))
    assert bad.exit_code != 0

    from bridge.tiktok.doctor import doctor_checks

    checks = {ch.name: ch for ch in doctor_checks(container)}
    label = f"tiktok shop Sandbox US Shop ({us['id']})"
    assert checks["tiktok settings"].ok and checks[label].ok

    sandbox.sb.revoke_token(shop_id=us["id"])
    checks = {ch.name: ch for ch in doctor_checks(container)}
    assert not checks[label].ok and "revoked" in checks[label].detail and "/connect/tiktok" in checks[label].fix
    doc = runner.invoke(main, ["doctor"], obj=_KeepOpen(container))
    assert doc.exit_code != 0
    assert f"[FAIL] {label}: the access token was revoked" in doc.output


def test_sandbox_webhook_lands_in_the_inbox_exactly_once(bridge: Bridge, sandbox: Sandbox) -> None:
    s, callback = _authorize_in_browser(bridge, sandbox)
    assert s.get(callback, allow_redirects=False, timeout=10).status_code == 303
    sandbox.sb.set_faults(webhook_duplicate=1.0)  # TikTok may deliver twice
    us = sandbox.shop("US")["id"]
    order = sandbox.sb.place_order(us, [{"seller_sku": "US-MUG-12"}], hold=False)
    assert sandbox.sb.wait_webhooks(timeout=10)
    deliveries = [d for d in sandbox.sb.webhook_deliveries(shop_id=us, type=1)]
    assert len(deliveries) >= 2 and all(a["status"] == 200 for d in deliveries for a in d["attempts"])
    events = [e for e in bridge.container.store.inbox.recent(source="tiktok") if e.topic == "1"]
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids)) >= 1  # one row per notification, duplicates absorbed
    assert all(e.entity == order_key(us, order['id']) for e in events)
    jobs = bridge.container.store.queue.counts()
    assert jobs.get("queued") == len(ids)


def test_seller_deauthorization_disables_the_shop(bridge: Bridge, sandbox: Sandbox) -> None:
    from bridge.tiktok import webhooks as tts

    s, callback = _authorize_in_browser(bridge, sandbox)
    assert s.get(callback, allow_redirects=False, timeout=10).status_code == 303
    us = sandbox.shop("US")["id"]
    sandbox.sb.deauthorize(sandbox.app_key, us)
    assert sandbox.sb.wait_webhooks(timeout=10)
    c = bridge.container
    ev = next(e for e in c.store.inbox.recent(source="tiktok") if e.topic == str(tts.SELLER_DEAUTHORIZATION))
    assert ev.status == "routed"
    assert c.worker(threads=1).drain() == 1
    shop = c.store.shops.get(us)
    assert shop is not None and shop.status == "deauthorized" and not shop.flow_enabled("orders")
    (exc,) = c.store.exceptions.list(status="open")
    assert exc.code == "TIKTOK_SHOP_DEAUTHORIZED" and exc.owner == "admin" and "/connect/tiktok" in exc.fix_hint
    assert any(a["action"] == "shop.deauthorized" for a in c.store.audit.list())


def test_connect_pages_are_behind_the_console_login(sqlite_url: str, sandbox: Sandbox) -> None:
    c = build(make_settings(sqlite_url, sandbox), areas=())
    app = create_app(root=c)
    assert all(hasattr(app.view_functions[name], "__wrapped__") for name in OAUTH_VIEWS)
    client = app.test_client()
    page = client.get("/connect/tiktok", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    back = client.get("/oauth/tiktok/callback?code=abc&state=xyz", headers={"Accept": "text/html"})
    assert back.status_code == 302 and "/login" in back.headers["Location"]
    assert client.post("/connect/tiktok/start").status_code in (401, 403)
    c.close()


def test_connect_through_the_console_login(sqlite_url: str, sandbox: Sandbox) -> None:
    """The real path: log in to the console, click Connect (the form carries the CSRF token), authorize
    at TikTok, land back on the callback with the session."""
    holder: dict[str, Callable[..., Any]] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    with BackgroundServer(dispatch, port=0, name="bridge-login") as server:
        c = build(make_settings(sqlite_url, sandbox, public_url=server.url), areas=("shops",))
        c = wire_fast(c)
        app = create_app(root=c)
        assert "auth" in app.blueprints  # the console registers the login routes
        holder["app"] = app
        sandbox.sb.update_app(sandbox.app_key, redirect_uri=server.url + "/oauth/tiktok/callback")
        c.store.users.add("admin", "a-long-enough-password")
        s = requests.Session()
        anonymous = s.get(server.url + "/connect/tiktok", allow_redirects=False, timeout=10)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
        login_page = s.get(server.url + anonymous.headers["Location"], timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
        assert token is not None
        r = s.post(server.url + "/login", data={"csrf_token": token.group(1), "username": "admin",
                                                "password": "a-long-enough-password", "next": "/connect/tiktok"},
                   allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"].endswith("/connect/tiktok")
        page = s.get(server.url + "/connect/tiktok", timeout=10)
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and form_token is not None
        refused = s.post(server.url + "/connect/tiktok/start", allow_redirects=False, timeout=10)
        assert refused.status_code == 403  # no CSRF token, no state issued
        start = s.post(server.url + "/connect/tiktok/start", data={"csrf_token": form_token.group(1)},
                       allow_redirects=False, timeout=10)
        assert start.status_code == 303
        state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
        back = s.post(sandbox.url + "/open/authorize", data={
            "service_id": sandbox.service_id, "state": state, "open_id": sandbox.shop("US")["seller_open_id"],
            "action": "authorize"}, allow_redirects=False, timeout=10)
        # The state is bound to the session that clicked Connect: the same link in another logged-in
        # session (a victim lured onto an attacker's callback link) is refused, and does not use it up.
        other = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', other.get(server.url + "/login", timeout=10).text)
        assert token is not None
        assert other.post(server.url + "/login", data={"csrf_token": token.group(1), "username": "admin",
                                                       "password": "a-long-enough-password"},
                          allow_redirects=False, timeout=10).status_code == 303
        hijack = other.get(back.headers["Location"], allow_redirects=False, timeout=10)
        assert hijack.status_code == 400 and "another browser session" in hijack.text
        assert c.store.shops.get(sandbox.shop("US")["id"]) is None
        done = s.get(back.headers["Location"], allow_redirects=False, timeout=10)
        assert done.status_code == 303, done.text
        assert c.store.shops.get(sandbox.shop("US")["id"]) is not None
        audit = [a for a in c.store.audit.list() if a["action"] == "shop.connected"]
        assert audit and audit[0]["actor"] == "user:admin"
        c.close()
