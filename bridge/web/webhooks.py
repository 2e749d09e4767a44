"""``POST /webhooks/tiktok``: verify → persist → answer, nothing else.

The ``Authorization`` header must be the HMAC-SHA256 of app key + raw body under the app secret —
or, during a rotation, under ``TTNS_TIKTOK_APP_SECRET_PREVIOUS`` (checked in constant time):
otherwise 401 with an empty body and nothing stored. A body that is not a webhook envelope gets 400
and a log line. A valid event is committed to the inbox together
with the jobs its topic routes to (``bridge.web.ingest``), then answered 200 with an empty body —
a duplicate ``tts_notification_id`` too, without a second row. No outbound call, no extra query.

The answer is decided by ``answer`` (no framework in it). A webhook with a ``Content-Length`` within the
request limit reaches it through ``FastPath``, a WSGI layer in front of Flask, so the endpoint a livestream
drives at hundreds of requests a second does not pay for Flask's request context, URL matching and hooks;
every other request, and a webhook without a usable length, goes through Flask's view, which calls the same
``answer``. Both give the same answer and the same headers (``bridge.web.response_headers``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from bridge.bootstrap import App
from bridge.logs import reset_correlation, set_correlation
from bridge.tiktok import webhooks as tts
from bridge.web.headers import request_correlation_id
from bridge.web.ingest import ingest

log = logging.getLogger("bridge.web.webhooks")

bp = Blueprint("webhooks", __name__)

PATH = "/webhooks/tiktok"
_KEPT_HEADERS = ("User-Agent", "Content-Type", "Content-Length")
_REASONS = {200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 500: "INTERNAL SERVER ERROR",
            503: "SERVICE UNAVAILABLE"}


def answer(container: App, raw: bytes, authorization: str | None, headers: dict[str, str]) -> tuple[int, bytes]:
    """The status and body answering a TikTok webhook ``raw`` signed ``authorization``; ``headers`` are the
    request's headers kept with the event (``_KEPT_HEADERS``)."""
    settings = container.settings
    secret = settings.tiktok_app_secret.get_secret_value() if settings.tiktok_app_secret else ""
    if not settings.tiktok_app_key or not secret:
        log.error("TikTok webhook refused: TTNS_TIKTOK_APP_KEY / TTNS_TIKTOK_APP_SECRET are not set")
        return 401, b""
    if not tts.verify(settings.tiktok_app_key, secret, raw, authorization):
        # During an app-secret rotation TikTok may still sign with the previous secret for a while.
        previous = settings.tiktok_app_secret_previous.get_secret_value() if settings.tiktok_app_secret_previous \
            else ""
        if not (previous and tts.verify(settings.tiktok_app_key, previous, raw, authorization)):
            log.warning("TikTok webhook refused: bad signature", extra={"bytes": len(raw)})
            return 401, b""
        log.info("TikTok webhook signed with the previous app secret (TTNS_TIKTOK_APP_SECRET_PREVIOUS)")
    try:
        env = tts.parse(raw)
    except tts.MalformedWebhook as exc:
        log.warning("TikTok webhook refused: %s", exc, extra={"bytes": len(raw)})
        return 400, json.dumps({"error": f"malformed webhook: {exc}"}).encode() + b"\n"
    try:
        result = ingest(container, source="tiktok", event_id=env.notification_id, topic=env.topic,
                        shop_id=env.shop_id or None, body=raw, data=env.raw, entity=env.entity, headers=headers)
    except Exception:
        # Not stored: answer non-200 so TikTok retries (the polling backstop covers the rest).
        log.exception("TikTok webhook could not be stored", extra={"event_id": env.notification_id})
        return 503, b""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("TikTok webhook stored", extra={"event_id": env.notification_id, "status": result.status})
    return 200, b""


def _response(status: int, body: bytes) -> Response:
    if not body:
        return Response(b"", status=status)
    return Response(body, status=status, mimetype="application/json")


@bp.post(PATH)
def tiktok_webhook() -> Response:
    container: App = current_app.extensions["ttns"]
    raw = request.get_data(cache=False)
    headers = {h: request.headers[h] for h in _KEPT_HEADERS if h in request.headers}
    return _response(*answer(container, raw, request.headers.get("Authorization"), headers))


_ENVIRON_KEPT = (("HTTP_USER_AGENT", "User-Agent"), ("CONTENT_TYPE", "Content-Type"),
                 ("CONTENT_LENGTH", "Content-Length"))


class FastPath:
    """WSGI in front of Flask that answers ``POST /webhooks/tiktok`` itself (module docstring): the same
    ``answer``, correlation id, headers and acknowledgement metric as the Flask view, and a JSON 500 with the
    correlation id for an unexpected error. Anything else goes to ``next_app``."""

    def __init__(self, next_app: Callable[..., Iterable[bytes]], container: App, *, max_body: int,
                 headers: Callable[[set[str], str, float | None], list[tuple[str, str]]],
                 observe: Callable[[float], None]) -> None:
        self.next_app = next_app
        self.container = container
        self.max_body = max_body
        self.headers = headers
        self.observe = observe

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST" or not length.isdigit()
                or int(length) > self.max_body):
            return self.next_app(environ, start_response)
        started = time.perf_counter()
        cid = request_correlation_id(environ.get("HTTP_X_CORRELATION_ID"))
        token = set_correlation(cid)
        try:
            raw = environ["wsgi.input"].read(int(length)) if length != "0" else b""
            kept = {name: environ[key] for key, name in _ENVIRON_KEPT if environ.get(key)}
            status, body = answer(self.container, raw, environ.get("HTTP_AUTHORIZATION"), kept)
        except Exception:
            log.exception("unhandled error in POST %s", PATH)
            status, body = 500, json.dumps({"error": "internal error", "correlation_id": cid}).encode() + b"\n"
        finally:
            reset_correlation(token)
        content_type = "application/json" if body else "text/html; charset=utf-8"
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        headers += self.headers({"content-type", "content-length"}, cid, started)
        self.observe(time.perf_counter() - started)
        start_response(f"{status} {_REASONS.get(status, 'UNKNOWN')}", headers)
        return [body]


def init_app(app: Flask, container: App) -> None:
    app.register_blueprint(bp)
