"""The durable job queue port. The Protocol (``JobQueue``, with a docstring per method) and its records
live beside their implementations in ``bridge.store.queue`` (SQL on SQLite/PostgreSQL, and
``MemoryJobQueue``), which one contract suite runs on all three (``tests/contract``); flows import them
from here."""

from bridge.store.queue import Enqueued, Job, JobQueue, JobSpec

__all__ = ["Enqueued", "Job", "JobQueue", "JobSpec"]
