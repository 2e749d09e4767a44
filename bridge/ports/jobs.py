"""What a flow sees of the worker and the web tier: the context a job handler runs in, and an inbound
event as a router sees it. Implemented by ``bridge.worker.runner.JobContext`` (the worker) and
``bridge.web.ingest`` (which builds ``InboundEvent``); flows import them from here, never the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bridge.ports.queue import Enqueued, Job, JobQueue, JobSpec


@dataclass(frozen=True)
class InboundEvent:
    """An event as the router sees it: parsed JSON plus where it came from."""

    source: str
    event_id: str
    topic: str
    shop_id: str | None
    data: dict[str, Any]
    inbox_id: int  # 0 while the event is being stored (routing runs before the insert)
    correlation_id: str


Router = Callable[[InboundEvent], list[JobSpec]]
"""A *pure* function the web tier calls inside the inbox transaction: the jobs an event causes."""


class JobContext(Protocol):
    """What a handler gets: the job, the queue, when it started, and a way to cause more jobs."""

    job: Job
    queue: JobQueue
    started_at: datetime

    @property
    def payload(self) -> dict[str, Any]:
        """The job's payload (JSON)."""
        ...

    def enqueue(self, spec: JobSpec) -> Enqueued:
        """Enqueue a follow-up job carrying this job's correlation id."""
        ...

    def check_lease(self) -> None:
        """Long handlers call this between steps: raises ``LeaseLost`` when the job's lease is gone."""
        ...


Handler = Callable[[JobContext], "dict[str, Any] | None"]
"""Runs one job of a kind: ``handler(ctx)`` returns the result recorded with the job."""

__all__ = ["Handler", "InboundEvent", "JobContext", "Router"]
