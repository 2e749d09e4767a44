"""The short chaos run: a couple of hundred orders through both sandboxes with NetSuite 429/5xx and
timeouts after commit, TikTok 429s, dropped/duplicated/reordered webhooks and workers killed with
SIGKILL; the audit must find every order exactly once with the right total. The long run is
`scripts/chaos`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.benchmarks.chaos import ChaosOptions, run_chaos


@pytest.mark.slow
def test_short_chaos_run_heals_or_explains_every_failure(tmp_path: Path) -> None:
    audit = run_chaos(ChaosOptions(orders=150, waves=3, kills=2, cancellations=12, out=tmp_path,
                                   deadline_seconds=240), log=lambda _m: None)
    assert audit.ok, json.dumps({"problems": audit.problems, "checks": audit.checks}, indent=1, default=str)
    c = audit.checks
    assert c["duplicates"] == 0 and c["wrong_totals"] == 0
    assert c["sales_orders"] >= c["paid_orders"]
    assert c["injected"]["worker_sigkill"] == 2
    injected_faults = sum(v for k, v in c["injected"].items() if k.startswith("netsuite_faults"))
    assert injected_faults > 0, "no NetSuite fault was injected: the run proves nothing"
