"""The inventory flow inside the bridge (inbox → queue → worker → ports) with fakes for TikTok and
NetSuite and a manual clock, so coalescing windows are exact. The same flow runs against both
sandboxes over HTTP in test_sandboxes.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from bridge.flows import inventory as flow
from bridge.mapping.inventory import WarehouseInfo
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.store.repos import Link, Shop
from bridge.web.ingest import ingest
from bridge.worker.runner import Worker
from tests.inventory.fakes import FakeNetSuite, FakeSku, FakeTikTok

SHOP = "7494000000000000001"
W1, W2, WFBT, WRET = "7068000000000000001", "7068000000000000002", "7068000000000000003", "7068000000000000004"
MAIN, EAST, FBT_LOC = "1", "2", "3"

LOCATIONS = {"version": 1, "shops": {"*": {"warehouses": [
    {"warehouse": "Main", "locations": [MAIN]},
    {"warehouse": W2, "locations": [EAST]},
    {"warehouse": WFBT, "tiktok_managed": True, "locations": [FBT_LOC]},
]}}}
INVENTORY = {"version": 1, "defaults": {"buffer": 1}, "skus": {"CAP": {"allocation": "0.5", "buffer": 0}},
             "coalesce_seconds": 2}
CATALOG = {"version": 1, "source": "tiktok", "match": {"by": "itemid"}}


def write_specs(directory: Path, **overrides: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, doc in {"locations": LOCATIONS, "inventory": INVENTORY, "catalog": CATALOG, **overrides}.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return directory


class World:
    def __init__(self, c: App, tiktok: FakeTikTok, netsuite: FakeNetSuite, clock: ManualClock) -> None:
        self.c = c  # tests may swap it for one derived from it (same store): the worker follows
        self.tiktok = tiktok
        self.netsuite = netsuite
        self.clock = clock
        self._n = 0

    @property
    def worker(self) -> Worker:
        return self.c.worker(threads=2, name="test")

    @property
    def svc(self) -> flow.InventorySync:
        return self.c.flows.inventory

    def ns_event(self, pairs: list[tuple[str, str]], topic: str = "inventory.changed") -> None:
        self._n += 1
        data = {"record_type": "itemreceipt", "record_id": str(self._n),
                "changes": [{"item_id": i, "location_id": loc} for i, loc in pairs]}
        env = {"event_id": f"inv:itemreceipt:{self._n}", "type": topic, "account": "TSTDRV1", "data": data}
        ingest(self.c, source="netsuite", event_id=env["event_id"], topic=topic, body=json.dumps(env).encode(),
               data=env)

    def so_created(self, external_id: str, pairs: list[tuple[str, str]], event: str = "create") -> None:
        """The user event of a sales order's save (``lib/inventory.js``: its external id and event type)."""
        self._n += 1
        data = {"record_type": "salesorder", "record_id": str(self._n), "event": event, "external_id": external_id,
                "changes": [{"item_id": i, "location_id": loc} for i, loc in pairs]}
        env = {"event_id": f"inv:salesorder:{self._n}:{event}", "type": "inventory.changed", "account": "TSTDRV1",
               "data": data}
        ingest(self.c, source="netsuite", event_id=env["event_id"], topic="inventory.changed",
               body=json.dumps(env).encode(), data=env)

    def webhook27(self, product_id: str) -> None:
        self._n += 1
        body = {"type": 27, "tts_notification_id": f"n27-{self._n}", "shop_id": SHOP, "timestamp": 1760000000,
                "data": {"product_id": product_id, "sku_id": "x", "current_inventory_status": "LOW_STOCK"}}
        ingest(self.c, source="tiktok", event_id=body["tts_notification_id"], topic="27",
               body=json.dumps(body).encode(), shop_id=SHOP)

    def settle(self, seconds: float = 3.0) -> int:
        """Let the coalescing window close and run everything due."""
        done = self.worker.drain()
        self.clock.advance(seconds)
        return done + self.worker.drain()

    def tt(self, sku_id: str) -> dict[str, int]:
        return dict(self.tiktok.sku(sku_id).stock)


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    c = build(Settings(database_url=sqlite_url, specs_dir=write_specs(tmp_path / "specs"), retry_base_seconds=0.01,
                       retry_cap_seconds=0.01), clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main"), WarehouseInfo(W2, "East"),
                               WarehouseInfo(WFBT, "FBT center", fbt=True),
                               WarehouseInfo(WRET, "Returns", "RETURN_WAREHOUSE")])
    tiktok.add("P1", [FakeSku("S-BLK", "MUG-BLK", {W1: 0, W2: 0}), FakeSku("S-WHT", "MUG-WHT", {W1: 0})])
    tiktok.add("P2", [FakeSku("S-TEE", "TEE", {W1: 0, WFBT: 40})])
    tiktok.add("P3", [FakeSku("S-CAP", "CAP", {W1: 0})])
    netsuite = FakeNetSuite()
    for iid, sku in (("101", "MUG-BLK"), ("102", "MUG-WHT"), ("103", "TEE"), ("104", "CAP"), ("105", "SPARE")):
        netsuite.item(iid, sku)
    netsuite.available.update({("101", MAIN): 10, ("101", EAST): 4, ("102", MAIN): 6, ("103", MAIN): 3,
                               ("103", FBT_LOC): 500, ("104", MAIN): 9})
    c = c.with_ports(tiktok_inventory=tiktok)
    c = c.with_ports(netsuite_inventory=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    w = World(c, tiktok, netsuite, clock)
    w.svc.pull_places()
    w.svc.refresh(c.store.shops.get(SHOP))  # type: ignore[arg-type]
    yield w
    c.close()


def test_index_matches_skus_and_counts(world: World) -> None:
    counts = world.svc.inv.counts(SHOP)
    assert counts == {"skus": 4, "matched": 4, "products": 3}
    assert world.svc.inv.products_for_items(["101"]) == {(SHOP, "P1")}


def test_a_burst_of_stock_moves_becomes_one_update_per_product(world: World) -> None:
    for i in range(50):
        world.ns_event([("101", MAIN), ("102", MAIN)])
        world.clock.advance(0.01)
    world.ns_event([("103", MAIN)])
    world.settle()
    assert sorted(pid for pid, _ in world.tiktok.updates) == ["P1", "P2"]  # 51 events, 2 calls
    assert world.tt("S-BLK") == {W1: 9, W2: 3} and world.tt("S-WHT") == {W1: 5}
    assert world.tt("S-TEE") == {W1: 2, WFBT: 40}  # FBT untouched, FBT stock (500 at location 3) never sold
    (_, body) = next(u for u in world.tiktok.updates if u[0] == "P2")
    assert body == {"S-TEE": {W1: 2}}


def test_unchanged_numbers_are_not_sent_again(world: World) -> None:
    world.ns_event([("101", MAIN)])
    world.settle()
    assert len(world.tiktok.updates) == 1
    world.ns_event([("101", EAST)])  # nothing really moved
    world.settle()
    assert len(world.tiktok.updates) == 1
    world.netsuite.available[("101", EAST)] = 1
    world.ns_event([("101", EAST)])
    world.settle()
    assert world.tiktok.updates[-1] == ("P1", {"S-BLK": {W1: 9, W2: 0}})  # only the SKU that changed, all its whs


def test_events_in_later_windows_each_push(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.settle()
    world.netsuite.available[("104", MAIN)] = 3
    world.ns_event([("104", MAIN)])
    world.settle()
    assert [b for _, b in world.tiktok.updates] == [{"S-CAP": {W1: 4}}, {"S-CAP": {W1: 1}}]  # allocation 0.5


def test_nightly_reassertion_sends_every_sku_including_zeros(world: World) -> None:
    world.ns_event([("101", MAIN), ("102", MAIN), ("103", MAIN), ("104", MAIN)])
    world.settle()
    world.tiktok.updates.clear()
    world.netsuite.available[("102", MAIN)] = 0
    world.tiktok.sku("S-WHT").stock[W1] = 7  # someone typed a number in Seller Center
    world.c.store.queue.enqueue(JobSpec(kind=flow.KIND_FULL, key="schedule:inventory.full",
                                        payload={"bucket": "20260302T0315"}, idempotency_key="full-1"))
    world.settle()
    sent = {pid: body for pid, body in world.tiktok.updates}
    assert sent == {"P1": {"S-BLK": {W1: 9, W2: 3}, "S-WHT": {W1: 0}}, "P2": {"S-TEE": {W1: 2}},
                    "P3": {"S-CAP": {W1: 4}}}
    assert world.tt("S-WHT") == {W1: 0}


def test_full_schedule_is_registered_with_a_cron(world: World) -> None:
    (sched,) = [s for s in world.c.registry.schedules() if s.name == "inventory.full"]
    assert sched.cron == "15 3 * * *" and sched.kind == flow.KIND_FULL


def test_webhook_27_checks_against_tiktok_and_lowers_what_netsuite_no_longer_has(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.settle()
    assert world.tt("S-CAP") == {W1: 4}
    world.netsuite.available[("104", MAIN)] = 2  # the event that said so was lost
    world.webhook27("P3")
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 1}
    n = len(world.tiktok.updates)
    world.webhook27("P3")  # TikTok agrees now: nothing to send
    world.worker.drain()
    assert len(world.tiktok.updates) == n


def test_a_check_never_hands_back_units_tiktok_sold(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.settle()
    world.tiktok.sell("S-CAP", W1, 3)  # TikTok sold 3 the bridge has not seen yet
    world.webhook27("P3")
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 1}


def test_unseen_tiktok_orders_are_not_handed_back_by_a_netsuite_change(world: World) -> None:
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 9, W2: 3}
    world.tiktok.sell("S-BLK", W1, 5)  # a livestream: TikTok accepted 5 orders, webhooks not in yet
    world.netsuite.available[("101", MAIN)] = 9  # meanwhile a shop sale in NetSuite
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 3, W2: 3}  # 9 - buffer 1 - 5 TikTok reserved, not 9 - 1
    world.netsuite.available[("101", MAIN)] = 15  # a receipt of 6 arrives
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 9, W2: 3}
    # the orders reach NetSuite and commit stock there: counted once
    world.netsuite.available[("101", MAIN)] = 10
    world.netsuite.committed[("101", MAIN)] = 5
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 9, W2: 3}


