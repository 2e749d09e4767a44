"""The month scenario, small: tens of orders through both sandboxes with every event type (full and
partial cancellations, FBT, refunds without a return before and after settlement, returns for a refund,
adjustments, a reserve held and released, a corrected statement, two currencies), in every settlement
mode the scenario runs — and the ledger audit finds NetSuite's GL equal to TikTok's figures to the cent
(in customer_deposits mode it also names every order whose revenue no invoice recognises: the scenario
records the customer deposits but does not run the orders flow that bills them).
The long run (2,000+ orders) is `scripts/ledger_month`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge.benchmarks.ledger_month import MODES, MonthOptions, run_month

EVENTS = ("orders", "fbt_orders", "cancelled_full", "cancelled_partly", "refund_only_before_settlement",
          "refund_only_after_settlement", "returned_and_refunded", "adjustments", "reserve_held", "reserve_released",
          "statement_corrected")


@pytest.mark.slow
def test_a_small_month_passes_the_ledger_audit_in_every_mode(tmp_path: Path) -> None:
    results = run_month(MonthOptions(orders=60, days=8, modes=MODES, workdir=tmp_path), log=lambda _m: None)
    assert [r.mode for r in results] == ["summary", "customer_deposits"]
    for r in results:
        missing = [e for e in EVENTS if not r.events.get(e)]
        assert not missing, (r.mode, missing, r.events)
        assert r.statements == r.events["statements"] == 16 and r.payouts == 16
        assert len(r.audits) == 2 and {a["shop_id"] for a in r.audits}  # the USD and the GBP shop
        assert r.ok, (r.mode, [a["findings"][:5] for a in r.audits])
        for a in r.audits:
            assert a["difference"] == "0.00", (r.mode, a["findings"][:5])
            assert Decimal(a["totals"]["gross_sales"]["tiktok"]) > 0
            assert a["totals"]["refunds"]["tiktok"] == a["totals"]["refunds"]["netsuite"] != "0"
            assert a["totals"]["payout"]["tiktok"] == a["totals"]["payout"]["netsuite"]
        # the reserve was held and released within the month: nothing of it is left anywhere
        assert all(Decimal(a["totals"]["reserve"]["tiktok"]) == Decimal(a["totals"]["reserve"]["netsuite"]) == 0
                   for a in r.audits)
        ledger = [e for e in r.open_exceptions if e["code"].startswith("LEDGER_")]
        assert all(e["code"] == "LEDGER_MISSING_POSTING" and e["entity"].startswith("ledger:order:")
                   for e in ledger) and (r.mode != "summary" or not ledger), ledger[:3]
    summary, deposits = results
    assert summary.missing_invoices == 0 and all(a["ok"] for a in summary.audits)
    # customer_deposits: the journals leave the sales out and the deposits apply the customer deposits to the
    # cent; no invoice was billed (the scenario does not run the orders flow), and the audit names each one
    assert deposits.events["customer_deposits"] > 0
    assert 0 < deposits.missing_invoices <= deposits.events["customer_deposits"]
    gb = [a for a in deposits.audits if a["mode"] == "summary"]  # the GBP shop posts in summary mode
    assert len(gb) == 1 and gb[0]["ok"]
