"""``POST /netsuite/events``: signed events from our SuiteScript (user events, the Map/Reduce sweep).

Verify → persist → answer, nothing else: the signature over timestamp + "." + raw body with
``TTNS_NETSUITE_EVENTS_SECRET`` and a 5-minute window (401, nothing stored), the envelope
``{event_id, type, account, occurred_at, data}`` (400), then the inbox (``ingest``; a replayed
``event_id`` is a duplicate there and answers 200 with no effect) and **202**. SuiteScript pays 10
governance units and up to 45 s per call, so no outbound call happens here.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from bridge.bootstrap import App
from bridge.domain.keys import order_key
from bridge.errors import FatalError
from bridge.mapping.wire import loads_inbound
from bridge.netsuite.account import realm_of
from bridge.netsuite.events import SIGNATURE_HEADER, TIMESTAMP_HEADER, TOLERANCE_SECONDS, verify
from bridge.web.ingest import ingest

log = logging.getLogger("bridge.web.netsuite_events")

bp = Blueprint("netsuite_events", __name__)

MAX_EVENT_ID = 191  # the inbox's event_id column
MAX_TYPE = 64  # the inbox's topic column; our SuiteScript's types are a few words
KNOWN_TYPES = frozenset({
    "item_fulfillment.saved", "item_fulfillment.deleted", "inventory.changed", "sales_order.lines_closed",
    "inventory.sweep", "item.changed", "item.sweep",
})


class EnvelopeError(FatalError, ValueError):
    """The body is not the agreed envelope."""


def parse_envelope(raw: bytes) -> dict[str, Any]:
    """The envelope ``{event_id, type, account, occurred_at, data}``, checked; EnvelopeError says why not."""
    try:
        body = loads_inbound(raw)
    except RecursionError:
        raise EnvelopeError("body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise EnvelopeError("body is not JSON") from None
    if not isinstance(body, dict):
        raise EnvelopeError("body must be a JSON object")
    event_id, typ, data = body.get("event_id"), body.get("type"), body.get("data")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_EVENT_ID:
        raise EnvelopeError(f"event_id must be a non-empty string of at most {MAX_EVENT_ID} characters")
    if not isinstance(typ, str) or not typ.strip() or len(typ) > MAX_TYPE or not typ.isprintable():
        raise EnvelopeError(f"type must be a non-empty printable string of at most {MAX_TYPE} characters")
    if not isinstance(data, dict):
        raise EnvelopeError("data must be a JSON object")
    account = body.get("account")
    if account is not None and not isinstance(account, str):
        raise EnvelopeError("account must be a string")
    occurred = body.get("occurred_at")
    if occurred is not None:
        if not isinstance(occurred, str):
            raise EnvelopeError("occurred_at must be an ISO 8601 string")
        try:
            datetime.fromisoformat(occurred.replace("Z", "+00:00"))
        except ValueError:
            raise EnvelopeError("occurred_at must be an ISO 8601 timestamp") from None
    return body


def _entity(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(shop id, entity key) when the event names a TikTok order, for the order timeline."""
    shop = data.get("tiktok_shop_id")
    order = data.get("tiktok_order_id")
    if isinstance(shop, str) and shop and isinstance(order, str) and order:
        return shop, order_key(shop, order)
    return (shop if isinstance(shop, str) and shop else None), None


CLOCK_SKEW_CODE = "NETSUITE_CLOCK_SKEW"
CLOCK_SKEW_CURSOR = "netsuite.events.refused_clock_skew"


def _clock_skew(container: App, skew: float, timestamp: str) -> None:
    """A correctly signed event outside the time window: NetSuite's clock (or this host's) is off, and
    every push is refused until it is fixed. Say so where a person looks: an admin exception naming
    the offset (one open exception, its occurrences counting), and the offset for ``/metrics``."""
    offset = round(skew)
    direction = "behind" if offset > 0 else "ahead of"
    try:
        store = container.store
        store.exceptions.raise_(
            code=CLOCK_SKEW_CODE, owner="admin", entity="netsuite:clock",
            title=f"NetSuite events refused: NetSuite's clock is {abs(offset)} s {direction} this bridge's "
                  f"(allowed: {TOLERANCE_SECONDS} s)",
            fix_hint="Fix the clock that is off (NTP on the bridge's hosts; NetSuite's own time is authoritative). "
                     "Refused pushes (tracking, stock) stay recorded in NetSuite and the Map/Reduce sweep sends "
                     "them again once the clocks agree. A single very old offset can also be a replayed request.",
            evidence={"offset_seconds": offset, "tolerance_seconds": TOLERANCE_SECONDS, "event_timestamp": timestamp,
                      "received_at": container.clock.now().isoformat()},
        )
        store.cursors.set(CLOCK_SKEW_CURSOR, json.dumps({"offset_seconds": offset,
                                                         "at": container.clock.now().isoformat()}))
    except Exception:  # the refusal stands either way; the log line above already says why
        log.exception("could not record the NetSuite clock-skew exception")


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.post("/netsuite/events")
def receive() -> tuple[Response, int]:
    container: App = current_app.extensions["ttns"]
    settings = container.settings
    secret = settings.netsuite_events_secret.get_secret_value() if settings.netsuite_events_secret else ""
    if not secret:
        log.error("NetSuite event refused: TTNS_NETSUITE_EVENTS_SECRET is not set")
        return _error("NetSuite events are not configured on this bridge", 503)
    raw = request.get_data(cache=True)
    verdict = verify(secret, request.headers.get(TIMESTAMP_HEADER), raw, request.headers.get(SIGNATURE_HEADER),
                     now=time.time(), tolerance=TOLERANCE_SECONDS)
    if not verdict:
        log.warning("NetSuite event refused: %s", verdict.reason, extra={"remote": request.remote_addr})
        if verdict.skew is not None:
            _clock_skew(container, verdict.skew, request.headers.get(TIMESTAMP_HEADER, ""))
            return _error(f"timestamp outside the {TOLERANCE_SECONDS} s window: clocks are "
                          f"{int(verdict.skew)} s apart", 401)
        return _error("invalid signature", 401)
    try:
        env = parse_envelope(raw)
    except EnvelopeError as exc:
        log.warning("NetSuite event malformed: %s", exc, extra={"bytes": len(raw)})
        return _error(f"malformed event: {exc}", 400)
    account = env.get("account")
    if account and settings.netsuite_account and realm_of(account) != realm_of(settings.netsuite_account):
        # a refreshed sandbox keeps production's script parameters and secret: never mix its events in
        log.warning("NetSuite event from another account refused",
                    extra={"account": account, "event_id": env["event_id"]})
        return _error(f"event from account {account}; this bridge serves {realm_of(settings.netsuite_account)}", 403)
    shop_id, entity = _entity(env["data"])
    result = ingest(
        container, source="netsuite", event_id=env["event_id"], topic=env["type"], body=raw, data=env,
        shop_id=shop_id, entity=entity,
        headers={TIMESTAMP_HEADER: request.headers.get(TIMESTAMP_HEADER, ""),
                 "User-Agent": request.headers.get("User-Agent", "")},
    )
    if env["type"] not in KNOWN_TYPES:
        log.info("NetSuite event of an unknown type stored", extra={"type": env["type"], "inbox_id": result.inbox_id})
    if result.duplicate:
        return jsonify(status="duplicate", inbox_id=result.inbox_id), 200
    return jsonify(status="accepted", inbox_id=result.inbox_id, routed=result.status, jobs=result.jobs), 202


def init_app(app: Flask, container: App) -> None:
    app.register_blueprint(bp)
