"""The accounting model (docs/accounting.md) proved in the general ledger, once per settlement mode:
both sandboxes, the real SuiteScript user events, the bridge's own flows. A TikTok order is placed,
shipped from NetSuite, delivered and settled (statement 1, paid out); then the buyer returns one unit
and TikTok refunds it (statement 2, paid out). NetSuite's GL, read back through SuiteQL
``transactionaccountingline``, must hold the order's revenue exactly once — what TikTok's statements
say, no more — with no credit memo beside the statement's refund line, the sales order in a final
state, and nothing left in clearing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.bootstrap import build
from bridge.domain.keys import order_key
from bridge.errors import NeedsHumanError
from bridge.flows import settlement
from bridge.mapping.accounting import posting_date
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.settlement import account_for
from bridge.mapping.settlement_spec import SettlementSpec
from bridge.sandbox.tiktok import TikTokSandboxConfig
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.tiktok import wiring
from bridge.web import create_app
from tests.fulfillment.conftest import Bridge

D = Decimal
ZERO = D(0)
REVENUE_DOCUMENTS = ("CustInvc", "CustCred", "CashSale", "CashRfnd")


@contextmanager
def mode(b: Bridge, name: str) -> Iterator[None]:
    """Every flow of the world reads the shop's settlement mode from the one SpecSet; customer
    deposits are recorded at order time in mode customer_deposits (orders.yaml ``deposit``)."""
    specs = b.c.specs.loaded()
    before = dict(specs.specs)
    raw = before["settlement"].model_dump(by_alias=True, exclude_unset=True, mode="json")
    raw["defaults"]["mode"] = name
    orders = before["orders"].model_dump(by_alias=True, exclude_unset=True, mode="json")
    orders["defaults"]["deposit"] = {"enabled": name == "customer_deposits"}
    specs.specs.update(settlement=SettlementSpec.model_validate(raw), orders=OrdersSpec.model_validate(orders))
    try:
        yield
    finally:
        specs.specs.clear()
        specs.specs.update(before)


@dataclass(frozen=True)
class GlLine:
    tran: str
    type: str
    external_id: str
    tran_date: str
    account: str
    number: str
    acct_type: str
    amount: D  # debit − credit


def gl_since(b: Bridge, after: int) -> list[GlLine]:
    rows, _ = b.ns.suiteql(
        "SELECT t.id, t.type, t.externalid, t.trandate, a.id AS acct, a.acctnumber, a.accttype, tal.debit, tal.credit "
        "FROM transactionaccountingline tal JOIN transaction t ON t.id = tal.transaction "
        f"JOIN account a ON a.id = tal.account WHERE t.id > {after} AND tal.posting = 'T'")  # noqa: S608 - an int
    return [GlLine(str(r["id"]), str(r["type"]), str(r.get("externalid") or ""), str(r.get("trandate") or ""),
                   str(r["acct"]), str(r["acctnumber"]), str(r["accttype"]),
                   D(str(r.get("debit") or 0)) - D(str(r.get("credit") or 0))) for r in rows]


def last_transaction(b: Bridge) -> int:
    rows, _ = b.ns.suiteql("SELECT MAX(id) AS m FROM transaction")
    return int(rows[0].get("m") or 0) if rows else 0


def settle_day(b: Bridge) -> tuple[str, datetime]:
    """TikTok closes the next day's statement at 00:00 UTC; the bridge imports it and posts its
    journal. Returns (statement id, its close)."""
    sid, midnight = close_day(b)
    posted = b.c.flows.settlement.post_statement(b.shop, sid)
    assert posted["action"] == "posted", posted
    return sid, midnight


def close_day(b: Bridge) -> tuple[str, datetime]:
    """TikTok closes the next day's statement; the bridge imports it (not posted yet)."""
    (stmt,), midnight = b.tt.close_next_day(b.shop)
    svc = b.c.flows.settlement
    around = b.c.clock.now()
    svc.import_window(b.shop, around - timedelta(days=60), around + timedelta(days=60))
    return str(stmt["id"]), midnight


def pay_out(b: Bridge, statement_id: str) -> dict[str, Any]:
    svc = b.c.flows.settlement
    row = svc.repo.statement(b.shop, statement_id)
    assert row is not None and row.payment_id
    return svc.post_payout(b.shop, row.payment_id)


def tiktok_income(b: Bridge, statement_ids: list[str], income_accounts: set[str]) -> D:
    """What TikTok's statements say the shop earned (revenue and shipping income components on the
    income accounts settlement.yaml maps them to), signed as the GL: credit negative."""
    svc = b.c.flows.settlement
    settings = svc.posting_settings(b.shop)
    total = ZERO
    for sid in statement_ids:
        row = svc.repo.statement(b.shop, sid)
        assert row is not None and not row.blocking_checks, row
        for comp, amount in row.components.items():
            if account_for(comp, settings)[0] in income_accounts:
                total -= amount
    return total


