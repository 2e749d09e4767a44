"""What the bridge remembers about one order: the ``data`` JSON of its ``order`` link, as a typed record.

The orders flow writes most of it on every sync; cancellations, fulfillment and settlement add their
parts. Every field is optional (``None`` = not recorded yet) because orders synced by earlier versions
hold fewer keys; keys this version does not know are kept in ``extra`` and written back unchanged.
``parse`` reads the JSON column, ``dump`` writes it (``None`` fields are left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class OrderMemory:
    # the TikTok order as last synced
    tiktok_status: str | None = None
    tiktok_update_time: int | None = None  # epoch seconds of TikTok's update_time
    created_at: int | None = None  # epoch seconds the buyer placed it
    buyer: str | None = None  # TikTok user id (the customer link's key)
    currency: str | None = None
    warehouse_id: str | None = None
    is_fbt: bool | None = None
    units: dict[str, int] | None = None  # seller SKU -> units not cancelled
    summary: dict[str, Any] | None = None  # what the console shows (bridge.mapping.order_summary)
    # what NetSuite was sent
    expected_total: Decimal | None = None
    platform_funded: Decimal | None = None
    vat: dict[str, str] | None = None  # VAT-inclusive markets: VAT rate ("0.19") -> VAT taken out of TikTok's prices
    allocation: list[dict[str, Any]] | None = None  # product lines with their TikTok line-item ids
    written: dict[str, Any] | None = None  # the last write's snapshot, for the three-way merge
    lines_locked: bool | None = None  # NetSuite fulfilled lines first: only the body is updated
    first_synced_at: float | None = None  # epoch seconds NetSuite first had it
    tranid: str | None = None  # the document number people know the sales order by
    recovered: str | None = None  # how a sales order written by an earlier attempt was found
    hold_reason: str | None = None
    reason: str | None = None  # the console's copy of hold_reason
    conflict: dict[str, Any] | None = None  # fields a person changed in NetSuite that TikTok changed too
    # cancellations
    cancellations: dict[str, dict[str, Any]] | None = None  # cancel id (or "order") -> what was applied
    cancel_reason: str | None = None
    # fulfillment and the order's final state
    fulfilled: bool | None = None
    fulfilled_at: str | None = None
    finished: str | None = None  # "close" | "bill": what happened once fully fulfilled
    invoice_id: str | None = None
    closed_lines: int | None = None  # lines closed when it was finished by closing
    # settlement: the affiliate commission written on the sales order (custbody_ttns_affiliate_commission)
    affiliate_commission: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> OrderMemory:
        """The record of a link's ``data`` (an empty record for None)."""
        data = dict(data or {})
        known: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in data:
                continue
            value = data.pop(f.name)
            if value is None:
                continue
            known[f.name] = _read(f.name, value)
        return cls(**known, extra=data)

    def dump(self) -> dict[str, Any]:
        """The JSON column: every recorded field (Decimals as strings), then the unknown keys."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return {**out, **self.extra}

    def with_(self, **changes: Any) -> OrderMemory:
        """A copy with ``changes`` (``None`` forgets a field)."""
        return replace(self, **changes)

    @property
    def update_time(self) -> int:
        """TikTok's update time of the last synced version (0 when never synced)."""
        return self.tiktok_update_time or 0


_INTS = frozenset({"tiktok_update_time", "created_at", "closed_lines"})
_BOOLS = frozenset({"is_fbt", "lines_locked", "fulfilled"})
_DECIMALS = frozenset({"expected_total", "platform_funded", "affiliate_commission"})
_STRINGS = frozenset({"tiktok_status", "buyer", "currency", "warehouse_id", "hold_reason", "reason",
                      "cancel_reason", "fulfilled_at", "finished", "invoice_id", "recovered", "tranid"})


def _read(name: str, value: Any) -> Any:
    if name in _INTS:
        return int(value)
    if name in _BOOLS:
        return bool(value)
    if name in _DECIMALS:
        return Decimal(str(value))
    if name in _STRINGS:
        return str(value)
    if name == "first_synced_at":
        return float(value)
    if name == "units":
        return {str(k): int(v) for k, v in dict(value).items()}
    return value


__all__ = ["OrderMemory"]
