"""Jobs that wait without a thread (``bridge.ports.jobs.Steps``): the worker parks a job whose steps
yield a future and resumes it once the future is done, keeping its claim, its key and its lease."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from concurrent.futures import Future
from typing import Any

from bridge.errors import RetriableError
from bridge.store.queue import Job, JobSpec, MemoryJobQueue
from bridge.worker.registry import Registry
from bridge.worker.runner import JobContext, Worker, WorkerConfig


class FakeExceptions:
    def __init__(self) -> None:
        self.raised: list[dict[str, Any]] = []

    def raise_(self, **kw: Any) -> int:
        self.raised.append(kw)
        return len(self.raised)

    def resolve_for_job(self, job: Job, *, by: str = "auto") -> int:
        return 0

    def resolve_for_jobs(self, jobs: Sequence[Job], *, by: str = "auto") -> int:
        return 0


class Waits:
    """A handler whose job hands out a future and continues with what it is resolved with."""

    def __init__(self) -> None:
        self.futures: dict[str, Future[int]] = {}
        self.made: list[Future[int]] = []  # every future handed out, in order
        self.after: list[str] = []  # keys whose step after the wait ran
        self.lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> Generator[Future[int], int, dict[str, Any]]:
        return self.steps(ctx.job.key)

    def steps(self, key: str) -> Generator[Future[int], int, dict[str, Any]]:
        fut: Future[int] = Future()
        with self.lock:
            self.futures[key] = fut
            self.made.append(fut)
        value = yield fut
        with self.lock:
            self.after.append(key)
        return {"value": value}

    def wait_for(self, n: int, seconds: float = 5) -> None:
        deadline = time.monotonic() + seconds
        while len(self.futures) < n and time.monotonic() < deadline:
            time.sleep(0.01)


def start(q: MemoryJobQueue, handler: Any, **config: Any) -> tuple[Worker, threading.Event, threading.Thread]:
    reg = Registry()
    reg.handler("t", handler)
    w = Worker(q, reg, FakeExceptions(), config=WorkerConfig(poll_interval=0.01, **config))
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,))
    t.start()
    return w, stop, t


def until(cond: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_waiting_jobs_do_not_hold_threads() -> None:
    q = MemoryJobQueue()
    waits = Waits()
    ids = [q.enqueue(JobSpec(kind="t", key=f"k{i}")).job_id for i in range(30)]
    w, stop, t = start(q, waits, threads=1, prefetch=0)
    waits.wait_for(30)
    assert len(waits.futures) == 30  # one thread, 30 jobs waiting at once
    assert q.counts() == {"running": 30} and waits.after == []
    for i, fut in enumerate(waits.futures.values()):
        fut.set_result(i)
    until(lambda: q.counts().get("done", 0) == 30)
    stop.set()
    t.join(10)
    assert q.counts() == {"done": 30} and w.stats == {"ok": 30}
    assert sorted(q.get(j).result["value"] for j in ids) == list(range(30))  # type: ignore[union-attr,index]


def test_a_failed_wait_is_the_jobs_failure() -> None:
    q = MemoryJobQueue()
    waits = Waits()
    jid = q.enqueue(JobSpec(kind="t", key="a")).job_id
    w, stop, t = start(q, waits, threads=1, retry_base=100, retry_cap=100)
    waits.wait_for(1)
    waits.futures["a"].set_exception(RetriableError("the batch call failed"))
    until(lambda: w.stats.get("retry") == 1)
    stop.set()
    t.join(10)
    job = q.get(jid)
    assert job is not None and job.status == "queued" and job.attempts == 1
    assert "batch call failed" in (job.last_error or "")
    assert waits.after == []


def test_a_waiting_job_keeps_its_key_and_its_lease() -> None:
    q = MemoryJobQueue()
    waits = Waits()
    first = q.enqueue(JobSpec(kind="t", key="same")).job_id
    second = q.enqueue(JobSpec(kind="t", key="same")).job_id
    _w, stop, t = start(q, waits, threads=2, lease_seconds=0.6)
    waits.wait_for(1)
    thief: list[Job] = []
    deadline = time.monotonic() + 1.5  # several lease lengths: the heartbeat extends the parked job's lease
    while time.monotonic() < deadline:
        thief += q.claim("thief", 0.6, 5)
        time.sleep(0.05)
    assert thief == [] and q.get(second).status == "queued"  # type: ignore[union-attr]  # behind its key
    waits.futures["same"].set_result(1)
    until(lambda: q.get(second).status == "running")  # type: ignore[union-attr]
    assert q.get(first).status == "done"  # type: ignore[union-attr]
    until(lambda: len(waits.made) == 2)  # the second job's steps have started: its own future
    waits.made[1].set_result(2)
    until(lambda: q.get(second).status == "done")  # type: ignore[union-attr]
    stop.set()
    t.join(10)
    assert q.get(second).result == {"value": 2}  # type: ignore[union-attr]


def test_a_job_released_at_shutdown_does_not_continue_when_its_wait_ends() -> None:
    q = MemoryJobQueue()
    waits = Waits()
    jid = q.enqueue(JobSpec(kind="t", key="a")).job_id
    _w, stop, t = start(q, waits, threads=1, shutdown_grace=0.1)
    waits.wait_for(1)
    stop.set()
    t.join(10)
    job = q.get(jid)
    assert job is not None and job.status == "queued" and job.attempts == 0  # released: claimable at once
    waits.futures["a"].set_result(1)  # the call answers after the worker gave the job up
    time.sleep(0.1)
    assert waits.after == [] and q.get(jid).status == "queued"  # type: ignore[union-attr]


def test_drain_waits_for_the_future_on_its_own_thread() -> None:
    q = MemoryJobQueue()
    reg = Registry()

    def answered_soon(ctx: JobContext) -> Generator[Future[int], int, dict[str, Any]]:
        fut: Future[int] = Future()
        threading.Timer(0.05, fut.set_result, args=(7,)).start()
        value = yield fut
        return {"value": value}

    reg.handler("t", answered_soon)
    w = Worker(q, reg, FakeExceptions())
    jid = q.enqueue(JobSpec(kind="t", key="a")).job_id
    assert w.drain() == 1
    assert q.get(jid).result == {"value": 7}  # type: ignore[union-attr]
