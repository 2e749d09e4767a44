"""The worker's outcomes, on the in-memory queue with a fake exception sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.clock import ManualClock
from bridge.errors import Evidence, FatalError, NeedsHumanError, RetriableError, SkippableError
from bridge.logs import correlation_id
from bridge.store.queue import Done, Job, JobSpec, MemoryJobQueue
from bridge.worker.registry import Registry
from bridge.worker.runner import JobContext, Worker, WorkerConfig


@contextmanager
def running(w: Worker) -> Iterator[None]:
    """``w`` running on a thread of its own for the block; stopped, and gone, after it."""
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(20)
    assert not t.is_alive()

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class FakeExceptions:
    def __init__(self) -> None:
        self.raised: list[dict[str, Any]] = []
        self.healed: list[int] = []

    def raise_(self, **kw: Any) -> int:
        self.raised.append(kw)
        return len(self.raised)

    def resolve_for_job(self, job: Job, *, by: str = "auto") -> int:
        self.healed.append(job.id)
        return 0

    def resolve_for_jobs(self, jobs: Sequence[Job], *, by: str = "auto") -> int:
        return sum(self.resolve_for_job(j, by=by) for j in jobs)


def make(handler: Any, *, max_attempts: int = 3) -> tuple[Worker, MemoryJobQueue, FakeExceptions, ManualClock]:
    clock = ManualClock(T0)
    q = MemoryJobQueue(clock, default_max_attempts=max_attempts)
    reg = Registry()
    reg.handler("t", handler)
    exc = FakeExceptions()
    w = Worker(q, reg, exc, clock=clock, config=WorkerConfig(retry_base=10, retry_cap=100, name="w"))
    return w, q, exc, clock


def test_success_completes_and_heals() -> None:
    w, q, exc, _ = make(lambda ctx: {"n": ctx.payload["n"] * 2})
    jid = q.enqueue(JobSpec(kind="t", key="k", payload={"n": 21})).job_id
    assert w.drain() == 1
    job = q.get(jid)
    assert job is not None and job.status == "done" and job.result == {"n": 42}
    assert exc.healed == [jid]


def test_retriable_failure_backs_off_then_dies_as_an_exception() -> None:
    def boom(ctx: JobContext) -> None:
        raise RetriableError("HTTP 503", Evidence.of("netsuite", "POST /x", 503))

    w, q, exc, clock = make(boom, max_attempts=3)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    assert w.drain() == 1
    job = q.get(jid)
    assert job is not None and job.status == "queued" and job.run_at > T0
    assert w.drain() == 0  # not due yet
    clock.advance(1000)
    w.drain()
    clock.advance(1000)
    w.drain()
    job = q.get(jid)
    assert job is not None and job.status == "dead" and job.attempts == 3
    (raised,) = exc.raised
    assert raised["code"] == "RETRIES_EXHAUSTED" and raised["owner"] == "admin"
    assert raised["evidence"]["status"] == 503
    assert [a.outcome for a in q.attempts(jid)] == ["retry", "retry", "dead"]


def test_needs_human_becomes_an_exception_with_owner_and_hint() -> None:
    def unknown(ctx: JobContext) -> None:
        raise NeedsHumanError("SKU RED-S is not in NetSuite", code="UNKNOWN_SKU", owner="ops",
                              fix_hint="Add the item or map the SKU", entity="order:S:1")

    w, q, exc, _ = make(unknown)
    jid = q.enqueue(JobSpec(kind="t", key="order:S:1", payload={"shop_id": "S"})).job_id
    w.drain()
    job = q.get(jid)
    assert job is not None and job.status == "failed" and job.exception_id == 1
    (raised,) = exc.raised
    assert (raised["code"], raised["owner"], raised["entity"], raised["shop_id"]) == (
        "UNKNOWN_SKU", "ops", "order:S:1", "S")
    assert raised["fix_hint"] == "Add the item or map the SKU"


def test_fatal_goes_straight_to_dead_with_traceback() -> None:
    def bad(ctx: JobContext) -> None:
        raise FatalError("sign rejected (106001)")

    w, q, exc, _ = make(bad)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    w.drain()
    assert q.get(jid).status == "dead"  # type: ignore[union-attr]
    assert exc.raised[0]["code"] == "FATAL" and "Traceback" in exc.raised[0]["evidence"]["traceback"]


def test_skippable_is_recorded_not_raised() -> None:
    def skip(ctx: JobContext) -> None:
        raise SkippableError("order is UNPAID")

    w, q, exc, _ = make(skip)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    w.drain()
    assert q.get(jid).status == "skipped" and exc.raised == []  # type: ignore[union-attr]


def test_unknown_kind_is_fatal() -> None:
    w, q, exc, _ = make(lambda ctx: None)
    jid = q.enqueue(JobSpec(kind="nobody.handles.this", key="k")).job_id
    w.drain()
    assert q.get(jid).status == "dead" and "no handler" in exc.raised[0]["title"]  # type: ignore[union-attr]


def test_correlation_id_follows_the_job_into_follow_ups() -> None:
    seen: list[str] = []

    def parent(ctx: JobContext) -> None:
        seen.append(correlation_id())
        if ctx.payload.get("spawn"):
            ctx.enqueue(JobSpec(kind="t", key="child"))

    w, q, _, _ = make(parent)
    q.enqueue(JobSpec(kind="t", key="parent", payload={"spawn": True}, correlation_id="cid-abc"))
    assert w.drain() == 2
    assert seen == ["cid-abc", "cid-abc"]


def test_run_uses_threads_and_stops_gracefully() -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(ctx: JobContext) -> None:
        if ctx.payload.get("slow"):
            started.set()
            release.wait(5)

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("t", slow)
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=3, poll_interval=0.01, shutdown_grace=5,
                                                            lease_seconds=30))
    slow_id = q.enqueue(JobSpec(kind="t", key="a", payload={"slow": True})).job_id
    for i in range(20):
        q.enqueue(JobSpec(kind="t", key=f"b{i}"))
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    assert started.wait(5)
    deadline = time.monotonic() + 5
    while q.counts().get("done", 0) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    time.sleep(0.05)
    release.set()  # the running job finishes inside the grace period
    t.join(10)
    assert not t.is_alive()
    assert q.counts() == {"done": 21}
    assert q.get(slow_id).status == "done"  # type: ignore[union-attr]


def test_shutdown_releases_jobs_that_outlive_the_grace_period() -> None:
    started = threading.Event()
    release = threading.Event()

    def stuck(ctx: JobContext) -> None:
        started.set()
        release.wait(10)

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("t", stuck)
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=1, poll_interval=0.01, shutdown_grace=0.1))
    jid = q.enqueue(JobSpec(kind="t", key="a")).job_id
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    assert started.wait(5)
    stop.set()
    time.sleep(0.5)
    job = q.get(jid)
    assert job is not None and job.status == "queued" and job.attempts == 0  # released, claimable at once
    release.set()
    t.join(10)
    assert q.get(jid).status == "queued"  # type: ignore[union-attr]  # the late finish lost its lease


class CountingQueue(MemoryJobQueue):
    """Records the size of every batch the worker commits."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def complete_and_claim(self, done: Sequence[Done], worker: str, lease_seconds: float,
                           limit: int, skip_kinds: Sequence[str] = ()) -> tuple[list[int], list[Job]]:
        if done:
            self.batches.append(len(done))
        return super().complete_and_claim(done, worker, lease_seconds, limit, skip_kinds)


