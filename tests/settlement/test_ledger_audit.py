"""The ledger audit as a table: TikTok's figures and GL lines in, findings and differences out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge.mapping.ledger_audit import (
    AuditAccounts,
    GlLine,
    Period,
    TikTokPayout,
    TikTokStatement,
    audit,
    figure_of,
)
from bridge.mapping.settlement import label
from bridge.mapping.vat import split_vat

D = Decimal
SALES, DISC, RETURNS, SHIP_IN, REFERRAL, ADJ, CLEARING, BANK, AR, FEES = (
    "4000", "4020", "4010", "4100", "6110", "6220", "1250", "1000", "1100", "6100")
COMPONENTS = {
    "revenue.subtotal_before_discount_amount": D("100.00"),
    "revenue.seller_discount_amount": D("-10.00"),
    "revenue.refund_subtotal_before_discount_amount": D("-20.00"),
    "shipping.customer_paid_shipping_fee_amount": D("5.99"),
    "fee.referral_fee_amount": D("-5.40"),
    "adjustment.SHIPPING_FEE_ADJUSTMENT": D("-4.50"),
}
PAYABLE = sum(COMPONENTS.values(), D(0))  # 66.09
ACCOUNTS = AuditAccounts(
    component_account={"revenue.subtotal_before_discount_amount": SALES, "revenue.seller_discount_amount": DISC,
                        "revenue.refund_subtotal_before_discount_amount": RETURNS,
                        "shipping.customer_paid_shipping_fee_amount": SHIP_IN, "fee.referral_fee_amount": REFERRAL,
                        "adjustment.SHIPPING_FEE_ADJUSTMENT": ADJ, "reserve": CLEARING,
                        "fee.transaction_fee_amount": FEES, "adjustment.PLATFORM_PENALTY": FEES},
    clearing=CLEARING, bank={"USD": BANK}, receivable=frozenset({AR}),
    names={SALES: "4000 Sales", CLEARING: "1250 TikTok Shop Clearing", RETURNS: "4010 Sales Returns"},
    labels={c: label(c) for c in ("fee.transaction_fee_amount", "adjustment.PLATFORM_PENALTY", "reserve")})
PERIODS = (Period("FEB25", date(2025, 2, 1), date(2025, 2, 28)), Period("MAR25", date(2025, 3, 1), date(2025, 3, 31)))


def statement(components: dict[str, Decimal] | None = None, *, sid: str = "S1", pid: str = "P1",
              day: date = date(2025, 2, 27)) -> TikTokStatement:
    comps = COMPONENTS if components is None else components
    order: dict[str, Decimal] = {}
    for k, v in comps.items():
        if not k.startswith("adjustment."):
            order[figure_of(k)] = order.get(figure_of(k), D(0)) + v
    return TikTokStatement("shop", sid, "USD", day, day, pid, sum(comps.values(), D(0)), comps, {"O1": order})


def payout(amount: Decimal = PAYABLE, *, pid: str = "P1", status: str = "PAID") -> TikTokPayout:
    return TikTokPayout("shop", pid, status, amount, "USD", date(2025, 2, 28))


def gl(tid: str, eid: str, kind: str, lines: Sequence[tuple[str, str]], *, period: str = "FEB25",
       day: date = date(2025, 2, 27), order: str = "", memos: Sequence[str] = ()) -> list[GlLine]:
    """GL lines of one document; each line (account, seller-signed amount: + credit, - debit)."""
    out = []
    for i, (acct, amount) in enumerate(lines):
        a = D(amount)
        out.append(GlLine(tid, eid, kind, day, period, acct, -a if a < 0 else D(0), a if a > 0 else D(0), order,
                          memos[i] if i < len(memos) else ""))
    return out


def journal(components: dict[str, Decimal] | None = None, *, tid: str = "101", eid: str = "TTS-STMT-S1",
            period: str = "FEB25") -> list[GlLine]:
    comps = COMPONENTS if components is None else components
    lines = [(ACCOUNTS.component_account[c], str(v)) for c, v in comps.items()]
    lines.append((CLEARING, str(-sum(comps.values(), D(0)))))
    return gl(tid, eid, "Journal", lines, period=period, memos=[label(c) for c in comps])


def deposit(amount: Decimal = PAYABLE, *, tid: str = "201", eid: str = "TTS-PAY-P1") -> list[GlLine]:
    return gl(tid, eid, "Deposit", [(BANK, str(-amount)), (CLEARING, str(amount))], day=date(2025, 2, 28))


def codes(report: object) -> list[tuple[str, str]]:
    return sorted((f.code, f.subject) for f in report.findings)  # type: ignore[attr-defined]


def test_a_posted_statement_and_deposit_audit_clean_with_every_figure_beside_the_gl() -> None:
    rep = audit([statement()], [payout()], [*journal(), *deposit()], ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert rep.findings == () and rep.ok
    assert rep.summary()["difference"] == "0.00"
    totals = {r.figure: (r.tiktok, r.netsuite) for r in rep.totals}
    assert totals["gross_sales"] == (D("100.00"), D("100.00"))
    assert totals["discounts"] == (D("-10.00"), D("-10.00"))
    assert totals["refunds"] == (D("-20.00"), D("-20.00"))
    assert totals["fees"] == (D("-5.40"), D("-5.40"))
    assert totals["adjustments"] == (D("-4.50"), D("-4.50"))
    assert totals["payout"] == (PAYABLE, PAYABLE)
    assert rep.clearing_balance == 0 and rep.clearing_residue == 0
    assert [s.documents for s in rep.statements] == [("TTS-STMT-S1",)]
    groups = {g.account: g for g in rep.groups}
    assert groups[BANK].tiktok == groups[BANK].netsuite == -PAYABLE
    assert CLEARING not in groups  # nothing expected, nothing left
    assert rep.orders == ()  # no order has NetSuite documents of its own in summary mode
    order = rep.order("O1")
    assert order is not None and [o.id for o in rep.all_orders()] == ["O1"]
    assert {r.figure: r.tiktok for r in order.figures}["refunds"] == D("-20.00")


def test_a_statement_left_unposted_is_a_missing_posting_and_a_difference() -> None:
    rep = audit([statement()], [payout(status="PROCESSING")], [], ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert codes(rep) == [("MISSING_POSTING", "statement:S1")]
    assert rep.findings[0].documents == ("TTS-STMT-S1",)
    assert not rep.ok and rep.difference == sum((abs(v) for v in COMPONENTS.values()), D(0)) + PAYABLE
    # no journal, so nothing is due in clearing either: the statement's absence is the one finding
    assert rep.clearing_expected == 0 == rep.clearing_balance


def test_a_journal_posted_but_its_paid_payout_not_deposited_is_missing_and_leaves_clearing() -> None:
    rep = audit([statement()], [payout()], journal(), ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert codes(rep) == [("MISSING_POSTING", "payout:P1"), ("RESIDUE", f"account:{CLEARING}")]
    assert rep.clearing_residue == PAYABLE


def test_a_refund_posted_again_by_a_credit_memo_is_a_double_count_naming_the_documents() -> None:
    memo = gl("301", "TTS-RET-R9", "CustCred", [(RETURNS, "-20.00"), (AR, "20.00")], order="O1")
    rep = audit([statement()], [payout()], [*journal(), *deposit(), *memo], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    doubles = [f for f in rep.findings if f.code == "DOUBLE_COUNT"]
    assert len(doubles) == 1 and doubles[0].subject == "order:O1"
    assert doubles[0].documents == ("TTS-RET-R9", "TTS-STMT-S1") and doubles[0].amount == D("-20.00")
    assert "4010 Sales Returns" in doubles[0].message
    groups = {g.account: g for g in rep.groups}
    assert groups[RETURNS].tiktok == D("-20.00") and groups[RETURNS].netsuite == D("-40.00")
    assert {r.figure: r.netsuite for r in rep.totals}["refunds"] == D("-40.00")
    assert not rep.ok


def test_a_refund_posted_twice_by_a_second_journal_names_that_journal() -> None:
    again = journal({"revenue.refund_subtotal_before_discount_amount": D("-20.00")}, tid="102",
                    eid="TTS-STMT-S1-ADJ1")
    rep = audit([statement()], [payout()], [*journal(), *deposit(), *again], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    doubles = [f for f in rep.findings if f.code == "DOUBLE_COUNT" and f.account == RETURNS]
    assert [f.documents for f in doubles] == [("TTS-STMT-S1-ADJ1",)] and doubles[0].amount == D("-20.00")
    assert rep.statements[0].difference == D("40.00")  # returns -20 too many, clearing 20 too many


def test_a_corrected_statement_with_its_adjusting_journal_audits_clean() -> None:
    corrected = {**COMPONENTS, "fee.referral_fee_amount": D("-6.77")}
    adj = journal({"fee.referral_fee_amount": D("-1.37")}, tid="103", eid="TTS-STMT-S1-ADJ1", period="MAR25")
    new_payable = sum(corrected.values(), D(0))
    rep = audit([statement(corrected)], [payout(new_payable)], [*journal(), *adj, *deposit(new_payable)], ACCOUNTS,
                shop_id="shop", periods=PERIODS)
    assert rep.ok, rep.findings


def test_a_journal_in_another_period_is_named() -> None:
    rep = audit([statement()], [payout()], [*journal(period="MAR25"), *deposit()], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    assert codes(rep) == [("WRONG_PERIOD", "statement:S1")]
    assert "FEB25" in rep.findings[0].message and rep.findings[0].documents == ("TTS-STMT-S1",)


def test_a_reserve_held_in_clearing_is_owed_not_residue_and_its_release_clears_it() -> None:
    held = {**COMPONENTS, "reserve": D("-10.00")}
    s1 = statement(held)
    first = journal(held)
    assert {ln.memo for ln in first if ln.account == CLEARING} >= {label("reserve")}
    rep = audit([s1], [payout(s1.payable)], [*first, *deposit(s1.payable)], ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert rep.ok and rep.clearing_balance == D("10.00") and rep.clearing_expected == D("10.00")
    assert {r.figure: r.netsuite for r in rep.totals}["reserve"] == D("-10.00")
    released = {"reserve": D("10.00")}
    s2 = statement(released, sid="S2", pid="P2", day=date(2025, 2, 28))
    rep2 = audit([s1, s2], [payout(s1.payable), payout(D("10.00"), pid="P2")],
                 [*first, *deposit(s1.payable), *journal(released, tid="111", eid="TTS-STMT-S2"),
                  *deposit(D("10.00"), tid="211", eid="TTS-PAY-P2")], ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert rep2.ok and rep2.clearing_balance == 0 == rep2.clearing_expected


def test_a_hand_made_entry_on_clearing_is_residue_named_by_its_document() -> None:
    manual = gl("900", "", "Journal", [(CLEARING, "-3.00"), (FEES, "3.00")])
    rep = audit([statement()], [payout()], [*journal(), *deposit(), *manual], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    assert codes(rep) == [("RESIDUE", f"account:{CLEARING}")]
    assert rep.findings[0].documents == ("900",) and rep.clearing_residue == D("3.00")


def test_shared_accounts_are_told_apart_by_the_journal_line_memo() -> None:
    comps = {"fee.transaction_fee_amount": D("-1.00"), "adjustment.PLATFORM_PENALTY": D("-25.00"),
             "revenue.subtotal_before_discount_amount": D("40.00")}
    s = statement(comps)
    rep = audit([s], [payout(s.payable)], [*journal(comps), *deposit(s.payable)], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    assert rep.ok
    totals = {r.figure: r.netsuite for r in rep.totals}
    assert totals["fees"] == D("-1.00") and totals["adjustments"] == D("-25.00")
    assert {g.account: g.figures for g in rep.groups}[FEES] == ("adjustments", "fees")


def test_order_documents_that_post_sales_in_summary_mode_are_double_counts_but_not_in_deposit_mode() -> None:
    sale = gl("401", "TTS-shop-O1", "CashSale", [(SALES, "100.00"), (AR, "-100.00")], order="O1")
    lines = [*journal(), *deposit(), *sale]
    summary = audit([statement()], [payout()], lines, ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert ("DOUBLE_COUNT", "order:O1") in codes(summary)
    deposits = audit([statement()], [payout()], lines, ACCOUNTS, shop_id="shop", mode="customer_deposits",
                     periods=PERIODS)
    assert ("DOUBLE_COUNT", "order:O1") not in codes(deposits)


@pytest.mark.parametrize(("component", "figure"), [
    ("revenue.subtotal_before_discount_amount", "gross_sales"), ("revenue.cod_service_fee_amount", "gross_sales"),
    ("revenue.seller_discount_amount", "discounts"), ("revenue.seller_discount_refund_amount", "discounts"),
    ("revenue.refund_subtotal_before_discount_amount", "refunds"), ("shipping.fbt_fulfillment_fee_amount", "shipping"),
    ("fee.platform_commission_amount", "fees"), ("tax.vat_amount", "taxes"), ("adjustment.CHARGE_BACK", "adjustments"),
    ("reserve", "reserve"), ("variance.revenue", "other"), ("receivable.platform_discount", "discounts"),
    ("receivable.sales_tax", "taxes"), ("receivable.difference", "other"),
])
def test_every_component_has_its_figure(component: str, figure: str) -> None:
    assert figure_of(component) == figure


def test_in_deposit_mode_a_sale_settled_against_a_deposit_needs_the_invoice_that_recognises_it() -> None:
    # the journal leaves the sale out (the order's documents carry it); the deposit applies the customer deposit
    sale = {k: v for k, v in COMPONENTS.items() if k in ("revenue.subtotal_before_discount_amount",
                                                         "revenue.seller_discount_amount")}
    rest = {k: v for k, v in COMPONENTS.items() if k not in sale}
    s = statement()
    applied = sum(sale.values(), D(0))  # 90.00, what the buyer paid (no platform discount, no tax here)
    cust_dep = gl("501", "TTS-DEP-shop-O1", "CustDep", [("1200", "-90.00"), ("2100", "90.00")], order="O1")
    dep = gl("201", "TTS-PAY-P1", "Deposit", [(BANK, str(-PAYABLE)), ("1200", "90.00"),
                                              (CLEARING, str(PAYABLE - applied))], day=date(2025, 2, 28))
    lines = [*journal(rest), *dep, *cust_dep]
    rep = audit([s], [payout()], lines, ACCOUNTS, shop_id="shop", mode="customer_deposits", periods=PERIODS)
    assert codes(rep) == [("MISSING_POSTING", "order:O1")]
    assert rep.findings[0].documents == ("TTS-INV-shop-O1", "TTS-STMT-S1") and rep.difference == 0
    invoice = gl("601", "TTS-INV-shop-O1", "CustInvc", [(AR, "-90.00"), (SALES, "100.00"), (DISC, "-10.00")],
                 order="O1")
    applied_to_invoice = gl("602", "", "DepAppl", [("2100", "-90.00"), (AR, "90.00")], order="O1")
    rep = audit([s], [payout()], [*lines, *invoice, *applied_to_invoice], ACCOUNTS, shop_id="shop",
                mode="customer_deposits", periods=PERIODS)
    assert rep.ok, rep.findings
    assert {r.figure: r.netsuite for r in rep.totals}["gross_sales"] == D("100.00")  # recognised by the invoice
    billed_twice = gl("603", "INV-BY-HAND", "CustInvc", [(AR, "-90.00"), (SALES, "100.00"), (DISC, "-10.00")],
                      order="O1")
    rep = audit([s], [payout()], [*lines, *invoice, *applied_to_invoice, *billed_twice], ACCOUNTS, shop_id="shop",
                mode="customer_deposits", periods=PERIODS)
    assert ("DOUBLE_COUNT", "order:O1") in codes(rep)


@pytest.mark.parametrize("mode", ["invoices", "customer_deposits"])
def test_in_receivable_modes_a_sale_not_paid_out_yet_is_owed_through_its_receivable_not_clearing(mode: str) -> None:
    # the statement is journaled but TikTok has not paid it out: the journal left the sale out of clearing, the
    # invoice holds it in A/R until the payout's deposit collects it; together they are what TikTok owes
    sale = {k: v for k, v in COMPONENTS.items() if k in ("revenue.subtotal_before_discount_amount",
                                                         "revenue.seller_discount_amount")}
    rest = {k: v for k, v in COMPONENTS.items() if k not in sale}
    invoice = gl("601", "TTS-INV-shop-O1", "CustInvc", [(AR, "-90.00"), (SALES, "100.00"), (DISC, "-10.00")],
                 order="O1")
    waiting = [payout(status="PROCESSING")]
    rep = audit([statement()], waiting, [*journal(rest), *invoice], ACCOUNTS, shop_id="shop", mode=mode,
                periods=PERIODS)
    assert rep.ok, rep.findings
    assert rep.clearing_expected == PAYABLE - D("90.00") == rep.clearing_balance
    # without the invoice the sale is owed by nothing: the clearing account does not explain it
    rep = audit([statement()], waiting, journal(rest), ACCOUNTS, shop_id="shop", mode=mode, periods=PERIODS)
    assert ("RESIDUE", f"account:{CLEARING}") in codes(rep)
    # in summary mode the journal keeps the sale in clearing and no receivable counts
    rep = audit([statement()], waiting, journal(), ACCOUNTS, shop_id="shop", periods=PERIODS)
    assert rep.ok and rep.clearing_expected == PAYABLE


# -- per component in the receivable modes -------------------------------------------------------------
PLATFORM, TAX = "4050", "2200"


def _receivable_accounts(platform_account: str) -> AuditAccounts:
    return AuditAccounts(
        {**ACCOUNTS.component_account, "revenue.seller_discount_amount": PLATFORM,
         "receivable.platform_discount": platform_account, "receivable.sales_tax": TAX},
        clearing=CLEARING, bank={"USD": BANK, "GBP": BANK}, receivable=frozenset({AR, "1200"}))


def _billed_and_settled(platform_account: str, *, tax_rate: Decimal | None = None, invoice_sales: str = "83.33"
                        ) -> Any:
    """One order: gross 100.00, seller discount 10.00, platform discount 5.00, buyer-paid shipping 5.99.
    The invoice bills what the buyer paid (discount items on 4050); the journal leaves the sale out and
    credits TikTok's funding of the platform discount; the customer payment and the deposit collect it.
    ``tax_rate``: the prices include VAT; TikTok's figures and the journal split by ``bridge.mapping.vat``."""
    comps = split_vat(COMPONENTS, tax_rate, "USD")
    sale = ("revenue.subtotal_before_discount_amount", "revenue.seller_discount_amount",
            "shipping.customer_paid_shipping_fee_amount")
    rest = {k: v for k, v in comps.items() if k not in sale and k.removeprefix("vat.") not in sale}
    rest.update(split_vat({"receivable.platform_discount": D("5.00")}, tax_rate, "USD"))
    paid = D("100.00") - D("10.00") - D("5.00") + D("5.99")  # 90.99 on the invoice
    if tax_rate is None:
        invoice = gl("601", "TTS-INV-shop-O1", "CustInvc", [(AR, str(-paid)), (SALES, "100.00"), (PLATFORM, "-10.00"),
                                                            (PLATFORM, "-5.00"), (SHIP_IN, "5.99")], order="O1")
    else:  # VAT inside TikTok's prices: the invoice posts each component net, the VAT on one line
        vat = paid - (D(invoice_sales) - D("8.33") - D("4.17") + D("4.99"))  # 15.17 on the per-component split
        invoice = gl("601", "TTS-INV-shop-O1", "CustInvc", [(AR, str(-paid)), (SALES, invoice_sales),
                                                            (PLATFORM, "-8.33"), (PLATFORM, "-4.17"),
                                                            (SHIP_IN, "4.99"), (TAX, str(vat))], order="O1")
    payment = gl("602", "TTS-PMT-shop-O1", "CustPymt", [("1200", str(-paid)), (AR, str(paid))], order="O1")
    payable = PAYABLE  # TikTok pays the sale less the seller's discount: it funds the platform discount itself
    dep = gl("201", "TTS-PAY-P1", "Deposit", [(BANK, str(-payable)), ("1200", str(paid)),
                                              (CLEARING, str(payable - paid))], day=date(2025, 2, 28))
    accounts = _receivable_accounts(platform_account)
    if tax_rate is not None:
        accounts = replace(accounts, vat=TAX, component_account={
            **accounts.component_account, **{c: TAX for c in (*comps, *rest) if c.startswith("vat.")}})
    jlines = [(accounts.component_account[c], str(v)) for c, v in rest.items()]
    jlines.append((CLEARING, str(-sum(rest.values(), D(0)))))
    order_figures: dict[str, Decimal] = {}
    for c, v in comps.items():
        if c.startswith(("revenue.subtotal", "revenue.seller", "shipping.customer", "vat.revenue.subtotal",
                         "vat.revenue.seller", "vat.shipping")):
            order_figures[figure_of(c)] = order_figures.get(figure_of(c), D(0)) + v
    s = TikTokStatement("shop", "S1", "USD", date(2025, 2, 27), date(2025, 2, 27), "P1", payable, comps,
                        {"O1": order_figures})
    return audit([s], [payout(payable)], [*gl("101", "TTS-STMT-S1", "Journal", jlines), *invoice, *payment, *dep],
                 accounts, shop_id="shop", mode="invoices", periods=PERIODS)


