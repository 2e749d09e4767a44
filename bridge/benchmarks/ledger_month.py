"""A month of TikTok Shop through both sandboxes, then the ledger audit (issue 14.4).

Two shops — US (USD, with FBT) and UK (GBP, posted to a UK subsidiary whose base currency is GBP,
prices including 20% VAT) — get orders every day with discounts, shipping and US sales tax; some
are cancelled whole, some partly (line items) before shipping; the rest go through the bridge: the
orders flow writes each sales order (and, in ``customer_deposits`` mode, its customer deposit), a
warehouse fulfils the seller-shipped ones in NetSuite (whose SuiteScript calls the bridge, and the
fulfillment flow ships them on TikTok: USPS in the US, Royal Mail in the UK), TikTok ships the FBT
ones and the fulfillment flow records them; fully shipped, each order is closed (``summary``) or
billed (receivable modes). Buyers ask for refunds without a return before and after settlement and
return goods for a refund: each goes through the returns flow (a return authorization, received in
NetSuite; the refund left to the statement). TikTok charges its fee types (referral or commission,
transaction, refund administration, FBT fulfillment), books adjustments of several types, withholds
a reserve with one statement and releases it with a later one, and re-issues one statement after
its journal was posted while its payout was still processing. The bridge imports and posts through
its worker against both sandboxes over HTTP (the daily import job, twice: mid-month and at the end),
then ``ttns ledger audit`` must find NetSuite's GL equal to TikTok's figures to the cent, per
settlement mode, both shops in the same mode. Run it with ``scripts/ledger_month``; the test suite
runs a small version (tests/settlement/test_ledger_month.py).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bridge.benchmarks.harness import REPO
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory

START = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
US_SKUS = ["US-TEE-BLK-M", "US-TEE-WHT-L", "US-MUG-12", "US-VASE-01"]
FBT_SKU = "US-HOODIE-FBT"
GB_SKUS = ["GB-TEE-BLK-M", "GB-TEE-WHT-L", "GB-MUG-12", "GB-VASE-01"]
EXTRA_ACCOUNTS = {
    "ACCT-4010": ("Sales Returns", "Income"),
    "ACCT-6110": ("TikTok Referral Fees", "Expense"),
    "ACCT-6115": ("TikTok Commission", "Expense"), "ACCT-6120": ("TikTok Transaction Fees", "Expense"),
    "ACCT-6140": ("TikTok Refund Admin Fees", "Expense"), "ACCT-6210": ("FBT Fulfillment Fees", "Expense"),
    "ACCT-6190": ("TikTok Adjustments", "Expense"), "ACCT-6220": ("Shipping Fee Adjustments", "Expense"),
    "ACCT-4200": ("TikTok Reimbursements", "Income"), "ACCT-2250": ("Taxes Withheld by TikTok", "OthCurrLiab"),
    "ACCT-1260": ("TikTok Reserve Held", "OthCurrAsset"),
}
SPEC: dict[str, Any] = {
    "subsidiary": "eid:SUB-US", "currencies": {"USD": "eid:CUR-USD", "GBP": "eid:CUR-GBP"},
    "dimensions": {"class": "eid:CLASS-TTS", "department": "eid:DEPT-ECOM"},
    "clearing_account": "eid:ACCT-1250", "reserve_account": "eid:ACCT-1260", "variance_account": "eid:ACCT-6900",
    # the UK shop's prices include VAT: the journal books it where its invoices' VAT-UK item does
    "vat_account": "eid:ACCT-2200",
    "accounts": {
        # discounts on the account the orders' discount items post to (the sandbox's DISC-SELLER and
        # DISC-PLATFORM: 4050 Sales Discounts), so every mode keeps them in one place
        "revenue": {"default": "eid:ACCT-4000", "refund_subtotal_before_discount_amount": "eid:ACCT-4010",
                    "seller_discount_amount": "eid:ACCT-4050", "seller_discount_refund_amount": "eid:ACCT-4050"},
        "shipping": {"default": "eid:ACCT-6200", "customer_paid_shipping_fee_amount": "eid:ACCT-4100",
                     "shipping_fee_discount_amount": "eid:ACCT-4100", "fbt_fulfillment_fee_amount": "eid:ACCT-6210"},
        "fee": {"default": "eid:ACCT-6100", "referral_fee_amount": "eid:ACCT-6110",
                "platform_commission_amount": "eid:ACCT-6115", "transaction_fee_amount": "eid:ACCT-6120",
                "refund_administration_fee_amount": "eid:ACCT-6140"},
        "tax": {"default": "eid:ACCT-2250"},
        "adjustment": {"default": "eid:ACCT-6190", "SHIPPING_FEE_ADJUSTMENT": "eid:ACCT-6220",
                       "LOGISTICS_REIMBURSEMENT": "eid:ACCT-4200"},
    },
    "deposit": {"bank_account": "eid:ACCT-1000", "bank_accounts": {"USD": "eid:ACCT-1000", "GBP": "eid:ACCT-1010"}},
    # TikTok's funding of the platform discount lands where the invoice's platform discount line debits
    # (docs/accounting.md, "Per component"): they cancel, and Sales holds the gross TikTok reports
    "receivable": {"platform_discount_account": "eid:ACCT-4050", "sales_tax_account": "eid:ACCT-2200",
                   "difference_account": "eid:ACCT-6900", "ar_account": "eid:ACCT-1100"},
}
MODES = ("summary", "customer_deposits", "invoices")


@dataclass
class MonthOptions:
    orders: int = 2000
    days: int = 30
    modes: tuple[str, ...] = MODES
    seed: int = 2025
    gb_share: float = 0.25
    workdir: Path | None = None
    # the TikTok sandbox's Get Order Detail leaves out the UK order whose VAT TikTok states per unit once the
    # bridge shipped it (``omit_from_order_detail``): its statement is refused, the audit names the order
    omit_vat_order_detail: bool = False


@dataclass
class MonthResult:
    mode: str
    seconds: float
    events: dict[str, int]
    statements: int
    payouts: int
    audits: list[dict[str, Any]] = field(default_factory=list)
    open_exceptions: list[dict[str, str]] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)  # the US shop's order documents in NetSuite
    vat_orders: list[str] = field(default_factory=list)  # the UK orders whose VAT TikTok states per unit

    @property
    def ok(self) -> bool:
        """The audit finds NetSuite's GL equal to TikTok's figures to the cent, and nothing else."""
        return bool(self.audits) and all(a["difference"] == "0.00" and not a["findings"] for a in self.audits)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "ok": self.ok,
                "seconds": round(self.seconds, 1), "events": self.events,
                "statements": self.statements, "payouts": self.payouts, "documents": self.documents,
                "audits": self.audits, "open_exceptions": self.open_exceptions}


class _Month:
    def __init__(self, opts: MonthOptions, mode: str, work: Path, log: Callable[[str], None]) -> None:
        self.o, self.mode, self.work, self.log = opts, mode, work, log
        self.rng = random.Random(opts.seed)
        self.events: Counter[str] = Counter()
        self.order_ids: dict[str, list[str]] = {}
        self.specs_source = REPO / "mapping_specs"
        self.tracking = 0
        self.kept: set[str] = set()  # orders never cancelled nor refunded (the VAT-per-unit order)

    # -- TikTok's month ----------------------------------------------------------------------------
    def simulate(self, sb: Any, shops: dict[str, str], day_range: range, hooks: dict[int, Callable[[str], None]],
                 bridge_ships: Callable[[str, list[str]], list[str]] | None = None,
                 bridge_returns: Callable[[str, list[tuple[str, str]]], None] | None = None) -> None:
        """Orders, cancellations, shipments, refunds, returns and adjustments, a statement per shop per
        day (``hooks[d]`` runs with each statement of day ``d``). ``bridge_ships(shop, orders)``: the
        day's orders left after the cancellations go through the bridge's orders and fulfillment flows,
        which ship them on TikTok (without it, they are shipped on TikTok); it returns the orders still
        live (some are cancelled once their sales order exists). ``bridge_returns(shop,
        [(order, return)])``: the day's returns and refunds through the bridge's returns flow."""
        from bridge.sandbox.tiktok import aftersale, catalog, finance, fulfillment
        from bridge.sandbox.tiktok import orders as sorders

        rng, o = self.rng, self.o
        per_day = max(2, -(-o.orders // o.days))  # at least `orders` in all

        def ship(st: Any, order: Any) -> None:
            if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
                fulfillment.ship_fbt(st, order.id)
            else:
                option = st.delivery_options[order.delivery_option_id]
                pid = option.provider_ids[0]
                tracking = fulfillment.tiktok_tracking_number(st, st.providers[pid].name)
                fulfillment.mark_package_as_shipped(st, order.shop_id, order.id,
                                                    {"tracking_number": tracking, "shipping_provider_id": pid})
            sorders.advance(st, order, to="DELIVERED")

        def stock(st: Any) -> None:
            for sku in st.skus.values():
                if st.products[sku.product_id].shop_id in shops.values():
                    for wid in list(sku.inventory):
                        catalog.set_stock(st, sku.id, wid, 1_000_000)

        sb.run(stock)
        for d in day_range:
            for region, shop_id in shops.items():
                n = max(1, round(per_day * (o.gb_share if region == "GB" else 1 - o.gb_share)))
                skus = GB_SKUS if region == "GB" else US_SKUS
                specs = []
                for _ in range(n):
                    fbt = region == "US" and rng.random() < 0.1
                    items = ([{"seller_sku": FBT_SKU, "quantity": rng.randint(1, 2)}] if fbt else
                             [{"seller_sku": s, "quantity": rng.randint(1, 3)}
                              for s in rng.sample(skus, rng.randint(1, 2))])
                    ship_fee = rng.choice(["0.00", "4.99", "7.50"])
                    specs.append({"shop_id": shop_id, "items": items, "fbt": fbt, "hold": False,
                                  "tax_rate": "0.0825" if region == "US" else "0",
                                  "seller_discount": rng.choice(["0.00", "1.00", "2.50"]),
                                  "platform_discount": rng.choice(["0.00", "0.00", "1.50"]),
                                  "shipping_fee": ship_fee,
                                  "shipping_fee_platform_discount": "1.00" if ship_fee != "0.00" and rng.random() < 0.3
                                  else "0.00"})
                placed = sb.place_orders(specs)
                if placed["refused_count"]:
                    raise RuntimeError(f"the TikTok sandbox refused orders: {placed['refused'][:2]}")
                day_ids = [str(x) for x in placed["orders"]]
                self.order_ids.setdefault(shop_id, []).extend(day_ids)
                self.events["orders"] += len(day_ids)
                self.events["fbt_orders"] += sum(1 for s in specs if s["fbt"])
                earlier = self.order_ids[shop_id][:-len(day_ids)]

                def cancel(st: Any, day_ids: list[str] = day_ids) -> set[str]:
                    cancelled: set[str] = set()
                    # at least one a day, but never a shop's only order of the day
                    for oid in rng.sample(day_ids, max(1, len(day_ids) // 25) if len(day_ids) > 1 else 0):
                        aftersale.request_cancel(st, oid, "SYSTEM")
                        cancelled.add(oid)
                        self.events["cancelled_full"] += 1
                    multi = [x for x in day_ids if x not in cancelled and len(st.orders[x].active_items) > 1
                             and st.orders[x].fulfillment_type != "FULFILLMENT_BY_TIKTOK"]
                    for oid in rng.sample(multi, min(len(multi), max(1, len(day_ids) // 25))):
                        aftersale.request_cancel(st, oid, "OPERATOR", [st.orders[oid].active_items[0].id])
                        self.events["cancelled_partly"] += 1
                    return cancelled

                cancelled: set[str] = sb.run(cancel)
                live = [x for x in day_ids if x not in cancelled]
                if region == "GB" and d == day_range.start:
                    # an order whose VAT TikTok states per unit (Get Price Detail) apart from the rule on the
                    # order's components: 3 x 12.50 less 1.00 is 2.03 VAT a unit, 6.09 in all, where 37.50 and
                    # 1.00 split alone give 6.25 - 0.17 = 6.08. Shipped, settled, never cancelled nor refunded.
                    kept = sb.place_orders([{"shop_id": shop_id, "items": [{"seller_sku": GB_SKUS[2], "quantity": 3,
                                                                           "price": "12.50"}],
                                             "hold": False, "seller_discount": "1.00"}])
                    kept_ids = [str(x) for x in kept["orders"]]
                    if kept["refused_count"] or len(kept_ids) != 1:
                        raise RuntimeError(f"the TikTok sandbox refused the VAT order: {kept.get('refused')}")
                    self.kept.update(kept_ids)
                    self.order_ids[shop_id].extend(kept_ids)
                    self.events["orders"] += 1
                    self.events["vat_per_unit_order"] += 1
                    live = live + kept_ids
                by_bridge = bridge_ships is not None
                if bridge_ships is not None:
                    live = bridge_ships(shop_id, live)
                if o.omit_vat_order_detail and region == "GB" and d == day_range.start:
                    for oid in sorted(self.kept):
                        sb.omit_from_order_detail(oid)
                        self.events["vat_order_omitted_from_order_detail"] += 1

                def today(st: Any, live: list[str] = live, earlier: list[str] = earlier,
                          shop_id: str = shop_id, by_bridge: bool = by_bridge, d: int = d) -> list[tuple[str, str]]:
                    made: list[tuple[str, str]] = []
                    for oid in live:
                        if by_bridge:  # the bridge shipped it (NetSuite fulfillment pushed, or TikTok's FBT)
                            sorders.advance(st, st.orders[oid], to="DELIVERED")
                        else:
                            ship(st, st.orders[oid])
                    open_ = [x for x in live if x not in self.kept]
                    for oid in rng.sample(open_, min(len(open_), 2)):  # refund only, before it settles
                        li = next((x for x in st.orders[oid].active_items if not x.refunded), None)
                        if li is not None:
                            r = aftersale.request_return(st, oid, [li.id], "REFUND")
                            aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_REFUND"})
                            made.append((oid, r.id))
                            self.events["refund_only_before_settlement"] += 1
                    settled = [x for x in earlier if st.orders[x].status in ("DELIVERED", "COMPLETED")
                               and x not in self.kept]
                    for oid in rng.sample(settled, min(len(settled), 2)):  # returned for a refund, after settling
                        li = next((x for x in st.orders[oid].active_items if not x.refunded), None)
                        if li is None or st.orders[oid].status != "DELIVERED":
                            continue
                        r = aftersale.request_return(st, oid, [li.id], "RETURN_AND_REFUND")
                        aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_RETURN"})
                        aftersale.buyer_ships_return(st, r.id, None)
                        aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_RECEIVED_PACKAGE"})
                        made.append((oid, r.id))
                        self.events["returned_and_refunded"] += 1
                    for oid in rng.sample(settled, min(len(settled), 1)):  # refund only, after settling
                        li = next((x for x in st.orders[oid].active_items if not x.refunded), None)
                        if li is not None and st.orders[oid].status == "DELIVERED":
                            r = aftersale.request_return(st, oid, [li.id], "REFUND")
                            aftersale.approve_return(st, shop_id, r.id, {"decision": "APPROVE_REFUND"})
                            made.append((oid, r.id))
                            self.events["refund_only_after_settlement"] += 1
                    if live:
                        finance.add_adjustment(st, shop_id, rng.choice(["-4.50", "-1.25"]), "SHIPPING_FEE_ADJUSTMENT",
                                               rng.choice(live))
                        finance.add_adjustment(st, shop_id, "12.00", "LOGISTICS_REIMBURSEMENT", rng.choice(live))
                        self.events["adjustments"] += 2
                    if d % 7 == 3:
                        finance.add_adjustment(st, shop_id, "-25.00", "PLATFORM_PENALTY")
                        finance.add_adjustment(st, shop_id, "-19.99", "CHARGE_BACK")
                        self.events["adjustments"] += 2
                    return made

                made: list[tuple[str, str]] = sb.run(today)
                if bridge_returns is not None and made:
                    bridge_returns(shop_id, made)
            sb.advance_clock(15 * 3600 + 1800)  # 00:30 the next day: TikTok closed the day's statements
            day = (START + timedelta(days=d + 1)).date()
            for shop_id in shops.values():
                for stmt in sb.generate_statements(day.isoformat(), shop_id=shop_id):
                    self.events["statements"] += 1
                    if d in hooks:
                        hooks[d](str(stmt["id"]))
            sb.advance_clock(8.5 * 3600)

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> MonthResult:
        from bridge.bootstrap import build
        from bridge.clock import ManualClock
        from bridge.sandbox.netsuite import NetSuiteSandboxConfig
        from bridge.sandbox.tiktok import TikTokSandboxConfig
        from bridge.sandbox.world import SandboxWorld
        from bridge.store.db import upgrade
        from bridge.tiktok.oauth import connect
        from bridge.web import create_app

        started = time.monotonic()
        o = self.o
        tk = TikTokSandboxConfig(seed=o.seed, webhook_enabled=False, settle_on="DELIVERED",
                                 clock_start=START.timestamp(), transaction_fee_rate="0.01")
        # NetSuite runs the bridge's SuiteScript: a warehouse's item fulfillment reaches the bridge as its
        # user event's signed call (the bridge is served on the world's port)
        world = SandboxWorld(self.work / "world", tiktok=tk, netsuite=NetSuiteSandboxConfig(https_allow_http=True),
                             run_scripts=True)
        world.start()
        try:
            sb, ns = world.tiktok_sb, world.netsuite_sb
            gbp = ns.seed({"currency": [{"externalId": "CUR-GBP", "name": "GBP", "symbol": "GBP",
                                         "isBaseCurrency": False, "exchangeRate": "1.27", "currencyPrecision": 2}]})
            ns.seed({"subsidiary": [{"externalId": "SUB-UK", "name": "TTNS Retail UK", "currency": {
                "id": gbp["currency"][0]}, "country": {"id": "GB"}}],
                "account": [{"externalId": eid, "acctNumber": eid[5:], "acctName": name, "acctType": {"id": kind}}
                            for eid, (name, kind) in EXTRA_ACCOUNTS.items()]})
            state = sb.describe()
            shops = {s["region"]: str(s["id"]) for s in state["shops"] if s["region"] in ("US", "GB")}
            # the US shop's products as NetSuite items, in stock where they ship from (FBT: TikTok's
            # warehouse, mirrored at the FBT location)
            for sku in [*US_SKUS, FBT_SKU]:
                if world.netsuite_item_id(sku) is None:
                    ns.seed({"inventoryItem": [{"externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku}]})
                ns.receive_stock(str(world.netsuite_item_id(sku)),
                                 world.netsuite_location("LOC-FBT" if sku == FBT_SKU else "LOC-MAIN"), 1_000_000,
                                 "4.00")
            for sku in GB_SKUS:  # the UK shop's products, in stock at the UK warehouse (orders.yaml markets.GB)
                if world.netsuite_item_id(sku) is None:
                    ns.seed({"inventoryItem": [{"externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku}]})
                ns.receive_stock(str(world.netsuite_item_id(sku)), world.netsuite_location("LOC-UK"), 1_000_000, "3.00")
            spec = {**SPEC, "mode": self.mode}
            # the UK shop posts to its own subsidiary (base currency GBP), in the same mode as the US shop
            # and its own clearing account: a bank account holds one currency (the world seeds 1251 and the
            # bank 1010 in GBP, bridge.sandbox.netsuite.seed.uk_seed)
            overrides: dict[str, Any] = {shops["GB"]: {"subsidiary": "eid:SUB-UK", "clearing_account": "eid:ACCT-1251"}}
            specs_dir = self.work / "specs"
            specs_dir.mkdir(parents=True, exist_ok=True)
            (specs_dir / "settlement.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": spec,
                                                                       "shops": overrides}))
            for path in Path(world.specs_dir).glob("*.yaml"):  # the sandbox's records
                if path.name != "settlement.yaml":
                    shutil.copy(path, specs_dir / path.name)
            orders_spec = yaml.safe_load((specs_dir / "orders.yaml").read_text())
            # customer_deposits: the orders flow records the order-time customer deposit (docs/accounting.md)
            orders_spec.setdefault("defaults", {})["deposit"] = {"enabled": self.mode == "customer_deposits"}
            (specs_dir / "orders.yaml").write_text(yaml.safe_dump(orders_spec))
            self.specs_source = world.specs_dir
            db = f"sqlite:///{self.work / 'bridge.db'}"
            upgrade(db)
            clock = ManualClock(datetime.fromtimestamp(sb.now(), UTC) + timedelta(hours=6))
            c = build(world.settings(db, specs_dir=str(specs_dir), log_level="WARNING", retry_base_seconds=0.01,
                                     retry_cap_seconds=0.05),
                      clock=clock, areas=("system", "orders", "fulfillment", "returns", "settlement", "ledger_audit"))
            try:
                world.serve(create_app(root=c))
                tiktok = c.tiktok()
                for shop_id in shops.values():
                    connect(auth_code=sb.authorize(world.app_key, shop_id=shop_id), oauth=tiktok.oauth,
                            api=tiktok.api, store=c.store, public_url=c.settings.public_url, subscribe=False)
                return self._month(world, c, clock, shops, started)
            finally:
                c.close()
        finally:
            world.close()

    def _month(self, world: Any, c: Any, clock: Any, shops: dict[str, str], started: float) -> MonthResult:
        from bridge.flows import fulfillment as fulfillment_flow
        from bridge.flows.orders import sync_spec
        from bridge.sandbox.tiktok import fulfillment
        from bridge.store.queue import JobSpec

        o = self.o
        sb, ns = world.tiktok_sb, world.netsuite_sb
        worker = c.worker(threads=2, name="month")
        hold_day, release_day, correct_day = o.days // 5, o.days // 2, (o.days * 2) // 3
        held: dict[str, str] = {}
        corrected: list[tuple[str, str]] = []

        def statement(sid: str) -> tuple[str, str]:
            return sb.run(lambda st: (st.statements[sid].shop_id, st.statements[sid].payment_id))  # type: ignore[no-any-return]

        def hold(sid: str) -> None:
            if statement(sid)[0] == shops["US"] and "US" not in held:
                sb.set_reserve(sid, "-50.00")
                held["US"] = sid
                self.events["reserve_held"] += 1

        def release(sid: str) -> None:
            if statement(sid)[0] == shops["US"] and "US" in held and "released" not in held:
                sb.set_reserve(sid, "50.00")
                held["released"] = sid
                self.events["reserve_released"] += 1

        def processing(sid: str) -> None:
            shop_id, pid = statement(sid)
            if shop_id == shops["US"] and not corrected:
                sb.set_payment_status(pid, "PROCESSING")
                corrected.append((sid, pid))

        def import_now(bucket: str) -> None:
            clock.set(datetime.fromtimestamp(sb.now(), UTC) + timedelta(hours=1))
            c.store.queue.enqueue(JobSpec(kind="settlement.import", key="schedule:settlement.import",
                                           payload={"bucket": bucket, "lookback_days": o.days + 5},
                                           idempotency_key=f"import-{bucket}"))
            worker.drain()

        def bridge_ships(shop_id: str, ids: list[str]) -> list[str]:
            """The day's orders through the bridge: the orders flow writes each sales order (and, in
            customer_deposits mode, its customer deposit); the warehouse fulfils the seller-shipped ones in
            NetSuite, whose user event makes the fulfillment flow ship them on TikTok; TikTok ships the FBT
            ones and the fulfillment flow records them. Fully shipped, the fulfillment flow closes (summary)
            or bills (receivable modes) each sales order."""
            clock.set(max(clock.now(), datetime.fromtimestamp(sb.now(), UTC)))
            c.store.queue.enqueue_many([sync_spec(shop_id, oid, idempotency_key=f"orders.sync:month:{shop_id}:{oid}",
                                                  reason="backfill") for oid in ids])
            worker.drain()
            links = c.store.links.get_many("order", shop_id, ids)
            missing = [oid for oid in ids if oid not in links or not links[oid].netsuite_id]
            if missing:
                raise RuntimeError(f"the orders flow wrote no sales order for {missing[:5]}: "
                                   f"{_open_exceptions(c)[:3]}")
            ids = cancel_synced(shop_id, ids, links)
            fbt = [oid for oid in ids if OrderMemory.parse(links[oid].data).is_fbt]
            sb.run(lambda st: [fulfillment.ship_fbt(st, oid) for oid in fbt])
            c.store.queue.enqueue_many([JobSpec(
                kind=fulfillment_flow.KIND_TIKTOK, key=fulfillment_flow.order_key(shop_id, oid),
                payload={"shop_id": shop_id, "order_id": oid, "reason": "poll"},
                idempotency_key=f"{fulfillment_flow.KIND_TIKTOK}:month:{shop_id}:{oid}") for oid in fbt])
            uk = shop_id == shops.get("GB")
            for oid in ids:
                if oid not in fbt:
                    self.tracking += 1
                    # one per parcel: USPS in the US, Royal Mail in the UK (carriers.yaml tracking patterns)
                    tracking = f"RM{self.tracking:09d}GB" if uk else f"94001112025558{self.tracking:08d}"
                    ns.fulfill(links[oid].netsuite_id, packages=[{"trackingNumber": tracking, "weight": "1.0"}])
            worker.drain()
            links = c.store.links.get_many("order", shop_id, ids)
            unfinished = [oid for oid in ids if not OrderMemory.parse(links[oid].data).finished]
            if unfinished:
                raise RuntimeError(f"the fulfillment flow did not finish orders {unfinished[:5]}: "
                                   f"{_open_exceptions(c)[:3]}")
            self.events["shipped_by_bridge"] += len(ids)
            self.events[f"shipped_by_bridge_{'GB' if uk else 'US'}"] += len(ids)
            return ids

        def cancel_synced(shop_id: str, ids: list[str], links: dict[str, Any]) -> list[str]:
            """TikTok cancels an order after its sales order (and, in customer_deposits mode, its customer
            deposit) exists: the cancellations flow closes the sales order and refunds the deposit."""
            from bridge.flows import cancellations
            from bridge.sandbox.tiktok import aftersale

            seller = [oid for oid in ids if not OrderMemory.parse(links[oid].data).is_fbt and oid not in self.kept]

            def cancel(st: Any) -> tuple[list[str], list[str]]:
                whole = seller[:1] if len(seller) >= 4 else []  # a day's whole cancellation keeps most orders live
                for oid in whole:
                    aftersale.request_cancel(st, oid, "SYSTEM")
                # and one unit of an order of several: its sales order lines shrink, the rest ships and is
                # billed (receivable modes); in customer_deposits mode the unit's share of the deposit is refunded
                multi = [oid for oid in seller if oid not in whole and len(st.orders[oid].active_items) > 1]
                for oid in multi[:1]:
                    aftersale.request_cancel(st, oid, "SYSTEM", [st.orders[oid].active_items[0].id])
                return whole, multi[:1]

            if not seller:
                return ids

            full, part = sb.run(cancel)
            # time moves on after the orders were read (the bridge's cache of TikTok orders is as fresh as the
            # moment it read them: the cancellation, later, reads the order again)
            clock.set(clock.now() + timedelta(seconds=1))
            c.store.queue.enqueue_many([JobSpec(
                kind=cancellations.KIND_SYNC, key=order_key(shop_id, oid),
                payload={"shop_id": shop_id, "order_id": oid, "cancel_id": "", "status": ""},
                idempotency_key=f"{cancellations.KIND_SYNC}:month:{shop_id}:{oid}") for oid in [*full, *part]])
            worker.drain()
            after = c.store.links.get_many("order", shop_id, [*full, *part])
            for oid in [*full, *part]:
                refunds = after[oid].data.get("deposit_refunds") or []
                self.events["deposit_refunds"] += len(refunds)
            self.events["cancelled_after_sync_full"] += len(full)
            self.events["cancelled_after_sync_partly"] += len(part)
            return [oid for oid in ids if oid not in full]

        def bridge_returns(shop_id: str, made: list[tuple[str, str]]) -> None:
            """The day's returns and refunds through the bridge's returns flow (as webhook 12 would
            trigger it): a return for a refund gets its return authorization, which the warehouse
            receives (item receipt); no credit memo or cash refund while settlement posts the refund."""
            from bridge.flows import returns as returns_flow

            clock.set(max(clock.now(), datetime.fromtimestamp(sb.now(), UTC)))
            c.store.queue.enqueue_many([JobSpec(
                kind=returns_flow.KIND_SYNC, key=order_key(shop_id, oid),
                payload={"shop_id": shop_id, "order_id": oid, "return_id": rid, "status": ""},
                idempotency_key=f"{returns_flow.KIND_SYNC}:month:{shop_id}:{rid}") for oid, rid in made])
            worker.drain()
            links = c.store.links.get_many("return", shop_id, [rid for _oid, rid in made])
            for _oid, rid in made:
                state = links[rid].data if rid in links else {}
                if state.get("refund_by") == "statement":
                    self.events["returns_flow_refund_left_to_statement"] += 1
                if state.get("refund_id"):
                    self.events["returns_flow_refund_document"] += 1
                ra_id = state.get("ra_id")
                if ra_id and state.get("return_type") == "RETURN_AND_REFUND":
                    self.events["returns_flow_return_authorization"] += 1
                    c.netsuite().transform("returnAuthorization", str(ra_id), "itemReceipt",
                                                {"tranDate": clock.now().date().isoformat()},
                                                external_id=f"RCPT-{rid}")
                    self.events["return_received_in_netsuite"] += 1

        self.log(f"[{self.mode}] days 1..{correct_day + 1}: orders, refunds, returns, adjustments, statements")
        self.simulate(sb, shops, range(0, correct_day + 1), {hold_day: hold, release_day: release,
                                                                correct_day: processing}, bridge_ships, bridge_returns)
        import_now("mid-month")
        if corrected:  # TikTok re-issues the statement whose payout it is still processing, then pays it
            sid, pid = corrected[0]
            sb.reissue_statement(sid, fee_delta="-1.37")
            sb.set_payment_status(pid, "PAID")
            self.events["statement_corrected"] += 1
        self.log(f"[{self.mode}] days {correct_day + 2}..{o.days}")
        self.simulate(sb, shops, range(correct_day + 1, o.days), {hold_day: hold, release_day: release},
                      bridge_ships, bridge_returns)
        import_now("month-end")
        now = clock.now()
        since, until = START - timedelta(days=1), now + timedelta(days=1)
        self.log(f"[{self.mode}] ledger audit {since.date()} .. {until.date()}")
        reports = c.flows.ledger_audit.audit_shops(since, until)
        svc = c.flows.settlement
        statements = sum(len(svc.repo.statements(shop_id=s, limit=1000)) for s in shops.values())
        payouts = sum(len(svc.repo.payments(shop_id=s)) for s in shops.values())
        exceptions = _open_exceptions(c)
        audits = [r.summary() | {"shop_id": r.shop_id} for r in reports]
        return MonthResult(self.mode, time.monotonic() - started, dict(self.events), statements, payouts,
                           audits, exceptions, self._documents(c, shops), sorted(self.kept))

    @staticmethod
    def _documents(c: Any, shops: dict[str, str]) -> dict[str, int]:
        """What NetSuite holds for the shops' orders (read back through SuiteQL): sales orders, how many
        are closed / billed, invoices, customer deposits, deposit applications, customer payments and
        refunds, per shop (``salesOrder_GB`` …) and in all; the returns flow's return authorizations and
        their item receipts; credit memos and cash refunds (none while settlement posts refunds)."""
        out: Counter[str] = Counter()
        for r in c.netsuite().suiteql(
                "SELECT t.type AS type, t.status AS status, t.externalid AS externalid FROM transaction t WHERE t.type "
                "IN ('SalesOrd', 'CustInvc', 'CustDep', 'CustPymt', 'DepAppl', 'CustRfnd', 'RtnAuth', 'ItemRcpt', "
                "'CustCred', 'CashRfnd')"):
            kind, eid = str(r.get("type") or ""), str(r.get("externalid") or "")
            simple = {"DepAppl": "depositApplication", "RtnAuth": "returnAuthorization", "CustCred": "creditMemo",
                      "CashRfnd": "cashRefund"}
            if kind == "ItemRcpt":  # the returned goods received against a return authorization
                out["returnReceipt" if eid.startswith("RCPT-") else "stockReceipt"] += 1
            elif kind in simple:
                out[simple[kind]] += 1
                continue
            for region, shop_id in shops.items():
                kinds = {"SalesOrd": ("salesOrder", f"TTS-{shop_id}-"), "CustInvc": ("invoice", f"TTS-INV-{shop_id}-"),
                         "CustDep": ("customerDeposit", f"TTS-DEP-{shop_id}-"),
                         "CustPymt": ("customerPayment", f"TTS-PMT-{shop_id}-"),
                         "CustRfnd": ("customerRefund", f"TTS-CRF-{shop_id}-")}
                if kind in kinds and eid.startswith(kinds[kind][1]):
                    names = [kinds[kind][0]]
                    if kind == "SalesOrd":
                        names.append({"H": "closed", "G": "billed"}.get(str(r.get("status") or ""), "open"))
                    for name in names:
                        out[name] += 1
                        out[f"{name}_{region}"] += 1
        return dict(out)


def _open_exceptions(c: Any) -> list[dict[str, str]]:
    return [{"code": e.code, "entity": e.entity, "title": e.title[:200]}
            for e in c.store.exceptions.list(status="open", limit=200)]


def run_month(opts: MonthOptions, log: Callable[[str], None] = print) -> list[MonthResult]:
    tmp = None
    if opts.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ttns-ledger-month-")
        base = Path(tmp.name)
    else:
        base = opts.workdir
    try:
        out = []
        for mode in opts.modes:
            work = base / mode
            work.mkdir(parents=True, exist_ok=True)
            out.append(_Month(opts, mode, work, log).run())
        return out
    finally:
        if tmp is not None:
            tmp.cleanup()


__all__ = ["MODES", "MonthOptions", "MonthResult", "run_month"]
