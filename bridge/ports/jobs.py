"""What a flow sees of the worker and the web tier: the context a job handler runs in, and an inbound
event as a router sees it. Implemented by ``bridge.worker.runner.JobContext`` (the worker) and
``bridge.web.ingest`` (which builds ``InboundEvent``); flows import them from here, never the worker."""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bridge.ports.queue import Enqueued, Job, JobQueue, JobSpec

R = TypeVar("R")


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


Steps = Generator["Future[Any]", Any, "dict[str, Any] | None"]
"""A job that waits for something outside the process without holding a worker thread (the orders
flow's batch RESTlet write): the generator yields a future and is resumed with its result, or with its
exception thrown in, on whichever worker thread is free once the future is done. Its return value is the
job's result. Every step runs under the job's lease (fencing) and the job stays claimed meanwhile, so
jobs of the same key still wait for it; nothing a step does may span a ``yield`` in a context manager
that is bound to a thread (a lock, ``bridge.lease.holding``)."""

Handler = Callable[[JobContext], "dict[str, Any] | Steps | None"]
"""Runs one job of a kind: ``handler(ctx)`` returns the result recorded with the job, or its ``Steps``."""

# How long ``run_steps`` waits for one step's future (a batch write answered by NetSuite, or failed).
STEP_TIMEOUT = 300.0


def run_steps(steps: Generator[Future[Any], Any, R], timeout: float = STEP_TIMEOUT) -> R:
    """Run ``steps`` to the end on this thread, waiting for each future it yields (the direct callers of a
    flow: the CLI, tests, another flow)."""
    try:
        fut = next(steps)
        while True:
            try:
                value = fut.result(timeout=timeout)
            except Exception as exc:  # the step decides: it catches it or it ends the job
                fut = steps.throw(exc)
            else:
                fut = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


__all__ = ["STEP_TIMEOUT", "Handler", "InboundEvent", "JobContext", "Router", "Steps", "run_steps"]
