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
import queue as queue_module
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    profile: ProcessProfile | None = None  # the worker-process rows (PostgreSQL): where the time went


@dataclass(frozen=True)
class ProcessProfile:
    """Where a multi-process phase's time went: the CPU of the worker processes and of the PostgreSQL
    backends serving them, per job; how busy the machine's cores were; and what those backends were
    doing (``pg_stat_activity`` sampled every ``SAMPLE_EVERY`` s, as shares of the samples)."""

    work_seconds: float  # from the start signal to the last job's completion (``finished_at`` in the table)
    wall_seconds: float  # until the last process exited (its interpreter's teardown included)
    client_cpu_ms_per_job: float  # the worker processes, from the start signal to the end of their work
    # The bench database's client backends (/proc/<pid>/stat of each pid pg_stat_activity names; None when
    # the server is not on this machine). The WAL writer and checkpointer serve every database of the
    # server and are not in it; ``machine_busy_percent`` is.
    server_cpu_ms_per_job: float | None
    machine_busy_percent: float | None  # all cores (/proc/stat), whoever used them
    cores: int
    # Shares of the samples that found a backend inside a transaction: "running" (active, no wait event),
    # "in a transaction, waiting for the client", or the wait event ("IO:WALSync", "Lock:transactionid" …).
    backend_states: dict[str, float]
    samples: int  # backends sampled, idle ones included
    idle_share: float  # of the samples, backends between transactions (or pooled and unused)


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


# The processes' progress is counted in shared memory, not asked of the database. Before, every worker process asked
# for a count(*) of the live jobs 20 times a second (3.7 ms of server time each with 20,000 jobs queued: the
# benchmark's own watch grew with the number of processes it measured), and a plain "is any job left" probe
# (SELECT 1 … LIMIT 1) was planned as a sequential scan through the 100,000 finished jobs once the table had
# statistics (14 ms).


def _run_workers(engine: Engine, threads: int, prefetch: int | None, tick: Progress, *, total: int | None = None,
                 until: Callable[[], bool] | None = None) -> int:
    """The project's worker (``Worker.run``: batched claims and completions, leases, heartbeat, fencing,
    attempts, the exceptions sink) running the no-op job until it completed ``total`` jobs or, with
    ``until`` (several processes share the jobs), until that says so. Returns the jobs it completed."""
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
            time.sleep(0.01)
            ok = worker.stats.get("ok", 0)
            tick("claim", ok - seen)
            seen = ok
            if (total is not None and ok >= total) or (until is not None and until()):
                break
    finally:
        stop.set()
        runner.join()
    # counted after the worker stopped: the last batch's commit can be visible before its count
    return worker.stats.get("ok", 0)


def _process_main(url: str, threads: int, prefetch: int | None, ready: Any, go: Any, finished: Any,
                  progress: Any, slot: int, results: Any) -> None:
    engine = make_engine(url, pool_size=threads + 3)
    ready.release()
    go.wait()
    c0 = _cpu()

    def tick(_phase: str, n: int) -> None:
        progress[slot] += n  # only this process writes its slot

    done = _run_workers(engine, threads, prefetch, tick, until=finished.is_set)
    results.put((_cpu() - c0, done))
    engine.dispose()


