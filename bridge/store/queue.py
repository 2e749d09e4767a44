"""The durable job queue: one port, a SQL implementation and an in-memory one.

Semantics every implementation honours (the contract suite in ``tests/contract`` checks both):

* ``enqueue`` is idempotent on ``idempotency_key``: the second call returns the first job.
* ``claim`` hands out due jobs under a lease. A job is claimable only when it is the *head of its
  key*: no earlier job (lower id) with the same key is still queued or running. So jobs sharing a
  key never run at the same time and run in enqueue order, whichever worker claims them.
* That check only sees committed jobs, so ids of one key must become visible in id order. SQLite
  gets this for free (``BEGIN IMMEDIATE``: one writer at a time allocates and commits). On PostgreSQL
  an id comes from a sequence when the INSERT runs, not when it commits: a webhook transaction
  holding id 10 for ``order:1`` may commit after a poll's id 11 for ``order:1``, and a claim in
  between would see 11 as the head. So every enqueue first takes a transaction-scoped advisory lock
  on its key (``pg_advisory_xact_lock``, keys locked in sorted order so two enqueues cannot
  deadlock): a second enqueue of the key waits until the first commits, then draws a higher id.
* A running job whose lease expired (its worker crashed) is claimable again by anyone.
* Finishing a job (``complete``, ``retry``, ``fail``, ``release``) checks the lease token, so a
  worker that lost its lease cannot overwrite the new owner's outcome (``LeaseLost``).
* Fencing (``fence``): while a worker runs a job under ``bridge.lease.holding(queue.fence(job))``,
  every write statement on that thread through the queue's engine first checks, in the same
  transaction, that the job is still running under the worker's token and lease (on PostgreSQL the
  check takes ``FOR SHARE`` on the job row, so a reclaim cannot slip in before the write commits; on
  SQLite ``BEGIN IMMEDIATE`` already excludes it). A worker that lost its lease cannot write.
* Every attempt is recorded with its outcome, duration and a redacted error excerpt.
* ``complete_and_claim`` completes a batch of successes (lease-checked, attempts written in the same
  statement on PostgreSQL) and claims the next batch in one transaction: the worker's hot path, one
  commit per batch (docs/queue.md).
* ``listen``: on PostgreSQL every enqueue notifies (``pg_notify`` in its key-lock statement) and an idle
  worker waits for that instead of polling.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    String,
    Text,
    TextClause,
    and_,
    bindparam,
    cast,
    event,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)

from bridge import lease
from bridge.clock import Clock, SystemClock
from bridge.errors import LeaseLost, redact_text
from bridge.ports.queue import Attempt, Done, Enqueued, Job, JobQueue, JobSpec, JobStatus
from bridge.store.driver import Prepared
from bridge.store.tables import exceptions, job_attempts, jobs

log = logging.getLogger("bridge.queue")
NOTIFY_CHANNEL = "ttns_jobs"  # also spelled out in SqlJobQueue._lock_keys_pg
ACTIVE: tuple[str, ...] = ("queued", "running")
# Retention deletes only these; failed and dead jobs stay with the exception that explains them.
PRUNABLE: tuple[str, ...] = ("done", "skipped", "cancelled")
TERMINAL: tuple[str, ...] = ("done", "failed", "dead", "skipped", "cancelled")


_ROWS_PER_STATEMENT = 200

# The jobs one ``enqueue_many`` call has created or joined, still waiting to start: (kind, key) -> (id, due). A
# later coalesced spec of the call (the same shop's intake in a group of webhooks) joins one without a statement.
_Waiting = dict[tuple[str, str], tuple[int, datetime]]


def _waiting_here(waiting: _Waiting, spec: JobSpec, due: datetime) -> int | None:
    hit = waiting.get((spec.kind, spec.key))
    return hit[0] if hit is not None and hit[1] <= due else None


def _joined(waiting: _Waiting, spec: JobSpec, job_id: int, due: datetime, *, created: bool = False) -> Enqueued:
    """Remember ``job_id`` (due by ``due`` at the latest) as waiting for the rest of the call."""
    waiting.setdefault((spec.kind, spec.key), (job_id, due))
    return Enqueued(job_id, created)


def _error_excerpt(error: str | None) -> str | None:
    return None if error is None else redact_text(error, 4000)


def _duration_ms(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


# ---------------------------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------------------------


def _waiting_sql(key: str, kind: str, due: str, plus: str) -> str:
    """The condition of a job that a coalesced enqueue of ``kind`` and ``key`` joins: queued, unstarted, due by
    ``due``. ``plus`` is ``"+"`` on SQLite: the unary plus keeps those columns out of the index choice, so the key
    index serves the lookup (without statistics SQLite would search every due job by status and run_at)."""
    return (f'"key" = {key} AND {plus}kind = {kind} AND {plus}status = \'queued\' AND {plus}attempts = 0 '
            f"AND {plus}run_at <= {due}")


def _found_sql(ikey: str, key: str, kind: str, due: str, plus: str) -> str:
    """The job an enqueue that inserted nothing stands for: the one with its idempotency key, else the waiting job
    it coalesced into."""
    return (f"COALESCE((SELECT id FROM jobs WHERE idempotency_key = {ikey}), "  # noqa: S608 (column names only)
            f"(SELECT id FROM jobs WHERE {_waiting_sql(key, kind, due, plus)} LIMIT 1))")


class SqlJobQueue:
    """The queue on SQLAlchemy Core. PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; SQLite
    serialises claimers with ``BEGIN IMMEDIATE`` (see ``bridge.store.db``)."""

    def __init__(self, engine: Engine, clock: Clock | None = None, default_max_attempts: int = 8) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.default_max_attempts = default_max_attempts
        self._pg = engine.dialect.name == "postgresql"
        if not self._pg:
            # SQLite, without statistics, would search the coalescing lookup by (status, run_at) — every due
            # job of a backlog, 10 to 30 ms per webhook with 20,000 queued — instead of by key (``_waiting_sql``).
            self._waiting = text(
                f"SELECT id FROM jobs WHERE {_waiting_sql(':key', ':kind', ':due', '+')} LIMIT 1"  # noqa: S608
            ).bindparams(bindparam("due", type_=jobs.c.run_at.type))
        # The statements of a group of webhooks run on the driver's cursor (``bridge.store.driver``).
        self._join = Prepared(self._join_pg if self._pg else self._waiting)
        _install_fencing(engine)
        self._finish_cache: dict[tuple[str, ...], Any] = {}
        self._rows_cache: dict[int, Prepared] = {}
        self._found_cache: dict[int, Prepared] = {}
        self._idle = True
        self._reclaim_due = datetime.min.replace(tzinfo=UTC)
        self._build_claim()

    # -- fencing --------------------------------------------------------------------------
    def fence(self, job: Job) -> SqlFence:
        return SqlFence(self, job)

    # -- wake-ups -------------------------------------------------------------------------
    def listen(self, on_enqueue: Callable[[], None], stop: threading.Event) -> bool:
        if not self._pg:
            return False
        threading.Thread(target=self._listen, args=(on_enqueue, stop), name="ttns-queue-listen",
                         daemon=True).start()
        return True

    def _listen(self, on_enqueue: Callable[[], None], stop: threading.Event) -> None:
        """LISTEN on a connection of its own (autocommit, outside the pool); reconnects after a failure.
        A wake-up is sent on every (re)connect too, as enqueues may have been missed meanwhile."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    on_enqueue()
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            on_enqueue()
            except Exception:
                log.warning("queue notifications interrupted; workers poll until they are back", exc_info=True)
                on_enqueue()
                stop.wait(1.0)

    # -- enqueue --------------------------------------------------------------------------
    def enqueue(self, spec: JobSpec, conn: Connection | None = None) -> Enqueued:
        return self.enqueue_many([spec], conn)[0]

    def enqueue_many(self, specs: Sequence[JobSpec], conn: Connection | None = None) -> list[Enqueued]:
        if conn is None:
            joined = self._joined_waiting(specs)
            if joined is not None:
                return joined
            with self.engine.begin() as c:
                return self._enqueue_many(specs, c)
        return self._enqueue_many(specs, conn)

    def _joined_waiting(self, specs: Sequence[JobSpec]) -> list[Enqueued] | None:
        """Specs that each find the job they would join — the job with their idempotency key, or (coalesced)
        a waiting job of their kind and key — join it with one read, no write transaction: what the write
        would have done (nothing about the job joined changes). The read sees every commit made before it,
        so the waiting job, claimed later, sees them too. In a flash sale every order asks for the same
        follow-ups (a product's stock raise or recheck, the document-number read); each of those asks took
        SQLite's write lock. ``None``: something must be written."""
        if not specs or any(not s.coalesce and not s.idempotency_key for s in specs):
            return None
        now = self.clock.now()
        out: list[Enqueued] = []
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            for spec in specs:
                found = None
                if spec.idempotency_key:  # the same job enqueued before: the write would return it
                    found = c.execute(self._by_ikey, {"ikey": spec.idempotency_key}).scalar()
                if found is None and spec.coalesce:
                    found = c.execute(self._waiting, {"kind": spec.kind, "key": spec.key,
                                                      "due": spec.run_at or now}).scalar()
                if found is None:
                    return None
                out.append(Enqueued(int(found), False))
        return out

    # Statements built once: enqueueing sits on the webhook's answer path, where building a fresh
    # SQLAlchemy statement per call costs more than running it.
    _by_ikey = select(jobs.c.id).where(jobs.c.idempotency_key == bindparam("ikey"))
    _waiting: Any = (
        select(jobs.c.id)
        # Literal status (as in the claim): a generic PostgreSQL plan can then use the partial index by key.
        .where(jobs.c.kind == bindparam("kind"), jobs.c.key == bindparam("key"),
               jobs.c.status == literal_column("'queued'"), jobs.c.attempts == literal_column("0"),
               jobs.c.run_at <= bindparam("due", type_=jobs.c.run_at.type))
        .limit(1)
    )

    # A coalesced job without idempotency key joins a waiting job before anything else (and on PostgreSQL before
    # any key lock: otherwise every order webhook of a shop would queue on its sales intake's key lock, held
    # through each commit). On PostgreSQL FOR SHARE SKIP LOCKED, held to the commit: a claim (FOR UPDATE SKIP
    # LOCKED) cannot start the job before this transaction's writes are visible to it, and a job a claim is
    # taking right now is not joined. (SQLite's BEGIN IMMEDIATE already keeps claims out until the commit.)
    _join_pg: Any = _waiting.with_for_update(read=True, skip_locked=True)

    def _enqueue_many(self, specs: Sequence[JobSpec], conn: Connection) -> list[Enqueued]:
        """Joins first; then, on PostgreSQL, every key still to insert locked in one sorted round trip; then one
        multi-row statement for the first job of each kind and key of the call (the idempotency check and the
        coalescing lookup per row inside it), and one statement each for the rare rest (a second webhook of the
        same order in one group of webhooks), which must see the rows inserted before them."""
        now = self.clock.now()
        out: list[Enqueued | None] = [None] * len(specs)
        waiting_here: _Waiting = {}
        for i, spec in enumerate(specs):
            if spec.coalesce and not spec.idempotency_key:
                due = spec.run_at or now
                waiting = _waiting_here(waiting_here, spec, due)
                if waiting is None:
                    waiting = self._join.scalar(conn, {"kind": spec.kind, "key": spec.key, "due": due})
                if waiting is not None:
                    out[i] = _joined(waiting_here, spec, int(waiting), due)
        rest = [i for i, r in enumerate(out) if r is None]
        if not rest:
            return [r for r in out if r is not None]
        if self._pg:
            self._lock_keys_pg.rows(conn, {"keys": [f"ttns.jobs:{k}" for k in sorted({specs[i].key for i in rest})]})
        ikeys = {i: specs[i].idempotency_key or f"rand:{secrets.token_hex(12)}" for i in rest}
        first: list[int] = []
        later: list[int] = []
        seen_keys: set[tuple[str, str]] = set()
        seen_ikeys: set[str] = set()
        for i in rest:
            kk = (specs[i].kind, specs[i].key)
            (later if kk in seen_keys or ikeys[i] in seen_ikeys else first).append(i)
            seen_keys.add(kk)
            seen_ikeys.add(ikeys[i])
        for at in range(0, len(first), _ROWS_PER_STATEMENT):
            self._insert_rows(conn, first[at:at + _ROWS_PER_STATEMENT], specs, ikeys, now, waiting_here, out)
        for i in later:
            spec = specs[i]
            waiting = _waiting_here(waiting_here, spec, spec.run_at or now) if (
                spec.coalesce and not spec.idempotency_key) else None
            if waiting is not None:
                out[i] = Enqueued(waiting, False)
            else:
                self._insert_rows(conn, [i], specs, ikeys, now, waiting_here, out)
        return [r for r in out if r is not None]

    def _insert_rows(self, conn: Connection, rows: Sequence[int], specs: Sequence[JobSpec], ikeys: dict[int, str],
                     now: datetime, waiting_here: _Waiting, out: list[Enqueued | None]) -> None:
        """``specs[i]`` for ``i`` in ``rows`` in one statement; fills ``out[i]`` with the job each stands for."""
        params: dict[str, Any] = {"now": now}
        for n, i in enumerate(rows):
            params.update(self._row_params(n, specs[i], ikeys[i], now))
        result = self._rows_stmt(len(rows)).rows(conn, params)
        if self._pg:  # (ikey, inserted id, else the job found) for every row
            created = {str(ik): int(job_id) for ik, job_id, _found in result if job_id is not None}
            found = {str(ik): int(job_id) for ik, _new, job_id in result if job_id is not None}
        else:  # (id, ikey) of the rows inserted
            created, found = {str(ik): int(job_id) for job_id, ik in result}, {}
        missed: list[int] = []
        for i in rows:
            if ikeys[i] in created:
                out[i] = _joined(waiting_here, specs[i], created[ikeys[i]], specs[i].run_at or now, created=True)
            elif ikeys[i] in found:
                out[i] = Enqueued(found[ikeys[i]], False)
            else:  # SQLite; on PostgreSQL a job committed by another transaction after this statement's snapshot
                missed.append(i)
        if missed:
            for i, job_id in self._not_inserted(conn, missed, specs, ikeys, now).items():
                out[i] = Enqueued(job_id, False)

    def _not_inserted(self, conn: Connection, rows: Sequence[int], specs: Sequence[JobSpec], ikeys: dict[int, str],
                      now: datetime) -> dict[int, int]:
        """The jobs the specs that inserted nothing stand for, in one statement: the one with its idempotency key,
        else the waiting job it coalesced into (every webhook of an order whose sync still waits). SQLite: the
        insert's conditions found one of the two, and its write lock kept them. PostgreSQL answers this in the
        insert's own statement; this runs only for a row whose idempotency key another transaction committed after
        that statement's snapshot (its ON CONFLICT saw it, its snapshot did not), which a new statement sees."""
        params: dict[str, Any] = {}
        for n, i in enumerate(rows):
            params.update({f"ikey_{n}": ikeys[i], f"key_{n}": specs[i].key, f"kind_{n}": specs[i].kind,
                           f"due_{n}": specs[i].run_at or now})
        found = {int(n): job_id for n, job_id in self._found_stmt(len(rows)).rows(conn, params)}
        if any(found.get(n) is None for n in range(len(rows))):
            raise RuntimeError("enqueue: a job that inserted nothing found neither its idempotency key nor a waiting "
                               "job to join")
        return {i: int(found[n]) for n, i in enumerate(rows)}

    def _found_stmt(self, rows: int) -> Prepared:
        """For ``rows`` (ikey, key, kind, due) tuples: the row number and the job with that idempotency key, else
        a waiting job of that kind and key due by then. Built once per row count."""
        stmt = self._found_cache.get(rows)
        if stmt is not None:
            return stmt
        if self._pg:
            values = ", ".join(f"({n}, CAST(:ikey_{n} AS varchar), CAST(:key_{n} AS varchar), "
                               f"CAST(:kind_{n} AS varchar), CAST(:due_{n} AS timestamptz))" for n in range(rows))
            cols = ("n", "ikey", "key", "kind", "due")
            source, plus = f"(VALUES {values}) AS v({', '.join(cols)})", ""
        else:
            # SQLite names a VALUES list's columns column1 …; the unary plus keeps the lookup on the key index.
            values = ", ".join(f"({n}, :ikey_{n}, :key_{n}, :kind_{n}, :due_{n})" for n in range(rows))
            source, cols, plus = f"(VALUES {values}) AS v", ("column1", "column2", "column3", "column4", "column5"), "+"
        n, ikey, key, kind, due = (f"v.{c}" for c in cols)
        sql = f"SELECT {n}, {_found_sql(ikey, key, kind, due, plus)} FROM {source}"  # noqa: S608
        stmt = self._found_cache[rows] = Prepared(text(sql).bindparams(
            *(bindparam(f"due_{n}", type_=jobs.c.run_at.type) for n in range(rows))))
        return stmt

    def _row_params(self, n: int, spec: JobSpec, ikey: str, now: datetime) -> dict[str, Any]:
        return {
            f"kind_{n}": spec.kind, f"key_{n}": spec.key, f"payload_{n}": json.dumps(spec.payload),
            f"ikey_{n}": ikey, f"priority_{n}": spec.priority,
            f"max_attempts_{n}": spec.max_attempts or self.default_max_attempts, f"run_at_{n}": spec.run_at or now,
            f"cid_{n}": spec.correlation_id, f"exc_{n}": spec.exception_id,
            f"coalesce_{n}": bool(spec.coalesce) if self._pg else int(spec.coalesce),
        }

    def _rows_stmt(self, rows: int) -> Prepared:
        """INSERT … SELECT FROM VALUES for ``rows`` jobs: a row is inserted unless its idempotency key exists or
        (coalescing) a job of its kind and key is queued, unstarted and due by its own time; returns (id,
        idempotency key) of the rows inserted (SQLite), or (idempotency key, id inserted, job found) of every row
        (PostgreSQL). Ids follow the rows' order (per-key order: docstring above).
        Built once per row count."""
        stmt = self._rows_cache.get(rows)
        if stmt is not None:
            return stmt
        run_at_type = jobs.c.run_at.type
        if self._pg:
            values = ", ".join(
                f"(CAST(:kind_{n} AS varchar), CAST(:key_{n} AS varchar), CAST(:payload_{n} AS json), "
                f"CAST(:ikey_{n} AS varchar), CAST(:priority_{n} AS integer), CAST(:max_attempts_{n} AS integer), "
                f"CAST(:run_at_{n} AS timestamptz), CAST(:cid_{n} AS varchar), CAST(:exc_{n} AS bigint), "
                f"CAST(:coalesce_{n} AS boolean))" for n in range(rows))
            # Every row comes back: the job it inserted, else (same statement, same snapshot) the job with its
            # idempotency key or the waiting job it coalesced into — one round trip where a second statement looked
            # those up (every webhook of an order whose sync still waits).
            sql = f"""
                WITH v(kind, key, payload, ikey, priority, max_attempts, run_at, cid, exc, coalesce) AS (
                    VALUES {values}),
                ins AS (
                    INSERT INTO jobs (kind, key, payload, idempotency_key, status, priority, attempts, max_attempts,
                                      run_at, correlation_id, exception_id, created_at, updated_at)
                    SELECT v.kind, v.key, v.payload, v.ikey, 'queued', v.priority, 0, v.max_attempts, v.run_at,
                           v.cid, v.exc, :now, :now
                    FROM v
                    WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE idempotency_key = v.ikey)
                      AND NOT (v.coalesce AND EXISTS (
                          SELECT 1 FROM jobs WHERE {_waiting_sql("v.key", "v.kind", "v.run_at", "")}
                          FOR SHARE SKIP LOCKED))
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING id, idempotency_key)
                SELECT v.ikey, ins.id,
                       CASE WHEN ins.id IS NULL THEN {_found_sql("v.ikey", "v.key", "v.kind", "v.run_at", "")} END
                FROM v LEFT JOIN ins ON ins.idempotency_key = v.ikey"""  # noqa: S608 (numbered placeholders only)
        else:
            # SQLite names a VALUES list's columns column1 … column10 (in the order of the tuple below). The unary
            # plus keeps the coalescing lookup on the key index (see ``_waiting``). No two rows share a kind and
            # key or an idempotency key (the caller's split), so the rows cannot see each other.
            values = ", ".join(
                f"(:kind_{n}, :key_{n}, :payload_{n}, :ikey_{n}, :priority_{n}, :max_attempts_{n}, :run_at_{n}, "
                f":cid_{n}, :exc_{n}, :coalesce_{n})" for n in range(rows))
            sql = f"""
                INSERT INTO jobs (kind, "key", payload, idempotency_key, status, priority, attempts, max_attempts,
                                  run_at, correlation_id, exception_id, created_at, updated_at)
                SELECT v.column1, v.column2, v.column3, v.column4, 'queued', v.column5, 0, v.column6, v.column7,
                       v.column8, v.column9, :now, :now
                FROM (VALUES {values}) AS v
                WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE idempotency_key = v.column4)
                  AND NOT (v.column10 AND EXISTS (
                      SELECT 1 FROM jobs WHERE {_waiting_sql("v.column2", "v.column1", "v.column7", "+")}))
                RETURNING id, idempotency_key"""  # noqa: S608 (numbered placeholders only)
        stmt = Prepared(text(sql).bindparams(
            bindparam("now", type_=run_at_type),
            *(bindparam(f"run_at_{n}", type_=run_at_type) for n in range(rows)),
            *(bindparam(f"exc_{n}", type_=BigInteger) for n in range(rows)),
        ))
        self._rows_cache[rows] = stmt
        return stmt

    # PostgreSQL: every key still to insert locked in one round trip (sorted, so two enqueues cannot deadlock).
    # The same statement notifies idle workers (LISTEN, see ``listen``): delivered at commit, and PostgreSQL
    # folds the identical notifications of one transaction into one.
    _lock_keys_pg = Prepared(text(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))), pg_notify('ttns_jobs', '') FROM "
        "(SELECT k FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(k, n) ORDER BY n OFFSET 0) AS s"
    ))

    # -- claim ----------------------------------------------------------------------------
    # How often (queue clock) a busy queue also looks for jobs whose worker died; an idle claim always looks.
    RECLAIM_EVERY = timedelta(seconds=1)

    def _build_claim(self) -> None:
        """The claim's statements, built once. Status values are literals so the planner matches the
        partial indexes (``ix_jobs_queued_order``, ``ix_jobs_active_key``, ``ix_jobs_running_lease``)."""
        queued: Any = literal_column("'queued'")
        running: Any = literal_column("'running'")
        now = bindparam("now", type_=jobs.c.run_at.type)

        def head_of_key(t: Any) -> Any:
            # A scalar subquery with LIMIT 1, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti
            # join, and with statistics taken while few jobs were live it scans the whole active-key
            # index for every candidate (19 ms a claim with 1,500 queued). The subquery always runs as
            # an index probe on (key, id < candidate).
            earlier = jobs.alias("e")
            return (select(literal_column("1")).where(earlier.c.key == t.c.key, earlier.c.id < t.c.id,
                                                      earlier.c.status.in_([queued, running]))
                    .limit(1).scalar_subquery().is_(None))

        c = jobs.alias("c")
        self._claim_stmt = self._claim_statement(c, now, head_of_key, skip=False)
        # The same, leaving out the kinds the worker has no room for (``skip_kinds``): a variant, so the
        # plain claim stays as it was.
        self._claim_skip_stmt = self._claim_statement(c, now, head_of_key, skip=True)
        self._peek_stmt = (
            select(c.c.id).where(
                or_(and_(c.c.status == queued, c.c.run_at <= now, head_of_key(c)),
                    and_(c.c.status == running, c.c.lease_expires_at < now))
            ).limit(1)
        )
        expired = (
            select(jobs)
            .where(jobs.c.status == running, jobs.c.lease_expires_at < now, head_of_key(jobs))
            .order_by(jobs.c.priority, jobs.c.run_at, jobs.c.id)
            .limit(bindparam("limit", type_=Integer))
        )
        self._expired_stmt = expired.with_for_update(skip_locked=True, of=jobs) if self._pg else expired

    def _claim_statement(self, c: Any, now: Any, head_of_key: Callable[[Any], Any], *, skip: bool) -> Any:
        queued: Any = literal_column("'queued'")
        candidates: Any = (
            select(c.c.id)
            .where(c.c.status == queued, c.c.run_at <= now, head_of_key(c),
                   *([c.c.kind.not_in(bindparam("skip", expanding=True))] if skip else []))
            .order_by(c.c.priority, c.c.run_at, c.c.id)
            .limit(bindparam("limit", type_=Integer))
        )
        if self._pg:
            candidates = candidates.with_for_update(skip_locked=True, of=c)
        else:
            # Without statistics SQLite's planner walks ix_jobs_status_run_at and sorts every queued job
            # (10 ms a claim with 3,000 queued); INDEXED BY makes it read the partial index in the claim's
            # order and stop at the limit (0.02 ms). SQLAlchemy renders no SQLite index hints, hence text.
            params = [now, bindparam("limit", type_=Integer)]
            if skip:
                params.append(bindparam("skip", expanding=True))
            head = ("SELECT c.id FROM jobs AS c INDEXED BY ix_jobs_queued_order WHERE c.status = 'queued' "
                    "AND c.run_at <= :now AND NOT EXISTS (SELECT 1 FROM jobs AS e WHERE e.key = c.key "
                    "AND e.id < c.id AND e.status IN ('queued', 'running')) ")
            kinds = "AND c.kind NOT IN :skip " if skip else ""  # a bound (expanding) parameter, no value inlined
            candidates = text(head + kinds + "ORDER BY c.priority, c.run_at, c.id LIMIT :limit"
                              ).bindparams(*params).columns(c.c.id)
        # One statement per claim: pick, lock and lease in a single round trip. The token is unique per
        # job: a random one per claim plus the job id.
        return (
            update(jobs)
            .where(jobs.c.id.in_(candidates if not self._pg else candidates.scalar_subquery()))
            .values(
                status="running",
                attempts=jobs.c.attempts + 1,
                lease_owner=bindparam("worker", type_=String),
                lease_token=bindparam("tok", type_=String) + cast(jobs.c.id, String),
                lease_expires_at=bindparam("expires", type_=jobs.c.lease_expires_at.type),
                started_at=now,
                updated_at=now,
            )
            .returning(*jobs.c)
        )

    def claim(self, worker: str, lease_seconds: float, limit: int = 1) -> list[Job]:
        return self.complete_and_claim((), worker, lease_seconds, limit)[1]

    def complete_and_claim(
        self, done: Sequence[Done], worker: str, lease_seconds: float, limit: int, skip_kinds: Sequence[str] = ()
    ) -> tuple[list[int], list[Job]]:
        now = self.clock.now()
        if not done:
            if limit <= 0:
                return [], []
            if self._idle:
                # An idle worker polls: look without the write lock (SQLite) or a write transaction
                # (PostgreSQL) first, so an empty poll costs one indexed read and never makes a webhook
                # answer wait for SQLite's lock.
                with self.engine.connect().execution_options(sqlite_read_only=True) as peek:
                    if peek.execute(self._peek_stmt, {"now": now}).first() is None:
                        return [], []
        expires = now + timedelta(seconds=lease_seconds)
        claimed: list[Job] = []
        with self.engine.begin() as conn:
            # Completions first: the next job of a completed job's key is claimable in the same transaction.
            lost = self._complete_many(conn, done, now) if done else []
            if limit > 0:
                if now >= self._reclaim_due:
                    self._reclaim_due = now + self.RECLAIM_EVERY
                    claimed = self._reclaim(conn, worker, now, expires, limit)
                if len(claimed) < limit:
                    params: dict[str, Any] = {"now": now, "limit": limit - len(claimed), "worker": worker,
                                              "tok": secrets.token_hex(12) + ":", "expires": expires}
                    stmt = self._claim_stmt
                    if skip_kinds:
                        stmt, params["skip"] = self._claim_skip_stmt, sorted(set(skip_kinds))
                    rows = conn.execute(stmt, params).mappings().all()
                    claimed += sorted((_row_to_job(r) for r in rows), key=lambda j: (j.priority, j.run_at, j.id))
        if limit > 0:
            self._idle = not claimed
        return lost, claimed

    # Batched completion. PostgreSQL: one statement for the whole batch (the batch as arrays, the
    # lease-checked UPDATE and the attempts' INSERT in one round trip). SQLite (in-process, no round trips):
    # which jobs are still ours, then one executemany UPDATE and one executemany INSERT.
    _done_pg = text("""
        WITH v AS (
            SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:toks AS text[]), CAST(:results AS text[]),
                                 CAST(:attempts AS integer[]), CAST(:workers AS text[]),
                                 CAST(:starts AS timestamptz[]), CAST(:ms AS integer[]), CAST(:cids AS text[]))
                AS v(id, tok, result, attempt, worker, started_at, ms, cid)
        ), fin AS (
            UPDATE jobs SET status = 'done', result = CAST(v.result AS json), finished_at = :now,
                   last_error = NULL, updated_at = :now, lease_owner = NULL, lease_token = NULL,
                   lease_expires_at = NULL
            FROM v WHERE jobs.id = v.id AND jobs.lease_token = v.tok AND jobs.status = 'running'
            RETURNING jobs.id, jobs.kind, jobs.key
        ), healed AS (
            UPDATE exceptions SET status = 'resolved', resolved_at = :now, resolved_by = 'auto',
                   resolution = 'job ' || fin.id || ' (' || fin.kind || ') succeeded'
            FROM fin WHERE exceptions.status = 'open' AND exceptions.job_kind = fin.kind
              AND exceptions.job_key = fin.key
        )
        INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, duration_ms, outcome, error,
                                  correlation_id)
        SELECT v.id, v.attempt, v.worker, v.started_at, :now, v.ms, 'ok', NULL, v.cid
        FROM v JOIN fin ON fin.id = v.id
        RETURNING job_id
    """)
    _held_stmt = select(jobs.c.id, jobs.c.lease_token).where(
        jobs.c.id.in_(bindparam("ids", expanding=True)), jobs.c.status == literal_column("'running'"))
    _done_stmt = (
        update(jobs)
        .where(jobs.c.id == bindparam("jid"), jobs.c.lease_token == bindparam("tok"))
        .values(status="done", result=bindparam("v_result", type_=jobs.c.result.type),
                finished_at=bindparam("now", type_=jobs.c.finished_at.type), last_error=None,
                updated_at=bindparam("now", type_=jobs.c.updated_at.type), lease_owner=None, lease_token=None,
                lease_expires_at=None)
    )

    def _complete_many(self, conn: Connection, done: Sequence[Done], now: datetime) -> list[int]:
        ordered = sorted(done, key=lambda d: d.job.id)  # lock rows in one order: no deadlock between batches
        if self._pg:
            kept_ids = {int(i) for i in conn.execute(self._done_pg, {
                "ids": [d.job.id for d in ordered], "toks": [d.job.lease_token for d in ordered],
                "results": [None if d.result is None else json.dumps(d.result) for d in ordered],
                "attempts": [d.job.attempts for d in ordered], "workers": [d.job.lease_owner or "?" for d in ordered],
                "starts": [d.started_at for d in ordered], "ms": [_duration_ms(d.started_at, now) for d in ordered],
                "cids": [d.job.correlation_id for d in ordered], "now": now}).scalars()}
            return [d.job.id for d in done if d.job.id not in kept_ids]
        current = {int(i): t for i, t in conn.execute(self._held_stmt, {"ids": [d.job.id for d in ordered]})}
        mine = [d for d in ordered if d.job.lease_token is not None and current.get(d.job.id) == d.job.lease_token]
        if mine:
            conn.execute(self._done_stmt, [
                {"jid": d.job.id, "tok": d.job.lease_token, "v_result": d.result, "now": now} for d in mine])
            conn.execute(self._attempt_insert, [
                {"jid": d.job.id, "a_attempt": d.job.attempts, "a_worker": d.job.lease_owner or "?",
                 "a_started": d.started_at, "a_finished": now, "a_ms": _duration_ms(d.started_at, now),
                 "a_outcome": "ok", "a_error": None, "a_cid": d.job.correlation_id} for d in mine])
            conn.execute(self._heal_stmt, [self._heal_params(d.job, now) for d in mine])
        kept = {d.job.id for d in mine}
        return [d.job.id for d in done if d.job.id not in kept]

    heals_exceptions = True
    # A success heals the open exceptions of its kind and key in its own transaction: healed afterwards,
    # a lost connection or a killed worker between the two commits left them open for good.
    _heal_pg = (
        update(exceptions)
        .where(exceptions.c.status == literal_column("'open'"), exceptions.c.job_kind == bindparam("h_kind"),
               exceptions.c.job_key == bindparam("h_key"))
        .values(status="resolved", resolved_at=bindparam("now", type_=exceptions.c.resolved_at.type),
                resolved_by="auto", resolution=bindparam("h_note"))
    )
    # SQLite without statistics searches ix_exceptions_status_owner for status = 'open' and reads every open
    # exception (0.2 ms a job with 1,000 open); ``+status`` leaves it the probe on (job_kind, job_key).
    _heal_sqlite = text(
        "UPDATE exceptions SET status = 'resolved', resolved_at = :now, resolved_by = 'auto', resolution = :h_note "
        "WHERE job_kind = :h_kind AND job_key = :h_key AND +status = 'open'"
    ).bindparams(bindparam("now", type_=exceptions.c.resolved_at.type))

    @property
    def _heal_stmt(self) -> Any:
        return self._heal_pg if self._pg else self._heal_sqlite

    @staticmethod
    def _heal_params(job: Job, now: datetime) -> dict[str, Any]:
        return {"h_kind": job.kind, "h_key": job.key, "now": now, "h_note": f"job {job.id} ({job.kind}) succeeded"}

    def _reclaim(self, conn: Connection, worker: str, now: datetime, expires: datetime, limit: int) -> list[Job]:
        """Jobs whose worker stopped without finishing (lease expired): record that attempt, lease again."""
        claimed: list[Job] = []
        for row in conn.execute(self._expired_stmt, {"now": now, "limit": limit}).mappings().all():
            conn.execute(
                insert(job_attempts).values(
                    job_id=row["id"],
                    attempt=row["attempts"],
                    worker=row["lease_owner"] or "?",
                    started_at=row["started_at"] or row["updated_at"],
                    finished_at=now,
                    duration_ms=_duration_ms(row["started_at"] or row["updated_at"], now),
                    outcome="lease_expired",
                    error="lease expired: the worker stopped without finishing",
                    correlation_id=row["correlation_id"],
                )
            )
            token = secrets.token_hex(16)
            res = conn.execute(
                update(jobs)
                .where(jobs.c.id == row["id"], jobs.c.status == "running", jobs.c.lease_token == row["lease_token"])
                .values(status="running", attempts=row["attempts"] + 1, lease_owner=worker, lease_token=token,
                        lease_expires_at=expires, started_at=now, updated_at=now)
            )
            if res.rowcount != 1:
                continue
            claimed.append(replace(_row_to_job(row), status="running", attempts=row["attempts"] + 1,
                                   lease_owner=worker, lease_token=token, lease_expires_at=expires, started_at=now))
        return claimed

    def extend(self, job: Job, lease_seconds: float) -> Job:
        now = self.clock.now()
        expires = now + timedelta(seconds=lease_seconds)
        with self.engine.begin() as conn:
            res = conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.lease_token == job.lease_token, jobs.c.status == "running")
                .values(lease_expires_at=expires, updated_at=now)
            )
            if res.rowcount != 1:
                raise LeaseLost(f"job {job.id} is no longer leased to {job.lease_owner}")
        return replace(job, lease_expires_at=expires)

    def extend_many(self, jobs_: Sequence[Job], lease_seconds: float) -> list[int]:
        if not jobs_:
            return []
        now = self.clock.now()
        expires = now + timedelta(seconds=lease_seconds)
        lost: list[int] = []
        with self.engine.begin() as conn:
            for job in jobs_:
                res = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job.id, jobs.c.lease_token == job.lease_token, jobs.c.status == "running")
                    .values(lease_expires_at=expires, updated_at=now)
                )
                if res.rowcount != 1:
                    lost.append(job.id)
        return lost

    # -- finish ---------------------------------------------------------------------------
    def _finish_stmt(self, cols: tuple[str, ...]) -> Any:
        """The finish for a set of changed columns, built once: the lease-checked UPDATE and, on
        PostgreSQL, the attempt record in the same statement (one round trip per finish)."""
        stmt = self._finish_cache.get(cols)
        if stmt is not None:
            return stmt
        upd = (
            update(jobs)
            .where(jobs.c.id == bindparam("jid"), jobs.c.lease_token == bindparam("tok"),
                   jobs.c.status == literal_column("'running'"))
            .values(updated_at=bindparam("now", type_=jobs.c.updated_at.type), lease_owner=None, lease_token=None,
                    lease_expires_at=None, **{c: bindparam(f"v_{c}", type_=jobs.c[c].type) for c in cols})
        )
        if self._pg:
            done = upd.returning(jobs.c.id).cte("finished")
            stmt = insert(job_attempts).from_select(
                ["job_id", "attempt", "worker", "started_at", "finished_at", "duration_ms", "outcome", "error",
                 "correlation_id"],
                select(done.c.id, bindparam("a_attempt", type_=Integer), bindparam("a_worker", type_=String),
                       bindparam("a_started", type_=job_attempts.c.started_at.type),
                       bindparam("a_finished", type_=job_attempts.c.finished_at.type),
                       bindparam("a_ms", type_=Integer), bindparam("a_outcome", type_=String),
                       bindparam("a_error", type_=Text), bindparam("a_cid", type_=String)),
            ).returning(job_attempts.c.job_id)
        else:
            stmt = upd
        self._finish_cache[cols] = stmt
        return stmt

    _attempt_insert = insert(job_attempts).values(
        job_id=bindparam("jid"), attempt=bindparam("a_attempt"), worker=bindparam("a_worker"),
        started_at=bindparam("a_started", type_=job_attempts.c.started_at.type),
        finished_at=bindparam("a_finished", type_=job_attempts.c.finished_at.type), duration_ms=bindparam("a_ms"),
        outcome=bindparam("a_outcome"), error=bindparam("a_error"), correlation_id=bindparam("a_cid"),
    )

    def _finish(
        self,
        conn: Connection,
        job: Job,
        *,
        values: dict[str, Any],
        outcome: str,
        error: str | None,
        started_at: datetime,
    ) -> None:
        now = self.clock.now()
        cols = tuple(sorted(values))
        params = {
            "jid": job.id, "tok": job.lease_token, "now": now, **{f"v_{c}": values[c] for c in cols},
            "a_attempt": job.attempts, "a_worker": job.lease_owner or "?", "a_started": started_at,
            "a_finished": now, "a_ms": _duration_ms(started_at, now), "a_outcome": outcome,
            "a_error": _error_excerpt(error), "a_cid": job.correlation_id,
        }
        res = conn.execute(self._finish_stmt(cols), params)
        # PostgreSQL: one attempt row comes back when the UPDATE matched (rowcount is not reported for a
        # data-modifying CTE); SQLite: the UPDATE's rowcount, then the attempt in the same transaction.
        held = res.first() is not None if self._pg else res.rowcount == 1
        if not held:
            raise LeaseLost(f"job {job.id} is no longer leased to {job.lease_owner}")
        if not self._pg:
            conn.execute(self._attempt_insert, params)

    def complete(self, job: Job, result: dict[str, Any] | None = None, *, started_at: datetime) -> None:
        now = self.clock.now()
        with self.engine.begin() as conn:
            self._finish(
                conn,
                job,
                values={"status": "done", "result": result, "finished_at": now, "last_error": None},
                outcome="ok",
                error=None,
                started_at=started_at,
            )
            conn.execute(self._heal_stmt, self._heal_params(job, now))

    def retry(self, job: Job, delay: float, error: str, *, started_at: datetime, counted: bool = True) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {"status": "queued", "run_at": now + timedelta(seconds=delay),
                                  "last_error": _error_excerpt(error)}
        if not counted:
            values["attempts"] = max(0, job.attempts - 1)
        with self.engine.begin() as conn:
            self._finish(
                conn,
                job,
                values=values,
                outcome="retry" if counted else "db_lost",
                error=error,
                started_at=started_at,
            )

    def fail(
        self,
        job: Job,
        status: JobStatus,
        error: str | None,
        *,
        started_at: datetime,
        outcome: str | None = None,
        exception_id: int | None = None,
        conn: Connection | None = None,
    ) -> None:
        if status not in TERMINAL:
            raise ValueError(f"fail() needs a terminal status, not {status!r}")
        values: dict[str, Any] = {
            "status": status,
            "finished_at": self.clock.now(),
            "last_error": _error_excerpt(error),
        }
        if exception_id is not None:
            values["exception_id"] = exception_id
        kwargs = {"values": values, "outcome": outcome or status, "error": error, "started_at": started_at}
        if conn is None:
            with self.engine.begin() as c:
                self._finish(c, job, **kwargs)  # type: ignore[arg-type]
        else:
            self._finish(conn, job, **kwargs)  # type: ignore[arg-type]

    def release(self, job: Job, *, started_at: datetime) -> None:
        """Give the job back untouched (shutdown): it does not count as an attempt."""
        with self.engine.begin() as conn:
            self._finish(
                conn,
                job,
                values={"status": "queued", "attempts": max(0, job.attempts - 1)},
                outcome="released",
                error=None,
                started_at=started_at,
            )

    # -- read -----------------------------------------------------------------------------
    def get(self, job_id: int) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else _row_to_job(row)

    def attempts(self, job_id: int) -> list[Attempt]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(job_attempts).where(job_attempts.c.job_id == job_id).order_by(job_attempts.c.id)
            ).mappings()
            return [
                Attempt(
                    job_id=r["job_id"],
                    attempt=r["attempt"],
                    worker=r["worker"],
                    started_at=r["started_at"],
                    finished_at=r["finished_at"],
                    duration_ms=r["duration_ms"],
                    outcome=r["outcome"],
                    error=r["error"],
                )
                for r in rows
            ]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    def pending_keys(self, kind: str, key_prefix: str, limit: int, *, newest_first: bool = False
                     ) -> list[tuple[str, datetime]]:
        """(key, created_at) of queued jobs of ``kind`` whose key starts with ``key_prefix``, oldest first
        (``newest_first``: the latest enqueued first): lets one job batch the reads of the others (e.g. 50
        order details in one call)."""
        escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = (
            select(jobs.c.key, func.max(jobs.c.created_at))
            .where(jobs.c.kind == kind, jobs.c.status == "queued", jobs.c.key.like(escaped + "%", escape="\\"))
            .group_by(jobs.c.key)
            .order_by(func.max(jobs.c.id).desc() if newest_first else func.min(jobs.c.id))
            .limit(limit)
        )
        with self.engine.connect().execution_options(sqlite_read_only=True) as conn:
            return [(str(k), t) for k, t in conn.execute(stmt).all()]


    def prune(self, before: datetime, *, batch: int = 5000) -> int:
        """Retention: delete finished jobs (done, skipped, cancelled) older than ``before`` with their
        attempts, ``batch`` at a time so no transaction holds the lock for long. A job an exception
        refers to (``jobs.exception_id`` or ``exceptions.job_id``) is kept: it is the exception's
        evidence; failed and dead jobs are never pruned."""
        from bridge.store.tables import exceptions

        pick = (
            select(jobs.c.id)
            .where(jobs.c.status.in_(PRUNABLE),
                   jobs.c.finished_at < bindparam("before", type_=jobs.c.finished_at.type),
                   jobs.c.exception_id.is_(None),
                   ~exists().where(exceptions.c.job_id == jobs.c.id))
            .order_by(jobs.c.id)
            .limit(batch)
        )
        total = 0
        while True:
            with self.engine.begin() as conn:
                ids = [int(i) for i in conn.execute(pick, {"before": before}).scalars()]
                if not ids:
                    return total
                conn.execute(job_attempts.delete().where(job_attempts.c.job_id.in_(ids)))
                conn.execute(jobs.delete().where(jobs.c.id.in_(ids)))
            total += len(ids)


