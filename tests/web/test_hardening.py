"""The rest of the security list: CSP and frame protection on every page, NetSuite clock skew made
visible, two app secrets and two Fernet keys during a rotation, private files, durable SQLite commits."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.bootstrap import App, build
from bridge.crypto import SecretBox, generate_key
from bridge.netsuite.events import sign as ns_sign
from bridge.store.db import make_engine
from bridge.tiktok import webhooks as tts
from bridge.web import create_app
from tests.console.conftest import PASSWORD, console_settings, login

OLD_KEY, NEW_KEY = generate_key(), generate_key()


@pytest.fixture
def bridge(sqlite_url: str) -> Iterator[App]:
    c = build(console_settings(sqlite_url, tiktok_app_secret="fake-current-" + secrets.token_hex(6),
                               tiktok_app_secret_previous="fake-previous-" + secrets.token_hex(6)), areas=())
    c.store.users.add("ops", PASSWORD)
    yield c
    c.close()


@pytest.fixture
def client(bridge: App) -> FlaskClient:
    return create_app(root=bridge).test_client()


# --- CSP and frame protection --------------------------------------------------------------------------------
def test_every_page_carries_a_csp_and_refuses_framing(bridge: App, client: FlaskClient) -> None:
    anonymous = ["/login", "/healthz", "/readyz", "/metrics", "/no-such-page", "/connect/tiktok"]
    for path in anonymous:
        resp = client.get(path)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert resp.headers.get("X-Frame-Options") == "DENY", path
        assert "unsafe-inline" not in csp, path
    assert login(client, "ops", PASSWORD).status_code == 303
    connect = client.get("/connect/tiktok")
    assert connect.status_code == 200
    csp = connect.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'sha256-" in csp and "unsafe-inline" not in csp
    assert connect.headers["X-Frame-Options"] == "DENY"
    webhook = client.post("/webhooks/tiktok", data=b"{}")
    assert webhook.status_code == 401 and webhook.headers["X-Frame-Options"] == "DENY"


def test_the_connect_pages_inline_style_is_exactly_the_one_the_csp_allows(bridge: App,
                                                                         client: FlaskClient) -> None:
    import base64
    import hashlib
    import re

    assert login(client, "ops", PASSWORD).status_code == 303
    page = client.get("/connect/tiktok")
    styles = re.findall(r"<style>(.*?)</style>", page.get_data(as_text=True), re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]


# --- NetSuite clock skew -----------------------------------------------------------------------------------------
def _metrics(client: FlaskClient, token: str) -> dict[str, float]:
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    return {s.name: s.value for f in text_string_to_metric_families(resp.get_data(as_text=True))
            for s in f.samples if not s.labels}


def test_clock_skew_is_an_admin_exception_naming_the_offset_and_a_metric(bridge: App,
                                                                         client: FlaskClient) -> None:
    secret = bridge.settings.netsuite_events_secret.get_secret_value()  # type: ignore[union-attr]
    token = bridge.settings.metrics_token.get_secret_value()  # type: ignore[union-attr]
    body = json.dumps({"event_id": "if:1:ship", "type": "item_fulfillment.saved", "account": "1234567_SB1",
                       "data": {}}).encode()
    fresh = int(time.time()) - 3
    ok = client.post("/netsuite/events", data=body, content_type="application/json",
                     headers={"X-TTNS-Timestamp": str(fresh), "X-TTNS-Signature": ns_sign(secret, fresh, body)})
    assert ok.status_code == 202
    assert 2 <= _metrics(client, token)["ttns_netsuite_clock_skew_seconds"] <= 60
    for _ in range(2):
        stale = int(time.time()) - 754  # NetSuite's clock 12.5 minutes behind
        resp = client.post("/netsuite/events", data=body.replace(b"if:1", b"if:2"), content_type="application/json",
                           headers={"X-TTNS-Timestamp": str(stale),
                                    "X-TTNS-Signature": ns_sign(secret, stale, body.replace(b"if:1", b"if:2"))})
        assert resp.status_code == 401
        apart = re.search(r"clocks are (\d+) s apart", resp.get_json()["error"])
        assert apart and 754 <= int(apart.group(1)) <= 760  # real time passes between signing and checking
    (exc,) = bridge.store.exceptions.list(status="open")
    assert exc.code == "NETSUITE_CLOCK_SKEW" and exc.owner == "admin" and exc.occurrences == 2
    offset = exc.evidence["offset_seconds"]
    assert 754 <= offset <= 760 and f"NetSuite's clock is {offset} s behind this bridge's" in exc.title
    m = _metrics(create_app(root=bridge).test_client(), token)  # a fresh app: no cached scrape
    assert m["ttns_netsuite_clock_skew_seconds"] == offset
    assert m["ttns_netsuite_events_refused_clock_skew_total"] == 2
    # a wrong signature is not a clock problem: no exception for a forger to raise
    client.post("/netsuite/events", data=body, content_type="application/json",
                headers={"X-TTNS-Timestamp": str(stale), "X-TTNS-Signature": "ab" * 32})
    assert bridge.store.exceptions.get(exc.id).occurrences == 2  # type: ignore[union-attr]


# --- rotation: two app secrets, two Fernet keys --------------------------------------------------------------------
def _webhook(client: FlaskClient, secret: str, nid: str) -> Any:
    body = json.dumps({"type": 1, "tts_notification_id": nid, "shop_id": "1", "data": {"order_id": "5"}}).encode()
    return client.post("/webhooks/tiktok", data=body, headers={"Authorization": tts.sign("fakeappkey", secret, body)})


def test_webhooks_signed_with_either_app_secret_are_accepted_during_a_rotation(bridge: App,
                                                                               client: FlaskClient) -> None:
    s = bridge.settings
    current = s.tiktok_app_secret.get_secret_value()  # type: ignore[union-attr]
    previous = s.tiktok_app_secret_previous.get_secret_value()  # type: ignore[union-attr]
    assert _webhook(client, current, "n-current").status_code == 200
    assert _webhook(client, previous, "n-previous").status_code == 200
    assert _webhook(client, "fake-other-" + secrets.token_hex(6), "n-other").status_code == 401
    assert bridge.store.inbox.count() == 2
    after = build(s.model_copy(update={"tiktok_app_secret_previous": None}), areas=())  # rotation finished
    try:
        done = create_app(root=after).test_client()
        assert _webhook(done, previous, "n-late").status_code == 401
        assert _webhook(done, current, "n-late").status_code == 200
    finally:
        after.close()


def test_fernet_rotation_in_the_documented_order_never_breaks_a_running_process(sqlite_url: str) -> None:
    """docs/security.md: 1. `old,new` everywhere; 2. `new,old` everywhere; 3. `ttns keys rotate`; 4. `new`.
    Any two neighbouring steps run side by side while processes restart: each reads what the other wrote,
    accepts its console cookies and its OAuth states."""
    steps = [OLD_KEY, f"{OLD_KEY},{NEW_KEY}", f"{NEW_KEY},{OLD_KEY}", NEW_KEY]
    for before, after in zip(steps, steps[1:], strict=False):
        a, b = SecretBox(before), SecretBox(after)
        assert a.decrypt(b.encrypt("tok-a")) == "tok-a" and b.decrypt(a.encrypt("tok-b")) == "tok-b"
    # skipping step 1 is what broke running processes: one still on `old` cannot read what `new,old` wrote.
    # That is now a retriable error (the job waits for the restart), not a fatal one.
    from bridge.crypto import KeyRotationPending
    from bridge.errors import FatalError, RetriableError

    with pytest.raises(KeyRotationPending) as caught:
        SecretBox(OLD_KEY).decrypt(SecretBox(steps[2]).encrypt("tok"))
    assert isinstance(caught.value, RetriableError) and not isinstance(caught.value, FatalError)
    assert "docs/security.md" in caught.value.message
    # step 3 re-encrypts what step 0 wrote, so step 4 (the old key gone) still reads it
    assert SecretBox(NEW_KEY).decrypt(SecretBox(steps[2]).rotate(SecretBox(OLD_KEY).encrypt("t"))) == "t"
    # the console's cookies and OAuth states across steps 1 and 2 (the moment the first key changes)
    c1 = build(console_settings(sqlite_url, secret_key=steps[1]), areas=())
    c2 = build(console_settings(sqlite_url, secret_key=steps[2]), areas=())
    try:
        c1.store.users.add("ops", PASSWORD)
        web1, web2 = create_app(root=c1).test_client(), create_app(root=c2).test_client()
        assert login(web2, "ops", PASSWORD).status_code == 303  # signed with the new key's derivative
        web1.set_cookie("ttns_session", web2.get_cookie("ttns_session").value)  # type: ignore[union-attr]
        assert web1.get("/console/").status_code == 200  # the process still on `old,new` accepts it
        from bridge.tiktok.oauth import consume_state, new_state, state_key, state_keys

        state = new_state(c1.store, state_key(c1.settings))
        assert consume_state(c2.store, state_keys(c2.settings), state)
    finally:
        c1.close()
        c2.close()


# --- files and durability ------------------------------------------------------------------------------------------
def test_a_new_sqlite_database_and_its_wal_are_private_and_commits_are_fsynced(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        assert level == 2  # FULL: the WAL is synced at every commit, an acknowledged webhook survives power loss
        for name in ("fresh.db", "fresh.db-wal"):
            mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
        engine.dispose()
    finally:
        os.umask(old)


def test_the_demo_log_key_and_env_files_are_private_from_the_first_byte(tmp_path: Path) -> None:
    from bridge.private_files import append_private, write_private

    old = os.umask(0o022)
    try:
        with append_private(tmp_path / "bridge.log") as f:
            f.write("x\n")
        (tmp_path / "bridge.env").write_text("old")  # an existing world-readable file is made private
        write_private(tmp_path / "bridge.env", b"TTNS_SECRET_KEY=fake\n")
        for name in ("bridge.log", "bridge.env"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        assert (tmp_path / "bridge.env").read_bytes() == b"TTNS_SECRET_KEY=fake\n"
    finally:
        os.umask(old)


def test_behind_a_trusted_proxy_the_throttle_sees_the_client_address(sqlite_url: str) -> None:
    c = build(console_settings(sqlite_url, trusted_proxies=1), areas=())
    try:
        c.store.users.add("ops", PASSWORD)
        client = create_app(root=c).test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
        for i in range(5):
            client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
            assert login(client, "ops", f"wrong-{i}-password").status_code == 401
        assert login(client, "ops", PASSWORD).status_code == 429
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.60"  # another client behind the same proxy
        assert login(client, "ops", PASSWORD).status_code == 303
    finally:
        c.close()