def test_a_tiktok_order_reaching_netsuite_is_checked_against_tiktoks_own_number(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.settle()
    assert world.tt("S-CAP") == {W1: 4}  # CAP: floor(9 * 0.5), buffer 0
    world.tiktok.sell("S-CAP", W1, 1)  # TikTok takes the unit off its own number: 3
    # the order reaches NetSuite: 8 available, floor(8 * 0.5) is still 4, so the number by NetSuite did
    # not move, but TikTok's did (by the whole unit, not by the allocated half)
    world.netsuite.available[("104", MAIN)] = 8
    world.netsuite.committed[("104", MAIN)] = 1
    world.ns_event([("104", MAIN)])
    world.settle()
    assert world.tt("S-CAP") == {W1: 4}


def test_an_order_committed_between_two_reads_is_not_left_double_counted(world: World) -> None:
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 9, W2: 3}
    world.tiktok.sell("S-BLK", W1, 2)  # 7 on TikTok; the bridge has not seen the order
    read_commitments = world.netsuite.tiktok_committed

    def commit_right_after(shop_id: str, item_ids: Any) -> dict[tuple[str, str], int]:
        # NetSuite commits the order between the bridge's read of commitments and of availability
        out = read_commitments(shop_id, item_ids)
        world.netsuite.available[("101", MAIN)] = 8
        world.netsuite.committed[("101", MAIN)] = 2
        return out

    world.netsuite.tiktok_committed = commit_right_after  # type: ignore[method-assign]
    world.netsuite.available[("101", EAST)] = 3  # the change this push is for
    world.ns_event([("101", EAST)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 5, W2: 2}  # the 2 units counted twice: safe, for now
    world.netsuite.tiktok_committed = read_commitments  # type: ignore[method-assign]
    world.ns_event([("101", MAIN)])  # the sales order's own event
    world.settle()
    assert world.tt("S-BLK") == {W1: 7, W2: 2}  # counted once, as NetSuite allows


def test_pending_tiktok_orders_reduce_stock_until_netsuite_commits_them(world: World) -> None:
    world.ns_event([("101", MAIN)])
    world.settle()
    links = world.c.store.links
    links.upsert(Link("order", SHOP, "o1", None, status="pending:UNPAID", data={"units": {"MUG-BLK": 2}}))
    links.upsert(Link("order", SHOP, "o2", "9", status="staged", data={"units": {"MUG-BLK": 1}}))
    links.upsert(Link("order", SHOP, "o3", "10", status="synced", data={"units": {"MUG-BLK": 5}}))
    links.upsert(Link("order", SHOP, "o4", None, status="pending:ON_HOLD", data={"units": {"MUG-BLK": 4},
                                                                                 "is_fbt": True}))
    assert world.c.flows.inventory.on_order_seen(SHOP, ["MUG-BLK"]) == 1
    world.settle()
    assert world.tt("S-BLK") == {W1: 6, W2: 0}  # 9 - 2 pending - 1 staged (Pending Approval commits nothing)
    # the orders reach NetSuite: it commits them, the links say synced
    links.upsert(Link("order", SHOP, "o1", "11", status="synced", data={"units": {"MUG-BLK": 2}}))
    links.upsert(Link("order", SHOP, "o2", "9", status="synced", data={"units": {"MUG-BLK": 1}}))
    world.netsuite.available[("101", MAIN)] = 7
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 6, W2: 3}


