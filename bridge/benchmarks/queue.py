"""Queue throughput: the project's worker and queue beside a minimal ``SKIP LOCKED`` loop on the same table.

Every figure comes from one run on one machine, so the ratio between the rows means something even
when the machine is busy: the project's worker (``Worker.run`` with the no-op job: batched claims and
completions, head-of-key check, leases and heartbeat, fencing, attempts, healing of exceptions), the
queue's API used one job per claim and per commit, and a minimal loop that claims the lowest queued
id with ``FOR UPDATE SKIP LOCKED`` (SQLite: under ``BEGIN IMMEDIATE``) and marks it done, each in its
own transaction, on the same ``jobs`` table, the same engine settings and the same history of
finished jobs (a day's worth by default). On PostgreSQL the worker also runs in 1, 2 and 4 processes.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from bridge.clock import SystemClock
from bridge.store.db import make_engine, upgrade
from bridge.store.queue import JobSpec, SqlJobQueue
from bridge.store.repos import Exceptions
from bridge.store.tables import job_attempts, jobs
from bridge.worker.registry import Registry
from bridge.worker.runner import Worker, WorkerConfig

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class QueueFigures:
    engine: str
    variant: str  # "ttns queue" | "minimal SKIP LOCKED loop"
    jobs: int
    threads: int
    processes: int
    history: int  # finished jobs in the table while measuring
    enqueue_per_s: float | None
    claim_complete_per_s: float
    keys: int
    # CPU time of the benchmark's own process per job (threads in one process; SQLite's work is in it,
    # PostgreSQL's server is not): what a phase costs regardless of how busy the machine is.
    cpu_ms_per_job: float | None = None


@contextmanager
def temporary_database(kind: str, pg_admin_url: str) -> Iterator[str]:
    """A fresh database URL: a temp SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{Path(d) / 'bench.db'}"
        return
    name = f"ttns_bench_{secrets.token_hex(4)}"
    admin = make_engine(pg_admin_url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _rows(n: int, keys: int, status: str, prefix: str) -> Iterator[list[dict[str, Any]]]:
    now = SystemClock().now()
    batch: list[dict[str, Any]] = []
    for i in range(n):
        batch.append({
            "kind": "system.noop", "key": f"k{i % keys}", "payload": {}, "idempotency_key": f"{prefix}:{i}",
            "status": status, "priority": 100, "attempts": 1 if status == "done" else 0, "max_attempts": 8,
            "run_at": now - timedelta(days=1), "correlation_id": "", "created_at": now - timedelta(days=1),
            "updated_at": now, "finished_at": now if status == "done" else None,
        })
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch


def fill_history(engine: Engine, n: int, keys: int) -> None:
    """``n`` finished jobs, each with its attempt: what a day of traffic leaves in the table."""
    now = SystemClock().now()
    with engine.begin() as conn:
        for batch in _rows(n, keys, "done", "hist"):
            conn.execute(insert(jobs), batch)
        first = conn.execute(text("SELECT min(id) FROM jobs WHERE status = 'done'")).scalar() or 0
        last = conn.execute(text("SELECT max(id) FROM jobs WHERE status = 'done'")).scalar() or 0
        ids = list(range(int(first), int(last) + 1))
        for i in range(0, len(ids), 5000):
            conn.execute(insert(job_attempts), [
                {"job_id": j, "attempt": 1, "worker": "history", "started_at": now, "finished_at": now,
                 "duration_ms": 3, "outcome": "ok", "error": None, "correlation_id": ""} for j in ids[i:i + 5000]])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE jobs"))
            c.execute(text("VACUUM ANALYZE job_attempts"))


def _drain(queue: SqlJobQueue, threads: int, batch: int, tick: Progress, total: int | None = None) -> None:
    """Claim and complete until ``total`` jobs are done (or, without ``total``, until a claim finds
    nothing: everything was enqueued before the clock started)."""
    done = [0]
    lock = threading.Lock()

    def work(n: int) -> None:
        name = f"bench-{n}"
        while True:
            claimed = queue.claim(name, 60, batch)
            if not claimed:
                if total is None:
                    return
                with lock:
                    if done[0] >= total:
                        return
                time.sleep(0.001)  # the heads of the remaining keys run on other threads
                continue
            for job in claimed:
                queue.complete(job, None, started_at=job.started_at or queue.clock.now())
            with lock:
                done[0] += len(claimed)
            tick("claim", len(claimed))

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _minimal_loop(engine: Engine, threads: int, tick: Progress) -> None:
    """The floor to compare with: claim the lowest queued id, mark it done, nothing else."""
    pg = engine.dialect.name == "postgresql"
    claim = (
        "UPDATE jobs SET status = 'running', lease_token = %(tok)s, attempts = attempts + 1 WHERE id = "
        "(SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
        if pg else
        "UPDATE jobs SET status = 'running', lease_token = ?, attempts = attempts + 1 WHERE id = "
        "(SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1) RETURNING id"
    )
    done = ("UPDATE jobs SET status = 'done', lease_token = NULL WHERE id = %(id)s AND lease_token = %(tok)s"
            if pg else "UPDATE jobs SET status = 'done', lease_token = NULL WHERE id = ? AND lease_token = ?")

    def work(_n: int) -> None:
        while True:
            tok = secrets.token_hex(8)
            with engine.begin() as conn:
                row = conn.exec_driver_sql(claim, {"tok": tok} if pg else (tok,)).first()
            if row is None:
                return
            with engine.begin() as conn:
                conn.exec_driver_sql(done, {"id": row[0], "tok": tok} if pg else (row[0], tok))
            tick("claim", 1)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _enqueue_untimed(engine: Engine, n: int, keys: int) -> None:
    with engine.begin() as conn:
        for batch in _rows(n, keys, "queued", f"q{secrets.token_hex(3)}"):
            conn.execute(insert(jobs), batch)


_ACTIVE = text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")


def _run_workers(engine: Engine, threads: int, prefetch: int | None, tick: Progress, *, total: int | None = None,
                 watch: float = 0.01) -> None:
    """The project's worker (``Worker.run``: batched claims and completions, leases, heartbeat, fencing,
    attempts, the exceptions sink) running the no-op job until it completed ``total`` jobs or, without
    ``total`` (several processes share the jobs), until no job is queued or running (checked every
    ``watch`` seconds)."""
    registry = Registry()
    registry.handler("system.noop", lambda _ctx: {"ok": True})  # bridge.flows.system.noop
    queue = SqlJobQueue(engine)
    worker = Worker(queue, registry, Exceptions(engine),
                    config=WorkerConfig(threads=threads, prefetch=prefetch, poll_interval=0.05,
                                        name=f"bench-{secrets.token_hex(3)}"))
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,), name="bench-worker")
    runner.start()
    seen = 0
    try:
        while True:
            time.sleep(watch)
            ok = worker.stats.get("ok", 0)
            tick("claim", ok - seen)
            seen = ok
            if total is not None:
                if ok >= total:
                    return
                continue
            with engine.connect().execution_options(sqlite_read_only=True) as c:
                if not c.execute(_ACTIVE).scalar():
                    return
    finally:
        stop.set()
        runner.join()


