"""`ttns bench queue` end to end on PostgreSQL at a tiny size: every phase drains every job it enqueued, and the
worker-process rows carry where their time went (the processes' CPU, the PostgreSQL backends' CPU, how busy the
machine was, what the backends were doing). The figures themselves come from the benchmark, never from this test."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bridge.benchmarks.queue import run_queue_bench, temporary_database
from bridge.store.db import make_engine
from tests.support.databases import PG_ADMIN_URL


@pytest.mark.postgres
def test_worker_processes_are_timed_to_the_last_completion_and_profiled() -> None:
    with temporary_database("postgresql", PG_ADMIN_URL) as url:
        figures = run_queue_bench(url, jobs=200, threads=2, keys=50, history=300, processes=(2,))
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as c:
                counts = dict(c.execute(text("SELECT status, count(*) FROM jobs GROUP BY status")).all())
                attempts = c.execute(text("SELECT count(*) FROM job_attempts WHERE outcome = 'ok'")).scalar()
        finally:
            engine.dispose()
    # four phases of 200 jobs on top of the history, every one done; the project's workers record an attempt each
    assert counts == {"done": 300 + 4 * 200}
    assert attempts == 300 + 200 + 200 + 200  # history, worker, one-job path, processes (the minimal loop records none)
    assert [(f.variant.split(" (")[0], f.processes) for f in figures] == [
        ("ttns worker", 1), ("ttns queue, 1 job per claim and per commit", 1), ("minimal SKIP LOCKED loop", 1),
        ("ttns worker", 2)]
    assert all(f.claim_complete_per_s > 0 for f in figures)
    [row] = [f for f in figures if f.processes == 2]
    p = row.profile
    assert p is not None and [f.profile for f in figures[:3]] == [None, None, None]
    # timed to the last job's completion, not to the processes' exit
    assert 0 < p.work_seconds <= p.wall_seconds
    assert row.claim_complete_per_s == pytest.approx(200 / p.work_seconds)
    assert p.client_cpu_ms_per_job > 0
    # the server runs on this machine in the test set-up, so its backends' CPU is read from /proc
    assert p.server_cpu_ms_per_job is not None and p.server_cpu_ms_per_job > 0
    assert p.machine_busy_percent is not None and 0 < p.machine_busy_percent <= 100 and p.cores >= 1
    assert p.samples > 0 and 0 <= p.idle_share <= 1
    assert sum(p.backend_states.values()) == pytest.approx(1, abs=0.01) or p.backend_states == {}
