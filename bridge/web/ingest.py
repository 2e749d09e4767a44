"""Committing an inbound event: the inbox row and the jobs it causes, in one transaction.

Every inbound path (TikTok webhooks, NetSuite events, the polling backstop, manual replays) goes
through ``ingest``. The event is stored once per ``(source, event_id)``; a duplicate changes
nothing and is reported as such. Routing is a pure function registered by the flows, so it runs
inside the transaction without I/O: when the request is answered, the jobs exist.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection

from bridge.bootstrap import App
from bridge.logs import correlation_id, new_correlation_id
from bridge.store import Store
from bridge.store.group_commit import GroupCommit
from bridge.store.queue import JobSpec
from bridge.store.storable import fit, fit_optional, storable, storable_json
from bridge.worker.registry import InboundEvent

log = logging.getLogger("bridge.ingest")


@dataclass(frozen=True)
class Ingested:
    inbox_id: int
    duplicate: bool
    status: str  # routed | skipped | failed | duplicate
    jobs: int


def ingest(
    container: App,
    *,
    source: str,
    event_id: str,
    topic: str,
    body: bytes,
    data: dict[str, Any] | None = None,
    shop_id: str | None = None,
    entity: str | None = None,
    headers: dict[str, Any] | None = None,
    cid: str | None = None,
) -> Ingested:
    """Store ``body`` under ``(source, event_id)`` and enqueue what its topic's router returns.

    The columns derived from the event (ids, topic, entity, job keys) are made storable on both engines
    (``bridge.store.storable``): odd but signed content is stored, never refused by the database.
    """
    store = container.store
    cid = cid or correlation_id() or new_correlation_id()
    if data is None:
        data = json.loads(body)
    event_id, topic = fit(event_id, 191), fit(topic, 64)
    shop_id, entity = fit_optional(shop_id, 64), fit_optional(entity, 255)
    headers = storable_json(headers or {})
    # Route first (pure, no I/O), so the inbox row is written once, with its final status, in the
    # same short transaction as the jobs: the webhook answer holds the database for one insert each.
    event = InboundEvent(source=source, event_id=event_id, topic=topic, shop_id=shop_id, data=data, inbox_id=0,
                         correlation_id=cid)
    note = ""
    try:
        specs = container.registry.route(event)
        status = "skipped" if specs is None else "routed"
        if specs is None:
            note = f"no flow handles {source} topic {topic!r}"
    except Exception as exc:  # a routing bug must not lose the event: keep it for `ttns inbox reroute`
        log.exception("routing failed; event kept", extra={"source": source, "topic": topic})
        specs, status, note = None, "failed", f"routing failed: {type(exc).__name__}: {exc}"
    specs = [_storable_spec(s if s.correlation_id else _with_cid(s, cid)) for s in specs or []]
    item = _Event(source, event_id, body, topic, shop_id, entity, headers or {}, cid, status, storable(note), specs)
    # Committed in a group with the events other requests are storing at the same moment (one transaction,
    # one sync): returns once the transaction holding this event and its jobs has committed.
    rec_id, created, jobs = _writer(store).submit(item)
    if not created:
        log.info("duplicate event", extra={"source": source, "event_id": event_id, "inbox_id": rec_id})
        return Ingested(rec_id, True, "duplicate", 0)
    if status != "routed":
        log.info("event stored, not routed", extra={"source": source, "topic": topic, "inbox_id": rec_id,
                                                    "status": status})
        return Ingested(rec_id, False, status, 0)
    log.info("event stored", extra={"source": source, "topic": topic, "inbox_id": rec_id, "jobs": jobs})
    return Ingested(rec_id, False, "routed", jobs)


@dataclass(frozen=True)
class _Event:
    source: str
    event_id: str
    body: bytes
    topic: str
    shop_id: str | None
    entity: str | None
    headers: dict[str, Any]
    cid: str
    status: str
    note: str
    specs: list[JobSpec]


_writers: WeakKeyDictionary[Store, GroupCommit[_Event, tuple[int, bool, int]]] = WeakKeyDictionary()
_writers_lock = threading.Lock()


def _writer(store: Store) -> GroupCommit[_Event, tuple[int, bool, int]]:
    """The store's group-commit writer for inbound events (one per store, shared by the request threads)."""
    writer = _writers.get(store)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(store)
            if writer is None:
                writer = _writers[store] = GroupCommit(_HeldConnection(store).transaction,
                                                       partial(_write_events, store))
    return writer


