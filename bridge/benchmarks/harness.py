"""What the flash-sale benchmark and the chaos run share: a database to run on, the bridge's own
processes (``python -m bridge.cli …``), and which flows this build has."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def percentile(values: list[float], p: float) -> float | None:
    """The value at rank ``p``% of ``values`` (nearest index; None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(kind: str, work: Path, name: str, pg_admin_url: str) -> Iterator[str]:
    """A fresh SQLite file under ``work``, or a temporary PostgreSQL database dropped afterwards."""
    from bridge.benchmarks.queue import temporary_database

    if kind == "sqlite":
        work.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (work / f"{name}.db{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{work / f'{name}.db'}"
        return
    with temporary_database("postgresql", pg_admin_url) as url:
        yield url


def spawn(args: list[str], log_path: Path, env: dict[str, str], *,
          new_session: bool = False) -> subprocess.Popen[bytes]:
    """``ttns ARGS`` in its own process, output appended to ``log_path``; with ``new_session`` in its own
    process group too (so a tier that forks, gunicorn, can be killed whole with ``os.killpg``)."""
    log = log_path.open("ab")
    return subprocess.Popen([sys.executable, "-m", "bridge.cli", *args], cwd=REPO, env=env, stdout=log, stderr=log,
                            start_new_session=new_session)


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")