class SqlFence:
    """A job's lease as the SQL queue checks it, inside the caller's transaction."""

    _peek = select(jobs.c.id).where(
        jobs.c.id == bindparam("fid"), jobs.c.lease_token == bindparam("ftok"), jobs.c.status == "running",
        jobs.c.lease_expires_at > bindparam("now", type_=jobs.c.lease_expires_at.type),
    )
    # FOR SHARE: a reclaim (UPDATE … under FOR UPDATE SKIP LOCKED) waits for, or skips, this row until the
    # write commits, so the write cannot land after another worker took the job.
    _check_pg = _peek.with_for_update(read=True)

    def __init__(self, queue: SqlJobQueue, job: Job) -> None:
        self.queue = queue
        self.job_id = job.id
        self.token = job.lease_token
        self._check = self._check_pg if queue._pg else self._peek

    def _params(self) -> dict[str, Any]:
        return {"fid": self.job_id, "ftok": self.token, "now": self.queue.clock.now()}

    def check(self, conn: Connection) -> bool:
        return conn.execute(self._check, self._params()).first() is not None

    def holds(self) -> bool:
        with self.queue.engine.connect().execution_options(sqlite_read_only=True) as conn:
            return conn.execute(self._peek, self._params()).first() is not None


_fenced_pools: weakref.WeakSet[Any] = weakref.WeakSet()
_fence_lock = threading.Lock()


