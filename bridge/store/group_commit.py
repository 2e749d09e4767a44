"""Group commit: the writes of concurrent requests share one transaction and one commit.

A durable commit costs a WAL sync (SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``) and, on
SQLite, the one write lock. When each webhook commits on its own, those costs are paid once per request and in
series, so the intake rate is bounded by the disk's sync latency whatever the CPU. Here the first request to
arrive while no commit is under way becomes the *leader*: it takes every item waiting (up to ``max_batch``),
writes them in one transaction and commits; the items that arrive meanwhile wait and form the next group.
Nothing is answered before its commit: ``submit`` returns only once the transaction holding the item has
committed, and raises if it did not.

A group that fails as a whole is retried item by item, each in its own transaction, so one bad item fails
alone and the others still commit; a group whose connection the server had closed is first retried whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("error", "finished", "item", "result", "wake", "written")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.written = False
        self.finished = False
        self.wake = threading.Lock()  # held while the slot's thread waits; released once, to wake it
        self.wake.acquire()


class GroupCommit(Generic[T, R]):
    """``write(conn, items)`` must return one result per item, in order, and do nothing outside ``conn``'s
    transaction (its effects are only real once ``begin()``'s transaction commits).

    Each waiting thread is woken once, by the leader that wrote its item or that hands it the lead (the first
    item still waiting leads the next group): no thread wakes only to wait again, which under a burst cost more
    CPU than the writes (every commit woke every waiting request thread)."""

    def __init__(
        self,
        begin: Callable[[], AbstractContextManager[Connection]],
        write: Callable[[Connection, Sequence[T]], list[R]],
        *,
        max_batch: int = 64,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._begin = begin
        self._write = write
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Slot[T, R]] = []
        self._busy = False
        self._next: _Slot[T, R] | None = None  # handed the lead, not yet leading
        self.groups = 0  # transactions committed or tried (for tests and figures)
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` in the next group and return its result once that group has committed."""
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            lead, self._busy = not self._busy, True
        if not lead:
            try:
                slot.wake.acquire()  # finished, or handed the lead (its item is the first still waiting)
            except BaseException:
                self._abandon(slot)
                raise
        if not slot.finished:
            self._lead()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self) -> None:
        """Write the next group (this thread's item is its first), then wake its threads and hand the lead to
        the first item still waiting, if any."""
        with self._lock:
            self._next = None
            group = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
        try:
            self._run(group)
        finally:
            with self._lock:
                successor = self._next = self._waiting[0] if self._waiting else None
                self._busy = successor is not None
            for s in group[1:]:
                s.wake.release()
            if successor is not None:
                successor.wake.release()

    def _abandon(self, slot: _Slot[T, R]) -> None:
        """A waiting thread interrupted (KeyboardInterrupt in the main thread): its item leaves the queue unless
        a leader took it already; had it been handed the lead, it leads first, so the items behind it are not
        left waiting for a leader that is gone."""
        with self._lock:
            promoted = self._next is slot
            if not promoted and slot in self._waiting:
                self._waiting.remove(slot)
        if promoted:
            self._lead()

    def _run(self, group: list[_Slot[T, R]]) -> None:
        try:
            try:
                self._commit(group)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The server had closed the connection (a restart, a terminated backend): once more on a fresh
                # one. Had the commit gone through before the loss, the write's own idempotency tells.
                self._commit(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for slot in group:  # one bad item must not fail the others: each alone
                    try:
                        self._commit([slot])
                    except Exception as one:
                        slot.error = one
        finally:
            for slot in group:
                if not slot.written and slot.error is None:  # interrupted: not known to be written
                    slot.error = RuntimeError("the group commit was interrupted before this item was written")
                slot.finished = True

    def _commit(self, group: list[_Slot[T, R]]) -> None:
        self.groups += 1
        with self._begin() as conn:
            results = self._write(conn, [s.item for s in group])
            if len(results) != len(group):  # rolls back
                raise RuntimeError(f"group commit: {len(results)} results for {len(group)} items")
        # Only now, after the commit, does any item count as written.
        for slot, result in zip(group, results, strict=True):
            slot.result, slot.written = result, True
        self.items += len(group)
