"""Group commit: concurrent writes share a transaction, nothing is answered before its commit, and one bad
item fails alone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from bridge.bootstrap import build
from bridge.domain.keys import order_key
from bridge.settings import Settings
from bridge.store.group_commit import GroupCommit
from bridge.store.queue import JobSpec
from bridge.web.ingest import _writer, ingest
from bridge.worker.registry import InboundEvent


@pytest.fixture
def engine(tmp_path: Any) -> Iterator[Any]:
    e = create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with e.begin() as c:
        c.execute(text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
    yield e
    e.dispose()


def rows(engine: Any) -> list[str]:
    with engine.connect() as c:
        return sorted(r[0] for r in c.execute(text("SELECT v FROM t")))


def insert_all(conn: Connection, items: Sequence[str]) -> list[str]:
    for v in items:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": v})
    return [f"ok:{v}" for v in items]


def behind_a_held_group(gc: GroupCommit[str, str], first_in: threading.Event, release: threading.Event, first: str,
                        others: list[str]) -> dict[str, Any]:
    """Submit ``first`` (its write signals ``first_in``, then holds until ``release``), then ``others`` from threads
    of their own while it is held; once all wait, release. What each submit returned or raised."""
    outcome: dict[str, Any] = {}

    def submit(v: str) -> None:
        try:
            outcome[v] = gc.submit(v)
        except BaseException as exc:  # noqa: BLE001 (the tests look at what each thread got)
            outcome[v] = exc

    leader = threading.Thread(target=submit, args=(first,))
    leader.start()
    assert first_in.wait(10)
    threads = [threading.Thread(target=submit, args=(v,)) for v in others]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(gc._waiting) < len(others) and time.monotonic() < deadline:  # all wait behind the first commit
        time.sleep(0.005)
    release.set()
    for t in (leader, *threads):
        t.join(10)
        assert not t.is_alive()
    return outcome


def test_items_that_arrive_during_a_commit_share_the_next_one(engine: Any) -> None:
    first_in = threading.Event()
    release = threading.Event()

    def write(conn: Connection, items: Sequence[str]) -> list[str]:
        if "first" in items:
            first_in.set()
            assert release.wait(10)
        return insert_all(conn, items)

    gc: GroupCommit[str, str] = GroupCommit(engine.begin, write)
    results = behind_a_held_group(gc, first_in, release, "first", [f"v{i}" for i in range(9)])
    assert results == {v: f"ok:{v}" for v in ["first", *(f"v{i}" for i in range(9))]}
    assert (gc.groups, gc.items) == (2, 10)
    assert len(rows(engine)) == 10


def test_a_bad_item_fails_alone_and_the_rest_of_its_group_commits(engine: Any) -> None:
    gate = threading.Event()

    def write(conn: Connection, items: Sequence[str]) -> list[str]:
        if items == ["hold"]:
            assert gate.wait(10)
        if "bad" in items:
            conn.execute(text("INSERT INTO t (v) VALUES (NULL)"))  # NOT NULL: the whole transaction fails
        return insert_all(conn, items)

    gc: GroupCommit[str, str] = GroupCommit(engine.begin, write)
    outcome: dict[str, Any] = {}

    def submit(v: str) -> None:
        try:
            outcome[v] = gc.submit(v)
        except Exception as exc:
            outcome[v] = exc

    holder = threading.Thread(target=submit, args=("hold",))
    holder.start()
    while not gc._busy:
        time.sleep(0.001)
    group = [threading.Thread(target=submit, args=(v,)) for v in ("a", "bad", "b")]
    for t in group:
        t.start()
    while len(gc._waiting) < 3:
        time.sleep(0.001)
    gate.set()
    for t in (holder, *group):
        t.join(10)
    assert outcome["a"] == "ok:a" and outcome["b"] == "ok:b" and outcome["hold"] == "ok:hold"
    assert isinstance(outcome["bad"], Exception)
    assert rows(engine) == ["a", "b", "hold"]


class _Stop(BaseException):
    """Not an Exception: what a signal or a thread's shutdown raises inside the leader's write."""


def test_the_lead_passes_on_when_the_leaders_write_is_interrupted(engine: Any) -> None:
    """Each waiting thread is woken once, by the leader that wrote its item or hands it the lead: when the leader's
    write is interrupted, the items waiting behind it still commit, led by the first of them."""
    first_in, release = threading.Event(), threading.Event()

    def write(conn: Connection, items: Sequence[str]) -> list[str]:
        if "first" in items:
            first_in.set()
            assert release.wait(10)
            raise _Stop()
        return insert_all(conn, items)

    gc: GroupCommit[str, str] = GroupCommit(engine.begin, write)
    outcome = behind_a_held_group(gc, first_in, release, "first", [f"v{i}" for i in range(5)])
    assert isinstance(outcome["first"], _Stop)
    assert {k: v for k, v in outcome.items() if k != "first"} == {f"v{i}": f"ok:v{i}" for i in range(5)}
    assert rows(engine) == [f"v{i}" for i in range(5)] and not gc._busy


def test_nothing_is_answered_before_its_commit(engine: Any) -> None:
    @contextmanager
    def failing_commit() -> Iterator[Connection]:
        with engine.connect() as c:
            c.begin()
            yield c
            c.rollback()
            raise OSError("disk full at commit")

    gc: GroupCommit[str, str] = GroupCommit(failing_commit, insert_all)
    with pytest.raises(OSError, match="disk full"):
        gc.submit("x")
    assert rows(engine) == [] and gc.items == 0


def order_router(ev: InboundEvent) -> list[JobSpec]:
    oid = ev.data["data"]["order_id"]
    return [JobSpec(kind="orders.sync", key=order_key(ev.shop_id, oid), payload={"order_id": oid},
                    idempotency_key=f"orders.sync:{ev.event_id}")]


def test_concurrent_webhooks_each_commit_with_their_jobs_once(db_url: str) -> None:
    """16 threads, 20 events each, every event sent twice (TikTok's retries): each event is stored once with
    its one job, duplicates answer as duplicates, and the events shared transactions."""
    c = build(Settings(database_url=db_url), areas=())
    c.registry.router("tiktok", "1", order_router)
    outcomes: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def send(t: int) -> None:
        for i in range(20):
            nid = f"n-{t}-{i}"
            body = json.dumps({"type": 1, "data": {"order_id": f"o{(t * 20 + i) % 37}"}}).encode()
            for _ in range(2):
                res = ingest(c, source="tiktok", event_id=nid, topic="1", body=body, shop_id="S")
                with lock:
                    outcomes.append((nid, res.status, res.jobs))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(s for _n, s, _j in outcomes).count("routed") == 320
    assert sorted(s for _n, s, _j in outcomes).count("duplicate") == 320
    assert all(j == 1 for _n, s, j in outcomes if s == "routed")
    assert c.store.inbox.count("tiktok") == 320
    assert c.store.queue.counts() == {"queued": 320}
    writer = _writer(c.store)
    assert writer.items == 640 and writer.groups < writer.items  # several events per transaction
    c.close()
