"""The concurrency governor: the bridge's share of the account's one NetSuite request pool.

NetSuite counts concurrent REST, SuiteQL and RESTlet requests of an account in one pool (5 on a
Standard or development account) shared with every other integration, and refuses a request over
the limit at once (REST 429 ``CONCURRENCY_LIMIT_EXCEEDED``, RESTlet ``SSS_REQUEST_LIMIT_EXCEEDED``).
Every call of the process takes a slot here first, so the bridge never exceeds its configured share
(``TTNS_NETSUITE_CONCURRENCY``). When NetSuite still says the pool is full — someone else is using
it — the governor shrinks its effective limit (at most once per ``shrink_cooldown``), and grows it
back by one after each ``grow_after`` seconds without a refusal.

Several worker processes (on one machine or many) split the share between them: each registers in
the database and takes ``share_of(limit, peers, me)`` slots, so together they never exceed it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bridge.errors import Evidence, RetriableError
from bridge.priority import is_urgent


@dataclass(frozen=True)
class GovernorStats:
    limit: int
    effective: int
    in_flight: int
    peak: int
    acquired: int
    waited: int
    pool_full: int
    shrinks: int
    grows: int
    retries: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Governor:
    """A semaphore whose size adapts between 1 and ``limit``. Thread-safe."""

    def __init__(
        self,
        limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        grow_after: float = 30.0,
        shrink_cooldown: float = 2.0,
        load_window: float = 60.0,
        acquire_timeout: float = 60.0,
    ) -> None:
        if limit < 1:
            raise ValueError("the concurrency limit is at least 1")
        self.limit = limit
        self._clock = clock
        self._grow_after = grow_after
        self._shrink_cooldown = shrink_cooldown
        self._load_window = load_window
        self._acquire_timeout = acquire_timeout
        self._cond = threading.Condition()
        self._share = limit
        self._effective = limit
        self._in_flight = 0
        self._urgent_waiting = 0
        self._peak = 0
        self._last_change = clock()
        self._last_pool_full: float | None = None
        self._last_shrink: float | None = None
        self._counts = {"acquired": 0, "waited": 0, "pool_full": 0, "shrinks": 0, "grows": 0, "retries": 0}

    # -- slots ----------------------------------------------------------------------------------
    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the effective slots for the duration of a NetSuite request."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self, timeout: float | None = None) -> None:
        """Take a slot; callers inside ``bridge.priority.urgent()`` get the next free slot before
        the others waiting."""
        deadline = time.monotonic() + (self._acquire_timeout if timeout is None else timeout)
        urgent = is_urgent()
        with self._cond:
            self._maybe_grow()
            if urgent:
                self._urgent_waiting += 1
            try:
                if self._blocked(urgent):
                    self._counts["waited"] += 1
                while self._blocked(urgent):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise RetriableError(
                            "no NetSuite concurrency slot became free in time",
                            Evidence.of("netsuite", "governor", details_in_flight=self._in_flight),
                            retry_after=5.0,
                        )
                    self._cond.wait(min(remaining, 1.0))
                    self._maybe_grow()
            finally:
                if urgent:
                    self._urgent_waiting -= 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            self._counts["acquired"] += 1

    def _blocked(self, urgent: bool) -> bool:
        return self._in_flight >= self._effective or (not urgent and self._urgent_waiting > 0)

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            if self._urgent_waiting:
                self._cond.notify_all()  # the urgent waiter among them takes it
            else:
                self._cond.notify()

    # -- feedback -------------------------------------------------------------------------------
    def pool_full(self) -> None:
        """NetSuite refused a call because the account pool is full: shrink (once per cooldown)."""
        with self._cond:
            now = self._clock()
            self._counts["pool_full"] += 1
            self._last_pool_full = now
            cooled = self._last_shrink is None or now - self._last_shrink >= self._shrink_cooldown
            if self._effective > 1 and cooled:
                # One congestion episode reaches many threads at once; the cooldown makes it count once.
                self._effective = max(1, self._effective - max(1, self._effective // 4))
                self._counts["shrinks"] += 1
                self._last_shrink = self._last_change = now

    def success(self) -> None:
        """A call went through: time may have come to grow back by one."""
        with self._cond:
            self._maybe_grow()

    def resize(self, limit: int) -> None:
        """Change the configured share; the effective limit never exceeds it."""
        if limit < 1:
            raise ValueError("the concurrency limit is at least 1")
        with self._cond:
            whole = self._share == self.limit  # not split with other processes
            self.limit = limit
            self._share = limit if whole else min(self._share, limit)
            self._effective = min(self._effective, self._share)
            self._cond.notify_all()

    def set_share(self, share: int) -> None:
        """This process's part of the configured limit (the rest belongs to other worker processes)."""
        share = max(1, min(share, self.limit))
        with self._cond:
            if share == self._share:
                return
            grew = share > self._share
            self._share = share
            # A smaller share applies at once; a larger one is the other processes' slots freed: use it now.
            self._effective = share if grew else min(self._effective, share)
            self._cond.notify_all()

    @property
    def share(self) -> int:
        with self._cond:
            return self._share

    def retried(self) -> None:
        with self._cond:
            self._counts["retries"] += 1

    def _maybe_grow(self) -> None:
        if self._effective >= self._share:
            return
        now = self._clock()
        quiet_since = max(self._last_change, self._last_pool_full or self._last_change)
        if now - quiet_since >= self._grow_after:
            self._effective += 1
            self._counts["grows"] += 1
            self._last_change = now
            self._cond.notify()

    # -- reading --------------------------------------------------------------------------------
    @property
    def effective(self) -> int:
        with self._cond:
            return self._effective

    def under_load(self) -> bool:
        """Whether NetSuite's pool looks saturated (a recent refusal, or every slot of ours busy)."""
        with self._cond:
            recent = self._last_pool_full is not None and self._clock() - self._last_pool_full <= self._load_window
            return recent or self._in_flight >= self._effective

    def stats(self) -> GovernorStats:
        with self._cond:
            c = self._counts
            return GovernorStats(self.limit, self._effective, self._in_flight, self._peak, c["acquired"], c["waited"],
                                 c["pool_full"], c["shrinks"], c["grows"], c["retries"])


def share_of(limit: int, peers: list[str], me: str) -> int:
    """Slots of ``limit`` that worker process ``me`` takes when ``peers`` (every live process, ``me``
    included, in the same order everywhere) split it: the remainder goes to the first ones. At least 1,
    so more processes than slots oversubscribe by design (and the adaptive limit absorbs it)."""
    if me not in peers:
        peers = [*peers, me]
    n = len(peers)
    rank = peers.index(me)
    return max(1, limit // n + (1 if rank < limit % n else 0))


_shared: dict[str, Governor] = {}
_shared_lock = threading.Lock()


def shared_governor(account: str, limit: int) -> Governor:
    """The one governor of this process for ``account`` (every client of the account shares it).

    A later call with a different ``limit`` resizes it (configuration reloads are rare; the slots in
    use finish normally).
    """
    with _shared_lock:
        gov = _shared.get(account)
        if gov is None:
            gov = _shared[account] = Governor(limit)
        elif gov.limit != limit:
            gov.resize(limit)
        return gov


def all_governors() -> dict[str, GovernorStats]:
    """Stats of every shared governor (for ``/metrics``)."""
    with _shared_lock:
        return {name: gov.stats() for name, gov in _shared.items()}

