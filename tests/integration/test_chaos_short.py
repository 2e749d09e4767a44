"""The short chaos run: 150 orders in two shops through both sandboxes (the SuiteScript running), half
the workers writing through REST and half through the RESTlet, with NetSuite and TikTok 429/5xx,
timeouts and dropped connections kept on until 90% of the sales orders are written, workers killed
while they hold jobs, the web tier killed mid-stream and webhooks dropped/duplicated/reordered. Every
minimum of injected faults is enforced (the run fails below one), and the audit must find every order
exactly once with TikTok's lines, no duplicate among the records the bridge writes, every shipment on
TikTok, the stock right by both sandboxes' own numbers and the statement tied out by the ledger audit.
The long run is `scripts/chaos`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.benchmarks.chaos import ChaosOptions, default_minimums, run_chaos


@pytest.mark.slow
@pytest.mark.timeout(900)  # about 1.5 minutes on an idle machine; helpers sharing the cores stretch it (not timed)
def test_short_chaos_run_bites_and_heals_or_explains_every_failure(tmp_path: Path) -> None:
    # a 20 s velocity window: the run settles once raised buffers are released, one window after the last sale
    options = ChaosOptions(orders=150, waves=3, kills=2, cancellations=12, out=tmp_path, run_scripts=True,
                           shipments=8, deadline_seconds=600, velocity_window_seconds=20)
    audit = run_chaos(options, log=lambda _m: None)
    assert audit.ok, json.dumps({"problems": audit.problems, "checks": audit.checks}, indent=1, default=str)
    c = audit.checks
    # the run injected at least its minimums (ok already requires it; these name the ones that matter)
    injected, minimums = c["injected"], c["minimums"]
    assert minimums == default_minimums(options)
    assert all(injected.get(k, 0) >= m for k, m in minimums.items())
    assert injected["worker_kills_with_jobs"] == 2 and injected["lease_expired_attempts"] >= 2
    assert injected["killed_jobs_reclaimed"] == injected["jobs_held_at_kills"] > 0
    assert injected["web_restarts"] == 1
    assert injected["netsuite_faults_on_writes"] >= 10 and injected["tiktok_faults_on_writes"] >= 1
    assert injected["netsuite_rest_writes"] > 0 and injected["netsuite_restlet_writes"] > 0
    assert c["faults_stopped"]["percent"] >= 90
    # the audit, by the sandboxes' own records
    assert c["duplicates"] == 0 and c["wrong_orders"] == 0 and c["missing"] == 0
    # every paid order compared; a sales order written before its order was cancelled is there, closed
    assert c["orders"]["compared"] == c["paid_orders"] <= c["sales_orders"]
    assert c["orders"]["pending_approval_after_release"] == 0
    assert len(c["orders"]["per_shop"]) == 2
    assert {"salesorder", "customer"} <= set(c["records"]["records_checked"])
    assert c["shipments"]["checked"] and c["shipments"]["on_tiktok"] == c["shipments"]["shipped_in_netsuite"] == 8
    assert c["stock"]["checked"] and c["stock"]["sku_warehouses"] > 0 and c["stock"]["differing"] == 0
    # the settlement check is the ledger audit: NetSuite's GL beside TikTok's finance API, zero difference
    st = c["statement"]
    assert st["checked"] and st["statements_audited"] == st["statements_issued"] >= 1 and st["payouts_audited"] >= 1
    assert st["difference"] == "0.00" and st["findings"] == []
    assert Decimal(st["totals"]["gross_sales"]["netsuite"]) == Decimal(st["totals"]["gross_sales"]["tiktok"]) > 0
    assert Decimal(st["totals"]["payout"]["netsuite"]) == Decimal(st["totals"]["payout"]["tiktok"]) > 0