_TEXT_WRITES: dict[str, bool] = {}
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _writes(clauseelement: Any) -> bool:
    """A statement that changes rows: SQLAlchemy's DML constructs, and the queue's own textual statements
    that insert or update (the enqueue is a textual INSERT … SELECT on SQLite and a CTE on PostgreSQL, which
    ``is_dml`` does not flag: a stale worker's follow-up job went through unfenced)."""
    if getattr(clauseelement, "is_dml", False):
        return True
    if not isinstance(clauseelement, TextClause):
        return False
    sql = clauseelement.text
    found = _TEXT_WRITES.get(sql)
    if found is None:
        found = _TEXT_WRITES[sql] = bool(_WRITE_WORD.search(sql))
    return found


def _install_fencing(engine: Engine) -> None:
    """Make every DML statement on ``engine`` check the current thread's fence first (once per
    transaction). Outside a job (no fence, or a fence of another database) nothing is checked."""
    with _fence_lock:
        if engine.pool in _fenced_pools:
            return
        _fenced_pools.add(engine.pool)
    pool = engine.pool

    def before_execute(conn: Connection, clauseelement: Any, *_args: Any) -> None:
        fence = lease.current()
        if not isinstance(fence, SqlFence) or not _writes(clauseelement):
            return
        if fence.queue.engine.pool is not pool:
            return
        tx = conn.get_transaction()
        seen = conn.info.get("ttns_fence")
        if tx is not None and seen is not None and seen[0] is fence and seen[1] is tx and tx.is_active:
            return
        if not fence.check(conn):
            raise LeaseLost(f"job {fence.job_id} lost its lease; its write was refused")
        conn.info["ttns_fence"] = (fence, conn.get_transaction())

    event.listen(engine, "before_execute", before_execute)


