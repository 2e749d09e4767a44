"""Bad input to the accounting model (docs/accounting.md, "Bad input"): each is a finance or admin
exception with the evidence and the fix, nothing is posted half-way, nothing is lost, and the replay
after the fix posts exactly once. (A statement breaking TikTok's formulas and a NetSuite refusal are
in test_flow.py; the closed period against the NetSuite sandbox in test_accounting_sandbox.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.settlement.conftest import SHOP, make_world, write_spec
from tests.settlement.test_flow import day_one


def test_an_account_internal_id_netsuite_does_not_have_posts_nothing_until_fixed(sqlite_url: str,
                                                                                  tmp_path: Path) -> None:
    world = make_world(sqlite_url, tmp_path)
    try:
        world.ledger.absent.add(("account", "6111"))  # the referral fee account was deleted in NetSuite
        day_one(world)
        world.run_import()
        assert world.journals() == {} and world.deposits() == {}, "no journal naming a missing account is sent"
        (exc,) = [e for e in world.c.store.exceptions.list(status="open") if e.code == "SPEC_REFERENCE_MISSING"]
        assert exc.owner == "admin" and "6111" in exc.title and "accounts.fee.referral_fee_amount" in exc.title
        assert exc.evidence["details"]["missing"] == [["accounts.fee.referral_fee_amount", "6111"]]
        assert "ttns settlement post --pending" in exc.fix_hint
        row = world.repo.statement(SHOP, "S1")
        assert row is not None and row.line_count == 3, "every TikTok line is kept"
        # the fix: the spec names the account that exists; the replay posts once
        write_spec(tmp_path / "specs", accounts={**_accounts(), "fee": {**_accounts()["fee"],
                                                                        "referral_fee_amount": "6100"}})
        world.c.specs.loaded().specs.clear()
        from bridge.mapping.specs import SpecSet

        world.c.specs.loaded().specs.update(SpecSet.load(tmp_path / "specs").specs)
        world.clock.advance(hours=1)
        world.run_import()  # "the next daily import also posts what waits" (the fix hint)
        assert set(world.journals()) == {"TTS-STMT-S1"} and world.journals()["TTS-STMT-S1"]["writes"] == 1
        assert set(world.deposits()) == {"TTS-PAY-P1"}
        assert world.c.store.exceptions.list(status="open") == [], "the exception is resolved by the fix"
        accounts = {ln["account"]["id"] for ln in world.journals()["TTS-STMT-S1"]["body"]["line"]["items"]}
        assert "6111" not in accounts and "6100" in accounts
    finally:
        world.c.close()


def _accounts() -> dict[str, dict[str, object]]:
    from tests.settlement.specs import settings_dict

    accounts: dict[str, dict[str, object]] = settings_dict()["accounts"]
    return accounts


def test_an_order_billed_at_shipment_without_its_deposit_is_never_recognised_twice(sqlite_url: str,
                                                                                   tmp_path: Path) -> None:
    from decimal import Decimal

    from bridge.mapping.settlement import OrderDocument
    from bridge.store.repos import Link
    from tests.settlement import builders as b

    w = make_world(sqlite_url, tmp_path, mode="customer_deposits")
    try:
        s = b.statement("S7", [b.order_line("t1", "o1", gross="100.00", referral="6.00")], day="2025-03-03")
        w.add(s, "P7")
        w.pay("P7", [s])
        w.link("o1", "5001", expected_total="100.00")
        link = w.c.store.links.get("order", SHOP, "o1")
        assert link is not None
        w.c.store.links.upsert(Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                                    link.external_id, link.content_hash, link.status,
                                    {**link.data, "finished": "bill", "invoice_id": "7001"}, link.synced_at))
        w.run_import()  # billed at shipment (invoice 7001), but its customer deposit was never recorded
        assert w.journals() == {} and w.deposits() == {}
        (exc,) = [e for e in w.c.store.exceptions.list(status="open") if e.code == "SETTLEMENT_DOCUMENT_MISSING"]
        assert exc.owner == "finance" and exc.entity == f"statement:{SHOP}:S7"
        assert exc.evidence["details"]["orders"] == [{"order_id": "o1", "transaction_id": "t1", "sales_order": "5001",
                                                      "invoice": "7001"}]
        assert "orders.deposit" in exc.fix_hint
        # the deposit is recorded: the replay settles the sale against it, the invoice keeps the revenue
        w.ledger.documents[("customerDeposit", "o1")] = [OrderDocument("9001", "customerDeposit", Decimal("100.00"))]
        w.c.store.exceptions.replay(exc.id, w.c.store.queue)
        w.drain()
        je = w.journals()["TTS-STMT-S7"]["body"]
        assert {ln["account"]["id"] for ln in je["line"]["items"]} == {"6111", "1250"}, "no sales line: billed once"
    finally:
        w.c.close()


def test_orders_written_as_cash_sales_are_refused_before_a_journal_recognises_them_again(
        sqlite_url: str, tmp_path: Path) -> None:
    import yaml

    specs = tmp_path / "specs"
    specs.mkdir(parents=True)
    (specs / "orders.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": {
        "record_type": "cashSale", "tax": {"mode": "none"},
        "discounts": {"seller": {"mode": "line_rate"}, "platform": {"mode": "line_rate"}}}}))
    world = make_world(sqlite_url, tmp_path)
    try:
        day_one(world)
        world.run_import()
        assert world.journals() == {} and world.deposits() == {}
        (exc,) = [e for e in world.c.store.exceptions.list(status="open") if e.code == "ACCOUNTING_MODEL_CONFLICT"]
        assert exc.owner == "admin" and "record_type: salesOrder" in exc.fix_hint
        assert exc.evidence["details"]["record_type"] == "cashSale"
    finally:
        world.c.close()