def test_promotion_locked_stock_is_an_exception_not_a_retry_loop(world: World) -> None:
    world.ns_event([("101", MAIN), ("102", MAIN)])
    world.settle()
    world.tiktok.sku("S-BLK").locked = True
    world.netsuite.available[("101", MAIN)] = 2
    world.netsuite.available[("102", MAIN)] = 1
    world.ns_event([("101", MAIN), ("102", MAIN)])
    world.settle()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert (exc.code, exc.owner, exc.entity) == ("PROMOTION_LOCKED_STOCK", "ops", f"inventory:{SHOP}:P1")
    assert "MUG-BLK" in exc.title and "promotion" in exc.fix_hint
    assert world.tt("S-WHT") == {W1: 0}  # the other SKU of the product still went out
    assert world.tt("S-BLK") == {W1: 9, W2: 3}  # TikTok kept its number
    assert world.c.store.queue.counts().get("queued", 0) == 0  # no retry scheduled
    # the promotion ends; the next change heals the exception
    world.tiktok.sku("S-BLK").locked = False
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 1, W2: 3}
    assert world.c.store.exceptions.list(status="open") == []


def test_unlinked_warehouse_is_reported_and_other_skus_still_sent(world: World) -> None:
    world.tiktok.add("P4", [FakeSku("S-A", "MUG-BLK", {"7068000000000000099": 0}), FakeSku("S-B", "CAP", {W1: 0})])
    world.svc.refresh(world.c.store.shops.get(SHOP))  # type: ignore[arg-type]
    world.ns_event([("104", MAIN)])
    world.settle()
    (exc,) = world.c.store.exceptions.list(status="open")
    assert exc.code == "UNLINKED_WAREHOUSE" and exc.owner == "admin" and "locations.yaml" in exc.fix_hint
    assert ("P4", {"S-B": {W1: 2}}) in world.tiktok.updates  # CAP: 9 * 0.5 / 2 listings


