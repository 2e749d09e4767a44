"""VAT inside TikTok's prices (orders.yaml ``tax.mode: inclusive``, e.g. the UK): one rule for every document.

TikTok reports VAT-inclusive amounts. VAT is a liability, so every document that books one of them
books it net, and the VAT on the VAT payable account: the invoice of an order (the orders flow) and
the statement journal (the settlement flow, every mode). The rule, applied **per component** of one
order (its products together, each discount, its shipping) — never across components — is

    net = round_half_up(gross / (1 + rate)),   VAT = gross - net

so each component's net plus its VAT is exactly TikTok's figure, the invoice and the journal split an
order the same way, and the ledger audit compares net sales and VAT each to the cent (pure, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "HUF", "TWD"})

# The statement components that carry VAT when prices include it: what the buyer pays for the goods
# and their shipping, the seller's discounts on them, their refunds, and TikTok's funding of a platform
# discount (the receivable modes' journal line beside the invoice's platform discount line). Fees,
# adjustments and TikTok's shipping costs are TikTok's charges to the seller, not the seller's sales.
VAT_COMPONENTS = frozenset({
    "revenue.subtotal_before_discount_amount", "revenue.seller_discount_amount",
    "revenue.refund_subtotal_before_discount_amount", "revenue.seller_discount_refund_amount",
    "shipping.customer_paid_shipping_fee_amount", "receivable.platform_discount",
})
PREFIX = "vat."


def net_of(gross: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The amount net of VAT at ``rate`` inside ``gross``, to the currency's unit (half away from zero:
    a refund splits as the sale it reverses)."""
    exp = Decimal(1) if currency.upper() in ZERO_DECIMAL else Decimal("0.01")
    return (gross / (1 + rate)).quantize(exp, rounding=ROUND_HALF_UP)


def vat_component(component: str) -> str:
    """The component the VAT of ``component`` is booked as (``vat.<component>``)."""
    return PREFIX + component


def split_vat(components: Mapping[str, Decimal], rate: Decimal | None, currency: str) -> dict[str, Decimal]:
    """One order's (one statement line's) components with each VAT-bearing one split into its net
    (same key) and its VAT (``vat.<key>``); unchanged when ``rate`` is None (prices exclude tax)."""
    if rate is None:
        return dict(components)
    out: dict[str, Decimal] = {}
    for key, amount in components.items():
        if key in VAT_COMPONENTS and amount:
            net = net_of(amount, rate, currency)
            out[key] = out.get(key, ZERO) + net
            if amount != net:
                out[vat_component(key)] = out.get(vat_component(key), ZERO) + amount - net
        else:
            out[key] = out.get(key, ZERO) + amount
    return out


__all__ = ["PREFIX", "VAT_COMPONENTS", "net_of", "split_vat", "vat_component"]
