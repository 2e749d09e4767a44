"""``bridge.store.driver.Prepared``: statements on the driver's cursor keep what ``Connection.execute`` gives —
typed parameters in every row, the statement's own values, the engine's ``before_execute`` listeners, SQLAlchemy's
errors and the invalidation of a lost connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bridge.store.db import make_engine, upgrade
from bridge.store.driver import Prepared
from bridge.store.tables import inbox, jobs


@pytest.fixture
def engine(db_url: str) -> Any:
    upgrade(db_url)
    e = make_engine(db_url, pool_size=2)
    yield e
    e.dispose()


def test_typed_parameters_of_every_row_are_bound_as_the_columns_store_them(engine: Any) -> None:
    columns = [c for c in inbox.c if c.name != "id"]
    stmt = Prepared(insert(inbox).values([{c.name: bindparam(f"{c.name}_{n}", type_=c.type) for c in columns}
                                          for n in range(3)]).returning(inbox.c.id, inbox.c.event_id))
    at = datetime(2026, 12, 8, 9, 30, tzinfo=timezone(timedelta(hours=8)))  # a merchant's local time
    params = {}
    for n in range(3):
        params.update({f"source_{n}": "tiktok", f"event_id_{n}": f"e{n}", f"topic_{n}": "1", f"shop_id_{n}": None,
                       f"entity_{n}": None, f"received_at_{n}": at + timedelta(minutes=n), f"body_{n}": b"{}",
                       f"headers_{n}": {"User-Agent": f"ua{n}"}, f"status_{n}": "routed", f"jobs_created_{n}": n,
                       f"note_{n}": "", f"correlation_id_{n}": f"c{n}"})
    with engine.begin() as conn:
        rows = stmt.rows(conn, params)
    assert sorted(eid for _id, eid in rows) == ["e0", "e1", "e2"]
    with engine.connect() as conn:
        got = conn.execute(select(inbox.c.event_id, inbox.c.received_at, inbox.c.headers).order_by(inbox.c.id)).all()
    assert [(e, r, h) for e, r, h in got] == [
        (f"e{n}", (at + timedelta(minutes=n)).astimezone(UTC), {"User-Agent": f"ua{n}"}) for n in range(3)]


def test_the_statements_own_values_and_the_listeners_apply(engine: Any) -> None:
    seen: list[Any] = []
    sent: list[str] = []
    event.listen(engine, "before_execute", lambda conn, clause, *a: seen.append(clause))
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *a: sent.append(sql))
    limited = Prepared(select(jobs.c.id).where(jobs.c.kind == bindparam("kind")).order_by(jobs.c.id).limit(2))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(jobs), [{"kind": "k", "key": f"x{i}", "payload": {}, "idempotency_key": f"i{i}",
                                     "status": "queued", "priority": 100, "attempts": 0, "max_attempts": 8,
                                     "run_at": now, "correlation_id": "", "created_at": now, "updated_at": now}
                                    for i in range(4)])
        assert len(limited.rows(conn, {"kind": "k"})) == 2  # the LIMIT the statement carries
        assert limited.scalar(conn, {"kind": "none"}) is None
    assert limited.stmt in seen
    assert sum(1 for sql in sent if "LIMIT" in sql.upper()) == 2


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(engine: Any) -> None:
    dup = Prepared(text("INSERT INTO jobs (kind, key, payload, idempotency_key, status, priority, attempts, "
                        "max_attempts, run_at, correlation_id, created_at, updated_at) VALUES ('k', 'x', '{}', "
                        ":ikey, 'queued', 1, 0, 8, :t, '', :t, :t) RETURNING id").bindparams(
        bindparam("t", type_=jobs.c.run_at.type)))
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        dup.rows(conn, {"ikey": "same", "t": now})
        dup.rows(conn, {"ikey": "same", "t": now})
    assert isinstance(caught.value, DBAPIError) and not caught.value.connection_invalidated
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 0


@pytest.mark.postgres
def test_a_lost_connection_is_invalidated_and_said_so(pg_url: str) -> None:
    upgrade(pg_url)
    e = make_engine(pg_url, pool_size=2)
    one = Prepared(text("SELECT 1"))
    try:
        conn = e.connect()
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.rollback()
        with e.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        with pytest.raises(DBAPIError) as caught:
            one.rows(conn, {})
        assert caught.value.connection_invalidated and conn.invalidated
        conn.close()
        with e.connect() as fresh:
            assert one.scalar(fresh, {}) == 1
    finally:
        e.dispose()
