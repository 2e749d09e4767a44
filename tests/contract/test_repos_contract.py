"""Repositories on SQLite and PostgreSQL: the same schema, the same behaviour."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bridge.clock import ManualClock
from bridge.crypto import KeyRotationPending, SecretBox, generate_key
from bridge.store import Store
from bridge.store.db import make_engine, migrations_current
from bridge.store.queue import JobSpec
from bridge.store.repos import Link, Shop, Tokens
from bridge.store.tables import shops

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(make_engine(db_url, pool_size=4), clock=ManualClock(T0), box=SecretBox(generate_key()))
    yield s  # type: ignore[misc]
    s.dispose()


def test_migrations_are_current(store: Store) -> None:
    assert migrations_current(store.engine)


def test_inbox_keeps_one_event_per_source_and_event_id(store: Store) -> None:
    a = store.inbox.record("tiktok", "n-1", b'{"type":1}', topic="1", shop_id="S1")
    b = store.inbox.record("tiktok", "n-1", b'{"type":1, "again": true}', topic="1")
    c = store.inbox.record("netsuite", "n-1", b"{}", topic="x")
    assert a.created and not b.created and c.created and a.id == b.id != c.id
    ev = store.inbox.get(a.id)
    assert ev is not None and ev.body == b'{"type":1}' and ev.received_at.tzinfo is not None
    store.inbox.mark(a.id, "routed", jobs_created=2)
    ev = store.inbox.find("tiktok", "n-1")
    assert ev is not None and ev.status == "routed" and ev.jobs_created == 2
    assert store.inbox.count("tiktok") == 1


def test_inbox_and_jobs_commit_or_roll_back_together(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.inbox.record("tiktok", "n-2", b"{}", conn=conn)
        store.queue.enqueue(JobSpec(kind="k", key="x", idempotency_key="i-2"), conn=conn)
        raise RuntimeError("crash before commit")
    assert store.inbox.find("tiktok", "n-2") is None
    assert store.queue.counts() == {}


def test_links_upsert_and_lookup_both_ways(store: Store) -> None:
    store.links.upsert(Link("order", "S1", "576", "1001", "salesOrder", "TTS-S1-576", "h1", "synced"))
    store.links.upsert(Link("order", "S1", "576", "1001", "salesOrder", "TTS-S1-576", "h2", "synced"))
    got = store.links.get("order", "S1", "576")
    assert got is not None and got.content_hash == "h2" and got.netsuite_id == "1001"
    back = store.links.by_netsuite("order", "1001")
    assert back is not None and back.tiktok_id == "576"
    assert store.links.count("order") == 1
    assert set(store.links.get_many("order", "S1", ["576", "nope"])) == {"576"}


def test_cursors(store: Store) -> None:
    assert store.cursors.get("orders:S1") is None
    store.cursors.set("orders:S1", "1700000000")
    store.cursors.set("orders:S1", "1700000100")
    assert store.cursors.get("orders:S1") == "1700000100"


def test_exceptions_dedupe_on_fingerprint_replay_and_heal(store: Store) -> None:
    store.queue.enqueue(JobSpec(kind="orders.sync", key="order:S1:9", payload={"order_id": "9"}, idempotency_key="e"))
    (job,) = store.queue.claim("w", 30, 1)
    first = store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="SKU X unknown", entity="order:S1:9",
                                    job=job, evidence={"sku": "X", "access_token": "secret-value"})
    again = store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="SKU X unknown", entity="order:S1:9",
                                    job=job)
    assert first == again
    exc = store.exceptions.get(first)
    assert exc is not None and exc.occurrences == 2 and exc.status == "open"
    assert store.exceptions.counts() == {"ops": 1}
    store.queue.fail(job, "failed", "unknown sku", started_at=T0, exception_id=first)

    new_job = store.exceptions.replay(first, store.queue, by="tester")
    replayed = store.queue.get(new_job)
    assert replayed is not None and replayed.kind == "orders.sync" and replayed.payload == {"order_id": "9"}
    assert replayed.exception_id == first
    (claimed,) = store.queue.claim("w", 30, 1)
    assert store.exceptions.resolve_for_job(claimed) == 1
    exc = store.exceptions.get(first)
    assert exc is not None and exc.status == "resolved" and exc.replays == 1
    # a new failure after healing opens a new exception
    third = store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="again", entity="order:S1:9")
    assert third != first


def test_a_batch_of_successes_heals_only_the_exceptions_of_its_kinds_and_keys(store: Store) -> None:
    store.queue.enqueue_many([JobSpec(kind="orders.sync", key=f"order:S1:{n}", idempotency_key=f"o{n}")
                              for n in (1, 2)])
    jobs = {j.key: j for j in store.queue.claim("w", 30, 2)}
    sick = store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="SKU X unknown", entity="order:S1:1",
                                   job=jobs["order:S1:1"])
    # the same key under another kind (a stock push that failed): a successful sync does not heal it
    other = store.exceptions.raise_(code="STOCK", owner="ops", title="stock refused", entity="order:S1:2",
                                    job=dataclasses.replace(jobs["order:S1:2"], kind="stock.push"))
    assert store.exceptions.resolve_for_jobs(list(jobs.values())) == 1
    healed, still = store.exceptions.get(sick), store.exceptions.get(other)
    assert healed is not None and healed.status == "resolved"
    assert still is not None and still.status == "open"
    assert store.exceptions.resolve_for_jobs([]) == 0


def test_exception_evidence_is_redacted(store: Store) -> None:
    exc_id = store.exceptions.raise_(code="X", owner="admin", title="t",
                                     evidence={"headers": {"Authorization": "Bearer abc"}, "refresh_token": "r"})
    exc = store.exceptions.get(exc_id)
    assert exc is not None
    assert "abc" not in str(exc.evidence) and "'r'" not in str(exc.evidence)


def test_shop_tokens_are_encrypted_at_rest_and_rotate(store: Store) -> None:
    old_key = generate_key()
    store = Store(store.engine, clock=store.clock, box=SecretBox(old_key))
    store.shops.upsert(Shop(id="7494", name="Demo", region="US", cipher="ROW_abc"))
    exp = T0 + timedelta(days=7)
    store.shops.set_tokens("7494", Tokens("access-plain-value", "refresh-plain-value", exp, exp))
    with store.engine.connect() as c:
        raw = c.execute(select(shops.c.access_token, shops.c.refresh_token)).one()
    assert "access-plain-value" not in raw[0] and "refresh-plain-value" not in raw[1]
    tok = store.shops.tokens("7494")
    assert tok is not None and tok.access_token == "access-plain-value" and tok.access_expires_at == exp
    shop = store.shops.get("7494")
    assert shop is not None and shop.flow_enabled("orders") and not hasattr(shop, "access_token")

    new_key = generate_key()
    with pytest.raises(KeyRotationPending):  # retried until the process has the key, not fatal
        Store(store.engine, box=SecretBox(new_key)).shops.tokens("7494")
    assert Store(store.engine, box=SecretBox(f"{new_key},{old_key}")).shops.rotate_keys() == 1
    tok = Store(store.engine, box=SecretBox(new_key)).shops.tokens("7494")
    assert tok is not None and tok.refresh_token == "refresh-plain-value"


def test_oauth_state_is_single_use_and_expires(store: Store) -> None:
    store.oauth_states.create("s-1", ttl_seconds=60)
    store.oauth_states.create("s-2", ttl_seconds=60)
    assert store.oauth_states.consume("s-1")
    assert not store.oauth_states.consume("s-1")
    assert not store.oauth_states.consume("never-issued")
    store.clock.advance(61)  # type: ignore[attr-defined]
    assert not store.oauth_states.consume("s-2")


def test_users_hash_passwords(store: Store) -> None:
    store.users.add("ops", "correct horse battery")
    assert store.users.check("ops", "correct horse battery")
    assert not store.users.check("ops", "wrong")
    assert not store.users.check("nobody", "correct horse battery")
    with pytest.raises(ValueError):
        store.users.add("weak", "short")


def test_money_and_times_round_trip_exactly(store: Store) -> None:
    from sqlalchemy import Column, MetaData, String, Table

    from bridge.store.types import Money, UTCDateTime

    md = MetaData()
    t = Table("money_probe", md, Column("k", String(8), primary_key=True), Column("m", Money), Column("t", UTCDateTime))
    md.create_all(store.engine)
    try:
        with store.engine.begin() as c:
            c.execute(t.insert().values(k="a", m=Decimal("12345678.10"), t=T0))
        with store.engine.connect() as c:
            m, when = c.execute(select(t.c.m, t.c.t)).one()
        assert m == Decimal("12345678.10") and str(m) == "12345678.10"
        assert when == T0 and when.tzinfo is not None
        with pytest.raises(Exception), store.engine.begin() as c:  # noqa: B017
            c.execute(t.insert().values(k="b", m=0.1))
    finally:
        md.drop_all(store.engine)


def test_the_migrated_schema_matches_the_table_definitions(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bridge.store.tables import load_area_tables

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), load_area_tables())
    assert diff == [], f"tables and migrations disagree (add a revision): {diff}"


def test_worker_processes_see_each_other_oldest_first_and_forget_the_dead(store: Store) -> None:
    clock = store.peers.clock
    assert isinstance(clock, ManualClock)
    assert store.peers.beat("p1", "host:1", ttl=15) == ["p1"]
    clock.advance(1)
    assert store.peers.beat("p2", "host:2", ttl=15) == ["p1", "p2"]
    clock.advance(10)
    assert store.peers.beat("p1", "host:1", ttl=15) == ["p1", "p2"]  # a beat keeps its place
    clock.advance(10)  # p2 silent for 20 s: no longer counted
    assert store.peers.beat("p1", "host:1", ttl=15) == ["p1"]
    store.peers.leave("p1")
    assert store.peers.beat("p3", "host:3", ttl=15) == ["p3"]


def test_healing_by_job_probes_the_job_index_on_sqlite(sqlite_url: str) -> None:
    """SQLite has no statistics: ``status = 'open'`` made it search ix_exceptions_status_owner and read every
    open exception for each completed job (the trap the queue's heal had, 785ffa4). Every statement the
    memory queue's heal path runs must probe ix_exceptions_job_kind_job_key instead."""
    from sqlalchemy import event

    s = Store(make_engine(sqlite_url, pool_size=2), clock=ManualClock(T0), box=SecretBox(generate_key()))
    try:
        s.queue.enqueue_many([JobSpec(kind="orders.sync", key=f"order:S1:{n}", idempotency_key=f"p{n}")
                              for n in range(3)])
        jobs = s.queue.claim("w", 30, 3)
        for n in range(40):  # open exceptions of other jobs
            s.exceptions.raise_(code="X", owner="ops", title="x", entity=f"order:S1:x{n}")
        s.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="sku", entity="order:S1:0", job=jobs[0])
        s.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="sku", entity="order:S1:1", job=jobs[1])
        plans: list[tuple[str, str]] = []

        def explain(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            if "exceptions" in statement and statement.lstrip().split()[0] in ("SELECT", "UPDATE"):
                rows = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
                plans.append((statement, " | ".join(str(r[3]) for r in rows)))

        event.listen(s.engine, "before_cursor_execute", explain)
        assert s.exceptions.resolve_for_job(jobs[0]) == 1
        assert s.exceptions.resolve_for_job(jobs[2]) == 0  # nothing to heal: the read alone
        assert s.exceptions.resolve_for_jobs(jobs) == 1
        event.remove(s.engine, "before_cursor_execute", explain)
        assert len(plans) >= 5, plans
        for statement, plan in plans:
            assert "ix_exceptions_job_kind_job_key" in plan and "status_owner" not in plan, (statement, plan)
    finally:
        s.dispose()
