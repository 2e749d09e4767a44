"""The worker: claims jobs under a lease, runs one flow step each, records the outcome.

Threads inside a process, processes across machines. A heartbeat thread extends the leases of
running jobs; SIGTERM stops claiming, lets running jobs finish for a grace period and releases
what is left, so another worker picks it up at once instead of after the lease expires.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, cast

from bridge import lease
from bridge.clock import Clock, SystemClock
from bridge.errors import Evidence, LeaseLost, NeedsHumanError, redact_text
from bridge.logs import correlation, correlation_id, job_scope, new_correlation_id
from bridge.ports.jobs import STEP_TIMEOUT, Steps
from bridge.retry import backoff_delay, decide
from bridge.store.queue import Done, Enqueued, Job, JobQueue, JobSpec
from bridge.worker.registry import Registry

log = logging.getLogger("bridge.worker")


class PeerRegistry(Protocol):
    """Where worker processes say they are alive (the ``Peers`` repository)."""

    def beat(self, peer_id: str, name: str, *, ttl: float) -> list[str]: ...

    def leave(self, peer_id: str) -> None: ...


class ExceptionSink(Protocol):
    """Where failures a person must see go (the ``Exceptions`` repository, or a fake in tests)."""

    def raise_(
        self,
        *,
        code: str,
        owner: str,
        title: str,
        fix_hint: str = "",
        evidence: dict[str, Any] | None = None,
        entity: str = "",
        shop_id: str | None = None,
        job: Job | None = None,
        correlation_id: str = "",
    ) -> int: ...

    def resolve_for_job(self, job: Job, *, by: str = "auto") -> int: ...

    def resolve_for_jobs(self, jobs: Sequence[Job], *, by: str = "auto") -> int: ...


@dataclass
class JobContext:
    """What a handler gets (``bridge.ports.jobs.JobContext``): the job, the queue, and a way to cause
    more jobs. Handlers are bound methods of flow objects, so they need nothing else from here."""

    job: Job
    queue: JobQueue
    started_at: datetime
    lost: threading.Event = field(default_factory=threading.Event)

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    def enqueue(self, spec: JobSpec) -> Enqueued:
        """Enqueue a follow-up job carrying this job's correlation id."""
        if not spec.correlation_id:
            spec = replace(spec, correlation_id=self.job.correlation_id or correlation_id())
        return self.queue.enqueue(spec)

    def check_lease(self) -> None:
        """Long handlers call this between steps: stop early if the lease is lost (the heartbeat saw it,
        or the store says so: expired, or another worker owns the job now)."""
        if self.lost.is_set():
            raise LeaseLost(f"job {self.job.id} lost its lease")
        lease.recheck(f"job {self.job.id}'s next step")


@dataclass
class WorkerConfig:
    threads: int = 4
    lease_seconds: float = 60.0
    poll_interval: float = 0.2
    # With the queue's enqueue signal (PostgreSQL LISTEN/NOTIFY) an idle worker only looks this often, for
    # delayed retries that became due and jobs whose worker died.
    idle_poll_interval: float = 2.0
    retry_base: float = 2.0
    retry_cap: float = 900.0
    shutdown_grace: float = 30.0
    name: str = ""
    peer_interval: float = 5.0  # how often the process says it is alive and learns who else is
    # Jobs claimed beyond the free threads (``None``: as many as there are threads). They wait in the
    # process under a lease the heartbeat extends, so one claim and one commit serve a batch of short
    # jobs; at shutdown the ones not started are released.
    prefetch: int | None = None
    # An attempt that failed because the database connection was lost (a restart, a failover, a killed
    # backend) says nothing about the job: it is retried without spending one of its attempts, for this
    # long after the job was created; after that such failures count like any other.
    db_lost_retry_seconds: float = 3600.0
    # Jobs waiting on a future without a thread (``bridge.ports.jobs.Steps``: an order waiting for its batch
    # RESTlet call) do not count against ``threads + prefetch``; up to this many are claimed beyond them.
    max_parked: int = 256


