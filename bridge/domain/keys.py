"""The bridge's entity keys: how one order (one shop, one SKU …) is named in job keys, exceptions,
the audit trail, the inbox and the console.

One order's jobs run one at a time and in order because they share one queue key, ``order_key``: every
flow that enqueues for an order, and everything that looks those jobs up, spells it through here
(``tests/unit/test_entity_keys.py`` fails on any other spelling).
"""

from __future__ import annotations

ORDER = "order"


def order_key(shop_id: str, order_id: str) -> str:
    """The key of one TikTok order of one shop: ``order:{shop_id}:{order_id}``."""
    return f"{ORDER}:{shop_id}:{order_id}"


def order_key_prefix(shop_id: str | None = None) -> str:
    """The prefix every order key (of ``shop_id``, when given) starts with, for prefix look-ups."""
    return f"{ORDER}:" if shop_id is None else f"{ORDER}:{shop_id}:"


def parse_order_key(key: str) -> tuple[str, str] | None:
    """(shop id, order id) of an order key, None for any other key."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != ORDER or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def shop_key(shop_id: str) -> str:
    """The key of a shop as a whole (authorization events, shop-level exceptions)."""
    return f"shop:{shop_id}"


def sku_key(shop_id: str, sku: str) -> str:
    """The key of one seller SKU of one shop."""
    return f"sku:{shop_id}:{sku}"


__all__ = ["ORDER", "order_key", "order_key_prefix", "parse_order_key", "shop_key", "sku_key"]
