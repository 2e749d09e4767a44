"""The reference for ``ttns bench webhooks``: the least a webhook receiver can do, served like ``ttns web``.

    python -m bridge.benchmarks.bare_webhook HOST:PORT

A Flask app that verifies TikTok's HMAC (the same ``bridge.tiktok.webhooks.verify``) and inserts the raw body
as one row of ``bare_inbox`` — nothing else: no parsing, no routing, no jobs, no duplicate check, no metrics.
It runs under gunicorn with the settings ``ttns web`` uses (``TTNS_WEB_WORKERS`` x ``TTNS_WEB_THREADS``
gthread workers) on the same database with the same durability (SQLite: WAL, ``synchronous=FULL``,
checkpoints left to the worker processes, the write lock taken with the project's short polls rather than
SQLite's sleeping busy handler, which loses the lock to the workers for seconds; PostgreSQL: its defaults).
The database comes from ``TTNS_DATABASE_URL``, the app key and secret from ``TTNS_TIKTOK_APP_KEY`` /
``TTNS_TIKTOK_APP_SECRET``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from typing import Any

from flask import Flask, Response, request

from bridge.store.db import _begin_immediate
from bridge.tiktok.webhooks import verify

CREATE_TABLE = "CREATE TABLE IF NOT EXISTS bare_inbox (id {pk}, body {blob} NOT NULL)"


def create_table(url: str) -> None:
    """The reference's one table, in the benchmark's database."""
    from sqlalchemy import text

    from bridge.store.db import make_engine

    pg = url.startswith("postgresql")
    engine = make_engine(url, pool_size=0 if not pg else 1)
    with engine.begin() as c:
        c.execute(text(CREATE_TABLE.format(pk="BIGSERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY",
                                           blob="BYTEA" if pg else "BLOB")))
    engine.dispose()


def _connect(url: str) -> Any:
    if url.startswith("postgresql"):
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "wal_autocheckpoint=0", "busy_timeout=60000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def create_app() -> Flask:
    url, key, secret = (os.environ[k] for k in ("TTNS_DATABASE_URL", "TTNS_TIKTOK_APP_KEY", "TTNS_TIKTOK_APP_SECRET"))
    pg = url.startswith("postgresql")
    insert = "INSERT INTO bare_inbox (body) VALUES (%s)" if pg else \
        "INSERT INTO bare_inbox (body) VALUES (?)"
    local = threading.local()
    app = Flask("bare")

    @app.post("/webhooks/tiktok")
    def webhook() -> Response:
        raw = request.get_data(cache=False)
        if not verify(key, secret, raw, request.headers.get("Authorization")):
            return Response(b"", status=401)
        if not hasattr(local, "conn"):
            local.conn = _connect(url)
        if pg:
            local.conn.execute(insert, (raw,))
        else:
            _begin_immediate(local.conn)
            local.conn.execute(insert, (raw,))
            local.conn.execute("COMMIT")
        return Response(b"", status=200)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b"ok", status=200)

    return app


def main() -> None:
    from gunicorn.app.base import BaseApplication

    from bridge.settings import Settings

    s = Settings()
    options = {"bind": sys.argv[1], "workers": s.web_workers, "threads": s.web_threads, "worker_class": "gthread",
               "timeout": 60, "graceful_timeout": 20, "accesslog": None, "control_socket_disable": True}

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for k, v in options.items():
                if k in self.cfg.settings:
                    self.cfg.set(k, v)

        def load(self) -> Any:
            return create_app()

    App().run()


if __name__ == "__main__":
    main()
