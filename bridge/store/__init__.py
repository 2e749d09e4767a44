"""Persistence: tables, the durable queue, and repositories, behind one ``Store`` facade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from bridge.clock import Clock, SystemClock
from bridge.crypto import SecretBox
from bridge.store.db import make_engine, migrations_current, upgrade
from bridge.store.queue import Job, JobQueue, JobSpec, SqlJobQueue
from bridge.store.repos import (
    ApiCalls,
    Audit,
    Cursors,
    Exceptions,
    Inbox,
    Links,
    OAuthStates,
    Peers,
    Shops,
    Users,
)
from bridge.store.security import ConsoleSessions, LoginThrottles
from bridge.store.tables import load_area_tables
from bridge.store.tables_monitoring import MonitoringStore


class Store:
    """Everything the bridge persists, on one engine (SQLite file or PostgreSQL)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        box: SecretBox | None = None,
        default_max_attempts: int = 8,
    ) -> None:
        load_area_tables()
        self.engine = engine
        self.clock = clock or SystemClock()
        self.queue: JobQueue = SqlJobQueue(engine, self.clock, default_max_attempts)
        self.inbox = Inbox(engine, self.clock)
        self.links = Links(engine, self.clock)
        self.cursors = Cursors(engine, self.clock)
        self.exceptions = Exceptions(engine, self.clock)
        self.audit = Audit(engine, self.clock)
        self.shops = Shops(engine, self.clock, box)
        self.oauth_states = OAuthStates(engine, self.clock)
        self.calls = ApiCalls(engine, self.clock)
        self.users = Users(engine, self.clock)
        self.peers = Peers(engine, self.clock)
        self.sessions = ConsoleSessions(engine, self.clock)
        self.throttles = LoginThrottles(engine, self.clock)
        self.monitoring = MonitoringStore(engine)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        box: SecretBox | None = None,
        migrate: bool = False,
        pool_size: int = 10,
        default_max_attempts: int = 8,
        checkpoints: bool = True,
    ) -> Store:
        if migrate:
            upgrade(url)
        return cls(
            make_engine(url, pool_size=pool_size, checkpoints=checkpoints), clock=clock, box=box,
            default_max_attempts=default_max_attempts,
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def migrations_current(self) -> bool:
        return migrations_current(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


__all__ = ["Job", "JobQueue", "JobSpec", "Store"]