class _HeldConnection:
    """The group-commit writer's own connection, kept between groups (the writer runs one group at a time): no
    pool checkout, reset and, on PostgreSQL, pre-ping per group. A group that fails drops it, so its retries
    (``GroupCommit``: whole when the server had closed the connection, else item by item) start on a fresh one."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self._conn: Connection | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        conn, self._conn = self._conn or self.engine.connect(), None
        try:
            with conn.begin():
                yield conn
        except BaseException:
            conn.close()
            raise
        self._conn = conn


def _write_events(store: Store, conn: Connection, events: Sequence[_Event]) -> list[tuple[int, bool, int]]:
    """Inbox rows for ``events`` in one statement, then the jobs of the new ones in one ``enqueue_many`` (one
    multi-row statement; on PostgreSQL the per-key locks of the whole group taken in one sorted order). Returns
    (inbox id, created, jobs)."""
    recs = store.inbox.record_many([{
        "source": e.source, "event_id": e.event_id, "body": e.body, "topic": e.topic, "shop_id": e.shop_id,
        "entity": e.entity, "headers": e.headers, "correlation_id": e.cid, "status": e.status, "note": e.note,
        "jobs_created": len(e.specs)} for e in events], conn)
    specs = [s for e, r in zip(events, recs, strict=True) if r.created for s in e.specs]
    results = store.queue.enqueue_many(specs, conn=conn) if specs else []
    out: list[tuple[int, bool, int]] = []
    at = 0
    for e, r in zip(events, recs, strict=True):
        if not r.created:
            out.append((r.id, False, 0))
            continue
        mine = results[at:at + len(e.specs)]
        at += len(e.specs)
        out.append((r.id, True, sum(1 for x in mine if x.created)))
    return out


def _storable_spec(spec: JobSpec) -> JobSpec:
    """A routed job whose key columns fit both engines (a long or odd id from the event hashed, not refused)."""
    from dataclasses import replace

    kind, key = fit(spec.kind, 64), fit(spec.key, 255)
    ikey = fit_optional(spec.idempotency_key, 255)
    payload = storable_json(spec.payload)
    if (kind, key, ikey, payload) == (spec.kind, spec.key, spec.idempotency_key, spec.payload):
        return spec
    return replace(spec, kind=kind, key=key, idempotency_key=ikey, payload=payload)


def _with_cid(spec: Any, cid: str) -> Any:
    from dataclasses import replace

    return replace(spec, correlation_id=cid)


def reroute(container: App, inbox_id: int) -> Ingested:
    """Route a stored event again (after a flow for its topic landed, or a routing bug was fixed).

    Jobs are enqueued with the router's idempotency keys, so rerouting twice does not double them.
    """
    store = container.store
    ev = store.inbox.get(inbox_id)
    if ev is None:
        raise KeyError(f"no inbox event {inbox_id}")
    event = InboundEvent(source=ev.source, event_id=ev.event_id, topic=ev.topic, shop_id=ev.shop_id,
                         data=json.loads(ev.body), inbox_id=ev.id, correlation_id=ev.correlation_id)
    specs = container.registry.route(event)
    if specs is None:
        return Ingested(ev.id, False, "skipped", 0)
    specs = [s if s.correlation_id else _with_cid(s, ev.correlation_id) for s in specs]
    with store.transaction() as conn:
        results = store.queue.enqueue_many(specs, conn=conn)
        created = sum(1 for r in results if r.created)
        store.inbox.mark(ev.id, "routed", jobs_created=ev.jobs_created + created, conn=conn)
    return Ingested(ev.id, False, "routed", created)
