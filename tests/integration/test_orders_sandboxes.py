"""Orders through both sandboxes over real HTTP: TikTok sandbox → signed webhooks → bridge web →
inbox → worker processes → NetSuite sandbox. One worker is killed with SIGKILL mid-run; another
finishes. The NetSuite sandbox must end with exactly one correct sales order per TikTok order."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.store.queue import JobSpec
from bridge.store.repos import Link
from bridge.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SKUS = ["TSHIRT-RED-M", "TSHIRT-BLUE-L", "MUG-001", "CAP-001"]


class Running:
    def __init__(self, world: SandboxWorld, container: App, db: str) -> None:
        self.world = world
        self.c = container
        self.db = db

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.world.env(self.db), "TTNS_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
               "TTNS_LEASE_SECONDS": "3"}
        return subprocess.Popen([sys.executable, "-m", "bridge.cli", "worker", "--threads", "4", "--name", name],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def synced(self) -> int:
        return self.c.store.links.count("order", self.world.shop_id, status="synced")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    world = SandboxWorld(tmp_path, run_scripts=False).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    container = build(world.settings(db, lease_seconds=3))
    world.serve(create_app(root=container))
    world.connect_shop(container)
    try:
        yield Running(world, container, db)
    finally:
        container.close()
        world.close()


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_200_orders_become_exactly_200_correct_sales_orders_despite_a_killed_worker(running: Running) -> None:
    world, c = running.world, running.c
    for sku in SKUS:  # plenty on both sides: this test is about orders, not stock
        world.tiktok_sb.set_stock(seller_sku=sku, shop_id=world.shop_id, quantity=2000,
                                  warehouse_id=world.seller_warehouse)
        world.netsuite_sb.receive_stock(world.netsuite_item_id(sku), world.netsuite_location("LOC-MAIN"), 2000)
    rng = random.Random(7)
    specs = []
    for _ in range(200):
        items = [{"seller_sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(SKUS, rng.randint(1, 3))]
        specs.append({"shop_id": world.shop_id, "items": items, "hold": False,
                      "shipping_fee": rng.choice(["0", "4.99", "7.50"]),
                      "seller_discount": rng.choice(["0", "0", "1.00", "2.50"]),
                      "platform_discount": rng.choice(["0", "0", "0.75"]),
                      "tax_rate": rng.choice(["0", "0.0825"])})
    placed = world.tiktok_sb.place_orders(specs)
    assert placed["placed_count"] == 200, placed["refused"][:3]
    order_ids: list[str] = placed["orders"]

    first = running.worker("victim")
    try:
        wait_until(lambda: running.synced() >= 30, 120, "the first sales orders")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert running.synced() < 200, "the victim finished everything before it could be killed"

    second = running.worker("rescuer")
    try:
        wait_until(lambda: running.synced() == 200, 180, "all 200 sales orders")
        # the polling backstop finds nothing left to do
        c.store.queue.enqueue(JobSpec(kind="orders.poll", key="schedule:orders.poll", idempotency_key="final-poll"))
        wait_until(lambda: c.store.queue.counts().get("queued", 0) + c.store.queue.counts().get("running", 0) == 0,
                   60, "the queue to drain")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()
    assert c.store.exceptions.list(status="open") == []

    rows, _ = world.netsuite_sb.suiteql(
        "SELECT id, externalid, foreigntotal FROM transaction WHERE recordtype = 'salesorder'")
    by_eid = Counter(r["externalid"] for r in rows)
    assert len(rows) == 200 and all(n == 1 for n in by_eid.values()), "duplicate or missing sales orders"
    lines, _ = world.netsuite_sb.suiteql(
        "SELECT t.externalid AS eid, i.itemid AS sku, -tl.quantity AS qty FROM transactionline tl "
        "JOIN transaction t ON t.id = tl.transaction JOIN item i ON i.id = tl.item "
        "WHERE t.recordtype = 'salesorder' AND tl.mainline = 'F' AND i.itemid IN "
        "('TSHIRT-RED-M', 'TSHIRT-BLUE-L', 'MUG-001', 'CAP-001')")
    units: dict[str, Counter[str]] = {}
    for ln in lines:
        units.setdefault(ln["eid"], Counter())[ln["sku"]] += int(Decimal(str(ln["qty"])))
    totals = {r["externalid"]: Decimal(str(r["foreigntotal"])) for r in rows}
    for oid in order_ids:
        o = world.tiktok_sb.order(oid)
        eid = f"TTS-{world.shop_id}-{oid}"
        assert eid in totals, f"order {oid} has no sales order"
        expected = Decimal(o["payment"]["total_amount"]) - Decimal(o["payment"]["tax"])  # tax mode none
        assert totals[eid] == expected, f"{eid}: NetSuite {totals[eid]} != TikTok {expected}"
        want = Counter(li["seller_sku"] for li in o["line_items"])
        assert units[eid] == want, f"{eid}: lines {dict(units[eid])} != units {dict(want)}"
    from sqlalchemy import func, select

    from bridge.flows.orders import KIND_DOCUMENT_NUMBERS
    from bridge.store.tables import job_attempts, jobs

    # every sales order's document number as NetSuite gave it, read in shared batches, not one call per order
    numbered, _ = world.netsuite_sb.suiteql("SELECT id, tranid FROM transaction WHERE recordtype = 'salesorder'")
    numbers = {str(r["id"]): str(r["tranid"]) for r in numbered}
    links = c.store.links.list("order", world.shop_id)
    assert len(links) == 200 and all(lk.data.get("tranid") == numbers[str(lk.netsuite_id)] for lk in links), [
        (lk.tiktok_id, lk.data.get("tranid"), numbers.get(str(lk.netsuite_id))) for lk in links
        if lk.data.get("tranid") != numbers.get(str(lk.netsuite_id))][:5]
    with c.store.engine.connect() as conn:
        reads = conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.kind == KIND_DOCUMENT_NUMBERS, jobs.c.status == "done")).scalar_one()
        rows_ = conn.execute(select(job_attempts.c.worker, job_attempts.c.outcome)).all()
    assert 1 <= reads < 200, reads
    print(f"document numbers: {reads} reads for 200 sales orders")
    workers_ok = {w for w, o in rows_ if o == "ok"}
    assert {"victim", "rescuer"} <= workers_ok
    assert all(w == "victim" for w, o in rows_ if o == "lease_expired")


def test_a_gb_shops_order_lands_in_the_uk_subsidiary_in_gbp_net_plus_vat_equal_to_tiktoks_total(
        tmp_path: Path) -> None:
    """The sandbox overlay's markets.GB: UK subsidiary, GBP, UK warehouse, prices include 20% VAT."""
    world = SandboxWorld(tmp_path, run_scripts=False).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02))
    try:
        world.serve(create_app(root=c))
        gb = world.shop_of_region("GB")
        world.connect_shop(c, gb)
        assert c.store.shops.get(gb) is not None and c.store.shops.get(gb).region == "GB"  # type: ignore[union-attr]
        for sku, price in (("GB-MUG-12", "12.50"), ("GB-TEE-BLK-M", "19.99")):
            world.netsuite_sb.seed({"inventoryItem": [{
                "externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku,
                "price": {"items": [{"priceLevel": {"id": "1"}, "price": price}]}}]})
            world.netsuite_sb.receive_stock(world.netsuite_item_id(sku), world.netsuite_location("LOC-UK"), 50)
        o = world.tiktok_sb.place_order(gb, [{"seller_sku": "GB-MUG-12", "quantity": 3},
                                             {"seller_sku": "GB-TEE-BLK-M", "quantity": 1}],
                                        hold=False, shipping_fee="2.49", seller_discount="1.00")
        pay = o["payment"]
        assert pay["currency"] == "GBP" and Decimal(pay["tax"]) == 0  # UK prices include VAT: no tax on top
        worker = c.worker(threads=1, name="vat-test")
        wait_until(lambda: (world.tiktok_sb.wait_webhooks(5), worker.drain())[1] == 0
                   and (link := c.store.links.get("order", gb, o["id"])) is not None and bool(link.netsuite_id),
                   60, "the GB sales order")
        assert c.store.exceptions.list(status="open") == []
        link = c.store.links.get("order", gb, o["id"])
        assert link is not None
        so = world.netsuite_sb.get("salesOrder", link.netsuite_id).data
        subs, _ = world.netsuite_sb.suiteql("SELECT id FROM subsidiary WHERE externalid = 'SUB-UK'")
        curs, _ = world.netsuite_sb.suiteql("SELECT id FROM currency WHERE externalid = 'CUR-GBP'")
        assert str(so["subsidiary"]["id"]) == str(subs[0]["id"])
        assert str(so["currency"]["id"]) == str(curs[0]["id"])
        assert str(so["location"]["id"]) == world.netsuite_location("LOC-UK")
        vat_item, _ = world.netsuite_sb.suiteql("SELECT id FROM item WHERE externalid = 'VAT-UK'")
        vat = [ln for ln in so["item"] if str(ln["item"]["id"]) == str(vat_item[0]["id"])]
        assert len(vat) == 1
        gross = Decimal(pay["total_amount"])
        net = sum((Decimal(str(ln["amount"])) for ln in so["item"] if ln not in vat), Decimal(0)) + \
            Decimal(str(so.get("shippingCost") or 0))
        vat_amount = Decimal(str(vat[0]["amount"]))
        from bridge.sandbox.tiktok.orders import price_detail_json
        tiktok_vat = Decimal(world.tiktok_sb.run(lambda st: price_detail_json(st.orders[o["id"]]))["tax_amount"])
        assert vat_amount == tiktok_vat > 0  # TikTok's own VAT (Get Price Detail), not a recomputation
        assert net + vat_amount == gross
        assert Decimal(str(so["total"])) == gross
    finally:
        c.close()
        world.close()

