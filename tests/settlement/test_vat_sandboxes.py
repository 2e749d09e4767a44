"""TikTok's own VAT (Get Price Detail) through both sandboxes: a UK order whose VAT TikTok computes per unit
differs from the rule applied to the order's components, yet every figure of the ledger audit — gross sales,
discounts, shipping, refunds and VAT each — agrees to the cent in every settlement mode.

The month scenario, tiny (a few orders over two days), always holds such an order (3 x 12.50 less a 1.00
seller discount): the invoice (receivable modes) books TikTok's VAT, and the statement journal and the audit
read that order's VAT from TikTok's price detail. On the old code (the journal and the audit split the
statement's figures by the rule alone) gross sales differed by -0.01 and VAT by +0.01 in the receivable modes.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge.benchmarks.ledger_month import MODES, MonthOptions, run_month
from bridge.mapping.vat import net_of
from bridge.sandbox.tiktok.money import allocate

D = Decimal


def test_the_scenarios_order_is_one_whose_per_unit_vat_differs_from_the_rule() -> None:
    units = [D("12.50") - share for share in allocate(D("1.00"), [D("12.50")] * 3, "GBP")]
    tiktok = sum((u - net_of(u, D("0.2"), "GBP") for u in units), D(0))  # the sandbox's VAT per unit
    rule = (D("37.50") - net_of(D("37.50"), D("0.2"), "GBP")) - (D("1.00") - net_of(D("1.00"), D("0.2"), "GBP"))
    assert (tiktok, rule) == (D("6.09"), D("6.08"))


@pytest.mark.timeout(600)
def test_a_uk_order_with_tiktoks_per_unit_vat_agrees_on_every_figure_in_every_mode(tmp_path: Path) -> None:
    results = run_month(MonthOptions(orders=8, days=2, gb_share=0.5, modes=MODES, workdir=tmp_path),
                        log=lambda _m: None)
    assert [r.mode for r in results] == list(MODES)
    for r in results:
        assert r.events["vat_per_unit_order"] == 1 and r.events["shipped_by_bridge_GB"] >= 1, r.events
        [uk] = [a for a in r.audits if a["currencies"] == ["GBP"]]
        assert Decimal(uk["totals"]["vat"]["tiktok"]) > 0 and Decimal(uk["totals"]["gross_sales"]["tiktok"]) > 0
        for a in r.audits:
            diffs = {f: row["difference"] for f, row in a["totals"].items() if Decimal(row["difference"])}
            assert diffs == {}, (r.mode, a["currencies"], diffs)
            assert a["difference"] == "0.00" and a["findings"] == [], (r.mode, a["findings"][:3])
        assert r.ok and [e for e in r.open_exceptions if e["code"].startswith("LEDGER_")] == []
