"""Test databases: a migrated SQLite template copied per test, and one PostgreSQL database per run.

PostgreSQL is part of the test suite, not optional: if the server is unreachable the tests that
need it fail with the reason, they do not skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bridge.store.db import make_engine, upgrade
from bridge.store.tables import load_area_tables

PG_ADMIN_URL = os.environ.get("TTNS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    if not path.exists():
        upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"ttns-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def create_pg_database() -> str:
    """Create and migrate a uniquely named database; returns its URL."""
    name = f"ttns_test_{secrets.token_hex(5)}"
    admin = make_engine(PG_ADMIN_URL, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # make the reason obvious in CI
        raise RuntimeError(
            f"PostgreSQL is required by the test suite and is not reachable at {PG_ADMIN_URL}: {exc}. "
            "Start it (see .ci/run) or set TTNS_TEST_PG_URL."
        ) from exc
    finally:
        admin.dispose()
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = make_engine(PG_ADMIN_URL, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def truncate_all(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as c:
            names = ", ".join(f'"{t.name}"' for t in load_area_tables().sorted_tables)
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def pg_session_database() -> Iterator[str]:
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
