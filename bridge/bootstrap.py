"""The one place adapters are chosen and wired.

``build(settings)`` returns a ``Container``: the store, the registry with every flow's handlers,
schedules and routers, and lazily built clients for TikTok and NetSuite. The web app, the worker,
the scheduler and the CLI all start from here; nothing connects at import time.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.clock import Clock, SystemClock
from bridge.crypto import SecretBox
from bridge.settings import Settings
from bridge.store import Store
from bridge.worker.registry import Registry
from bridge.worker.runner import Worker, WorkerConfig

log = logging.getLogger("bridge.bootstrap")

# Flow modules, each exposing ``register(registry, container)``. A module that does not exist yet
# is skipped, so the foundation runs before every flow has landed.
FLOW_MODULES: tuple[str, ...] = (
    "bridge.flows.system",
    "bridge.flows.shops",
    "bridge.flows.orders",
    "bridge.flows.inventory",
    "bridge.flows.catalog",
    "bridge.flows.fulfillment",
    "bridge.flows.returns",
    "bridge.flows.settlement",
    "bridge.flows.ledger_audit",
    "bridge.flows.monitoring",
)


# Adapter modules, each exposing ``provide(container)`` (see ``bridge.adapters``).
ADAPTER_MODULES: tuple[str, ...] = (
    "bridge.tiktok.wiring",
    "bridge.netsuite.wiring",
    "bridge.adapters.orders",
    "bridge.adapters.inventory",
    "bridge.adapters.fulfillment",
    "bridge.adapters.settlement",
    "bridge.adapters.ledger_audit",
    "bridge.adapters.monitoring",
)


@dataclass
class Container:
    settings: Settings
    store: Store
    registry: Registry
    clock: Clock
    _lazy: dict[str, Any] = field(default_factory=dict)
    _factories: dict[str, Callable[[Container], Any]] = field(default_factory=dict)
    # Reentrant: a factory may get() the services it is built from.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def provide(self, name: str, factory: Callable[[Container], Any]) -> None:
        """Register a lazily built service (a client, the spec set …) under ``name``."""
        self._factories[name] = factory
        self._lazy.pop(name, None)

    def get(self, name: str) -> Any:
        """The service, built on first use, once even when many worker threads ask at the same time."""
        try:
            return self._lazy[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._lazy:
                try:
                    factory = self._factories[name]
                except KeyError:
                    raise KeyError(f"no service named {name!r} is wired in bridge.bootstrap") from None
                self._lazy[name] = factory(self)
            return self._lazy[name]

    def has(self, name: str) -> bool:
        """Whether ``name`` is wired: registered with ``provide`` or put in place with ``set``."""
        return name in self._factories or name in self._lazy

    def set(self, name: str, value: Any) -> None:
        """Put a ready-made service in place (tests and the demo pass fakes or sandbox clients)."""
        self._lazy[name] = value

    def worker(self, threads: int | None = None, name: str = "") -> Worker:
        s = self.settings
        return Worker(
            self.store.queue,
            self.registry,
            self.store.exceptions,
            services=self,
            clock=self.clock,
            peers=self.store.peers,
            on_peers=self._split_netsuite_share,
            config=WorkerConfig(
                threads=threads or s.worker_threads,
                lease_seconds=s.lease_seconds,
                poll_interval=s.worker_poll_interval,
                retry_base=s.retry_base_seconds,
                retry_cap=s.retry_cap_seconds,
                shutdown_grace=s.shutdown_grace_seconds,
                name=name,
            ),
        )

    def _split_netsuite_share(self, peers: list[str], me: str) -> None:
        """Worker processes split ``TTNS_NETSUITE_CONCURRENCY`` so together they never exceed it."""
        if not self.settings.netsuite_account:
            return
        from bridge.netsuite.governor import share_of, shared_governor
        from bridge.netsuite.wiring import account_of

        limit = self.settings.netsuite_concurrency
        share = share_of(limit, peers, me)
        shared_governor(account_of(self.settings).realm, limit).set_share(share)
        log.info("NetSuite concurrency: %d of %d slots for this process (%d worker processes)", share, limit,
                 len(peers))

    def close(self) -> None:
        for value in self._lazy.values():
            closer = getattr(value, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("closing a service failed")
        self.store.dispose()


def _load_specs(container: Container) -> Any:
    from bridge.mapping import load_all_specs

    return load_all_specs(container.settings.specs_dir)


def secret_box(settings: Settings) -> SecretBox | None:
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        return None
    return SecretBox(settings.secret_key)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = False,
    pool_size: int = 10,
    flows: tuple[str, ...] = FLOW_MODULES,
    role: str = "worker",
) -> Container:
    """``role`` is ``web`` for the request-serving tier (it leaves SQLite WAL checkpoints to the
    workers, so no webhook answer waits for one)."""
    clock = clock or SystemClock()
    store = Store.from_url(
        settings.database_url,
        clock=clock,
        box=secret_box(settings),
        migrate=migrate,
        pool_size=pool_size,
        default_max_attempts=settings.max_attempts,
        checkpoints=role != "web",
    )
    container = Container(settings=settings, store=store, registry=Registry(), clock=clock)
    container.provide("specs", _load_specs)
    for module_name in ADAPTER_MODULES:
        module = _optional_module(module_name)
        if module is not None:
            module.provide(container)
    for module_name in flows:
        module = _optional_module(module_name)
        if module is not None:
            module.register(container.registry, container)
    return container


def _optional_module(name: str) -> Any:
    """Import ``name`` if it exists (areas land one by one); any other import error is a bug."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
