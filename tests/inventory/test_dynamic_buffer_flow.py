"""The dynamic buffer inside the inventory flow: observed, applied, explained and released."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.bootstrap import build
from bridge.clock import ManualClock
from bridge.mapping.inventory import WarehouseInfo
from bridge.settings import Settings
from bridge.store.repos import Shop
from tests.inventory.fakes import FakeNetSuite, FakeSku, FakeTikTok
from tests.inventory.test_inventory_flow import MAIN, SHOP, W1, World, write_specs

INVENTORY = {"version": 1, "coalesce_seconds": 0.5, "velocity_window_seconds": 60, "fallback_latency_seconds": 2,
             "defaults": {"buffer": 1, "dynamic_buffer": True, "buffer_max": 50},
             "skus": {"CAP-FIXED": {"dynamic_buffer": False, "buffer": 3}}}


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    c = build(Settings(database_url=sqlite_url, specs_dir=write_specs(tmp_path / "specs", inventory=INVENTORY),
                       retry_base_seconds=0.01, retry_cap_seconds=0.01), clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main")])
    tiktok.add("P3", [FakeSku("S-CAP", "CAP", {W1: 0})])
    tiktok.add("P4", [FakeSku("S-FIX", "CAP-FIXED", {W1: 0})])
    netsuite = FakeNetSuite()
    netsuite.item("104", "CAP")
    netsuite.item("105", "CAP-FIXED")
    netsuite.available.update({("104", MAIN): 100, ("105", MAIN): 100})
    c = c.with_ports(tiktok_inventory=tiktok, netsuite_inventory=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    w = World(c, tiktok, netsuite, clock)
    w.svc.pull_places()
    w.svc.refresh(c.store.shops.get(SHOP))  # type: ignore[arg-type]
    yield w
    c.close()


def sell(world: World, item: str, units: int, steps: int, every: float) -> None:
    """Another channel sells ``units`` every ``every`` seconds; each sale's stock move is pushed."""
    for _ in range(steps):
        world.clock.advance(every)
        world.netsuite.available[(item, MAIN)] -= units
        world.ns_event([(item, MAIN)])
        world.worker.drain()


def test_a_spike_raises_the_buffer_and_a_quiet_spell_releases_it(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 99}  # nothing sold yet: the floor
    sell(world, "104", 5, steps=4, every=0.5)  # 10 units/s
    # 80 free; 10 units/s x (2 s assumed order -> sales order + 0 s observed stock -> TikTok) = 20 held back
    assert world.tt("S-CAP") == {W1: 60}
    shop = world.c.store.shops.get(SHOP)
    assert shop is not None
    plan, buffers = world.svc.plan_with_buffers(shop, "P3")
    d = buffers["S-CAP"]
    assert (d.buffer, d.floor, d.ceiling, d.sold_in_window) == (20, 1, 50, 20)
    assert "10.00 units/s" in d.explain() and "2.00 s order -> sales order" in d.explain()
    # no further sale: the recheck the flow queued lowers the buffer step by step, back to the floor
    seen = []
    for _ in range(8):
        world.clock.advance(10)
        world.worker.drain()
        seen.append(world.tt("S-CAP")[W1])
    assert seen == sorted(seen) and seen[0] > 60 and seen[-1] == 79
    assert world.c.store.queue.counts().get("queued", 0) == 0  # at the floor nothing more is queued


def test_a_fixed_buffer_ignores_the_velocity(world: World) -> None:
    world.ns_event([("105", MAIN)])
    world.worker.drain()
    sell(world, "105", 5, steps=4, every=0.5)
    assert world.tt("S-FIX") == {W1: 77}  # 80 - the fixed 3


def test_the_stock_to_tiktok_latency_is_observed_per_push(world: World) -> None:
    world.netsuite.available[("104", MAIN)] = 50
    since = world.clock.now() - timedelta(seconds=0.7)
    result = world.svc.push_product(SHOP, "P3", since=since)
    assert result.action == "sent"
    rows = world.svc.inv.observations(SHOP, "push", [""], world.clock.now() - timedelta(seconds=60))[""]
    assert [round(v, 3) for _at, v, _b in rows] == [0.7]


