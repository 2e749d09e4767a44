"""The payout page says "Reconciled" only when the journal and the deposit are posted in NetSuite and
the ledger audit found no difference on them — never from the bridge's own figures alone."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from tests.console.conftest import SHOP, Console


@pytest.fixture
def payout(console: Console) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": "payment", "id": "PAY1", "shop_id": SHOP, "currency": "USD",
                           "variance": Decimal("0.00"), "journal": "", "deposit": "", "payout": Decimal("86.09")}
    class Settlement:
        def report(self, **kw: Any) -> dict[str, Any] | None:
            return row if kw.get("payment_id") == "PAY1" else None

    c = console.container
    console.use(replace(c, areas=(*c.areas, "settlement"), flows=replace(c.flows, settlement=Settlement())))
    return row


def verdict(console: Console, **v: Any) -> None:
    console.container.store.cursors.set(f"ledger.audit:payout:{SHOP}:PAY1", json.dumps(
        {"ok": True, "difference": "0", "documents": [], "findings": [], "at": "2025-03-04T02:40:00+00:00"} | v))


def test_nothing_posted_is_not_reconciled_even_without_a_variance(console: Console, payout: dict[str, Any]) -> None:
    page = console.html("/console/settlement/payout/PAY1")
    assert "Reconciled:" not in page
    assert "Not reconciled: no journal and no deposit posted in NetSuite yet" in page
    payout["journal"] = "1201"
    page = console.html("/console/settlement/payout/PAY1")
    assert "no deposit posted" in page and "Reconciled:" not in page


def test_posted_but_not_audited_or_audited_with_a_difference_is_not_reconciled(
        console: Console, payout: dict[str, Any]) -> None:
    payout.update(journal="1201", deposit="1202")
    assert "the ledger audit has not checked" in console.html("/console/settlement/payout/PAY1")
    verdict(console, ok=False, difference="20.00", findings=[{"code": "DOUBLE_COUNT", "message":
                                                              "CustCred TTS-RET-9 posts the refund again"}])
    page = console.html("/console/settlement/payout/PAY1")
    assert "finds a difference of 20.00 USD" in page and "TTS-RET-9" in page and "Reconciled:" not in page


def test_posted_and_audited_clean_is_reconciled(console: Console, payout: dict[str, Any]) -> None:
    payout.update(journal="1201", deposit="1202")
    verdict(console)
    page = console.html("/console/settlement/payout/PAY1")
    assert "Reconciled: the journal and the deposit are posted and the ledger audit of 2025-03-04 02:40 UTC" in page
    payout["variance"] = Decimal("0.50")  # the bridge's own matching still shows a variance: never green
    page = console.html("/console/settlement/payout/PAY1")
    assert "Reconciled:" not in page and "Variance: 0.50" in page


def test_the_ledger_audit_monitor_reads_the_daily_audit(console: Console) -> None:
    from bridge.flows import monitoring
    from bridge.store.repos import Shop

    c = console.container

    def reading() -> monitoring.Reading:
        return next(r for r in mon.measure() if r.monitor == "ledger_audit")

    mon = c.flows.monitoring
    assert reading().status == "unavailable"  # the ledger audit is not among this container's areas
    mon = replace(mon, ledger_audit=c.flows.ledger_audit)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    r = reading()
    assert r.value is None and "has not run yet" in r.note
    c.store.cursors.set(f"ledger.audit:shop:{SHOP}", json.dumps({
        "shop_id": SHOP, "difference": "40.00", "at": "2025-03-04T02:40:00+00:00", "findings": [
            {"code": "DOUBLE_COUNT", "subject": "statement:ST9",
             "message": "Journal TTS-STMT-ST9-ADJ1 posts the -20.00 again"}]}))
    r = reading()
    assert r.status == "alert" and r.value == Decimal("40.00") and r.severity == "critical"
    assert [(s.label, s.href) for s in r.samples] == [("DOUBLE_COUNT", "/console/settlement/ST9")]
    c.store.cursors.set(f"ledger.audit:shop:{SHOP}", json.dumps({"shop_id": SHOP, "difference": "0.00",
                                                                  "at": "2025-03-05T02:40:00+00:00", "findings": []}))
    assert reading().status == "ok"