@contextmanager
def _de_shop(tmp_path: Path, products: dict[str, str]) -> Iterator[tuple[SandboxWorld, App, str]]:
    """Both sandboxes over HTTP with the bridge, and a connected DE shop (the overlay's markets.DE) selling
    ``products`` (seller SKU -> price), each a NetSuite item with stock at LOC-DE."""
    world = SandboxWorld(tmp_path, run_scripts=False).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02))
    try:
        world.serve(create_app(root=c))
        sb, ns = world.tiktok_sb, world.netsuite_sb
        de = sb.add_shop(name="Sandbox DE Shop", region="DE", seller_name="Sandbox Seller DE")["id"]
        wh = next(w["id"] for w in sb.shop(de)["warehouses"] if not w.get("fbt"))
        for sku, price in products.items():
            sb.add_product(de, sku, [{"seller_sku": sku, "price": price, "inventory": {wh: 20}}])
            ns.seed({"inventoryItem": [{"externalId": f"ITEM-{sku}", "itemId": sku, "displayName": sku,
                                        "price": {"items": [{"priceLevel": {"id": "1"}, "price": price}]}}]})
            ns.receive_stock(world.netsuite_item_id(sku), world.netsuite_location("LOC-DE"), 50)
        world.connect_shop(c, de)
        yield world, c, de
    finally:
        c.close()
        world.close()


