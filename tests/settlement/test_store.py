"""The settlement tables on SQLite and PostgreSQL: exact money, lines with TikTok's ids, postings that
are never rewritten once posted."""

from __future__ import annotations

from decimal import Decimal

from bridge.clock import ManualClock
from bridge.domain.finance import parse_payment, parse_statement
from bridge.mapping.settlement import check_statement, group_failures, match_statement, statement_components
from bridge.store.db import make_engine
from bridge.store.tables_settlement import PostingRecord, SettlementStore
from tests.settlement import builders as b

D = Decimal


def test_round_trip_and_posting_records(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=2)
    try:
        repo = SettlementStore(engine, ManualClock())
        data = b.statement("S1", [b.order_line("t1", "o1", gross="12345678.91", referral="0.07", fbt_fee="3.50"),
                                  b.adjustment_line("t2", "a1", "CHARGE_BACK", "-0.01", order_id="o1"),
                                  b.reserve_line("t3", "r1", "-1.00", order_id="o1")])
        st = parse_statement("shop", data, summary=None)
        comps = statement_components(st)
        repo.save_statement(st, revision=1, components=comps, checks=group_failures(check_statement(st)),
                            matches=match_statement(st, {}))
        row = repo.statement("shop", "S1")
        assert row is not None and row.components == comps and row.payable == D("12345674.33")
        assert row.unmatched == 3 and row.check_status == "ok" and row.content_hash == st.content_hash()
        lines = repo.lines("shop", "S1")
        assert [ln.transaction_id for ln in lines] == ["t1", "t2", "t3"]
        assert lines[0].breakdown == st.lines[0].breakdown and lines[1].adjustment_order_id == "o1"
        assert lines[2].reserve == D("-1.00") and lines[2].associated_order_id == "o1"
        assert [sid for sid, _ in repo.lines_for_order("shop", "o1")] == ["S1", "S1", "S1"]
        # a re-issue replaces the lines of the statement (the posted history lives in the postings)
        st2 = parse_statement("shop", b.statement("S1", [b.order_line("t1", "o1", gross="1.00")]))
        repo.save_statement(st2, revision=2, components=statement_components(st2), checks=[], matches=[])
        assert [ln.transaction_id for ln in repo.lines("shop", "S1")] == ["t1"]
        assert repo.statement("shop", "S1").revision == 2  # type: ignore[union-attr]

        rec = PostingRecord(shop_id="shop", kind="journal", source="statement", source_id="S1", seq=0,
                            external_id="TTS-STMT-S1", record_type="journalEntry", amount=D("1.00"), currency="USD",
                            tran_date="2025-03-02", components={"revenue.x": D("1.00")})
        assert repo.begin_posting(rec).status == "pending"
        repo.finish_posting("TTS-STMT-S1", "77")
        again = repo.begin_posting(PostingRecord(**{**rec.__dict__, "amount": D("2.00")}))
        assert (again.status, again.netsuite_id, again.amount) == ("posted", "77", D("1.00"))  # never rewritten

        pay = parse_payment("shop", b.payment("P1", [data]))
        assert repo.save_payment(pay) is True and repo.save_payment(pay) is False
        assert repo.payment("shop", "P1") == pay
    finally:
        engine.dispose()
