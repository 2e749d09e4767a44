"""Fixtures for the console: a wired bridge with every secret set to a generated fake value, its web
app, and a logged-in test client that carries the CSRF token like the browser does."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.bootstrap import App, build
from bridge.crypto import generate_key
from bridge.domain.keys import order_key
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "console-pass-" + secrets.token_hex(4)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def fake_secrets() -> dict[str, str]:
    """Every secret setting with an obviously fake, generated value (never a real one)."""
    return {
        "secret_key": f"{generate_key()},{generate_key()}",
        "tiktok_app_secret": "fake-tts-secret-" + secrets.token_hex(8),
        "netsuite_consumer_secret": "fake-ns-consumer-" + secrets.token_hex(8),
        "netsuite_token_secret": "fake-ns-token-" + secrets.token_hex(8),
        "netsuite_events_secret": "fake-ns-events-" + secrets.token_hex(8),
        "smtp_password": "fake-smtp-" + secrets.token_hex(8),
        "alert_webhook_url": "http://127.0.0.1:9/hooks/fake-" + secrets.token_hex(8),
        "metrics_token": "fake-metrics-" + secrets.token_hex(8),
    }


def console_settings(db_url: str, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "specs_dir": sandbox_specs_dir(),
        "environment": "test",
        "session_cookie_secure": False,
        "public_url": "http://console.example.invalid",
        "tiktok_app_key": "fakeappkey",
        "tiktok_service_id": "7000000000000000001",
        "netsuite_account": "1234567_SB1",
        "netsuite_auth": "tba",
        "netsuite_consumer_key": "fake-consumer-key",
        "netsuite_token_id": "fake-token-id",
        **fake_secrets(),
    }
    values.update(kw)
    return Settings(**values)


@dataclass
class Console:
    container: App
    app: Flask
    client: FlaskClient
    settings: Settings

    def use(self, root: App) -> None:
        """Serve ``root`` from now on (one derived from ``container``: the same store)."""
        self.container = root
        self.app.extensions["ttns"] = root

    def csrf(self) -> str:
        page = self.client.get("/console/monitors")
        assert page.status_code == 200
        m = _CSRF.search(page.get_data(as_text=True))
        assert m, "no CSRF field on the page"
        return m.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf()}, **kw)

    def html(self, path: str) -> str:
        resp = self.client.get(path)
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:500])
        return resp.get_data(as_text=True)


def login(client: FlaskClient, username: str, password: str) -> Any:
    page = client.get("/login")
    m = _CSRF.search(page.get_data(as_text=True))
    assert m
    return client.post("/login", data={"username": username, "password": password, "csrf_token": m.group(1),
                                       "next": "/console/"})


def drain_work(c: App, worker: Any) -> int:
    """``worker.drain()`` less the ``orders.document_numbers`` jobs it ran (see ``Orders.drain``)."""
    from sqlalchemy import func, select

    from bridge.flows.orders import KIND_DOCUMENT_NUMBERS
    from bridge.store.tables import jobs

    def reads() -> int:
        with c.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(jobs).where(
                jobs.c.kind == KIND_DOCUMENT_NUMBERS, jobs.c.status != "queued")).scalar_one())

    before = reads()
    ran = int(worker.drain())
    return ran - (reads() - before)


class NoNetSuiteTotals:
    """The order-totals reader of an account with no sales orders yet (no NetSuite in these tests)."""

    def order_totals(self, external_ids: object) -> dict[str, object]:
        return {}


@pytest.fixture
def container(sqlite_url: str) -> Iterator[App]:
    c = build(console_settings(sqlite_url), areas=("system", "orders", "monitoring"),
              netsuite_totals=NoNetSuiteTotals())
    c.store.users.add("ops", PASSWORD)
    yield c
    c.close()


@pytest.fixture
def console(container: App) -> Console:
    app = create_app(root=container)
    client = app.test_client()
    resp = login(client, "ops", PASSWORD)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return Console(container, app, client, container.settings)


SHOP = "7494049642642441621"


class EveryRecordExists:
    """NetSuite lookups for the shipped specs' ``eid:`` references: every record exists."""

    def existing_ids(self, table: str, ids: Any) -> set[str]:
        return set(ids)

    def internal_ids(self, wanted: Any) -> dict[tuple[str, str], str]:
        return {(t, e): f"{len(e)}{sum(map(ord, e))}" for t, eids in wanted.items() for e in eids}

    def account_types(self, ids: Any) -> dict[str, str]:
        return dict.fromkeys(ids, "Bank")

    def account_currencies(self, ids: Any) -> dict[str, str]:
        return {}  # no account states a currency


class Orders:
    """The orders flow with port fakes: webhooks in, a worker draining, NetSuite faked."""

    def __init__(self, container: App) -> None:
        from bridge.mapping.orders import ItemRef
        from bridge.store.repos import Shop, Tokens
        from tests.support.fakes import FakeNetSuiteOrders, FakeTikTokOrders

        self.tiktok = FakeTikTokOrders()
        self.netsuite = FakeNetSuiteOrders({"MUG": ItemRef("103"), "CAP": ItemRef("104")})
        # the same store and settings; the orders flow over the fakes (what the worker below runs)
        self.c = container = container.with_ports(tiktok_orders=self.tiktok, netsuite_orders=self.netsuite,
                                                  netsuite_lookup=EveryRecordExists())
        container.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_fake"))
        self.access_token = "TTP_fake_access_" + secrets.token_hex(8)
        self.refresh_token = "TTP_fake_refresh_" + secrets.token_hex(8)
        now = container.clock.now()
        from datetime import timedelta

        container.store.shops.set_tokens(SHOP, Tokens(self.access_token, self.refresh_token,
                                                      now + timedelta(days=6), now + timedelta(days=300)))
        self.worker = container.worker(threads=1, name="console-test")
        self._n = 0

    def place(self, order_id: str, sku: str = "MUG", price: str = "12.50") -> None:
        from tests.support.tiktok_orders import order, unit

        self.tiktok.put(SHOP, order(order_id, [unit(f"{order_id}-1", sku, price)]))

    def webhook(self, order_id: str) -> str:
        import json

        from bridge.web.ingest import ingest

        self._n += 1
        event_id = f"n-{order_id}-{self._n}"
        body = json.dumps({"type": 1, "tts_notification_id": event_id, "shop_id": SHOP, "timestamp": 1760000000,
                           "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT",
                                    "access_token": "should-never-show"}}).encode()
        ingest(self.c, source="tiktok", event_id=event_id, topic="1", body=body, shop_id=SHOP,
               entity=order_key(SHOP, order_id))
        return event_id

    def drain(self) -> int:
        """Run the due jobs; returns how many ran, not counting the document-number reads of new sales
        orders (due a second after a creation, so whether one falls into a drain depends on the machine's
        speed; ``settle`` waits for them)."""
        return drain_work(self.c, self.worker)

    def settle(self, timeout: float = 5.0) -> int:
        """Drain, and keep draining until no job is waiting (the document-number read of new sales orders
        is due a second after their creation); fails after ``timeout`` seconds."""
        import time

        done = self.worker.drain()
        deadline = time.monotonic() + timeout
        while self.c.store.queue.counts().get("queued", 0):
            assert time.monotonic() < deadline, f"jobs still waiting after {timeout} s: {self.c.store.queue.counts()}"
            time.sleep(0.05)
            done += self.worker.drain()
        return done
