"""Urgent work: code running inside ``urgent()`` is served first where threads wait for a shared,
scarce slot (the NetSuite concurrency governor). For short reads whose lateness costs more than the
wait they impose on others, e.g. the stock reads of an inventory push during a sales spike, which
would otherwise queue behind a burst of order writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_URGENT: ContextVar[bool] = ContextVar("bridge_urgent", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    return _URGENT.get()


__all__ = ["is_urgent", "urgent"]
