"""Pure returns mapping: a TikTok return / refund → NetSuite return authorization and credit memo
(or cash refund) bodies, with TikTok's refund amounts.

Amounts: each returned unit is credited what TikTok refunds for it (``refund_subtotal`` of its
return line item, i.e. the price the buyer paid after seller and platform discounts). When the
per-unit amounts do not add up to the return's ``refund_subtotal`` (a partial refund, or a market
that only reports totals) the return's subtotal is spread over the units in proportion (remainder
on the last unit), so the document always credits exactly TikTok's number. Refunded shipping goes
to ``shippingCost`` (or a shipping line), refunded tax to a tax line or nowhere (``tax: none``: the
marketplace facilitator collected and refunds it, and the sales order carried none either).

VAT-inclusive markets (orders.yaml ``tax.mode: inclusive``, ``RefundVat``): TikTok's refund amounts
include VAT, and the refund reverses the sale as the sales order booked it — each component (the
units at one rate, the shipping) split net + VAT by ``bridge.mapping.vat.net_of``, the VAT on the VAT
item (one line per rate) or, with ``tax.codes``, on each line's tax code (``taxCode`` + ``tax1Amt``),
so the document's total is still TikTok's refund to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from bridge.domain.tiktok import Return
from bridge.errors import Evidence, NeedsHumanError
from bridge.mapping.orders import ns_ref, quantize
from bridge.mapping.orders_spec import vat_key
from bridge.mapping.returns_spec import ReturnSettings
from bridge.mapping.vat import net_of

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
    amount: Decimal  # net of ``vat`` once split (``with_vat``), else TikTok's refund for the units
    vat_rate: Decimal | None = None
    vat: Decimal = ZERO

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


@dataclass(frozen=True)
class RefundVat:
    """How the sale booked VAT (orders.yaml ``tax.mode: inclusive``), so its refund reverses it alike:
    each unit at the rate its sales order line was booked at (``links.data.allocation``), the VAT on
    ``item`` (one line per rate) or, with ``codes``, on each line (tax code and ``tax1Amt``)."""

    rates: Mapping[str, Decimal]  # TikTok line item id -> VAT rate included in its price
    default_rate: Decimal | None = None  # for units booked before rates were recorded per line (one-rate orders)
    shipping_rate: Decimal | None = None
    item: str | None = None
    codes: Mapping[str, str] = field(default_factory=dict)  # vat_key(rate) -> NetSuite tax code
    exempt_code: str | None = None

    def rate_of(self, line_item_id: str) -> Decimal | None:
        return self.rates.get(line_item_id, self.default_rate)

    def code(self, rate: Decimal, entity: str) -> str:
        code = self.codes.get(vat_key(rate))
        if code is None and not rate and self.exempt_code:
            code = self.exempt_code
        if code is None:
            raise NeedsHumanError(
                f"the refund has VAT at {vat_key(rate)} and orders.yaml tax.codes has no tax code for it",
                code="VAT_RATE_UNMAPPED", owner="admin", entity=entity,
                fix_hint="Add \"<rate>\": <NetSuite tax code> under tax.codes in orders.yaml, then replay.")
        return code


def with_vat(credits: Sequence[LineCredit], vat: RefundVat | None, currency: str, entity: str = ""
             ) -> list[LineCredit]:
    """The credits net of the VAT TikTok's refund includes, per rate: the units at one rate are one
    component (net_of their total), its net spread over the lines (remainder on the largest), so each
    rate's net plus VAT is exactly TikTok's refund at that rate. Unchanged without ``vat``."""
    if vat is None:
        return list(credits)
    rate_of: list[Decimal] = []
    for c in credits:
        rates = {vat.rate_of(i) for i in c.line_item_ids}
        if None in rates or len(rates) != 1:
            raise NeedsHumanError(
                f"the VAT rate the sales order booked for unit(s) {', '.join(c.line_item_ids)} is not known, so "
                "the refund cannot reverse it", code="REFUND_VAT_RATE_UNKNOWN", owner="admin", entity=entity,
                fix_hint="Replay the order's sync (it records each line's VAT rate), then replay this refund.",
                evidence=Evidence.of("bridge", "refund VAT", details={"line_item_ids": list(c.line_item_ids)}))
        rate = rates.pop()
        assert rate is not None
        rate_of.append(rate)
    out = list(credits)
    groups: dict[Decimal, list[int]] = {}
    for i, rate in enumerate(rate_of):
        groups.setdefault(rate, []).append(i)
    for rate, idxs in groups.items():
        gross = sum((credits[i].amount for i in idxs), ZERO)
        nets = {i: net_of(credits[i].amount, rate, currency) for i in idxs}
        largest = max(idxs, key=lambda i: abs(credits[i].amount))
        nets[largest] += net_of(gross, rate, currency) - sum(nets.values(), ZERO)
        for i in idxs:
            out[i] = replace(credits[i], amount=nets[i], vat_rate=rate, vat=credits[i].amount - nets[i])
    return out


def _taxed(row: dict[str, Any], rate: Decimal | None, vat_amount: Decimal, vat: RefundVat | None,
           entity: str) -> dict[str, Any]:
    """A row's tax code and VAT (tax code mode): NetSuite books TikTok's VAT, never adds its own on top."""
    if vat is not None and vat.codes and rate is not None:
        row["taxCode"] = ns_ref(vat.code(rate, entity))
        row["tax1Amt"] = vat_amount
    return row


def _vat_lines(by_rate: Mapping[Decimal, Decimal], vat: RefundVat | None) -> list[dict[str, Any]]:
    """VAT item mode: one line per rate with the VAT the refund reverses."""
    if vat is None or vat.codes:
        return []
    if not vat.item:
        raise NeedsHumanError("orders.yaml tax.mode inclusive names neither tax.item nor tax.codes",
                              code="VAT_ITEM_MISSING", owner="admin",
                              fix_hint="Set tax.item (or tax.codes) in orders.yaml, then replay.")
    return [{"item": ns_ref(vat.item), "quantity": 1, "rate": v, "amount": v,
             "description": f"VAT {vat_key(r * 100)}% (included in TikTok's refund)"}
            for r, v in sorted(by_rate.items()) if v]


def _vat_by_rate(credits: Sequence[LineCredit], extra: Mapping[Decimal, Decimal] | None = None
                 ) -> dict[Decimal, Decimal]:
    out: dict[Decimal, Decimal] = dict(extra or {})
    for c in credits:
        if c.vat_rate is not None:
            out[c.vat_rate] = out.get(c.vat_rate, ZERO) + c.vat
    return out


def _memo(settings: ReturnSettings, kind: str, ret: Return) -> str:
    return settings.memo.format(kind=kind, id=ret.return_id, order_id=ret.order_id)[:999]


def _dated(tran_date: date | None) -> dict[str, Any]:
    """``tranDate`` when the flow dated the document (the merchant's local day, docs/accounting.md)."""
    return {"tranDate": tran_date.isoformat()} if tran_date else {}


def ra_body(ret: Return, credits: Sequence[LineCredit], settings: ReturnSettings,
            tran_date: date | None = None, vat: RefundVat | None = None) -> dict[str, Any]:
    """Return authorization (transform of the sales order, ``replace=item``). With VAT tax codes the
    credits come net (``with_vat``) and each line carries its code and VAT; with a VAT item they stay
    gross (no VAT line can be transformed onto it; the refund document splits)."""
    rows = []
    for c in credits:
        row: dict[str, Any] = {"orderLine": c.line, "quantity": c.quantity, "amount": c.amount,
                               "custcol_ttns_line_item_ids": ",".join(c.line_item_ids)}
        if settings.return_authorization.location:
            row["location"] = ns_ref(settings.return_authorization.location)
        rows.append(_taxed(row, c.vat_rate, c.vat, vat, ret.order_id))
    return {"orderStatus": {"id": settings.return_authorization.order_status}, **_dated(tran_date),
            "memo": _memo(settings, "return", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, "item": {"items": rows}}


def standalone_ra_body(ret: Return, credits: Sequence[LineCredit], items: dict[int, tuple[str, str]],
                       header: dict[str, Any], settings: ReturnSettings, tran_date: date | None = None,
                       vat: RefundVat | None = None) -> dict[str, Any]:
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
        rows.append(_taxed(row, c.vat_rate, c.vat, vat, ret.order_id))
    keep = {k: {"id": str(header[k]["id"])} for k in ("entity", "subsidiary", "currency", "department", "class",
                                                       "location")
            if isinstance(header.get(k), dict) and header[k].get("id")}
    return {**keep, "orderStatus": {"id": settings.return_authorization.order_status}, **_dated(tran_date),
            "memo": _memo(settings, "return", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, "item": {"items": rows}}


def _extras(ret: Return, settings: ReturnSettings, currency: str, vat: RefundVat | None = None
            ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[Decimal, Decimal]]:
    """Body fields and extra lines for refunded shipping and tax, and the shipping's VAT by rate (VAT
    markets: refunded shipping is split net + VAT at the shipping rate, as the sale's was)."""
    body: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    ship_vat: dict[Decimal, Decimal] = {}
    r = settings.refund
    shipping = quantize(ret.refund_amount.refund_shipping_fee, currency)
    tax = quantize(ret.refund_amount.refund_tax, currency)
    rate = vat.shipping_rate if vat is not None else None
    net = shipping
    if shipping and rate is not None and r.shipping != "none":
        net = net_of(shipping, rate, currency)
        if net != shipping:
            ship_vat[rate] = shipping - net
    if shipping and r.shipping == "body":
        body["shippingCost"] = net
        if vat is not None and vat.codes and rate is not None:
            body["shippingTaxCode"] = ns_ref(vat.code(rate, ret.order_id))
            body["shippingTaxAmount"] = shipping - net
    elif shipping and r.shipping == "line":
        assert r.shipping_item
        lines.append(_taxed({"item": ns_ref(r.shipping_item), "quantity": 1, "rate": net, "amount": net,
                             "description": "Refunded shipping"}, rate, shipping - net, vat, ret.order_id))
    if tax and r.tax == "line":
        assert r.tax_item
        lines.append({"item": ns_ref(r.tax_item), "quantity": 1, "rate": tax, "amount": tax,
                      "description": "Refunded tax"})
    return body, lines, ship_vat


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
                        currency: str, tran_date: date | None = None, vat: RefundVat | None = None
                        ) -> dict[str, Any]:
    """Credit memo / cash refund transformed from the return authorization (``credits`` name RA lines;
    net of VAT by ``with_vat`` in a VAT market)."""
    body, extra, ship_vat = _extras(ret, settings, currency, vat)
    rows: list[dict[str, Any]] = [_taxed({"orderLine": c.line, "quantity": c.quantity, "amount": c.amount},
                                         c.vat_rate, c.vat, vat, ret.order_id) for c in credits]
    vat_rows = _vat_lines(_vat_by_rate(credits, ship_vat), vat)
    return {**_dated(tran_date), "memo": _memo(settings, "refund", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, **_refund_fields(settings), **body,
            "item": {"items": rows + extra + vat_rows}}


def standalone_refund_body(ret: Return, header: dict[str, Any], settings: ReturnSettings,
                           currency: str, tran_date: date | None = None, vat: RefundVat | None = None
                           ) -> dict[str, Any]:
    """A refund without a return authorization: one line on ``refund.item`` for the units' amount
    (never an inventory line: nothing comes back to stock); in a VAT market one per VAT rate, net."""
    assert settings.refund.item
    body, extra, ship_vat = _extras(ret, settings, currency, vat)
    amounts = unit_amounts(ret, currency)
    groups: dict[Decimal | None, list[str]] = {}
    for i in amounts:
        groups.setdefault(vat.rate_of(i) if vat is not None else None, []).append(i)
    credits = with_vat([LineCredit(0, tuple(ids), sum((amounts[i] for i in ids), ZERO))
                        for _r, ids in sorted(groups.items(), key=lambda kv: kv[0] or ZERO)], vat, currency,
                       ret.order_id)
    rows: list[dict[str, Any]] = []
    for c in credits:
        if c.amount or c.vat:
            rows.append(_taxed({"item": ns_ref(settings.refund.item), "quantity": 1, "rate": c.amount,
                                "amount": c.amount, "description": f"TikTok refund {ret.return_id}: "
                                f"{len(c.line_item_ids)} unit(s)"}, c.vat_rate, c.vat, vat, ret.order_id))
    vat_rows = _vat_lines(_vat_by_rate(credits, ship_vat), vat)
    keep = {k: {"id": str(header[k]["id"])} for k in ("entity", "subsidiary", "currency", "department", "class",
                                                       "location")
            if isinstance(header.get(k), dict) and header[k].get("id")}
    return {**keep, **_dated(tran_date), "memo": _memo(settings, "refund", ret), "custbody_ttns_order_id": ret.order_id,
            "custbody_ttns_source": SOURCE_MARK, **_refund_fields(settings), **body,
            "item": {"items": rows + extra + vat_rows}}


__all__ = [
    "LineCredit",
    "RefundVat",
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
    "with_vat",
]
