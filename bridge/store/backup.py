"""``ttns db backup`` / ``ttns db restore``.

SQLite: SQLite's online backup API copies the database page by page while web, worker and scheduler
keep running (it restarts a step when a writer changes a page it has copied, and takes the WAL into
account), then the copy is checked (``PRAGMA integrity_check``) and moved into place; a backup is one
self-contained file. Restore copies a checked backup over the live database with the same API; the
bridge's processes must be stopped first.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` (the client tools of the
server's major version); the password goes through the environment, never the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bridge.errors import FatalError


class BackupError(FatalError):
    """What went wrong and what to do, for the operator (one line)."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    revision: str | None


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if database in ("", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up", "set TTNS_DATABASE_URL to a file")
    return Path(database)


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return None
    return ",".join(sorted(r[0] for r in rows)) or None


def _check(conn: sqlite3.Connection, what: str) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result[0] if result else 'no answer'}")


def backup(database_url: str, dest: Path, *, force: bool = False) -> BackupResult:
    url = make_url(database_url)
    dest = Path(dest).absolute()
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists", "give a new file name, or --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql":
        _pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={dest}"])
        os.chmod(dest, 0o600)
        return BackupResult(dest, dest.stat().st_size, None)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"no backup procedure for {url.get_backend_name()}")
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"the database file {source_path} does not exist", "check TTNS_DATABASE_URL")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    try:
        target = sqlite3.connect(partial)
        try:
            # Small steps: a writer waits at most one step for the copy (no long lock on a live bridge).
            source.backup(target, pages=256, sleep=0.005)
            target.execute("PRAGMA journal_mode=DELETE")  # a backup is one file, no -wal beside it
            _check(target, "the backup")
            revision = _revision(target)
        finally:
            target.close()
    finally:
        source.close()
    os.chmod(partial, 0o600)  # it holds encrypted tokens and the console's password hashes
    partial.replace(dest)
    return BackupResult(dest, dest.stat().st_size, revision)


def restore(database_url: str, source: Path) -> BackupResult:
    url = make_url(database_url)
    source = Path(source).absolute()
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    if url.get_backend_name() == "postgresql":
        _pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)])
        return BackupResult(source, source.stat().st_size, None)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"no restore procedure for {url.get_backend_name()}")
    target_path = _sqlite_path(url)
    backup_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            _check(backup_conn, f"the backup {source}")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database ({exc})") from None
        revision = _revision(backup_conn)
        if revision is None:
            raise BackupError(f"{source} is not a backup of the bridge (it has no migration record)")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(target_path, timeout=60)
        try:
            backup_conn.backup(target)
            _check(target, "the restored database")
        finally:
            target.close()
    finally:
        backup_conn.close()
    return BackupResult(target_path, target_path.stat().st_size, revision)


def _pg(tool: str, url: URL, args: list[str]) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is not installed",
                          "install the PostgreSQL client of the server's major version (Debian: postgresql-client)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    db_arg = ["--dbname", plain]
    proc = subprocess.run([exe, *db_arg, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if ln.strip()), f"exit code {proc.returncode}")
        raise BackupError(f"{tool} failed: {first}")


__all__ = ["BackupError", "BackupResult", "backup", "restore"]
