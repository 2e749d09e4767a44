"""What the worker can run, what the scheduler enqueues and how inbound events become jobs.

``bridge.bootstrap`` registers every flow's handlers (bound methods of the flow objects it built):

* ``handler(kind, fn)``: ``fn(ctx: JobContext) -> dict | None`` runs one job of that kind
  (``bridge.ports.jobs``);
* ``schedule(Schedule(...))``: a periodic job the scheduler enqueues once per time bucket;
* ``router(source, topic, fn)``: ``fn(event: InboundEvent) -> list[JobSpec]``, a *pure* function the
  web tier calls inside the inbox transaction, so the event and the jobs it causes commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.errors import FatalError
from bridge.ports.jobs import Handler, InboundEvent, Router
from bridge.store.queue import JobSpec


@dataclass(frozen=True)
class Schedule:
    """Enqueue ``kind`` every ``every_seconds`` (or at ``cron``, a 5-field UTC crontab)."""

    name: str
    kind: str
    every_seconds: int | None = None
    cron: str | None = None
    key: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.every_seconds is None) == (self.cron is None):
            raise ValueError(f"schedule {self.name}: give exactly one of every_seconds or cron")




class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._schedules: dict[str, Schedule] = {}
        self._routers: dict[tuple[str, str], Router] = {}
        self._express: set[str] = set()
        self._urgent: set[str] = set()

    def handler(self, kind: str, fn: Handler, *, express: bool = False, urgent: bool = False) -> None:
        """Register the handler of a job kind. ``express``: short jobs whose lateness costs more than
        the wait they impose (stock pushes in a spike); the worker runs them on threads of their own
        instead of behind the jobs it already claimed. ``urgent``: express jobs that call no NetSuite
        and must not wait even behind the express ones (a TikTok sale counted, a buffer raised on
        TikTok): a third set of threads runs only them."""
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        self._handlers[kind] = fn
        if urgent:
            self._urgent.add(kind)
        elif express:
            self._express.add(kind)

    def is_express(self, kind: str) -> bool:
        return kind in self._express or kind in self._urgent

    def is_urgent(self, kind: str) -> bool:
        return kind in self._urgent

    def express_kinds(self) -> list[str]:
        """The kinds registered ``express`` (and not ``urgent``): they run on the express lane."""
        return sorted(self._express - self._urgent)

    def urgent_kinds(self) -> list[str]:
        return sorted(self._urgent)

    def get(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise FatalError(f"no handler registered for job kind {kind!r}") from None

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def schedule(self, sched: Schedule) -> None:
        self._schedules[sched.name] = sched

    def schedules(self) -> list[Schedule]:
        return list(self._schedules.values())

    def router(self, source: str, topic: str, fn: Router) -> None:
        self._routers[(source, topic)] = fn

    def route(self, event: InboundEvent) -> list[JobSpec] | None:
        """Jobs for ``event``, or None when no flow handles its topic (stored and skipped)."""
        fn = self._routers.get((event.source, event.topic))
        if fn is None:
            return None
        return fn(event)

    def topics(self, source: str) -> list[str]:
        return sorted(t for s, t in self._routers if s == source)


__all__ = ["InboundEvent", "Registry", "Router", "Schedule"]
