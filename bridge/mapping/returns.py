"""Pure returns mapping: a TikTok return / refund → NetSuite return authorization and credit memo
(or cash refund) bodies, with TikTok's refund amounts.

Amounts: each returned unit is credited what TikTok refunds for it (``refund_subtotal`` of its
return line item, i.e. the price the buyer paid after seller and platform discounts). When the
per-unit amounts do not add up to the return's ``refund_subtotal`` (a partial refund, or a market
that only reports totals) the return's subtotal is spread over the units in proportion (remainder
on the last unit), so the document always credits exactly TikTok's number. Refunded shipping goes
to ``shippingCost`` (or a shipping line), refunded tax to a tax line or nowhere (``tax: none``: the
marketplace facilitator collected and refunds it, and the sales order carried none either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from bridge.domain.tiktok import Return
from bridge.mapping.orders import ns_ref, quantize
from bridge.mapping.returns_spec import ReturnSettings

ZERO = Decimal(0)
SOURCE_MARK = "TTNS"


class OrderLineLike(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def line_item_ids(self) -> tuple[str, ...]: ...

    @property
    def closed(self) -> bool: ...


def ra_external_id(return_id: str) -> str:
    return f"TTS-RA-{return_id}"


def refund_external_id(return_id: str) -> str:
    return f"TTS-RET-{return_id}"


def returned_ids(ret: Return) -> tuple[str, ...]:
    return tuple(li.order_line_item_id for li in ret.return_line_items if li.order_line_item_id)


def unit_amounts(ret: Return, currency: str) -> dict[str, Decimal]:
    """What TikTok refunds for each returned unit, adding up exactly to the return's subtotal."""
    ids = returned_ids(ret)
    if not ids:
        return {}
    per = {li.order_line_item_id: li.refund_amount.refund_subtotal for li in ret.return_line_items
           if li.order_line_item_id}
    total = ret.refund_amount.refund_subtotal
    given = sum(per.values(), ZERO)
    if not total or given == total:
        return {i: quantize(per[i], currency) for i in ids}
    weights = [per[i] if given else Decimal(1) for i in ids]
    wsum = sum(weights, ZERO)
    out: dict[str, Decimal] = {}
    running = ZERO
    for i, w in zip(ids[:-1], weights[:-1], strict=True):
        out[i] = quantize(total * w / wsum, currency)
        running += out[i]
    out[ids[-1]] = quantize(total, currency) - running
    return out


@dataclass(frozen=True)
class LineCredit:
    line: int  # the source line (sales order or return authorization)
    line_item_ids: tuple[str, ...]
    amount: Decimal

    @property
    def quantity(self) -> int:
        return len(self.line_item_ids)


def credits_by_line(lines: Sequence[OrderLineLike], amounts: dict[str, Decimal]) -> tuple[list[LineCredit], list[str]]:
    """Group the returned units by the source line holding them (line order); ids on no line are
    returned second."""
    out: list[LineCredit] = []
    seen: set[str] = set()
    for ln in sorted(lines, key=lambda x: x.line):
        ids = tuple(i for i in ln.line_item_ids if i in amounts and i not in seen)
        if ids:
            seen.update(ids)
            out.append(LineCredit(ln.line, ids, sum((amounts[i] for i in ids), ZERO)))
    return out, [i for i in amounts if i not in seen]


def _memo(settings: ReturnSettings, kind: str, ret: Return) -> str:
    return settings.memo.format(kind=kind, id=ret.return_id, order_id=ret.order_id)[:999]


def _dated(tran_date: date | None) -> dict[str, Any]:
    """``tranDate`` when the flow dated the document (the merchant's local day, docs/accounting.md)."""
    return {"tranDate": tran_date.isoformat()} if tran_date else {}


