"""Fencing: the lease a worker thread holds while it runs a job, checked by every side effect.

A worker can lose its lease without knowing it (a long GC or network pause, a frozen VM): the lease
expires, another worker claims the job and runs it. The paused worker must not then change anything.
``bridge.worker.runner`` runs each handler inside ``holding(fence)``; while it does:

* every store write on this thread checks the lease **in the same transaction** as the write (the
  SQL queue installs the check on its engine; see ``bridge.store.queue``), so a stale write is
  refused with ``LeaseLost`` and rolled back, never committed;
* the API clients call ``recheck`` before each write they send to TikTok or NetSuite. Those effects
  cannot be undone or fenced by the remote side, so they are also idempotent by business key
  (externalId upserts, per-package pushes, Create Product's stored key): a write that slipped through
  just before the lease was lost repeats, it does not double (docs/queue.md lists every such call).

This module depends on nothing but the error type, so adapters on either side can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from bridge.errors import LeaseLost


class Fence(Protocol):
    """The lease of one job as the queue that handed it out can check it."""

    job_id: int

    def holds(self) -> bool:
        """True while the lease is still this worker's (same token, still running, not expired)."""
        ...


_current: ContextVar[Fence | None] = ContextVar("ttns_fence", default=None)


def current() -> Fence | None:
    return _current.get()


@contextmanager
def holding(fence: Fence | None) -> Iterator[None]:
    """Run the block under ``fence`` (``None``: no fencing, e.g. outside a job)."""
    token = _current.set(fence)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def suspended() -> Iterator[None]:
    """No fencing inside the block: for the worker's own bookkeeping after a handler returned."""
    with holding(None):
        yield


def recheck(what: str = "a side effect") -> None:
    """Raise ``LeaseLost`` when this thread runs a job whose lease it no longer holds."""
    fence = _current.get()
    if fence is not None and not fence.holds():
        raise LeaseLost(f"job {fence.job_id} lost its lease; refused {what}")
