"""Webhook addresses in the TikTok sandbox: the configuration guide's URL requirements (``https://``,
a domain name, no port) and Update Shop Webhook's 255-character limit, enforced by default; the
``webhook_loopback_http`` knob lets a loopback bridge subscribe over ``http://`` with a port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bridge.sandbox.tiktok import SandboxError, TikTokSandbox, TikTokSandboxConfig
from bridge.sandbox.tiktok.webhooks import webhook_address_problem
from tests.sandbox.conftest import TikTokEnv, WebhookReceiver, _env

PUT = ("PUT", "/event/202309/webhooks")
EVENT_INVALID_PARAM = 36009003  # Update Shop Webhook documents no code: the envelope's generic one

REFUSED_STRICTLY = {
    "http, IP and port (the loopback bridge)": "http://127.0.0.1:8700/webhooks/tiktok",
    "an IP address": "https://203.0.113.7/webhooks/tiktok",
    "an IPv6 address": "https://[2001:db8::1]/webhooks/tiktok",
    "a port": "https://bridge.example.com:8443/webhooks/tiktok",
    "the default port written out": "https://bridge.example.com:443/webhooks/tiktok",
    "http on a domain": "http://bridge.example.com/webhooks/tiktok",
    "localhost": "https://localhost/webhooks/tiktok",
    "no host": "https:///webhooks/tiktok",
    "another scheme": "ftp://bridge.example.com/webhooks/tiktok",
    "not a URL": "bridge.example.com/webhooks/tiktok",
}
ACCEPTED = "https://bridge.example.com/webhooks/tiktok"


@pytest.fixture
def strict() -> Iterator[TikTokEnv]:
    yield from _env(TikTokSandboxConfig(seed=7, webhook_time_scale=0.0001, tick_interval=0.05))


@pytest.fixture
def lenient() -> Iterator[TikTokEnv]:
    yield from _env(TikTokSandboxConfig(seed=7, webhook_time_scale=0.0001, tick_interval=0.05,
                                        webhook_loopback_http=True))


def _subscriptions(env: TikTokEnv) -> dict[str, str]:
    rows = env.client.ok("GET", "/event/202309/webhooks")["webhooks"]
    return {r["event_type"]: r["address"] for r in rows}


def test_the_knob_is_off_by_default() -> None:
    assert TikTokSandboxConfig().webhook_loopback_http is False


@pytest.mark.parametrize("address", list(REFUSED_STRICTLY.values()), ids=list(REFUSED_STRICTLY))
def test_strict_update_shop_webhook_refuses_what_the_guide_rules_out(strict: TikTokEnv, address: str) -> None:
    status, code, message = strict.client.err(*PUT, None, {"address": address, "event_type": "ORDER_STATUS_CHANGE"})
    assert (status, code) == (400, EVENT_INVALID_PARAM)
    assert message.startswith("Invalid request parameters: address: ")
    assert _subscriptions(strict) == {}


def test_strict_messages_name_the_rule(strict: TikTokEnv) -> None:
    def message(address: str) -> str:
        return strict.client.err(*PUT, None, {"address": address, "event_type": "PACKAGE_UPDATE"})[2]

    assert "https:// scheme" in message("http://127.0.0.1:8700/webhooks/tiktok")
    assert "not an IP address" in message("https://127.0.0.1/webhooks/tiktok")
    assert "must not have a port" in message("https://bridge.example.com:8700/webhooks/tiktok")


def test_strict_accepts_an_https_domain_without_a_port(strict: TikTokEnv) -> None:
    strict.client.ok(*PUT, None, {"address": ACCEPTED, "event_type": "ORDER_STATUS_CHANGE"})
    assert _subscriptions(strict) == {"ORDER_STATUS_CHANGE": ACCEPTED}


@pytest.mark.parametrize("env_name", ["strict", "lenient"])
def test_length_and_event_type_enum_hold_either_way(env_name: str, request: pytest.FixtureRequest) -> None:
    env: TikTokEnv = request.getfixturevalue(env_name)
    at_limit = "https://bridge.example.com/" + "a" * (255 - len("https://bridge.example.com/"))
    env.client.ok(*PUT, None, {"address": at_limit, "event_type": "RETURN_STATUS_CHANGE"})
    status, code, message = env.client.err(*PUT, None, {"address": at_limit + "a",
                                                        "event_type": "RETURN_STATUS_CHANGE"})
    assert (status, code) == (400, EVENT_INVALID_PARAM) and "longer than 255" in message
    status, code, message = env.client.err(*PUT, None, {"address": ACCEPTED, "event_type": "ORDER_CREATED"})
    assert (status, code) == (400, EVENT_INVALID_PARAM) and "event_type" in message
    assert _subscriptions(env) == {"RETURN_STATUS_CHANGE": at_limit}


def test_strict_refusal_keeps_the_envelope_with_errors_as_http_200() -> None:
    env = _env(TikTokSandboxConfig(seed=7, webhook_enabled=False, errors_as_http_200=True))
    tiktok = next(env)
    try:
        status, code, _ = tiktok.client.err(*PUT, None, {"address": "http://127.0.0.1:8700/webhooks/tiktok",
                                                         "event_type": "ORDER_STATUS_CHANGE"})
        assert (status, code) == (200, EVENT_INVALID_PARAM)
    finally:
        env.close()


def test_strict_app_configuration_and_control_subscribe_refuse_loopback_http(strict: TikTokEnv) -> None:
    sb, c = strict.sandbox, strict.client
    shop = c.shops["US"]["id"]
    loopback = "http://127.0.0.1:8700/webhooks/tiktok"
    with pytest.raises(SandboxError, match="webhook_url: must use the https:// scheme"):
        sb.update_app(c.app_key, webhook_url=loopback)
    with pytest.raises(SandboxError, match="webhook_url: must be a domain name, not an IP address"):
        sb.add_app(webhook_url="https://127.0.0.1/webhooks/tiktok")
    with pytest.raises(SandboxError, match="address: must not have a port"):
        sb.subscribe(c.app_key, shop, "ORDER_STATUS_CHANGE", "https://bridge.example.com:8700/x")
    r = requests.post(f"{strict.url}/_sandbox/webhooks/subscribe", timeout=10, json={
        "app_key": c.app_key, "shop_id": shop, "event_type": "ORDER_STATUS_CHANGE", "address": loopback})
    assert r.status_code == 400 and r.json() == {"error": "bad_request",
                                                 "message": "address: must use the https:// scheme"}
    r = requests.patch(f"{strict.url}/_sandbox/apps/{c.app_key}", timeout=10, json={"webhook_url": loopback})
    assert r.status_code == 400 and r.json()["message"] == "webhook_url: must use the https:// scheme"
    assert sb.describe()["apps"][0]["webhook_url"] is None and _subscriptions(strict) == {}
    # a documented address is taken, and clearing the default is always allowed
    assert sb.update_app(c.app_key, webhook_url=ACCEPTED)["webhook_url"] == ACCEPTED
    assert sb.update_app(c.app_key, webhook_url="")["webhook_url"] is None
    sb.subscribe(c.app_key, shop, "ORDER_STATUS_CHANGE", ACCEPTED)
    assert _subscriptions(strict) == {"ORDER_STATUS_CHANGE": ACCEPTED}


def test_strict_refuses_a_loopback_default_address_in_the_configuration() -> None:
    with pytest.raises(SandboxError, match="webhook_url: must use the https:// scheme"):
        TikTokSandbox(TikTokSandboxConfig(webhook_enabled=False, demo_webhook_url="http://127.0.0.1:8700/hook"))
    sb = TikTokSandbox(TikTokSandboxConfig(webhook_enabled=False, demo_webhook_url="http://127.0.0.1:8700/hook",
                                           webhook_loopback_http=True))
    try:
        assert sb.describe()["apps"][0]["webhook_url"] == "http://127.0.0.1:8700/hook"
    finally:
        sb.close()


def test_knob_lets_the_loopback_receiver_subscribe_and_receive(lenient: TikTokEnv,
                                                               webhook_receiver: WebhookReceiver) -> None:
    c, sb = lenient.client, lenient.sandbox
    assert webhook_receiver.url.startswith("http://127.0.0.1:")
    c.ok(*PUT, None, {"address": webhook_receiver.url, "event_type": "ORDER_STATUS_CHANGE"})
    assert _subscriptions(lenient) == {"ORDER_STATUS_CHANGE": webhook_receiver.url}
    order = sb.place_order(c.shops["US"]["id"], [{"seller_sku": "US-MUG-12"}], hold=False)
    hits = webhook_receiver.wait_for(2)
    assert len(hits) >= 2 and all(order["id"].encode() in h["body"] for h in hits)
    assert {a["status"] for d in sb.webhook_deliveries(type=1) for a in d["attempts"]} == {200}


@pytest.mark.parametrize("address", [
    "http://10.0.0.7:8700/webhooks/tiktok",      # http on a private, not a loopback, address
    "http://bridge.example.com:8700/webhooks/tiktok",  # http and a port on a domain
    "https://203.0.113.7/webhooks/tiktok",       # a public IP address
])
def test_knob_relaxes_loopback_only(lenient: TikTokEnv, address: str) -> None:
    status, code, _ = lenient.client.err(*PUT, None, {"address": address, "event_type": "ORDER_STATUS_CHANGE"})
    assert (status, code) == (400, EVENT_INVALID_PARAM)


@pytest.mark.parametrize("address", ["http://127.0.0.1:8700/x", "http://127.8.9.1/x", "http://[::1]:8700/x",
                                     "http://localhost:8700/x", "https://localhost/x"])
def test_loopback_addresses_pass_only_with_the_knob(address: str) -> None:
    assert webhook_address_problem(address, loopback_http=True) is None
    assert webhook_address_problem(address) is not None
