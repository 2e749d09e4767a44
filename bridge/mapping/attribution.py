"""Attribution that exists: what TikTok actually says about where an order came from and what it cost.

An order's detail has no creator or affiliate; the finance API documents the affiliate commission per
order in its statement transactions (``fee_tax_breakdown.fee``: the creator commission, the affiliate
partner commission and the affiliate ads commission). The bridge writes their total on the sales order
(``custbody_ttns_affiliate_commission``, its own field) when a statement arrives (pure).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from bridge.domain.finance import Line

AFFILIATE_FIELD = "custbody_ttns_affiliate_commission"
# Commissions charged to the seller for the order (negative in statements; a refund reverses them).
# Not affiliate_commission_amount_before_pit (a reference figure), nor the commission deposit and its
# release (reserve movements of volume commissions, not the order's cost).
AFFILIATE_FEES = ("affiliate_commission_amount", "affiliate_partner_commission_amount",
                  "affiliate_ads_commission_amount")


def affiliate_commission(lines: Iterable[Line]) -> Decimal | None:
    """What the seller paid creators and affiliates for one order over its statement lines, as a
    positive amount net of reversals; None when no line carries an affiliate commission."""
    parts = [ln.breakdown[f"fee.{f}"] for ln in lines for f in AFFILIATE_FEES if ln.breakdown.get(f"fee.{f}")]
    if not parts:
        return None
    return -sum(parts, Decimal(0))


def orders_with_affiliate(lines: Iterable[Line]) -> set[str]:
    """The TikTok orders whose lines carry an affiliate commission."""
    return {ln.order_ref for ln in lines if ln.order_ref and any(ln.breakdown.get(f"fee.{f}") for f in AFFILIATE_FEES)}
