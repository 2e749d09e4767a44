"""The web tier: ``create_app()`` for gunicorn (``gunicorn 'bridge.web:create_app()'``).

A request verifies, persists and answers; nothing else happens in a request. Blueprints live in
their own modules, each exposing ``init_app(app, root)``; a module that has not landed yet is
skipped. Blueprints are module-level and find the wired bridge (``bridge.bootstrap.App``) with
``root_of(current_app)``, so several apps (tests, the demo) can live in one process.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from bridge.bootstrap import App, build
from bridge.logs import configure_logging, reset_correlation, set_correlation
from bridge.settings import Settings
from bridge.web.headers import request_correlation_id, response_headers

log = logging.getLogger("bridge.web")

BLUEPRINT_MODULES: tuple[str, ...] = (
    "bridge.web.health",
    "bridge.web.webhooks",
    "bridge.web.netsuite_events",
    "bridge.web.oauth",
    "bridge.web.console",
    "bridge.web.api",
    "bridge.web.metrics",
)



# Machine endpoints: signed by their sender, never a browser's, so no session cookie is read or written there.
SESSIONLESS_PATHS = frozenset({"/webhooks/tiktok", "/netsuite/events"})


class _SessionInterface(SecureCookieSessionInterface):
    """The console's signed-cookie session, not opened for ``SESSIONLESS_PATHS`` (Flask then gives them a null
    session): building the cookie serializer for every webhook costs more than the rest of Flask's work."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path in SESSIONLESS_PATHS:
            return None
        return super().open_session(app, request)


def create_app(settings: Settings | None = None, root: App | None = None) -> Flask:
    """The Flask app over ``root`` (built from ``settings`` for the web role when not given)."""
    if root is None:
        settings = settings or Settings()
        configure_logging(settings.log_level, settings.log_format)
        _refuse_broken_specs(settings)
        root = build(settings, role="web")
    settings = root.settings
    app = Flask("bridge.web")
    app.session_interface = _SessionInterface()
    session_keys = _session_keys(settings)
    app.config.update(
        SECRET_KEY=session_keys[0],
        SECRET_KEY_FALLBACKS=session_keys[1:],  # cookies signed by a process still on the previous key
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="ttns_session",
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["ttns"] = root
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)  # type: ignore[method-assign]

    @app.before_request
    def _correlation() -> None:
        g.started = time.perf_counter()
        g.correlation_id = request_correlation_id(request.headers.get("X-Correlation-Id"))
        # Every log line of this request carries the id (the JSON formatter reads the context variable).
        g.correlation_token = set_correlation(g.correlation_id)

    @app.teardown_request
    def _end_correlation(_exc: BaseException | None) -> None:
        token = g.pop("correlation_token", None)
        if token is not None:
            reset_correlation(token)

    @app.after_request
    def _headers(resp: Response) -> Response:
        # One look at the headers present, not ``setdefault``/``in`` per header: werkzeug raises and catches
        # a KeyError for each absent one, on every webhook answer.
        h = resp.headers
        for name, value in response_headers({k.lower() for k, _v in h.items()}, getattr(g, "correlation_id", ""),
                                            getattr(g, "started", None)):
            h.add(name, value)
        return resp

    @app.errorhandler(404)
    def _not_found(_e: Any) -> tuple[Response, int]:
        return jsonify(error="not found"), 404

    @app.errorhandler(405)
    def _method(_e: Any) -> tuple[Response, int]:
        return jsonify(error="method not allowed"), 405

    @app.errorhandler(413)
    def _too_large(_e: Any) -> tuple[Response, int]:
        return jsonify(error="request body too large"), 413

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> tuple[Response, int]:
        from werkzeug.exceptions import HTTPException

        if isinstance(e, HTTPException):
            return jsonify(error=e.description), e.code or 500
        log.exception("unhandled error in %s %s", request.method, request.path)
        return jsonify(error="internal error", correlation_id=getattr(g, "correlation_id", "")), 500

    for module_name in BLUEPRINT_MODULES:
        importlib.import_module(module_name).init_app(app, root)
    from bridge.web.metrics import ACK_KEY
    from bridge.web.webhooks import FastPath

    ack = app.extensions[ACK_KEY].labels("tiktok")
    app.wsgi_app = FastPath(app.wsgi_app, root, max_body=app.config["MAX_CONTENT_LENGTH"],  # type: ignore[method-assign]
                            headers=response_headers, observe=ack.observe)
    return app


def _refuse_broken_specs(settings: Settings) -> None:
    """The web tier does not start on broken mapping specs: each problem is logged with its file, key and
    fix, then start-up fails (gunicorn stops: "Worker failed to boot")."""
    from bridge.mapping import load_all_specs
    from bridge.mapping.specs import SpecError

    try:
        load_all_specs(settings.specs_dir)
    except SpecError as exc:
        for p in exc.problems:
            log.error("mapping spec invalid: %s%s: %s; fix: %s", p.file, f": {p.key}" if p.key else "", p.problem,
                      p.fix, extra={"spec_file": p.file, "spec_key": p.key})
        raise


def root_of(app: Flask) -> App:
    """The wired bridge this Flask app serves."""
    root: App = app.extensions["ttns"]
    return root


def _session_keys(settings: Settings) -> list[bytes]:
    """The cookie-signing keys, derived from TTNS_SECRET_KEY so there is one secret to manage: new
    cookies are signed with the first key's, cookies signed with any listed key's are accepted, so the
    processes of a rotation (some on ``old``, some on ``new,old``) accept each other's cookies. The
    cookie carries only a random session token and the CSRF token; the session itself is server-side."""
    import hashlib
    import secrets

    raw = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        return [secrets.token_bytes(32)]  # sessions then last as long as the process
    return [hashlib.sha256(b"ttns-session:" + k.encode()).digest() for k in keys]
