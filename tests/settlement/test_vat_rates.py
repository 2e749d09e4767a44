"""VAT inside TikTok's prices split by each order's own VAT and rates (docs/accounting.md, "VAT"): the rule
``bridge.mapping.vat.split_order_vat`` and the settlement flow reading them from TikTok (Get Order Detail and
Get Price Detail through the TikTok orders port).

A DE order with a 7 % and a 19 % item: on the old code the journal split it all at the shop's standard 19 %
(VAT 3.45 instead of 2.49) and the products' VAT came from the rule, not from TikTok's price detail."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bridge.domain.tiktok import PriceDetail
from bridge.mapping.vat import OrderVat, RateShare, net_of, order_vat, split_order_vat, split_vat
from tests.settlement import builders as b
from tests.settlement.conftest import SHOP, make_world
from tests.support.fakes import FakeTikTokOrders

D = Decimal
R7, R19 = D("0.07"), D("0.19")
VAT_ACCOUNT = "2290"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


def _line(lid: str, gross: str, seller: str, rate: Decimal, cancelled: bool = False) -> dict[str, str]:
    """A price detail line item as TikTok gives it in a VAT-inclusive market: the VAT in what the buyer paid."""
    paid = D(gross) - D(seller)
    vat = paid - net_of(paid, rate, "EUR")
    return {"id": lid, "currency": "EUR", "subtotal": str(paid), "subtotal_deduction_seller": seller,
            "subtotal_deduction_platform": "0.00", "subtotal_tax_amount": str(vat), "tax_rate": str(rate),
            "tax_amount": str(vat)}


DETAIL = {"currency": "EUR", "tax_amount": "2.49", "subtotal_tax_amount": "2.49",
          "line_items": [_line("li-food", "10.70", "0.47", R7), _line("li-wine", "11.90", "0.53", R19)]}


def test_tiktoks_price_detail_gives_each_rate_its_gross_discounts_and_vat() -> None:
    ov = order_vat(PriceDetail.model_validate(DETAIL), {"li-food", "li-wine"}, R19)
    assert ov is not None and ov.rates == {R7: RateShare(D("10.70"), D("0.47"), D("0"), D("0.67")),
                                           R19: RateShare(D("11.90"), D("0.53"), D("0"), D("1.82"))}
    # a cancelled line item is not in the order's live items: it leaves the figures
    only = order_vat(PriceDetail.model_validate(DETAIL), {"li-wine"}, R19)
    assert only is not None and list(only.rates) == [R19]
    assert order_vat(PriceDetail.model_validate({"tax_amount": "0.00"}), None, R19) is None  # no VAT from TikTok


def test_an_order_with_two_rates_splits_each_component_at_its_own_items_rate() -> None:
    ov = order_vat(PriceDetail.model_validate(DETAIL), None, R19)
    parts = split_order_vat({"revenue.subtotal_before_discount_amount": D("22.60"),
                             "revenue.seller_discount_amount": D("-1.00"),
                             "shipping.customer_paid_shipping_fee_amount": D("4.99"),
                             "fee.referral_fee_amount": D("-2.00")}, ov, R19, "EUR")
    # products: TikTok's VAT on what the buyer paid (0.67 + 1.82) plus the discounts' (0.03 + 0.08)
    assert parts["vat.revenue.subtotal_before_discount_amount"] == D("2.60")
    assert parts["revenue.subtotal_before_discount_amount"] == D("20.00")
    assert parts["vat.revenue.seller_discount_amount"] == D("-0.11")  # 0.47 at 7 %, 0.53 at 19 %
    assert parts["vat.shipping.customer_paid_shipping_fee_amount"] == D("0.80")  # the shipping rate
    assert parts["fee.referral_fee_amount"] == D("-2.00")  # not VAT-bearing
    assert sum(v for k, v in parts.items() if k.startswith("vat.revenue")) == D("2.49")  # TikTok's VAT exactly
    assert sum(parts.values()) == D("22.60") - D("1.00") + D("4.99") - D("2.00")
    # at the standard rate alone (the old split) the VAT would have been 3.45
    old = split_vat({"revenue.subtotal_before_discount_amount": D("22.60"),
                     "revenue.seller_discount_amount": D("-1.00")}, R19, "EUR")
    assert sum(v for k, v in old.items() if k.startswith("vat.")) == D("3.45")


def test_a_refund_is_shared_over_the_orders_rates_and_other_amounts_fall_back_to_the_rule() -> None:
    ov = OrderVat({R7: RateShare(D("10.00"), D(0), D(0), D("0.65")), R19: RateShare(D("30.00"), D(0), D(0),
                                                                                    D("4.79"))}, R19)
    parts = split_order_vat({"revenue.refund_subtotal_before_discount_amount": D("-20.00")}, ov, R19, "EUR")
    # 5.00 at 7 % (0.33) and 15.00 at 19 % (2.39)
    assert parts == {"revenue.refund_subtotal_before_discount_amount": D("-17.28"),
                     "vat.revenue.refund_subtotal_before_discount_amount": D("-2.72")}
    # TikTok settled another amount than the live items' gross: shared by gross, the rule at each rate
    other = split_order_vat({"revenue.subtotal_before_discount_amount": D("20.00")}, ov, R19, "EUR")
    assert other["vat.revenue.subtotal_before_discount_amount"] == D("2.72")
    # no figure from TikTok: the rule at the shop's rate, as before
    assert split_order_vat({"revenue.subtotal_before_discount_amount": D("12.00")}, None, D("0.20"), "GBP") == {
        "revenue.subtotal_before_discount_amount": D("10.00"), "vat.revenue.subtotal_before_discount_amount": D("2.00")}


def _order(oid: str) -> dict[str, Any]:
    return {"id": oid, "status": "DELIVERED", "currency": "EUR",
            "line_items": [{"id": "li-food", "seller_sku": "FOOD", "display_status": "DELIVERED"},
                           {"id": "li-wine", "seller_sku": "WINE", "display_status": "DELIVERED"},
                           {"id": "li-gone", "seller_sku": "WINE", "display_status": "CANCELLED"}]}


def de_world(sqlite_url: str, tmp_path: Path) -> Any:
    """A German shop: the tests' orders.yaml with prices including VAT at 19 % (7 % for FOOD), EUR deposits."""
    w = make_world(sqlite_url, tmp_path, vat_account=VAT_ACCOUNT, currencies={"USD": "1", "EUR": "4"},
                   deposit={"bank_account": "1000", "bank_accounts": {"EUR": "1020"}})
    spec = yaml.safe_load((FIXTURES / "orders.yaml").read_text())
    spec["defaults"]["tax"] = {"mode": "inclusive", "rate": "0.19", "rates": {"FOOD": "0.07"}, "item": "720"}
    (tmp_path / "specs" / "orders.yaml").write_text(yaml.safe_dump(spec))
    return w