def test_tiktok_sales_raise_the_buffer_on_tiktok_before_netsuite_is_read(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 99}
    reads = len(world.netsuite.availability_calls)
    for _ in range(10):  # a livestream: ten TikTok orders in a second, none written to NetSuite yet
        world.clock.advance(0.1)
        world.tiktok.sell("S-CAP", W1)
        assert world.svc.on_tiktok_sale(SHOP, {"CAP": 1}) == 1
        world.worker.drain()
    assert len(world.netsuite.availability_calls) == reads  # raised from TikTok's own numbers alone
    # 10 units/s x (2 s assumed order -> sales order + 0 s observed stock -> TikTok) = 20 held back:
    # TikTok's 89 after its own ten sales, lowered by the 19 the buffer rose
    assert world.tt("S-CAP") == {W1: 70}
    raises = world.svc.inv.observations(SHOP, "raise", ["S-CAP"], world.clock.now() - timedelta(seconds=60))
    assert max(int(v) for _at, v, _b in raises["S-CAP"]) == 20
    # the push from NetSuite's figures (100 available, 10 reserved by TikTok) holds the raise
    world.ns_event([("104", MAIN)])
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 70}
    # a sale of an unknown SKU or of a fixed-buffer SKU lowers nothing
    assert world.svc.on_tiktok_sale(SHOP, {"NOPE": 3}) == 0
    world.tiktok.sell("S-FIX", W1, 0)
    world.svc.on_tiktok_sale(SHOP, {"CAP-FIXED": 5})
    world.worker.drain()
    assert world.svc.raise_buffers(SHOP, "P4") == {"action": "unchanged", "reason": "no dynamic buffer"}


def test_a_hold_longer_than_the_velocity_window_still_ends(world: World) -> None:
    """Under load the latencies outgrow the window (here 2 s + 100 s > 60 s). The flow keeps a window of
    observations, so a hold re-recorded at every recheck always looked fresh and the buffer stayed raised
    for as long as the slow latencies stayed in the 10-minute lookback (a chaos run settled only then).
    A held level is not a new application: the buffer is released within a window of the last one."""
    world.ns_event([("104", MAIN)])
    world.worker.drain()
    for _ in range(20):  # stock -> TikTok took 100 s a push (the machine was swamped)
        result = world.svc.push_product(SHOP, "P3", since=world.clock.now() - timedelta(seconds=100), mode="force")
        assert result.action == "sent"
    sell(world, "104", 5, steps=4, every=0.5)  # 10 units/s x (2 s + 100 s): the ceiling
    assert world.tt("S-CAP") == {W1: 30}  # 80 free - 50
    seen = []
    for _ in range(15):  # 150 s without a sale, the 100 s push latency still in the lookback
        world.clock.advance(10)
        world.worker.drain()
        seen.append(world.tt("S-CAP")[W1])
    # back at the floor a window (60 s) after the velocity last asked for the ceiling (20 units over ~40 s x
    # 102 s), long before the slow latencies leave the 10-minute lookback
    assert seen[-1] == 79 and seen.index(79) <= 10, seen
    assert world.c.store.queue.counts().get("queued", 0) == 0


def test_rechecks_missed_while_the_worker_was_busy_become_one(world: World) -> None:
    """During an order burst the rechecks of a raised buffer (one per 10 s step) could not run, and each
    push meanwhile queued one more: after the burst they ran one after another, each queuing a push, and
    those pushes filled the stock threads just when other stock changes needed them (the flash-sale
    benchmark's stock phase: 50 recheck pushes in 27 s, stock -> TikTok p95 1.67 s). A recheck still
    waiting absorbs the later ones: one recheck, one push."""
    from sqlalchemy import func, select

    from bridge.flows.inventory import KIND_PUSH, KIND_RECHECK
    from bridge.store.tables import jobs

    def count(kind: str, status: str | None = None) -> int:
        q = select(func.count()).select_from(jobs).where(jobs.c.kind == kind)
        with world.c.store.engine.connect() as c:
            return int(c.execute(q.where(jobs.c.status == status) if status else q).scalar_one())

    world.ns_event([("104", MAIN)])
    world.worker.drain()
    sell(world, "104", 5, steps=4, every=0.5)  # raises the buffer: a recheck is queued
    for _ in range(6):  # a minute of pushes (orders, stock moves) while no recheck gets a thread
        world.clock.advance(10)
        world.svc.push_product(SHOP, "P3", mode="force")
    assert count(KIND_RECHECK, "queued") == 1
    world.clock.advance(10)
    pushes = count(KIND_PUSH)
    world.worker.drain()
    assert count(KIND_PUSH) - pushes <= 2  # the recheck's push (and the one its own push may queue)
