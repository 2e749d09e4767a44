"""The mapping specs port: what flows read from ``specs/*.yaml``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from bridge.mapping.specs import SpecModel, SpecSet

M = TypeVar("M", bound=SpecModel)


class Specs(Protocol):
    """The validated specs of one deployment."""

    def get(self, name: str, model: type[M], *, needs: tuple[str, ...] = ()) -> M:
        """The spec ``name`` as ``model``; ``SpecError`` when the file is missing, ``SpecNotReadyError``
        while it (or, with ``needs``, one of those keys) still holds a ``<SET ME>`` placeholder."""
        ...


class LazySpecs:
    """A ``Specs`` loaded on first use (once, even when many worker threads ask at the same time), so a
    process starts without reading the spec files and a command that needs none never fails on them."""

    def __init__(self, load: Callable[[], SpecSet]) -> None:
        self._load = load
        self._loaded: SpecSet | None = None
        self._lock = threading.Lock()

    def loaded(self) -> SpecSet:
        """The spec set, loading it now if no one has yet."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def forget(self) -> None:
        """Read the files again on the next use (after a command rewrote one)."""
        with self._lock:
            self._loaded = None

    def get(self, name: str, model: type[M], *, needs: tuple[str, ...] = ()) -> M:
        """``SpecSet.get`` on the loaded set."""
        return self.loaded().get(name, model, needs=needs)


__all__ = ["LazySpecs", "Specs"]