def run_order_to_refund(b: Bridge, *, pay: bool = True) -> dict[str, Any]:
    """order → ship → deliver → statement 1 + payout → return one unit with refund → statement 2 +
    payout. Returns what the assertions need."""
    start = last_transaction(b)
    o = b.order([("MUG-001", 2)], shipping_fee="4.99")
    b.fulfill(o["id"], None, ["9400111202555842769" + o["id"][-3:].rjust(3, "0")])
    b.tt.advance_order(o["id"], to="DELIVERED")
    s1, close1 = settle_day(b)
    payouts = [pay_out(b, s1)] if pay else []
    unit = o["line_items"][0]["id"]
    ret = b.tt.request_return(o["id"], line_item_ids=[unit], return_type="RETURN_AND_REFUND")
    b.drain()
    aftersale = b.c.tiktok().shop(b.shop).returns
    aftersale.approve_return(ret["return_id"], "APPROVE_RETURN")
    b.drain()
    b.tt.buyer_ships_return(ret["return_id"])
    aftersale.approve_return(ret["return_id"], "APPROVE_RECEIVED_PACKAGE")
    b.drain()
    # a second order settles on the same day as the refund, so TikTok pays that statement out
    # (a statement that only takes money back is netted from a later payout); one of its units is
    # refunded without a return before it settles (refund only: sale and refund on one line)
    o2 = b.order([("CAP-001", 3)])
    b.fulfill(o2["id"], None, ["9400111202555842768" + o2["id"][-3:].rjust(3, "0")])
    b.tt.advance_order(o2["id"], to="DELIVERED")
    only = b.tt.request_return(o2["id"], line_item_ids=[o2["line_items"][0]["id"]], return_type="REFUND")
    aftersale.approve_return(only["return_id"], "APPROVE_REFUND")
    b.drain()
    s2, close2 = settle_day(b)
    if pay:
        payouts.append(pay_out(b, s2))
    return {"order": o, "second": o2, "return": ret, "refund_only": only, "statements": [s1, s2],
            "closes": [close1, close2], "start": start, "payouts": payouts}


def accounts(b: Bridge) -> dict[str, dict[str, str]]:
    rows, _ = b.ns.suiteql("SELECT id, acctnumber, accttype FROM account")
    return {str(r["id"]): {"number": str(r["acctnumber"]), "type": str(r["accttype"])} for r in rows}


def check_common(b: Bridge, run: dict[str, Any], expect_documents: dict[str, int]) -> list[GlLine]:
    gl = gl_since(b, run["start"])
    chart = accounts(b)
    income = {a for a, info in chart.items() if info["type"] in ("Income", "OthIncome")}
    recognised = -sum((ln.amount for ln in gl if ln.account in income), ZERO)
    said = -tiktok_income(b, run["statements"], income)
    # revenue exactly once: the GL's income for this order is what TikTok's two statements say
    assert recognised == said, (recognised, said, [(ln.type, ln.number, ln.amount) for ln in gl
                                                   if ln.account in income])
    assert said > 0
    # and only the documents of the mode touch revenue: the journals, plus the invoices in receivable modes
    assert {ln.type for ln in gl if ln.account in income} == ({"Journal", "CustInvc"} if expect_documents
                                                               else {"Journal"})
    # the sales orders are dated on the day the buyers paid, in the shop's zone (America/Los_Angeles)
    for order in (run["order"], run["second"]):
        so = b.ns.get("salesOrder", b.so(order["id"])).data
        paid = datetime.fromtimestamp(int(order["paid_time"]), UTC)
        assert so["tranDate"] == posting_date(paid, "America/Los_Angeles").isoformat()
    # the refund is reversed once: by the statement, never by a credit memo or cash refund too
    ret_link = b.c.store.links.get("return", b.shop, str(run["return"]["return_id"]))
    assert ret_link is not None and ret_link.data.get("refund_by") == "statement" and ret_link.data.get("ra_id")
    only = b.c.store.links.get("return", b.shop, str(run["refund_only"]["return_id"]))
    assert only is not None and only.data.get("refund_by") == "statement"
    assert not only.data.get("ra_id"), "a refund without a return writes nothing in NetSuite"
    # statement 2 carries both refunds (the return's and the refund only), and it is what reversed them
    row = b.c.flows.settlement.repo.statement(b.shop, run["statements"][1])
    assert row is not None
    units = {li["id"]: D(li["original_price"]) for o in (run["order"], run["second"]) for li in o["line_items"]}
    taken_back = units[run["order"]["line_items"][0]["id"]] + units[run["second"]["line_items"][0]["id"]]
    assert row.components["revenue.refund_subtotal_before_discount_amount"] == -taken_back
    assert [r["return_status"] for r in b.tt.returns(order_id=run["second"]["id"])] == [
        "RETURN_OR_REFUND_REQUEST_COMPLETE"], "TikTok refunded it"
    documents: dict[str, int] = {}
    for t in {(ln.tran, ln.type) for ln in gl if ln.type in REVENUE_DOCUMENTS}:
        documents[t[1]] = documents.get(t[1], 0) + 1
    assert documents == expect_documents
    # both journals are dated on the local day (America/Los_Angeles) of TikTok's 00:00 UTC close
    journals = {ln.external_id: datetime.strptime(ln.tran_date, "%m/%d/%Y").date()  # SuiteQL's date format
                for ln in gl if ln.type == "Journal"}
    for sid, close in zip(run["statements"], run["closes"], strict=True):
        assert journals[f"TTS-STMT-{sid}"] == posting_date(close, "America/Los_Angeles")
        assert journals[f"TTS-STMT-{sid}"] == (close - timedelta(days=1)).date()
    # the clearing account is empty once both payouts are deposited
    clearing = next(a for a, info in chart.items() if info["number"] == "1250")
    if run["payouts"] and all(p["action"] == "posted" for p in run["payouts"]):
        assert sum((ln.amount for ln in gl if ln.account == clearing), ZERO) == ZERO
    assert b.exceptions(run["order"]["id"]) == [] and b.exceptions(run["second"]["id"]) == []
    return gl


