"""The polling backstop's loop, one for every flow that has one (orders, cancellations, returns, FBT).

Webhooks can be lost (TikTok says so, DESIGN.md guarantee 1): each backstop periodically searches TikTok
for what changed since its last run, with an overlap, and enqueues a job per change. The loop is the
same for all of them: every active shop with the flow on; the window starts at the shop's cursor (this
poll's start the last time), or ``first_window`` before now the first time, less ``overlap``; the jobs
the flow lists are enqueued (a job already waiting absorbs its repeat); the cursor moves to this poll's
start. The flow says only what to search and which jobs to make of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from bridge.clock import Clock
from bridge.ports.queue import JobSpec
from bridge.ports.store import Repositories, Shop

# (shop, start of the search window with its overlap, this poll's start) -> the jobs to enqueue
JobsSince = Callable[[Shop, datetime, datetime], Iterable[JobSpec]]


def poll_shops(store: Repositories, clock: Clock, *, flow: str, cursor: str, first_window: timedelta,
               overlap: timedelta, jobs_since: JobsSince) -> dict[str, Any]:
    """Run one backstop poll over every active shop with ``flow`` on; the cursor of a shop is named
    ``{cursor}:{shop id}``. Returns ``{"enqueued": n}`` (jobs newly created)."""
    now = clock.now()
    enqueued = 0
    for shop in store.shops.list(status="active"):
        if not shop.flow_enabled(flow):
            continue
        name = f"{cursor}:{shop.id}"
        raw = store.cursors.get(name)
        since = (datetime.fromisoformat(raw) if raw else now - first_window) - overlap
        specs = list(jobs_since(shop, since, now))
        if specs:
            enqueued += sum(1 for r in store.queue.enqueue_many(specs) if r.created)
        store.cursors.set(name, now.isoformat())
    return {"enqueued": enqueued}


__all__ = ["JobsSince", "poll_shops"]
