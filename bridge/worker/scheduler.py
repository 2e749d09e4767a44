"""The scheduler: APScheduler 3.x in its own process; every tick only *enqueues*.

The idempotency key of a tick is the schedule name plus its time bucket, so two schedulers on two
machines (or a restarted one) enqueue each tick exactly once. A tick coalesces into the schedule's
previous tick while that one still waits, due and not started (every scheduled job reads the current
state when it runs, so a second waiting one would only repeat it): a busy queue holds one waiting
poll, not one per interval.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bridge.clock import Clock, SystemClock
from bridge.logs import correlation, new_correlation_id
from bridge.store.queue import Enqueued, JobQueue, JobSpec
from bridge.worker.registry import Schedule

log = logging.getLogger("bridge.scheduler")


def bucket(now: datetime, sched: Schedule) -> str:
    """The time bucket ``now`` falls in for ``sched`` (pure)."""
    if now.tzinfo is None:
        raise ValueError("aware datetime required")
    if sched.every_seconds is not None:
        n = int(now.timestamp()) // sched.every_seconds
        start = datetime.fromtimestamp(n * sched.every_seconds, UTC)
        return start.strftime("%Y%m%dT%H%M%S")
    # Cron ticks fire on minute boundaries: the minute identifies the tick.
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M")


def tick_spec(sched: Schedule, now: datetime) -> JobSpec:
    b = bucket(now, sched)
    return JobSpec(
        kind=sched.kind,
        key=sched.key or f"schedule:{sched.name}",
        payload={**sched.payload, "bucket": b, "scheduled_for": now.astimezone(UTC).isoformat()},
        idempotency_key=f"sched:{sched.name}:{b}",
        correlation_id=new_correlation_id(),
        priority=120,
        max_attempts=3,
        coalesce=True,
    )


def tick(queue: JobQueue, sched: Schedule, clock: Clock | None = None) -> Enqueued:
    """Enqueue one tick; its log line carries the job's correlation id (the worker logs under it too).

    ``extra`` keys must not be ``LogRecord`` attributes (``created`` is one: logging raises ``KeyError``).
    """
    now = (clock or SystemClock()).now()
    spec = tick_spec(sched, now)
    with correlation(spec.correlation_id):
        enq = queue.enqueue(spec)
        log.info("tick %s: job %s %s", sched.name, enq.job_id, "enqueued" if enq.created else "already enqueued",
                 extra={"schedule": sched.name, "job_id": enq.job_id, "enqueued": enq.created})
    return enq


def build_scheduler(queue: JobQueue, schedules: list[Schedule], *, blocking: bool = True) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    for sched in schedules:
        trigger: Any
        if sched.every_seconds is not None:
            trigger = IntervalTrigger(seconds=sched.every_seconds, timezone=UTC)
        else:
            assert sched.cron is not None
            trigger = CronTrigger.from_crontab(sched.cron, timezone=UTC)
        scheduler.add_job(tick, trigger, args=[queue, sched], id=sched.name, name=sched.name)
    return scheduler
