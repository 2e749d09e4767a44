"""JSON for the console and scripts, behind the same login (session cookie; POSTs need ``X-CSRF-Token``).

``GET  /api/console/summary``                     open exceptions per owner, firing alerts, monitors, backlog;
``GET  /api/console/exceptions?owner=&status=``   one page of exceptions (evidence redacted);
``POST /api/console/exceptions/<id>/<action>``    replay | resolve | ignore (``{"note": …}``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from bridge.bootstrap import App
from bridge.web.auth import login_required

bp = Blueprint("console_api", __name__, url_prefix="/api/console")


def _c() -> App:
    c: App = current_app.extensions["ttns"]
    return c


@bp.get("/summary")
@login_required
def summary() -> Response:
    from bridge.alerts import AlertStore
    from bridge.flows.monitoring import latest_readings
    from bridge.web.console import queries as q

    c = _c()
    now = c.clock.now()
    flows = q.flow_stats(c.store.engine, now, c.registry.kinds())
    return jsonify(
        exceptions_open=q.exception_counts(c.store.engine).get("open", {}),
        alerts_firing=AlertStore(c.store.engine).count("firing"),
        monitors={name: {"status": r.status, "value": None if r.value is None else str(r.value),
                         "threshold": None if r.threshold is None else str(r.threshold), "at": r.at.isoformat()}
                  for name, r in latest_readings(c.store).items()},
        flows={f.flow: {"backlog": f.backlog, "scheduled": f.queued_later, "done_hour": f.done_hour,
                        "errors_hour": f.errors_hour, "open_exceptions": f.open_exceptions,
                        "stopped_jobs": f.failed + f.dead,
                        "run_ms": f.run_ms, "enqueue_to_done_s": f.e2e_s} for f in flows},
        at=now.isoformat(),
    )


@bp.get("/exceptions")
@login_required
def exceptions() -> Any:
    from bridge.errors import redact_mapping
    from bridge.web.console import queries as q

    owner = request.args.get("owner") or None
    status = request.args.get("status", "open")
    page = request.args.get("page", "1")
    if (owner and owner not in q.OWNERS) or status not in ("open", "resolved", "ignored") or not page.isdigit() \
            or int(page) < 1:
        return jsonify(error="owner must be ops|finance|admin, status open|resolved|ignored, page ≥ 1"), 400
    rows, pg = q.exceptions_page(_c().store.engine, status=status, owner=owner, entity=None, code=None,
                                 page=int(page), size=100)
    keep = ("id", "code", "owner", "status", "title", "fix_hint", "entity", "shop_id", "occurrences", "replays",
            "job_kind", "correlation_id")
    items = [{**{k: r[k] for k in keep}, "evidence": redact_mapping(r["evidence"]),
              "first_seen": r["first_seen"].isoformat(), "last_seen": r["last_seen"].isoformat()} for r in rows]
    return jsonify(items=items, page=pg.number, pages=pg.pages, total=pg.total)


@bp.post("/exceptions/<int:exc_id>/<action>")
@login_required
def exception_action(exc_id: int, action: str) -> Any:
    from bridge.web.console.views import apply_action

    if action not in ("replay", "resolve", "ignore"):
        return jsonify(error="action must be replay, resolve or ignore"), 404
    if _c().store.exceptions.get(exc_id) is None:
        return jsonify(error=f"no exception {exc_id}"), 404
    body = request.get_json(silent=True) or {}
    note = str(body.get("note") or "")[:500] if isinstance(body, dict) else ""
    ok, message = apply_action(exc_id, action, note)
    return jsonify(ok=ok, message=message), (200 if ok else 409)


def init_app(app: Flask, container: App) -> None:
    from bridge.web import auth

    auth.init_app(app, container)
    app.register_blueprint(bp)
