"""Drift monitors: each yields a number from real flow data, alerts over its threshold and clears below it;
the schedule, the CLI and monitoring.yaml."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.alerts import Alerter, Message
from bridge.bootstrap import App, build
from bridge.cli import Obj, main
from bridge.clock import ManualClock
from bridge.domain.keys import order_key
from bridge.flows import fulfillment, monitoring
from bridge.store.queue import JobSpec
from bridge.store.repos import Shop
from tests.console.conftest import SHOP, NoNetSuiteTotals, Orders, console_settings
from tests.support.specs import sandbox_specs_dir
from tests.support.tiktok_orders import order, unit

AREAS = ("system", "orders", "monitoring")


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


class FakeTotals:
    def __init__(self, totals: dict[str, Decimal]) -> None:
        self.totals = totals

    def order_totals(self, external_ids: Sequence[str]) -> dict[str, Decimal]:
        return {e: self.totals[e] for e in external_ids if e in self.totals}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def world(db_url: str, clock: ManualClock) -> Iterator[tuple[App, Orders, Recorder]]:
    base = build(console_settings(db_url), clock=clock, areas=AREAS, netsuite_totals=NoNetSuiteTotals())
    rec = Recorder()
    w = Orders(base.with_ports(alerter=Alerter(base.store.engine, base.settings, clock=clock, channels=[rec])))
    yield w.c, w, rec
    base.close()


def reading(readings: list[monitoring.Reading], name: str) -> monitoring.Reading:
    return next(r for r in readings if r.monitor == name)


def test_orders_missing_counts_stuck_and_unseen_orders_then_clears(world: tuple[App, Orders, Recorder],
                                                                    clock: ManualClock) -> None:
    c, w, rec = world
    w.place("576", "MUG")
    w.webhook("576")
    w.place("577", "NEW-SKU", "9.00")  # its sync fails: no NetSuite item
    w.webhook("577")
    w.tiktok.put(SHOP, order("578", [unit("578-1", "MUG", "5.00")], status="UNPAID"))
    w.webhook("578")  # UNPAID: waiting on purpose, never counted
    unseen = order("579", [unit("579-1", "MUG", "5.00")])  # the webhook was lost; only TikTok knows it
    unseen["create_time"] = int((clock.now() - timedelta(hours=2)).timestamp())
    w.tiktok.put(SHOP, unseen)
    w.drain()
    early = c.flows.monitoring.evaluate()
    assert reading(early, "orders_missing").value == 1  # 579 is 2 h old; 577 failed only now
    clock.advance(minutes=31)
    r = reading(c.flows.monitoring.evaluate(), "orders_missing")
    assert r.status == "alert" and r.value == 2
    assert {s.entity for s in r.samples} == {order_key(SHOP, "577"), order_key(SHOP, "579")}
    assert next(s for s in r.samples if s.entity.endswith("577")).href == f"/console/orders/{SHOP}/577"
    assert "failing" in next(s.detail for s in r.samples if s.entity.endswith("577"))
    assert "no record" in next(s.detail for s in r.samples if s.entity.endswith("579"))
    fired = [m for m in rec.sent if m.alert.key == "monitor:orders_missing"]
    assert len(fired) == 1 and fired[0].status == "firing"
    assert fired[0].url == "http://console.example.invalid/console/monitors#orders_missing"
    c.flows.monitoring.evaluate()  # still firing: de-duplicated
    assert len([m for m in rec.sent if m.alert.key == "monitor:orders_missing"]) == 1
    # ops fix the item; the exception is replayed; the lost order is polled in
    from bridge.mapping.orders import ItemRef

    w.netsuite.items["NEW-SKU"] = ItemRef("555")
    (exc,) = c.store.exceptions.list(status="open")
    c.store.exceptions.replay(exc.id, c.store.queue)
    w.webhook("579")
    w.drain()
    r = reading(c.flows.monitoring.evaluate(), "orders_missing")
    assert r.status == "ok" and r.value == 0
    mine = [m for m in rec.sent if m.alert.key == "monitor:orders_missing"]
    assert mine[-1].status == "resolved" and len(mine) == 2


def test_order_totals_compares_netsuite_with_tiktok(world: tuple[App, Orders, Recorder]) -> None:
    c, w, _ = world
    before = reading(c.flows.monitoring.measure(), "order_totals")
    assert before.status == "ok" and before.value == 0  # nothing to compare yet
    for oid in ("1", "2", "3"):
        w.place(oid, "MUG")
        w.webhook(oid)
    w.drain()
    c = c.with_ports(netsuite_totals=FakeTotals({f"TTS-{SHOP}-1": Decimal("12.50"), f"TTS-{SHOP}-2": Decimal("12.49")}))
    r = reading(c.flows.monitoring.measure(), "order_totals")
    assert r.status == "alert" and r.value == 2  # 2 differs by a cent, 3 is missing in NetSuite
    details = sorted(s.detail for s in r.samples)
    assert "TikTok 12.50, NetSuite 12.49 (difference -0.01)" in details
    assert any("NetSuite has no document" in d for d in details)
    # An order still in flight (its sync or cancellation job queued) is not reported (issue 17 point 5).
    c.store.queue.enqueue(JobSpec(kind="cancellations.sync", key=order_key(SHOP, "2"), idempotency_key="in-flight"))
    r = reading(c.flows.monitoring.measure(), "order_totals")
    assert r.value == 1 and "1 in flight skipped" in r.note
    assert not any("12.49" in s.detail for s in r.samples)


def test_auth_exceptions_and_queue_monitors(world: tuple[App, Orders, Recorder], clock: ManualClock) -> None:
    c, _, _ = world
    from bridge.store.repos import Tokens

    now = clock.now()
    c.store.shops.upsert(Shop(id="S2", name="Expiring shop"))
    c.store.shops.set_tokens("S2", Tokens("a", "r", now + timedelta(hours=1), now + timedelta(days=3)))
    c.store.shops.upsert(Shop(id="S3", name="Revoked shop", status="deauthorized"))
    c.store.exceptions.raise_(code="X", owner="finance", title="old problem", entity="e:1")
    c.store.queue.enqueue(JobSpec(kind="inventory.push", key="p:1", run_at=now - timedelta(minutes=20)))
    clock.advance(minutes=61)
    rs = c.flows.monitoring.measure()
    auth = reading(rs, "auth_expiring")
    assert auth.value == 2 and {s.label for s in auth.samples} == {"Expiring shop", "Revoked shop"}
    assert any("expires in 3.0 days" in s.detail or "expires in 2.9 days" in s.detail for s in auth.samples)
    exc = reading(rs, "exceptions_open")
    assert exc.value == 1 and exc.samples[0].href.startswith("/console/exceptions/")
    stalled = reading(rs, "queue_stalled")
    assert stalled.value == 1 and stalled.samples[0].label == "inventory.push"


def test_fulfillments_unshipped_from_the_fulfillment_flow(db_url: str, world: tuple[App, Orders, Recorder],
                                                         clock: ManualClock) -> None:
    c, _, _ = world  # built without the fulfillment flow: the monitor says so
    r = reading(c.flows.monitoring.measure(), "fulfillments_unshipped")
    assert r.value is None and "fulfillment: not configured" in r.note
    c = build(console_settings(db_url), clock=clock, areas=(*AREAS, "fulfillment"), netsuite_totals=NoNetSuiteTotals())
    try:
        shipments = c.flows.fulfillment.shipments
        for order_id, fid in (("576", "IF-9"), ("577", "IF-10")):
            shipments.begin(shop_id=SHOP, order_id=order_id, fulfillment_id=fid, package_index=1, seq=1,
                            tracking_number=f"T{order_id}", carrier="UPS", provider_id="P1", provider_name="UPS",
                            line_item_ids=[f"L{order_id}"], method="label")
        done = shipments.shipments(SHOP, "577")[0]
        shipments.shipped(done.id, tiktok_package_id="PKG-577")
        assert reading(c.flows.monitoring.measure(), "fulfillments_unshipped").value == 0  # not late yet
        clock.advance(minutes=61)
        r = reading(c.flows.monitoring.measure(), "fulfillments_unshipped")
        assert r.status == "alert" and r.value == 1
        assert r.samples[0].entity == fulfillment.order_key(SHOP, "576")
        assert r.samples[0].href == f"/console/orders/{SHOP}/576"
    finally:
        c.close()


class FakeSettlement:
    """The settlement flow as the monitors read it (its reports, not its implementation)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    def list_reports(self, **kw: Any) -> list[dict[str, Any]]:
        return [r for r in self.reports if r["kind"] == kw.get("kind", "statement")]

    def report(self, **kw: Any) -> dict[str, Any] | None:
        return next((r for r in self.reports if r["id"] in (kw.get("statement_id"), kw.get("payment_id"))), None)