def _row_to_job(row: Any) -> Job:
    return Job(
        id=int(row["id"]),
        kind=row["kind"],
        key=row["key"],
        payload=dict(row["payload"] or {}),
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        run_at=row["run_at"],
        priority=row["priority"],
        lease_owner=row["lease_owner"],
        lease_token=row["lease_token"],
        lease_expires_at=row["lease_expires_at"],
        correlation_id=row["correlation_id"],
        exception_id=row["exception_id"],
        last_error=row["last_error"],
        result=row["result"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


# ---------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------


class MemoryJobQueue:
    """The same contract in memory, for fast tests of workers and flows."""

    heals_exceptions = False  # no exceptions beside it: the worker heals through its exception sink

    def __init__(self, clock: Clock | None = None, default_max_attempts: int = 8) -> None:
        self.clock = clock or SystemClock()
        self.default_max_attempts = default_max_attempts
        self._lock = threading.RLock()
        self._jobs: dict[int, Job] = {}
        self._by_ikey: dict[str, int] = {}
        self._attempts: list[Attempt] = []
        self._next = 1

    def enqueue(self, spec: JobSpec, conn: Connection | None = None) -> Enqueued:
        return self.enqueue_many([spec], conn)[0]

    def enqueue_many(self, specs: Sequence[JobSpec], conn: Connection | None = None) -> list[Enqueued]:
        now = self.clock.now()
        out = []
        with self._lock:
            for spec in specs:
                ikey = spec.idempotency_key or f"rand:{secrets.token_hex(12)}"
                if ikey in self._by_ikey:
                    out.append(Enqueued(self._by_ikey[ikey], False))
                    continue
                if spec.coalesce:
                    due = spec.run_at or now
                    waiting = next((j for j in self._jobs.values() if j.kind == spec.kind and j.key == spec.key
                                    and j.status == "queued" and j.attempts == 0 and j.run_at <= due), None)
                    if waiting is not None:
                        out.append(Enqueued(waiting.id, False))
                        continue
                job = Job(
                    id=self._next,
                    kind=spec.kind,
                    key=spec.key,
                    payload=dict(spec.payload),
                    idempotency_key=ikey,
                    status="queued",
                    attempts=0,
                    max_attempts=spec.max_attempts or self.default_max_attempts,
                    run_at=spec.run_at or now,
                    priority=spec.priority,
                    correlation_id=spec.correlation_id,
                    exception_id=spec.exception_id,
                    created_at=now,
                )
                self._jobs[job.id] = job
                self._by_ikey[ikey] = job.id
                self._next += 1
                out.append(Enqueued(job.id, True))
        return out

    def claim(self, worker: str, lease_seconds: float, limit: int = 1, skip_kinds: Sequence[str] = ()) -> list[Job]:
        now = self.clock.now()
        skip = set(skip_kinds)
        with self._lock:
            active_head: dict[str, int] = {}
            for j in sorted(self._jobs.values(), key=lambda j: j.id):
                if j.status in ACTIVE and j.key not in active_head:
                    active_head[j.key] = j.id
            candidates = [
                j
                for j in self._jobs.values()
                if active_head.get(j.key) == j.id
                and (
                    (j.status == "queued" and j.run_at <= now and j.kind not in skip)
                    or (j.status == "running" and j.lease_expires_at is not None and j.lease_expires_at < now)
                )
            ]
            candidates.sort(key=lambda j: (j.priority, j.run_at, j.id))
            claimed = []
            for j in candidates[:limit]:
                if j.status == "running":
                    start = j.started_at or now
                    self._attempts.append(
                        Attempt(j.id, j.attempts, j.lease_owner or "?", start, now,
                                _duration_ms(start, now), "lease_expired",
                                "lease expired: the worker stopped without finishing")
                    )
                new = replace(
                    j,
                    status="running",
                    attempts=j.attempts + 1,
                    lease_owner=worker,
                    lease_token=secrets.token_hex(16),
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    started_at=now,
                )
                self._jobs[j.id] = new
                claimed.append(new)
            return claimed

    def complete_and_claim(
        self, done: Sequence[Done], worker: str, lease_seconds: float, limit: int, skip_kinds: Sequence[str] = ()
    ) -> tuple[list[int], list[Job]]:
        lost: list[int] = []
        with self._lock:
            for d in done:
                try:
                    self.complete(d.job, d.result, started_at=d.started_at)
                except LeaseLost:
                    lost.append(d.job.id)
            return lost, (self.claim(worker, lease_seconds, limit, skip_kinds) if limit > 0 else [])

    def _check(self, job: Job) -> Job:
        cur = self._jobs.get(job.id)
        if cur is None or cur.status != "running" or cur.lease_token != job.lease_token:
            raise LeaseLost(f"job {job.id} is no longer leased to {job.lease_owner}")
        return cur

    def extend(self, job: Job, lease_seconds: float) -> Job:
        with self._lock:
            cur = self._check(job)
            new = replace(cur, lease_expires_at=self.clock.now() + timedelta(seconds=lease_seconds))
            self._jobs[job.id] = new
            return new

    def extend_many(self, jobs_: Sequence[Job], lease_seconds: float) -> list[int]:
        lost: list[int] = []
        for job in jobs_:
            try:
                self.extend(job, lease_seconds)
            except LeaseLost:
                lost.append(job.id)
        return lost

    def _finish(self, job: Job, outcome: str, error: str | None, started_at: datetime, **values: Any) -> None:
        now = self.clock.now()
        with self._lock:
            cur = self._check(job)
            self._jobs[job.id] = replace(
                cur, lease_owner=None, lease_token=None, lease_expires_at=None, **values
            )
            self._attempts.append(
                Attempt(job.id, job.attempts, job.lease_owner or "?", started_at, now,
                        _duration_ms(started_at, now), outcome, _error_excerpt(error))
            )

    def complete(self, job: Job, result: dict[str, Any] | None = None, *, started_at: datetime) -> None:
        self._finish(job, "ok", None, started_at, status="done", result=result,
                     finished_at=self.clock.now(), last_error=None)

    def retry(self, job: Job, delay: float, error: str, *, started_at: datetime, counted: bool = True) -> None:
        more: dict[str, Any] = {} if counted else {"attempts": max(0, job.attempts - 1)}
        self._finish(job, "retry" if counted else "db_lost", error, started_at, status="queued",
                     run_at=self.clock.now() + timedelta(seconds=delay), last_error=_error_excerpt(error), **more)

    def fail(
        self,
        job: Job,
        status: JobStatus,
        error: str | None,
        *,
        started_at: datetime,
        outcome: str | None = None,
        exception_id: int | None = None,
        conn: Connection | None = None,
    ) -> None:
        if status not in TERMINAL:
            raise ValueError(f"fail() needs a terminal status, not {status!r}")
        extra: dict[str, Any] = {}
        if exception_id is not None:
            extra["exception_id"] = exception_id
        self._finish(job, outcome or status, error, started_at, status=status,
                     finished_at=self.clock.now(), last_error=_error_excerpt(error), **extra)

    def release(self, job: Job, *, started_at: datetime) -> None:
        self._finish(job, "released", None, started_at, status="queued", attempts=max(0, job.attempts - 1))

    def fence(self, job: Job) -> MemoryFence:
        return MemoryFence(self, job)

    def listen(self, on_enqueue: Callable[[], None], stop: threading.Event) -> bool:
        return False

    def snapshot(self) -> list[Job]:
        """Every job, by id (what the memory monitoring double reads, as the SQL one reads the table)."""
        with self._lock:
            return [self._jobs[i] for i in sorted(self._jobs)]

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def attempts(self, job_id: int) -> list[Attempt]:
        with self._lock:
            return [a for a in self._attempts if a.job_id == job_id]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for j in self._jobs.values():
                out[j.status] = out.get(j.status, 0) + 1
        return out

    def pending_keys(self, kind: str, key_prefix: str, limit: int, *, newest_first: bool = False
                     ) -> list[tuple[str, datetime]]:
        out: dict[str, datetime] = {}
        with self._lock:
            for j in sorted(self._jobs.values(), key=lambda j: j.id, reverse=newest_first):
                if j.kind == kind and j.status == "queued" and j.key.startswith(key_prefix):
                    created = j.created_at or self.clock.now()
                    out[j.key] = max(out.get(j.key, created), created)
        return list(out.items())[:limit]

    def prune(self, before: datetime, *, batch: int = 5000) -> int:
        with self._lock:
            gone = {j.id for j in self._jobs.values() if j.status in PRUNABLE and j.exception_id is None
                    and j.finished_at is not None and j.finished_at < before}
            for jid in gone:
                job = self._jobs.pop(jid)
                self._by_ikey.pop(job.idempotency_key, None)
            self._attempts = [a for a in self._attempts if a.job_id not in gone]
            return len(gone)


class MemoryFence:
    def __init__(self, queue: MemoryJobQueue, job: Job) -> None:
        self.queue = queue
        self.job_id = job.id
        self.token = job.lease_token

    def holds(self) -> bool:
        with self.queue._lock:
            cur = self.queue._jobs.get(self.job_id)
            return (cur is not None and cur.status == "running" and cur.lease_token == self.token
                    and cur.lease_expires_at is not None and cur.lease_expires_at > self.queue.clock.now())


__all__ = [  # the port's records are re-exported for the store's own users
    "ACTIVE",
    "NOTIFY_CHANNEL",
    "PRUNABLE",
    "TERMINAL",
    "Attempt",
    "Done",
    "Enqueued",
    "Job",
    "JobQueue",
    "JobSpec",
    "JobStatus",
    "MemoryFence",
    "MemoryJobQueue",
    "SqlFence",
    "SqlJobQueue",
]