def test_in_receivable_modes_each_figure_matches_tiktok_when_the_platform_discount_posts_where_the_invoice_debits_it(
) -> None:
    rep = _billed_and_settled(PLATFORM)
    assert rep.ok, rep.findings
    totals = {r.figure: (r.tiktok, r.netsuite) for r in rep.totals}
    assert totals["gross_sales"] == (D("100.00"), D("100.00"))  # the invoice's item lines, nothing else
    assert totals["discounts"] == (D("-10.00"), D("-10.00"))  # seller discount; TikTok's funding cancels its part
    assert totals["shipping"] == (D("5.99"), D("5.99"))
    assert all(r.difference == 0 for r in rep.totals)


def test_a_platform_discount_credited_to_sales_shows_as_gross_sales_tiktok_never_reported() -> None:
    rep = _billed_and_settled(SALES)  # the old advice: "platform_discount_account: your sales account"
    totals = {r.figure: r for r in rep.totals}
    assert totals["gross_sales"].difference == D("5.00") and totals["discounts"].difference == D("-5.00")


def test_vat_inside_tiktoks_prices_is_compared_net_and_apart_per_figure() -> None:
    """VAT is a liability: TikTok's VAT-inclusive figures split per component (bridge.mapping.vat) beside the
    invoice's net lines and the VAT posted by the invoice and the journal (TikTok's funding of the platform
    discount carries VAT too): gross sales, discounts, shipping and VAT each agree to the cent."""
    rep = _billed_and_settled(PLATFORM, tax_rate=D("0.20"))
    assert rep.ok, rep.findings
    totals = {r.figure: (r.tiktok, r.netsuite) for r in rep.totals}
    assert totals["gross_sales"] == (D("83.33"), D("83.33"))  # 100.00 / 1.2
    assert totals["discounts"] == (D("-8.33"), D("-8.33"))  # -8.33 - 4.17 on the invoice + 4.17 TikTok's funding
    assert totals["shipping"] == (D("4.99"), D("4.99"))
    assert totals["refunds"] == (D("-16.67"), D("-16.67"))
    # 16.67 - 1.67 + 1.00 - 3.33: the invoice's 15.17 and the journal's 0.83 (funding) - 3.33 (refund)
    assert totals["vat"] == (D("12.67"), D("12.67"))
    assert totals["taxes"] == (D("0"), D("0"))
    # an invoice that rounds the order once (the old rule: 83.32 on Sales, the cent moved) is named per figure
    rows = [(r.figure, r.difference) for r in _billed_and_settled(PLATFORM, tax_rate=D("0.20"),
                                                                    invoice_sales="83.32").totals if r.difference]
    assert rows == [("gross_sales", D("-0.01")), ("vat", D("0.01"))]