def _synced_link(world: SandboxWorld, c: App, shop_id: str, order_id: str, name: str) -> Link:
    worker = c.worker(threads=1, name=name)
    wait_until(lambda: (world.tiktok_sb.wait_webhooks(5), worker.drain())[1] == 0
               and (link := c.store.links.get("order", shop_id, order_id)) is not None and bool(link.netsuite_id),
               60, "the DE sales order")
    link = c.store.links.get("order", shop_id, order_id)
    assert link is not None
    return link


def test_a_de_shops_order_posts_19_and_7_percent_lines_with_their_tax_codes_and_tiktoks_vat(
        tmp_path: Path) -> None:
    """The sandbox overlay's markets.DE: DE subsidiary, EUR, DE warehouse; prices include VAT at 19 % and (books)
    7 %; each line carries its rate's tax code and TikTok's VAT (Get Price Detail), no VAT item."""
    with _de_shop(tmp_path, {"DE-MUG": "11.90", "DE-BOOK-01": "10.70"}) as (world, c, de):
        sb, ns = world.tiktok_sb, world.netsuite_sb
        o = sb.place_order(de, [{"seller_sku": "DE-MUG", "quantity": 1},
                                {"seller_sku": "DE-BOOK-01", "quantity": 2, "vat_rate": "0.07"}],
                           hold=False, shipping_fee="4.90", seller_discount="1.00")
        assert o["payment"]["currency"] == "EUR" and Decimal(o["payment"]["tax"]) == 0
        link = _synced_link(world, c, de, o["id"], "vat-de-test")
        assert c.store.exceptions.list(status="open") == []
        so = ns.get("salesOrder", link.netsuite_id).data

        def eid(table: str, external_id: str) -> str:
            rows, _ = ns.suiteql(f"SELECT id FROM {table} WHERE externalid = '{external_id}'")  # noqa: S608
            return str(rows[0]["id"])

        assert str(so["subsidiary"]["id"]) == eid("subsidiary", "SUB-DE")
        assert str(so["currency"]["id"]) == eid("currency", "CUR-EUR")
        assert str(so["location"]["id"]) == world.netsuite_location("LOC-DE")
        code19, code7 = eid("salestaxitem", "VAT-DE-19"), eid("salestaxitem", "VAT-DE-7")
        codes = {str(ln["item"]["id"]): str(ln["taxCode"]["id"]) for ln in so["item"] if ln.get("taxCode")}
        assert codes[world.netsuite_item_id("DE-MUG")] == code19
        assert codes[world.netsuite_item_id("DE-BOOK-01")] == code7
        from bridge.sandbox.tiktok.orders import price_detail_json
        pd = sb.run(lambda st: price_detail_json(st.orders[o["id"]]))
        books = {li["id"] for li in o["line_items"] if li["seller_sku"] == "DE-BOOK-01"}
        tiktok_vat7 = sum((Decimal(ln["subtotal_tax_amount"]) for ln in pd["line_items"] if ln["id"] in books),
                          Decimal(0))
        vat7 = sum((Decimal(str(ln["tax1Amt"])) for ln in so["item"] if str(ln.get("taxCode", {}).get("id")) == code7),
                   Decimal(0))
        assert vat7 == tiktok_vat7 > 0  # TikTok's own VAT of the 7 % lines (their discount share included)
        assert Decimal(str(so["taxTotal"])) == Decimal(pd["tax_amount"])  # NetSuite's tax is TikTok's VAT
        remembered = {k: Decimal(v) for k, v in link.data["vat"].items()}  # per rate, for settlement
        assert remembered == {"0.07": tiktok_vat7, "0.19": Decimal(pd["tax_amount"]) - tiktok_vat7}
        assert Decimal(str(so["total"])) == Decimal(o["payment"]["total_amount"])


