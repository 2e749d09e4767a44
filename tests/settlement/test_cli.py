"""`ttns settlement import | report | post` on a wired bridge with fakes."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from bridge.cli import Obj, main
from tests.settlement import builders as b
from tests.settlement.conftest import World


def run(world: World, *args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args), obj=Obj(world.c), catch_exceptions=False)
    return result.exit_code, result.output


def seed(world: World) -> None:
    s1 = b.statement("S1", [b.order_line("t1", "o1", gross="100.00", referral="6.00", affiliate="10.00"),
                            b.adjustment_line("t2", "a1", "CHARGE_BACK", "-5.00", order_id="o1")], day="2025-03-02")
    s2 = b.statement("S2", [b.order_line("t3", "o2", gross="20.00", referral="1.20"),
                            b.order_line("t4", "o3", gross="30.00", referral="1.80")], day="2025-03-03")
    s2["transactions"][1]["settlement_amount"] = "28.00"  # broken on purpose: 30.00 - 1.80 = 28.20
    s2["total_settlement_amount"] = "46.80"
    s2["payable_amount"] = "46.80"
    for s, pid in ((s1, "P1"), (s2, "P2")):
        world.add(s, pid)
        world.pay(pid, [s])
    world.link("o1", "5001", expected_total="100.00")
    world.link("o2", "5002", expected_total="20.00")


def test_import_posts_and_reports(world: World, tmp_path: Path) -> None:
    seed(world)
    code, out = run(world, "settlement", "import", "--since", "2025-03-01")
    assert code == 0, out
    assert "S1" in out and "S2" in out and "FORMULA_SETTLEMENT" in out and "held" in out
    assert set(world.journals()) == {"TTS-STMT-S1"} and set(world.deposits()) == {"TTS-PAY-P1"}

    code, out = run(world, "settlement", "report", "--statement", "S1")
    assert code == 0, out
    assert "Gross sales" in out and "100.00" in out and "Fee: affiliate commission" in out and "TTS-STMT-S1" in out

    target = tmp_path / "s1.csv"
    code, out = run(world, "settlement", "report", "--statement", "S1", "--csv", str(target))
    assert code == 0 and "wrote" in out
    rows = list(csv.DictReader(target.open()))
    figures = {(r["section"], r["name"]): r["amount"] for r in rows}
    assert figures[("fee", "fee.referral_fee_amount")] == "-6.00"
    assert figures[("adjustment", "adjustment.CHARGE_BACK")] == "-5.00"
    assert figures[("summary", "Net settlement")] == "79.00" and figures[("summary", "variance")] == "0.00"

    code, out = run(world, "settlement", "report", "--csv", "-")
    listed = list(csv.DictReader(out.splitlines()))
    assert [r["id"] for r in listed] == ["S2", "S1"] and listed[0]["failed_checks"] == "2"
    code, out = run(world, "settlement", "report", "--payment", "P2")
    assert code == 0 and "unmatched" in out and "o3" in out  # o3 has no sales order

    code, out = run(world, "settlement", "post", "--statement", "S2", "--dry-run")
    assert code == 0 and "held" in out and "FORMULA_SETTLEMENT" in out
    code, out = run(world, "settlement", "post", "--statement", "S2", "--dry-run", "--force")
    assert code == 0 and "TTS-STMT-S2" in out and "debits 50.00 = credits 50.00" in out
    assert "TTS-STMT-S2" not in world.journals()
    code, out = run(world, "settlement", "post", "--statement", "S2", "--force")
    assert code == 0 and "posted TTS-STMT-S2" in out
    code, out = run(world, "settlement", "post", "--pending")
    assert code == 0, out
    assert "payment P1: unchanged" in out and "payment P2: posted TTS-PAY-P2" in out  # P2 ties out: 46.80 paid
    assert set(world.deposits()) == {"TTS-PAY-P1", "TTS-PAY-P2"}


def test_bad_input_is_a_clear_error(world: World) -> None:
    code, out = run(world, "settlement", "import", "--since", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in out
    code, out = run(world, "settlement", "report", "--statement", "nope")
    assert code == 1 and "no imported statement" in out
    code, out = run(world, "settlement", "post")
    assert code == 2 and "exactly one" in out
