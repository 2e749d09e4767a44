"""Attribution that exists: the affiliate commission per order from TikTok's statement lines (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.domain.finance import Line
from bridge.mapping.attribution import affiliate_commission, orders_with_affiliate

D = Decimal


def line(order_id: str, **fees: str) -> Line:
    return Line(transaction_id=f"t-{order_id}-{len(fees)}", type="ORDER", order_id=order_id,
                breakdown={f"fee.{k}": D(v) for k, v in fees.items()})


@pytest.mark.parametrize(("lines", "expected"), [
    pytest.param([line("o1", affiliate_commission_amount="-2.50")], D("2.50"), id="creator-commission"),
    pytest.param([line("o1", affiliate_commission_amount="-2.50", affiliate_partner_commission_amount="-1.00",
                       affiliate_ads_commission_amount="-0.40")], D("3.90"), id="partner-and-ads-commissions-too"),
    pytest.param([line("o1", affiliate_commission_amount="-2.50"), line("o1", affiliate_commission_amount="1.25")],
                 D("1.25"), id="a-refund-reverses-part-of-it"),
    pytest.param([line("o1", affiliate_commission_amount="-2.50"), line("o1", affiliate_commission_amount="2.50")],
                 D("0.00"), id="fully-reversed-is-zero-not-nothing"),
    pytest.param([line("o1", affiliate_commission_amount_before_pit="-3.00", affiliate_commission_deposit="-5.00",
                       affiliate_commission_release="5.00", referral_fee_amount="-1.80")], None,
                 id="reference-figures-deposits-and-other-fees-are-not-commission"),
    pytest.param([], None, id="no-lines"),
])
def test_affiliate_commission_of_an_order(lines: list[Line], expected: Decimal | None) -> None:
    assert affiliate_commission(lines) == expected


def test_orders_with_affiliate_names_only_orders_that_paid_one() -> None:
    lines = [line("o1", affiliate_commission_amount="-2.50"), line("o2", referral_fee_amount="-1.00"),
             Line(transaction_id="adj", type="LOGISTICS_REIMBURSEMENT", adjustment_order_id="o3",
                  breakdown={"fee.affiliate_ads_commission_amount": D("-0.30")})]
    assert orders_with_affiliate(lines) == {"o1", "o3"}