def balance(gl: list[GlLine], number: str) -> D:
    return sum((ln.amount for ln in gl if ln.number == number), ZERO)


def test_summary_mode_statement_recognises_and_reverses_the_revenue_and_the_order_is_closed(b2: Bridge) -> None:
    with mode(b2, "summary"):
        run = run_order_to_refund(b2)
        gl = check_common(b2, run, expect_documents={})
        assert [p["action"] for p in run["payouts"]] == ["posted", "posted"]
        for order in (run["order"], run["second"]):
            so = b2.ns.get("salesOrder", b2.so(order["id"])).data
            assert so["status"]["id"] == "H", "fulfilled and closed: NetSuite's billing cannot double the revenue"
        assert balance(gl, "1100") == ZERO and balance(gl, "1200") == ZERO, "nothing in receivables"


def test_customer_deposits_mode_invoice_recognises_and_the_statement_reverses(b2: Bridge) -> None:
    with mode(b2, "customer_deposits"):
        run = run_order_to_refund(b2)
        gl = check_common(b2, run, expect_documents={"CustInvc": 2})
        assert [p["action"] for p in run["payouts"]] == ["posted", "posted"]
        so = b2.ns.get("salesOrder", b2.so(run["order"]["id"])).data
        assert so["status"]["id"] == "G", "billed at shipment"
        # the customer deposit recorded at order time went to the bank with the payout, and billing the
        # order applied it to the invoice (NetSuite's deposit application, Dr Customer deposits / Cr A/R)
        assert balance(gl, "1200") == ZERO
        assert balance(gl, "1100") == ZERO and balance(gl, "2100") == ZERO, "nothing in receivables or deposits"
        assert {ln.type for ln in gl if ln.number == "2100"} == {"CustDep", "DepAppl"}


def test_invoices_mode_invoice_recognises_and_the_statement_reverses(b2: Bridge) -> None:
    with mode(b2, "invoices"):
        run = run_order_to_refund(b2)
        gl = check_common(b2, run, expect_documents={"CustInvc": 2})
        assert [p["action"] for p in run["payouts"]] == ["posted", "posted"]
        so = b2.ns.get("salesOrder", b2.so(run["order"]["id"])).data
        assert so["status"]["id"] == "G", "billed at shipment"
        # each payout's customer payments paid the invoices and went to the bank with the deposit
        assert {ln.type for ln in gl if ln.number == "1100"} == {"CustInvc", "CustPymt"}
        assert balance(gl, "1100") == ZERO and balance(gl, "1200") == ZERO, "nothing in receivables"