def ra_body(ret: Return, credits: Sequence[LineCredit], settings: ReturnSettings,
            tran_date: date | None = None) -> dict[str, Any]:
    """Return authorization (transform of the sales order, ``replace=item``)."""
    rows = []
    for c in credits:
        row: dict[str, Any] = {"orderLine": c.line, "quantity": c.quantity, "amount": c.amount,
                               "custcol_ttns_line_item_ids": ",".join(c.line_item_ids)}
        if settings.return_authorization.location:
            row["location"] = ns_ref(settings.return_authorization.location)
        rows.append(row)
    return {"orderStatus": {"id": settings.return_authorization.order_status}, **_dated(tran_date),
            "memo": _memo(settings, "return", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, "item": {"items": rows}}


def standalone_ra_body(ret: Return, credits: Sequence[LineCredit], items: dict[int, tuple[str, str]],
                       header: dict[str, Any], settings: ReturnSettings, tran_date: date | None = None
                       ) -> dict[str, Any]:
    """A return authorization written on its own (not transformed) for a sales order the bridge
    closed once fulfilled (settlement ``summary`` mode: NetSuite transforms nothing from a closed
    order). ``items`` maps each sales order line to (item id, location id); the header's customer,
    subsidiary, currency and segments are copied so the item receipt lands where the sale was."""
    rows = []
    for c in credits:
        item_id, location = items[c.line]
        row: dict[str, Any] = {"item": {"id": item_id}, "quantity": c.quantity, "amount": c.amount,
                               "rate": (c.amount / c.quantity) if c.quantity else c.amount,
                               "custcol_ttns_line_item_ids": ",".join(c.line_item_ids)}
        loc = settings.return_authorization.location
        if loc:
            row["location"] = ns_ref(loc)
        elif location:
            row["location"] = {"id": location}
        rows.append(row)
    keep = {k: {"id": str(header[k]["id"])} for k in ("entity", "subsidiary", "currency", "department", "class",
                                                       "location")
            if isinstance(header.get(k), dict) and header[k].get("id")}
    return {**keep, "orderStatus": {"id": settings.return_authorization.order_status}, **_dated(tran_date),
            "memo": _memo(settings, "return", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, "item": {"items": rows}}


def _extras(ret: Return, settings: ReturnSettings, currency: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Body fields and extra lines for refunded shipping and tax."""
    body: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    r = settings.refund
    shipping = quantize(ret.refund_amount.refund_shipping_fee, currency)
    tax = quantize(ret.refund_amount.refund_tax, currency)
    if shipping and r.shipping == "body":
        body["shippingCost"] = shipping
    elif shipping and r.shipping == "line":
        assert r.shipping_item
        lines.append({"item": ns_ref(r.shipping_item), "quantity": 1, "rate": shipping, "amount": shipping,
                      "description": "Refunded shipping"})
    if tax and r.tax == "line":
        assert r.tax_item
        lines.append({"item": ns_ref(r.tax_item), "quantity": 1, "rate": tax, "amount": tax,
                      "description": "Refunded tax"})
    return body, lines


def refund_total(ret: Return, settings: ReturnSettings, currency: str) -> Decimal:
    """What the NetSuite document credits: subtotal, plus shipping and tax unless left out."""
    r = settings.refund
    total = sum(unit_amounts(ret, currency).values(), ZERO)
    if r.shipping != "none":
        total += quantize(ret.refund_amount.refund_shipping_fee, currency)
    if r.tax == "line":
        total += quantize(ret.refund_amount.refund_tax, currency)
    return total


def _refund_fields(settings: ReturnSettings) -> dict[str, Any]:
    r = settings.refund
    out: dict[str, Any] = {}
    if r.document == "cash_refund":
        if r.account:
            out["account"] = ns_ref(r.account)
        if r.payment_option:
            out["paymentOption"] = ns_ref(r.payment_option)
    return out


def refund_from_ra_body(ret: Return, credits: Sequence[LineCredit], settings: ReturnSettings,
                        currency: str, tran_date: date | None = None) -> dict[str, Any]:
    """Credit memo / cash refund transformed from the return authorization (``credits`` name RA lines)."""
    body, extra = _extras(ret, settings, currency)
    rows: list[dict[str, Any]] = [{"orderLine": c.line, "quantity": c.quantity, "amount": c.amount}
                                  for c in credits]
    return {**_dated(tran_date), "memo": _memo(settings, "refund", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, **_refund_fields(settings), **body,
            "item": {"items": rows + extra}}


def standalone_refund_body(ret: Return, header: dict[str, Any], settings: ReturnSettings,
                           currency: str, tran_date: date | None = None) -> dict[str, Any]:
    """A refund without a return authorization: one line on ``refund.item`` for the units' amount
    (never an inventory line: nothing comes back to stock)."""
    assert settings.refund.item
    body, extra = _extras(ret, settings, currency)
    amount = sum(unit_amounts(ret, currency).values(), ZERO)
    rows: list[dict[str, Any]] = []
    if amount:
        rows.append({"item": ns_ref(settings.refund.item), "quantity": 1, "rate": amount, "amount": amount,
                     "description": f"TikTok refund {ret.return_id}: {len(returned_ids(ret))} unit(s)"})
    keep = {k: {"id": str(header[k]["id"])} for k in ("entity", "subsidiary", "currency", "department", "class",
                                                       "location")
            if isinstance(header.get(k), dict) and header[k].get("id")}
    return {**keep, **_dated(tran_date), "memo": _memo(settings, "refund", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, **_refund_fields(settings), **body,
            "item": {"items": rows + extra}}


__all__ = [
    "LineCredit",
    "credits_by_line",
    "ra_body",
    "ra_external_id",
    "refund_external_id",
    "refund_from_ra_body",
    "refund_total",
    "returned_ids",
    "standalone_ra_body",
    "standalone_refund_body",
    "unit_amounts",
]