def lost_database_connection(exc: BaseException) -> bool:
    """The error (or one it was raised from) is the database connection going away: SQLAlchemy flags
    the connection invalidated when the driver reports a disconnect (PostgreSQL's "terminating
    connection due to administrator command", "server closed the connection unexpectedly" …)."""
    from sqlalchemy.exc import DBAPIError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DBAPIError) and cur.connection_invalidated:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        registry: Registry,
        exceptions: ExceptionSink,
        *,
        config: WorkerConfig | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        peers: PeerRegistry | None = None,
        on_peers: Callable[[list[str], str], None] | None = None,
    ) -> None:
        """``peers``/``on_peers``: while running, the process registers itself and calls
        ``on_peers(live_ids, own_id)`` whenever the set of live worker processes changes (the hook that
        splits shared limits such as NetSuite's concurrency between them)."""
        self.queue = queue
        self.registry = registry
        self.exceptions = exceptions
        self.config = config or WorkerConfig()
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.name = self.config.name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.peer_id = uuid.uuid4().hex
        self.peers = peers
        self.on_peers = on_peers
        self._known_peers: list[str] | None = None
        self._inflight: dict[int, tuple[Job, JobContext]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stats: dict[str, int] = {}
        # run(): jobs claimed whose handler has not finished, and successes waiting for the batch commit.
        self._claimed: dict[int, Job] = {}
        self._handoffs: list[Done] = []
        self._dispatching = False
        self._stopping = threading.Event()
        self._healer: ThreadPoolExecutor | None = None  # run(): heals exceptions after each batch's commit
        # run(): jobs whose steps wait on a future (no thread held) or are resumed after it (on a resumer
        # thread), and the threads that resume them.
        self._parked: set[int] = set()
        self._resumer: ThreadPoolExecutor | None = None

    # -- one job --------------------------------------------------------------------------
    def process(self, job: Job) -> str:
        """Run ``job`` to an outcome and record it. Returns the outcome name."""
        if self._stopping.is_set():  # claimed ahead, not started before shutdown: give it back
            with self._lock:
                self._claimed.pop(job.id, None)
            with contextlib.suppress(LeaseLost):
                self.queue.release(job, started_at=self.clock.now())
            return "released"
        started = self.clock.now()
        ctx = JobContext(job=job, queue=self.queue, started_at=started)
        with self._lock:
            self._inflight[job.id] = (job, ctx)
        outcome = "crashed"
        try:
            with correlation(job.correlation_id or new_correlation_id()), job_scope(job.id, job.key):
                outcome = self._run(job, ctx, started)
        finally:
            if outcome != "parked":  # still claimed and running: its last step finishes it (_resume)
                self._finished(job, outcome)
        if outcome == "parked":
            self._wake.set()  # this thread is free for another job
        return outcome

    def _finished(self, job: Job, outcome: str) -> None:
        with self._lock:
            self._inflight.pop(job.id, None)
            self._claimed.pop(job.id, None)
            self._parked.discard(job.id)
        if outcome not in ("handed_off", "crashed"):  # a batched success is counted (and wakes) on its own
            with self._lock:
                self.stats[outcome] = self.stats.get(outcome, 0) + 1
            self._wake.set()  # a thread is free

    def _run(self, job: Job, ctx: JobContext, started: datetime) -> str:
        t0 = time.perf_counter()
        # Fencing: while the handler runs, every store write on this thread checks the lease in its
        # own transaction, and the API clients re-check it before each write (bridge.lease).
        fence = self.queue.fence(job)
        try:
            handler = self.registry.get(job.kind)
            with lease.holding(fence):
                result = handler(ctx)
        except Exception as exc:  # every failure is classified, none escapes the worker
            return self._failed(job, exc, started, fence)
        if inspect.isgenerator(result):
            return self._advance(job, ctx, started, fence, cast(Steps, result), t0)
        return self._succeeded(job, result, started, t0)

    def _advance(self, job: Job, ctx: JobContext, started: datetime, fence: lease.Fence, steps: Steps,
                 t0: float, value: Any = None, error: BaseException | None = None) -> str:
        """Run the job's steps (``bridge.ports.jobs.Steps``) until they end or wait on a future. Under
        ``run()`` a waiting job is *parked*: it stays claimed (the heartbeat keeps its lease), the thread
        goes back to the pool, and a resumer thread continues it once the future is done. Elsewhere
        (``drain``, one-shots) this thread waits for the future."""
        while True:
            if error is None and ctx.lost.is_set():
                error = LeaseLost(f"job {job.id} lost its lease while it waited")
            try:
                with lease.holding(fence):
                    fut = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as stop:
                return self._succeeded(job, stop.value, started, t0)
            except Exception as exc:
                return self._failed(job, exc, started, fence)
            value = error = None
            with self._lock:
                park = self._dispatching and self._resumer is not None
                if park:
                    self._parked.add(job.id)
            if park:
                # If the future is already done the callback runs here and now: it only submits the resume.
                fut.add_done_callback(functools.partial(self._wake_parked, job, ctx, started, fence, steps, t0))
                return "parked"
            try:
                value = fut.result(timeout=STEP_TIMEOUT)
            except Exception as exc:
                error = exc

    def _wake_parked(self, job: Job, ctx: JobContext, started: datetime, fence: lease.Fence, steps: Steps,
                     t0: float, fut: Future[Any]) -> None:
        """The parked job's future is done (called on the thread that finished it): resume it on a worker
        thread. A process past its shutdown grace released the job already: nothing to resume."""
        resumer = self._resumer
        try:
            if resumer is None:
                raise RuntimeError("the worker stopped")
            resumer.submit(self._resume, job, ctx, started, fence, steps, t0, fut)
        except RuntimeError:
            log.warning("job %s's wait ended after the worker stopped; its lease decides who runs it", job.id)
            steps.close()
            self._finished(job, "released")

    def _resume(self, job: Job, ctx: JobContext, started: datetime, fence: lease.Fence, steps: Steps,
                t0: float, fut: Future[Any]) -> str:
        # Still counted parked while it resumes: it runs on a resumer thread, not in the claim room.
        try:
            value, error = fut.result(), None
        except Exception as exc:
            value, error = None, exc
        outcome = "crashed"
        try:
            with correlation(job.correlation_id or new_correlation_id()), job_scope(job.id, job.key):
                outcome = self._advance(job, ctx, started, fence, steps, t0, value, error)
        finally:
            if outcome != "parked":
                self._finished(job, outcome)
        return outcome

    def _succeeded(self, job: Job, result: Any, started: datetime, t0: float) -> str:
        done = Done(job, started, result if isinstance(result, dict) else None)
        with self._lock:
            if self._dispatching:
                # Under run(): the dispatcher commits this success with the other threads' and its next
                # claim in one transaction, then heals exceptions; this thread takes the next job now.
                self._claimed.pop(job.id, None)
                self._inflight.pop(job.id, None)
                self._handoffs.append(done)
                self._wake.set()
                return "handed_off"
        try:
            self.queue.complete(job, done.result, started_at=started)
        except LeaseLost:
            log.warning("job %s finished after its lease was lost; the new owner decides", job.id)
            return "lease_lost"
        if not self.queue.heals_exceptions:
            try:
                self.exceptions.resolve_for_job(job)
            except Exception:
                log.exception("could not resolve exceptions healed by job %s", job.id)
        log.info(
            "job done",
            extra={"job_id": job.id, "kind": job.kind, "key": job.key, "attempt": job.attempts,
                   "ms": int((time.perf_counter() - t0) * 1000)},
        )
        return "ok"

    def _failed(self, job: Job, exc: Exception, started: datetime, fence: lease.Fence | None = None) -> str:
        exc = _spec_problem_for_a_person(exc)
        if lost_database_connection(exc) and (
                job.created_at is None
                or (self.clock.now() - job.created_at).total_seconds() < self.config.db_lost_retry_seconds):
            delay = backoff_delay(max(1, job.attempts), base=self.config.retry_base, cap=self.config.retry_cap,
                                  rand=self.rng.random())
            text = f"{type(exc).__name__}: {exc}"
            log.info("job will retry in %.1fs (database connection lost, attempt not counted): %s", delay, text,
                     extra={"job_id": job.id, "kind": job.kind, "key": job.key, "attempt": job.attempts,
                            "decision": "retry"})
            try:
                self.queue.retry(job, delay, text, started_at=started, counted=False)
            except LeaseLost:
                return "lease_lost"
            return "retry"
        decision = decide(
            exc,
            job.attempts,
            job.max_attempts,
            base=self.config.retry_base,
            cap=self.config.retry_cap,
            rand=self.rng.random(),
        )
        text = f"{type(exc).__name__}: {exc}"
        evidence = getattr(exc, "evidence", None)
        evidence_d = evidence.as_dict() if evidence is not None else {}
        extra = {"job_id": job.id, "kind": job.kind, "key": job.key, "attempt": job.attempts,
                 "decision": decision.decision}
        try:
            if decision.decision == "lease_lost":
                log.warning("job lost its lease: %s", text, extra=extra)
                return "lease_lost"
            if decision.decision == "retry":
                log.info("job will retry in %.1fs: %s", decision.delay, text, extra=extra)
                self.queue.retry(job, decision.delay, text, started_at=started)
                return "retry"
            if decision.decision == "skipped":
                log.info("job skipped: %s", text, extra=extra)
                self.queue.fail(job, "skipped", text, started_at=started)
                return "skipped"
            if isinstance(exc, NeedsHumanError):
                with lease.holding(fence):  # a stale worker raises no exception for a job it lost
                    exc_id = self.exceptions.raise_(
                        code=exc.code,
                        owner=exc.owner,
                        title=exc.message,
                        fix_hint=exc.fix_hint,
                        evidence=evidence_d,
                        entity=exc.entity or job.key,
                        shop_id=job.payload.get("shop_id"),
                        job=job,
                        correlation_id=job.correlation_id,
                    )
                log.warning("job needs a human (exception %s): %s", exc_id, text, extra=extra)
                self.queue.fail(job, "failed", text, started_at=started, outcome="needs_human", exception_id=exc_id)
                return "needs_human"
            # fatal or dead: an admin must look; the traceback is the evidence
            tb = redact_text("".join(traceback.format_exception(exc)), 6000)
            code = "RETRIES_EXHAUSTED" if decision.decision == "dead" else "FATAL"
            hint = (
                f"Gave up after {job.attempts} attempts; the last error is in the evidence. Fix the cause "
                "(connectivity, credentials, limits), then replay."
                if code == "RETRIES_EXHAUSTED"
                else "This fails the same way every time (a refused request or a bug). Read the evidence, "
                "fix the cause, then replay."
            )
            with lease.holding(fence):
                exc_id = self.exceptions.raise_(
                    code=code,
                    owner="admin",
                    title=f"{job.kind} {job.key}: {redact_text(str(exc), 300)}",
                    fix_hint=hint,
                    evidence={**evidence_d, "error": text, "traceback": tb},
                    entity=job.key,
                    shop_id=job.payload.get("shop_id"),
                    job=job,
                    correlation_id=job.correlation_id,
                )
            log.error("job %s: %s", decision.decision, text, extra=extra)
            self.queue.fail(job, "dead", text, started_at=started, outcome=decision.decision, exception_id=exc_id)
            return decision.decision
        except LeaseLost:
            log.warning("job %s lost its lease while recording its failure", job.id)
            return "lease_lost"

    # -- loops ----------------------------------------------------------------------------
    def drain(self, *, max_jobs: int | None = None, until_idle: bool = True) -> int:
        """Run due jobs synchronously on this thread until none is claimable (tests, CLI one-shots)."""
        done = 0
        while max_jobs is None or done < max_jobs:
            claimed = self.queue.claim(self.name, self.config.lease_seconds, 1)
            if not claimed:
                if until_idle:
                    break
                time.sleep(self.config.poll_interval)
                continue
            for job in claimed:
                self.process(job)
                done += 1
        return done

    # How long the dispatcher may hold a few successes for more to join their commit.
    GATHER = 0.005
    EXPRESS_THREADS = 2
    URGENT_THREADS = 2

    def run(self, stop: threading.Event) -> None:
        """Claim and run jobs on ``config.threads`` threads until ``stop`` is set."""
        threads = self.config.threads
        log.info("worker started", extra={"worker": self.name, "threads": threads})
        hb_stop = threading.Event()
        self._announce()
        heart = threading.Thread(target=self._heartbeat, args=(hb_stop,), name="ttns-heartbeat", daemon=True)
        heart.start()
        prefetch = threads if self.config.prefetch is None else max(0, self.config.prefetch)
        capacity = threads + prefetch
        futures: set[Future[str]] = set()
        gather_until: float | None = None
        with self._lock:
            self._dispatching = True
            self._stopping.clear()
        listen_stop = threading.Event()
        poll = self.config.poll_interval
        if self.queue.listen(self._wake.set, listen_stop):
            poll = max(poll, self.config.idle_poll_interval)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ttns-heal") as healer, \
                ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ttns-job") as pool, \
                ThreadPoolExecutor(max_workers=self.EXPRESS_THREADS, thread_name_prefix="ttns-express") as express, \
                ThreadPoolExecutor(max_workers=self.URGENT_THREADS, thread_name_prefix="ttns-urgent") as urgent, \
                ThreadPoolExecutor(max_workers=max(2, threads // 2), thread_name_prefix="ttns-resume") as resumer:
            self._healer = healer
            with self._lock:
                self._resumer = resumer
            while not stop.is_set():
                self._wake.clear()
                futures = {f for f in futures if not f.done()}
                with self._lock:
                    few = bool(self._handoffs) and len(self._claimed) > len(self._parked)
                if few:
                    # Successes while other claimed jobs are still running: give those a moment
                    # (GATHER) to finish, so one commit carries a batch instead of one job at a time.
                    now = time.monotonic()
                    gather_until = gather_until or now + self.GATHER
                    if now < gather_until:
                        self._wake.wait(gather_until - now)
                        continue
                gather_until = None
                with self._lock:
                    handoffs, self._handoffs = self._handoffs, []
                    parked = min(len(self._parked), self.config.max_parked)
                    skip, in_lanes = self._full_lanes()
                    want = max(0, capacity + parked - (len(self._claimed) - in_lanes))
                try:
                    claimed = self._settle(handoffs, want, skip)
                except Exception:
                    log.exception("claim failed; retrying")
                    stop.wait(min(5.0, self.config.poll_interval * 10))
                    continue
                for job in claimed:
                    with self._lock:
                        self._claimed[job.id] = job
                    # Express kinds (Registry.handler) never wait in the pool's queue behind claimed jobs,
                    # urgent ones not even behind express ones (stock pushes reading NetSuite).
                    lane = pool
                    if self.registry.is_urgent(job.kind):
                        lane = urgent
                    elif self.registry.is_express(job.kind):
                        lane = express
                    futures.add(lane.submit(self.process, job))
                # Until a thread hands over a success or frees itself, or the poll interval passes
                # (new jobs may be due). A wake-up during this cycle skips the wait.
                self._idle(stop, poll if not claimed else self.config.poll_interval)
            self._shutdown(futures)
            self._healer = None  # what is left heals on this thread; the healer finishes its queue on exit
            with self._lock:
                self._resumer = None
        listen_stop.set()
        hb_stop.set()
        heart.join(timeout=5)
        if self.peers is not None:
            try:
                self.peers.leave(self.peer_id)
            except Exception:
                log.exception("could not deregister worker process %s", self.peer_id)
        log.info("worker stopped", extra={"worker": self.name, "stats": dict(self.stats)})

    def _idle(self, stop: threading.Event, seconds: float) -> None:
        """Wait until woken (a success handed over, a thread freed, a job enqueued), ``seconds`` pass or
        ``stop`` is set."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, 0.25)):
                return

    def _full_lanes(self) -> tuple[list[str], int]:
        """The kinds whose lane (express, urgent) already has as many claimed jobs as twice its threads (the
        claim leaves them queued), and how many claimed jobs are in those lanes (they do not take the job
        threads' room). Before, a backlog of one lane's kinds (NetSuite's inventory events, one per sales
        order written) took the whole claim room while the job threads idled with thousands of order syncs
        queued (PostgreSQL burst, README "RESTlet path"). Call with ``_lock`` held."""
        express = urgent = 0
        for job in self._claimed.values():
            if self.registry.is_urgent(job.kind):
                urgent += 1
            elif self.registry.is_express(job.kind):
                express += 1
        skip: list[str] = []
        if urgent >= 2 * self.URGENT_THREADS:
            skip += self.registry.urgent_kinds()
        if express >= 2 * self.EXPRESS_THREADS:
            skip += self.registry.express_kinds()
        return skip, express + urgent

    def _settle(self, handoffs: list[Done], want: int, skip_kinds: Sequence[str] = ()) -> list[Job]:
        """Commit the successes ``handoffs`` and claim up to ``want`` jobs in one transaction, then heal
        the exceptions of the completed jobs. If the transaction fails the successes stay pending and
        are retried with the next one (a success whose lease expires meanwhile is run again elsewhere)."""
        if not handoffs and want <= 0:
            return []
        try:
            lost, claimed = self.queue.complete_and_claim(handoffs, self.name, self.config.lease_seconds, want,
                                                          skip_kinds)
        except Exception:
            with self._lock:
                self._handoffs[:0] = handoffs
            raise
        gone = set(lost)
        completed = [d for d in handoffs if d.job.id not in gone]
        for jid in gone:
            log.warning("job %s finished after its lease was lost; the new owner decides", jid)
        with self._lock:
            self.stats["ok"] = self.stats.get("ok", 0) + len(completed)
            if gone:
                self.stats["lease_lost"] = self.stats.get("lease_lost", 0) + len(gone)
        if completed:
            healed = [d.job for d in completed]
            if self.queue.heals_exceptions:  # healed in the completion's own transaction
                healed = []
            if healed and self._healer is not None:  # off the dispatcher's path: its next commit need not wait
                self._healer.submit(self._heal, healed)
            elif healed:
                self._heal(healed)
            if log.isEnabledFor(logging.INFO):
                now = self.clock.now()
                for d in completed:
                    log.info("job done", extra={"job_id": d.job.id, "kind": d.job.kind, "key": d.job.key,
                                                "attempt": d.job.attempts,
                                                "ms": int((now - d.started_at).total_seconds() * 1000)})
        return claimed

    def _heal(self, jobs: list[Job]) -> None:
        try:
            self.exceptions.resolve_for_jobs(jobs)
        except Exception:
            log.exception("could not resolve exceptions healed by %d job(s)", len(jobs))

    def _take_handoffs(self) -> list[Done]:
        with self._lock:
            handoffs, self._handoffs = self._handoffs, []
        return handoffs

    def _shutdown(self, futures: set[Future[str]]) -> None:
        self._stopping.set()  # jobs claimed ahead and not started are released by their thread
        deadline = time.monotonic() + self.config.shutdown_grace
        pending = {f for f in futures if not f.done()}
        if pending or self._parked:
            log.info("finishing %d running job(s) before exit", len(pending) + len(self._parked))
        while (pending or self._parked) and time.monotonic() < deadline:
            self._flush_handoffs()
            self._wake.wait(0.05)
            self._wake.clear()
            pending = {f for f in pending if not f.done()}
        with self._lock:
            self._dispatching = False  # from now on a finishing thread completes on its own
        self._flush_handoffs()
        with self._lock:
            leftovers = list(self._inflight.values())
            unstarted = [j for j in self._claimed.values() if j.id not in self._inflight]
        for job, ctx in leftovers:
            ctx.lost.set()
            try:
                self.queue.release(job, started_at=ctx.started_at)
                log.warning("released job %s at shutdown", job.id)
            except LeaseLost:
                pass
        for job in unstarted:
            with contextlib.suppress(LeaseLost):
                self.queue.release(job, started_at=self.clock.now())

    def _flush_handoffs(self) -> None:
        handoffs = self._take_handoffs()
        if handoffs:
            try:
                self._settle(handoffs, 0)
            except Exception:
                log.exception("could not record %d finished job(s) at shutdown", len(handoffs))

    def _announce(self) -> None:
        """Say this process is alive; when the live set changed, tell ``on_peers``."""
        if self.peers is None:
            return
        try:
            live = self.peers.beat(self.peer_id, self.name, ttl=self.config.peer_interval * 3)
        except Exception:
            log.exception("could not register worker process %s", self.peer_id)
            return
        if live != self._known_peers:
            self._known_peers = live
            log.info("worker processes alive: %d", len(live), extra={"peers": len(live)})
            if self.on_peers is not None:
                try:
                    self.on_peers(live, self.peer_id)
                except Exception:
                    log.exception("reacting to the worker processes alive failed")

    def _heartbeat(self, stop: threading.Event) -> None:
        lease_every = max(0.05, self.config.lease_seconds / 3)
        peer_every = max(0.05, self.config.peer_interval)
        interval = min(lease_every, peer_every)
        last_lease = last_peer = time.monotonic()
        while not stop.wait(interval):
            now = time.monotonic()
            if now - last_peer >= peer_every - 1e-3:
                last_peer = now
                self._announce()
            if now - last_lease < lease_every - 1e-3:
                continue
            last_lease = now
            with self._lock:
                running = list(self._inflight.items())
                waiting = [j for j in self._claimed.values() if j.id not in self._inflight]
            # One transaction for all of them (many jobs may be parked, waiting for their batch call).
            try:
                lost = set(self.queue.extend_many([job for _, (job, _) in running] + waiting,
                                                  self.config.lease_seconds))
            except Exception:
                log.exception("heartbeat failed for %d job(s)", len(running) + len(waiting))
                continue
            for job_id, (_job, ctx) in running:
                if job_id not in lost:
                    continue
                with self._lock:
                    finished = job_id not in self._inflight
                if finished:  # it completed between the snapshot and the extend: nothing was lost
                    continue
                ctx.lost.set()
                log.warning("lost the lease of job %s", job_id)
            # A job claimed ahead whose extend found it gone started and finished meanwhile, or was
            # reclaimed: its run finds out through the fence.


def _spec_problem_for_a_person(exc: Exception) -> Exception:
    """An invalid mapping spec is fixed by a person, never by retrying: an admin exception naming the file,
    the key and the fix (not RETRIES_EXHAUSTED with a traceback)."""
    from bridge.mapping.specs import SpecError

    if not isinstance(exc, SpecError) or isinstance(exc, NeedsHumanError):
        return exc
    first = exc.problems[0] if exc.problems else None
    where = f"{first.file}{': ' + first.key if first and first.key else ''}" if first else "a mapping spec"
    more = f" (and {len(exc.problems) - 1} more problem(s))" if len(exc.problems) > 1 else ""
    return NeedsHumanError(
        f"mapping spec invalid: {where}: {first.problem if first else exc}{more}",
        code="SPEC_INVALID", owner="admin",
        fix_hint=f"{first.fix if first else 'correct the spec'}; `ttns specs check` lists every problem; then "
                 "restart the worker and replay",
        evidence=Evidence(details={"problems": [str(p) for p in exc.problems]}),
    )