def test_a_de_order_with_a_bottle_deposit_posts_it_to_the_fee_item_and_matches_tiktoks_total(tmp_path: Path) -> None:
    """Get Order Detail's line-item ``pfand_fee`` (Germany only): the TikTok sandbox charges it on top of the
    prices; the sales order carries it on the fee item and its total is TikTok's ``total_amount``."""
    with _de_shop(tmp_path, {"DE-WATER-6": "4.79"}) as (world, c, de):
        sb, ns = world.tiktok_sb, world.netsuite_sb
        o = sb.place_order(de, [{"seller_sku": "DE-WATER-6", "quantity": 2, "pfand_fee": "1.50"}],
                           hold=False, shipping_fee="3.90")
        assert [li["pfand_fee"] for li in o["line_items"]] == ["1.50", "1.50"]
        assert Decimal(o["payment"]["total_amount"]) == Decimal("4.79") * 2 + Decimal("3.90") + Decimal("3.00")
        link = _synced_link(world, c, de, o["id"], "pfand-test")
        assert c.store.exceptions.list(status="open") == []
        so = ns.get("salesOrder", link.netsuite_id).data
        rows, _ = ns.suiteql("SELECT id FROM item WHERE externalid = 'FEE-BUYER'")
        fee = [ln for ln in so["item"] if str(ln["item"]["id"]) == str(rows[0]["id"])]
        assert sum((Decimal(str(ln["amount"])) + Decimal(str(ln.get("tax1Amt") or 0)) for ln in fee),
                   Decimal(0)) == Decimal("3.00")
        assert Decimal(str(so["total"])) == Decimal(o["payment"]["total_amount"])