def test_rate_limited_push_is_retried_by_the_queue(world: World) -> None:
    world.tiktok.rate_limited = 1
    world.ns_event([("104", MAIN)])
    world.settle()
    world.clock.advance(5)
    world.worker.drain()
    assert world.tt("S-CAP") == {W1: 4} and len(world.tiktok.updates) == 2


def test_warehouses_changed_on_tiktok_are_reread_and_sent_once_more(world: World) -> None:
    world.ns_event([("104", MAIN)])
    world.settle()
    world.tiktok.sku("S-CAP").stock[W2] = 0  # the seller added a warehouse to the SKU in Seller Center
    world.netsuite.available[("104", MAIN)] = 7
    world.netsuite.available[("104", EAST)] = 4
    world.ns_event([("104", MAIN)])
    world.settle()
    assert world.tt("S-CAP") == {W1: 3, W2: 2}
    assert world.c.store.exceptions.list(status="open") == []


def test_inactive_netsuite_item_sells_nothing(world: World) -> None:
    world.netsuite.set_inactive("104")
    world.svc.refresh(world.c.store.shops.get(SHOP))  # type: ignore[arg-type]
    plan = world.svc.plan(world.c.store.shops.get(SHOP), "P3")  # type: ignore[arg-type]
    assert plan.quantities == {"S-CAP": {W1: 0}}


