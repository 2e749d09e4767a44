from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests drain the queue right after an event: order syncs run at once instead of after the
# production coalescing window (tests/unit/test_orders_flow.py covers the window itself).
os.environ.setdefault("TTNS_ORDER_SYNC_DELAY_SECONDS", "0")

from tests.support.databases import fresh_sqlite, pg_session_database, sqlite_template, truncate_all


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database file of its own for this test."""
    return fresh_sqlite(_sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    yield from pg_session_database()


@pytest.fixture
def pg_url(_pg_database: str) -> Iterator[str]:
    """The run's PostgreSQL database, emptied before each test."""
    truncate_all(_pg_database)
    yield _pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each SQL contract test runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url
