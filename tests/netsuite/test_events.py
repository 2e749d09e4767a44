from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.bootstrap import App, build
from bridge.netsuite.events import sign, verify
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.web import create_app
from bridge.worker.registry import InboundEvent

NOW = 1_800_000_000


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"event_id":"e1"}'
    expected = hmac.new(b"k3y", b"1800000000." + body, hashlib.sha256).hexdigest()
    assert sign("k3y", NOW, body) == expected == sign(b"k3y", str(NOW), body)


@pytest.mark.parametrize(
    ("ts", "sig", "ok", "reason"),
    [
        (str(NOW), None, True, ""),
        (str(NOW - 300), None, True, ""),
        (str(NOW + 300), None, True, ""),
        (str(NOW - 301), None, False, "stale"),
        (str(NOW + 301), None, False, "stale"),
        (None, None, False, "timestamp"),
        ("17e8", None, False, "timestamp"),
        (str(NOW), "0" * 64, False, "mismatch"),
        (str(NOW), "xyz", False, "malformed signature"),
        (str(NOW), "", False, "malformed signature"),
    ],
)
def test_verify(ts: str | None, sig: str | None, ok: bool, reason: str) -> None:
    body = b'{"event_id":"e1","type":"inventory.changed"}'
    signature = sig if sig is not None else sign("k3y", ts or "0", body)
    verdict = verify("k3y", ts, body, signature, now=NOW)
    assert bool(verdict) is ok and reason in verdict.reason


def test_verify_refuses_a_changed_body_and_another_key() -> None:
    body = b'{"a":1}'
    s = sign("k3y", NOW, body)
    assert verify("k3y", str(NOW), body, s.upper(), now=NOW)  # hex case does not matter
    assert not verify("k3y", str(NOW), b'{"a":2}', s, now=NOW)
    assert not verify("other", str(NOW), body, s, now=NOW)
    assert not verify("", str(NOW), body, s, now=NOW)
    # the timestamp is signed: moving it invalidates the signature
    assert not verify("k3y", str(NOW + 1), body, s, now=NOW)


# ---------------------------------------------------------------------------------------------
# POST /netsuite/events
# ---------------------------------------------------------------------------------------------
SECRET = secrets.token_hex(16)


@pytest.fixture
def container(sqlite_url: str) -> Iterator[App]:
    c = build(Settings(database_url=sqlite_url, netsuite_events_secret=SECRET, netsuite_account="1234567_SB1",
                       environment="test"), areas=())
    yield c
    c.close()


@pytest.fixture
def client(container: App) -> FlaskClient:
    return create_app(root=container).test_client()


def envelope(event_id: str = "if:77:ship:abc", type_: str = "item_fulfillment.saved", **extra: Any) -> bytes:
    env = {"event_id": event_id, "type": type_, "account": "1234567_SB1", "occurred_at": "2026-11-22T10:00:00.000Z",
           "data": {"fulfillment_id": "77", "tiktok_shop_id": "shop-1", "tiktok_order_id": "5761"}}
    env.update(extra)
    return json.dumps(env).encode()


def post(client: FlaskClient, body: bytes, *, ts: int | None = None, secret: str = SECRET,
         signature: str | None = None) -> Any:
    ts = int(time.time()) if ts is None else ts
    sig = signature if signature is not None else sign(secret, ts, body)
    return client.post("/netsuite/events", data=body, content_type="application/json",
                       headers={"X-TTNS-Timestamp": str(ts), "X-TTNS-Signature": sig})


def test_a_valid_event_is_stored_and_answered_202(client: FlaskClient, container: App) -> None:
    body = envelope()
    resp = post(client, body)
    assert resp.status_code == 202 and resp.get_json()["status"] == "accepted"
    ev = container.store.inbox.find("netsuite", "if:77:ship:abc")
    assert ev is not None and ev.topic == "item_fulfillment.saved" and ev.body == body
    assert ev.shop_id == "shop-1" and ev.entity == "order:shop-1:5761"
    assert "X-TTNS-Signature" not in ev.headers


def test_routed_jobs_commit_with_the_event(client: FlaskClient, container: App) -> None:
    def router(ev: InboundEvent) -> list[JobSpec]:
        return [JobSpec(kind="fulfillment.push", key=f"if:{ev.data['data']['fulfillment_id']}",
                        payload={"event": ev.event_id}, idempotency_key=f"fp:{ev.event_id}")]

    container.registry.router("netsuite", "item_fulfillment.saved", router)
    resp = post(client, envelope("if:78:ship:x"))
    assert resp.status_code == 202 and resp.get_json()["jobs"] == 1
    assert container.store.queue.counts() == {"queued": 1}


@pytest.mark.parametrize("case", ["bad signature", "stale", "future", "wrong secret", "no headers"])
def test_bad_or_stale_signatures_are_401_and_store_nothing(client: FlaskClient, container: App,
                                                           case: str) -> None:
    body = envelope()
    if case == "bad signature":
        resp = post(client, body, signature="ab" * 32)
    elif case == "stale":
        resp = post(client, body, ts=int(time.time()) - 301)
    elif case == "future":
        resp = post(client, body, ts=int(time.time()) + 400)
    elif case == "wrong secret":
        resp = post(client, body, secret="not-the-secret")
    else:
        resp = client.post("/netsuite/events", data=body, content_type="application/json")
    assert resp.status_code == 401
    assert container.store.inbox.count("netsuite") == 0


def test_a_replay_answers_200_without_a_second_event(client: FlaskClient, container: App) -> None:
    body = envelope("if:79:edit:r")
    assert post(client, body).status_code == 202
    again = post(client, body)  # the same request again (SuiteScript retry, or a replay inside the window)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    resigned = post(client, body, ts=int(time.time()) - 10)
    assert resigned.status_code == 200
    assert container.store.inbox.count("netsuite") == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"type": "inventory.changed", "data": {}}).encode(),
        json.dumps({"event_id": "", "type": "inventory.changed", "data": {}}).encode(),
        json.dumps({"event_id": "e", "type": "", "data": {}}).encode(),
        json.dumps({"event_id": "e", "type": "inventory.changed", "data": []}).encode(),
        json.dumps({"event_id": "e", "type": "inventory.changed", "data": {}, "occurred_at": "yesterday"}).encode(),
        json.dumps({"event_id": "e" * 201, "type": "inventory.changed", "data": {}}).encode(),
    ],
)
def test_malformed_envelopes_are_400_with_a_log_line(client: FlaskClient, container: App, body: bytes,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.web.netsuite_events"):
        resp = post(client, body)
    assert resp.status_code == 400 and "malformed" in resp.get_json()["error"]
    assert any("malformed" in r.getMessage() for r in caplog.records)
    assert container.store.inbox.count("netsuite") == 0


def test_events_from_another_account_are_refused(client: FlaskClient, container: App) -> None:
    resp = post(client, envelope("e-other", account="7654321"))
    assert resp.status_code == 403 and container.store.inbox.count("netsuite") == 0
    ok = post(client, envelope("e-same-host-form", account="1234567-sb1"))
    assert ok.status_code == 202


def test_without_a_secret_the_endpoint_refuses_everything(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url), areas=())
    try:
        resp = post(create_app(root=c).test_client(), envelope())
        assert resp.status_code == 503 and c.store.inbox.count() == 0
    finally:
        c.close()


def test_unknown_types_are_stored_and_skipped(client: FlaskClient, container: App) -> None:
    resp = post(client, envelope("e-new", type_="something.new"))
    assert resp.status_code == 202 and resp.get_json()["routed"] == "skipped"
