"""Repositories over the SQL tables: inbox, links, cursors, exceptions, audit, shops, API calls, users.

Each method takes an optional ``conn`` so a caller can make several writes atomic (the webhook
endpoint commits the inbox row and the jobs it causes in one transaction); without one the
method runs in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bridge import lease
from bridge.clock import Clock, SystemClock
from bridge.crypto import SecretBox
from bridge.errors import redact_mapping
from bridge.ports.store import DOCUMENT_NUMBER, ExceptionRecord, Link, Shop, Tokens
from bridge.store.driver import Prepared
from bridge.store.group_commit import GroupCommit
from bridge.store.queue import Job, JobQueue, JobSpec
from bridge.store.tables import (
    api_calls,
    audit_log,
    cursors,
    exceptions,
    inbox,
    jobs,
    links,
    oauth_states,
    shops,
    users,
    worker_processes,
)


class _Repo:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            yield c

    def _insert_ignore(self, table: Any) -> Any:
        """INSERT … ON CONFLICT DO NOTHING on either engine."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InboxEvent:
    id: int
    source: str
    event_id: str
    topic: str
    shop_id: str | None
    entity: str | None
    received_at: datetime
    body: bytes
    headers: dict[str, Any]
    status: str
    jobs_created: int
    note: str
    correlation_id: str


@dataclass(frozen=True)
class Recorded:
    id: int
    created: bool


