"""TikTok Shop webhook signatures and envelopes.

``Authorization`` = lower-hex HMAC-SHA256(key=app_secret, msg=app_key + raw body). There is no
timestamp inside the signature: replays are harmless because the inbox dedupes on
``tts_notification_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

# Webhook ``type`` numbers the bridge's flows use, and the subscription ``event_type`` of each.
ORDER_STATUS_CHANGE = 1
RECIPIENT_ADDRESS_UPDATE = 3
PACKAGE_UPDATE = 4
PRODUCT_STATUS_CHANGE = 5
SELLER_DEAUTHORIZATION = 6
UPCOMING_AUTHORIZATION_EXPIRATION = 7
CANCELLATION_STATUS_CHANGE = 11
RETURN_STATUS_CHANGE = 12
PRODUCT_INFORMATION_CHANGE = 15
PRODUCT_CREATION = 16
FBT_INVENTORY_UPDATE = 24
INVENTORY_STATUS_CHANGE = 27

EVENT_TYPES: dict[int, str] = {
    ORDER_STATUS_CHANGE: "ORDER_STATUS_CHANGE",
    RECIPIENT_ADDRESS_UPDATE: "RECIPIENT_ADDRESS_UPDATE",
    PACKAGE_UPDATE: "PACKAGE_UPDATE",
    PRODUCT_STATUS_CHANGE: "PRODUCT_STATUS_CHANGE",
    SELLER_DEAUTHORIZATION: "SELLER_DEAUTHORIZATION",
    UPCOMING_AUTHORIZATION_EXPIRATION: "UPCOMING_AUTHORIZATION_EXPIRATION",
    CANCELLATION_STATUS_CHANGE: "CANCELLATION_STATUS_CHANGE",
    RETURN_STATUS_CHANGE: "RETURN_STATUS_CHANGE",
    PRODUCT_INFORMATION_CHANGE: "PRODUCT_INFORMATION_CHANGE",
    PRODUCT_CREATION: "PRODUCT_CREATION",
    FBT_INVENTORY_UPDATE: "FBT_INVENTORY_UPDATE",
    INVENTORY_STATUS_CHANGE: "INVENTORY_STATUS_CHANGE",
}

# Topics the Update Shop Webhook API cannot subscribe (its event_type enum lacks them): they are
# switched on in the app's webhook settings in Partner Center (docs/tiktok.md, "Going live").
APP_LEVEL_EVENT_TYPES: frozenset[str] = frozenset({"FBT_INVENTORY_UPDATE", "INVENTORY_STATUS_CHANGE"})

# What ``subscribe`` registers for every connected shop (PUT /event/…/webhooks, one per type).
SUBSCRIBED_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES.values() if t not in APP_LEVEL_EVENT_TYPES)


def sign(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` header TikTok sends with ``body`` (tests and the sandbox use it)."""
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def verify(app_key: str, app_secret: str, body: bytes, authorization_header: str | None) -> bool:
    """True when ``authorization_header`` is the signature of ``body``; constant time."""
    if not app_key or not app_secret or not authorization_header:
        return False
    supplied = authorization_header.strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(sign(app_key, app_secret, body).encode("ascii"), supplied)


class MalformedWebhook(ValueError):
    """The body is not a TikTok webhook envelope (says which part is wrong, never echoes data)."""


@dataclass(frozen=True)
class Envelope:
    type: int
    notification_id: str
    shop_id: str
    timestamp: int | None
    data: dict[str, Any]
    raw: dict[str, Any]

    @property
    def topic(self) -> str:
        return str(self.type)

    @property
    def entity(self) -> str | None:
        return entity_for(self.shop_id, self.type, self.data)


def parse(body: bytes) -> Envelope:
    """Parse and check the envelope ``{type, tts_notification_id, shop_id, timestamp, data}``."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedWebhook("body is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise MalformedWebhook("body is not a JSON object")
    typ = raw.get("type")
    if isinstance(typ, bool) or not isinstance(typ, int | str) or not str(typ).isdigit():
        raise MalformedWebhook("missing or non-integer 'type'")
    nid = raw.get("tts_notification_id")
    if not isinstance(nid, str | int) or isinstance(nid, bool) or not str(nid).strip() or len(str(nid)) > 191:
        raise MalformedWebhook("missing 'tts_notification_id'")
    shop_id = raw.get("shop_id")
    if shop_id is None:
        shop_id = ""
    if not isinstance(shop_id, str | int) or isinstance(shop_id, bool) or len(str(shop_id)) > 64:
        raise MalformedWebhook("'shop_id' is not a string")
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MalformedWebhook("'data' is not an object")
    ts = raw.get("timestamp")
    return Envelope(
        type=int(typ),
        notification_id=str(nid),
        shop_id=str(shop_id),
        timestamp=ts if isinstance(ts, int) and not isinstance(ts, bool) else None,
        data=data,
        raw=raw,
    )


def entity_for(shop_id: str, typ: int, data: dict[str, Any]) -> str | None:
    """The entity key an event is about (``order:SHOP:ORDER`` …), for the console's timelines."""
    if not shop_id:
        return None
    order_id = data.get("order_id")
    if order_id:
        return f"order:{shop_id}:{order_id}"
    if typ in (SELLER_DEAUTHORIZATION, UPCOMING_AUTHORIZATION_EXPIRATION):
        return f"shop:{shop_id}"
    packages = data.get("package_list")
    if isinstance(packages, list) and packages and isinstance(packages[0], dict) and packages[0].get("package_id"):
        return f"package:{shop_id}:{packages[0]['package_id']}"
    product_id = data.get("product_id")
    if product_id:
        return f"product:{shop_id}:{product_id}"
    return None


__all__ = [
    "EVENT_TYPES",
    "SUBSCRIBED_EVENT_TYPES",
    "Envelope",
    "MalformedWebhook",
    "entity_for",
    "parse",
    "sign",
    "verify",
]
