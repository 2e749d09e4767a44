"""TikTok Shop webhook signatures and envelopes.

``Authorization`` = lower-hex HMAC-SHA256(key=app_secret, msg=app_key + raw body). There is no
timestamp inside the signature: replays are harmless because the inbox dedupes on
``tts_notification_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from bridge.domain.keys import order_key, shop_key
from bridge.errors import FatalError
from bridge.mapping.wire import loads_inbound
from bridge.store.storable import fit, storable

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


class MalformedWebhook(FatalError, ValueError):
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


# What can never be a TikTok envelope: the documented types are small numbers and the ids are
# numeric strings, so these bounds refuse garbage without refusing any event TikTok can send.
MAX_TYPE_DIGITS = 9
MAX_NOTIFICATION_ID = 191  # the inbox's event_id column
MAX_SHOP_ID = 64  # the inbox's shop_id column
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _type_number(value: Any) -> int | None:
    """The webhook ``type`` as an int, from a JSON integer or a string of ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**MAX_TYPE_DIGITS else None
    if isinstance(value, str) and len(value) <= MAX_TYPE_DIGITS and _DIGITS.fullmatch(value):
        return int(value)
    return None


def _id_text(value: Any, limit: int) -> str | None:
    """An id given as a JSON string or integer, as text both engines store (None when it is neither or
    longer than ``limit``)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, int):
        if not -(10**limit) < value < 10**limit:
            return None
        value = str(value)
    if len(value) > limit:
        return None
    text = storable(value)
    return text if len(text) <= limit else fit(text, limit)


def parse(body: bytes) -> Envelope:
    """Parse and check the envelope ``{type, tts_notification_id, shop_id, timestamp, data}``."""
    try:
        raw = loads_inbound(body)
    except RecursionError:
        raise MalformedWebhook("body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # not JSON, or a number of over 4,300 digits
        raise MalformedWebhook("body is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise MalformedWebhook("body is not a JSON object")
    typ = _type_number(raw.get("type"))
    if typ is None:
        raise MalformedWebhook(f"missing or non-integer 'type' (ASCII digits, at most {MAX_TYPE_DIGITS})")
    nid = _id_text(raw.get("tts_notification_id"), MAX_NOTIFICATION_ID)
    if not nid or not nid.strip():
        raise MalformedWebhook(f"missing 'tts_notification_id' (a string of at most {MAX_NOTIFICATION_ID} characters)")
    shop_id = raw.get("shop_id")
    if shop_id is None:
        shop_id = ""
    shop_id = _id_text(shop_id, MAX_SHOP_ID)
    if shop_id is None:
        raise MalformedWebhook(f"'shop_id' is not a string of at most {MAX_SHOP_ID} characters")
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MalformedWebhook("'data' is not an object")
    ts = raw.get("timestamp")
    return Envelope(
        type=typ,
        notification_id=nid,
        shop_id=shop_id,
        timestamp=ts if isinstance(ts, int) and not isinstance(ts, bool) else None,
        data=data,
        raw=raw,
    )


def entity_for(shop_id: str, typ: int, data: dict[str, Any]) -> str | None:
    """The entity key an event is about (``order:SHOP:ORDER`` …), for the console's timelines.

    Only string or integer ids name an entity; the inbox makes the key storable (``bridge.web.ingest``).
    """
    if not shop_id:
        return None
    order_id = _entity_id(data.get("order_id"))
    if order_id:
        return order_key(shop_id, order_id)
    if typ in (SELLER_DEAUTHORIZATION, UPCOMING_AUTHORIZATION_EXPIRATION):
        return shop_key(shop_id)
    packages = data.get("package_list")
    if isinstance(packages, list) and packages and isinstance(packages[0], dict):
        package_id = _entity_id(packages[0].get("package_id"))
        if package_id:
            return f"package:{shop_id}:{package_id}"
    product_id = _entity_id(data.get("product_id"))
    if product_id:
        return f"product:{shop_id}:{product_id}"
    return None


def _entity_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, int) and not -(10**64) < value < 10**64:
        return None
    return str(value) or None


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
