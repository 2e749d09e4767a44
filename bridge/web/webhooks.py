"""``POST /webhooks/tiktok``: verify → persist → answer, nothing else.

The ``Authorization`` header must be the HMAC-SHA256 of app key + raw body under the app secret —
or, during a rotation, under ``TTNS_TIKTOK_APP_SECRET_PREVIOUS`` (checked in constant time):
otherwise 401 with an empty body and nothing stored. A body that is not a webhook envelope gets 400
and a log line. A valid event is committed to the inbox together
with the jobs its topic routes to (``bridge.web.ingest``), then answered 200 with an empty body —
a duplicate ``tts_notification_id`` too, without a second row. No outbound call, no extra query.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from bridge.bootstrap import App
from bridge.tiktok import webhooks as tts
from bridge.web.ingest import ingest

log = logging.getLogger("bridge.web.webhooks")

bp = Blueprint("webhooks", __name__)

_KEPT_HEADERS = ("User-Agent", "Content-Type", "Content-Length")


def _empty(status: int) -> Response:
    return Response(b"", status=status)


@bp.post("/webhooks/tiktok")
def tiktok_webhook() -> Response | tuple[Response, int]:
    container: App = current_app.extensions["ttns"]
    settings = container.settings
    raw = request.get_data(cache=False)
    secret = settings.tiktok_app_secret.get_secret_value() if settings.tiktok_app_secret else ""
    if not settings.tiktok_app_key or not secret:
        log.error("TikTok webhook refused: TTNS_TIKTOK_APP_KEY / TTNS_TIKTOK_APP_SECRET are not set")
        return _empty(401)
    previous = settings.tiktok_app_secret_previous.get_secret_value() if settings.tiktok_app_secret_previous else ""
    header = request.headers.get("Authorization")
    if not tts.verify(settings.tiktok_app_key, secret, raw, header):
        # During an app-secret rotation TikTok may still sign with the previous secret for a while.
        if not (previous and tts.verify(settings.tiktok_app_key, previous, raw, header)):
            log.warning("TikTok webhook refused: bad signature", extra={"bytes": len(raw)})
            return _empty(401)
        log.info("TikTok webhook signed with the previous app secret (TTNS_TIKTOK_APP_SECRET_PREVIOUS)")
    try:
        env = tts.parse(raw)
    except tts.MalformedWebhook as exc:
        log.warning("TikTok webhook refused: %s", exc, extra={"bytes": len(raw)})
        return jsonify(error=f"malformed webhook: {exc}"), 400
    headers = {h: request.headers[h] for h in _KEPT_HEADERS if h in request.headers}
    try:
        result = ingest(container, source="tiktok", event_id=env.notification_id, topic=env.topic,
                        shop_id=env.shop_id or None, body=raw, data=env.raw, entity=env.entity, headers=headers)
    except Exception:
        # Not stored: answer non-200 so TikTok retries (the polling backstop covers the rest).
        log.exception("TikTok webhook could not be stored", extra={"event_id": env.notification_id})
        return _empty(503)
    log.debug("TikTok webhook stored", extra={"event_id": env.notification_id, "status": result.status})
    return _empty(200)


def init_app(app: Flask, container: App) -> None:
    app.register_blueprint(bp)