def test_run_commits_successes_in_batches_with_the_next_claim_and_heals_after_the_commit() -> None:
    q = CountingQueue()
    reg = Registry()
    reg.handler("t", lambda ctx: {"n": ctx.job.id})
    exc = FakeExceptions()
    w = Worker(q, reg, exc, config=WorkerConfig(threads=4, prefetch=12, poll_interval=0.01))
    ids = [q.enqueue(JobSpec(kind="t", key=f"k{i % 7}")).job_id for i in range(60)]
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    deadline = time.monotonic() + 10
    while q.counts().get("done", 0) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    t.join(10)
    assert q.counts() == {"done": 60} and w.stats == {"ok": 60}
    assert sum(q.batches) == 60 and max(q.batches) > 1  # every success went through a batched commit
    assert sorted(exc.healed) == ids
    assert all(q.get(i).result == {"n": i} for i in ids)  # type: ignore[union-attr]
    assert [a.outcome for a in q.attempts(ids[0])] == ["ok"]


def test_shutdown_releases_jobs_claimed_ahead_that_never_started() -> None:
    started = threading.Event()
    release = threading.Event()

    def first_blocks(ctx: JobContext) -> None:
        if ctx.job.key == "a":
            started.set()
            release.wait(10)

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("t", first_blocks)
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=1, prefetch=2, poll_interval=0.01,
                                                            shutdown_grace=5))
    a, b, c = (q.enqueue(JobSpec(kind="t", key=k)).job_id for k in "abc")
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    assert started.wait(5)
    assert q.counts() == {"running": 3}  # one running, two claimed ahead
    stop.set()
    time.sleep(0.05)
    release.set()  # the running one finishes inside the grace period
    t.join(10)
    assert not t.is_alive()
    assert q.get(a).status == "done"  # type: ignore[union-attr]
    for jid in (b, c):
        job = q.get(jid)
        assert job is not None and job.status == "queued" and job.attempts == 0  # claimable at once
        assert [x.outcome for x in q.attempts(jid)] == ["released"]


