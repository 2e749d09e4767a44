"""Pure pieces: routers, the shipped specs, refund amounts, cancellation line changes, and the
fulfillment tables on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.clock import ManualClock
from bridge.domain.tiktok import Return
from bridge.flows import cancellations, returns
from bridge.flows import fulfillment as flow
from bridge.mapping import load_all_specs
from bridge.mapping.carriers_spec import CarriersSpec
from bridge.mapping.returns import credits_by_line, ra_body, refund_from_ra_body, refund_total, unit_amounts
from bridge.mapping.returns_spec import ReturnSettings, ReturnsSpec
from bridge.mapping.specs import SpecError, load_spec
from bridge.ports.netsuite import SoLine
from bridge.store.db import make_engine
from bridge.store.tables_fulfillment import FulfillmentStore, UnitConflict
from bridge.worker.registry import InboundEvent
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]


def inbound(source: str, topic: str, data: dict[str, Any], shop: str | None = "S1") -> InboundEvent:
    return InboundEvent(source=source, event_id="ev-1", topic=topic, shop_id=shop, data=data, inbox_id=1,
                        correlation_id="c")


# --- routing -------------------------------------------------------------------------------------------


def test_a_netsuite_fulfillment_event_becomes_one_push_on_the_orders_key() -> None:
    env = {"event_id": "if:9", "type": "item_fulfillment.saved",
           "data": {"fulfillment_id": "9", "tiktok_shop_id": "S1", "tiktok_order_id": "O1"}}
    (job,) = flow.route_netsuite(inbound("netsuite", "item_fulfillment.saved", env, None))
    assert (job.kind, job.key) == (flow.KIND_PUSH, "order:S1:O1")
    assert job.idempotency_key == "fulfillment.push:netsuite:ev-1"
    assert job.payload["fulfillment"]["fulfillment_id"] == "9"
    assert flow.route_netsuite(inbound("netsuite", "item_fulfillment.saved", {"data": {}}, None)) == []


def test_webhooks_4_11_12_and_lines_closed_route_to_their_jobs() -> None:
    pkg = flow.route_package(inbound("tiktok", "4", {"data": {"package_list": [
        {"package_id": "P1", "order_id_list": ["O1", "O2"]}, {"package_id": "P2", "order_id_list": ["O1"]}]}}))
    assert [(j.kind, j.key) for j in pkg] == [(flow.KIND_TIKTOK, "order:S1:O1"), (flow.KIND_TIKTOK, "order:S1:O2")]
    (c,) = cancellations.route_cancellation(inbound("tiktok", "11", {"data": {
        "order_id": "O1", "cancel_id": "C1", "cancel_status": "CANCELLATION_REQUEST_CANCELLED"}}))
    assert c.payload["status"] == "CANCELLATION_REQUEST_CANCEL" and c.key == "order:S1:O1"
    (r,) = returns.route_return(inbound("tiktok", "12", {"data": {"order_id": "O1", "return_id": "R1"}}))
    assert (r.kind, r.payload["return_id"]) == (returns.KIND_SYNC, "R1")
    (lc,) = cancellations.route_lines_closed(inbound("netsuite", "sales_order.lines_closed", {"data": {
        "tiktok_shop_id": "S1", "tiktok_order_id": "O1", "lines": []}}, None))
    assert lc.kind == cancellations.KIND_REQUEST


@pytest.mark.parametrize(("given", "normal"), [
    ("CANCELLATION_REQUEST_CANCELLED", "CANCELLATION_REQUEST_CANCEL"),
    ("CANCELLATION_REQUEST_CANCEL", "CANCELLATION_REQUEST_CANCEL"),
    ("cancellation_request_complete", "CANCELLATION_REQUEST_COMPLETE"),
    ("CANCEL", "CANCELLED"), ("CANCELLED", "CANCELLED")])
def test_both_spellings_of_the_cancellation_states_are_accepted(given: str, normal: str) -> None:
    assert cancellations.normalize_status(given) == normal


# --- the shipped specs --------------------------------------------------------------------------------------


def test_the_shipped_specs_load_and_cover_the_sandbox_providers() -> None:
    specs = load_all_specs(sandbox_specs_dir())
    carriers = specs.get("carriers", CarriersSpec).for_shop("any")
    assert {"USPS", "UPS", "FedEx"} <= set(carriers.providers)
    ret = specs.get("returns", ReturnsSpec).for_shop("any")
    assert ret.refund.document == "credit_memo" and ret.cancellations.reason_for("", "GB").endswith("_uk")


def test_a_shop_override_switches_returns_off_and_a_bad_key_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "returns.yaml"
    path.write_text("version: 1\ndefaults: {}\nshops:\n  S2: {enabled: false}\n", encoding="utf-8")
    spec = load_spec(path, ReturnsSpec)
    assert spec.for_shop("S1").enabled and not spec.for_shop("S2").enabled
    path.write_text("version: 1\ndefaults:\n  refund: {documnet: credit_memo}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="did you mean 'document'"):
        load_spec(path, ReturnsSpec)
    path.write_text("version: 1\ndefaults:\n  refund: {refund_only: standalone}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="refund.item"):
        load_spec(path, ReturnsSpec)


# --- refund amounts ---------------------------------------------------------------------------------------


def a_return(units: dict[str, str], subtotal: str | None = None, shipping: str = "0", tax: str = "0") -> Return:
    total = sum((Decimal(v) for v in units.values()), Decimal(0)) if subtotal is None else Decimal(subtotal)
    return Return.model_validate({
        "return_id": "R1", "order_id": "O1", "return_type": "RETURN_AND_REFUND",
        "refund_amount": {"refund_subtotal": str(total), "refund_shipping_fee": shipping, "refund_tax": tax,
                          "refund_total": str(total + Decimal(shipping) + Decimal(tax)), "currency": "USD"},
        "return_line_items": [{"order_line_item_id": k, "refund_amount": {"refund_subtotal": v}}
                              for k, v in units.items()]})


@pytest.mark.parametrize(("units", "subtotal", "expected"), [
    ({"M1": "12.03", "M2": "12.03"}, None, {"M1": "12.03", "M2": "12.03"}),
    ({"M1": "10.00", "C1": "20.00"}, "15.00", {"M1": "5.00", "C1": "10.00"}),  # partial refund, by weight
    ({"M1": "0", "M2": "0", "M3": "0"}, "10.00", {"M1": "3.33", "M2": "3.33", "M3": "3.34"}),  # totals only
])
def test_units_are_credited_exactly_tiktoks_refund(units: dict[str, str], subtotal: str | None,
                                                   expected: dict[str, str]) -> None:
    got = unit_amounts(a_return(units, subtotal), "USD")
    assert got == {k: Decimal(v) for k, v in expected.items()}
    assert sum(got.values()) == Decimal(subtotal or sum((Decimal(v) for v in units.values()), Decimal(0)))


def test_return_documents_group_units_by_line_with_shipping_in_the_body() -> None:
    ret = a_return({"M1": "12.03", "M2": "12.03", "C1": "15.00"}, shipping="4.99", tax="2.00")
    lines = [SoLine(1, "111", 1, line_item_ids=("C1",)), SoLine(2, "110", 3, line_item_ids=("M1", "M2", "M3"))]
    credits, missing = credits_by_line(lines, unit_amounts(ret, "USD"))
    assert [(c.line, c.line_item_ids, c.amount) for c in credits] == [
        (1, ("C1",), Decimal("15.00")), (2, ("M1", "M2"), Decimal("24.06"))] and missing == []
    settings = ReturnSettings()
    ra = ra_body(ret, credits, settings)
    assert ra["item"]["items"][1] == {"orderLine": 2, "quantity": 2, "amount": Decimal("24.06"),
                                      "custcol_ttns_line_item_ids": "M1,M2"}
    cm = refund_from_ra_body(ret, credits, settings, "USD")
    assert cm["shippingCost"] == Decimal("4.99") and "account" not in cm
    assert refund_total(ret, settings, "USD") == Decimal("44.05"), "tax none: TikTok refunds the tax itself"


# --- cancellations: which lines change ----------------------------------------------------------------------


def so_line(n: int, qty: int, ids: str, fulfilled: int = 0, rate: str = "12.50") -> SoLine:
    return SoLine(n, "i", qty, fulfilled=fulfilled, line_item_ids=tuple(ids.split(",")), rate=Decimal(rate))


@pytest.mark.parametrize(("case", "lines", "cancel", "pushed", "changes", "late"), [
    ("a whole line", [so_line(1, 1, "C1")], ["C1"], set(), [(1, True, None, ())], []),
    ("one unit of a line", [so_line(2, 3, "M1,M2,M3")], ["M2"], set(), [(2, False, 2, ("M1", "M3"))], []),
    ("a unit NetSuite fulfilled is too late", [so_line(2, 2, "M1,M2", fulfilled=2)], ["M1"], set(), [], ["M1"]),
    ("partly fulfilled: the open unit goes, the other is late", [so_line(2, 3, "M1,M2,M3", fulfilled=2)],
     ["M1", "M3"], set(), [(2, False, 2, ("M2", "M3"))], ["M3"]),
    ("a unit the bridge already shipped is late", [so_line(1, 2, "M1,M2")], ["M1"], {"M1"}, [], ["M1"]),
    ("ids on no line change nothing", [so_line(1, 1, "C1")], ["X9"], set(), [], []),
])
def test_cancelled_units_close_or_reduce_exactly_their_lines(case: str, lines: list[SoLine], cancel: list[str],
                                                              pushed: set[str], changes: list[tuple[Any, ...]],
                                                              late: list[str]) -> None:
    got, removed, too_late = cancellations.plan_line_changes(lines, cancel, pushed)
    assert [(c.line, c.close, c.quantity, c.line_item_ids) for c in got] == changes
    assert too_late == late and not set(removed) & set(late)
    for c in got:
        if not c.close:
            assert c.amount == Decimal("12.50") * (c.quantity or 0)


# --- the tables, on both engines ----------------------------------------------------------------------------------


def test_units_ship_once_and_sla_alerts_are_raised_once(db_url: str) -> None:
    engine = make_engine(db_url)
    clock = ManualClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    store = FulfillmentStore(engine, clock)
    kw: dict[str, Any] = {"shop_id": "S", "order_id": "O", "carrier": "", "provider_id": "p", "provider_name": "USPS",
                          "method": "mark_package_shipped", "tracking_number": "T1"}
    a = store.begin(fulfillment_id="F1", package_index=1, seq=0, line_item_ids=["M1", "M2"], **kw)
    again = store.begin(fulfillment_id="F1", package_index=1, seq=0, line_item_ids=["M1", "M2"], **kw)
    assert again.id == a.id and again.attempts == 2
    with pytest.raises(UnitConflict) as exc:
        store.begin(fulfillment_id="F2", package_index=1, seq=0, line_item_ids=["M2", "M3"], **kw)
    assert exc.value.taken == {"M2": "F1"}
    assert store.units("S", "O") == {"M1": "F1", "M2": "F1"}, "the refused begin reserved nothing"
    store.shipped(a.id, tiktok_package_id="PK1")
    store.refused(store.begin(fulfillment_id="F2", package_index=1, seq=0, line_item_ids=["M3"], **kw).id, "no")
    assert store.units("S", "O") == {"M1": "F1", "M2": "F1"}, "a refused shipment frees its units"
    clock.advance(3600)
    assert [s.fulfillment_id for s in store.unshipped(older_than=clock.now() - timedelta(minutes=30))] == ["F2"]
    deadline = clock.now() + timedelta(hours=5)
    assert store.claim_sla_alert("S", "O", "warning", deadline)
    assert not store.claim_sla_alert("S", "O", "warning", deadline)
    assert store.sla_levels("S", ["O", "P"]) == {"O": {"warning"}}
    engine.dispose()


def test_the_monitoring_hook_lists_shipments_not_on_tiktok(sqlite_url: str) -> None:
    from bridge.bootstrap import build
    from bridge.settings import Settings

    c = build(Settings(database_url=sqlite_url), areas=("fulfillment",))
    try:
        store = c.flows.fulfillment.shipments
        row = store.begin(shop_id="S", order_id="O", fulfillment_id="F1", package_index=1, seq=0, tracking_number="T",
                          carrier="", provider_id="", provider_name="", line_item_ids=["U1"], method="ship_package")
        store.note_error(row.id, "TikTok refused (21004015): Tracking number mismatch provider.")
        (got,) = c.flows.fulfillment.unshipped(older_than=datetime.now(UTC) + timedelta(seconds=1))
        assert got["entity"] == "order:S:O" and "21004015" in got["detail"]
        assert c.flows.fulfillment.unshipped(older_than=datetime.now(UTC) - timedelta(hours=1)) == []
    finally:
        c.close()


def test_a_full_cancellation_closes_the_discount_and_charge_lines_too() -> None:
    lines = [so_line(1, 2, "M1,M2"), SoLine(2, "501", 1, line_item_ids=(), rate=Decimal("-2.00")),
             SoLine(3, "703", 1, line_item_ids=(), rate=Decimal("0.28"))]
    got, _removed, late = cancellations.plan_line_changes(lines, ["M1", "M2"], set(), full=True)
    assert late == [] and sorted((c.line, c.close) for c in got) == [(1, True), (2, True), (3, True)]
    partial, _r, _l = cancellations.plan_line_changes(lines, ["M1"], set(), full=False)
    assert [(c.line, c.close) for c in partial] == [(1, False)]  # a line-level cancellation keeps them
    shipped, _r, late = cancellations.plan_line_changes(lines, ["M1", "M2"], {"M2"}, full=True)
    assert late == ["M2"] and all(c.line == 1 for c in shipped)  # something shipped: the order stays open
