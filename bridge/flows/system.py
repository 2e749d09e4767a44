"""House-keeping jobs every deployment runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.worker.registry import Registry, Schedule
from bridge.worker.runner import JobContext

KIND_PRUNE = "system.prune_queue"


def noop(ctx: JobContext) -> dict[str, Any]:
    """A job that does nothing: used by `ttns bench queue` and health probes of the worker."""
    return {"ok": True}


def prune_queue(ctx: JobContext, days: int) -> dict[str, Any]:
    """Retention (``TTNS_QUEUE_RETENTION_DAYS``): delete finished jobs and their attempts older than
    ``days``; exception evidence is kept (``JobQueue.prune``)."""
    if days <= 0:
        return {"pruned": 0, "kept": "retention disabled"}
    before = ctx.started_at - timedelta(days=days)
    return {"pruned": ctx.queue.prune(before), "before": before.isoformat()}


def register(registry: Registry, container: Any) -> None:
    registry.handler("system.noop", noop)
    days = int(container.settings.queue_retention_days)
    registry.handler(KIND_PRUNE, lambda ctx: prune_queue(ctx, days))
    registry.schedule(Schedule(name=KIND_PRUNE, kind=KIND_PRUNE, cron=container.settings.queue_prune_cron))