@pytest.mark.parametrize("threads", [1, 4])
def test_heartbeat_keeps_leases_alive(threads: int) -> None:
    calls = []
    started = threading.Event()

    def longish(ctx: JobContext) -> None:
        started.set()
        time.sleep(0.4)
        calls.append(ctx.job.id)

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("t", longish)
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=threads, lease_seconds=0.15,
                                                            poll_interval=0.01))
    jid = q.enqueue(JobSpec(kind="t", key="a")).job_id
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    assert started.wait(5)
    thief_got = []
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        thief_got += q.claim("thief", 0.15, 1)
        time.sleep(0.02)
    stop.set()
    t.join(5)
    assert thief_got == [] and calls == [jid] and q.get(jid).status == "done"  # type: ignore[union-attr]


def test_a_lazy_client_is_built_once_under_concurrent_first_use(sqlite_url: str) -> None:
    from bridge.bootstrap import Lazy, build
    from bridge.settings import Settings

    c = build(Settings(database_url=sqlite_url), areas=())
    built = []

    def factory() -> object:
        time.sleep(0.05)
        obj = object()
        built.append(obj)
        return obj

    slow = Lazy(factory)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(slow())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and all(g is built[0] for g in got)
    assert not c.tiktok.built and not c.netsuite.built  # nothing connects until first used
    c.close()


