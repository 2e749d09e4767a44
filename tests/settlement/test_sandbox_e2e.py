"""A month of TikTok Shop statements for thousands of orders, imported from the TikTok sandbox and
posted to the NetSuite sandbox, both over HTTP, through the real worker — reconciled with zero
variance: every order line matched to its order's NetSuite totals, the general ledger per account
equal to TikTok's figures, the clearing account back to zero and the bank equal to the payouts.
Then TikTok re-issues a statement: exactly one adjusting journal."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from bridge.crypto import generate_key
from bridge.domain.tiktok import Order
from bridge.mapping import load_all_specs
from bridge.mapping.orders import ItemRef, map_order
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.settlement import account_for, add_components
from bridge.sandbox.tiktok import (
    TikTokSandbox,
    TikTokSandboxConfig,
    aftersale,
    catalog,
    create_app,
    finance,
    fulfillment,
)
from bridge.sandbox.tiktok import orders as sorders
from bridge.serving import BackgroundServer
from bridge.store.queue import JobSpec
from bridge.store.repos import Link
from bridge.tiktok import wiring
from bridge.tiktok.oauth import connect
from tests.netsuite.sandbox_support import Sandbox as NsSandbox
from tests.netsuite.sandbox_support import running_sandbox
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
DAYS = 30
ORDERS_PER_DAY = 100
START = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
SKUS = ["US-TEE-BLK-M", "US-TEE-WHT-L", "US-MUG-12", "US-VASE-01"]

# A chart of accounts with every fee type apart (created in the NetSuite sandbox by external id).
EXTRA_ACCOUNTS = {
    "ACCT-4010": ("Sales Returns", "Income"), "ACCT-4020": ("Seller Discounts", "Income"),
    "ACCT-6110": ("TikTok Referral Fees", "Expense"), "ACCT-6120": ("TikTok Transaction Fees", "Expense"),
    "ACCT-6140": ("TikTok Refund Admin Fees", "Expense"), "ACCT-6210": ("FBT Fulfillment Fees", "Expense"),
    "ACCT-6190": ("TikTok Adjustments", "Expense"), "ACCT-6220": ("Shipping Fee Adjustments", "Expense"),
    "ACCT-4200": ("TikTok Reimbursements", "Income"), "ACCT-2250": ("Taxes Withheld by TikTok", "OthCurrLiab"),
    "ACCT-1260": ("TikTok Reserve Held", "OthCurrAsset"),
}
SPEC = {
    "subsidiary": "eid:SUB-US", "currencies": {"USD": "eid:CUR-USD"},
    "dimensions": {"class": "eid:CLASS-TTS", "department": "eid:DEPT-ECOM"},
    "clearing_account": "eid:ACCT-1250", "reserve_account": "eid:ACCT-1260", "variance_account": "eid:ACCT-6900",
    "accounts": {
        "revenue": {"default": "eid:ACCT-4000", "refund_subtotal_before_discount_amount": "eid:ACCT-4010",
                    "seller_discount_amount": "eid:ACCT-4020", "seller_discount_refund_amount": "eid:ACCT-4020"},
        "shipping": {"default": "eid:ACCT-6200", "customer_paid_shipping_fee_amount": "eid:ACCT-4100",
                     "shipping_fee_discount_amount": "eid:ACCT-4100", "fbt_fulfillment_fee_amount": "eid:ACCT-6210"},
        "fee": {"default": "eid:ACCT-6100", "referral_fee_amount": "eid:ACCT-6110",
                "transaction_fee_amount": "eid:ACCT-6120", "refund_administration_fee_amount": "eid:ACCT-6140"},
        "tax": {"default": "eid:ACCT-2250"},
        "adjustment": {"default": "eid:ACCT-6190", "SHIPPING_FEE_ADJUSTMENT": "eid:ACCT-6220",
                       "LOGISTICS_REIMBURSEMENT": "eid:ACCT-4200"},
    },
    "deposit": {"bank_account": "eid:ACCT-1000"},
}


@pytest.fixture(scope="module")
def tiktok_server() -> Iterator[tuple[str, TikTokSandbox]]:
    cfg = TikTokSandboxConfig(seed=17, webhook_enabled=False, settle_on="DELIVERED", clock_start=START.timestamp(),
                              transaction_fee_rate="0.01")
    app = create_app(cfg)
    sb: TikTokSandbox = app.extensions["tiktok_sandbox"]
    with BackgroundServer(app, port=0, name="tiktok-sandbox") as server:
        try:
            yield server.url, sb
        finally:
            sb.close()


@pytest.fixture(scope="module")
def netsuite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NsSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("ns-keys")) as ns:
        yield ns


# ------------------------------------------------------------------------------------------- a month
def _ship(st: Any, order: Any) -> None:
    if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        fulfillment.ship_fbt(st, order.id)
    else:
        option = st.delivery_options[order.delivery_option_id]
        pid = option.provider_ids[0]
        tracking = fulfillment.tiktok_tracking_number(st, st.providers[pid].name)
        fulfillment.mark_package_as_shipped(st, order.shop_id, order.id,
                                            {"tracking_number": tracking, "shipping_provider_id": pid})
    sorders.advance(st, order, to="DELIVERED")


def simulate_month(sb: TikTokSandbox, shop_id: str, days: int = DAYS, per_day: int = ORDERS_PER_DAY) -> list[str]:
    """Orders every day (discounts, shipping, tax, FBT), deliveries, refunds before and after
    settlement, adjustments; a statement closed at 00:00 UTC each day. Returns the order ids."""
    rng = random.Random(2025)
    ids: list[str] = []

    def stock(st: Any) -> None:
        for sku in st.skus.values():
            if st.products[sku.product_id].shop_id == shop_id:
                for wid in list(sku.inventory):
                    catalog.set_stock(st, sku.id, wid, 100_000)

    sb.run(stock)
    for d in range(days):
        specs = []
        for _ in range(per_day):
            fbt = rng.random() < 0.1
            lines = rng.randint(1, 2)
            items = ([{"seller_sku": "US-HOODIE-FBT", "quantity": rng.randint(1, 2)}] if fbt else
                     [{"seller_sku": rng.choice(SKUS), "quantity": rng.randint(1, 3)} for _ in range(lines)])
            ship = rng.choice(["0.00", "4.99", "7.50"])
            specs.append({"shop_id": shop_id, "items": items, "fbt": fbt, "hold": False, "tax_rate": "0.0825",
                          "seller_discount": rng.choice(["0.00", "1.00", "2.50"]),
                          "platform_discount": rng.choice(["0.00", "0.00", "1.50"]),
                          "shipping_fee": ship,
                          "shipping_fee_platform_discount": "1.00" if ship != "0.00" and rng.random() < 0.3
                          else "0.00"})
        placed = sb.place_orders(specs)
        assert placed["refused_count"] == 0, placed["refused"][:3]
        day_ids = [str(x) for x in placed["orders"]]
        ids.extend(day_ids)

        def deliver(st: Any, day_ids: list[str] = day_ids, d: int = d) -> None:
            for oid in day_ids:
                _ship(st, st.orders[oid])
            for oid in rng.sample(day_ids, 2):  # refunded before it settles
                o = st.orders[oid]
                r = aftersale.request_return(st, oid, [o.line_items[0].id], "REFUND")
                aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_REFUND"})
            if d:
                for oid in rng.sample(ids[:-per_day], 2):  # refunded after it settled
                    o = st.orders[oid]
                    li = next((x for x in o.line_items if not x.refunded), None)
                    if li is not None:
                        r = aftersale.request_return(st, oid, [li.id], "REFUND")
                        aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_REFUND"})
            finance.add_adjustment(st, shop_id, rng.choice(["-4.50", "-1.25"]), "SHIPPING_FEE_ADJUSTMENT",
                                   rng.choice(day_ids))
            finance.add_adjustment(st, shop_id, "12.00", "LOGISTICS_REIMBURSEMENT", rng.choice(day_ids))
            if d % 7 == 3:
                finance.add_adjustment(st, shop_id, "-25.00", "PLATFORM_PENALTY")

        sb.run(deliver)
        sb.advance_clock(15 * 3600 + 1800)  # 00:30 next day
        day = (START + timedelta(days=d + 1)).date()
        assert len(sb.generate_statements(day.isoformat(), shop_id=shop_id)) == 1
        sb.advance_clock(8.5 * 3600)
    return ids


def link_orders(c: App, sb: TikTokSandbox, shop_id: str, order_ids: list[str]) -> None:
    """What the orders flow records per order: the mapped sales order's totals (map_order, the same
    pure function the orders flow runs; the sales orders themselves are the orders flow's e2e)."""
    settings = load_all_specs(sandbox_specs_dir()).get("orders", OrdersSpec).for_shop(shop_id)
    items = {s: ItemRef("1") for s in [*SKUS, "US-HOODIE-FBT"]}
    with c.store.transaction() as conn:
        for i, oid in enumerate(order_ids):
            mapped = map_order(Order.model_validate(sb.order(oid)), shop_id=shop_id, settings=settings, items=items)
            c.store.links.upsert(Link("order", shop_id, oid, str(100_000 + i), "salesOrder", mapped.external_id,
                                      mapped.content_hash, "synced",
                                      {"expected_total": str(mapped.expected_total),
                                       "platform_funded": str(mapped.platform_funded), "currency": "USD"},
                                      c.clock.now()), conn=conn)


