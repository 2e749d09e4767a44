"""The inventory tables on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from bridge.store import Store
from bridge.store.repos import Link
from bridge.store.tables_inventory import InventoryStore, Place, SkuRow


def test_inventory_store_round_trips(db_url: str) -> None:
    store = Store.from_url(db_url)
    inv = InventoryStore(store.engine)
    try:
        inv.replace_shop("S1", [SkuRow("S1", "k1", "P1", "MUG", "101", warehouses=("w1", "w2"), categories=("c",)),
                                SkuRow("S1", "k2", "P1", "CAP", None), SkuRow("S1", "k3", "P2", "TEE", "103")])
        inv.record_pushed("S1", "P1", {"k1": {"w1": 3, "w2": 0}})
        assert inv.products_for_items(["101", "103"]) == {("S1", "P1"), ("S1", "P2")}
        assert inv.products_for_seller_skus("S1", ["CAP"]) == {"P1"}
        assert inv.product_skus("S1", "P1")[0].warehouses == ("w1", "w2")
        assert inv.last_pushed("S1", ["k1"]) == {("k1", "w1"): 3, ("k1", "w2"): 0}
        inv.replace_shop("S1", [SkuRow("S1", "k3", "P2", "TEE", "103")])  # k1 gone from TikTok
        assert inv.products("S1") == ["P2"] and inv.last_pushed("S1", ["k1"]) == {}
        inv.save_places("warehouse", "S1", [Place("warehouse", "S1", "w1", "Main", {"fbt": False})])
        assert [p.name for p in inv.places("warehouse", "S1")] == ["Main"]
        inv.record_prices("S1", "USD", {"k3": Decimal("19.99")}, "1")
        assert inv.last_prices("S1", ["k3"]) == {"k3": ("USD", Decimal("19.99"))}
        store.links.upsert(Link("order", "S1", "o1", None, status="pending:UNPAID",
                                data={"units": {"TEE": 2}, "warehouse_id": "w1"}))
        store.links.upsert(Link("order", "S1", "o2", "9", status="staged", data={"units": {"TEE": 1}}))
        store.links.upsert(Link("order", "S1", "o3", "8", status="synced", data={"units": {"TEE": 5}}))
        assert inv.pending_units("S1") == {"TEE": {"w1": 2, None: 1}}
        assert inv.pending_units("S1", include_staged=False) == {"TEE": {"w1": 2}}
        store.links.upsert(Link("product", "S1", "P2", "107", "item"))
        assert inv.product_for_item("S1", "107") == "P2" and inv.product_for_item("S2", "107") is None
    finally:
        store.dispose()


def test_dynamic_buffer_observations_round_trip(db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    store = Store.from_url(db_url)
    inv = InventoryStore(store.engine)
    now = datetime.now(UTC)
    try:
        inv.observe("S1", "free", {"k1": (60, 1), "k2": (10, 1)}, now - timedelta(seconds=90), now - timedelta(days=1))
        inv.observe("S1", "free", {"k1": (50, 7)}, now - timedelta(seconds=1), now - timedelta(days=1))
        inv.observe("S1", "push", {"": (0.8, None)}, now, now - timedelta(days=1))
        got = inv.observations("S1", "free", ["k1", "k2"], now - timedelta(seconds=600))
        assert [(v, b) for _at, v, b in got["k1"]] == [(60.0, 1), (50.0, 7)] and len(got["k2"]) == 1
        assert got["k1"][0][0] < got["k1"][1][0]
        # writing drops what is older than the window, for that kind only
        inv.observe("S1", "free", {"k1": (45, 7)}, now, now - timedelta(seconds=60))
        got = inv.observations("S1", "free", ["k1", "k2"], now - timedelta(seconds=600))
        assert [v for _at, v, _b in got["k1"]] == [50.0, 45.0] and got["k2"] == []
        assert [v for _at, v, _b in inv.observations("S1", "push", [""], now - timedelta(seconds=60))[""]] == [0.8]
        assert inv.observations("S2", "free", ["k1"], now - timedelta(seconds=600)) == {"k1": []}
        # order latency: from the buyer placing it (TikTok's whole-second create time, its middle) to
        # NetSuite first having the sales order; an order written at once has its link only from then
        placed = int(now.timestamp()) - 3
        store.links.upsert(Link("order", "S1", "o1", None, status="pending:UNPAID", data={"created_at": placed}))
        store.links.upsert(Link("order", "S1", "o2", "9", status="synced", synced_at=now, data={
            "created_at": placed, "first_synced_at": placed + 2.25}))
        store.links.upsert(Link("order", "S1", "o5", "10", status="synced", synced_at=now, data={
            "created_at": placed - 3600, "first_synced_at": placed - 3590.0}))  # first written before `since`
        lat = inv.order_latencies("S1", now - timedelta(seconds=60))
        assert lat == [1.75]
        assert inv.order_latencies("S2", now - timedelta(seconds=60)) == []
        # TikTok sales seen before their write, per seller SKU (kind ``sale``)
        inv.observe("S1", "sale", {"MUG": (2, None), "CAP": (1, None)}, now, now - timedelta(seconds=60))
        sold = inv.observations("S1", "sale", ["MUG", "CAP"], now - timedelta(seconds=60))
        assert [v for _at, v, _b in sold["MUG"]] == [2.0] and [v for _at, v, _b in sold["CAP"]] == [1.0]
    finally:
        store.dispose()


def test_an_order_sale_is_counted_once_even_by_concurrent_callers(db_url: str) -> None:
    """``first_sight`` hands each order to one caller only: the sales intake and an order's sync (or its
    retried attempt) may both see a new order; only one counts its units."""
    import threading
    from datetime import UTC, datetime, timedelta

    store = Store.from_url(db_url)
    inv = InventoryStore(store.engine)
    now = datetime.now(UTC)
    keep = now - timedelta(days=1)
    try:
        assert inv.first_sight("S1", ["o1", "o2", "o1"], now, keep) == ["o1", "o2"]
        assert inv.first_sight("S1", ["o2", "o3"], now, keep) == ["o3"]  # a retry: o2 not again
        assert inv.first_sight("S2", ["o1"], now, keep) == ["o1"]  # per shop
        assert inv.observations("S1", "order", ["o1", "o9"], keep)["o9"] == []
        # records older than keep_since are dropped (an order not seen for a day may count again)
        assert inv.first_sight("S1", ["o1"], now + timedelta(days=2), now + timedelta(days=1)) == ["o1"]
        ids = [f"c{i}" for i in range(40)]
        got: list[list[str]] = []
        barrier = threading.Barrier(4)

        def grab(order: list[str]) -> None:
            barrier.wait()
            got.append(inv.first_sight("S1", order, now, keep))

        threads = [threading.Thread(target=grab, args=(ids[::step],)) for step in (1, -1, 1, -1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        counted = [oid for g in got for oid in g]
        assert len(got) == 4 and sorted(counted) == sorted(ids)  # every order once, by exactly one caller
    finally:
        store.dispose()
