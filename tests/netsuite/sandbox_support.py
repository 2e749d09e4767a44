"""Running the NetSuite sandbox for the client's integration tests (real HTTP, port 0)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bridge.netsuite.client import NetSuiteClient, RetryPolicy
from bridge.netsuite.governor import Governor
from bridge.netsuite.wiring import build_client
from bridge.sandbox.netsuite import (
    Faults,
    LatencyModel,
    NetSuiteSandbox,
    NetSuiteSandboxConfig,
    OAuth2Client,
    TbaToken,
    create_app,
)
from bridge.serving import BackgroundServer
from bridge.settings import Settings
from tests.netsuite.keys import ec_key, public_pem, rsa_key, write_private_key

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "1234567_SB1"
CLIENT_ID = "client-integration-test"
MUG = "110"  # seeded inventory item MUG-001
TTS_CUSTOMER = "502"  # seeded customer "TikTok Shop Customers"
TBA = TbaToken(consumer_key="ck-integration", consumer_secret="cs-integration", token_id="tk-integration",
               token_secret="ts-integration")


@dataclass
class Sandbox:
    sb: NetSuiteSandbox
    url: str
    key_dir: Path

    def reset(self) -> None:
        """A fresh seeded account with default knobs (the server is shared by a module's tests)."""
        self.sb.reset()
        fresh, lat = Faults(), LatencyModel()
        for f in fields(Faults):
            setattr(self.sb.config.faults, f.name, getattr(fresh, f.name))
        for f in fields(LatencyModel):
            setattr(self.sb.config.latency, f.name, getattr(lat, f.name))
        self.sb.chaos.clear_scripted()
        self.sb.pool.set_limit(5)
        self.sb.pool.peak = 0

    def settings(self, **extra: Any) -> Settings:
        key_file = self.key_dir / "rsa.pem"
        if not key_file.exists():
            write_private_key(rsa_key(), self.key_dir).rename(key_file)
        base: dict[str, Any] = dict(
            netsuite_account="1234567-sb1", netsuite_auth="oauth2", netsuite_client_id=CLIENT_ID,
            netsuite_certificate_id="kid-rsa", netsuite_private_key_file=key_file, netsuite_rest_base=self.url,
            netsuite_restlet_base=self.url, netsuite_concurrency=5, netsuite_timeout_seconds=5.0,
        )
        base.update(extra)
        return Settings(**base)

    def client(self, *, limit: int = 5, governor: Governor | None = None, calls: Any = None,
               **extra: Any) -> NetSuiteClient:
        return build_client(self.settings(**extra), governor=governor or Governor(limit), calls=calls,
                            retry=RetryPolicy(max_attempts=40, base=0.01, cap=0.2))

    def ec_settings(self) -> Settings:
        key_file = self.key_dir / "ec.pem"
        if not key_file.exists():
            write_private_key(ec_key(), self.key_dir).rename(key_file)
        return self.settings(netsuite_certificate_id="kid-ec", netsuite_private_key_file=key_file)

    def count(self, table: str, external_id: str) -> int:
        items, _ = self.sb.suiteql(f"SELECT COUNT(*) AS n FROM {table} WHERE externalid = '{external_id}'")  # noqa: S608
        return int(items[0]["n"])


@contextmanager
def running_sandbox(key_dir: Path, *, run_scripts: bool = False, **config: Any) -> Iterator[Sandbox]:
    cfg = NetSuiteSandboxConfig(
        account_id=ACCOUNT,
        oauth2_clients=[OAuth2Client(CLIENT_ID, {"kid-rsa": public_pem(rsa_key()), "kid-ec": public_pem(ec_key())})],
        tba_tokens=[TBA],
        suitecloud_dir=REPO / "suitecloud",
        run_scripts=run_scripts,
        **{"https_allow_http": True, **config},  # scripts reach the bridge on loopback over HTTP (named knob)
    )
    app = create_app(cfg)
    sb: NetSuiteSandbox = app.extensions["netsuite_sandbox"]
    try:
        with BackgroundServer(app, name="netsuite-sandbox") as server:
            yield Sandbox(sb, server.url, key_dir)
    finally:
        sb.close()


def run_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