class Inbox(_Repo):
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        super().__init__(engine, clock)
        # Built once per row count and run on the driver's cursor: recording is on the webhook's answer path.
        self._record_stmts: dict[int, Prepared] = {}

    def record(
        self,
        source: str,
        event_id: str,
        body: bytes,
        *,
        topic: str = "",
        shop_id: str | None = None,
        entity: str | None = None,
        headers: dict[str, Any] | None = None,
        correlation_id: str = "",
        status: str = "received",
        note: str = "",
        jobs_created: int = 0,
        conn: Connection | None = None,
    ) -> Recorded:
        """Store an event once; a second event with the same (source, event_id) is a duplicate."""
        event = {"source": source, "event_id": event_id, "body": body, "topic": topic, "shop_id": shop_id,
                 "entity": entity, "headers": headers, "correlation_id": correlation_id, "status": status,
                 "note": note, "jobs_created": jobs_created}
        with self._tx(conn) as c:
            return self.record_many([event], c)[0]

    def record_many(self, events: Sequence[Mapping[str, Any]], conn: Connection) -> list[Recorded]:
        """``record`` for several events in one statement (a group of webhooks committed together): each mapping
        holds ``record``'s arguments by name. Results in the order given; the second of two events with the same
        (source, event_id) is a duplicate of the first."""
        now = self.clock.now()
        rows = [{"topic": "", "shop_id": None, "entity": None, "status": "received", "jobs_created": 0, "note": "",
                 "correlation_id": "", **e, "headers": e.get("headers") or {}, "received_at": now} for e in events]
        params = {f"{name}_{n}": value for n, row in enumerate(rows) for name, value in row.items()}
        created = {(src, eid): int(i) for i, src, eid in self._record_stmt(len(rows)).rows(conn, params)}
        out: list[Recorded] = []
        for e in events:
            new_id = created.pop((e["source"], e["event_id"]), None)
            if new_id is not None:
                out.append(Recorded(new_id, True))
                continue
            old = conn.execute(
                select(inbox.c.id).where(inbox.c.source == e["source"], inbox.c.event_id == e["event_id"])
            ).scalar_one()
            out.append(Recorded(int(old), False))
        return out

    def _record_stmt(self, count: int) -> Prepared:
        """INSERT of ``count`` inbox rows (parameters ``<column>_<n>``), a duplicate (source, event_id) skipped;
        returns (id, source, event_id) of the rows inserted."""
        stmt = self._record_stmts.get(count)
        if stmt is None:
            columns = [c for c in inbox.c if c.name != "id"]
            stmt = self._record_stmts[count] = Prepared(  # typed: only the first row's would take the column's
                self._insert_ignore(inbox)
                .values([{c.name: bindparam(f"{c.name}_{n}", type_=c.type) for c in columns} for n in range(count)])
                .returning(inbox.c.id, inbox.c.source, inbox.c.event_id))
        return stmt

    def mark(
        self, event_id: int, status: str, *, jobs_created: int | None = None, note: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if jobs_created is not None:
            values["jobs_created"] = jobs_created
        if note is not None:
            values["note"] = note
        with self._tx(conn) as c:
            c.execute(update(inbox).where(inbox.c.id == event_id).values(**values))

    def get(self, event_id: int) -> InboxEvent | None:
        with self._read() as c:
            row = c.execute(select(inbox).where(inbox.c.id == event_id)).mappings().first()
        return None if row is None else InboxEvent(**dict(row))

    def find(self, source: str, event_id: str) -> InboxEvent | None:
        with self._read() as c:
            row = c.execute(
                select(inbox).where(inbox.c.source == source, inbox.c.event_id == event_id)
            ).mappings().first()
        return None if row is None else InboxEvent(**dict(row))

    def recent(
        self, *, source: str | None = None, entity: str | None = None, limit: int = 100
    ) -> list[InboxEvent]:
        stmt = select(inbox).order_by(inbox.c.id.desc()).limit(limit)
        if source:
            stmt = stmt.where(inbox.c.source == source)
        if entity:
            stmt = stmt.where(inbox.c.entity == entity)
        with self._read() as c:
            return [InboxEvent(**dict(r)) for r in c.execute(stmt).mappings()]

    def count(self, source: str | None = None) -> int:
        stmt = select(func.count()).select_from(inbox)
        if source:
            stmt = stmt.where(inbox.c.source == source)
        with self._read() as c:
            return int(c.execute(stmt).scalar_one())


# ---------------------------------------------------------------------------------------------
class Links(_Repo):
    """The link between a TikTok entity and its NetSuite record. Writes outside a caller's transaction
    share one transaction with the concurrent ones (``GroupCommit``): each sales order written in a flash
    sale records its link, and one SQLite write transaction each queued them behind the one write lock.
    Each link is still written under its own job's fence (checked in the shared transaction), so a worker
    that lost its lease has its link refused alone, the others commit."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        super().__init__(engine, clock)
        self._group: GroupCommit[tuple[Link, lease.Fence | None], None] = GroupCommit(
            self.engine.begin, self._upsert_group)

    def _upsert_group(self, conn: Connection, items: Sequence[tuple[Link, lease.Fence | None]]) -> list[None]:
        for link, fence in items:
            with lease.holding(fence):
                self._upsert(link, conn)
        return [None] * len(items)

    def get(self, kind: str, shop_id: str, tiktok_id: str, conn: Connection | None = None) -> Link | None:
        stmt = select(links).where(links.c.kind == kind, links.c.shop_id == shop_id, links.c.tiktok_id == tiktok_id)
        if conn is not None:
            row = conn.execute(stmt).mappings().first()
        else:
            with self._read() as c:
                row = c.execute(stmt).mappings().first()
        return None if row is None else _link(row)

    def get_many(self, kind: str, shop_id: str, tiktok_ids: Sequence[str]) -> dict[str, Link]:
        out: dict[str, Link] = {}
        ids = list(tiktok_ids)
        with self._read() as c:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows = c.execute(
                    select(links).where(
                        links.c.kind == kind, links.c.shop_id == shop_id, links.c.tiktok_id.in_(chunk)
                    )
                ).mappings()
                for r in rows:
                    out[r["tiktok_id"]] = _link(r)
        return out

    def by_netsuite(self, kind: str, netsuite_id: str) -> Link | None:
        with self._read() as c:
            row = c.execute(
                select(links).where(links.c.kind == kind, links.c.netsuite_id == netsuite_id)
            ).mappings().first()
        return None if row is None else _link(row)

    def upsert(self, link: Link, conn: Connection | None = None) -> None:
        if conn is None:
            self._group.submit((link, lease.current()))
        else:
            self._upsert(link, conn)

    def _upsert(self, link: Link, c: Connection) -> None:
        now = self.clock.now()
        keep_number = link.kind == "order" and bool(link.netsuite_id) and not link.data.get(DOCUMENT_NUMBER)
        values = {
            "netsuite_id": link.netsuite_id,
            "netsuite_type": link.netsuite_type,
            "external_id": link.external_id,
            "content_hash": link.content_hash,
            "status": link.status,
            "data": link.data,
            "synced_at": link.synced_at,
            "updated_at": now,
        }
        if keep_number:
            values["data"] = _with_known_number(c, link)
        res = c.execute(
            update(links)
            .where(
                links.c.kind == link.kind, links.c.shop_id == link.shop_id, links.c.tiktok_id == link.tiktok_id
            )
            .values(**values)
        )
        if res.rowcount == 0:
            c.execute(
                self._insert_ignore(links).values(
                    kind=link.kind, shop_id=link.shop_id, tiktok_id=link.tiktok_id, created_at=now, **values
                )
            )

    def newest(self, kind: str, *, limit: int = 200) -> list[Link]:
        with self._read() as c:
            return [_link(r) for r in c.execute(
                select(links).where(links.c.kind == kind).order_by(links.c.id.desc()).limit(limit)).mappings()]

    def set_document_numbers(self, kind: str, numbers: Mapping[str, str]) -> int:
        """Store NetSuite's document number of each record (by internal id) in its link's data, where
        none is known yet; one transaction, each row re-read under lock so no newer data is lost."""
        done = 0
        with self._tx(None) as c:
            for netsuite_id, number in sorted(numbers.items()):
                row = c.execute(select(links.c.id, links.c.data).where(
                    links.c.kind == kind, links.c.netsuite_id == netsuite_id).with_for_update()).first()
                if row is None or not number or (row.data or {}).get(DOCUMENT_NUMBER):
                    continue
                c.execute(update(links).where(links.c.id == row.id).values(
                    data={**dict(row.data or {}), DOCUMENT_NUMBER: number}, updated_at=self.clock.now()))
                done += 1
        return done

    def list(self, kind: str, shop_id: str | None = None, *, limit: int = 1000, offset: int = 0) -> list[Link]:
        stmt = select(links).where(links.c.kind == kind).order_by(links.c.id).limit(limit).offset(offset)
        if shop_id is not None:
            stmt = stmt.where(links.c.shop_id == shop_id)
        with self._read() as c:
            return [_link(r) for r in c.execute(stmt).mappings()]

    def count(self, kind: str, shop_id: str | None = None, status: str | None = None) -> int:
        stmt = select(func.count()).select_from(links).where(links.c.kind == kind)
        if shop_id is not None:
            stmt = stmt.where(links.c.shop_id == shop_id)
        if status is not None:
            stmt = stmt.where(links.c.status == status)
        with self._read() as c:
            return int(c.execute(stmt).scalar_one())

    def delete(self, kind: str, shop_id: str, tiktok_id: str) -> None:
        with self._tx(None) as c:
            c.execute(
                delete(links).where(links.c.kind == kind, links.c.shop_id == shop_id, links.c.tiktok_id == tiktok_id)
            )


def _with_known_number(c: Connection, link: Link) -> dict[str, Any]:
    """``link.data`` plus the document number already stored for the same NetSuite record: a writer that
    read the link before the number arrived must not erase it (NetSuite keeps a record's number)."""
    row = c.execute(select(links.c.netsuite_id, links.c.data).where(
        links.c.kind == link.kind, links.c.shop_id == link.shop_id, links.c.tiktok_id == link.tiktok_id)
        .with_for_update()).first()
    known = (row.data or {}).get(DOCUMENT_NUMBER) if row is not None and row.netsuite_id == link.netsuite_id else None
    return {**link.data, DOCUMENT_NUMBER: known} if known else link.data


def _link(row: Any) -> Link:
    return Link(
        kind=row["kind"],
        shop_id=row["shop_id"],
        tiktok_id=row["tiktok_id"],
        netsuite_id=row["netsuite_id"],
        netsuite_type=row["netsuite_type"],
        external_id=row["external_id"],
        content_hash=row["content_hash"],
        status=row["status"],
        data=dict(row["data"] or {}),
        synced_at=row["synced_at"],
    )


# ---------------------------------------------------------------------------------------------
class Cursors(_Repo):
    def get(self, name: str) -> str | None:
        with self._read() as c:
            return c.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set(self, name: str, value: str, conn: Connection | None = None) -> None:
        now = self.clock.now()
        with self._tx(conn) as c:
            res = c.execute(update(cursors).where(cursors.c.name == name).values(value=value, updated_at=now))
            if res.rowcount == 0:
                c.execute(self._insert_ignore(cursors).values(name=name, value=value, updated_at=now))


class Peers(_Repo):
    """Worker processes that are alive (seen within ``ttl``), oldest first: how they split shared limits."""

    def beat(self, peer_id: str, name: str, *, ttl: float) -> list[str]:
        """Record that ``peer_id`` is alive; forget the long dead; return the live ids, oldest first."""
        now = self.clock.now()
        with self._tx(None) as c:
            res = c.execute(update(worker_processes).where(worker_processes.c.id == peer_id).values(seen_at=now))
            if res.rowcount == 0:
                c.execute(self._insert_ignore(worker_processes).values(id=peer_id, name=name[:191], started_at=now,
                                                                       seen_at=now))
            c.execute(delete(worker_processes).where(worker_processes.c.seen_at < now - timedelta(seconds=ttl * 20)))
            rows = c.execute(select(worker_processes.c.id).where(
                worker_processes.c.seen_at >= now - timedelta(seconds=ttl)).order_by(
                worker_processes.c.started_at, worker_processes.c.id)).scalars().all()
        return [str(r) for r in rows]

    def leave(self, peer_id: str) -> None:
        with self._tx(None) as c:
            c.execute(delete(worker_processes).where(worker_processes.c.id == peer_id))


# ---------------------------------------------------------------------------------------------
class Exceptions(_Repo):
    """Failures a person must look at. One open exception per fingerprint (code + entity)."""

    def raise_(
        self,
        *,
        code: str,
        owner: str,
        title: str,
        fix_hint: str = "",
        evidence: dict[str, Any] | None = None,
        entity: str = "",
        shop_id: str | None = None,
        job: Job | None = None,
        correlation_id: str = "",
        conn: Connection | None = None,
    ) -> int:
        now = self.clock.now()
        fingerprint = f"{code}:{entity or (job.key if job else '')}"[:255]
        ev = redact_mapping(evidence or {})
        with self._tx(conn) as c:
            existing = c.execute(
                select(exceptions.c.id).where(exceptions.c.fingerprint == fingerprint, exceptions.c.status == "open")
            ).scalar()
            if existing is not None:
                values: dict[str, Any] = {
                    "occurrences": exceptions.c.occurrences + 1,
                    "last_seen": now,
                    "evidence": ev,
                    "title": title,
                    "fix_hint": fix_hint,
                }
                if job is not None:
                    values.update(job_id=job.id, job_kind=job.kind, job_key=job.key, job_payload=job.payload)
                c.execute(update(exceptions).where(exceptions.c.id == existing).values(**values))
                return int(existing)
            new_id = c.execute(
                insert(exceptions)
                .values(
                    code=code,
                    owner=owner,
                    status="open",
                    title=title,
                    fix_hint=fix_hint,
                    evidence=ev,
                    entity=entity,
                    shop_id=shop_id,
                    fingerprint=fingerprint,
                    job_id=job.id if job else None,
                    job_kind=job.kind if job else None,
                    job_key=job.key if job else None,
                    job_payload=job.payload if job else None,
                    occurrences=1,
                    replays=0,
                    first_seen=now,
                    last_seen=now,
                    correlation_id=correlation_id,
                )
                .returning(exceptions.c.id)
            ).scalar_one()
            return int(new_id)

    def get(self, exc_id: int) -> ExceptionRecord | None:
        with self._read() as c:
            row = c.execute(select(exceptions).where(exceptions.c.id == exc_id)).mappings().first()
        return None if row is None else ExceptionRecord(**dict(row))

    def list(
        self,
        *,
        status: str | None = "open",
        owner: str | None = None,
        entity: str | None = None,
        limit: int = 200,
    ) -> list[ExceptionRecord]:
        stmt = select(exceptions).order_by(exceptions.c.last_seen.desc()).limit(limit)
        if status:
            stmt = stmt.where(exceptions.c.status == status)
        if owner:
            stmt = stmt.where(exceptions.c.owner == owner)
        if entity:
            stmt = stmt.where(exceptions.c.entity == entity)
        with self._read() as c:
            return [ExceptionRecord(**dict(r)) for r in c.execute(stmt).mappings()]

    def counts(self, status: str = "open") -> dict[str, int]:
        with self._read() as c:
            rows = c.execute(
                select(exceptions.c.owner, func.count())
                .where(exceptions.c.status == status)
                .group_by(exceptions.c.owner)
            ).all()
        return {str(o): int(n) for o, n in rows}

    def close(self, exc_id: int, *, status: str, by: str, note: str = "", conn: Connection | None = None) -> bool:
        if status not in ("resolved", "ignored"):
            raise ValueError("status must be resolved or ignored")
        with self._tx(conn) as c:
            res = c.execute(
                update(exceptions)
                .where(exceptions.c.id == exc_id, exceptions.c.status == "open")
                .values(status=status, resolved_at=self.clock.now(), resolved_by=by, resolution=note)
            )
            return bool(res.rowcount)

    def _open_by_job(self) -> Any:
        """``status = 'open'`` for a search by (job_kind, job_key). SQLite has no statistics and picks
        ix_exceptions_status_owner for it, reading every open exception; ``+status`` leaves it the probe on
        ix_exceptions_job_kind_job_key (as the queue's heal, ``SqlJobQueue._heal_sqlite``). PostgreSQL
        chooses by its statistics (and has no unary plus on text)."""
        if self.engine.dialect.name == "sqlite":
            return literal_column("+exceptions.status") == "open"
        return exceptions.c.status == "open"

    def resolve_for_job(self, job: Job, *, by: str = "auto", conn: Connection | None = None) -> int:
        """A job of the same kind and key succeeded: its open exceptions are healed."""
        conds = [exceptions.c.job_kind == job.kind, exceptions.c.job_key == job.key, self._open_by_job()]
        if conn is None:
            # Almost every job has nothing to heal: a read is much cheaper than taking the write lock.
            with self._read() as r:
                if not r.execute(select(exceptions.c.id).where(and_(*conds)).limit(1)).first():
                    return 0
        with self._tx(conn) as c:
            res = c.execute(
                update(exceptions)
                .where(and_(*conds))
                .values(
                    status="resolved",
                    resolved_at=self.clock.now(),
                    resolved_by=by,
                    resolution=f"job {job.id} ({job.kind}) succeeded",
                )
            )
            return int(res.rowcount)

    def resolve_for_jobs(self, jobs: Sequence[Job], *, by: str = "auto") -> int:
        """``resolve_for_job`` for a batch of jobs that succeeded (the worker's batched completions):
        one read finds the few that have an open exception to heal."""
        wanted = {(j.kind, j.key): j for j in jobs}
        if not wanted:
            return 0
        with self._read() as r:
            rows = r.execute(
                select(exceptions.c.job_kind, exceptions.c.job_key).distinct()
                .where(exceptions.c.job_kind.in_(sorted({k for k, _ in wanted})),
                       exceptions.c.job_key.in_(sorted({k for _, k in wanted})), self._open_by_job())
            ).all()
        return sum(self.resolve_for_job(wanted[(kind, key)], by=by) for kind, key in rows if (kind, key) in wanted)

    def replay(self, exc_id: int, queue: JobQueue, *, by: str = "cli", payload: dict[str, Any] | None = None) -> int:
        """Re-run the job behind an exception (after the fix). Returns the new job id.

        ``payload`` replaces the failed job's input for this run (a person corrected it); the original
        stays on the exception and both are written to the audit log."""
        exc = self.get(exc_id)
        if exc is None:
            raise KeyError(f"no exception {exc_id}")
        if not exc.job_kind or exc.job_key is None:
            raise ValueError(f"exception {exc_id} has no job to replay")
        with self.engine.begin() as c:
            c.execute(update(exceptions).where(exceptions.c.id == exc_id).values(replays=exceptions.c.replays + 1))
            replays = c.execute(select(exceptions.c.replays).where(exceptions.c.id == exc_id)).scalar_one()
            enq = queue.enqueue(
                JobSpec(
                    kind=exc.job_kind,
                    key=exc.job_key,
                    payload=dict(exc.job_payload or {}) if payload is None else dict(payload),
                    idempotency_key=f"replay:{exc_id}:{replays}",
                    exception_id=exc_id,
                    correlation_id=exc.correlation_id,
                    priority=50,
                ),
                conn=c,
            )
            c.execute(
                insert(audit_log).values(
                    at=self.clock.now(), actor=by, action="exception.replay", entity=exc.entity,
                    detail={"exception_id": exc_id, "job_id": enq.job_id, **({} if payload is None else {
                        "payload_edited": True, "original_payload": redact_mapping(dict(exc.job_payload or {})),
                        "edited_payload": redact_mapping(dict(payload))})},
                    correlation_id=exc.correlation_id,
                )
            )
        return enq.job_id


# ---------------------------------------------------------------------------------------------
class Audit(_Repo):
    def record(
        self,
        actor: str,
        action: str,
        *,
        entity: str = "",
        detail: dict[str, Any] | None = None,
        correlation_id: str = "",
        conn: Connection | None = None,
    ) -> None:
        with self._tx(conn) as c:
            c.execute(
                insert(audit_log).values(
                    at=self.clock.now(),
                    actor=actor,
                    action=action,
                    entity=entity,
                    detail=redact_mapping(detail or {}),
                    correlation_id=correlation_id,
                )
            )

    def list(self, *, entity: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if entity:
            stmt = stmt.where(audit_log.c.entity == entity)
        with self._read() as c:
            return [dict(r) for r in c.execute(stmt).mappings()]


# ---------------------------------------------------------------------------------------------
_SHOP_FIELDS = (
    "id", "name", "region", "cipher", "seller_name", "status", "access_expires_at", "refresh_expires_at",
    "open_id", "granted_scopes", "flows", "webhooks_subscribed_at", "created_at", "updated_at",
)


class Shops(_Repo):
    """Connected shops; tokens are Fernet-encrypted with ``TTNS_SECRET_KEY`` and never returned by
    ``get``/``list`` (only ``tokens`` decrypts them)."""

    def __init__(self, engine: Engine, clock: Clock | None = None, box: SecretBox | None = None) -> None:
        super().__init__(engine, clock)
        self._box = box

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(None)  # raises the ConfigurationError that says what to set
        return self._box

    def upsert(self, shop: Shop) -> Shop:
        now = self.clock.now()
        values = {
            "name": shop.name,
            "region": shop.region,
            "cipher": shop.cipher,
            "seller_name": shop.seller_name,
            "status": shop.status,
            "open_id": shop.open_id,
            "granted_scopes": shop.granted_scopes,
            "updated_at": now,
        }
        with self._tx(None) as c:
            res = c.execute(update(shops).where(shops.c.id == shop.id).values(**values))
            if res.rowcount == 0:
                c.execute(insert(shops).values(id=shop.id, flows=shop.flows, created_at=now, **values))
        got = self.get(shop.id)
        assert got is not None
        return got

    def get(self, shop_id: str) -> Shop | None:
        with self._read() as c:
            row = c.execute(select(*[shops.c[f] for f in _SHOP_FIELDS]).where(shops.c.id == shop_id)).mappings().first()
        return None if row is None else Shop(**dict(row))

    def list(self, *, status: str | None = None) -> list[Shop]:
        stmt = select(*[shops.c[f] for f in _SHOP_FIELDS]).order_by(shops.c.id)
        if status:
            stmt = stmt.where(shops.c.status == status)
        with self._read() as c:
            return [Shop(**dict(r)) for r in c.execute(stmt).mappings()]

    def set_tokens(self, shop_id: str, tokens: Tokens) -> None:
        with self._tx(None) as c:
            c.execute(
                update(shops)
                .where(shops.c.id == shop_id)
                .values(
                    access_token=self.box.encrypt(tokens.access_token),
                    refresh_token=self.box.encrypt(tokens.refresh_token),
                    access_expires_at=tokens.access_expires_at,
                    refresh_expires_at=tokens.refresh_expires_at,
                    updated_at=self.clock.now(),
                )
            )

    def tokens(self, shop_id: str) -> Tokens | None:
        with self._read() as c:
            row = c.execute(
                select(
                    shops.c.access_token, shops.c.refresh_token, shops.c.access_expires_at, shops.c.refresh_expires_at
                ).where(shops.c.id == shop_id)
            ).first()
        if row is None or row[0] is None:
            return None
        return Tokens(self.box.decrypt(row[0]), self.box.decrypt(row[1] or ""), row[2], row[3])

    def set_status(self, shop_id: str, status: str) -> None:
        with self._tx(None) as c:
            c.execute(update(shops).where(shops.c.id == shop_id).values(status=status, updated_at=self.clock.now()))

    def set_flows(self, shop_id: str, flows: dict[str, bool]) -> None:
        with self._tx(None) as c:
            c.execute(update(shops).where(shops.c.id == shop_id).values(flows=flows, updated_at=self.clock.now()))

    def mark_webhooks_subscribed(self, shop_id: str) -> None:
        with self._tx(None) as c:
            now = self.clock.now()
            c.execute(update(shops).where(shops.c.id == shop_id).values(webhooks_subscribed_at=now, updated_at=now))

    def rotate_keys(self) -> int:
        """Re-encrypt every stored token with the newest key; returns how many shops changed."""
        n = 0
        with self._tx(None) as c:
            for sid, at, rt in c.execute(select(shops.c.id, shops.c.access_token, shops.c.refresh_token)).all():
                c.execute(
                    update(shops)
                    .where(shops.c.id == sid)
                    .values(
                        access_token=self.box.rotate(at) if at else at,
                        refresh_token=self.box.rotate(rt) if rt else rt,
                    )
                )
                n += 1
        return n


class OAuthStates(_Repo):
    def create(self, state: str, ttl_seconds: float = 900, created_by: str = "",
               session_hash: str | None = None) -> None:
        now = self.clock.now()
        with self._tx(None) as c:
            c.execute(
                insert(oauth_states).values(
                    state=state, created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), created_by=created_by,
                    session_hash=session_hash,
                )
            )

    def consume(self, state: str, *, session_hash: str | None = None) -> bool:
        """True exactly once for a state that exists, has not expired and belongs to ``session_hash``
        (a state bound to a session is refused in any other, and does not get used up by the attempt)."""
        now = self.clock.now()
        bound = (oauth_states.c.session_hash.is_(None) if session_hash is None
                 else oauth_states.c.session_hash == session_hash)
        with self._tx(None) as c:
            res = c.execute(
                update(oauth_states)
                .where(oauth_states.c.state == state, oauth_states.c.used_at.is_(None), oauth_states.c.expires_at > now,
                       bound)
                .values(used_at=now)
            )
            return res.rowcount == 1


# ---------------------------------------------------------------------------------------------
class ApiCalls(_Repo):
    """The call log: one row per TikTok or NetSuite call. Concurrent calls' rows share one transaction
    (``GroupCommit``): in a flash sale every worker thread and batch sender records its calls, and one
    write transaction each queued them all behind SQLite's one write lock."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        super().__init__(engine, clock)
        self._group: GroupCommit[dict[str, Any], None] = GroupCommit(self.engine.begin, self._write_rows)

    @staticmethod
    def _write_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[None]:
        conn.execute(insert(api_calls), list(rows))
        return [None] * len(rows)

    def record(
        self,
        *,
        system: str,
        operation: str,
        method: str,
        path: str,
        status: int | None,
        duration_ms: int,
        outcome: str,
        code: str | None = None,
        request_id: str | None = None,
        entity: str | None = None,
        job_id: int | None = None,
        correlation_id: str = "",
    ) -> None:
        row = {"at": self.clock.now(), "system": system, "operation": operation[:128], "method": method,
               "path": path[:500], "status": status, "code": code, "duration_ms": duration_ms,
               "outcome": outcome, "request_id": request_id, "entity": entity, "job_id": job_id,
               "correlation_id": correlation_id}
        # The call happened whoever holds the job's lease now: its record is not fenced (the group's
        # transaction may run on another job's thread, whose lease must not decide this row either).
        with lease.suspended():
            self._group.submit(row)

    def recent(
        self, *, entity: str | None = None, correlation_ids: Sequence[str] = (), limit: int = 200
    ) -> list[dict[str, Any]]:
        stmt = select(api_calls).order_by(api_calls.c.id.desc()).limit(limit)
        if entity:
            stmt = stmt.where(api_calls.c.entity == entity)
        if correlation_ids:
            stmt = stmt.where(api_calls.c.correlation_id.in_(list(correlation_ids)))
        with self._read() as c:
            return [dict(r) for r in c.execute(stmt).mappings()]

    def counts(self, since: datetime | None = None) -> dict[tuple[str, str], int]:
        stmt = select(api_calls.c.system, api_calls.c.outcome, func.count()).group_by(
            api_calls.c.system, api_calls.c.outcome
        )
        if since is not None:
            stmt = stmt.where(api_calls.c.at >= since)
        with self._read() as c:
            return {(str(s), str(o)): int(n) for s, o, n in c.execute(stmt).all()}

    def breakdown(self, system: str, since: datetime) -> list[dict[str, Any]]:
        """Calls of ``system`` since ``since`` per operation and the kind of job that made them (""
        outside a job): how many, and the milliseconds they took in all (for the benchmarks: where a
        burst's NetSuite concurrency slots went). Busiest first."""
        kind = func.coalesce(jobs.c.kind, "")
        stmt = (select(api_calls.c.operation, kind.label("kind"), func.count().label("n"),
                       func.sum(api_calls.c.duration_ms).label("ms"))
                .select_from(api_calls.outerjoin(jobs, jobs.c.id == api_calls.c.job_id))
                .where(api_calls.c.system == system, api_calls.c.at >= since)
                .group_by(api_calls.c.operation, kind))
        with self._read() as c:
            rows = [{"operation": str(op), "job": str(k), "calls": int(n), "ms": int(ms or 0)}
                    for op, k, n, ms in c.execute(stmt).all()]
        return sorted(rows, key=lambda r: (-r["ms"], r["operation"], r["job"]))


# ---------------------------------------------------------------------------------------------
USER_ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    role: str
    created_at: datetime
    last_login_at: datetime | None


class Users(_Repo):
    def add(self, username: str, password: str, role: str | None = None) -> None:
        """Create a user (role ``admin`` unless given) or set an existing user's password (and role
        when given)."""
        from werkzeug.security import generate_password_hash

        if len(password) < 12:
            raise ValueError("a console password needs at least 12 characters")
        if role is not None and role not in USER_ROLES:
            raise ValueError(f"unknown role {role!r}: choose one of {', '.join(USER_ROLES)}")
        if not username or len(username) > 128 or not username.isprintable() or username != username.strip():
            raise ValueError("a user name is 1 to 128 printable characters without surrounding spaces")
        with self._tx(None) as c:
            existing = c.execute(select(users.c.id).where(users.c.username == username)).scalar()
            pw = generate_password_hash(password)
            if existing is None:
                c.execute(insert(users).values(username=username, password_hash=pw, created_at=self.clock.now(),
                                               role=role or "admin"))
            else:
                values: dict[str, Any] = {"password_hash": pw}
                if role is not None:
                    values["role"] = role
                c.execute(update(users).where(users.c.id == existing).values(**values))

    def list(self) -> list[UserRow]:
        with self._read() as c:
            rows = c.execute(select(users.c.id, users.c.username, users.c.role, users.c.created_at,
                                    users.c.last_login_at).order_by(users.c.username)).all()
        return [UserRow(int(r.id), str(r.username), str(r.role), r.created_at, r.last_login_at) for r in rows]

    def get(self, username: str) -> UserRow | None:
        return next((u for u in self.list() if u.username == username), None)

    def set_role(self, username: str, role: str) -> bool:
        if role not in USER_ROLES:
            raise ValueError(f"unknown role {role!r}: choose one of {', '.join(USER_ROLES)}")
        with self._tx(None) as c:
            return bool(c.execute(update(users).where(users.c.username == username).values(role=role)).rowcount)

    def admins(self) -> int:
        with self._read() as c:
            return int(c.execute(select(func.count()).select_from(users).where(users.c.role == "admin")).scalar_one())

    def remove(self, username: str) -> bool:
        """Delete a user (their sessions go with them: the foreign key cascades, and are deleted here too)."""
        from bridge.store.tables import console_sessions

        with self._tx(None) as c:
            uid = c.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if uid is None:
                return False
            c.execute(delete(console_sessions).where(console_sessions.c.user_id == uid))
            c.execute(delete(users).where(users.c.id == uid))
            return True

    def check(self, username: str, password: str) -> bool:
        from werkzeug.security import check_password_hash

        with self._read() as c:
            pw = c.execute(select(users.c.password_hash).where(users.c.username == username)).scalar()
        if pw is None:
            # Same work either way, so a timing difference does not reveal which users exist.
            check_password_hash("scrypt:32768:8:1$aaaaaaaaaaaaaaaa$" + "0" * 128, password)
            return False
        ok = check_password_hash(pw, password)
        if ok:
            with self._tx(None) as c:
                c.execute(update(users).where(users.c.username == username).values(last_login_at=self.clock.now()))
        return ok

    def count(self) -> int:
        with self._read() as c:
            return int(c.execute(select(func.count()).select_from(users)).scalar_one())
