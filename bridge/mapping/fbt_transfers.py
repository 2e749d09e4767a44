"""An FBT inbound order as a NetSuite inventory transfer (pure): the normal units TikTok's warehouse
received move from the merchant location to the FBT location; defective units are named in the
memo, never transferred as sellable stock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class InboundTransfer:
    external_id: str
    body: dict[str, Any]
    normal: dict[str, int] = field(default_factory=dict)  # seller SKU -> units transferred
    defective: dict[str, int] = field(default_factory=dict)  # seller SKU -> units not transferred
    unknown: tuple[str, ...] = ()  # seller SKUs (or goods ids) NetSuite has no item for


def inbound_external_id(shop_id: str, inbound_order_id: str) -> str:
    """One transfer per TikTok inbound order, ever."""
    return f"TTS-FBT-IN-{shop_id}-{inbound_order_id}"


def inbound_transfer(shop_id: str, inbound_order_id: str, batches: Sequence[tuple[str, int, int]],
                     item_ids: Mapping[str, str], from_location: str, to_location: str, tran_date: date,
                     subsidiary: str | None = None) -> InboundTransfer:
    """``batches``: (seller SKU, normal, defective) per received batch. The body has one line per SKU
    with normal units; ``unknown`` lists SKUs NetSuite has no item for (then nothing may be posted)."""
    normal: dict[str, int] = {}
    defective: dict[str, int] = {}
    for sku, n, d in batches:
        if n:
            normal[sku] = normal.get(sku, 0) + int(n)
        if d:
            defective[sku] = defective.get(sku, 0) + int(d)
    unknown = tuple(sorted(s for s in normal if s not in item_ids))
    memo = f"TikTok FBT inbound order {inbound_order_id} received (shop {shop_id})"
    if defective:
        memo += "; defective units not transferred as sellable: " + ", ".join(
            f"{s} x{q}" for s, q in sorted(defective.items()))
    body: dict[str, Any] = {
        "location": {"id": from_location}, "transferLocation": {"id": to_location},
        "tranDate": tran_date.isoformat(), "memo": memo[:999],
        "inventory": {"items": [{"item": {"id": item_ids[s]}, "adjustQtyBy": q,
                                 "description": f"TikTok inbound {inbound_order_id}: {q} received"}
                                for s, q in sorted(normal.items()) if s in item_ids]}}
    if subsidiary:
        body["subsidiary"] = {"id": subsidiary}
    return InboundTransfer(inbound_external_id(shop_id, inbound_order_id), body, normal, defective, unknown)


__all__ = ["InboundTransfer", "inbound_external_id", "inbound_transfer"]
