"""VAT inside TikTok's prices (orders.yaml ``tax.mode: inclusive``, e.g. the UK): one rule for every document.

TikTok reports VAT-inclusive amounts. VAT is a liability, so every document that books one of them
books it net, and the VAT on the VAT payable account: the invoice of an order (the orders flow) and
the statement journal (the settlement flow, every mode). The rule, applied **per component** of one
order (its products together, each discount, its shipping) — never across components — is

    net = round_half_up(gross / (1 + rate)),   VAT = gross - net

so each component's net plus its VAT is exactly TikTok's figure, the invoice and the journal split an
order the same way, and the ledger audit compares net sales and VAT each to the cent (pure, no I/O).

Where TikTok states an order's VAT itself (Get Price Detail: each line item's ``subtotal_tax_amount`` at
its ``tax_rate``, the VAT in what the buyer paid for it), that figure wins (``OrderVat``, ``split_order_vat``):
per rate, the discounts are split by the rule (TikTok gives no VAT figure for a discount) and the products
before discounts carry TikTok's VAT plus the discounts' VAT, so products less discounts carry exactly
TikTok's VAT; each component follows its own line items' rate (several rates in one order or shop).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bridge.domain.tiktok import PriceDetail

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


def _exp(currency: str) -> Decimal:
    return Decimal(1) if currency.upper() in ZERO_DECIMAL else Decimal("0.01")


@dataclass(frozen=True)
class RateShare:
    """The live line items of one order at one VAT rate, as TikTok's price detail gives them (VAT-inclusive
    amounts): ``gross`` before discounts, the seller's and the platform's discounts, and TikTok's VAT in
    what the buyer paid (``subtotal_tax_amount``)."""

    gross: Decimal
    seller: Decimal
    platform: Decimal
    vat: Decimal


@dataclass(frozen=True)
class OrderVat:
    """One order's VAT as TikTok states it (Get Price Detail), per rate of its live line items, and the rate of
    its shipping (orders.yaml ``tax.shipping_rate``, else the standard rate: TikTok's price detail gives no
    rate of its own for shipping)."""

    rates: Mapping[Decimal, RateShare] = field(default_factory=dict)
    shipping_rate: Decimal | None = None

    def products_vat(self, rate: Decimal, currency: str) -> Decimal:
        """The VAT in the products' gross at ``rate``: TikTok's VAT in what the buyer paid plus the VAT of the
        discounts (split by the rule), so products less discounts carry exactly TikTok's figure."""
        s = self.rates[rate]
        return s.vat + (s.seller - net_of(s.seller, rate, currency)) + (s.platform - net_of(s.platform, rate, currency))


def order_vat(detail: PriceDetail, live: Collection[str] | None = None,
              shipping_rate: Decimal | None = None) -> OrderVat | None:
    """TikTok's VAT of one order from Get Price Detail, per rate of its live line items (``live``: their ids,
    from Get Order Detail; None: all). A line TikTok gives no VAT for is zero-rated by TikTok's word (books,
    children's clothes), not split at the shop's rate. None only when the detail lists no line items (then the
    rule at the shop's rate applies, as on the order's invoice)."""
    if not detail.line_items:
        return None
    rates: dict[Decimal, RateShare] = {}
    for ln in detail.line_items:
        if live is not None and str(ln.id) not in live:
            continue
        gross = ln.subtotal + ln.subtotal_deduction_seller + ln.subtotal_deduction_platform
        s = rates.get(ln.tax_rate, RateShare(ZERO, ZERO, ZERO, ZERO))
        rates[ln.tax_rate] = RateShare(s.gross + gross, s.seller + ln.subtotal_deduction_seller,
                                       s.platform + ln.subtotal_deduction_platform, s.vat + ln.subtotal_tax_amount)
    return OrderVat(rates, shipping_rate)


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``amount`` in parts proportional to ``weights`` (each rounded, the cents left on the largest weight);
    equal parts when the weights are all zero."""
    if not weights:
        return []
    total = sum(weights, ZERO)
    ws = list(weights) if total else [Decimal(1)] * len(weights)
    total = total or Decimal(len(weights))
    parts = [(amount * w / total).quantize(_exp(currency), rounding=ROUND_HALF_UP) for w in ws]
    largest = max(range(len(ws)), key=lambda i: (abs(ws[i]), -i))
    parts[largest] += amount - sum(parts, ZERO)
    return parts


def _add(out: dict[str, Decimal], key: str, gross: Decimal, net: Decimal) -> None:
    out[key] = out.get(key, ZERO) + net
    if gross != net:
        out[vat_component(key)] = out.get(vat_component(key), ZERO) + gross - net


PRODUCTS = "revenue.subtotal_before_discount_amount"
SELLER_DISCOUNT = "revenue.seller_discount_amount"
PLATFORM_FUNDING = "receivable.platform_discount"
SHIPPING = "shipping.customer_paid_shipping_fee_amount"


def split_order_vat(components: Mapping[str, Decimal], order: OrderVat | None, rate: Decimal | None,
                    currency: str) -> dict[str, Decimal]:
    """``split_vat`` for one order's statement line with TikTok's own VAT (``order``; None: the rule at ``rate``).

    * products (``subtotal_before_discount_amount``) equal to the live line items' gross: per rate, net =
      gross - ``OrderVat.products_vat`` (TikTok's VAT plus the discounts'); any other amount (TikTok settled a
      different part of the order) is shared over the rates by their gross and split by the rule;
    * the seller's discount and TikTok's funding of the platform discount: shared over the rates by the line
      items' discounts, each part split by the rule at its rate;
    * refunds: shared over the rates by the line items' gross, each part split by the rule (a statement's
      refund line does not name the units it refunds);
    * the buyer-paid shipping: the rule at the shipping rate.
    """
    if order is None or not order.rates:
        return split_vat(components, rate, currency)
    rates = sorted(order.rates, reverse=True)
    shares = [order.rates[r] for r in rates]
    gross_w = [s.gross for s in shares]
    out: dict[str, Decimal] = {}
    for key, amount in components.items():
        if key not in VAT_COMPONENTS or not amount:
            out[key] = out.get(key, ZERO) + amount
            continue
        if key == SHIPPING:
            ship_rate = order.shipping_rate if order.shipping_rate is not None else rate
            if ship_rate is None:
                out[key] = out.get(key, ZERO) + amount
            else:
                _add(out, key, amount, net_of(amount, ship_rate, currency))
            continue
        if key == PRODUCTS and amount == sum(gross_w, ZERO):
            for r, s in zip(rates, shares, strict=True):
                if s.gross:
                    _add(out, key, s.gross, s.gross - order.products_vat(r, currency))
            continue
        if key == SELLER_DISCOUNT and any(s.seller for s in shares):
            weights = [s.seller for s in shares]
        elif key == PLATFORM_FUNDING and any(s.platform for s in shares):
            weights = [s.platform for s in shares]
        else:
            weights = gross_w
        for r, part in zip(rates, allocate(amount, weights, currency), strict=True):
            if part:
                _add(out, key, part, net_of(part, r, currency))
    return out


__all__ = ["PREFIX", "VAT_COMPONENTS", "OrderVat", "RateShare", "allocate", "net_of", "order_vat", "split_order_vat",
           "split_vat", "vat_component"]
