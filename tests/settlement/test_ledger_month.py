"""The month scenario, small: tens of orders through both sandboxes with every event type (full and
partial cancellations, FBT, refunds without a return before and after settlement, returns for a refund,
adjustments, a reserve held and released, a corrected statement, two currencies), in every settlement
mode. The US shop's orders go through the bridge's orders and fulfillment flows (sales orders, customer
deposits, NetSuite fulfillments pushed to TikTok, FBT shipments recorded, each order closed or billed
once fully shipped); the settlement flow posts the statements and payouts. The ledger audit must find
NetSuite's GL equal to TikTok's figures to the cent and nothing else.
The long run (2,000+ orders) is `scripts/ledger_month`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge.benchmarks.ledger_month import MODES, MonthOptions, run_month

EVENTS = ("orders", "fbt_orders", "cancelled_full", "cancelled_partly", "cancelled_after_sync_partly",
          "refund_only_before_settlement",
          "refund_only_after_settlement", "returned_and_refunded", "adjustments", "reserve_held", "reserve_released",
          "statement_corrected", "shipped_by_bridge", "shipped_by_bridge_US", "shipped_by_bridge_GB",
          "returns_flow_return_authorization", "returns_flow_refund_left_to_statement", "return_received_in_netsuite")


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three modes, two shops through both sandboxes: minutes on the shared 2-core machine
def test_a_small_month_passes_the_ledger_audit_in_every_mode(tmp_path: Path) -> None:
    results = run_month(MonthOptions(orders=30, days=6, gb_share=0.4, modes=MODES, workdir=tmp_path),
                        log=lambda _m: None)
    assert [r.mode for r in results] == ["summary", "customer_deposits", "invoices"]
    for r in results:
        missing = [e for e in EVENTS if not r.events.get(e)]
        assert not missing, (r.mode, missing, r.events)
        assert r.statements == r.events["statements"] == 12 and r.payouts == 12
        assert len(r.audits) == 2 and {a["shop_id"] for a in r.audits}  # the USD and the GBP shop
        assert sorted(c for a in r.audits for c in a["currencies"]) == ["GBP", "USD"]
        for a in r.audits:
            assert a["difference"] == "0.00" and a["findings"] == [], (r.mode, a["findings"][:5])
            assert Decimal(a["totals"]["gross_sales"]["tiktok"]) > 0
            # every figure TikTok's beside NetSuite's GL, per component and to the cent, in every mode; the UK
            # shop's prices include VAT: its sales, discounts and shipping are compared net and its VAT apart
            # (a liability on the VAT account, from the journal in summary mode, the invoices otherwise)
            uk = a["currencies"] == ["GBP"]
            for figure, row in a["totals"].items():
                assert Decimal(row["difference"]) == 0, (r.mode, a["shop_id"], figure, row)
            vat = a["totals"]["vat"]
            assert (Decimal(vat["tiktok"]) > 0) == uk and vat["tiktok"] == vat["netsuite"], (r.mode, vat)
            assert a["totals"]["refunds"]["tiktok"] == a["totals"]["refunds"]["netsuite"] != "0"
            assert a["totals"]["payout"]["tiktok"] == a["totals"]["payout"]["netsuite"]
            # each statement and payout compared in its own currency, as posted (each shop books in its currency)
            assert all(c["currency"] == a["currencies"][0] and c["basis"].startswith(c["currency"] + ":")
                       and "converted" not in c["basis"] for c in a["comparison"])
        assert r.ok
        # the reserve was held and released within the month: nothing of it is left anywhere
        assert all(Decimal(a["totals"]["reserve"]["tiktok"]) == Decimal(a["totals"]["reserve"]["netsuite"]) == 0
                   for a in r.audits)
        assert [e for e in r.open_exceptions if e["code"].startswith("LEDGER_")] == []
        assert [a["mode"] for a in r.audits] == [r.mode, r.mode], "the GBP shop posts in the same mode"
        assert r.documents["salesOrder"] == r.events["shipped_by_bridge"] > 0
        assert r.documents["salesOrder_GB"] == r.events["shipped_by_bridge_GB"] > 0
        # the returns flow ran: an authorization per return, received in NetSuite; refunds left to the statement
        assert r.documents["returnAuthorization"] == r.events["returns_flow_return_authorization"] == r.events[
            "returned_and_refunded"] == r.documents["returnReceipt"]
        assert r.events["returns_flow_refund_left_to_statement"] == sum(r.events[k] for k in (
            "returned_and_refunded", "refund_only_before_settlement", "refund_only_after_settlement"))
        assert r.documents.get("creditMemo", 0) == r.documents.get("cashRefund", 0) == 0
        if r.mode == "summary":
            assert r.documents.get("invoice", 0) == 0 and r.documents["closed"] == r.events["shipped_by_bridge"]
        else:  # billed once fully shipped, by the fulfillment flow: one invoice per shipped order
            assert r.documents["invoice"] == r.events["shipped_by_bridge"] and r.documents.get("closed", 0) == 0
        assert r.documents.get("customerDeposit", 0) == (r.events["shipped_by_bridge"]
                                                          if r.mode == "customer_deposits" else 0)