# -- the double-revenue guard ---------------------------------------------------------------------------
def test_an_invoice_an_admin_bills_for_a_tiktok_order_in_summary_mode_is_a_double_count_naming_it() -> None:
    # billed by NetSuite's billing run: no external id of the bridge, income on an account the spec does not map
    billed = gl("777", "", "CustInvc", [(AR, "-90.00"), ("4999", "100.00"), (DISC, "-10.00")], order="O1")
    rep = audit([statement()], [payout()], [*journal(), *deposit(), *billed], ACCOUNTS, shop_id="shop",
                periods=PERIODS)
    [finding] = [f for f in rep.findings if f.subject == "order:O1"]
    assert finding.code == "DOUBLE_COUNT" and finding.documents[:2] == ("CustInvc #777", "TTS-STMT-S1")
    assert finding.amount == D("90.00") and "billed outside the bridge" in finding.message
    assert rep.order("O1") is not None and rep.order("O1").documents == ("CustInvc #777",)  # type: ignore[union-attr]
    # the same invoice in a receivable mode is the order's one invoice: no double count
    rep = audit([statement()], [payout()], [*journal(), *deposit(), *billed], ACCOUNTS, shop_id="shop",
                mode="invoices", periods=PERIODS)
    assert ("DOUBLE_COUNT", "order:O1") not in codes(rep)


