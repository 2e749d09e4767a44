from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.clock import ManualClock
from bridge.store.queue import MemoryJobQueue
from bridge.worker.registry import Schedule
from bridge.worker.scheduler import bucket, build_scheduler, tick, tick_spec

POLL = Schedule(name="orders.poll", kind="orders.poll", every_seconds=60)
NIGHTLY = Schedule(name="inventory.reassert", kind="inventory.reassert", cron="0 3 * * *")


@pytest.mark.parametrize(
    ("sched", "now", "expected"),
    [
        pytest.param(POLL, datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC), "20261101T120000", id="interval-start"),
        pytest.param(POLL, datetime(2026, 11, 1, 12, 0, 59, 999, tzinfo=UTC), "20261101T120000", id="interval-end"),
        pytest.param(POLL, datetime(2026, 11, 1, 12, 1, 0, tzinfo=UTC), "20261101T120100", id="next-interval"),
        pytest.param(NIGHTLY, datetime(2026, 11, 1, 3, 0, 2, tzinfo=UTC), "20261101T0300", id="cron-minute"),
    ],
)
def test_bucket(sched: Schedule, now: datetime, expected: str) -> None:
    assert bucket(now, sched) == expected


def test_two_schedulers_enqueue_a_tick_once() -> None:
    q = MemoryJobQueue()
    a = tick(q, POLL, ManualClock(datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC)))
    b = tick(q, POLL, ManualClock(datetime(2026, 11, 1, 12, 0, 40, tzinfo=UTC)))
    assert a.created and not b.created and a.job_id == b.job_id
    assert q.counts() == {"queued": 1}


def test_a_tick_coalesces_into_the_waiting_one_and_not_into_a_running_one() -> None:
    """Under load the poll ticks while the previous poll still waits: one waiting poll, not one per tick;
    once the poll runs (with the cursor it read) the next tick is a job of its own."""
    q = MemoryJobQueue()
    t0 = datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC)
    first = tick(q, POLL, ManualClock(t0))
    later = [tick(q, POLL, ManualClock(t0.replace(minute=m))) for m in range(1, 31)]
    assert all(not e.created and e.job_id == first.job_id for e in later)
    assert q.counts() == {"queued": 1}
    [running] = q.claim("w", lease_seconds=30)
    assert running.id == first.job_id
    nxt = tick(q, POLL, ManualClock(t0.replace(minute=31)))
    assert nxt.created and nxt.job_id != first.job_id
    assert q.counts() == {"queued": 1, "running": 1}


def test_tick_spec_carries_the_bucket() -> None:
    spec = tick_spec(NIGHTLY, datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    assert spec.idempotency_key == "sched:inventory.reassert:20261101T0300"
    assert spec.payload["bucket"] == "20261101T0300" and spec.key == "schedule:inventory.reassert"


def test_schedule_needs_exactly_one_trigger() -> None:
    with pytest.raises(ValueError):
        Schedule(name="x", kind="x")
    with pytest.raises(ValueError):
        Schedule(name="x", kind="x", every_seconds=5, cron="* * * * *")


def test_apscheduler_is_built_with_one_job_per_schedule() -> None:
    sched = build_scheduler(MemoryJobQueue(), [POLL, NIGHTLY], blocking=False)
    assert sorted(j.id for j in sched.get_jobs()) == ["inventory.reassert", "orders.poll"]


def test_a_running_scheduler_logs_json_ticks_without_errors() -> None:
    """APScheduler runs the ticks at INFO (as in production): every line is JSON, no ERROR, and the tick line
    carries the correlation id of the job it enqueued (the worker logs that job under the same id)."""
    import io
    import json
    import logging
    import time

    from bridge.logs import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("INFO", "json", stream=stream)
    q = MemoryJobQueue()
    sched = build_scheduler(q, [Schedule(name="fast", kind="orders.poll", every_seconds=1)], blocking=False)
    sched.start()
    try:
        deadline = time.monotonic() + 10
        while not q.counts() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
    finally:
        sched.shutdown(wait=True)
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is JSON
    assert q.counts() == {"queued": 1}
    assert not [ln for ln in lines if ln["level"] in ("ERROR", "CRITICAL")], lines
    ticks = [ln for ln in lines if ln["logger"] == "bridge.scheduler"]
    assert ticks and ticks[0]["schedule"] == "fast" and ticks[0]["enqueued"] is True
    assert any(ln["logger"].startswith("apscheduler") for ln in lines)
    assert ticks[0]["correlation_id"] == q.claim("w", lease_seconds=5)[0].correlation_id
