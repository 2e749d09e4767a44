"""The example configuration loads as it is shipped; a typo in a configuration file is refused; `ttns db
backup` copies a live SQLite database and `ttns db restore` brings it back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.errors import ConfigurationError
from bridge.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TTNS_"):
            monkeypatch.delenv(key)


def test_the_example_configuration_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    cfg = tmp_path / "ttns.toml"
    cfg.write_text((ROOT / "deploy/ttns.toml.example").read_text())
    monkeypatch.setenv("TTNS_CONFIG", str(cfg))
    s = Settings()
    assert s.database_url == "sqlite:////var/lib/ttns/ttns.db" and s.public_url == "https://bridge.example.com"
    assert s.specs_dir == tmp_path / "mapping_specs"  # relative to the file's folder
    assert s.netsuite_private_key_file == tmp_path / "netsuite.pem"
    assert s.session_cookie_secure and s.environment == "production" and s.web_bind.startswith("127.0.0.1:")


def test_an_unknown_key_in_the_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               no_env: None) -> None:
    cfg = tmp_path / "ttns.toml"
    cfg.write_text('databse_url = "sqlite:///x.db"\n')
    monkeypatch.setenv("TTNS_CONFIG", str(cfg))
    with pytest.raises(ConfigurationError, match="did you mean 'database_url'"):
        Settings()
    res = CliRunner().invoke(main, ["config", "show"])
    assert res.exit_code == 78 and "unknown setting 'databse_url'" in res.output and "Traceback" not in res.output


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("SELECT count(*) FROM cursors").fetchone()[0])


def test_backup_while_writing_and_restore(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          no_env: None) -> None:
    from bridge.store import Store

    monkeypatch.setenv("TTNS_DATABASE_URL", sqlite_url)
    store = Store.from_url(sqlite_url)
    for i in range(200):
        store.cursors.set(f"before-{i}", "x" * 500)
    stop = threading.Event()

    def writer() -> None:  # the bridge keeps writing during the backup
        i = 0
        while not stop.is_set():
            store.cursors.set(f"during-{i}", "y" * 500)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        backup = tmp_path / "backups" / "ttns-1.db"
        res = CliRunner().invoke(main, ["db", "backup", str(backup)])
        assert res.exit_code == 0, res.output
    finally:
        stop.set()
        t.join()
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(backup) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
    backed_up = _rows(backup)
    assert backed_up >= 200
    # A second backup to the same file is refused unless forced.
    res = CliRunner().invoke(main, ["db", "backup", str(backup)])
    assert res.exit_code == 1 and "exists" in res.output and "--force" in res.output

    # Disaster: rows lost. Restore needs --yes, then the database is the backup again.
    store.cursors.set("after-backup", "z")
    res = CliRunner().invoke(main, ["db", "restore", str(backup)])
    assert res.exit_code == 2 and "--yes" in res.output
    store.dispose()
    res = CliRunner().invoke(main, ["db", "restore", str(backup), "--yes"])
    assert res.exit_code == 0, res.output
    live = Path(sqlite_url.removeprefix("sqlite:///"))
    assert _rows(live) == backed_up
    with sqlite3.connect(live) as c:
        assert c.execute("SELECT count(*) FROM cursors WHERE name = 'after-backup'").fetchone()[0] == 0
    assert CliRunner().invoke(main, ["db", "current"]).exit_code == 0

    # Not a backup: refused with one line.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    res = CliRunner().invoke(main, ["db", "restore", str(junk), "--yes"])
    assert res.exit_code == 1 and "not a SQLite database" in res.output and "Traceback" not in res.output


@pytest.mark.postgres
def test_postgresql_backup_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    """`ttns db backup` runs pg_dump, `ttns db restore` pg_restore into another (migrated) database."""
    from bridge.store import Store
    from tests.support.databases import create_pg_database, drop_pg_database

    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "scripts/bootstrap installs postgresql-client"
    source, target = create_pg_database(), create_pg_database()
    try:
        a = Store.from_url(source)
        for i in range(50):
            a.cursors.set(f"pg-{i}", str(i))
        a.dispose()
        monkeypatch.setenv("TTNS_DATABASE_URL", source)
        dump = tmp_path / "ttns.dump"
        res = CliRunner().invoke(main, ["db", "backup", str(dump)])
        assert res.exit_code == 0 and dump.stat().st_size > 0, res.output
        assert oct(dump.stat().st_mode & 0o777) == "0o600"
        monkeypatch.setenv("TTNS_DATABASE_URL", target)
        res = CliRunner().invoke(main, ["db", "restore", str(dump), "--yes"])
        assert res.exit_code == 0, res.output
        b = Store.from_url(target)
        assert [b.cursors.get(f"pg-{i}") for i in (0, 49)] == ["0", "49"]
        b.dispose()
        assert CliRunner().invoke(main, ["db", "current"]).exit_code == 0
    finally:
        drop_pg_database(source)
        drop_pg_database(target)