# -- currencies -----------------------------------------------------------------------------------------
def _in(lines: list[GlLine], currency: str, rate: str = "1") -> list[GlLine]:
    """The lines as transactionaccountingline holds them: in the base currency, at the document's rate."""
    r = D(rate)
    return [GlLine(ln.transaction, ln.external_id, ln.type, ln.tran_date, ln.period, ln.account,
                   (ln.debit * r).quantize(D("0.01")), (ln.credit * r).quantize(D("0.01")), ln.order_id, ln.memo,
                   currency, r) for ln in lines]


def test_each_statement_says_in_which_currency_it_is_compared() -> None:
    gbp = TikTokStatement("shop", "S1", "GBP", date(2025, 2, 27), date(2025, 2, 27), "P1", PAYABLE, COMPONENTS, {})
    pay = TikTokPayout("shop", "P1", "PAID", PAYABLE, "GBP", date(2025, 2, 28))
    accounts = AuditAccounts(ACCOUNTS.component_account, CLEARING, {"GBP": BANK}, ACCOUNTS.receivable,
                             ACCOUNTS.names, ACCOUNTS.labels)
    # posted in a GBP subsidiary: compared as posted
    rep = audit([gbp], [pay], [*_in(journal(), "GBP"), *_in(deposit(), "GBP")], accounts, periods=PERIODS)
    assert rep.ok, rep.findings
    assert rep.statements[0].basis.startswith("GBP: NetSuite's GL as posted")
    assert rep.summary()["currencies"] == ["GBP"]
    # posted in a USD subsidiary at NetSuite's rate 1.27: converted back with that rate, to the cent
    rep = audit([gbp], [pay], [*_in(journal(), "GBP", "1.27"), *_in(deposit(), "GBP", "1.27")], accounts,
                periods=PERIODS)
    assert rep.ok, rep.findings
    assert "exchange rate (1.27)" in rep.statements[0].basis and "exchange rate (1.27)" in rep.payouts[0].basis
    # a document in another currency than its statement is named, never mixed in
    rep = audit([gbp], [pay], [*_in(journal(), "USD"), *_in(deposit(), "GBP")], accounts, periods=PERIODS)
    mixed = [f for f in rep.findings if "does not mix currencies" in f.message]
    assert [f.documents for f in mixed] == [("TTS-STMT-S1",)] and "is in USD, statement S1 in GBP" in mixed[0].message
    assert not rep.ok


