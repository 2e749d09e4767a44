from __future__ import annotations

from pathlib import Path

from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.web import create_app


def test_healthz_and_readyz(sqlite_url: str) -> None:
    container = build(Settings(database_url=sqlite_url))
    client = create_app(root=container).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json["checks"] == {"database": "ok", "migrations": "current"}
    assert resp.headers["X-Correlation-Id"]
    container.close()


def test_readyz_fails_until_migrations_run(tmp_path: Path) -> None:
    container = build(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    resp = create_app(root=container).test_client().get("/readyz")
    assert resp.status_code == 503 and "ttns db upgrade" in resp.json["checks"]["migrations"]
    container.close()


def test_correlation_id_is_echoed_when_sane(sqlite_url: str) -> None:
    container = build(Settings(database_url=sqlite_url))
    client = create_app(root=container).test_client()
    assert client.get("/healthz", headers={"X-Correlation-Id": "abc-123"}).headers["X-Correlation-Id"] == "abc-123"
    assert client.get("/healthz", headers={"X-Correlation-Id": "<script>"}).headers["X-Correlation-Id"] != "<script>"
    assert client.get("/nope").status_code == 404
    container.close()
