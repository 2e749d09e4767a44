"""The store ports (``bridge.ports.store``) on memory, SQLite and PostgreSQL: one contract, three
implementations (the memory doubles are what fast flow tests may use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import ManualClock
from bridge.crypto import SecretBox, generate_key
from bridge.ports.store import CursorRepository, Link, LinkRepository, Shop, ShopRepository, Tokens
from bridge.store import Store
from bridge.store.db import make_engine
from bridge.store.memory import MemoryCursors, MemoryLinks, MemoryShops

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class Repos:
    links: LinkRepository
    cursors: CursorRepository
    shops: ShopRepository
    clock: ManualClock


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def repos(request: pytest.FixtureRequest) -> Repos:
    clock = ManualClock(T0)
    if request.param == "memory":
        return Repos(MemoryLinks(), MemoryCursors(), MemoryShops(clock), clock)
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    store = Store(make_engine(url, pool_size=4), clock=clock, box=SecretBox(generate_key()))
    request.addfinalizer(store.dispose)
    return Repos(store.links, store.cursors, store.shops, clock)


def test_a_link_is_found_by_its_key_by_many_and_by_its_netsuite_record(repos: Repos) -> None:
    links = repos.links
    assert links.get("order", "S1", "576") is None and links.get_many("order", "S1", ["576"]) == {}
    links.upsert(Link("order", "S1", "576", "1001", "salesOrder", "TTS-S1-576", "h1", "synced", {"a": 1}, T0))
    links.upsert(Link("order", "S1", "577", None, status="pending:UNPAID"))
    links.upsert(Link("order", "S2", "576", "2001", "salesOrder"))
    got = links.get("order", "S1", "576")
    assert got is not None and (got.netsuite_id, got.external_id, got.content_hash, got.status, got.data) == (
        "1001", "TTS-S1-576", "h1", "synced", {"a": 1})
    assert got.synced_at is not None and got.synced_at == T0
    many = links.get_many("order", "S1", ["576", "577", "578"])
    assert sorted(many) == ["576", "577"] and many["577"].netsuite_id is None
    assert len(links.get_many("order", "S1", [str(i) for i in range(1200)] + ["576"])) == 2  # any number of ids
    back = links.by_netsuite("order", "2001")
    assert back is not None and back.shop_id == "S2"
    assert links.by_netsuite("order", "9999") is None and links.by_netsuite("item", "1001") is None


def test_an_upsert_replaces_every_field_and_keeps_the_order(repos: Repos) -> None:
    links = repos.links
    links.upsert(Link("order", "S1", "1", "101", status="synced", data={"x": 1, "y": 2}))
    links.upsert(Link("order", "S1", "2", "102", status="synced"))
    links.upsert(Link("order", "S1", "1", None, status="cancelled", data={"x": 3}))
    one = links.get("order", "S1", "1")
    assert one is not None and one.netsuite_id is None and one.status == "cancelled" and one.data == {"x": 3}
    assert [lk.tiktok_id for lk in links.list("order", "S1")] == ["1", "2"]  # created first, listed first


def test_a_document_number_arrives_apart_and_a_stale_writer_does_not_erase_it(repos: Repos) -> None:
    links = repos.links
    links.upsert(Link("order", "S1", "1", "101", "salesOrder", status="synced", data={"v": 1}))
    links.upsert(Link("order", "S1", "2", "102", "salesOrder", status="synced", data={"tranid": "SO-OWN"}))
    links.upsert(Link("order", "S1", "3", None, status="pending:UNPAID"))
    assert [lk.tiktok_id for lk in links.newest("order", limit=2)] == ["3", "2"]
    stale = links.get("order", "S1", "1")  # a sync read the link before the number came
    assert links.set_document_numbers("order", {"101": "SO-1", "102": "SO-OTHER", "999": "SO-9"}) == 1
    assert links.get("order", "S1", "2").data == {"tranid": "SO-OWN"}  # type: ignore[union-attr]
    assert stale is not None
    links.upsert(Link("order", "S1", "1", "101", "salesOrder", status="synced", data={"v": 2}))
    assert links.get("order", "S1", "1").data == {"v": 2, "tranid": "SO-1"}  # type: ignore[union-attr]
    links.upsert(Link("order", "S1", "1", "101", "salesOrder", status="synced", data={"v": 3, "tranid": "SO-1B"}))
    assert links.get("order", "S1", "1").data == {"v": 3, "tranid": "SO-1B"}  # type: ignore[union-attr]
    links.upsert(Link("order", "S1", "1", "555", "salesOrder", status="synced", data={"v": 4}))  # another record
    assert links.get("order", "S1", "1").data == {"v": 4}  # type: ignore[union-attr]


def test_links_are_listed_counted_and_deleted(repos: Repos) -> None:
    links = repos.links
    for i in range(5):
        links.upsert(Link("item", "", f"k{i}", str(i), status="inactive" if i % 2 else "active"))
    links.upsert(Link("order", "S1", "o1", "9"))
    assert [lk.tiktok_id for lk in links.list("item", limit=2, offset=1)] == ["k1", "k2"]
    assert links.count("item") == 5 and links.count("item", status="inactive") == 2
    assert links.count("item", "S1") == 0 and links.count("order", "S1") == 1
    links.delete("item", "", "k0")
    links.delete("item", "", "never")
    assert links.count("item") == 4 and links.get("item", "", "k0") is None


def test_a_cursor_is_set_replaced_and_read(repos: Repos) -> None:
    assert repos.cursors.get("orders.poll:S1") is None
    repos.cursors.set("orders.poll:S1", "2026-11-01T12:00:00+00:00")
    repos.cursors.set("orders.poll:S1", "2026-11-01T13:00:00+00:00")
    repos.cursors.set("other", "x")
    assert repos.cursors.get("orders.poll:S1") == "2026-11-01T13:00:00+00:00" and repos.cursors.get("other") == "x"


def test_a_shop_keeps_its_flow_switches_and_tokens_apart(repos: Repos) -> None:
    shops = repos.shops
    made = shops.upsert(Shop(id="S2", name="Second", region="GB", flows={"inventory": False}))
    shops.upsert(Shop(id="S1", name="First", region="US", cipher="ROW_x", granted_scopes=["order"]))
    assert made.id == "S2" and made.status == "active" and not made.flow_enabled("inventory")
    assert made.flow_enabled("orders") and made.access_expires_at is None
    assert [s.id for s in shops.list()] == ["S1", "S2"]
    repos.clock.advance(minutes=5)
    again = shops.upsert(Shop(id="S2", name="Second shop", region="GB", flows={"inventory": True}))
    assert again.name == "Second shop" and not again.flow_enabled("inventory")  # switches are not upserted
    shops.set_flows("S2", {"inventory": True, "orders": False})
    s2 = shops.get("S2")
    assert s2 is not None and s2.flow_enabled("inventory") and not s2.flow_enabled("orders")
    assert shops.tokens("S1") is None
    expires = T0 + timedelta(days=7)
    shops.set_tokens("S1", Tokens("access-1", "refresh-1", expires, T0 + timedelta(days=365)))
    assert shops.tokens("S1") == Tokens("access-1", "refresh-1", expires, T0 + timedelta(days=365))
    s1 = shops.get("S1")
    assert s1 is not None and s1.access_expires_at == expires and s1.granted_scopes == ["order"]
    assert "access-1" not in repr(s1)
    shops.set_tokens("nobody", Tokens("a", "r", None, None))
    assert shops.get("nobody") is None
    shops.set_status("S1", "deauthorized")
    assert [s.id for s in shops.list(status="active")] == ["S2"]
    s1 = shops.get("S1")
    assert s1 is not None and s1.status == "deauthorized" and not s1.flow_enabled("orders")
    assert shops.get("S3") is None
