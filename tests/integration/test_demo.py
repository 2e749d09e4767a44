"""The README's first command, headless and small: every scenario step completes, every order has its
sales order, and the statement ties out."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from bridge.benchmarks.harness import free_port

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_every_step_headless(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "demo", "--orders", "12", "--exit", "--json", str(out),
         "--workdir", str(tmp_path / "work"), "--port", str(free_port())],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    not_done = [s for s in report["steps"] if s["status"] != "done"]
    assert not not_done, not_done
    f = report["figures"]
    assert f["orders_placed"] >= 12
    assert f["orders_with_sales_order"] == f["orders_placed"]
    assert f["stock_pushes"] > 0 and f["tracking_pushes"] > 0
    assert Decimal(f["settlement"]["variance"]) == Decimal("0")
    assert f["settlement"]["orders_unmatched"] == 0
    # the day's journal and deposit are in NetSuite and the ledger audit proves them from the GL
    st = f["settlement"]
    assert [j.startswith("TTS-STMT-") for j in st["journals"]] == [True]
    assert len(st["deposits"]) == 1 and st["deposits"][0].startswith("TTS-PAY-")
    audit = st["audit"]
    assert audit["ok"] is True and audit["difference"] == "0.00" and audit["findings"] == []
    assert audit["statements"] == 1 and audit["payouts"] == 1
    assert Decimal(audit["totals"]["gross_sales"]["tiktok"]) > 0
    assert all(Decimal(t["difference"]) == 0 for t in audit["totals"].values())
    groups = audit["account_groups"]
    assert groups and all(Decimal(g["tiktok"]) == Decimal(g["netsuite"]) for g in groups)
    assert Decimal(audit["totals"]["payout"]["netsuite"]) == Decimal(audit["totals"]["payout"]["tiktok"]) > 0
    # whatever the demo raised as exceptions carries an owner and a fix
    assert all(e["owner"] and e["fix"] for e in f["exceptions_open"])
