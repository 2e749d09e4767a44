"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify

from bridge.bootstrap import App

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    container: App = current_app.extensions["ttns"]
    checks: dict[str, str] = {}
    ok = True
    try:
        container.store.ping()
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if ok:
        try:
            current = container.store.migrations_current()
            checks["migrations"] = "current" if current else "pending: run `ttns db upgrade`"
            ok = current
        except Exception as exc:
            ok = False
            checks["migrations"] = f"unknown: {type(exc).__name__}"
    return jsonify(status="ready" if ok else "not ready", checks=checks), (200 if ok else 503)


def init_app(app: Flask, container: App) -> None:
    app.register_blueprint(bp)
