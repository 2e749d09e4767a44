"""House-keeping jobs every deployment runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.ports.jobs import JobContext

KIND_NOOP = "system.noop"
KIND_PRUNE = "system.prune_queue"


@dataclass(frozen=True)
class SystemJobs:
    """``retention_days`` is ``TTNS_QUEUE_RETENTION_DAYS`` (0 keeps every finished job)."""

    retention_days: int = 0

    def noop(self, ctx: JobContext) -> dict[str, Any]:
        """A job that does nothing: used by `ttns bench queue` and health probes of the worker."""
        return {"ok": True}

    def prune_queue(self, ctx: JobContext) -> dict[str, Any]:
        """Retention: delete finished jobs and their attempts older than ``retention_days``; exception
        evidence is kept (``JobQueue.prune``)."""
        return prune_queue(ctx, self.retention_days)


def prune_queue(ctx: JobContext, days: int) -> dict[str, Any]:
    """Delete finished jobs older than ``days`` (``days <= 0``: retention disabled)."""
    if days <= 0:
        return {"pruned": 0, "kept": "retention disabled"}
    before = ctx.started_at - timedelta(days=days)
    return {"pruned": ctx.queue.prune(before), "before": before.isoformat()}