# -- a payout of nothing in the receivable modes --------------------------------------------------------
def test_a_payout_of_nothing_deposits_its_orders_documents_into_clearing() -> None:
    sale = {k: v for k, v in COMPONENTS.items() if k in ("revenue.subtotal_before_discount_amount",
                                                         "revenue.seller_discount_amount")}
    rest = {"revenue.refund_subtotal_before_discount_amount": D("-120.00")}  # refunds exceed the day's sale
    payable = D("-30.00")  # 90.00 sale - 120.00 refunds
    s = TikTokStatement("shop", "S1", "USD", date(2025, 2, 27), date(2025, 2, 27), "P1", payable,
                        {**sale, **rest}, {"O1": {"gross_sales": D("100.00"), "discounts": D("-10.00")}})
    nothing = TikTokPayout("shop", "P1", "PAID", payable, "USD", date(2025, 2, 28))
    cust_dep = gl("501", "TTS-DEP-shop-O1", "CustDep", [("1200", "-90.00"), ("2100", "90.00")], order="O1")
    invoice = gl("601", "TTS-INV-shop-O1", "CustInvc", [(AR, "-90.00"), (SALES, "100.00"), (DISC, "-10.00")],
                 order="O1")
    applied = gl("602", "", "DepAppl", [("2100", "-90.00"), (AR, "90.00")], order="O1")
    lines = [*journal(rest), *cust_dep, *invoice, *applied]
    accounts = AuditAccounts(ACCOUNTS.component_account, CLEARING, ACCOUNTS.bank, frozenset({AR, "1200"}),
                             ACCOUNTS.names, ACCOUNTS.labels)
    rep = audit([s], [nothing], lines, accounts, shop_id="shop", mode="customer_deposits", periods=PERIODS)
    assert ("RESIDUE", "account:receivable") in codes(rep)  # the customer deposit never leaves undeposited funds
    into_clearing = gl("201", "TTS-PAY-P1", "Deposit", [(CLEARING, "-90.00"), ("1200", "90.00")],
                       day=date(2025, 2, 28))
    rep = audit([s], [nothing], [*lines, *into_clearing], accounts, shop_id="shop", mode="customer_deposits",
                periods=PERIODS)
    assert rep.ok, rep.findings
    assert rep.clearing_balance == payable == rep.clearing_expected  # the negative statement is still owed
