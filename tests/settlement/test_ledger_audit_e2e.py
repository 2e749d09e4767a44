"""`ttns ledger audit` against both sandboxes over HTTP: TikTok's finance API and NetSuite's GL read
through SuiteQL. A posted month audits clean; a refund posted twice and a statement left unposted are
each caught and become finance exceptions naming the documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.bootstrap import App
from bridge.flows import ledger_audit
from bridge.mapping.settlement import account_for
from bridge.sandbox.tiktok import TikTokSandbox
from tests.netsuite.sandbox_support import Sandbox as NsSandbox
from tests.settlement import test_sandbox_e2e as month
from tests.settlement.test_sandbox_e2e import netsuite_server, tiktok_server  # noqa: F401 - the shared sandboxes

D = Decimal
DAYS, PER_DAY = 3, 12


def wire(url: str, sb: TikTokSandbox, ns: NsSandbox, tmp_path: Path, sqlite_url: str) -> tuple[App, str]:
    ns.reset()
    ns.sb.seed({"account": [{"externalId": eid, "acctNumber": eid[5:], "acctName": name, "acctType": {"id": kind}}
                            for eid, (name, kind) in month.EXTRA_ACCOUNTS.items()]})
    state = sb.reset()
    shop_id = next(s["id"] for s in state["shops"] if s["region"] == "US")
    order_ids = month.simulate_month(sb, shop_id, days=DAYS, per_day=PER_DAY)
    c, _clock = month.wire_bridge(url, sb, ns, tmp_path, sqlite_url, month.SPEC, state["apps"][0], shop_id)
    c.registry.handler(ledger_audit.KIND_AUDIT, c.flows.ledger_audit.handle_audit)
    month.link_orders(c, sb, shop_id, order_ids)
    month.import_now(c, "audit", DAYS)
    return c, shop_id


def window(c: App) -> tuple[datetime, datetime]:
    now = c.clock.now()
    return now - timedelta(days=DAYS + 3), now + timedelta(days=1)


def test_the_audit_proves_a_posted_window_and_catches_a_double_refund_and_an_unposted_statement(
    tiktok_server: tuple[str, TikTokSandbox], netsuite_server: NsSandbox,  # noqa: F811 - the fixtures
    tmp_path: Path, sqlite_url: str,
) -> None:
    url, sb = tiktok_server
    c, shop_id = wire(url, sb, netsuite_server, tmp_path, sqlite_url)
    try:
        since, until = window(c)
        [rep] = c.flows.ledger_audit.audit_shops(since, until)
        assert rep.findings == () and rep.ok, [f.message for f in rep.findings]
        assert len(rep.statements) == DAYS and len(rep.payouts) == DAYS and rep.gl_lines > 0
        totals = {r.figure: r for r in rep.totals}
        assert totals["gross_sales"].tiktok > 0 and totals["refunds"].tiktok < 0 and totals["fees"].tiktok < 0
        assert all(r.difference == 0 for r in rep.totals)
        assert rep.summary()["difference"] == "0.00"
        pay = rep.payouts[0]
        assert c.flows.ledger_audit.verdict("payout", shop_id, pay.id) is not None
        assert c.flows.ledger_audit.verdict("payout", shop_id, pay.id)["ok"] is True  # type: ignore[index]

        # the same refund posted a second time: a journal that repeats one statement's refund line
        svc = c.flows.settlement
        settings = svc.posting_settings(shop_id)
        client = c.netsuite()
        # an admin's billing run bills a TikTok sales order although revenue comes from the statement (summary
        # mode): the invoice carries no external id of the bridge, yet the double-revenue guard names it
        settled = next(oid for oid, f in sorted(rep.order_figures.items()) if f.get("gross_sales"))
        customer = client.suiteql("SELECT id FROM customer WHERE externalid = 'CUST-TTS'")[0]["id"]
        item = client.suiteql("SELECT id FROM item WHERE itemtype = 'InvtPart' AND externalid = 'ITEM-MUG'")[0]["id"]
        location = str(client.suiteql("SELECT id FROM location WHERE externalid = 'LOC-MAIN'")[0]["id"])
        netsuite_server.sb.receive_stock(str(item), location, 5, "4.00")
        so = client.create("salesOrder", {
            "externalId": f"TTS-{shop_id}-{settled}", "entity": {"id": str(customer)},
            "subsidiary": {"id": settings.subsidiary}, "tranDate": c.clock.now().date().isoformat(),
            "location": {"id": location},
            "item": {"items": [{"item": {"id": str(item)}, "quantity": 1, "rate": 40, "amount": 40,
                                "location": {"id": location}}]}})
        netsuite_server.sb.fulfill(so.id)
        invoice = client.transform("salesOrder", so.id, "invoice", {"tranDate": c.clock.now().date().isoformat()})
        [billed] = c.flows.ledger_audit.audit_shops(*window(c))
        [guard] = [f for f in billed.findings if f.subject == f"order:{settled}"]
        assert guard.code == "DOUBLE_COUNT" and guard.documents[0] == f"CustInvc #{invoice.id}", guard
        assert "billed outside the bridge" in guard.message and guard.amount == D("40.00")
        assert ("LEDGER_DOUBLE_COUNT", f"ledger:order:{shop_id}:{settled}") in {
            (e.code, e.entity) for e in c.store.exceptions.list(status="open")}
        client.delete("invoice", invoice.id)
        [rep] = c.flows.ledger_audit.audit_shops(*window(c))
        assert rep.ok, [f.message for f in rep.findings]  # voided: the guard's exception resolves itself
        assert ("LEDGER_DOUBLE_COUNT", f"ledger:order:{shop_id}:{settled}") not in {
            (e.code, e.entity) for e in c.store.exceptions.list(status="open")}

        # the same refund posted a second time: a journal that repeats one statement's refund line
        target = next(s for s in rep.statements if any(f.figure == "refunds" and f.tiktok for f in s.figures))
        refund = next(f.tiktok for f in target.figures if f.figure == "refunds")
        returns_acct = account_for("revenue.refund_subtotal_before_discount_amount", settings)[0]
        client.create("journalEntry", {
            "externalId": f"TTS-STMT-{target.id}-ADJ1", "tranDate": c.clock.now().date().isoformat(),
            "subsidiary": {"id": settings.subsidiary}, "currency": {"id": settings.currencies["USD"]},
            "line": {"items": [{"account": {"id": returns_acct}, "debit": -refund},
                               {"account": {"id": settings.clearing_account}, "credit": -refund}]}})
        # and a statement TikTok issued that the bridge never imported (so never posted)
        day = (c.clock.now() + timedelta(days=1)).date()
        sb.run(lambda st: month.finance.add_adjustment(st, shop_id, "-7.25", "PLATFORM_PENALTY"))
        sb.advance_clock(24 * 3600)
        [unposted] = sb.generate_statements(day.isoformat(), shop_id=shop_id)
        c.clock.advance(days=1)  # type: ignore[attr-defined]

        since, until = window(c)
        [bad] = c.flows.ledger_audit.audit_shops(since, until)
        assert not bad.ok
        codes = {(f.code, f.subject) for f in bad.findings}
        assert ("DOUBLE_COUNT", f"statement:{target.id}") in codes
        double = next(f for f in bad.findings if f.code == "DOUBLE_COUNT" and f.account == returns_acct)
        assert double.documents == (f"TTS-STMT-{target.id}-ADJ1",) and double.amount == refund
        assert ("MISSING_POSTING", f"statement:{unposted['id']}") in codes
        missing = next(f for f in bad.findings if f.code == "MISSING_POSTING" and unposted["id"] in f.subject)
        assert missing.documents == (f"TTS-STMT-{unposted['id']}",)
        open_codes = {(e.code, e.entity) for e in c.store.exceptions.list(status="open")}
        assert ("LEDGER_DOUBLE_COUNT", f"ledger:statement:{shop_id}:{target.id}") in open_codes
        assert ("LEDGER_MISSING_POSTING", f"ledger:statement:{shop_id}:{unposted['id']}") in open_codes
        assert all(e.owner == "finance" and e.fix_hint for e in c.store.exceptions.list(status="open")
                   if e.code.startswith("LEDGER_"))
        payout_verdict = c.flows.ledger_audit.verdict("statement", shop_id, target.id)
        assert payout_verdict is not None and payout_verdict["ok"] is False

        # the CLI: same audit, JSON figures, exit 1 on a difference
        from bridge.cli import Obj, main

        runner = CliRunner()
        res = runner.invoke(main, ["ledger", "audit", "--since", since.date().isoformat(), "--until",
                                   until.date().isoformat(), "--json", "--no-exceptions"], obj=Obj(c),
                            catch_exceptions=False)
        assert res.exit_code == 1, res.output
        doc: dict[str, Any] = json.loads(res.output[res.output.index("{"):])
        [shop] = doc["shops"]
        assert D(shop["difference"]) > 0 and {f["code"] for f in shop["findings"]} >= {"DOUBLE_COUNT",
                                                                                       "MISSING_POSTING"}
        text = runner.invoke(main, ["ledger", "audit", "--since", since.date().isoformat(), "--until",
                                    until.date().isoformat(), "--no-exceptions", "--orders"], obj=Obj(c),
                             catch_exceptions=False)
        assert text.exit_code == 1
        assert "Per account" in text.output and "DOUBLE_COUNT" in text.output and "differences found" in text.output
        assert f"TTS-STMT-{target.id}-ADJ1" in text.output
    finally:
        c.close()


def test_the_gl_queries_are_plain_oracle_suiteql() -> None:
    from bridge.netsuite.adapters.ledger_audit import (
        ACCOUNTS_QUERY,
        PERIODS_QUERY,
        derived_documents_query,
        gl_query,
        header_query,
    )

    for q in (gl_query(datetime(2025, 2, 1, tzinfo=UTC).date(), datetime(2025, 3, 1, tzinfo=UTC).date(), ["12"]),
              header_query(["1", "2"]), derived_documents_query(["3"]), ACCOUNTS_QUERY, PERIODS_QUERY):
        upper = q.upper()
        assert " LIMIT " not in upper and "STRFTIME" not in upper and "DATE(" not in upper.replace("TO_DATE(", "")
    with pytest.raises(ValueError, match="internal ids"):
        header_query(["1 OR 1=1"])
    with pytest.raises(ValueError, match="internal ids"):
        derived_documents_query(["1) OR (1=1"])
