"""Queue throughput: enqueue, and claim + complete, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bridge.store import Store
from bridge.store.db import make_engine, upgrade
from bridge.store.queue import JobSpec


@dataclass(frozen=True)
class QueueFigures:
    engine: str
    jobs: int
    threads: int
    enqueue_per_s: float
    claim_complete_per_s: float
    keys: int


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


def run_queue_bench(
    url: str, *, jobs: int, threads: int, keys: int, progress: Callable[[str, int], None] | None = None
) -> QueueFigures:
    upgrade(url)
    store = Store(make_engine(url, pool_size=threads + 2))
    tick = progress or (lambda _phase, _n: None)
    try:
        t0 = time.perf_counter()
        for i in range(jobs):
            store.queue.enqueue(JobSpec(kind="system.noop", key=f"k{i % keys}", idempotency_key=f"bench:{i}"))
            tick("enqueue", 1)
        enqueue_s = time.perf_counter() - t0

        done = 0
        lock = threading.Lock()

        def work(n: int) -> None:
            nonlocal done
            name = f"bench-{n}"
            while True:
                claimed = store.queue.claim(name, 60, 1)
                if not claimed:
                    with lock:
                        if done >= jobs:
                            return
                    time.sleep(0.001)
                    continue
                for job in claimed:
                    store.queue.complete(job, None, started_at=job.started_at or store.clock.now())
                    with lock:
                        done += 1
                    tick("claim", 1)

        t1 = time.perf_counter()
        pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        claim_s = time.perf_counter() - t1
        return QueueFigures(
            engine=make_url(url).get_backend_name(),
            jobs=jobs,
            threads=threads,
            enqueue_per_s=jobs / enqueue_s,
            claim_complete_per_s=jobs / claim_s,
            keys=keys,
        )
    finally:
        store.dispose()
