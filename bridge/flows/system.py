"""House-keeping jobs every deployment runs."""

from __future__ import annotations

from typing import Any

from bridge.worker.registry import Registry
from bridge.worker.runner import JobContext


def noop(ctx: JobContext) -> dict[str, Any]:
    """A job that does nothing: used by `ttns bench queue` and health probes of the worker."""
    return {"ok": True}


def register(registry: Registry, container: Any) -> None:
    registry.handler("system.noop", noop)
