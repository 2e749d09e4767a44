"""The queue contract, run against the memory, SQLite and PostgreSQL implementations."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from bridge import lease
from bridge.clock import ManualClock
from bridge.errors import LeaseLost
from bridge.store.db import make_engine
from bridge.store.queue import Done, JobQueue, JobSpec, MemoryJobQueue, SqlJobQueue

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def q(request: pytest.FixtureRequest) -> tuple[JobQueue, ManualClock]:
    clock = ManualClock(T0)
    if request.param == "memory":
        return MemoryJobQueue(clock), clock
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine = make_engine(url, pool_size=4)
    request.addfinalizer(engine.dispose)
    return SqlJobQueue(engine, clock), clock


def spec(key: str, ikey: str | None = None, **kw: object) -> JobSpec:
    return JobSpec(kind="test.kind", key=key, payload={"k": key}, idempotency_key=ikey, **kw)  # type: ignore[arg-type]


def test_enqueue_is_idempotent_on_the_idempotency_key(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    a = queue.enqueue(spec("order:1", "evt-1"))
    b = queue.enqueue(spec("order:1", "evt-1"))
    c = queue.enqueue(spec("order:1", "evt-2"))
    assert a.created and not b.created and c.created
    assert a.job_id == b.job_id != c.job_id
    assert queue.counts() == {"queued": 2}


def test_enqueue_many_dedupes_within_and_across_calls(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    first = queue.enqueue_many([spec("a", "x"), spec("b", "y"), spec("a", "x")])
    assert [r.created for r in first] == [True, True, False]
    assert first[0].job_id == first[2].job_id
    again = queue.enqueue_many([spec("b", "y")])
    assert not again[0].created and again[0].job_id == first[1].job_id


def test_one_call_tells_each_spec_its_job_whether_inserted_joined_or_known(q: tuple[JobQueue, ManualClock]) -> None:
    """A group of webhooks enqueues in one call: a spec whose idempotency key exists, one that coalesces into a
    waiting job (an order's second webhook while its sync waits) and a new one each get the right job."""
    queue, _ = q
    known = queue.enqueue(spec("order:1", "evt-1")).job_id
    waiting = queue.enqueue(spec("order:2", "evt-2", coalesce=True)).job_id
    out = queue.enqueue_many([spec("order:1", "evt-1"), spec("order:2", "evt-3", coalesce=True),
                              spec("order:3", "evt-4"), spec("order:4", "evt-5", coalesce=True)])
    assert [(r.created, r.job_id) for r in out[:2]] == [(False, known), (False, waiting)]
    assert out[2].created and out[3].created and len({known, waiting, out[2].job_id, out[3].job_id}) == 4
    assert queue.counts() == {"queued": 4}


def test_only_due_jobs_are_claimed(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    queue.enqueue(spec("a", run_at=datetime(2026, 11, 1, 12, 5, tzinfo=UTC)))
    assert queue.claim("w1", 30, 10) == []
    clock.advance(301)
    jobs = queue.claim("w1", 30, 10)
    assert [j.key for j in jobs] == ["a"]
    assert jobs[0].status == "running" and jobs[0].attempts == 1 and jobs[0].lease_owner == "w1"


def test_jobs_sharing_a_key_never_run_together_and_run_in_order(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    first = queue.enqueue(spec("order:9", "e1")).job_id
    second = queue.enqueue(spec("order:9", "e2")).job_id
    other = queue.enqueue(spec("order:10", "e3")).job_id
    claimed = queue.claim("w1", 30, 10)
    assert sorted(j.id for j in claimed) == sorted([first, other])
    assert queue.claim("w2", 30, 10) == []  # second is blocked while first runs
    job1 = next(j for j in claimed if j.id == first)
    queue.complete(job1, {"ok": 1}, started_at=T0)
    nxt = queue.claim("w2", 30, 10)
    assert [j.id for j in nxt] == [second]


def test_complete_and_claim_finishes_a_batch_and_claims_in_the_same_transaction(
    q: tuple[JobQueue, ManualClock],
) -> None:
    queue, _ = q
    a1 = queue.enqueue(spec("a", "a1")).job_id
    a2 = queue.enqueue(spec("a", "a2")).job_id
    b1 = queue.enqueue(spec("b", "b1")).job_id
    first = queue.claim("w", 30, 10)
    assert sorted(j.id for j in first) == [a1, b1]
    lost, nxt = queue.complete_and_claim([Done(j, T0, {"n": j.id}) for j in first], "w", 30, 10)
    # a1 is done inside the claiming transaction, so a2 is already the head of its key
    assert lost == [] and [j.id for j in nxt] == [a2]
    for jid in (a1, b1):
        job = queue.get(jid)
        assert job is not None and job.status == "done" and job.result == {"n": jid} and job.lease_token is None
        assert [(a.attempt, a.worker, a.outcome) for a in queue.attempts(jid)] == [(1, "w", "ok")]
    assert queue.complete_and_claim([], "w", 30, 10) == ([], [])
    lost, nxt = queue.complete_and_claim([Done(nxt[0], T0)], "w", 30, 0)
    assert lost == [] and nxt == [] and queue.counts() == {"done": 3}


def test_complete_and_claim_leaves_a_lost_lease_to_its_new_owner(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    x = queue.enqueue(spec("x")).job_id
    y = queue.enqueue(spec("y")).job_id
    mine = {j.id: j for j in queue.claim("old", 10, 10)}
    clock.advance(11)
    assert [j.id for j in queue.claim("new", 10, 1)] == [x]  # x's lease expired and another worker took it
    lost, claimed = queue.complete_and_claim([Done(mine[x], T0), Done(mine[y], T0)], "old", 10, 0)
    assert lost == [x] and claimed == []
    now_x, now_y = queue.get(x), queue.get(y)
    assert now_x is not None and now_x.status == "running" and now_x.lease_owner == "new"
    assert now_y is not None and now_y.status == "done"
    assert [a.outcome for a in queue.attempts(x)] == ["lease_expired"]
    assert [a.outcome for a in queue.attempts(y)] == ["ok"]


def test_listen_wakes_idle_workers_on_enqueue_where_the_engine_can(q: tuple[JobQueue, ManualClock]) -> None:
    """PostgreSQL: LISTEN/NOTIFY wakes a waiting worker when any process enqueues; SQLite and memory say
    they cannot (the worker then polls)."""
    queue, _ = q
    woke, stop = threading.Event(), threading.Event()
    try:
        listening = queue.listen(woke.set, stop)
        pg = isinstance(queue, SqlJobQueue) and queue.engine.dialect.name == "postgresql"
        assert listening == pg
        if not pg:
            return
        assert woke.wait(10)  # connected (and told to look, in case it missed something meanwhile)
        woke.clear()
        assert not woke.wait(0.3)  # nothing enqueued, nothing heard
        queue.enqueue(spec("order:1"))
        assert woke.wait(10)
    finally:
        stop.set()


def test_a_retry_keeps_later_jobs_of_its_key_waiting(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    first = queue.enqueue(spec("sku:1", "a")).job_id
    second = queue.enqueue(spec("sku:1", "b")).job_id
    (job,) = queue.claim("w1", 30, 10)
    queue.retry(job, 60, "HTTP 429 from tiktok", started_at=T0)
    assert queue.claim("w1", 30, 10) == []  # first waits for its backoff, second waits for first
    clock.advance(61)
    (again,) = queue.claim("w1", 30, 10)
    assert again.id == first and again.attempts == 2
    queue.fail(again, "failed", "unknown SKU", started_at=T0, outcome="needs_human")
    (nxt,) = queue.claim("w1", 30, 10)
    assert nxt.id == second
    stored = queue.get(first)
    assert stored is not None and stored.status == "failed" and stored.last_error == "unknown SKU"


def test_claim_orders_by_priority_then_due_time_then_sequence(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    low = queue.enqueue(spec("a", priority=200)).job_id
    mid = queue.enqueue(spec("b")).job_id
    high = queue.enqueue(spec("c", priority=10)).job_id
    claimed = queue.claim("w", 30, 2)
    assert [j.id for j in claimed] == [high, mid]
    assert [j.id for j in queue.claim("w", 30, 5)] == [low]


def test_an_expired_lease_is_reclaimed_and_the_old_owner_cannot_finish(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    jid = queue.enqueue(spec("order:1")).job_id
    (mine,) = queue.claim("crashed", 10, 1)
    assert queue.claim("other", 10, 1) == []
    clock.advance(11)
    (theirs,) = queue.claim("other", 10, 1)
    assert theirs.id == jid and theirs.attempts == 2 and theirs.lease_owner == "other"
    with pytest.raises(LeaseLost):
        queue.complete(mine, None, started_at=T0)
    with pytest.raises(LeaseLost):
        queue.extend(mine, 10)
    queue.complete(theirs, {"done": True}, started_at=T0)
    outcomes = [(a.attempt, a.worker, a.outcome) for a in queue.attempts(jid)]
    assert outcomes == [(1, "crashed", "lease_expired"), (2, "other", "ok")]


def test_extend_keeps_a_long_job_leased(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    queue.enqueue(spec("x"))
    (job,) = queue.claim("w", 10, 1)
    clock.advance(8)
    job = queue.extend(job, 10)
    clock.advance(8)
    assert queue.claim("thief", 10, 1) == []
    queue.complete(job, None, started_at=T0)
    assert queue.counts() == {"done": 1}


def test_extend_many_extends_the_held_leases_and_names_the_lost_ones(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    for k in ("a", "b", "c"):
        queue.enqueue(spec(k))
    a, b, c = queue.claim("w", 10, 3)
    clock.advance(11)  # every lease expired; a thief takes the first
    (stolen,) = queue.claim("thief", 10, 1)
    assert stolen.id == a.id
    assert queue.extend_many([a, b, c], 10) == [a.id]
    clock.advance(8)
    assert queue.claim("other", 10, 3) == []  # b and c are leased to w again, a to the thief
    queue.complete(b, None, started_at=T0)
    queue.complete(c, None, started_at=T0)
    assert queue.extend_many([], 10) == []


def test_a_coalesced_enqueue_joining_a_waiting_job_writes_nothing(db_url: str) -> None:
    # Joining a waiting job, or the job of the same idempotency key, is found with a read: no write
    # transaction, so not even a stale worker's fence refuses it (nothing is written); a new job is a write.
    clock = ManualClock(T0)
    engine = make_engine(db_url, pool_size=4)
    try:
        queue = SqlJobQueue(engine, clock)
        queue.enqueue(spec("running"))
        (job,) = queue.claim("w", 10, 1)
        first = queue.enqueue(spec("r", coalesce=True))
        keyed = queue.enqueue(spec("s", ikey="s:1"))
        clock.advance(11)  # the job's lease expired: its fence refuses writes
        with lease.holding(queue.fence(job)):
            again = queue.enqueue(spec("r", coalesce=True))
            same = queue.enqueue(spec("s", ikey="s:1"))
            with pytest.raises(LeaseLost):
                queue.enqueue(spec("t", coalesce=True))
        assert (again.job_id, again.created) == (first.job_id, False)
        assert (same.job_id, same.created) == (keyed.job_id, False)
        assert queue.counts() == {"queued": 2, "running": 1}
    finally:
        engine.dispose()


def test_a_claim_can_leave_kinds_it_has_no_room_for(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    for i in range(3):
        queue.enqueue(JobSpec(kind="lane.full", key=f"f{i}", priority=10))
        queue.enqueue(JobSpec(kind="test.kind", key=f"t{i}", priority=50))
    _, claimed = queue.complete_and_claim([], "w", 10, 4, ["lane.full"])
    assert sorted(j.kind for j in claimed) == ["test.kind"] * 3  # the higher-priority kind stays queued
    _, rest = queue.complete_and_claim([], "w", 10, 4)
    assert sorted(j.kind for j in rest) == ["lane.full"] * 3


def test_release_gives_the_job_back_without_counting_an_attempt(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    jid = queue.enqueue(spec("x")).job_id
    (job,) = queue.claim("w", 10, 1)
    queue.release(job, started_at=T0)
    (again,) = queue.claim("w2", 10, 1)
    assert again.id == jid and again.attempts == 1
    assert [a.outcome for a in queue.attempts(jid)] == ["released"]


def test_attempt_errors_are_recorded_redacted(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    jid = queue.enqueue(spec("x")).job_id
    (job,) = queue.claim("w", 10, 1)
    queue.retry(job, 0, 'refused: {"access_token": "tok-123456", "reason": "rate"} url=/x?sign=abcdef', started_at=T0)
    (attempt,) = queue.attempts(jid)
    assert attempt.outcome == "retry" and attempt.error is not None
    assert "tok-123456" not in attempt.error and "abcdef" not in attempt.error
    assert "rate" in attempt.error


def test_fail_needs_a_terminal_status(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    queue.enqueue(spec("x"))
    (job,) = queue.claim("w", 10, 1)
    with pytest.raises(ValueError):
        queue.fail(job, "queued", "no", started_at=T0)  # type: ignore[arg-type]


def test_pending_keys_lists_queued_work_of_a_kind_by_prefix(q: tuple[JobQueue, ManualClock]) -> None:
    queue, _ = q
    for key in ["order:S1:1", "order:S1:2", "order:S1:2", "order:S2:3", "order:S1_x:4"]:
        queue.enqueue(JobSpec(kind="orders.sync", key=key))
    queue.enqueue(JobSpec(kind="other", key="order:S1:9"))
    (running,) = queue.claim("w", 30, 1)
    assert running.key == "order:S1:1"
    keys = [k for k, _ in queue.pending_keys("orders.sync", "order:S1:", 10)]
    assert keys == ["order:S1:2"]  # not the running one, not S2, not S1_x, not another kind
    assert queue.pending_keys("orders.sync", "order:", 2)[0][1].tzinfo is not None
    queue.enqueue(JobSpec(kind="orders.sync", key="order:S1:3"))
    newest = [k for k, _ in queue.pending_keys("orders.sync", "order:S1:", 10, newest_first=True)]
    assert newest == ["order:S1:3", "order:S1:2"]  # the sales intake reads the latest orders first


def test_coalescing_absorbs_into_an_unstarted_due_job_only(q: tuple[JobQueue, ManualClock]) -> None:
    queue, clock = q
    first = queue.enqueue(spec("order:1", "w1", coalesce=True))
    again = queue.enqueue(spec("order:1", "w2", coalesce=True))
    other_key = queue.enqueue(spec("order:2", "w3", coalesce=True))
    assert again.job_id == first.job_id and not again.created and other_key.created
    (running,) = [j for j in queue.claim("w", 30, 5) if j.key == "order:1"]
    behind = queue.enqueue(spec("order:1", "w4", coalesce=True))  # the first already started: a new job
    assert behind.created
    queue.retry(running, 600, "busy", started_at=T0)  # a job waiting for its backoff absorbs nothing later
    assert queue.enqueue(spec("order:1", "w5", coalesce=True)).job_id == behind.job_id
    plain = queue.enqueue(spec("order:1", "w6"))
    assert plain.created



def test_a_coalesced_job_without_idempotency_key_joins_the_waiting_one(q: tuple[JobQueue, ManualClock]) -> None:
    """The shop's sales intake, queued by every order webhook: no key of its own, absorbed by one waiting
    (and due no later), a new one once that one started."""
    queue, clock = q
    first = queue.enqueue(JobSpec(kind="orders.intake", key="orders.intake:S1", coalesce=True))
    again = queue.enqueue(JobSpec(kind="orders.intake", key="orders.intake:S1", coalesce=True))
    assert first.created and not again.created and again.job_id == first.job_id
    later = queue.enqueue(JobSpec(kind="orders.intake", key="orders.intake:S2", coalesce=True,
                                  run_at=T0 + timedelta(seconds=5)))
    sooner = queue.enqueue(JobSpec(kind="orders.intake", key="orders.intake:S2", coalesce=True))
    assert sooner.created and sooner.job_id != later.job_id  # a job due later absorbs nothing due sooner
    claimed = [j.id for j in queue.claim("w", 30, 5)]
    assert first.job_id in claimed
    assert queue.enqueue(JobSpec(kind="orders.intake", key="orders.intake:S1", coalesce=True)).created


def test_coalesced_jobs_of_one_call_join_the_first(q: tuple[JobQueue, ManualClock]) -> None:
    """A group of a shop's order webhooks committed together: one intake job, the rest join it."""
    queue, _ = q
    intake = JobSpec(kind="orders.intake", key="orders.intake:S1", coalesce=True)
    out = queue.enqueue_many([spec("order:S1:1", "a"), intake, spec("order:S1:2", "b"), intake, intake])
    assert [r.created for r in out] == [True, True, True, False, False]
    assert out[1].job_id == out[3].job_id == out[4].job_id
    assert queue.counts() == {"queued": 3}
    again = queue.enqueue_many([intake, JobSpec(kind="orders.intake", key="orders.intake:S2", coalesce=True)])
    assert again[0] == replace(out[1], created=False) and again[1].created


def test_a_joined_job_does_not_start_before_the_joining_transaction_commits(db_url: str) -> None:
    """A coalesced enqueue relies on the waiting job to run after its own writes are visible (the intake reads
    the order syncs queued beside it; a stock push reads the stock just written). A claim while the joining
    transaction is open must not start that job (PostgreSQL skips it; SQLite's claim waits for the commit)."""
    engine = make_engine(db_url, pool_size=4)
    try:
        queue = SqlJobQueue(engine, ManualClock(T0))
        waiting = queue.enqueue(JobSpec(kind="inventory.push", key="push:S1:SKU", coalesce=True)).job_id
        claims: list[tuple[list[int], float]] = []
        with engine.connect() as conn:
            tx = conn.begin()
            joined = queue.enqueue(JobSpec(kind="inventory.push", key="push:S1:SKU", coalesce=True), conn=conn)
            assert joined.job_id == waiting and not joined.created
            t = threading.Thread(target=lambda: claims.append(
                ([j.id for j in queue.claim("w1", 30, 5)], time.monotonic())))
            t.start()
            t.join(0.5)
            committed = time.monotonic()
            tx.commit()
        t.join(30)
        (ids, at), = claims
        assert waiting not in ids or at >= committed, "the joined job started before the joining commit"
        if waiting not in ids:
            assert [j.id for j in queue.claim("w1", 30, 5)] == [waiting]
    finally:
        engine.dispose()


# -- per-key order under any commit order (issue 21, point 3) -------------------------------------


def _wait_until_blocked(engine: Engine, done: threading.Event, seconds: float = 10.0) -> None:
    """Until the other enqueue waits for a lock (PostgreSQL shows it in pg_stat_activity) or finishes.
    SQLite has no such view: its second writer spins on BEGIN IMMEDIATE; give it time to try."""
    deadline = time.monotonic() + seconds
    if engine.dialect.name != "postgresql":
        done.wait(0.5)
        return
    with engine.connect() as c:
        while time.monotonic() < deadline and not done.is_set():
            waiting = c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            c.rollback()
            if waiting:
                return
            time.sleep(0.02)


def test_per_key_order_holds_when_a_lower_id_commits_after_a_higher_one(db_url: str) -> None:
    """A webhook transaction holds the lower id of a key while a poll enqueues the same key and commits.
    A claim in between must not treat the later job as the head of the key."""
    engine = make_engine(db_url, pool_size=4)
    try:
        queue = SqlJobQueue(engine, ManualClock(T0))
        slow = engine.connect()
        tx = slow.begin()
        first = queue.enqueue(spec("order:7", "webhook"), conn=slow).job_id
        poll_done = threading.Event()
        second: list[int] = []

        def poll() -> None:
            second.append(queue.enqueue(spec("order:7", "poll")).job_id)
            poll_done.set()

        t = threading.Thread(target=poll)
        t.start()
        _wait_until_blocked(engine, poll_done)
        early = queue.claim("w1", 30, 10)
        assert [j.key for j in early] == [], "a job of order:7 ran while an earlier one was uncommitted"
        tx.commit()
        slow.close()
        t.join(30)
        assert second and second[0] > first  # the later enqueue drew the later id
        (head,) = queue.claim("w1", 30, 10)
        assert head.id == first
        assert queue.claim("w2", 30, 10) == []
        queue.complete(head, None, started_at=T0)
        (nxt,) = queue.claim("w2", 30, 10)
        assert nxt.id == second[0]
    finally:
        engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_queue(request: pytest.FixtureRequest) -> tuple[JobQueue, Engine | None]:
    """A queue on the real clock, for concurrent tests."""
    if request.param == "memory":
        return MemoryJobQueue(), None
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine = make_engine(url, pool_size=10)
    request.addfinalizer(engine.dispose)
    return SqlJobQueue(engine), engine


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched"])
def test_randomized_concurrent_enqueues_and_claims_keep_per_key_order(
    live_queue: tuple[JobQueue, Engine | None], batched: bool,
) -> None:
    """Producers enqueue random keys in transactions that stay open for a random while (so commit order
    differs from id order); workers claim and complete (one by one, or ``batched``: each batch of
    successes completed in the transaction that claims the next batch, as the worker does). No two jobs
    of a key overlap, and each key's jobs start in id order."""
    queue, engine = live_queue
    rng = random.Random(21)
    keys = [f"order:{i}" for i in range(6)]
    plans = [[[rng.choice(keys) for _ in range(rng.randint(1, 3))] for _ in range(25)] for _ in range(3)]
    total = sum(len(batch) for plan in plans for batch in plan)
    lock = threading.Lock()
    running: dict[str, int] = {}
    started: dict[str, list[int]] = {}
    violations: list[str] = []
    finished = [0]
    errors: list[BaseException] = []

    def produce(plan: list[list[str]], seed: int) -> None:
        r = random.Random(seed)
        try:
            for n, batch in enumerate(plan):
                specs = [spec(k, f"p{seed}-{n}-{i}") for i, k in enumerate(batch)]
                if engine is None:
                    queue.enqueue_many(specs)
                    time.sleep(r.random() * 0.005)
                    continue
                with engine.begin() as conn:
                    queue.enqueue_many(specs, conn=conn)
                    time.sleep(r.random() * 0.02)  # commit late: a later transaction may commit first
        except BaseException as exc:
            errors.append(exc)

    def consume(name: str) -> None:
        deadline = time.monotonic() + 120
        done: list[Done] = []
        try:
            while time.monotonic() < deadline:
                with lock:
                    if finished[0] >= total and not done:
                        return
                if batched:
                    lost, claimed = queue.complete_and_claim(done, name, 60, 3)
                    assert lost == []
                    done = []
                else:
                    claimed = queue.claim(name, 60, 2)
                if not claimed:
                    time.sleep(0.002)
                    continue
                with lock:
                    for job in claimed:
                        if job.key in running:
                            violations.append(f"{job.id} ran while {running[job.key]} of {job.key} ran")
                        running[job.key] = job.id
                        seen = started.setdefault(job.key, [])
                        if seen and seen[-1] > job.id:
                            violations.append(f"{job.key}: {job.id} started after {seen[-1]}")
                        seen.append(job.id)
                for job in claimed:
                    time.sleep(0.001)
                    with lock:
                        running.pop(job.key, None)
                        finished[0] += 1
                    if batched:
                        done.append(Done(job, job.started_at or T0))
                    else:
                        queue.complete(job, None, started_at=job.started_at or T0)
        except BaseException as exc:
            errors.append(exc)

    producers = [threading.Thread(target=produce, args=(p, i)) for i, p in enumerate(plans)]
    consumers = [threading.Thread(target=consume, args=(f"w{i}",)) for i in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers + consumers:
        t.join(150)
    assert not errors, errors
    assert violations == []
    assert finished[0] == total
    assert queue.counts() == {"done": total}


# -- retention (issue 21, point 1) ----------------------------------------------------------------


def test_prune_deletes_old_finished_jobs_and_attempts_and_keeps_exception_evidence(
    q: tuple[JobQueue, ManualClock],
) -> None:
    queue, clock = q
    ids = {name: queue.enqueue(spec(f"k:{name}", name)).job_id
           for name in ["done", "skipped", "failed", "dead", "replay", "recent", "waiting"]}
    by_id = {j.id: j for j in queue.claim("w", 600, 10) if j.key != "k:waiting"}
    for name in ["done", "skipped", "failed", "dead", "replay"]:
        job = by_id[ids[name]]
        if name == "done":
            queue.complete(job, None, started_at=T0)
        elif name == "replay":  # a finished job an exception still points at
            queue.fail(job, "skipped", "superseded", started_at=T0, exception_id=42)
        else:
            queue.fail(job, name, "why", started_at=T0)  # type: ignore[arg-type]
    clock.advance(days=15)
    queue.complete(by_id[ids["recent"]], None, started_at=T0)
    # a running job (the waiting one claims now) is never touched
    assert queue.prune(clock.now() - timedelta(days=14), batch=2) == 2
    assert queue.get(ids["done"]) is None and queue.get(ids["skipped"]) is None
    assert queue.attempts(ids["done"]) == []
    for kept in ["failed", "dead", "replay", "recent", "waiting"]:
        assert queue.get(ids[kept]) is not None, kept
    assert [a.outcome for a in queue.attempts(ids["failed"])] == ["failed"]
    assert queue.prune(clock.now() - timedelta(days=14)) == 0


def test_prune_keeps_a_finished_job_that_an_exception_points_at(db_url: str) -> None:
    from bridge.store.repos import Exceptions

    clock = ManualClock(T0)
    engine = make_engine(db_url, pool_size=2)
    try:
        queue = SqlJobQueue(engine, clock)
        kept = queue.enqueue(spec("a")).job_id
        gone = queue.enqueue(spec("b")).job_id
        ja, jb = sorted(queue.claim("w", 60, 2), key=lambda j: j.id)
        Exceptions(engine, clock).raise_(code="TEST_EVIDENCE", owner="ops", title="why it stopped", job=ja)
        lost, _ = queue.complete_and_claim([Done(ja, T0), Done(jb, T0)], "w", 60, 0)
        assert lost == []
        clock.advance(days=30)
        assert queue.prune(clock.now() - timedelta(days=14)) == 1
        assert queue.get(kept) is not None and [a.outcome for a in queue.attempts(kept)] == ["ok"]
        assert queue.get(gone) is None and queue.attempts(gone) == []
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_q(request: pytest.FixtureRequest) -> tuple[SqlJobQueue, ManualClock]:
    clock = ManualClock(T0)
    engine = make_engine(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"),
                         pool_size=4)
    request.addfinalizer(engine.dispose)
    return SqlJobQueue(engine, clock), clock


@pytest.mark.parametrize("batched", [True, False])
def test_a_success_heals_the_exceptions_of_its_kind_and_key_in_its_own_commit(
        sql_q: tuple[SqlJobQueue, ManualClock], batched: bool) -> None:
    """The exception a job of this kind and key left (it used up its attempts) is resolved by the commit
    that completes a later job of the same kind and key, not by a later step a lost connection or a
    killed worker can skip; other keys' and other kinds' exceptions stay open."""
    from bridge.store.repos import Exceptions

    queue, clock = sql_q
    excs = Exceptions(queue.engine, clock)
    dead = queue.enqueue(spec("order:1", "first")).job_id
    [job] = queue.claim("w", 30, 1)
    queue.fail(job, "dead", "boom", started_at=T0, outcome="dead")
    mine = excs.raise_(code="RETRIES_EXHAUSTED", owner="admin", title="gave up", entity="order:1",
                       job=queue.get(dead))
    other_key = excs.raise_(code="RETRIES_EXHAUSTED", owner="admin", title="gave up", entity="order:2",
                            job=replace(job, key="order:2"))
    other_kind = excs.raise_(code="FATAL", owner="admin", title="bug", entity="order:1:x",
                             job=replace(job, kind="other.kind"))
    queue.enqueue(spec("order:1", "second"))
    clock.advance(1)
    [again] = queue.claim("w", 30, 1)
    if batched:
        lost, _ = queue.complete_and_claim([Done(again, T0)], "w", 30, 0)
        assert lost == []
    else:
        queue.complete(again, {}, started_at=T0)
    healed = excs.get(mine)
    assert healed is not None and healed.status == "resolved" and healed.resolved_by == "auto"
    assert healed.resolution == f"job {again.id} (test.kind) succeeded"
    assert [excs.get(i).status for i in (other_key, other_kind)] == ["open", "open"]  # type: ignore[union-attr]
