"""Refunds in VAT-inclusive markets: the refund document reverses net and VAT per rate as the sales order
booked them (a VAT item line per rate, or each line's tax code and ``tax1Amt``), and its total is TikTok's
refund to the cent (pure mapping, table-driven)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.domain.tiktok import Return
from bridge.errors import NeedsHumanError
from bridge.mapping.returns import (
    LineCredit,
    RefundVat,
    credits_by_line,
    ra_body,
    refund_from_ra_body,
    refund_total,
    standalone_refund_body,
    unit_amounts,
    with_vat,
)
from bridge.mapping.returns_spec import RefundSpec, ReturnSettings
from bridge.ports.netsuite import SoLine

D = Decimal
ITEM = RefundVat({}, None, D("0.20"), item="eid:VAT-UK")
CODES = RefundVat({}, None, D("0.19"), codes={"0.19": "eid:VAT-DE-19", "0.07": "eid:VAT-DE-7"})


def a_return(units: dict[str, str], shipping: str = "0", currency: str = "GBP") -> Return:
    total = sum((D(v) for v in units.values()), D(0))
    return Return.model_validate({
        "return_id": "R1", "order_id": "O1", "return_type": "RETURN_AND_REFUND",
        "refund_amount": {"refund_subtotal": str(total), "refund_shipping_fee": shipping, "refund_tax": "0",
                          "refund_total": str(total + D(shipping)), "currency": currency},
        "return_line_items": [{"order_line_item_id": k, "refund_amount": {"refund_subtotal": v}}
                              for k, v in units.items()]})


def document_total(body: dict[str, Any]) -> Decimal:
    """What NetSuite totals: lines, their tax1Amt, shipping and its tax."""
    rows = body["item"]["items"]
    return (sum((D(str(r["amount"])) + D(str(r.get("tax1Amt", 0))) for r in rows), D(0))
            + D(str(body.get("shippingCost", 0))) + D(str(body.get("shippingTaxAmount", 0))))


def vat_booked(body: dict[str, Any], vat: RefundVat) -> dict[str, Decimal]:
    """VAT per rate as the document books it (VAT item lines by description, or tax1Amt by tax code)."""
    out: dict[str, Decimal] = {}
    if vat.codes:
        by_code = {v.removeprefix("eid:"): k for k, v in vat.codes.items()}
        for r in body["item"]["items"]:
            if "taxCode" in r:
                key = by_code[r["taxCode"]["externalId"]]
                out[key] = out.get(key, D(0)) + D(str(r["tax1Amt"]))
        if "shippingTaxCode" in body:
            key = by_code[body["shippingTaxCode"]["externalId"]]
            out[key] = out.get(key, D(0)) + D(str(body["shippingTaxAmount"]))
    else:
        for r in body["item"]["items"]:
            if r.get("item") == {"externalId": "VAT-UK"}:
                pct = r["description"].split()[1].rstrip("%")
                out[str(D(pct) / 100)] = D(str(r["amount"]))
    return out


# (case, VAT spec, units -> refund, SO lines (line, ids), unit rates, refunded shipping, VAT per rate booked)
CASES = [
    ("GB: one rate, VAT item, shipping split too", ITEM, {"M1": "12.00", "M2": "12.00"}, [(1, ("M1", "M2"))],
     {"M1": "0.20", "M2": "0.20"}, "2.49", {"0.2": "4.41"}),  # 24.00 -> 20.00 + 4.00; 2.49 -> 2.08 + 0.41
    ("DE: 19 % and 7 %, tax codes", CODES, {"M1": "11.90", "B1": "10.70", "B2": "10.70"},
     [(1, ("M1",)), (2, ("B1", "B2"))], {"M1": "0.19", "B1": "0.07", "B2": "0.07"}, "0",
     {"0.19": "1.90", "0.07": "1.40"}),
    ("DE: shipping on its own tax code", CODES, {"M1": "11.90"}, [(1, ("M1",))], {"M1": "0.19"}, "4.90",
     {"0.19": "2.68"}),  # 4.90 -> 4.12 + 0.78
    ("one rate over two lines: the rate is one component, remainder on the largest", ITEM,
     {"M1": "9.99", "C1": "9.99"}, [(1, ("M1",)), (2, ("C1",))], {"M1": "0.20", "C1": "0.20"}, "0",
     {"0.2": "3.33"}),  # 19.98 -> 16.65 + 3.33 (each alone would be 8.33 + 1.66)
    ("an order synced before rates were kept per line: its one booked rate", RefundVat({}, D("0.20"), D("0.20"),
     item="eid:VAT-UK"), {"M1": "5.00"}, [(1, ("M1",))], {}, "0", {"0.2": "0.83"}),
]


@pytest.mark.parametrize(("case", "vat", "units", "so", "rates", "shipping", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_a_refund_books_net_and_vat_per_rate_and_totals_tiktoks_refund(
        case: str, vat: RefundVat, units: dict[str, str], so: list[tuple[int, tuple[str, ...]]],
        rates: dict[str, str], shipping: str, expected: dict[str, str]) -> None:
    vat = RefundVat({k: D(v) for k, v in rates.items()}, vat.default_rate, vat.shipping_rate, vat.item, vat.codes)
    ret = a_return(units, shipping)
    settings = ReturnSettings()
    lines = [SoLine(n, "i", len(ids), line_item_ids=ids) for n, ids in so]
    credits, missing = credits_by_line(lines, unit_amounts(ret, "GBP"))
    assert missing == []
    split = with_vat(credits, vat, "GBP")
    body = refund_from_ra_body(ret, split, settings, "GBP", vat=vat)
    refund = D(ret.refund_amount.refund_total)
    assert document_total(body) == refund == refund_total(ret, settings, "GBP"), case
    assert vat_booked(body, vat) == {k: D(v) for k, v in expected.items()}, case
    for c in split:  # each line net of its VAT: net + VAT is exactly what TikTok refunded for its units
        assert c.amount + c.vat == sum((D(units[i]) for i in c.line_item_ids), D(0))
    if vat.codes:  # no line can let NetSuite compute VAT on top: every line carries its code and its VAT
        assert all("taxCode" in r and "tax1Amt" in r for r in body["item"]["items"])
        ra = ra_body(ret, split, settings, vat=vat)
        assert document_total(ra) == sum((D(v) for v in units.values()), D(0))
    else:
        assert all("taxCode" not in r for r in body["item"]["items"])
    standalone = standalone_refund_body(ret, {}, ReturnSettings(refund=RefundSpec(item="eid:REFUND")), "GBP",
                                        vat=vat)
    assert document_total(standalone) == refund and vat_booked(standalone, vat) == vat_booked(body, vat)


def test_without_vat_the_refund_is_unchanged() -> None:
    ret = a_return({"M1": "12.00"}, "2.49")
    credits = [LineCredit(1, ("M1",), D("12.00"))]
    assert with_vat(credits, None, "USD") == credits
    body = refund_from_ra_body(ret, credits, ReturnSettings(), "USD")
    assert body["item"]["items"] == [{"orderLine": 1, "quantity": 1, "amount": D("12.00")}]
    assert body["shippingCost"] == D("2.49") and "shippingTaxCode" not in body


@pytest.mark.parametrize(("vat", "code"), [
    (RefundVat({"M1": D("0.19")}, None, D("0.19"), codes={"0.07": "eid:VAT-DE-7"}), "VAT_RATE_UNMAPPED"),
    (RefundVat({}, None, D("0.19"), codes={"0.19": "eid:VAT-DE-19"}), "REFUND_VAT_RATE_UNKNOWN"),
])
def test_a_rate_it_cannot_book_is_one_clear_exception(vat: RefundVat, code: str) -> None:
    ret = a_return({"M1": "11.90"})
    with pytest.raises(NeedsHumanError) as e:
        refund_from_ra_body(ret, with_vat([LineCredit(1, ("M1",), D("11.90"))], vat, "EUR"), ReturnSettings(), "EUR",
                            vat=vat)
    assert e.value.code == code
