"""The store ports (``bridge.ports.store``) on memory, SQLite and PostgreSQL: one contract, three
implementations (the memory doubles are what fast flow tests may use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bridge.clock import ManualClock
from bridge.crypto import SecretBox, generate_key
from bridge.domain.finance import Line, Payment, Statement, Withdrawal
from bridge.ports.fulfillment import ShipmentRepository, UnitConflict
from bridge.ports.inventory import InventoryRepository, Place, SkuRow
from bridge.ports.monitoring import ReadingRow
from bridge.ports.queue import Job, JobSpec
from bridge.ports.settlement import PostingRecord, SettlementRepository
from bridge.ports.store import (
    AuditLog,
    CursorRepository,
    ExceptionRepository,
    Link,
    LinkRepository,
    Repositories,
    Shop,
    ShopRepository,
    Tokens,
)
from bridge.store import Store
from bridge.store.db import make_engine
from bridge.store.memory import MemoryInventory, MemoryRepositories, MemorySettlement, MemoryShipments
from bridge.store.tables_fulfillment import FulfillmentStore
from bridge.store.tables_inventory import InventoryStore
from bridge.store.tables_settlement import SettlementStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class Repos:
    links: LinkRepository
    cursors: CursorRepository
    shops: ShopRepository
    exceptions: ExceptionRepository
    audit: AuditLog
    all: Repositories
    shipments: ShipmentRepository
    settlement: SettlementRepository
    inventory: InventoryRepository
    clock: ManualClock


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def repos(request: pytest.FixtureRequest) -> Repos:
    clock = ManualClock(T0)
    if request.param == "memory":
        mem = MemoryRepositories(clock)
        return Repos(mem.links, mem.cursors, mem.shops, mem.exceptions, mem.audit, mem, MemoryShipments(clock),
                     MemorySettlement(clock), MemoryInventory(mem.links, clock), clock)
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    store = Store(make_engine(url, pool_size=4), clock=clock, box=SecretBox(generate_key()))
    request.addfinalizer(store.dispose)
    return Repos(store.links, store.cursors, store.shops, store.exceptions, store.audit, store,
                 FulfillmentStore(store.engine, clock), SettlementStore(store.engine, clock),
                 InventoryStore(store.engine, clock), clock)


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


def test_one_open_exception_per_code_and_entity_until_it_is_closed(repos: Repos) -> None:
    exc = repos.exceptions
    first = exc.raise_(code="SLA_AT_RISK", owner="ops", title="late", fix_hint="ship it", entity="order:S1:1",
                       shop_id="S1", evidence={"hours_left": 3, "access_token": "secret-value"})
    repos.clock.advance(minutes=1)
    again = exc.raise_(code="SLA_AT_RISK", owner="ops", title="later", entity="order:S1:1", evidence={"h": 1})
    repos.clock.advance(minutes=1)
    other = exc.raise_(code="ORDER_ON_HOLD", owner="ops", title="hold", entity="order:S1:1")
    assert again == first and other != first
    got = exc.get(first)
    assert got is not None and (got.occurrences, got.title, got.evidence, got.status) == (2, "later", {"h": 1}, "open")
    assert got.last_seen == T0 + timedelta(minutes=1) and got.first_seen == T0 and got.shop_id == "S1"
    assert [e.code for e in exc.list(entity="order:S1:1")] == ["ORDER_ON_HOLD", "SLA_AT_RISK"]  # last seen first
    assert exc.list(owner="admin") == [] and exc.list(entity="order:S1:2") == []
    assert exc.close(first, status="resolved", by="fulfillment", note="the order shipped") is True
    assert exc.close(first, status="resolved", by="fulfillment") is False  # no longer open
    with pytest.raises(ValueError, match="resolved or ignored"):
        exc.close(other, status="open", by="me")
    closed = exc.get(first)
    assert closed is not None and (closed.status, closed.resolved_by, closed.resolution) == (
        "resolved", "fulfillment", "the order shipped")
    assert [e.code for e in exc.list(entity="order:S1:1")] == ["ORDER_ON_HOLD"]
    assert {e.code for e in exc.list(status=None)} == {"ORDER_ON_HOLD", "SLA_AT_RISK"}
    reopened = exc.raise_(code="SLA_AT_RISK", owner="ops", title="late again", entity="order:S1:1")
    assert reopened not in (first, other) and exc.get(999) is None


def test_the_first_exception_evidence_is_redacted(repos: Repos) -> None:
    exc_id = repos.exceptions.raise_(code="X", owner="ops", title="t", entity="e",
                                     evidence={"access_token": "tok-123456789", "order": "576"})
    got = repos.exceptions.get(exc_id)
    assert got is not None and got.evidence["order"] == "576" and "tok-123456789" not in str(got.evidence)


def test_audit_entries_are_listed_newest_first_and_by_entity(repos: Repos) -> None:
    audit = repos.audit
    audit.record("worker", "fbt.fulfilled", entity="order:S1:1", detail={"package": "P1"})
    repos.clock.advance(seconds=1)
    audit.record("cli", "exception.replay", entity="order:S1:2", correlation_id="c-1")
    audit.record("worker", "order.closed_after_fulfillment", entity="order:S1:1")
    assert [e["action"] for e in audit.list()] == ["order.closed_after_fulfillment", "exception.replay",
                                                   "fbt.fulfilled"]
    one = audit.list(entity="order:S1:1", limit=5)
    assert [e["action"] for e in one] == ["order.closed_after_fulfillment", "fbt.fulfilled"]
    assert one[1]["detail"] == {"package": "P1"} and one[1]["actor"] == "worker" and one[1]["at"] == T0
    assert len(audit.list(limit=1)) == 1


def test_the_set_a_flow_is_given_holds_the_same_repositories_and_a_queue(repos: Repos) -> None:
    assert (repos.all.links, repos.all.exceptions, repos.all.audit) == (repos.links, repos.exceptions, repos.audit)
    done = repos.all.queue.enqueue(JobSpec(kind="k", key="order:S1:1", idempotency_key="once"))
    assert repos.all.queue.enqueue(JobSpec(kind="k", key="order:S1:1", idempotency_key="once")) == type(done)(
        done.job_id, False)
    job = repos.all.queue.get(done.job_id)
    assert job is not None and job.key == "order:S1:1"


def _begin(ships: ShipmentRepository, fid: str, package: int, ids: list[str], *, seq: int = 0, order: str = "O1",
           tracking: str = "TRK1") -> int:
    return ships.begin(shop_id="S1", order_id=order, fulfillment_id=fid, package_index=package, seq=seq,
                       tracking_number=tracking, carrier="UPS " * 40, provider_id="P1", provider_name="UPS",
                       line_item_ids=ids, method="ship_package").id


def test_a_shipment_reserves_its_units_once_across_fulfillments(repos: Repos) -> None:
    ships = repos.shipments
    sid = _begin(ships, "F1", 1, ["L1", "L2"])
    row = ships.get(sid)
    assert row is not None and (row.status, row.attempts, row.line_item_ids, row.tiktok_package_id) == (
        "sending", 1, ("L1", "L2"), "")
    assert len(row.carrier) == 100 and row.shipped_at is None and row.created_at == T0
    assert ships.units("S1", "O1") == {"L1": "F1", "L2": "F1"}
    with pytest.raises(UnitConflict) as err:
        _begin(ships, "F2", 1, ["L2", "L3"])
    assert err.value.taken == {"L2": "F1"}
    assert ships.shipments("S1", "O1", "F2") == [] and ships.units("S1", "O1") == {"L1": "F1", "L2": "F1"}
    repos.clock.advance(minutes=1)
    again = _begin(ships, "F1", 1, ["L1"], tracking="TRK2")  # a retry of the same package, one unit fewer
    got = ships.get(again)
    assert again == sid and got is not None and (got.attempts, got.tracking_number, got.line_item_ids) == (
        2, "TRK2", ("L1",))
    assert ships.units("S1", "O1") == {"L1": "F1"} and _begin(ships, "F2", 1, ["L2"]) != sid


def test_shipped_refused_deleted_and_the_units_they_free(repos: Repos) -> None:
    ships = repos.shipments
    a = _begin(ships, "F1", 1, ["L1"])
    b = _begin(ships, "F1", 2, ["L2"])
    c = _begin(ships, "F2", 1, ["L3"])
    repos.clock.advance(minutes=1)
    ships.shipped(a, tiktok_package_id="PKG1", provider_name="USPS")
    repos.clock.advance(minutes=1)
    ships.shipped(a, tiktok_package_id="PKG1", tracking_number="TRK9")  # a second answer keeps the first time
    got = ships.get(a)
    assert got is not None and (got.status, got.tiktok_package_id, got.tracking_number, got.provider_name) == (
        "shipped", "PKG1", "TRK9", "USPS")
    assert got.shipped_at == T0 + timedelta(minutes=1) and got.updated_at == T0 + timedelta(minutes=2)
    ships.refused(b, "21011022 invalid tracking")
    refused = ships.get(b)
    assert refused is not None and refused.status == "refused" and refused.last_error.startswith("21011022")
    assert ships.units("S1", "O1") == {"L1": "F1", "L3": "F2"}
    ships.note_error(a, "tracking update refused")
    ships.tracking_updated(c, tracking_number="TRK7", provider_id="P2", provider_name="DHL", carrier="DHL")
    noted, updated = ships.get(a), ships.get(c)
    assert noted is not None and noted.status == "shipped" and noted.last_error == "tracking update refused"
    assert updated is not None and (updated.tracking_number, updated.provider_name, updated.last_error) == (
        "TRK7", "DHL", "") and updated.tracking_updated_at == T0 + timedelta(minutes=2)
    kept = ships.mark_deleted("S1", "O1", "F1")
    assert [s.id for s in kept] == [a]
    deleted = ships.get(b)
    assert deleted is not None and deleted.status == "deleted"
    assert [(s.fulfillment_id, s.package_index) for s in ships.shipments("S1", "O1")] == [("F1", 1), ("F1", 2),
                                                                                          ("F2", 1)]
    assert ships.counts() == {"shipped": 1, "deleted": 1, "sending": 1}


def test_unshipped_lists_the_oldest_unfinished_first(repos: Repos) -> None:
    ships = repos.shipments
    late = _begin(ships, "F1", 1, ["L1"])
    repos.clock.advance(minutes=10)
    early_refused = _begin(ships, "F2", 1, ["L2"], order="O2")
    ships.refused(early_refused, "no")
    done = _begin(ships, "F3", 1, ["L3"], order="O3")
    ships.shipped(done, tiktok_package_id="P")
    repos.clock.advance(minutes=10)
    assert [s.id for s in ships.unshipped(older_than=T0 + timedelta(minutes=30))] == [late, early_refused]
    assert [s.id for s in ships.unshipped(older_than=T0 + timedelta(minutes=5))] == [late]
    assert len(ships.unshipped(older_than=T0 + timedelta(hours=1), limit=1)) == 1


def test_an_external_shipment_is_recorded_once_per_package(repos: Repos) -> None:
    ships = repos.shipments
    first = ships.record_external(shop_id="S1", order_id="O1", fulfillment_id="IF9", package_index=1,
                                  tracking_number="FBT1", provider_id="P", provider_name="TikTok",
                                  line_item_ids=["L1", "L2"], method="fbt", tiktok_package_id="PKG9")
    again = ships.record_external(shop_id="S1", order_id="O1", fulfillment_id="IF9", package_index=1,
                                  tracking_number="FBT1", provider_id="P", provider_name="TikTok",
                                  line_item_ids=["L1", "L2"], method="fbt", tiktok_package_id="PKG9")
    assert again.id == first.id and again.status == "shipped" and again.method == "fbt" and again.seq == 0
    assert ships.units("S1", "O1") == {"L1": "IF9", "L2": "IF9"} and len(ships.shipments("S1", "O1")) == 1


def test_a_ship_by_alert_level_is_claimed_once(repos: Repos) -> None:
    ships = repos.shipments
    deadline = T0 + timedelta(hours=4)
    assert ships.claim_sla_alert("S1", "O1", "warning", deadline) is True
    assert ships.claim_sla_alert("S1", "O1", "warning", deadline) is False
    assert ships.claim_sla_alert("S1", "O1", "critical", deadline) is True
    assert ships.claim_sla_alert("S2", "O1", "warning", deadline) is True
    assert ships.sla_levels("S1", ["O1", "O2"]) == {"O1": {"warning", "critical"}}
    assert ships.sla_levels("S1", [f"X{i}" for i in range(1200)]) == {}


@dataclass(frozen=True)
class _Match:
    transaction_id: str
    kind: str
    order_id: str
    status: str
    netsuite_id: str | None
    tiktok_amount: Decimal | None
    netsuite_amount: Decimal | None
    variance: Decimal | None
    note: str = ""


def _statement(sid: str, day: int, lines: tuple[Line, ...], *, payment: str = "PAY1") -> Statement:
    total = sum((ln.settlement for ln in lines), Decimal(0))
    return Statement("S1", sid, "USD", datetime(2026, 11, day, 0, 0, tzinfo=UTC), "", total, Decimal("0.00"),
                     Decimal("0.00"), Decimal("0.00"), total, Decimal("0.00"), total, None, payment, "PROCESSING",
                     lines)


def test_a_statement_is_stored_with_its_lines_and_matches_and_replaced_whole(repos: Repos) -> None:
    st = repos.settlement
    l1 = Line("T1", "ORDER", order_id="O1", revenue=Decimal("10.00"), settlement=Decimal("8.50"),
              breakdown={"platform_commission": Decimal("-1.50"), "zero": Decimal("0")})
    l2 = Line("T2", "ADJUSTMENT", adjustment_id="A1", adjustment_order_id="O1", settlement=Decimal("-2.00"))
    l3 = Line("T3", "ORDER", order_id="O2", settlement=Decimal("5.25"))
    matches = [_Match("T1", "order", "O1", "matched", "101", Decimal("10.00"), Decimal("10.00"), None),
               _Match("T3", "order", "O2", "variance", "102", Decimal("5.25"), Decimal("5.20"), Decimal("0.05"))]
    st.save_statement(_statement("ST1", 2, (l1, l2, l3)), revision=1, components={"4000": Decimal("10.00"),
                      "4050": Decimal("0")}, checks=[{"name": "sum", "blocking": False}], matches=matches)
    row = st.statement("S1", "ST1")
    assert row is not None and (row.status, row.check_status, row.line_count, row.revision) == (
        "imported", "warning", 3, 1)
    assert (row.line_settlement, row.matched, row.unmatched, row.variance_total) == (
        Decimal("11.75"), 1, 0, Decimal("0.05"))
    assert row.components == {"4000": Decimal("10.00")} and row.imported_at == T0 and row.clearing == Decimal("10.00")
    got = st.lines("S1", "ST1")
    assert [ln.transaction_id for ln in got] == ["T1", "T2", "T3"]
    assert got[0].breakdown == {"platform_commission": Decimal("-1.50")} and got[1].adjustment_order_id == "O1"
    assert [(sid, ln.transaction_id) for sid, ln in st.lines_for_order("S1", "O1")] == [("ST1", "T1"),
                                                                                        ("ST1", "T2")]
    assert [m.transaction_id for m in st.matches("S1", "ST1", statuses=("variance",))] == ["T3"]
    assert [m.settlement for m in st.matches("S1", "ST1")] == [Decimal("8.50"), Decimal("5.25")]
    assert [m.transaction_id for m in st.matches("S1", "ST1", with_variance=True)] == ["T3"]
    assert st.match_counts("S1", ["ST1"]) == {("order", "matched"): 1, ("order", "variance"): 1}
    repos.clock.advance(hours=1)
    st.save_statement(_statement("ST1", 2, (l3,)), revision=2, components={}, checks=[{"blocking": True}],
                      matches=[], status="held")
    again = st.statement("S1", "ST1")
    assert again is not None and (again.status, again.check_status, again.line_count, again.revision) == (
        "held", "failed", 1, 2)
    assert again.imported_at == T0 and again.updated_at == T0 + timedelta(hours=1) and again.blocking_checks
    assert [ln.transaction_id for ln in st.lines("S1", "ST1")] == ["T3"] and st.matches("S1", "ST1") == []
    assert st.count_lines() == 1 and st.count_lines("S2") == 0


def test_statements_are_found_listed_newest_first_and_touched(repos: Repos) -> None:
    st = repos.settlement
    for sid, day, pay in (("ST1", 1, "PAY1"), ("ST2", 3, "PAY1"), ("ST3", 2, "PAY2")):
        st.save_statement(_statement(sid, day, (), payment=pay), revision=1, components={}, checks=[], matches=[])
    assert [r.statement_id for r in st.statements()] == ["ST2", "ST3", "ST1"]
    assert [r.statement_id for r in st.statements(payment_id="PAY1")] == ["ST2", "ST1"]
    assert [r.statement_id for r in st.statements(since=datetime(2026, 11, 2, tzinfo=UTC),
                                                  until=datetime(2026, 11, 3, tzinfo=UTC))] == ["ST3"]
    assert [r.statement_id for r in st.statements(limit=1, offset=1)] == ["ST3"]
    st.touch_statement("S1", "ST1", payment_id="PAY9", payment_status="PAID", status="posted")
    one = st.find_statement("ST1")
    assert one is not None and (one.payment_id, one.payment_status, one.status) == ("PAY9", "PAID", "posted")
    assert [r.statement_id for r in st.statements(status="posted")] == ["ST1"]
    assert st.statement("S2", "ST1") is None and st.find_statement("nope") is None


def test_payments_and_withdrawals_are_saved_once_per_content(repos: Repos) -> None:
    st = repos.settlement
    pay = Payment("S1", "PAY1", "PROCESSING", Decimal("100.00"), "USD", datetime(2026, 11, 2, tzinfo=UTC))
    assert st.save_payment(pay) is True and st.save_payment(pay) is False
    paid = Payment("S1", "PAY1", "PAID", Decimal("100.00"), "USD", datetime(2026, 11, 2, tzinfo=UTC),
                   datetime(2026, 11, 3, tzinfo=UTC))
    assert st.save_payment(paid) is True
    st.save_payment(Payment("S1", "PAY2", "PAID", Decimal("7.10"), "USD", datetime(2026, 11, 4, tzinfo=UTC)))
    assert st.payment("S1", "PAY1") == paid and st.find_payment("PAY2") is not None and st.payment("S2", "PAY1") is None
    assert [p.id for p in st.payments(shop_id="S1")] == ["PAY2", "PAY1"]
    assert [p.id for p in st.payments(since=datetime(2026, 11, 3, tzinfo=UTC))] == ["PAY2"]
    w1 = Withdrawal("S1", "W1", "WITHDRAW", "PROCESSING", Decimal("50.00"), "USD", datetime(2026, 11, 5, tzinfo=UTC))
    w2 = Withdrawal("S1", "W2", "WITHDRAW", "SUCCESS", Decimal("20.00"), "USD", datetime(2026, 11, 6, tzinfo=UTC))
    assert st.save_withdrawals([w1, w2]) == 2
    assert st.save_withdrawals([Withdrawal("S1", "W1", "WITHDRAW", "SUCCESS", Decimal("50.00"), "USD",
                                           datetime(2026, 11, 5, tzinfo=UTC))]) == 1
    assert [(w.id, w.status) for w in st.withdrawals("S1")] == [("W2", "SUCCESS"), ("W1", "SUCCESS")]


def test_a_posting_is_pending_until_written_and_never_rewritten_after(repos: Repos) -> None:
    st = repos.settlement
    rec = PostingRecord("S1", "journal", "statement", "ST1", 0, "TTS-STMT-S1-ST1", "journalEntry", Decimal("10.00"),
                        "USD", "2026-11-02", components={"4000": Decimal("10.00"), "4050": Decimal("0")})
    first = st.begin_posting(rec)
    assert (first.status, first.netsuite_id, first.created_at, first.components) == (
        "pending", None, T0, {"4000": Decimal("10.00")})
    repos.clock.advance(minutes=1)
    retried = st.begin_posting(PostingRecord("S1", "journal", "statement", "ST1", 0, "TTS-STMT-S1-ST1",
                                             "journalEntry", Decimal("12.00"), "USD", "2026-11-02"))
    assert retried.amount == Decimal("12.00") and retried.status == "pending" and retried.created_at == T0
    st.begin_posting(PostingRecord("S1", "deposit", "statement", "ST1", 1, "TTS-PAY-S1-ST1", "deposit",
                                   Decimal("12.00"), "USD", "2026-11-02"))
    st.finish_posting("TTS-STMT-S1-ST1", "5001")
    posted = st.posting("TTS-STMT-S1-ST1")
    assert posted is not None and (posted.status, posted.netsuite_id, posted.posted_at) == (
        "posted", "5001", T0 + timedelta(minutes=1))
    again = st.begin_posting(rec)  # a retry after it was written changes nothing
    assert again == posted and st.posting("TTS-STMT-S1-ST1") == posted
    assert [p.external_id for p in st.postings("S1", "statement", "ST1")] == ["TTS-STMT-S1-ST1", "TTS-PAY-S1-ST1"]
    assert [p.seq for p in st.postings("S1", "statement", "ST1", status="pending")] == [1]
    assert st.count_postings() == 1 and st.count_postings(kind="deposit", status=None) == 1
    assert st.postings("S1", "payment", "ST1") == [] and st.posting("nope") is None


def test_the_sku_index_is_replaced_per_shop_and_read_by_item_and_seller_sku(repos: Repos) -> None:
    inv = repos.inventory
    inv.replace_shop("S1", [SkuRow("S1", "k1", "P1", "MUG", "101", warehouses=("w1", "w2"), categories=("c",)),
                            SkuRow("S1", "k2", "P1", "CAP", None), SkuRow("S1", "k3", "P2", "TEE", "103")])
    inv.upsert([SkuRow("S2", "k9", "P9", "MUG", "101", title="x" * 300)])
    assert [r.sku_id for r in inv.product_skus("S1", "P1")] == ["k1", "k2"]
    assert inv.product_skus("S1", "P1")[0].warehouses == ("w1", "w2")
    assert [(r.shop_id, r.sku_id) for r in inv.shop_skus()] == [("S1", "k1"), ("S1", "k2"), ("S1", "k3"),
                                                                ("S2", "k9")]
    assert len(inv.shop_skus("S2")[0].title) == 255 and inv.products("S1") == ["P1", "P2"]
    assert inv.products_for_items(["101", "", "999"]) == {("S1", "P1"), ("S2", "P9")}
    assert inv.products_for_seller_skus("S1", ["CAP", "TEE", ""]) == {"P1", "P2"}
    assert inv.counts("S1") == {"skus": 3, "matched": 2, "products": 2}
    inv.record_pushed("S1", "P1", {"k1": {"w1": 3, "w2": 0}})
    inv.record_pushed("S1", "P1", {"k1": {"w1": 2}})  # replaces the SKU's figures
    assert inv.last_pushed("S1", ["k1", "k2"]) == {("k1", "w1"): 2}
    inv.replace_shop("S1", [SkuRow("S1", "k3", "P2", "TEE", "103")])  # k1 and k2 gone from TikTok
    assert inv.products("S1") == ["P2"] and inv.last_pushed("S1", ["k1"]) == {} and len(inv.shop_skus("S2")) == 1
    inv.record_pushed("S1", "P2", {"k3": {"w1": 5}})
    inv.forget_pushed("S1", ["k3"])
    assert inv.last_pushed("S1", ["k3"]) == {}


def test_places_prices_and_observations(repos: Repos) -> None:
    inv = repos.inventory
    inv.save_places("warehouse", "S1", [Place("warehouse", "S1", "w2", "Second"), Place("warehouse", "S1", "w1",
                                                                                         "Main", {"fbt": False})])
    inv.save_places("warehouse", "S1", [Place("warehouse", "S1", "w1", "Main", {"fbt": True})])
    inv.save_places("location", "", [Place("location", "", "7", "Store")])
    got = inv.places("warehouse", "S1")
    assert [(p.place_id, p.data, p.pulled_at) for p in got] == [("w1", {"fbt": True}, T0)]
    assert [p.place_id for p in inv.places("location")] == ["7"] and inv.places("warehouse", "S2") == []
    inv.record_prices("S1", "USD", {"k3": Decimal("19.99"), "k4": Decimal("5.00")}, "1")
    inv.record_prices("S1", "USD", {"k3": Decimal("18.50")}, "2")
    assert inv.last_prices("S1", ["k3", "k4", "k5"]) == {"k3": ("USD", Decimal("18.50")),
                                                         "k4": ("USD", Decimal("5.00"))}
    inv.observe("S1", "free", {"k1": (10.0, 2), "k2": (4.0, None)}, T0, T0 - timedelta(hours=1))
    inv.observe("S1", "free", {"k1": (8.0, 3)}, T0 + timedelta(minutes=5), T0 - timedelta(hours=1))
    inv.observe("S1", "free", {"k1": (7.0, 3)}, T0 + timedelta(minutes=90), T0 + timedelta(minutes=1))  # drops T0
    seen = inv.observations("S1", "free", ["k1", "k2", "k9"], T0 - timedelta(days=1))
    assert seen == {"k1": [(T0 + timedelta(minutes=5), 8.0, 3), (T0 + timedelta(minutes=90), 7.0, 3)], "k2": [],
                    "k9": []}
    assert inv.observations("S1", "free", [], T0) == {} and inv.observations("S1", "sales", ["k1"], T0) == {"k1": []}
    # an order's sale is counted once: first_sight hands each order id back to one call only, per shop
    assert inv.first_sight("S1", ["o1", "o2", "o1"], T0, T0 - timedelta(days=1)) == ["o1", "o2"]
    assert inv.first_sight("S1", ["o2", "o3"], T0, T0 - timedelta(days=1)) == ["o3"]
    assert inv.first_sight("S2", ["o2"], T0, T0 - timedelta(days=1)) == ["o2"]
    assert [v for _a, v, _b in inv.observations("S1", "order", ["o3"], T0 - timedelta(days=1))["o3"]] == [0.0]
    assert inv.first_sight("S1", ["o1"], T0 + timedelta(days=2), T0 + timedelta(days=1)) == ["o1"]  # forgotten


def test_what_the_order_links_say_about_units_and_latency(repos: Repos) -> None:
    inv, links = repos.inventory, repos.links
    created = int(T0.timestamp()) - 10
    links.upsert(Link("order", "S1", "o1", None, status="pending:UNPAID",
                      data={"units": {"TEE": 2}, "warehouse_id": "w1"}))
    links.upsert(Link("order", "S1", "o2", "9", status="staged", data={"units": {"TEE": 1}}))
    repos.clock.advance(minutes=1)
    links.upsert(Link("order", "S1", "o3", "8", status="synced", synced_at=T0 + timedelta(minutes=1),
                      data={"units": {"TEE": 5, "MUG": 1}, "created_at": created,
                            "first_synced_at": T0.timestamp() + 60}))
    links.upsert(Link("order", "S1", "o4", None, status="pending:CANCELLED", data={"units": {"TEE": 7}}))
    links.upsert(Link("order", "S1", "o5", None, status="pending:AWAITING_SHIPMENT",
                      data={"units": {"TEE": 4}, "is_fbt": True}))
    links.upsert(Link("order", "S2", "o6", None, status="pending:UNPAID", data={"units": {"TEE": 3}}))
    links.upsert(Link("product", "S1", "P2", "107", "item"))
    assert inv.pending_units("S1") == {"TEE": {"w1": 2, None: 1}}
    assert inv.pending_units("S1", include_staged=False) == {"TEE": {"w1": 2}}
    assert inv.product_for_item("S1", "107") == "P2" and inv.product_for_item("S2", "107") is None
    assert inv.order_latencies("S1", T0) == [69.5]
    assert inv.order_latencies("S1", T0 + timedelta(minutes=2)) == []


def _claim(repos: Repos, kind: str, key: str) -> Job:
    repos.all.queue.enqueue(JobSpec(kind=kind, key=key))
    (job,) = [j for j in repos.all.queue.claim("w1", 60, limit=10) if j.key == key]
    return job


def test_the_monitors_read_unfinished_keys_busy_and_stalled_jobs(repos: Repos) -> None:
    q, mon = repos.all.queue, repos.all.monitoring
    q.enqueue(JobSpec(kind="orders.sync", key="order:S1:old"))  # created before the window
    repos.clock.advance(minutes=10)
    start = repos.clock.now()
    done = _claim(repos, "orders.sync", "order:S1:done")
    q.complete(done, {}, started_at=repos.clock.now())
    dead = _claim(repos, "orders.sync", "order:S1:dead")
    q.fail(dead, "dead", "boom", started_at=repos.clock.now())
    skipped = _claim(repos, "orders.sync", "order:S1:skipped")
    q.fail(skipped, "skipped", None, started_at=repos.clock.now())
    q.enqueue(JobSpec(kind="orders.sync", key="order:S1:waiting"))
    q.enqueue(JobSpec(kind="other.kind", key="order:S1:other"))
    repos.clock.advance(minutes=10)
    q.enqueue(JobSpec(kind="orders.sync", key="order:S1:late"))  # first tried after the cutoff
    pending = {p.key: p for p in mon.pending_keys("orders.sync", created_since=start,
                                                    first_before=start + timedelta(minutes=5))}
    assert sorted(pending) == ["order:S1:dead", "order:S1:waiting"]
    assert pending["order:S1:dead"].failed and not pending["order:S1:waiting"].failed
    assert pending["order:S1:waiting"].since == start
    running = _claim(repos, "k.run", "run:1")
    assert mon.busy_keys(["order:S1:waiting", "order:S1:done", "run:1", "nope"]) == {"order:S1:waiting", "run:1"}
    repos.clock.advance(minutes=30)
    stalled = {s.kind: s for s in mon.stalled_jobs(before=repos.clock.now() - timedelta(minutes=5))}
    assert set(stalled) == {"orders.sync", "other.kind", "k.run"} and running.kind == "k.run"
    assert (stalled["orders.sync"].count, stalled["orders.sync"].oldest) == (3, T0)  # old, waiting and late
    assert mon.stalled_jobs(before=T0 - timedelta(minutes=1)) == []


def test_the_monitors_read_synced_orders_and_old_open_exceptions(repos: Repos) -> None:
    mon, links = repos.all.monitoring, repos.all.links
    links.upsert(Link("order", "S1", "1", "101", "salesOrder", "TTS-S1-1", status="synced", data={"t": 1}))
    repos.clock.advance(minutes=1)
    links.upsert(Link("order", "S1", "2", "102", "salesOrder", "TTS-S1-2", status="staged"))
    links.upsert(Link("order", "S1", "3", None, status="pending:UNPAID"))
    links.upsert(Link("order", "S1", "4", "104", "salesOrder", "TTS-S1-4", status="cancelled"))
    links.upsert(Link("item", "", "5", "105", status="synced"))
    got = mon.synced_orders(updated_since=T0, limit=10)
    assert [(o.tiktok_id, o.external_id) for o in got] == [("2", "TTS-S1-2"), ("1", "TTS-S1-1")]
    assert got[1].data == {"t": 1} and got[1].shop_id == "S1"
    assert [o.tiktok_id for o in mon.synced_orders(updated_since=T0 + timedelta(seconds=30), limit=10)] == ["2"]
    assert len(mon.synced_orders(updated_since=T0, limit=1)) == 1
    exc = repos.all.exceptions
    first = exc.raise_(code="A", owner="ops", title="first", entity="e1")
    repos.clock.advance(minutes=5)
    exc.raise_(code="B", owner="admin", title="second", entity="e2")
    closed = exc.raise_(code="C", owner="ops", title="closed", entity="e3")
    exc.close(closed, status="resolved", by="me")
    repos.clock.advance(minutes=5)
    exc.raise_(code="D", owner="ops", title="new", entity="e4")
    n, rows = mon.open_exceptions(first_seen_before=repos.clock.now() - timedelta(minutes=1), limit=1)
    assert n == 2 and [r.id for r in rows] == [first] and rows[0].title == "first"


def test_readings_are_kept_listed_latest_per_monitor_and_pruned(repos: Repos) -> None:
    mon = repos.all.monitoring
    def reading(monitor: str, minutes: int, value: str) -> ReadingRow:
        return ReadingRow(monitor, T0 + timedelta(minutes=minutes), "ok", Decimal(value), Decimal("5"), "orders",
                          "", [{"entity": "order:S1:1", "label": "order 1", "detail": "", "href": "/x"}])
    mon.record_readings([reading("orders_missing", 0, "1"), reading("queue_stalled", 0, "0")])
    mon.record_readings([reading("orders_missing", 10, "3")])
    mon.record_readings([])
    latest = {r.monitor: r for r in mon.latest_readings()}
    assert set(latest) == {"orders_missing", "queue_stalled"} and latest["orders_missing"].value == Decimal("3")
    assert latest["orders_missing"].samples[0]["entity"] == "order:S1:1"
    assert [(r.monitor, r.value) for r in mon.reading_history(since=T0)] == [
        ("orders_missing", Decimal("1")), ("queue_stalled", Decimal("0")), ("orders_missing", Decimal("3"))]
    assert [r.value for r in mon.reading_history(since=T0, monitors=["orders_missing"])] == [Decimal("1"),
                                                                                          Decimal("3")]
    assert mon.prune_readings(T0 + timedelta(minutes=5)) == 2
    assert [r.at for r in mon.reading_history(since=T0)] == [T0 + timedelta(minutes=10)]
