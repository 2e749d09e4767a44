from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.bootstrap import build
from bridge.domain.keys import order_key
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.web.ingest import ingest, reroute
from bridge.worker.registry import InboundEvent


def order_router(ev: InboundEvent) -> list[JobSpec]:
    oid = ev.data["data"]["order_id"]
    return [JobSpec(kind="orders.sync", key=order_key(ev.shop_id, oid), payload={"order_id": oid},
                    idempotency_key=f"orders.sync:{ev.event_id}")]


def test_event_and_jobs_commit_together_and_duplicates_do_nothing(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url), areas=())
    c.registry.router("tiktok", "1", order_router)
    body = json.dumps({"type": 1, "data": {"order_id": "576"}}).encode()
    first = ingest(c, source="tiktok", event_id="n1", topic="1", body=body, shop_id="S")
    again = ingest(c, source="tiktok", event_id="n1", topic="1", body=body, shop_id="S")
    assert (first.status, first.jobs, again.status, again.jobs) == ("routed", 1, "duplicate", 0)
    (job,) = c.store.queue.claim("w", 10, 5)
    assert job.key == "order:S:576" and job.correlation_id == c.store.inbox.get(first.inbox_id).correlation_id  # type: ignore[union-attr]
    c.close()


def test_unknown_topic_is_stored_and_skipped(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url), areas=())
    res = ingest(c, source="tiktok", event_id="n2", topic="99", body=b'{"type": 99}')
    ev = c.store.inbox.get(res.inbox_id)
    assert res.status == "skipped" and ev is not None and ev.status == "skipped" and "99" in ev.note
    assert c.store.queue.counts() == {}
    c.close()


def test_a_routing_bug_keeps_the_event_and_reroute_recovers_it(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url), areas=())

    def broken(ev: InboundEvent) -> list[JobSpec]:
        raise KeyError("order_id")

    c.registry.router("tiktok", "1", broken)
    body = json.dumps({"type": 1, "data": {"order_id": "7"}}).encode()
    res = ingest(c, source="tiktok", event_id="n3", topic="1", body=body, shop_id="S")
    assert res.status == "failed" and c.store.inbox.get(res.inbox_id).status == "failed"  # type: ignore[union-attr]
    c.registry.router("tiktok", "1", order_router)
    assert reroute(c, res.inbox_id).jobs == 1
    assert reroute(c, res.inbox_id).jobs == 0  # idempotent
    assert c.store.queue.counts() == {"queued": 1}
    c.close()


def test_a_group_with_a_duplicate_and_two_webhooks_of_one_order_writes_each_once(db_url: str) -> None:
    """The group commit writes a group's inbox rows in one statement and its jobs in one more: a TikTok retry
    inside the same group is a duplicate of the first, the second webhook of an order joins the order's
    waiting sync, the shop's intake is queued once."""
    from bridge.flows.orders import sync_spec
    from bridge.flows.sales_intake import intake_spec
    from bridge.web.ingest import _Event, _write_events

    c = build(Settings(database_url=db_url), areas=())

    def event(eid: str, order: str) -> _Event:
        return _Event("tiktok", eid, b"{}", "1", "S", f"order:S:{order}", {}, f"cid-{eid}", "routed", "",
                      [sync_spec("S", order, idempotency_key=f"orders.sync:tiktok:{eid}", reason="webhook 1"),
                       intake_spec("S")])

    with c.store.transaction() as conn:
        out = _write_events(c.store, conn, [event("e1", "1"), event("e2", "1"), event("e1", "1"), event("e3", "2")])
    assert [(created, jobs) for _id, created, jobs in out] == [(True, 2), (True, 0), (False, 0), (True, 1)]
    assert out[0][0] == out[2][0] and len({out[0][0], out[1][0], out[3][0]}) == 3
    assert c.store.queue.counts() == {"queued": 3}  # order 1's sync, order 2's sync, the intake
    jobs = sorted((j.kind, j.key) for j in c.store.queue.claim("w", 10, 10))
    assert jobs == [("orders.intake", "orders.intake:S"), ("orders.sync", "order:S:1"), ("orders.sync", "order:S:2")]
    c.close()


@pytest.mark.postgres
def test_webhooks_are_stored_after_the_server_closed_the_writers_connection(pg_url: str) -> None:
    """The group-commit writer keeps its connection between groups; when PostgreSQL has closed it (a restart, a
    terminated backend) the next event is still stored and its jobs queued: the failed group is retried on a fresh
    connection."""
    from sqlalchemy import text

    from bridge.web.ingest import _writer

    c = build(Settings(database_url=pg_url), areas=())
    c.registry.router("tiktok", "1", order_router)

    def send(eid: str, order: str) -> Any:
        body = json.dumps({"type": 1, "data": {"order_id": order}}).encode()
        return ingest(c, source="tiktok", event_id=eid, topic="1", body=body, shop_id="S")

    assert send("n1", "1").status == "routed"
    held = _writer(c.store)._begin.__self__._conn  # type: ignore[attr-defined]
    assert held is not None
    pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    held.rollback()
    with c.store.engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    second = send("n2", "2")
    assert (second.status, second.jobs) == ("routed", 1)
    assert c.store.queue.counts() == {"queued": 2}
    c.close()
