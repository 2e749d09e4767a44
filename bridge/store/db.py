"""Engines for SQLite (embedded default, WAL) and PostgreSQL (scale-out), and the migrations."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, checkpoints: bool = True, synchronous: str = "FULL"
) -> Engine:
    """An engine for ``url`` with the settings the queue relies on.

    SQLite: WAL journal (readers never block the writer), a generous busy timeout, and every
    transaction opened with ``BEGIN IMMEDIATE`` so a transaction that reads then writes takes the
    write lock up front instead of failing with SQLITE_BUSY when several processes share the file.
    ``checkpoints=False`` (the web tier) leaves WAL checkpoints to the other processes: SQLite runs an
    automatic checkpoint inside whichever commit crosses the threshold, and a webhook answer should
    not be the one that pays for it.

    ``synchronous=FULL`` (the default) fsyncs the WAL at every commit, so an event the web tier
    acknowledged survives a power loss; under ``NORMAL`` the last commits before the loss can
    vanish (the file stays consistent). The cost is measured in docs/security.md.
    """
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        database = u.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 60}}
        if memory:
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
        else:
            kwargs["poolclass"] = NullPool if pool_size == 0 else None
            if kwargs["poolclass"] is None:
                del kwargs["poolclass"]
                kwargs["pool_size"] = pool_size
                kwargs["max_overflow"] = pool_size
        engine = create_engine(url, echo=echo, **kwargs)
        if not memory:
            _private_file(Path(database).expanduser())
        _install_sqlite_hooks(engine, wal=not memory, checkpoints=checkpoints, synchronous=synchronous)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600) before SQLite opens it; SQLite gives
    its -wal and -shm files the database file's permissions. An existing file is left as it is."""
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _install_sqlite_hooks(engine: Engine, *, wal: bool, checkpoints: bool = True, synchronous: str = "FULL") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is what runs.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            if not checkpoints:
                cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(conn.connection.dbapi_connection)


def _begin_immediate(dbapi_conn: Any, patience: float = 60.0) -> None:
    """Take SQLite's write lock with short, quick retries.

    SQLite's own busy handler sleeps in growing steps (1, 2, 5 … 100 ms) while another connection
    writes, so a webhook insert behind a worker's 1 ms transaction could wait tens of milliseconds.
    Writers here hold the lock for about a millisecond, so polling every 0.2 to 2 ms gets it almost as
    soon as it is free.
    """
    cur = dbapi_conn.cursor()
    deadline = time.monotonic() + patience
    pause = 0.0002
    cur.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                cur.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 1.5, 0.002)
    finally:
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (``ttns db upgrade``); every branch head by default, so
    features developed in parallel (each adding a revision) all apply."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated when several branch heads are applied."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision(url: str = "") -> str | None:
    """The latest revision(s) shipped with this version, comma-separated when branches exist."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    return ",".join(sorted(heads)) or None


def migrations_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("jobs")
