"""Fencing (issue 21, point 4): a worker that lost its lease cannot change anything.

The worker is paused inside its handler past its lease; the store writes it makes afterwards (a link
update, a cursor, a follow-up job, an exception) are refused in their own transaction, and the API
clients' pre-write re-check refuses its external writes. Runs on SQLite and PostgreSQL with the real
store and worker, and on the memory queue for the re-check.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge import lease
from bridge.clock import ManualClock
from bridge.errors import LeaseLost, NeedsHumanError
from bridge.store import Store
from bridge.store.db import make_engine
from bridge.store.queue import Job, JobSpec, MemoryJobQueue
from bridge.store.repos import Link
from bridge.worker.registry import Registry
from bridge.worker.runner import JobContext, Worker, WorkerConfig

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEASE = 30.0


class Paused:
    """A handler that writes, pauses until told, then writes again (as a GC or network pause would)."""

    def __init__(self, store: Store, pushed: list[str]) -> None:
        self.store = store
        self.pushed = pushed
        self.pause_for: set[str] = set()
        self.paused = threading.Event()
        self.go = threading.Event()

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        me = ctx.job.lease_owner or "?"
        self.store.links.upsert(Link("order", "S1", f"{me}:before", "SO-1", status="created"))
        if me in self.pause_for:
            self.paused.set()
            assert self.go.wait(30)
        self.store.links.upsert(Link("order", "S1", "shared", f"written-by-{me}", status="synced"))
        self.store.cursors.set(f"cursor:{me}", "after")
        ctx.enqueue(JobSpec(kind="noop", key=f"follow:{me}", idempotency_key=f"follow:{me}"))
        lease.recheck("a stock push")  # what the API clients do before every write they send
        self.pushed.append(me)
        if ctx.payload.get("needs_human"):
            raise NeedsHumanError("UNMAPPED_SKU", "ops", "unmapped SKU", fix_hint="map it")
        return {"by": me}


class Sink:
    def __init__(self, store: Store) -> None:
        self.store = store

    def raise_(self, **kw: Any) -> int:
        return self.store.exceptions.raise_(**kw)

    def resolve_for_job(self, job: Job, *, by: str = "auto") -> int:
        return 0

    def resolve_for_jobs(self, jobs: Sequence[Job], *, by: str = "auto") -> int:
        return 0


@pytest.fixture
def world(db_url: str) -> Any:
    clock = ManualClock(T0)
    store = Store(make_engine(db_url, pool_size=6), clock=clock)
    pushed: list[str] = []
    handler = Paused(store, pushed)
    reg = Registry()
    reg.handler("fenced.write", handler)
    reg.handler("noop", lambda ctx: None)

    def worker(name: str) -> Worker:
        return Worker(store.queue, reg, Sink(store), clock=clock,
                      config=WorkerConfig(lease_seconds=LEASE, name=name))

    yield store, clock, handler, worker, pushed
    store.dispose()


def _run_paused(store: Store, handler: Paused, w: Worker) -> tuple[threading.Thread, list[str]]:
    (job,) = store.queue.claim(w.name, LEASE, 1)
    handler.pause_for.add(w.name)
    outcome: list[str] = []
    t = threading.Thread(target=lambda: outcome.append(w.process(job)))
    t.start()
    assert handler.paused.wait(30)
    return t, outcome


def test_a_worker_paused_past_its_lease_lands_no_write_after_another_took_the_job(world: Any) -> None:
    store, clock, handler, worker, pushed = world
    jid = store.queue.enqueue(JobSpec(kind="fenced.write", key="order:S1:1")).job_id
    stale, fresh = worker("stale"), worker("fresh")
    t, outcome = _run_paused(store, handler, stale)
    clock.advance(LEASE + 1)
    (again,) = store.queue.claim(fresh.name, LEASE, 1)
    assert again.id == jid
    assert fresh.process(again) == "ok"
    handler.go.set()
    t.join(30)
    assert outcome == ["lease_lost"]
    shared = store.links.get("order", "S1", "shared")
    assert shared is not None and shared.netsuite_id == "written-by-fresh"
    assert store.links.get("order", "S1", "stale:before") is not None  # written while it held the lease
    assert store.cursors.get("cursor:stale") is None
    assert store.queue.counts().get("queued", 0) == 1  # fresh's follow-up only
    assert pushed == ["fresh"]
    done = store.queue.get(jid)
    assert done is not None and done.status == "done" and done.result == {"by": "fresh"}


def test_a_worker_paused_past_its_lease_lands_nothing_even_before_anyone_reclaims(world: Any) -> None:
    store, clock, handler, worker, pushed = world
    jid = store.queue.enqueue(JobSpec(kind="fenced.write", key="order:S1:2", payload={"needs_human": True})).job_id
    stale = worker("stale")
    t, outcome = _run_paused(store, handler, stale)
    clock.advance(LEASE + 1)  # expired: nobody owns it yet, but the lease is lost all the same
    handler.go.set()
    t.join(30)
    assert outcome == ["lease_lost"]
    assert store.links.get("order", "S1", "shared") is None
    assert store.cursors.get("cursor:stale") is None
    assert pushed == []
    assert store.exceptions.counts() == {}
    (again,) = store.queue.claim("next", LEASE, 1)  # and the job is there for the next worker
    assert again.id == jid and again.attempts == 2


def test_writes_inside_the_lease_land_and_writes_outside_a_job_are_not_fenced(world: Any) -> None:
    store, _clock, _handler, worker, pushed = world
    jid = store.queue.enqueue(JobSpec(kind="fenced.write", key="order:S1:3")).job_id
    assert worker("w").drain() == 2  # the job and its follow-up
    assert pushed == ["w"] and store.cursors.get("cursor:w") == "after"
    store.links.upsert(Link("order", "S1", "console", "SO-9"))  # no job on this thread: no fence
    assert store.links.get("order", "S1", "console") is not None
    assert store.queue.get(jid) is not None


def test_the_memory_queue_fences_the_recheck_too() -> None:
    clock = ManualClock(T0)
    q = MemoryJobQueue(clock)
    q.enqueue(JobSpec(kind="k", key="a"))
    (job,) = q.claim("w", 10, 1)
    with lease.holding(q.fence(job)):
        lease.recheck()
        clock.advance(11)
        with pytest.raises(LeaseLost):
            lease.recheck()


def test_link_writes_sharing_one_transaction_are_each_fenced_by_their_own_job(world: Any) -> None:
    # Concurrent link writes share one transaction (Links' group commit). The stale job's writes are
    # refused, alone: the current job's writes in the same groups land.
    store, clock, _handler, _worker, _pushed = world
    store.queue.enqueue(JobSpec(kind="noop", key="a"))
    store.queue.enqueue(JobSpec(kind="noop", key="b"))
    (stale_job,) = store.queue.claim("stale", LEASE, 1)
    clock.advance(LEASE + 1)  # the stale job's lease expired
    (current,) = store.queue.claim("current", LEASE, 1)
    fences = {"stale": store.queue.fence(stale_job), "current": store.queue.fence(current)}
    outcomes: dict[str, str] = {}
    start = threading.Barrier(16)

    def write(who: str, i: int) -> None:
        start.wait()
        with lease.holding(fences[who]):
            try:
                store.links.upsert(Link("order", "S1", f"{who}-{i}", f"SO-{i}", status="synced"))
                outcomes[f"{who}-{i}"] = "written"
            except LeaseLost:
                outcomes[f"{who}-{i}"] = "refused"

    threads = [threading.Thread(target=write, args=(who, i)) for i in range(8) for who in ("stale", "current")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {**{f"stale-{i}": "refused" for i in range(8)}, **{f"current-{i}": "written" for i in range(8)}}
    assert all(store.links.get("order", "S1", f"current-{i}") is not None for i in range(8))
    assert all(store.links.get("order", "S1", f"stale-{i}") is None for i in range(8))
    assert store.links._group.items == 8  # committed; the refused ones never count as written


def test_sales_counted_in_one_shared_transaction_are_each_fenced_and_counted_once(world: Any) -> None:
    # Concurrent first_sight calls (each order sync counting its sale) share one transaction: the stale
    # job's counts are refused alone, every other order is counted once however many jobs see it.
    from datetime import timedelta

    from bridge.store.tables_inventory import InventoryStore

    store, clock, _handler, _worker, _pushed = world
    inv = InventoryStore(store.engine, clock)
    store.queue.enqueue(JobSpec(kind="noop", key="a"))
    store.queue.enqueue(JobSpec(kind="noop", key="b"))
    (stale_job,) = store.queue.claim("stale", LEASE, 1)
    clock.advance(LEASE + 1)
    (current,) = store.queue.claim("current", LEASE, 1)
    fences = {"stale": store.queue.fence(stale_job), "current": store.queue.fence(current)}
    now = clock.now()
    counted: dict[str, list[str]] = {}
    refused: list[str] = []
    start = threading.Barrier(18)

    def count(who: str, order_id: str, n: int) -> None:
        start.wait()
        with lease.holding(fences[who]):
            try:
                counted[f"{who}-{order_id}-{n}"] = inv.first_sight("S1", [order_id], now, now - timedelta(days=1),
                                                                   sales={order_id: {"MUG": 1}})
            except LeaseLost:
                refused.append(order_id)

    threads = [threading.Thread(target=count, args=("current", f"o{i}", n)) for i in range(6) for n in range(2)]
    threads += [threading.Thread(target=count, args=("stale", f"x{i}", 0)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(refused) == [f"x{i}" for i in range(6)]
    for i in range(6):  # each order counted by exactly one of its two calls
        assert sorted(counted[f"current-o{i}-{n}"] for n in range(2)) == [[], [f"o{i}"]]
    seen = inv.observations("S1", "order", [f"o{i}" for i in range(6)] + [f"x{i}" for i in range(6)],
                            now - timedelta(days=1))
    assert {k for k, v in seen.items() if v} == {f"o{i}" for i in range(6)}
    assert inv._sights.items == 12