class FakeInventory:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def drift(self, **kw: Any) -> list[dict[str, Any]]:
        return self.rows


@pytest.fixture
def fake_areas() -> dict[str, Any]:
    """Settlement and inventory flows as their documented methods (not their implementations)."""
    return {"settlement": FakeSettlement(), "inventory": FakeInventory()}


def test_settlement_and_inventory_monitors_read_their_flows(world: tuple[App, Orders, Recorder],
                                                            fake_areas: dict[str, Any]) -> None:
    c, _, _ = world
    assert reading(c.flows.monitoring.measure(), "settlement_variances").status == "unavailable"  # flow left out
    mon = replace(c.flows.monitoring, settlement=fake_areas["settlement"], inventory=fake_areas["inventory"])
    fake_areas["settlement"].reports = [
        {"kind": "statement", "id": "ST1", "currency": "USD", "variance": Decimal("0.00")},
        {"kind": "statement", "id": "ST2", "currency": "USD", "variance": Decimal("-1.25")},
        {"kind": "payment", "id": "PAY1", "currency": "USD", "variance": Decimal("0.50")},
    ]
    fake_areas["inventory"].rows = [{"shop_id": SHOP, "sku": "MUG", "tiktok": 10, "sellable": 7, "diff": 3}]
    rs = mon.measure()
    st = reading(rs, "settlement_variances")
    assert st.status == "alert" and st.value == Decimal("1.75") and st.severity == "critical"
    assert {s.href for s in st.samples} == {"/console/settlement/ST2", "/console/settlement/payout/PAY1"}
    inv = reading(rs, "inventory_drift")
    assert inv.status == "alert" and inv.value == 1 and inv.samples[0].detail == "TikTok 10, sellable 7"