def test_sweep_events_route_like_user_events(world: World) -> None:
    world.ns_event([("101", MAIN), ("103", None)], topic="inventory.sweep")  # type: ignore[list-item]
    world.settle()
    assert sorted(pid for pid, _ in world.tiktok.updates) == ["P1", "P2"]


def test_unknown_items_and_disabled_flow_push_nothing(world: World) -> None:
    world.ns_event([("999", MAIN)])
    world.settle()
    world.c.store.shops.set_flows(SHOP, {"inventory": False})
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tiktok.updates == []


def test_dry_run_plans_without_sending(world: World) -> None:
    shop = world.c.store.shops.get(SHOP)
    assert shop is not None
    res = world.svc.push_product(SHOP, "P1", mode="force", dry_run=True)
    assert res.action == "dry_run" and res.sent == {"S-BLK": {W1: 9, W2: 3}, "S-WHT": {W1: 5}}
    assert world.tiktok.updates == []
    assert any("MUG-BLK @ " in ln.explain() for ln in res.plan.lines)  # type: ignore[union-attr]


def test_a_product_created_on_tiktok_is_indexed_and_its_stock_pushed(world: World) -> None:
    world.tiktok.add("P7", [FakeSku("S-SPARE", "SPARE", {W1: 0})])
    world.netsuite.available[("105", MAIN)] = 6
    body = {"type": 16, "tts_notification_id": "n16-1", "shop_id": SHOP, "timestamp": 1760000000,
            "data": {"product_id": "P7"}}
    ingest(world.c, source="tiktok", event_id="n16-1", topic="16", body=json.dumps(body).encode(), shop_id=SHOP)
    world.settle()
    assert world.svc.inv.products_for_items(["105"]) == {(SHOP, "P7")}
    assert world.tt("S-SPARE") == {W1: 5}


@pytest.mark.parametrize("seller_sku", [pytest.param("spare", id="other-case"),
                                        pytest.param(" Spare ", id="case-and-spaces")])
def test_a_new_product_is_indexed_by_the_one_sku_rule(world: World, seller_sku: str) -> None:
    # the product-by-product index (a new TikTok product) normalises like `ttns skus match` and orders
    world.tiktok.add("P8", [FakeSku("S-SPARE2", seller_sku, {W1: 0})])
    world.netsuite.available[("105", MAIN)] = 4
    body = {"type": 16, "tts_notification_id": "n16-2", "shop_id": SHOP, "timestamp": 1760000000,
            "data": {"product_id": "P8"}}
    ingest(world.c, source="tiktok", event_id="n16-2", topic="16", body=json.dumps(body).encode(), shop_id=SHOP)
    world.settle()
    assert world.svc.inv.products_for_items(["105"]) == {(SHOP, "P8")}
    assert world.tt("S-SPARE2") == {W1: 3}  # the shop keeps a buffer of 1, as for SPARE above


def test_drift_lists_skus_whose_tiktok_stock_differs_from_what_netsuite_allows(world: World) -> None:
    world.ns_event([("101", MAIN), ("102", MAIN), ("103", MAIN), ("104", MAIN)])
    world.settle()
    assert world.c.flows.inventory.drift() == []
    world.tiktok.sku("S-WHT").stock[W1] = 12  # typed in Seller Center
    world.tiktok.sell("S-CAP", W1, 2)  # TikTok's own orders are not drift
    (row,) = world.c.flows.inventory.drift()
    assert (row["sku"], row["warehouse_id"], row["tiktok"], row["sellable"], row["diff"]) == ("MUG-WHT", W1, 12, 5, 7)
    assert len(world.c.flows.inventory.drift(only_drift=False)) == 5
    from bridge.flows.monitoring import inventory_rows

    got = inventory_rows(world.c.flows.monitoring)
    assert got is not None and [r["sku"] for r in got[0]] == ["MUG-WHT"]


