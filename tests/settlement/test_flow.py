"""The settlement flow through the real queue and worker, with fakes of TikTok finance and the
NetSuite ledger: daily import, checks as exceptions, matching, one journal per statement, one deposit
per payout, the one adjusting entry of a corrected statement, and idempotent writes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bridge.errors import NeedsHumanError
from bridge.flows.settlement import post_job
from tests.settlement import builders as b
from tests.settlement.conftest import SHOP, World, make_world
from tests.settlement.specs import ACCOUNTS as A

D = Decimal


def day_one(world: World) -> dict[str, object]:
    s = b.statement("S1", [
        b.order_line("t1", "o1", gross="100.00", seller_discount="10.00", shipping_paid="5.99", referral="5.40",
                     tax="7.00"),
        b.order_line("t2", "o2", gross="40.00", referral="2.40", affiliate="4.00"),
        b.adjustment_line("t3", "a1", "SHIPPING_FEE_ADJUSTMENT", "-4.50", order_id="o1"),
    ], day="2025-03-03")
    world.add(s, "P1")
    world.pay("P1", [s])
    world.link("o1", "5001", expected_total="102.99")  # 90.00 + 5.99 shipping + 7.00 tax
    world.link("o2", "5002", expected_total="40.00")
    return s


def test_daily_import_posts_one_balanced_journal_and_one_deposit(world: World) -> None:
    s = day_one(world)
    world.run_import()
    (je,) = world.journals().values()
    lines = je["body"]["line"]["items"]
    assert sum(ln.get("debit", 0) for ln in lines) == sum(ln.get("credit", 0) for ln in lines)
    assert je["body"]["externalId"] == "TTS-STMT-S1" and je["body"]["tranDate"] == "2025-03-03"
    clearing = [ln for ln in lines if ln["account"] == {"id": A["clearing"]}]
    assert [ln["debit"] for ln in clearing] == [D(s["payable_amount"])]
    (dep,) = world.deposits().values()
    assert dep["body"]["externalId"] == "TTS-PAY-P1" and dep["body"]["account"] == {"id": A["bank"]}
    assert dep["body"]["other"]["items"][0]["amount"] == D(s["payable_amount"])  # the bank sees the payout exactly
    row = world.repo.statement(SHOP, "S1")
    assert row is not None and (row.status, row.matched, row.unmatched, row.line_count) == ("posted", 3, 0, 3)
    assert world.c.store.exceptions.list(status="open") == []
    lines_stored = world.repo.lines(SHOP, "S1")
    assert {ln.transaction_id for ln in lines_stored} == {"t1", "t2", "t3"}
    assert next(ln for ln in lines_stored if ln.transaction_id == "t1").part("fee.referral_fee_amount") == D("-5.40")

    rep = world.c.flows.settlement.report(statement_id="S1")
    assert rep is not None and rep.gross_sales == D("140.00") and rep.fees == D("-11.80") and rep.variance == 0
    assert (rep.orders_matched, rep.orders_unmatched, rep.adjustments_matched) == (2, 0, 1)
    pay = world.c.flows.settlement.report(payment_id="P1")
    assert pay is not None and pay.payout == D(s["payable_amount"]) and pay.clearing_balance == 0
    assert [p.kind for p in pay.postings] == ["journal", "deposit"]
    assert [r.id for r in world.c.flows.settlement.list_reports()] == ["S1"]


def test_a_second_import_posts_nothing_again(world: World) -> None:
    day_one(world)
    world.run_import()
    writes = world.ledger.calls["upsert"]
    world.clock.advance(hours=1)
    world.run_import()
    assert world.ledger.calls["upsert"] == writes
    assert len(world.journals()) == 1 and len(world.deposits()) == 1
    # a statement job replayed by hand posts nothing either: the job key serialises, the posting record dedupes
    world.c.store.queue.enqueue(post_job(SHOP, "S1", "again"))
    world.drain()
    assert world.ledger.calls["upsert"] == writes


def test_a_corrected_statement_makes_exactly_one_adjusting_entry(world: World) -> None:
    day_one(world)
    world.run_import()
    original = dict(world.journals()["TTS-STMT-S1"])
    # TikTok re-issues S1: the referral fee of o2 was 1.25 higher
    s = b.statement("S1", [
        b.order_line("t1", "o1", gross="100.00", seller_discount="10.00", shipping_paid="5.99", referral="5.40",
                     tax="7.00"),
        b.order_line("t2", "o2", gross="40.00", referral="3.65", affiliate="4.00"),
        b.adjustment_line("t3", "a1", "SHIPPING_FEE_ADJUSTMENT", "-4.50", order_id="o1"),
    ], day="2025-03-03")
    world.add(s, "P1")
    world.clock.advance(days=1)
    world.run_import()
    world.clock.advance(hours=2)
    world.run_import()  # and again: nothing more
    journals = world.journals()
    assert set(journals) == {"TTS-STMT-S1", "TTS-STMT-S1-ADJ1"}
    assert journals["TTS-STMT-S1"]["writes"] == 1 and journals["TTS-STMT-S1"]["body"] == original["body"]
    adj = journals["TTS-STMT-S1-ADJ1"]["body"]
    assert adj["tranDate"] == "2025-03-05"  # dated when found, never back into the original period
    assert {(ln["account"]["id"], ln.get("debit"), ln.get("credit")) for ln in adj["line"]["items"]} == {
        (A["referral"], D("1.25"), None), (A["clearing"], None, D("1.25"))}
    row = world.repo.statement(SHOP, "S1")
    assert row is not None and (row.revision, row.status) == (2, "adjusted")
    assert len(world.deposits()) == 1
    rep = world.c.flows.settlement.report(statement_id="S1")
    assert rep is not None and [p.external_id for p in rep.postings] == ["TTS-STMT-S1", "TTS-STMT-S1-ADJ1"]


def test_a_broken_formula_is_a_finance_exception_and_holds_the_statement(world: World) -> None:
    s = b.statement("S2", [b.order_line("t1", "o1", gross="50.00", referral="3.00")], day="2025-03-03")
    s["transactions"][0]["revenue_breakdown"]["subtotal_before_discount_amount"] = "49.00"
    world.add(s, "P2")
    world.pay("P2", [s])
    world.link("o1", "5001", expected_total="50.00")
    world.run_import()
    assert world.journals() == {} and world.deposits() == {}
    open_ = {e.code: e for e in world.c.store.exceptions.list(status="open")}
    assert set(open_) == {"SETTLEMENT_CHECK_FORMULA_REVENUE", "SETTLEMENT_VARIANCE"}  # TikTok's 49 vs the order's 50
    exc = open_["SETTLEMENT_CHECK_FORMULA_REVENUE"]
    assert (exc.owner, exc.entity, exc.job_kind) == ("finance", f"statement:{SHOP}:S2", "settlement.recheck")
    example = exc.evidence["details"]["examples"][0]
    assert (example["transaction_id"], example["expected"], example["actual"]) == ("t1", "49.00", "50.00")
    assert "--force" in exc.fix_hint
    assert world.repo.statement(SHOP, "S2").status == "held"  # type: ignore[union-attr]
    world.c.store.queue.enqueue(post_job(SHOP, "S2", "forced", force=True))
    world.drain()
    je = world.journals()["TTS-STMT-S2"]["body"]
    variance = [ln for ln in je["line"]["items"] if ln["account"] == {"id": A["variance"]}]
    assert [ln["credit"] for ln in variance] == [D("1.00")]  # the unexplained dollar is visible, not hidden
    assert [e.code for e in world.c.store.exceptions.list(status="open")] == ["SETTLEMENT_VARIANCE"]
    assert "TTS-PAY-P2" in world.deposits()


def test_unmatched_orders_are_listed_never_dropped(world: World) -> None:
    s = b.statement("S3", [b.order_line("t1", "o1", gross="20.00"), b.order_line("t2", "o-missing", gross="30.00")],
                    day="2025-03-03")
    world.add(s, "P3")
    world.link("o1", "5001", expected_total="20.00")
    world.run_import()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert exc.code == "SETTLEMENT_UNMATCHED" and exc.evidence["details"]["lines"][0]["order_id"] == "o-missing"
    assert "TTS-STMT-S3" in world.journals()  # posted in full all the same
    rep = world.c.flows.settlement.report(statement_id="S3")
    assert rep is not None and [(u.order_id, u.settlement) for u in rep.unmatched] == [("o-missing", D("30.00"))]
    # the order is synced later: the next daily import re-matches (same content) and resolves the exception
    world.link("o-missing", "5009", expected_total="30.00")
    world.clock.advance(hours=1)
    world.run_import()
    row = world.repo.statement(SHOP, "S3")
    assert row is not None and (row.unmatched, row.matched, row.revision) == (0, 2, 1)
    assert world.c.store.exceptions.list(status="open") == []
    assert len(world.journals()) == 1 and world.journals()["TTS-STMT-S3"]["writes"] == 1


def test_a_lost_answer_is_resolved_without_a_second_journal(world: World) -> None:
    day_one(world)
    world.ledger.lose_answer.add("TTS-STMT-S1")
    world.run_import()
    assert "TTS-STMT-S1" in world.journals() and world.deposits() == {}
    world.clock.advance(seconds=5)  # the retry is due
    world.drain()
    assert len(world.journals()) == 1 and world.journals()["TTS-STMT-S1"]["writes"] == 2
    assert len(world.deposits()) == 1
    assert world.repo.postings(SHOP, "statement", "S1")[0].status == "posted"


def test_a_netsuite_refusal_is_an_exception_with_its_fix(world: World) -> None:
    day_one(world)
    world.ledger.refuse["TTS-STMT-S1"] = NeedsHumanError(
        "The accounting period is closed", code="NS_PERIOD_CLOSED", owner="finance", fix_hint="Reopen the period")
    world.run_import()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert (exc.code, exc.owner) == ("NS_PERIOD_CLOSED", "finance") and exc.job_kind == "settlement.post"
    del world.ledger.refuse["TTS-STMT-S1"]
    world.c.store.exceptions.replay(exc.id, world.c.store.queue)
    world.drain()
    assert set(world.journals()) == {"TTS-STMT-S1"} and set(world.deposits()) == {"TTS-PAY-P1"}


def test_a_payout_of_two_statements_waits_for_both_and_deposits_their_sum(world: World) -> None:
    s1 = b.statement("S4", [b.order_line("t1", "o1", gross="3.00")], day="2025-03-02")
    s2 = b.statement("S5", [b.order_line("t2", "o2", gross="4.00")], day="2025-03-03")
    world.add(s1, "P4")
    world.pay("P4", [s1, s2])
    world.run_import()
    assert world.deposits() == {}  # the payment checks fail until S5 is imported: it waits
    assert {e.code for e in world.c.store.exceptions.list(status="open")} >= {"SETTLEMENT_CHECK_PAYMENT_SUM"}
    world.add(s2, "P4")
    world.clock.advance(hours=1)
    world.run_import()
    (dep,) = world.deposits().values()
    assert dep["body"]["other"]["items"][0]["amount"] == D("7.00")
    assert not [e for e in world.c.store.exceptions.list(status="open") if e.code.startswith("SETTLEMENT_CHECK")]


def test_customer_deposit_mode_applies_the_order_deposits(sqlite_url: str, tmp_path: Path) -> None:
    from bridge.mapping.settlement import OrderDocument

    w = make_world(sqlite_url, tmp_path, mode="customer_deposits")
    try:
        s = b.statement("S6", [b.order_line("t1", "o1", gross="100.00", platform_discount="5.00", shipping_paid="4.00",
                                            tax="6.65", referral="6.00")], day="2025-03-03")
        w.add(s, "P6")
        w.pay("P6", [s])
        w.link("o1", "5001", expected_total="105.65", platform_funded="5.00")
        w.ledger.documents[("customerDeposit", "o1")] = [OrderDocument("9001", "customerDeposit", D("105.65"))]
        w.run_import()
        je = w.journals()["TTS-STMT-S6"]["body"]
        net = {}
        for ln in je["line"]["items"]:
            net[ln["account"]["id"]] = net.get(ln["account"]["id"], 0) + ln.get("credit", 0) - ln.get("debit", 0)
        assert net == {"4030": D("5.00"), "2200": D("-6.65"), A["referral"]: D("-6.00"), A["clearing"]: D("7.65")}
        dep = w.deposits()["TTS-PAY-P6"]["body"]
        assert dep["payment"]["items"] == [{"id": 9001, "deposit": True, "paymentAmount": D("105.65")}]
        assert dep["cashback"]["items"][0]["amount"] == D("7.65")  # deposit total = 105.65 - 7.65 = the payout 98.00
        assert D(s["payable_amount"]) == D("98.00")
        rep = w.c.flows.settlement.report(payment_id="P6")
        assert rep is not None and rep.clearing_balance == 0
    finally:
        w.c.close()


def test_invoice_mode_creates_customer_payments_then_deposits_them(sqlite_url: str, tmp_path: Path) -> None:
    from bridge.mapping.settlement import OrderDocument

    w = make_world(sqlite_url, tmp_path, mode="invoices")
    try:
        s = b.statement("S7", [b.order_line("t1", "o1", gross="50.00", referral="3.00")], day="2025-03-03")
        w.add(s, "P7")
        w.pay("P7", [s])
        w.link("o1", "5001", expected_total="50.00")
        w.ledger.documents[("invoice", "o1")] = [OrderDocument("8001", "invoice", D("50.00"), customer_id="321")]
        w.run_import()
        (cp,) = w.ledger.of_type("customerPayment").values()
        assert cp["body"]["apply"]["items"] == [{"doc": {"id": "8001"}, "apply": True, "amount": D("50.00")}]
        assert cp["body"]["customer"] == {"id": "321"} and cp["body"]["undepFunds"] == {"id": "T"}
        assert cp["body"]["arAcct"] == {"id": "1100"}
        dep = w.deposits()["TTS-PAY-P7"]["body"]
        assert dep["payment"]["items"][0]["id"] == int(cp["id"])
        assert dep["cashback"]["items"][0]["amount"] == D("3.00")  # 50 applied - 3 fee = the 47.00 payout
    finally:
        w.c.close()


def test_eid_references_resolve_once_and_missing_ones_are_named(sqlite_url: str, tmp_path: Path) -> None:
    w = make_world(sqlite_url, tmp_path, clearing_account="eid:ACCT-1250", deposit={"bank_account": "eid:ACCT-1000"})
    try:
        w.ledger.external[("account", "ACCT-1250")] = "41"
        day_one(w)
        w.run_import()
        (exc,) = w.c.store.exceptions.list(status="open")
        assert (exc.code, exc.owner, exc.entity) == ("SPEC_REFERENCE_MISSING", "admin", "spec:settlement")
        assert "eid:ACCT-1000 (at deposit.bank_account)" in exc.title and "post --pending" in exc.fix_hint
        assert w.journals() == {} and w.deposits() == {}  # nothing half-configured is posted
        w.ledger.external[("account", "ACCT-1000")] = "42"
        w.clock.advance(hours=1)
        w.run_import()  # the next daily import posts what waited
        je = w.journals()["TTS-STMT-S1"]["body"]
        assert {"id": "41"} in [ln["account"] for ln in je["line"]["items"]]
        assert w.deposits()["TTS-PAY-P1"]["body"]["account"] == {"id": "42"}
        assert w.c.store.exceptions.list(status="open") == []
        calls = w.ledger.calls["internal_ids"]
        w.clock.advance(hours=1)
        w.run_import()
        assert w.ledger.calls["internal_ids"] == calls  # resolved once, then cached
    finally:
        w.c.close()


def test_each_shop_posts_in_its_own_currency_to_its_own_bank(sqlite_url: str, tmp_path: Path) -> None:
    w = make_world(sqlite_url, tmp_path, deposit={"bank_account": "1000", "bank_accounts": {"GBP": "1010"}})
    try:
        s = b.statement("G1", [b.order_line("t1", "o1", gross="59.90", commission="5.39", vat="2.10")],
                        currency="GBP", day="2025-03-03")
        w.add(s, "PG1")
        w.pay("PG1", [s], currency="GBP")
        w.link("o1", "6001", expected_total="59.90", currency="GBP")
        w.run_import()
        je = w.journals()["TTS-STMT-G1"]["body"]
        dep = w.deposits()["TTS-PAY-PG1"]["body"]
        assert je["currency"] == {"id": "2"} and dep["currency"] == {"id": "2"} and dep["account"] == {"id": "1010"}
        assert dep["other"]["items"][0]["amount"] == D("52.41")
        assert w.repo.statement(SHOP, "G1").matched == 1  # type: ignore[union-attr]
    finally:
        w.c.close()


def test_the_flow_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    w = make_world(pg_url, tmp_path)
    try:
        s = day_one(w)
        w.run_import()
        assert set(w.journals()) == {"TTS-STMT-S1"}
        assert w.deposits()["TTS-PAY-P1"]["body"]["other"]["items"][0]["amount"] == D(s["payable_amount"])
        rep = w.c.flows.settlement.report(payment_id="P1")
        assert rep is not None and rep.variance == 0 and rep.clearing_balance == 0
    finally:
        w.c.close()