def test_monitoring_yaml_sets_thresholds_and_switches(world: tuple[App, Orders, Recorder],
                                                      tmp_path: Path) -> None:
    c, _, _ = world
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(sandbox_specs_dir() / "orders.yaml", specs)
    (specs / "monitoring.yaml").write_text(
        "version: 1\nmonitors:\n  exceptions_open:\n    after_minutes: 1\n    threshold: 5\n"
        "  queue_stalled:\n    enabled: false\n")
    from bridge.mapping import load_all_specs

    c = c.with_specs(load_all_specs(specs))
    for i in range(3):
        c.store.exceptions.raise_(code="X", owner="ops", title="t", entity=f"e:{i}")
    c.clock.advance(minutes=2)  # type: ignore[attr-defined]
    rs = c.flows.monitoring.measure()
    exc = reading(rs, "exceptions_open")
    assert exc.value == 3 and exc.threshold == 5 and exc.status == "ok"
    assert reading(rs, "queue_stalled").status == "disabled"


def test_the_scheduler_runs_the_monitors_through_the_worker(world: tuple[App, Orders, Recorder]) -> None:
    c, _, _ = world
    (sched,) = [s for s in c.registry.schedules() if s.kind == monitoring.KIND_RUN]
    assert sched.every_seconds == 300 and sched.key == "monitoring"
    c.store.queue.enqueue(JobSpec(kind=sched.kind, key=sched.key))
    assert c.worker(threads=1).drain() == 1
    latest = monitoring.latest_readings(c.store)
    assert set(latest) == set(monitoring.MONITORS) and latest["exceptions_open"].status == "ok"


def test_cli_monitor_run_status_and_alerts(world: tuple[App, Orders, Recorder], clock: ManualClock) -> None:
    c, _, rec = world
    c.store.exceptions.raise_(code="X", owner="ops", title="waiting", entity="e:1")
    clock.advance(hours=2)
    runner = CliRunner()
    res = runner.invoke(main, ["monitor", "run"], obj=Obj(c))
    assert res.exit_code == 3, res.output  # something alerts
    assert "ALERT  exceptions_open" in res.output and "#1 X (ops)" in res.output
    assert rec.sent and rec.sent[0].alert.key == "monitor:exceptions_open"
    res = runner.invoke(main, ["monitor", "status"], obj=Obj(c))
    assert res.exit_code == 0 and "exceptions_open" in res.output
    res = runner.invoke(main, ["alerts", "list"], obj=Obj(c))
    assert res.exit_code == 0 and "Exceptions waiting: 1 exceptions" in res.output
    assert "http://console.example.invalid/console/exceptions" in res.output
    res = runner.invoke(main, ["monitor", "run", "--only", "queue_stalled", "--no-alerts", "--json"], obj=Obj(c))
    assert res.exit_code == 0 and '"monitor": "queue_stalled"' in res.output
    res = runner.invoke(main, ["alerts", "test"], obj=Obj(c))
    # the fake settings name an unreachable webhook: the test alert reports the failure
    assert res.exit_code == 1 and "webhook: ConnectionError" in res.output