def wire_bridge(url: str, sb: TikTokSandbox, ns: NsSandbox, tmp_path: Path, sqlite_url: str, spec: dict[str, Any],
                app: dict[str, Any], shop_id: str) -> tuple[App, ManualClock]:
    """A bridge on both sandboxes (real HTTP clients), the shop connected through the OAuth exchange."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "settlement.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": spec}))
    shutil.copy(sandbox_specs_dir() / "orders.yaml", specs / "orders.yaml")
    settings = ns.settings(database_url=sqlite_url, specs_dir=specs, secret_key=generate_key(),
                           public_url="http://127.0.0.1:9", tiktok_app_key=app["app_key"],
                           tiktok_app_secret=app["app_secret"], tiktok_service_id=app["service_id"],
                           tiktok_api_base=url, tiktok_auth_base=url, tiktok_authorize_url=url + "/open/authorize",
                           retry_base_seconds=0.01, retry_cap_seconds=0.05)
    clock = ManualClock(datetime.fromtimestamp(sb.now(), UTC) + timedelta(hours=6))
    c = build(settings, clock=clock, areas=("system", "settlement"))
    tiktok = wiring.build(c.settings, c.store, c.clock, sleep=lambda s: None, rand=lambda: 0.0)
    c = c.with_clients(tiktok=tiktok)
    connect(auth_code=sb.authorize(app["app_key"], shop_id=shop_id), oauth=tiktok.oauth, api=tiktok.api,
            store=c.store, public_url=c.settings.public_url, subscribe=False)
    return c, clock


def import_now(c: App, bucket: str, days: int) -> None:
    c.store.queue.enqueue(JobSpec(kind="settlement.import", key="schedule:settlement.import",
                                  payload={"bucket": bucket, "lookback_days": days + 5},
                                  idempotency_key=f"import-{bucket}"))
    c.worker(threads=1, name="e2e").drain()


def gl_by_account(ns: NsSandbox, client: Any) -> dict[str, Decimal]:
    rows = client.suiteql(
        "SELECT tal.account AS account, SUM(tal.debit) AS debit, SUM(tal.credit) AS credit "
        "FROM transactionaccountingline tal INNER JOIN transaction t ON t.id = tal.transaction "
        "WHERE t.externalid LIKE 'TTS-%' GROUP BY tal.account")
    out = {}
    for r in rows:
        net = D(str(r.get("credit") or 0)) - D(str(r.get("debit") or 0))
        out[str(r["account"])] = net.quantize(D("0.01"))
    return {k: v for k, v in out.items() if v}


# ----------------------------------------------------------------------------------------------- test
def test_a_month_reconciles_end_to_end_with_zero_variance(
    tiktok_server: tuple[str, TikTokSandbox], netsuite_server: NsSandbox, tmp_path: Path, sqlite_url: str,
) -> None:
    started = time.monotonic()
    url, sb = tiktok_server
    ns = netsuite_server
    ns.reset()
    ns.sb.seed({"account": [{"externalId": eid, "acctNumber": eid[5:], "acctName": name, "acctType": {"id": kind}}
                            for eid, (name, kind) in EXTRA_ACCOUNTS.items()]})
    state = sb.reset()
    app = state["apps"][0]
    shop_id = next(s["id"] for s in state["shops"] if s["region"] == "US")
    order_ids = simulate_month(sb, shop_id)
    assert len(order_ids) == DAYS * ORDERS_PER_DAY

    c, clock = wire_bridge(url, sb, ns, tmp_path, sqlite_url, SPEC, app, shop_id)
    try:
        link_orders(c, sb, shop_id, order_ids)

        # the daily import (scheduled job) with a lookback over the whole month, through the worker
        c.store.queue.enqueue(JobSpec(kind="settlement.import", key="schedule:settlement.import",
                                      payload={"bucket": "month", "lookback_days": DAYS + 5},
                                      idempotency_key="import-month"))
        worker = c.worker(threads=1, name="e2e")
        worker.drain()
        svc = c.flows.settlement
        rows = svc.repo.statements(shop_id=shop_id, limit=100)
        assert len(rows) == DAYS and all(r.status == "posted" for r in rows)
        assert c.store.exceptions.list(status="open") == []

        # every statement and payout reconciles: no variance, every order line matched, checks all pass
        reports = c.flows.settlement.list_reports(shop_id=shop_id, limit=100)
        assert all(r.variance == 0 and r.failed_checks == 0 and r.orders_unmatched == 0 for r in reports)
        lines = sum(r.lines for r in reports)
        assert lines > DAYS * ORDERS_PER_DAY  # orders, post-settlement refunds, adjustments
        penalties = len([d for d in range(DAYS) if d % 7 == 3])  # adjustments that name no order
        assert sum(r.orders_matched + r.adjustments_matched for r in reports) + penalties == lines
        payouts = c.flows.settlement.list_reports(shop_id=shop_id, kind="payment", limit=100)
        assert len(payouts) == DAYS and all(p.clearing_balance == 0 and p.variance == 0 for p in payouts)
        one = c.flows.settlement.report(statement_id=rows[0].statement_id)
        assert one is not None and one.fees < 0 and {a.component for a in one.fee_lines} >= {
            "fee.referral_fee_amount", "fee.transaction_fee_amount"}

        # NetSuite: one journal per statement, one deposit per payout, and the GL equals TikTok's figures
        client = c.netsuite()
        counts = client.suiteql("SELECT t.type AS type, COUNT(*) AS n FROM transaction t "
                                "WHERE t.externalid LIKE 'TTS-%' GROUP BY t.type")
        assert {r["type"]: int(r["n"]) for r in counts} == {"Journal": DAYS, "Deposit": DAYS}
        resolved = svc.posting_settings(shop_id)
        total = add_components(*(r.components for r in rows))
        expected: dict[str, Decimal] = {}
        for comp, amount in total.items():
            acct, _ = account_for(comp, resolved)
            assert acct is not None
            expected[acct] = expected.get(acct, D(0)) + amount
        pays = svc.repo.payments(shop_id=shop_id)
        bank = resolved.deposit.account_for("USD")
        assert bank is not None
        expected[bank] = expected.get(bank, D(0)) - sum((p.amount for p in pays), D(0))
        expected = {k: v for k, v in expected.items() if v}
        gl = gl_by_account(ns, client)
        assert gl == expected
        assert resolved.clearing_account not in gl  # clearing back to zero: every payout deposited exactly
        assert not any(k.startswith("variance.") for k in total)

        # TikTok re-issues a statement: exactly one adjusting journal, however often it is re-imported
        target = rows[len(rows) // 2]
        sb.reissue_statement(target.statement_id, fee_delta="-1.37")
        for hours in (1, 2):
            clock.advance(hours=hours)
            c.store.queue.enqueue(JobSpec(kind="settlement.import", key="schedule:settlement.import",
                                          payload={"bucket": f"again-{hours}", "lookback_days": DAYS + 5},
                                          idempotency_key=f"import-again-{hours}"))
            worker.drain()
        adjusting = client.suiteql("SELECT externalid FROM transaction WHERE externalid LIKE 'TTS-STMT-%-ADJ%'")
        assert [r["externalid"] for r in adjusting] == [f"TTS-STMT-{target.statement_id}-ADJ1"]
        gl_after = gl_by_account(ns, client)
        referral = account_for("fee.referral_fee_amount", resolved)[0]
        assert referral is not None
        assert gl_after[referral] - gl[referral] == D("-1.37")
        assert gl_after.get(resolved.clearing_account, D(0)) == D("1.37")  # TikTok owes 1.37 less than it paid
        adj_report = c.flows.settlement.report(statement_id=target.statement_id)
        assert adj_report is not None and adj_report.status == "adjusted"
        assert [p.kind for p in adj_report.postings] == ["journal", "adjustment"]
        # the payout had already been deposited: that history stays, finance is told
        changed = [e for e in c.store.exceptions.list(status="open") if e.code == "SETTLEMENT_PAYOUT_CHANGED"]
        assert len(changed) == 1 and changed[0].entity.endswith(target.payment_id)
    finally:
        c.close()
    assert time.monotonic() - started < 600  # a guard against a hang, not a timing assertion


def test_customer_deposit_mode_deposits_the_order_deposits(
    tiktok_server: tuple[str, TikTokSandbox], netsuite_server: NsSandbox, tmp_path: Path, sqlite_url: str,
) -> None:
    """Mode customer_deposits in the NetSuite sandbox: the order-time customer deposits (what the buyer
    paid, less tax: the shipped orders.yaml is marketplace-facilitator) are deposited with each payout."""
    url, sb = tiktok_server
    ns = netsuite_server
    ns.reset()
    ns.sb.seed({"account": [{"externalId": eid, "acctNumber": eid[5:], "acctName": name, "acctType": {"id": kind}}
                            for eid, (name, kind) in EXTRA_ACCOUNTS.items()]})
    state = sb.reset()
    app = state["apps"][0]
    shop_id = next(s["id"] for s in state["shops"] if s["region"] == "US")
    order_ids = simulate_month(sb, shop_id, days=3, per_day=15)
    spec = {**SPEC, "mode": "customer_deposits", "accounts": {g: {"default": v["default"]} for g, v in SPEC[
        "accounts"].items()}, "reserve_account": "eid:ACCT-1250",
        "receivable": {"platform_discount_account": "eid:ACCT-4000", "sales_tax_account": "eid:ACCT-2200",
                       "difference_account": "eid:ACCT-6900"}}
    c, _clock = wire_bridge(url, sb, ns, tmp_path, sqlite_url, spec, app, shop_id)
    try:
        link_orders(c, sb, shop_id, order_ids)
        client = c.netsuite()
        for oid in order_ids:  # what the orders flow records at order time in this mode
            link = c.store.links.get("order", shop_id, oid)
            assert link is not None
            client.create("customerDeposit", {"externalId": f"TTS-DEP-{shop_id}-{oid}",
                                              "customer": {"externalId": "CUST-TTS"},
                                              "payment": D(link.data["expected_total"]), "tranDate": "2025-02-01"})
        import_now(c, "deposits", 3)
        assert c.store.exceptions.list(status="open") == []
        svc = c.flows.settlement
        payouts = svc.repo.payments(shop_id=shop_id)
        assert len(payouts) == 3
        for pay in payouts:
            dep = client.get_by_external_id("deposit", f"TTS-PAY-{pay.id}", expand=True)
            assert dep is not None and D(str(dep["total"])) == pay.amount  # the bank sees the payout exactly
            rep = c.flows.settlement.report(payment_id=pay.id)
            assert rep is not None and rep.variance == 0 and rep.clearing_balance == 0
        statuses = client.suiteql("SELECT status, COUNT(*) AS n FROM transaction WHERE type = 'CustDep' "
                                  "GROUP BY status")
        settled_orders = {ln.order_id for r in svc.repo.statements(shop_id=shop_id)
                          for ln in svc.repo.lines(shop_id, r.statement_id)
                          if ln.is_order and ln.part("revenue.subtotal_before_discount_amount")}
        assert {str(r["status"]): int(r["n"]) for r in statuses} == {
            "B": len(settled_orders), **({"A": len(order_ids) - len(settled_orders)}
                                         if len(order_ids) > len(settled_orders) else {})}
        gl = gl_by_account(ns, client)
        undeposited = ns.sb.special_accounts["undeposited"]
        bank = ns.sb.special_accounts["bank"]
        assert gl.get(bank) == -sum((p.amount for p in payouts), D(0))
        unsettled = sum((D(c.store.links.get("order", shop_id, o).data["expected_total"])  # type: ignore[union-attr]
                         for o in order_ids if o not in settled_orders), D(0))
        assert gl.get(undeposited, D(0)) == -unsettled  # every settled order's deposit left undeposited funds
    finally:
        c.close()