def _process_main(url: str, threads: int, prefetch: int | None, ready: Any, go: Any) -> None:
    engine = make_engine(url, pool_size=threads + 3)
    ready.release()
    go.wait()
    _run_workers(engine, threads, prefetch, lambda _p, _n: None, watch=0.05)
    engine.dispose()


def _in_processes(url: str, processes: int, threads: int, prefetch: int | None) -> float:
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=_process_main, args=(url, threads, prefetch, ready, go)) for _ in range(processes)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    return time.perf_counter() - t0


def _timed(jobs: int, phase: Callable[[], None]) -> tuple[float, float]:
    """(jobs per second, CPU milliseconds of this process per job) of ``phase``."""
    c0, t0 = _cpu(), time.perf_counter()
    phase()
    return jobs / (time.perf_counter() - t0), (_cpu() - c0) * 1000 / jobs


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def run_queue_bench(
    url: str, *, jobs: int, threads: int, keys: int, history: int = 100_000, prefetch: int | None = None,
    processes: tuple[int, ...] = (), progress: Progress | None = None,
) -> list[QueueFigures]:
    """In one run on one database, each phase draining ``jobs`` no-op jobs with ``history`` finished
    ones present: the project's worker (``threads`` threads, batched), the queue's API used one job per
    claim and per commit (what every worker did before batching), the minimal loop, and (``processes``)
    the project's worker in that many processes of ``threads`` threads each."""
    upgrade(url)
    engine = make_engine(url, pool_size=threads + 3)
    backend = make_url(url).get_backend_name()
    tick = progress or (lambda _phase, _n: None)
    out: list[QueueFigures] = []
    batch = threads + (threads if prefetch is None else prefetch)
    try:
        fill_history(engine, history, keys)
        queue = SqlJobQueue(engine)
        t0 = time.perf_counter()
        for i in range(jobs):
            queue.enqueue(JobSpec(kind="system.noop", key=f"k{i % keys}", idempotency_key=f"bench:{i}"))
            tick("enqueue", 1)
        enqueue_s = time.perf_counter() - t0
        rate, cpu = _timed(jobs, lambda: _run_workers(engine, threads, prefetch, tick, total=jobs))
        out.append(QueueFigures(backend, f"ttns worker (claims of up to {batch})", jobs, threads, 1, history,
                                jobs / enqueue_s, rate, keys, cpu))

        _enqueue_untimed(engine, jobs, keys)
        rate, cpu = _timed(jobs, lambda: _drain(queue, threads, 1, tick, jobs))
        out.append(QueueFigures(backend, "ttns queue, 1 job per claim and per commit", jobs, threads, 1, history,
                                None, rate, keys, cpu))

        _enqueue_untimed(engine, jobs, keys)
        rate, cpu = _timed(jobs, lambda: _minimal_loop(engine, threads, tick))
        out.append(QueueFigures(backend, "minimal SKIP LOCKED loop", jobs, threads, 1, history, None, rate, keys, cpu))

        for n in processes:
            _enqueue_untimed(engine, jobs, keys)
            seconds = _in_processes(url, n, threads, prefetch)
            tick("claim", jobs)
            out.append(QueueFigures(backend, f"ttns worker (claims of up to {batch})", jobs, threads, n, history,
                                    None, jobs / seconds, keys))
        return out
    finally:
        engine.dispose()