def test_the_statement_journal_books_a_de_orders_vat_at_its_items_rates_read_from_tiktok(
        sqlite_url: str, tmp_path: Path) -> None:
    w = de_world(sqlite_url, tmp_path)
    orders = FakeTikTokOrders()
    orders.put(SHOP, _order("o1"))
    cancelled = _line("li-gone", "11.90", "0.00", R19)  # cancelled before shipping: not on the statement
    orders.price_details[(SHOP, "o1")] = {**DETAIL, "line_items": [*DETAIL["line_items"], cancelled]}
    c = w.c.with_ports(tiktok_orders=orders)
    try:
        s = b.statement("E1", [b.order_line("t1", "o1", gross="22.60", seller_discount="1.00", referral="2.00")],
                        currency="EUR", day="2025-03-03")
        w.add(s, "PE1")
        w.pay("PE1", [s], currency="EUR")
        w.c = c
        w.run_import()
        je = w.journals()["TTS-STMT-E1"]["body"]
        items = je["line"]["items"]

        def net(account: str) -> Decimal:
            return sum((D(str(ln.get("credit", 0))) - D(str(ln.get("debit", 0))) for ln in items
                        if ln["account"] == {"id": account}), D(0))
        assert net(VAT_ACCOUNT) == D("2.49")  # TikTok's VAT, at 7 % and 19 % (the standard rate alone: 3.45)
        assert net("4000") == D("20.00")  # products net of their VAT (2.60)
        assert net("4020") == D("-0.89")  # the seller discount net of its VAT (0.11)
        assert orders.price_detail_calls and set(orders.price_detail_calls) == {"o1"}  # read from TikTok
        assert orders.detail_calls and all(ids == ["o1"] for ids in orders.detail_calls)
    finally:
        c.close()


def test_a_zero_rated_order_carries_no_vat_not_the_shops_standard_rate() -> None:
    """Books and children's clothes are zero-rated in the UK: TikTok's price detail gives their lines rate 0 and
    no VAT. On the old code an order TikTok gave no tax for fell back to the shop's standard rate, so the
    journal booked VAT TikTok never charged (and the audit, using the same figures, could not see it)."""
    r20 = D("0.20")
    book = {"id": "li-book", "currency": "GBP", "subtotal": "12.00", "subtotal_deduction_seller": "0.00",
            "subtotal_deduction_platform": "0.00", "subtotal_tax_amount": "0.00", "tax_rate": "0", "tax_amount": "0.00"}
    ov = order_vat(PriceDetail.model_validate({"currency": "GBP", "tax_amount": "0.00", "line_items": [book]}),
                   None, r20)
    assert ov is not None and list(ov.rates) == [D("0")]
    parts = split_order_vat({"revenue.subtotal_before_discount_amount": D("12.00")}, ov, r20, "GBP")
    assert parts["revenue.subtotal_before_discount_amount"] == D("12.00")
    assert not parts.get("vat.revenue.subtotal_before_discount_amount")
