"""Real processes: a worker killed with SIGKILL mid-job, and several workers racing on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bridge.store import Store
from bridge.store.db import make_engine
from bridge.store.queue import JobSpec

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.worker_proc", url, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_job_survives_its_worker_being_killed(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    store = Store(make_engine(url, pool_size=2))
    marker, done = tmp_path / "started", tmp_path / "done"
    jid = store.queue.enqueue(
        JobSpec(kind="test.crash_once", key="order:1", payload={"marker": str(marker), "done": str(done)})
    ).job_id
    first = spawn(url, "--threads", "1", "--lease", "1.5", "--name", "victim")
    try:
        wait_for(marker.exists)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    job = store.queue.get(jid)
    assert job is not None and job.status == "running" and job.lease_owner == "victim"

    second = spawn(url, "--threads", "1", "--lease", "1.5", "--name", "rescuer", "--exit-when-idle")
    try:
        second.wait(60)
    finally:
        if second.poll() is None:
            second.kill()
    assert done.exists(), second.stderr.read().decode() if second.stderr else ""
    job = store.queue.get(jid)
    assert job is not None and job.status == "done" and job.attempts == 2
    assert [(a.worker, a.outcome) for a in store.queue.attempts(jid)] == [
        ("victim", "lease_expired"),
        ("rescuer", "ok"),
    ]
    store.dispose()


@pytest.mark.postgres
def test_several_worker_processes_never_run_a_job_twice_and_keep_per_key_order(pg_url: str) -> None:
    store = Store(make_engine(pg_url, pool_size=4))
    keys, per_key = 25, 16
    with store.engine.begin() as c:
        c.execute(text("CREATE TABLE probe_keys (key text PRIMARY KEY, running int NOT NULL DEFAULT 0)"))
        c.execute(text("CREATE TABLE probe_runs (id bigserial PRIMARY KEY, job_id bigint, key text, pid int, "
                       "overlap int)"))
        for k in range(keys):
            c.execute(text("INSERT INTO probe_keys (key) VALUES (:k)"), {"k": f"sku:{k}"})
    try:
        specs = [JobSpec(kind="test.probe", key=f"sku:{k}", idempotency_key=f"p:{n}:{k}")
                 for n in range(per_key) for k in range(keys)]
        store.queue.enqueue_many(specs)
        procs = [spawn(pg_url, "--threads", "4", "--lease", "30", "--exit-when-idle") for _ in range(3)]
        for p in procs:
            p.wait(120)
            assert p.returncode == 0, p.stderr.read().decode() if p.stderr else ""
        with store.engine.connect() as c:
            runs = c.execute(text("SELECT job_id, key, pid, overlap FROM probe_runs ORDER BY id")).all()
        assert store.queue.counts() == {"done": keys * per_key}
        job_ids = [r.job_id for r in runs]
        assert len(job_ids) == len(set(job_ids)) == keys * per_key, "a job ran twice"
        assert max(r.overlap for r in runs) == 1, "two jobs of one key ran at the same time"
        for k in range(keys):
            seq = [r.job_id for r in runs if r.key == f"sku:{k}"]
            assert seq == sorted(seq), f"sku:{k} ran out of enqueue order"
        assert len({r.pid for r in runs}) >= 2, "the work was not shared between processes"
    finally:
        with store.engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS probe_keys, probe_runs"))
        store.dispose()