@pytest.mark.parametrize(
    ("policy", "sold_out", "lone_after", "lone_status", "mixed_after"),
    [
        pytest.param("leave", "zero", {W1: 7}, "ACTIVATE", {W1: 7}, id="leave-keeps-tiktok-stock"),
        pytest.param("zero", "zero", {W1: 0}, "ACTIVATE", {W1: 0}, id="zero-pushes-0"),
        pytest.param("zero", "keep_one", {W1: 1}, "ACTIVATE", {W1: 1}, id="zero-follows-sold-out-keep-one"),
        pytest.param("deactivate", "zero", {W1: 7}, "SELLER_DEACTIVATED", {W1: 0},
                     id="deactivate-takes-unmatched-products-offline"),
    ],
)
def test_tiktok_skus_without_a_netsuite_item_follow_the_shops_policy(
        sqlite_url: str, tmp_path: Path, policy: str, sold_out: str, lone_after: dict[str, int], lone_status: str,
        mixed_after: dict[str, int]) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    inventory = {**INVENTORY, "sold_out": {"strategy": sold_out}, "shops": {SHOP: {"unmatched": policy}}}
    c = build(Settings(database_url=sqlite_url, specs_dir=write_specs(tmp_path / "specs", inventory=inventory)),
              clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main")])
    tiktok.add("P1", [FakeSku("S-BLK", "MUG-BLK", {W1: 0}), FakeSku("S-GONE", "MUG-GONE", {W1: 7})])
    tiktok.add("P9", [FakeSku("S-LONE", "NO-SUCH-ITEM", {W1: 7})])
    netsuite = FakeNetSuite()
    netsuite.item("101", "MUG-BLK")
    netsuite.available.update({("101", MAIN): 10})
    c = c.with_ports(tiktok_inventory=tiktok)
    c = c.with_ports(netsuite_inventory=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    try:
        c.flows.inventory.first_sync("setup")  # `ttns skus match` + `ttns inventory push --all`
        assert dict(tiktok.sku("S-LONE").stock) == lone_after
        assert tiktok.products_["P9"].status == lone_status
        assert dict(tiktok.sku("S-GONE").stock) == mixed_after
        assert dict(tiktok.sku("S-BLK").stock) == {W1: 9}  # matched SKUs are unaffected
        (exc,) = c.store.exceptions.list(status="open", entity=f"skus:{SHOP}:unmatched")
        assert exc.code == "UNMATCHED_TIKTOK_SKUS" and "MUG-GONE" in exc.title and "NO-SUCH-ITEM" in exc.title
        assert f"unmatched: {policy}" in exc.fix_hint
    finally:
        c.close()


def test_the_unmatched_skus_exception_resolves_once_every_sku_has_an_item(sqlite_url: str, tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    c = build(Settings(database_url=sqlite_url, specs_dir=write_specs(tmp_path / "specs")), clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main")])
    tiktok.add("P1", [FakeSku("S-BLK", "MUG-BLK", {W1: 0}), FakeSku("S-GONE", "MUG-GONE", {W1: 7})])
    netsuite = FakeNetSuite()
    netsuite.item("101", "MUG-BLK")
    netsuite.available.update({("101", MAIN): 10})
    c = c.with_ports(tiktok_inventory=tiktok)
    c = c.with_ports(netsuite_inventory=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    try:
        c.flows.inventory.first_sync("setup")
        (exc,) = c.store.exceptions.list(status="open", entity=f"skus:{SHOP}:unmatched")
        assert "MUG-GONE" in exc.title
        netsuite.item("102", "MUG-GONE")  # ops creates the item in NetSuite, then runs `ttns skus match`
        svc = c.flows.inventory
        (shop,) = c.store.shops.list(status="active")
        assert svc.refresh(shop).counts().get("unmatched_tiktok", 0) == 0
        assert c.store.exceptions.list(status="open", entity=f"skus:{SHOP}:unmatched") == []
        closed = c.store.exceptions.get(exc.id)
        assert closed is not None and closed.status == "resolved"
    finally:
        c.close()


def test_the_bridges_own_tiktok_sales_orders_are_rechecked_once_per_step_not_pushed_per_order(world: World) -> None:
    """A flash sale: every sales order the bridge creates fires NetSuite's inventory.changed. Its units
    moved from the bridge's pending count into NetSuite's commitments to the shop's TikTok orders,
    which leaves TikTok's numbers as they were; one recheck per product per step verifies it, instead
    of a NetSuite read per order competing with the sales orders for NetSuite's slots."""
    world.netsuite.available[("101", MAIN)] = 20
    world.ns_event([("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 19, W2: 3}
    reads = len(world.netsuite.availability_calls)
    links = world.c.store.links
    for n in range(1, 9):  # 8 TikTok orders of one unit reach NetSuite, 0.6 s apart
        world.tiktok.sell("S-BLK", W1, 1)
        links.upsert(Link("order", SHOP, f"o{n}", str(100 + n), status="synced", data={"units": {"MUG-BLK": 1}}))
        world.netsuite.available[("101", MAIN)] = 20 - n  # NetSuite commits the unit
        world.netsuite.committed[("101", MAIN)] = n
        world.c.flows.inventory.on_order_written(SHOP, ["MUG-BLK"])  # the orders flow, after the create
        world.so_created(f"TTS-{SHOP}-o{n}", [("101", MAIN)])  # NetSuite's user event on it
        world.worker.drain()
        world.clock.advance(0.6)
    assert len(world.netsuite.availability_calls) == reads  # no NetSuite read per order
    assert world.tt("S-BLK") == {W1: 11, W2: 3}  # TikTok took the units off its own number
    world.netsuite.available[("101", MAIN)] = 9  # and something NetSuite sent no event for
    world.clock.advance(10)  # the recheck step (velocity window 60 s / 6) ends
    world.worker.drain()
    assert len(world.netsuite.availability_calls) == reads + 1  # one recheck for the 16 signals
    assert world.tt("S-BLK") == {W1: 8, W2: 3}


def test_another_shops_sales_order_and_an_update_of_ones_own_are_pushed_at_once(world: World) -> None:
    world.ns_event([("101", MAIN)])
    world.settle()
    world.netsuite.available[("101", MAIN)] = 7  # another TikTok shop's order took 3 units this shop sells too
    world.so_created("TTS-7494000000000000999-o1", [("101", MAIN)])
    world.settle()
    assert world.tt("S-BLK") == {W1: 6, W2: 3}
    world.netsuite.available[("101", MAIN)] = 5
    world.so_created(f"TTS-{SHOP}-o1", [("101", MAIN)], event="edit")  # a person edits one of ours
    world.settle()
    assert world.tt("S-BLK") == {W1: 4, W2: 3}
    world.netsuite.available[("101", MAIN)] = 4
    world.so_created("WEB-1", [("101", MAIN)])  # the web store's order
    world.settle()
    assert world.tt("S-BLK") == {W1: 3, W2: 3}


def test_the_route_keeps_which_record_moved_the_stock() -> None:
    from bridge.ports.jobs import InboundEvent

    data = {"record_type": "salesorder", "record_id": "7", "event": "create", "external_id": "TTS-S-1",
            "changes": [{"item_id": "101", "location_id": "1"}]}
    [spec] = flow.route_netsuite(InboundEvent(source="netsuite", event_id="inv:1", topic="inventory.changed",
                                              shop_id=None, data={"data": data}, inbox_id=0, correlation_id=""))
    assert spec.payload["record_type"] == "salesorder" and spec.payload["event"] == "create"
    assert spec.payload["external_id"] == "TTS-S-1" and spec.payload["item_ids"] == ["101"]


def test_a_steps_many_recheck_asks_cost_the_database_one_write(world: World) -> None:
    from sqlalchemy import event

    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO JOBS"):
            inserts.append(statement)

    event.listen(world.c.store.engine, "before_cursor_execute", count)
    try:
        for _ in range(50):  # a flash sale: every order written asks for the same products' recheck
            world.c.flows.inventory.on_order_written(SHOP, ["MUG-BLK", "CAP"])
    finally:
        event.remove(world.c.store.engine, "before_cursor_execute", count)
    assert len(inserts) == 2  # one recheck per product for the step, not one enqueue per ask
    world.clock.advance(10)
    world.worker.drain()  # the step's rechecks run
    assert world.c.flows.inventory.on_order_written(SHOP, ["CAP"]) == 1  # the next step asks again