class FakePeers:
    """An in-memory stand-in for the ``Peers`` repository: everyone who beat within ``ttl``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, float] = {}
        self.order: list[str] = []

    def beat(self, peer_id: str, name: str, *, ttl: float) -> list[str]:
        with self.lock:
            if peer_id not in self.seen:
                self.order.append(peer_id)
            self.seen[peer_id] = time.monotonic()
            return [p for p in self.order if p in self.seen and time.monotonic() - self.seen[p] <= ttl]

    def leave(self, peer_id: str) -> None:
        with self.lock:
            self.seen.pop(peer_id, None)


def test_running_workers_learn_of_each_other_and_split_a_limit() -> None:
    from bridge.netsuite.governor import share_of

    peers = FakePeers()
    shares: dict[str, int] = {}

    def split(live: list[str], me: str) -> None:
        shares[me] = share_of(5, live, me)

    q = MemoryJobQueue()
    workers = [Worker(q, Registry(), FakeExceptions(), peers=peers, on_peers=split,
                      config=WorkerConfig(threads=1, poll_interval=0.01, peer_interval=0.05, shutdown_grace=0.1))
               for _ in range(2)]
    stops = [threading.Event() for _ in workers]
    threads = [threading.Thread(target=w.run, args=(s,)) for w, s in zip(workers, stops, strict=True)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sorted(shares.values()) != [2, 3]:
        time.sleep(0.02)
    assert sorted(shares.values()) == [2, 3]  # together exactly the limit
    stops[1].set()  # one stops: it deregisters, the other takes the whole limit
    threads[1].join(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and shares[workers[0].peer_id] != 5:
        time.sleep(0.02)
    assert shares[workers[0].peer_id] == 5
    stops[0].set()
    threads[0].join(5)


def test_an_invalid_spec_is_an_admin_exception_not_retried() -> None:
    from bridge.mapping.specs import SpecError, SpecProblem

    def broken_spec(ctx: JobContext) -> None:
        raise SpecError([SpecProblem("mapping_specs/orders.yaml", "defaults.shipping_itme", "unknown key",
                                     "did you mean 'shipping_item'?")])

    w, q, exc, _ = make(broken_spec, max_attempts=3)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    assert w.drain() == 1  # one attempt: retrying cannot fix a spec
    job = q.get(jid)
    assert job is not None and job.status == "failed" and job.attempts == 1
    (raised,) = exc.raised
    assert raised["code"] == "SPEC_INVALID" and raised["owner"] == "admin"
    assert "orders.yaml: defaults.shipping_itme" in raised["title"]
    assert "shipping_item" in raised["fix_hint"] and "traceback" not in raised["evidence"]


def test_the_retention_job_prunes_finished_jobs_older_than_the_setting(sqlite_url: str) -> None:
    from bridge.bootstrap import build
    from bridge.flows.system import KIND_PRUNE
    from bridge.settings import Settings

    clock = ManualClock(T0)
    q = MemoryJobQueue(clock)
    app = build(Settings(database_url=sqlite_url, queue_retention_days=14, queue_prune_cron="40 2 * * *"),
                clock=clock, areas=("system",))
    reg = app.registry
    assert [(s.kind, s.cron) for s in reg.schedules()] == [(KIND_PRUNE, "40 2 * * *")]
    w = Worker(q, reg, FakeExceptions(), clock=clock, config=WorkerConfig(name="w"))
    old = q.enqueue(JobSpec(kind="system.noop", key="a")).job_id
    assert w.drain() == 1
    clock.advance(days=13)
    recent = q.enqueue(JobSpec(kind="system.noop", key="b")).job_id
    assert w.drain() == 1
    clock.advance(days=2)
    sweep = q.enqueue(JobSpec(kind=KIND_PRUNE, key="schedule:prune")).job_id
    assert w.drain() == 1
    done = q.get(sweep)
    assert done is not None and done.result is not None and done.result["pruned"] == 1
    assert q.get(old) is None and q.get(recent) is not None


def test_retention_zero_keeps_everything(sqlite_url: str) -> None:
    from bridge.bootstrap import build
    from bridge.flows.system import KIND_PRUNE
    from bridge.settings import Settings

    clock = ManualClock(T0)
    q = MemoryJobQueue(clock)
    app = build(Settings(database_url=sqlite_url, queue_retention_days=0, queue_prune_cron="40 2 * * *"),
                clock=clock, areas=("system",))
    reg = app.registry
    w = Worker(q, reg, FakeExceptions(), clock=clock, config=WorkerConfig(name="w"))
    old = q.enqueue(JobSpec(kind="system.noop", key="a")).job_id
    w.drain()
    clock.advance(days=400)
    q.enqueue(JobSpec(kind=KIND_PRUNE, key="schedule:prune"))
    w.drain()
    assert q.get(old) is not None


def test_express_kinds_run_on_their_own_threads_not_behind_claimed_jobs() -> None:
    """A worker whose threads and prefetch are full of slow jobs claims an urgent express job at the
    next free slot (priority) and runs it at once on the express threads, not after the jobs it had
    already claimed."""
    done_slow: list[int] = []
    seen_at_push: list[int] = []
    express_done = threading.Event()

    def slow(ctx: JobContext) -> None:
        time.sleep(0.3)
        done_slow.append(1)

    def push(ctx: JobContext) -> None:
        seen_at_push.append(len(done_slow))
        express_done.set()

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("slow", slow)
    reg.handler("push", push, express=True)
    assert reg.is_express("push") and not reg.is_express("slow")
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=1, prefetch=4, poll_interval=0.01,
                                                            shutdown_grace=10, lease_seconds=30))
    for i in range(10):
        q.enqueue(JobSpec(kind="slow", key=f"s{i}", priority=100))
    with running(w):
        time.sleep(0.1)  # one slow job running, four claimed behind it
        q.enqueue(JobSpec(kind="push", key="p", priority=40))
        assert express_done.wait(10)
    # behind the four prefetched jobs it would have seen at least five finished
    assert seen_at_push and seen_at_push[0] <= 2


def test_urgent_kinds_do_not_wait_behind_express_jobs() -> None:
    """Both express threads busy with slow pushes and more pushes claimed behind them: an urgent job (a
    buffer raise: no NetSuite call) runs at once on threads of its own. On a shared express lane it ran
    only after the pushes claimed before it (1.9 s behind pushes in the flash-sale benchmark)."""
    started: list[float] = []
    urgent_at: list[float] = []
    urgent_done = threading.Event()

    def push(ctx: JobContext) -> None:
        started.append(time.monotonic())
        time.sleep(0.6)

    def raise_(ctx: JobContext) -> None:
        urgent_at.append(time.monotonic())
        urgent_done.set()

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("push", push, express=True)
    reg.handler("raise", raise_, urgent=True)
    assert reg.is_urgent("raise") and reg.is_express("raise") and not reg.is_urgent("push")
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=2, prefetch=8, poll_interval=0.01,
                                                            shutdown_grace=10, lease_seconds=30))
    for i in range(6):
        q.enqueue(JobSpec(kind="push", key=f"p{i}", priority=45))
    with running(w):
        time.sleep(0.15)  # two pushes running, four claimed behind them
        enqueued = time.monotonic()
        q.enqueue(JobSpec(kind="raise", key="r", priority=30))
        assert urgent_done.wait(10)
    # not after the two running pushes (0.6 s each), let alone after the four claimed behind them
    assert sum(1 for s in started if s < urgent_at[0]) == 2 and urgent_at[0] - enqueued < 0.6


def _lost_connection() -> Exception:
    """What SQLAlchemy raises when PostgreSQL terminates the backend under a query."""
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"),
                            connection_invalidated=True)


def test_a_lost_database_connection_does_not_spend_an_attempt() -> None:
    """Five attempts in a row lose the database connection (a failover, a restart): the job has 3
    attempts and still finishes, each lost attempt recorded as ``db_lost``, no exception raised."""
    calls = {"n": 0}

    def flaky(ctx: JobContext) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] <= 5:
            try:
                raise _lost_connection()
            except Exception as exc:  # wrapped by a flow, as a client error would be: the cause still counts
                raise RuntimeError("could not read the link") from exc
        return {"ok": True}

    w, q, exc, clock = make(flaky, max_attempts=3)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    for _ in range(6):
        w.drain()
        clock.advance(200)
    job = q.get(jid)
    assert job is not None and job.status == "done" and job.attempts == 1
    assert [a.outcome for a in q.attempts(jid)] == ["db_lost"] * 5 + ["ok"]
    assert exc.raised == []


def test_lost_connections_count_again_once_the_job_is_older_than_the_window() -> None:
    def lost(ctx: JobContext) -> None:
        raise _lost_connection()

    w, q, exc, clock = make(lost, max_attempts=3)
    w.config = replace(w.config, db_lost_retry_seconds=300)
    jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
    w.drain()
    clock.advance(400)  # the job is now older than the window: the next failures spend attempts
    for _ in range(4):
        w.drain()
        clock.advance(200)
    job = q.get(jid)
    assert job is not None and job.status == "dead"
    assert [a.outcome for a in q.attempts(jid)] == ["db_lost", "retry", "retry", "dead"]
    assert [r["code"] for r in exc.raised] == ["RETRIES_EXHAUSTED"]


@pytest.mark.postgres
def test_a_backend_terminated_under_the_job_is_retried_without_spending_attempts(pg_url: str) -> None:
    """A real lost connection: the handler's PostgreSQL backend is terminated under its query."""
    from sqlalchemy import text

    from bridge.store.db import make_engine
    from bridge.store.queue import SqlJobQueue

    engine = make_engine(pg_url, pool_size=2)
    try:
        clock = ManualClock(T0)
        q = SqlJobQueue(engine, clock, default_max_attempts=1)
        calls = {"n": 0}

        def handler(ctx: JobContext) -> dict[str, Any]:
            calls["n"] += 1
            with engine.connect() as c:
                if calls["n"] <= 2:
                    c.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                return {"one": c.execute(text("SELECT 1")).scalar_one()}

        reg = Registry()
        reg.handler("t", handler)
        w = Worker(q, reg, FakeExceptions(), clock=clock, config=WorkerConfig(retry_base=1, retry_cap=5, name="w"))
        jid = q.enqueue(JobSpec(kind="t", key="k")).job_id
        for _ in range(3):
            w.drain()
            clock.advance(10)
        job = q.get(jid)
        assert job is not None and job.status == "done" and job.result == {"one": 1}
        assert [a.outcome for a in q.attempts(jid)] == ["db_lost", "db_lost", "ok"]
    finally:
        engine.dispose()