def test_a_closed_period_posts_nothing_and_the_replay_after_reopening_posts_once(b2: Bridge) -> None:
    with mode(b2, "summary"):
        o = b2.order([("CAP-001", 1)])
        b2.fulfill(o["id"], None, ["9400111202555842767" + o["id"][-3:].rjust(3, "0")])
        b2.tt.advance_order(o["id"], to="DELIVERED")
        sid, close = close_day(b2)
        period = posting_date(close, "America/Los_Angeles").strftime("%Y-%m")
        svc = b2.c.flows.settlement
        b2.ns.close_period(period)
        try:
            with pytest.raises(NeedsHumanError) as refused:
                svc.post_statement(b2.shop, sid)
            err = refused.value
            assert (err.code, err.owner) == ("NS_PERIOD_CLOSED", "finance") and "Reopen" in err.fix_hint
            assert "closed" in str(err.evidence.as_dict() if err.evidence else err).lower()
            found, _ = b2.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-STMT-{sid}'")  # noqa: S608
            assert found == [], "a journal is all or nothing: NetSuite kept no part of it"
            row = svc.repo.statement(b2.shop, sid)
            assert row is not None and row.status not in settlement.POSTED and row.line_count >= 1
        finally:
            b2.ns.close_period(period, closed=False)
        assert svc.post_statement(b2.shop, sid)["action"] == "posted"
        assert svc.post_statement(b2.shop, sid)["action"] == "unchanged"
        found, _ = b2.ns.suiteql(f"SELECT id FROM transaction WHERE externalid = 'TTS-STMT-{sid}'")  # noqa: S608
        assert len(found) == 1


@pytest.fixture(scope="module")
def b2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    """The fulfillment tests' world, with TikTok settling orders once delivered (a delivered order
    can still be returned, so the refund reaches a later statement than the sale)."""
    tmp = tmp_path_factory.mktemp("accounting-world")
    world = SandboxWorld(tmp, run_scripts=True, tiktok=TikTokSandboxConfig(
        webhook_time_scale=0.01, hold_seconds=3600, settle_on="DELIVERED", webhook_loopback_http=True)).start()
    db = f"sqlite:///{tmp / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02))
    c = c.with_clients(tiktok=wiring.build(c.settings, c.store, c.clock, sleep=lambda s: time.sleep(min(s, 0.05))))
    world.serve(create_app(root=c))
    world.connect_shop(c)
    try:
        yield Bridge(world, c, c.worker(threads=2, name="accounting-test"))
    finally:
        c.close()
        world.close()


def test_the_affiliate_commission_of_tiktoks_statements_lands_on_the_sales_order_and_only_there(b2: Bridge) -> None:
    """Attribution that exists: TikTok's statement lines carry the affiliate commission per order; the
    bridge writes it to its own field on the sales order (a person's memo and line stay), and a refund's
    reversal in a later statement lowers it."""
    from bridge.sandbox.netsuite.sandbox import UI as UI_CONTEXT
    from bridge.sandbox.netsuite.sandbox import ExecContext

    o = b2.order([("MUG-001", 2)], shipping_fee="4.99", affiliate_rate="0.10")
    so = b2.so(o["id"])
    b2.ns.update("salesOrder", so, {"memo": "influencer order: thank-you card"}, ExecContext(context_type=UI_CONTEXT))
    b2.fulfill(o["id"], None, ["9400111202555842799" + o["id"][-3:].rjust(3, "0")])
    b2.tt.advance_order(o["id"], to="DELIVERED")
    s1, _close = settle_day(b2)
    b2.drain()

    def tiktok_commission(statement_ids: list[str]) -> D:
        lines = [ln for sid in statement_ids for ln in b2.c.flows.settlement.repo.lines(b2.shop, sid)
                 if ln.order_ref == o["id"]]
        return -sum((ln.part("fee.affiliate_commission_amount") for ln in lines), ZERO)

    rec = b2.ns.get("salesOrder", so).data
    first = tiktok_commission([s1])
    assert first == (D(o["payment"]["sub_total"]) * D("0.10")).quantize(D("0.01")) > 0  # 10 % of net sales
    assert D(str(rec["custbody_ttns_affiliate_commission"])) == first
    assert rec["memo"] == "influencer order: thank-you card"  # the bridge wrote its own field only
    assert b2.c.store.exceptions.list(status="open", entity=order_key(b2.shop, o['id'])) == []

    unit = o["line_items"][0]["id"]
    ret = b2.tt.request_return(o["id"], line_item_ids=[unit], return_type="REFUND")
    b2.c.tiktok().shop(b2.shop).returns.approve_return(ret["return_id"], "APPROVE_REFUND")
    b2.drain()
    other = b2.order([("CAP-001", 1)])  # something to settle on the refund's day
    b2.fulfill(other["id"], None, ["9400111202555842798" + other["id"][-3:].rjust(3, "0")])
    b2.tt.advance_order(other["id"], to="DELIVERED")
    s2, _close2 = settle_day(b2)
    b2.drain()
    total = tiktok_commission([s1, s2])
    assert 0 < total < first  # the refunded unit's commission came back
    assert D(str(b2.ns.get("salesOrder", so).data["custbody_ttns_affiliate_commission"])) == total
