"""The short chaos run: a couple of hundred orders through both sandboxes (the SuiteScript running)
with NetSuite 429/5xx and timeouts after commit, TikTok 429s, dropped/duplicated/reordered webhooks
and workers killed with SIGKILL; the audit must find every order exactly once with the right total,
every shipment on TikTok, the stock converged and the statement tied out. The long run is
`scripts/chaos`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.benchmarks.chaos import ChaosOptions, run_chaos


@pytest.mark.slow
def test_short_chaos_run_heals_or_explains_every_failure(tmp_path: Path) -> None:
    audit = run_chaos(ChaosOptions(orders=150, waves=3, kills=2, cancellations=12, out=tmp_path, run_scripts=True,
                                   shipments=8, deadline_seconds=240), log=lambda _m: None)
    assert audit.ok, json.dumps({"problems": audit.problems, "checks": audit.checks}, indent=1, default=str)
    c = audit.checks
    assert c["duplicates"] == 0 and c["wrong_totals"] == 0
    assert c["sales_orders"] >= c["paid_orders"]
    assert c["injected"]["worker_sigkill"] == 2
    assert c["shipments"]["checked"] and c["shipments"]["on_tiktok"] == c["shipments"]["shipped_in_netsuite"] == 8
    assert c["stock"]["checked"] and c["stock"]["sku_warehouses"] > 0 and c["stock"]["differing"] == 0
    # the settlement check is the ledger audit: NetSuite's GL beside TikTok's finance API, zero difference
    st = c["statement"]
    assert st["checked"] and st["statements_audited"] == st["statements_issued"] >= 1 and st["payouts_audited"] >= 1
    assert st["difference"] == "0.00" and st["findings"] == []
    assert Decimal(st["totals"]["gross_sales"]["netsuite"]) == Decimal(st["totals"]["gross_sales"]["tiktok"]) > 0
    assert Decimal(st["totals"]["payout"]["netsuite"]) == Decimal(st["totals"]["payout"]["tiktok"]) > 0
    injected_faults = sum(v for k, v in c["injected"].items() if k.startswith("netsuite_faults"))
    assert injected_faults > 0, "no NetSuite fault was injected: the run proves nothing"