def test_a_backlog_of_express_jobs_does_not_take_the_job_threads_room() -> None:
    """Express jobs claimed beyond their lane's threads wait in their lane, not in the job threads' claim
    room: with the express lane stuck, the job threads still get and run their jobs (before, the claimed
    express backlog filled the room and the job threads idled)."""
    release = threading.Event()
    ran: list[str] = []

    def stuck(ctx: JobContext) -> None:
        release.wait(10)

    q = MemoryJobQueue()
    reg = Registry()
    reg.handler("event", stuck, express=True)
    reg.handler("sync", lambda ctx: ran.append(ctx.job.key))
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(threads=2, prefetch=2, poll_interval=0.01,
                                                            shutdown_grace=10, lease_seconds=30))
    for i in range(20):
        q.enqueue(JobSpec(kind="event", key=f"e{i}", priority=10))
    for i in range(6):
        q.enqueue(JobSpec(kind="sync", key=f"s{i}", priority=50))
    with running(w):
        try:
            deadline = time.monotonic() + 5
            while len(ran) < 6 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sorted(ran) == [f"s{i}" for i in range(6)]
            # the events claimed: the lane's room plus at most one claim's worth beyond it; the rest stay queued
            assert q.counts().get("running", 0) <= 2 * Worker.EXPRESS_THREADS + 4
            release.set()
            deadline = time.monotonic() + 10
            while q.counts().get("done", 0) < 26 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            release.set()  # before the worker stops: a stuck handler must not hold its shutdown
    assert q.counts() == {"done": 26}
