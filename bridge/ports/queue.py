"""The durable job queue port: the records (``Job``, ``JobSpec`` …) and the ``JobQueue`` Protocol, a
docstring per method. Implemented in ``bridge.store.queue`` (``SqlJobQueue`` on SQLite/PostgreSQL and
``MemoryJobQueue``), whose module docstring states the semantics every implementation honours and which
one contract suite runs on all three (``tests/contract/test_queue_contract.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bridge import lease

if TYPE_CHECKING:
    from sqlalchemy import Connection

JobStatus = Literal["queued", "running", "done", "failed", "dead", "skipped", "cancelled"]


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    idempotency_key: str
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    priority: int = 100
    lease_owner: str | None = None
    lease_token: str | None = None
    lease_expires_at: datetime | None = None
    correlation_id: str = ""
    exception_id: int | None = None
    last_error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class JobSpec:
    """A job to enqueue. ``idempotency_key`` defaults to a random one (no dedupe)."""

    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    run_at: datetime | None = None
    priority: int = 100
    max_attempts: int | None = None
    correlation_id: str = ""
    exception_id: int | None = None
    # Absorbed by a job of the same kind and key that is queued, due and not yet started: for jobs that
    # re-read the current state when they run, a second one would only repeat the first.
    coalesce: bool = False


@dataclass(frozen=True)
class Enqueued:
    job_id: int
    created: bool


@dataclass(frozen=True)
class Done:
    """A job whose handler succeeded, handed to ``complete_and_claim`` to be completed in a batch."""

    job: Job
    started_at: datetime
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class Attempt:
    job_id: int
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    outcome: str
    error: str | None


class JobQueue(Protocol):
    """The queue port. Implementations: ``SqlJobQueue`` and ``MemoryJobQueue``."""

    def enqueue(self, spec: JobSpec, conn: Connection | None = None) -> Enqueued:
        """Add a job (in ``conn``'s transaction when given). Idempotent on ``spec.idempotency_key``: a
        second enqueue returns the first job, ``created`` False; a ``coalesce`` spec is absorbed by a due
        queued job of the same kind and key."""
        ...

    def enqueue_many(self, specs: Sequence[JobSpec], conn: Connection | None = None) -> list[Enqueued]:
        """``enqueue`` for many specs in one transaction; one result per spec, in order."""
        ...

    def claim(self, worker: str, lease_seconds: float, limit: int = 1) -> list[Job]:
        """Lease up to ``limit`` due jobs to ``worker`` (``running``), each the head of its key: no earlier job
        of the same key is still queued or running, so one key's jobs run one at a time, in order. A
        running job whose lease expired is claimable again."""
        ...

    def extend(self, job: Job, lease_seconds: float) -> Job:
        """Extend the lease of a job this worker still holds; ``LeaseLost`` when it no longer does."""
        ...

    def extend_many(self, jobs: Sequence[Job], lease_seconds: float) -> list[int]:
        """``extend`` for many jobs in one transaction (the heartbeat of a worker with many jobs waiting);
        returns the ids of the jobs whose lease this worker no longer holds (the others are extended)."""
        ...

    # True: completing a job resolves the open exceptions of its kind and key in the same transaction (the
    # store's exceptions live beside the queue), so a success can never leave its exception open.
    heals_exceptions: bool

    def complete(self, job: Job, result: dict[str, Any] | None = None, *, started_at: datetime) -> None:
        """``done`` with its result, the attempt recorded (lease-checked: ``LeaseLost``)."""
        ...

    def complete_and_claim(
        self, done: Sequence[Done], worker: str, lease_seconds: float, limit: int, skip_kinds: Sequence[str] = ()
    ) -> tuple[list[int], list[Job]]:
        """Complete every job of ``done`` (lease-checked, each attempt recorded) and claim up to ``limit``
        jobs, in one transaction: one commit for a whole batch. Returns the ids of the ``done`` jobs whose
        lease was lost (left to their new owner, nothing written for them) and the claimed jobs. Queued jobs
        of ``skip_kinds`` are not claimed (the worker has no room for them: their lane is full)."""
        ...

    def retry(self, job: Job, delay: float, error: str, *, started_at: datetime, counted: bool = True) -> None:
        """Queue ``job`` again after ``delay`` seconds. ``counted=False``: the failed attempt does not
        spend one of the job's attempts (its record says ``db_lost``)."""
        ...

    def fail(
        self,
        job: Job,
        status: JobStatus,
        error: str | None,
        *,
        started_at: datetime,
        outcome: str | None = None,
        exception_id: int | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Finish the job as ``failed``, ``dead``, ``skipped`` or ``cancelled`` with its error and the
        exception a person must look at (lease-checked: ``LeaseLost``)."""
        ...

    def release(self, job: Job, *, started_at: datetime) -> None:
        """Give the job back untouched (shutdown): queued again, the attempt not counted."""
        ...

    def fence(self, job: Job) -> lease.Fence:
        """The fence of ``job``'s lease (see ``bridge.lease``)."""
        ...

    def listen(self, on_enqueue: Callable[[], None], stop: threading.Event) -> bool:
        """Call ``on_enqueue`` soon after any process enqueues a job, until ``stop`` is set (PostgreSQL:
        LISTEN/NOTIFY on a thread of its own). Returns False when the queue has no such signal and
        workers must poll."""
        ...

    def get(self, job_id: int) -> Job | None:
        """One job, or None."""
        ...

    def attempts(self, job_id: int) -> list[Attempt]:
        """Every recorded attempt of a job, oldest first."""
        ...

    def counts(self) -> dict[str, int]:
        """How many jobs there are per status."""
        ...

    def pending_keys(self, kind: str, key_prefix: str, limit: int, *, newest_first: bool = False
                     ) -> list[tuple[str, datetime]]:
        """(key, created at) of queued jobs of ``kind`` whose key starts with ``key_prefix``, oldest first
        (one job batches the reads of the others); ``newest_first``: the latest enqueued first."""
        ...

    def prune(self, before: datetime, *, batch: int = 5000) -> int:
        """Delete jobs that finished before ``before`` and their attempts (retention), keeping the
        evidence of exceptions; returns how many jobs went."""
        ...


__all__ = ["Attempt", "Done", "Enqueued", "Job", "JobQueue", "JobSpec", "JobStatus"]