def test_a_released_orders_update_lost_before_it_applied_is_written_again(tmp_path: Path) -> None:
    """The chaos run's committed gap, through both sandboxes: TikTok releases a held order; NetSuite answers
    the sales order's update with a 503 before applying it. The lookup finds the order (it existed), which
    proves nothing: the flow records nothing and writes again, and the order leaves Pending Approval."""
    clock = ManualClock(running=True)
    world = SandboxWorld(tmp_path, run_scripts=False).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02),
              clock=clock)
    try:
        world.serve(create_app(root=c))
        world.connect_shop(c)
        sb, ns, shop = world.tiktok_sb, world.netsuite_sb, world.shop_id
        o = sb.place_order(shop, [{"seller_sku": "MUG-001", "quantity": 2}], hold=True)
        held = _synced_link(world, c, shop, o["id"], "lost-update")
        assert ns.get("salesOrder", held.netsuite_id).data["orderStatus"]["id"] == "A"  # Pending Approval
        ns.chaos.script_fault({"kind": "5xx", "op": "upsert", "recordType": "salesOrder"})
        puts = ns.counters.snapshot()["counts"]["rest.upsert"]
        sb.release_hold(o["id"])
        worker = c.worker(threads=1, name="lost-update")
        wait_until(lambda: (sb.wait_webhooks(5), worker.drain())[1] == 0
                   and ns.counters.snapshot()["counts"]["rest.upsert"] == puts + 1, 30, "the update NetSuite refused")
        link = c.store.links.get("order", shop, o["id"])
        assert link is not None and link.content_hash == held.content_hash  # the lost write recorded nothing
        assert ns.get("salesOrder", held.netsuite_id).data["orderStatus"]["id"] == "A"
        assert c.store.exceptions.list(status="open") == []
        clock.advance(31)  # the lookup's retry_after
        wait_until(lambda: (worker.drain(), ns.get("salesOrder", held.netsuite_id).data["orderStatus"]["id"])[1]
                   == "B", 30, "the update written again")
        assert ns.counters.snapshot()["counts"]["rest.upsert"] == puts + 2
        link = c.store.links.get("order", shop, o["id"])
        assert link is not None and link.content_hash != held.content_hash and link.status == "synced"
        assert c.store.exceptions.list(status="open") == []
    finally:
        c.close()
        world.close()


def test_a_sales_orders_write_lost_after_it_applied_is_resolved_by_the_lookup(tmp_path: Path) -> None:
    """The other side of the lost answer: NetSuite applied the write and the connection dropped. The lookup
    finds the sales order showing every field and line the bridge sent (``carries`` on a real mapped order:
    addresses, discount and shipping lines, references), so the write counts at once: one PUT, no retry."""
    world = SandboxWorld(tmp_path, run_scripts=False).start()
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02))
    try:
        world.serve(create_app(root=c))
        world.connect_shop(c)
        sb, ns, shop = world.tiktok_sb, world.netsuite_sb, world.shop_id
        c.netsuite().get("customer", "502")  # the token fetched before the fault is armed
        ns.config.faults.timeout_mode = "drop"
        ns.chaos.script_fault({"kind": "timeout_after_commit", "op": "upsert", "recordType": "salesOrder"})
        o = sb.place_order(shop, [{"seller_sku": "MUG-001", "quantity": 2}, {"seller_sku": "CAP-001", "quantity": 1}],
                           hold=False, shipping_fee="4.99", seller_discount="1.50")
        link = _synced_link(world, c, shop, o["id"], "lost-after-commit")
        counts = ns.counters.snapshot()["counts"]
        assert counts["rest.upsert"] == 1 and counts["faults.timeout_after_commit"] == 1  # applied once, never again
        assert link.status == "synced" and c.store.exceptions.list(status="open") == []
        so = ns.get("salesOrder", link.netsuite_id).data
        assert Decimal(str(so["total"])) == Decimal(o["payment"]["total_amount"])
    finally:
        c.close()
        world.close()
