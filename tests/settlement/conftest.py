"""A bridge wired with the settlement flow and fakes of its ports (the real worker, queue and store)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.store.repos import Link, Shop
from bridge.store.tables_settlement import SettlementStore
from tests.settlement import builders as b
from tests.settlement.fakes import FakeLedger, FakeTikTokFinance
from tests.settlement.specs import settings_dict

SHOP = "7494049642642441621"
AREAS = ("system", "settlement")


def write_spec(directory: Path, **over: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "settlement.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": settings_dict(**over)}))
    return directory


@dataclass
class World:
    c: App
    tiktok: FakeTikTokFinance
    ledger: FakeLedger
    clock: ManualClock
    repo: SettlementStore
    _n: int = 0

    def add(self, data: dict[str, Any], payment_id: str, *, paid: bool = True) -> None:
        self.tiktok.put_statement(SHOP, data, b.summary(data, payment_id, "PAID" if paid else "PROCESSING"))

    def pay(self, payment_id: str, statements: list[dict[str, Any]], **kw: Any) -> None:
        self.tiktok.put_payment(SHOP, b.payment(payment_id, statements, **kw))

    def link(self, order_id: str, netsuite_id: str, expected_total: str, platform_funded: str = "0.00",
             currency: str = "USD") -> None:
        self.c.store.links.upsert(Link("order", SHOP, order_id, netsuite_id, "salesOrder", f"TTS-{SHOP}-{order_id}",
                                       "h", "synced", {"expected_total": expected_total,
                                                       "platform_funded": platform_funded, "currency": currency},
                                       self.clock.now()))

    def run_import(self) -> int:
        self._n += 1
        self.c.store.queue.enqueue(JobSpec(kind="settlement.import", key="schedule:settlement.import",
                                           payload={"bucket": f"b{self._n}"}, idempotency_key=f"imp-{self._n}"))
        return self.drain()

    def drain(self) -> int:
        return self.c.worker(threads=1, name="test").drain()

    def journals(self) -> dict[str, dict[str, Any]]:
        return self.ledger.of_type("journalEntry")

    def deposits(self) -> dict[str, dict[str, Any]]:
        return self.ledger.of_type("deposit")


def make_world(sqlite_url: str, tmp_path: Path, **spec: Any) -> World:
    clock = ManualClock(datetime(2025, 3, 4, 2, 0, tzinfo=UTC))
    settings = Settings(database_url=sqlite_url, specs_dir=write_spec(tmp_path / "specs", **spec),
                        retry_base_seconds=0.01, retry_cap_seconds=0.01)
    c = build(settings, clock=clock, areas=AREAS)
    tiktok, ledger = FakeTikTokFinance(), FakeLedger()
    c = c.with_ports(tiktok_finance=tiktok)
    c = c.with_ports(netsuite_ledger=ledger)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    return World(c, tiktok, ledger, clock, SettlementStore(c.store.engine, clock))


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    w = make_world(sqlite_url, tmp_path)
    yield w
    w.c.close()
