"""Where a burst's NetSuite concurrency went (``ApiCalls.breakdown``, read by ``ttns bench flash-sale``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.store.queue import JobSpec

ROOT = Path(__file__).resolve().parents[2]


def test_calls_are_summed_per_operation_and_job_kind_since_a_time(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url, specs_dir=ROOT / "tests/fixtures/specs"))
    try:
        sync = c.store.queue.enqueue(JobSpec(kind="orders.sync", key="o:1")).job_id
        push = c.store.queue.enqueue(JobSpec(kind="inventory.push", key="p:1")).job_id
        since = c.clock.now() - timedelta(seconds=1)
        calls = [("record.upsert salesOrder", sync, 600), ("record.upsert salesOrder", sync, 500),
                 ("suiteql", push, 250), ("suiteql", None, 300)]
        for op, job, ms in calls:
            c.store.calls.record(system="netsuite", operation=op, method="POST", path="/x", status=200,
                                 duration_ms=ms, outcome="ok", job_id=job)
        c.store.calls.record(system="tiktok", operation="order.detail", method="GET", path="/y", status=200,
                             duration_ms=9000, outcome="ok", job_id=sync)
        assert c.store.calls.breakdown("netsuite", since) == [
            {"operation": "record.upsert salesOrder", "job": "orders.sync", "calls": 2, "ms": 1100},
            {"operation": "suiteql", "job": "", "calls": 1, "ms": 300},
            {"operation": "suiteql", "job": "inventory.push", "calls": 1, "ms": 250},
        ]
        assert c.store.calls.breakdown("netsuite", c.clock.now() + timedelta(seconds=1)) == []
    finally:
        c.close()
