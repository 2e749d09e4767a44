"""Fixtures for the TikTok side: the TikTok Shop sandbox over real HTTP, a bridge container wired
to it, and a shop connected through the real OAuth code exchange."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from bridge.bootstrap import App, build
from bridge.crypto import generate_key
from bridge.sandbox.tiktok import FaultConfig, TikTokSandbox, TikTokSandboxConfig, create_app
from bridge.serving import BackgroundServer
from bridge.settings import Settings
from bridge.tiktok import wiring
from bridge.tiktok.oauth import connect


@dataclass
class Sandbox:
    url: str
    sb: TikTokSandbox
    app_key: str
    app_secret: str
    service_id: str
    shops: dict[str, dict[str, Any]]  # region -> shop description

    def shop(self, region: str = "US") -> dict[str, Any]:
        return self.shops[region]


@dataclass
class Sleeps:
    """An injected ``sleep`` that records instead of waiting."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_settings(db_url: str, sandbox: Sandbox, public_url: str = "http://127.0.0.1:9", **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "secret_key": generate_key(),
        "public_url": public_url,
        "tiktok_app_key": sandbox.app_key,
        "tiktok_app_secret": sandbox.app_secret,
        "tiktok_service_id": sandbox.service_id,
        "tiktok_api_base": sandbox.url,
        "tiktok_auth_base": sandbox.url,
        "tiktok_authorize_url": sandbox.url + "/open/authorize",
        "environment": "test",
        "session_cookie_secure": False,
    }
    values.update(kw)
    return Settings(**values)


def wire_fast(container: App, sleeps: Sleeps | None = None, **api_options: Any) -> App:
    """``container`` over a TikTok client that never really sleeps between retries."""
    api_options.setdefault("sleep", sleeps if sleeps is not None else Sleeps())
    api_options.setdefault("rand", lambda: 0.0)
    return container.with_clients(tiktok=wiring.build(container.settings, container.store, container.clock,
                                                      **api_options))


def _sandbox_config() -> TikTokSandboxConfig:
    # the bridge under test receives webhooks on loopback over http with a port (a named knob)
    return TikTokSandboxConfig(seed=11, webhook_time_scale=0.0001, tick_interval=0.05, webhook_loopback_http=True)


@pytest.fixture(scope="module")
def _sandbox_server() -> Iterator[tuple[str, TikTokSandbox]]:
    """One sandbox server per test module (stopping a server costs half a second); each test
    resets its state."""
    app = create_app(_sandbox_config())
    sb: TikTokSandbox = app.extensions["tiktok_sandbox"]
    with BackgroundServer(app, port=0, name="tiktok-sandbox") as server:
        try:
            yield server.url, sb
        finally:
            sb.close()


@pytest.fixture
def sandbox(_sandbox_server: tuple[str, TikTokSandbox]) -> Sandbox:
    url, sb = _sandbox_server
    sb.set_faults(**asdict(FaultConfig()))
    state = sb.reset()
    app_info = state["apps"][0]
    shops = {s["region"]: s for s in state["shops"]}
    return Sandbox(url, sb, app_info["app_key"], app_info["app_secret"], app_info["service_id"], shops)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def container(sqlite_url: str, sandbox: Sandbox, sleeps: Sleeps) -> Iterator[App]:
    c = wire_fast(build(make_settings(sqlite_url, sandbox), areas=("shops",)), sleeps)
    yield c
    c.close()


def connect_shop(container: App, sandbox: Sandbox, region: str = "US", *, subscribe: bool = False) -> str:
    """Authorize the region's seller at the sandbox and connect through the real code exchange."""
    shop_id = sandbox.shop(region)["id"]
    code = sandbox.sb.authorize(sandbox.app_key, shop_id=shop_id)
    tiktok = container.tiktok()
    connect(auth_code=code, oauth=tiktok.oauth, api=tiktok.api, store=container.store,
            public_url=container.settings.public_url, subscribe=subscribe)
    return str(shop_id)


@pytest.fixture
def us_shop(container: App, sandbox: Sandbox) -> str:
    return connect_shop(container, sandbox, "US")