SAMPLE_EVERY = 0.05
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process on this machine, in clock ticks (None if it is gone or elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after the comm


def _machine_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of every core since boot (/proc/stat), None where there is no /proc."""
    try:
        with open("/proc/stat") as f:
            cpu = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)  # idle + iowait
    return sum(cpu) - idle, sum(cpu)


class _BackendSampler:
    """Samples the bench database's client backends while a phase runs: what each is doing
    (``pg_stat_activity``) and its CPU time (``/proc/<pid>/stat``; the server must be on this machine)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
        host = make_url(url).host
        self.local = host in (None, "", "127.0.0.1", "localhost", "::1")
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.states: Counter[str] = Counter()
        self.samples = 0
        self.idle = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-pg-sampler", daemon=True)

    def __enter__(self) -> _BackendSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    _QUERY = text("SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                for pid, state_or_none, wtype, wevent in conn.execute(self._QUERY).all():
                    self.samples += 1
                    state = state_or_none or ""  # NULL while a backend starts (or for another user's backend)
                    if state in ("idle", ""):  # between transactions (a pooled connection nobody uses counts here too)
                        self.idle += 1
                    elif state == "active" and wtype is None:
                        self.states["running"] += 1
                    elif state.startswith("idle in transaction"):
                        self.states["in a transaction, waiting for the client"] += 1
                    else:
                        self.states[f"{wtype}:{wevent}"] += 1
                    ticks = _proc_cpu_ticks(int(pid)) if self.local else None
                    if ticks is not None:
                        # a backend born during the phase is counted from zero: its connection set-up is part of it
                        self.first.setdefault(int(pid), 0)
                        self.last[int(pid)] = ticks
                self._stop.wait(SAMPLE_EVERY)

    def baseline(self) -> None:
        """Backends alive before the phase starts are counted from their CPU time now."""
        with self.engine.connect() as conn:
            for (pid,) in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND pid <> pg_backend_pid()")).all():
                ticks = _proc_cpu_ticks(int(pid)) if self.local else None
                if ticks is not None:
                    self.first[int(pid)] = ticks

    def cpu_seconds(self) -> float | None:
        if not self.local or not self.last:
            return None
        return sum(t - self.first.get(pid, 0) for pid, t in self.last.items()) / _CLK_TCK

    def shares(self) -> dict[str, float]:
        n = max(1, sum(self.states.values()))
        return {k: round(v / n, 3) for k, v in self.states.most_common()}


def _in_processes(url: str, engine: Engine, processes: int, threads: int, prefetch: int | None,
                  jobs_in_phase: int) -> ProcessProfile:
    ctx = multiprocessing.get_context("spawn")
    ready, go, finished, results = ctx.Semaphore(0), ctx.Event(), ctx.Event(), ctx.Queue()
    progress = ctx.Array("q", processes, lock=False)  # jobs each process has completed (committed)
    procs = [ctx.Process(target=_process_main,
                         args=(url, threads, prefetch, ready, go, finished, progress, i, results))
             for i in range(processes)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    first_id = _first_queued_id(engine)
    with _BackendSampler(url) as sampler:
        sampler.baseline()
        m0 = _machine_ticks()
        started = SystemClock().now()
        t0 = time.perf_counter()
        go.set()
        # the processes share the phase's jobs: they stop once all of them are completed between them
        while sum(progress) < jobs_in_phase and any(p.is_alive() for p in procs):
            time.sleep(0.01)
        finished.set()
        try:  # each process's CPU and jobs, sent before it tears down
            reports = [results.get(timeout=120) for _ in procs]
        except queue_module.Empty:
            raise RuntimeError(f"a worker process died: exit codes {[p.exitcode for p in procs]}") from None
        m1 = _machine_ticks()
        for p in procs:
            p.join()
        wall = time.perf_counter() - t0
    with engine.connect() as c:
        last = c.execute(text("SELECT max(finished_at) FROM jobs WHERE id >= :f"), {"f": first_id}).scalar()
    finished_at = _aware(last)
    work = (finished_at - started).total_seconds() if finished_at is not None else wall
    done = sum(int(n) for _cpu_s, n in reports)
    if done < jobs_in_phase:
        raise RuntimeError(f"{processes} worker processes completed {done} of {jobs_in_phase} jobs")
    server = sampler.cpu_seconds()
    busy = None
    if m0 is not None and m1 is not None and m1[1] > m0[1]:
        busy = round(100 * (m1[0] - m0[0]) / (m1[1] - m0[1]), 1)
    return ProcessProfile(
        work_seconds=round(work, 3), wall_seconds=round(wall, 3),
        client_cpu_ms_per_job=round(sum(float(c) for c, _n in reports) * 1000 / done, 3),
        server_cpu_ms_per_job=None if server is None else round(server * 1000 / done, 3),
        machine_busy_percent=busy, cores=os.cpu_count() or 1, backend_states=sampler.shares(),
        samples=sampler.samples, idle_share=round(sampler.idle / max(1, sampler.samples), 3))


def _first_queued_id(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT min(id) FROM jobs WHERE status = 'queued'")).scalar() or 0)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime):
        raise TypeError(f"finished_at is {when!r}, not a time")
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _timed(jobs: int, phase: Callable[[], object]) -> tuple[float, float]:
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
            profile = _in_processes(url, engine, n, threads, prefetch, jobs)
            tick("claim", jobs)
            # timed to the last job's completion: the processes' own teardown is not the queue's
            out.append(QueueFigures(backend, f"ttns worker (claims of up to {batch})", jobs, threads, n, history,
                                    None, jobs / profile.work_seconds, keys, profile.client_cpu_ms_per_job, profile))
        return out
    finally:
        engine.dispose()
