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


_EMPTY_SQL: dict[str, str] = {}


def truncate_all(url: str) -> None:
    """Every table of the schema emptied and its id sequences restarted, as ``TRUNCATE … RESTART
    IDENTITY CASCADE`` would, with DELETE: a test leaves a few rows, and TRUNCATE's new files per table
    cost 0.2–1 s per test (30 tables) where DELETE costs a few ms. Tables are emptied children first."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as c:
            sql = _EMPTY_SQL.get(url)
            if sql is None:
                names = [t.name for t in reversed(load_area_tables().sorted_tables)]
                owned = [str(r[0]) for r in c.execute(text(
                    "SELECT DISTINCT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                    "JOIN pg_class t ON d.refobjid = t.oid WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') "
                    "AND t.relname = ANY(:names)"), {"names": names})]
                sql = _EMPTY_SQL[url] = "; ".join(
                    [f'DELETE FROM "{n}"' for n in names] + [f"SELECT setval('\"{seq}\"', 1, false)" for seq in owned])
            c.exec_driver_sql(sql)
    finally:
        engine.dispose()


def pg_session_database() -> Iterator[str]:
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
