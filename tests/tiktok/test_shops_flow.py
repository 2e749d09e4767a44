"""Shop lifecycle: scheduled token refresh, refresh on expiry, expiring authorizations."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from bridge.bootstrap import App
from bridge.domain.keys import shop_key
from bridge.flows import shops as flow
from bridge.store.queue import JobSpec
from bridge.store.repos import Tokens
from bridge.web.ingest import ingest
from bridge.worker.registry import InboundEvent
from tests.tiktok.conftest import Sandbox, connect_shop


def _expire_soon(container: App, shop_id: str, delta: timedelta) -> Tokens:
    t = container.store.shops.tokens(shop_id)
    assert t is not None
    soon = Tokens(t.access_token, t.refresh_token, container.clock.now() + delta, t.refresh_expires_at)
    container.store.shops.set_tokens(shop_id, soon)
    return soon


def _run_refresh(container: App) -> None:
    container.store.queue.enqueue(JobSpec(kind=flow.KIND_REFRESH, key="shops:tokens"))
    assert container.worker(threads=1).drain() == 1


def test_registered_schedule_routers_and_handlers(container: App) -> None:
    reg = container.registry
    assert {flow.KIND_REFRESH, flow.KIND_DEAUTHORIZED, flow.KIND_EXPIRING} <= set(reg.kinds())
    (sched,) = [s for s in reg.schedules() if s.kind == flow.KIND_REFRESH]
    assert sched.every_seconds == 3600
    assert {"6", "7"} <= set(reg.topics("tiktok"))
    assert flow.route_deauthorization(InboundEvent("tiktok", "n", "6", None, {}, 1, "")) == []


def test_scheduled_refresh_renews_tokens_close_to_expiry_only(container: App, sandbox: Sandbox) -> None:
    us = connect_shop(container, sandbox, "US")
    gb = connect_shop(container, sandbox, "GB")
    old_us = _expire_soon(container, us, timedelta(hours=3))
    old_gb = container.store.shops.tokens(gb)
    _run_refresh(container)
    new_us, new_gb = container.store.shops.tokens(us), container.store.shops.tokens(gb)
    assert new_us is not None and new_us.access_token != old_us.access_token
    assert new_us.access_expires_at is not None and new_us.access_expires_at > old_us.access_expires_at  # type: ignore[operator]
    assert new_gb == old_gb
    assert container.tiktok().shop(us).logistics.warehouses()  # the new token works


def test_refresh_refused_becomes_an_admin_exception(container: App, sandbox: Sandbox) -> None:
    us = connect_shop(container, sandbox, "US")
    _expire_soon(container, us, timedelta(hours=1))
    sandbox.sb.expire_token(shop_id=us, refresh_too=True)
    _run_refresh(container)
    exc = [e for e in container.store.exceptions.list(status="open") if e.entity == shop_key(us)]
    assert [e.code for e in exc] == ["TIKTOK_REAUTHORIZE"] and exc[0].owner == "admin"
    assert "/connect/tiktok" in exc[0].fix_hint


def test_an_expired_stored_token_is_refreshed_before_the_call(container: App, sandbox: Sandbox) -> None:
    us = connect_shop(container, sandbox, "US")
    _expire_soon(container, us, timedelta(seconds=-10))
    assert container.tiktok().shop(us).logistics.warehouses()
    ops = [(c["operation"], c["outcome"]) for c in reversed(container.store.calls.recent(limit=2))]
    assert ops == [("token.refresh", "ok"), ("logistics.warehouses", "ok")]


def test_concurrent_105002_refresh_the_token_once(container: App, sandbox: Sandbox) -> None:
    us = connect_shop(container, sandbox, "US")
    sandbox.sb.expire_token(shop_id=us)
    shop = container.tiktok().shop(us)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def call() -> None:
        barrier.wait()
        try:
            shop.logistics.warehouses()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    refreshes = [c for c in container.store.calls.recent(limit=50) if c["operation"] == "token.refresh"]
    assert len(refreshes) == 1


def test_upcoming_expiration_webhook_raises_an_admin_exception(container: App, sandbox: Sandbox) -> None:
    us = connect_shop(container, sandbox, "US")
    when = int(container.clock.now().timestamp()) + 30 * 86400
    body = json.dumps({"type": 7, "tts_notification_id": "n-7", "shop_id": us, "timestamp": 1,
                       "data": {"message": "Your authorization will expire in 30 days.",
                                "expiration_time": str(when)}}).encode()
    res = ingest(container, source="tiktok", event_id="n-7", topic="7", shop_id=us, body=body)
    assert res.status == "routed" and res.jobs == 1
    assert container.worker(threads=1).drain() == 1
    (exc,) = container.store.exceptions.list(status="open")
    assert exc.code == "TIKTOK_AUTHORIZATION_EXPIRING" and exc.owner == "admin"
    assert "Sandbox US Shop" in exc.title and (container.clock.now() + timedelta(days=30)).strftime("%Y-%m-%d") in \
        exc.title
    assert "Authorize again" in exc.fix_hint
    shop = container.store.shops.get(us)
    assert shop is not None and shop.status == "active"


def test_deauthorization_of_an_unknown_shop_is_skipped(container: App) -> None:
    body = json.dumps({"type": 6, "tts_notification_id": "n-6", "shop_id": "999", "data": {}}).encode()
    ingest(container, source="tiktok", event_id="n-6", topic="6", shop_id="999", body=body)
    assert container.worker(threads=1).drain() == 1
    assert container.store.exceptions.list(status="open") == []


def test_connect_without_secret_key_fails_before_spending_the_code(sqlite_url: str, sandbox: Sandbox) -> None:
    import pytest

    from bridge.bootstrap import build
    from bridge.errors import ConfigurationError
    from bridge.tiktok.oauth import connect
    from tests.tiktok.conftest import make_settings

    c = build(make_settings(sqlite_url, sandbox, secret_key=None), areas=())
    code = sandbox.sb.authorize(sandbox.app_key, shop_id=sandbox.shop("US")["id"])
    tiktok = c.tiktok()
    with pytest.raises(ConfigurationError, match="TTNS_SECRET_KEY"):
        connect(auth_code=code, oauth=tiktok.oauth, api=tiktok.api, store=c.store, public_url="http://x")
    assert not sandbox.sb.state.auth_codes[code].used and c.store.shops.list() == []
    c.close()
