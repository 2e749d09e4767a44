"""Pure fulfillment mapping: NetSuite fulfillment lines and packages → TikTok line items per package.

Ids read as what they are: ``M1``, ``M2``, ``M3`` are the three units of a mug line, ``C1`` the cap,
``T1``/``T2`` a T-shirt; packages are numbered as NetSuite numbers them (1-based)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.errors import NeedsHumanError
from bridge.mapping.carriers_spec import CarrierSettings
from bridge.mapping.fulfillment import (
    AllocationLine,
    Fulfillment,
    Provider,
    mark_shipped_available,
    plan_shipments,
    resolve_provider,
)
from bridge.mapping.returns_spec import ReturnsSpec

ALLOCATION = AllocationLine.parse([
    {"sku": "MUG", "item_id": "110", "quantity": 3, "line_item_ids": ["M1", "M2", "M3"]},
    {"sku": "CAP", "item_id": "111", "quantity": 1, "line_item_ids": ["C1"]},
    {"sku": "TEE", "item_id": "112", "quantity": 2, "line_item_ids": ["T1", "T2"]},
])
IDS = {"110": "M1,M2,M3", "111": "C1", "112": "T1,T2"}


def line(item: str, qty: int, pkg: int | None = None, ids: str | None = None, n: str = "") -> dict[str, Any]:
    return {"line": n or item, "item_id": item, "sku": "", "quantity": qty, "order_line": "",
            "tiktok_line_item_ids": IDS[item] if ids is None else ids, "package_index": pkg}


def event(lines: list[dict[str, Any]], tracking: list[str]) -> Fulfillment:
    return Fulfillment.from_event({
        "fulfillment_id": "900", "tiktok_shop_id": "S", "tiktok_order_id": "O", "status": "C",
        "packages": [{"index": i + 1, "tracking_number": t, "carrier": ""} for i, t in enumerate(tracking)],
        "lines": lines})


# (case, lines, packages' tracking numbers, unavailable, already shipped by this fulfillment,
#  expected {package index: units}, expected unmatched [(line, units)])
CASES = [
    ("one package ships everything", [line("110", 3), line("111", 1)], ["TRK1"], set(), set(),
     {1: ["M1", "M2", "M3", "C1"]}, []),
    ("no package at all: one implicit package without tracking", [line("111", 1)], [], set(), set(),
     {1: ["C1"]}, []),
    ("package numbers on the lines", [line("110", 2, pkg=2), line("111", 1, pkg=1)], ["TRK1", "TRK2"], set(), set(),
     {1: ["C1"], 2: ["M1", "M2"]}, []),
    ("no numbers: split evenly, first packages take the extra unit", [line("110", 3), line("112", 2)],
     ["TRK1", "TRK2"], set(), set(), {1: ["M1", "M2", "M3"], 2: ["T1", "T2"]}, []),
    ("no numbers, three packages for four units", [line("110", 3), line("111", 1)], ["A", "B", "C"], set(), set(),
     {1: ["M1", "M2"], 2: ["M3"], 3: ["C1"]}, []),
    ("unnumbered lines go to the packages no line names", [line("110", 2, pkg=1), line("112", 2)],
     ["TRK1", "TRK2"], set(), set(), {1: ["M1", "M2"], 2: ["T1", "T2"]}, []),
    ("a package number the fulfillment lacks: split like an unnumbered line", [line("111", 1, pkg=7)], ["TRK1"],
     set(), set(), {1: ["C1"]}, []),
    ("partial: a second fulfillment skips units an earlier one shipped", [line("110", 2)], ["TRK2"], {"M1"},
     set(), {1: ["M2", "M3"]}, []),
    ("cancelled units are never shipped", [line("112", 1)], ["TRK1"], {"T1"}, set(), {1: ["T2"]}, []),
    ("more units than TikTok has open are reported", [line("110", 3)], ["TRK1"], {"M1", "M2"}, set(),
     {1: ["M3"]}, [("110", 2)]),
    ("ids missing on the line: the order's allocation by item", [line("112", 2, ids="")], ["TRK1"], set(), set(),
     {1: ["T1", "T2"]}, []),
    ("an edit adding a unit keeps the shipped one and plans only the new", [line("110", 2)], ["TRK1"], set(),
     {"M1"}, {1: ["M2"]}, []),
    ("an edit adding a package sends only the new units, evenly over all packages", [line("110", 3)],
     ["TRK1", "TRK2"], set(), {"M1"}, {1: ["M2"], 2: ["M3"]}, []),
    ("a repeat of a shipped fulfillment plans nothing", [line("110", 3)], ["TRK1"], set(), {"M1", "M2", "M3"},
     {}, []),
]


@pytest.mark.parametrize(("case", "lines", "tracking", "unavailable", "already", "expected", "unmatched"), CASES,
                         ids=[c[0] for c in CASES])
def test_units_per_package(case: str, lines: list[dict[str, Any]], tracking: list[str], unavailable: set[str],
                           already: set[str], expected: dict[int, list[str]], unmatched: list[tuple[str, int]]) -> None:
    plan = plan_shipments(event(lines, tracking), allocation=ALLOCATION, unavailable=unavailable, already=already)
    assert {s.package_index: list(s.line_item_ids) for s in plan.shipments} == expected
    assert list(plan.unmatched) == unmatched
    shipped = [i for s in plan.shipments for i in s.line_item_ids]
    assert len(shipped) == len(set(shipped)), "a unit is planned twice"
    assert not set(shipped) & (unavailable | already)


def test_each_package_keeps_its_tracking_number_and_an_empty_package_is_reported() -> None:
    plan = plan_shipments(event([line("111", 1, pkg=2)], ["TRK1", "TRK2"]), allocation=ALLOCATION)
    assert [(s.package_index, s.tracking_number) for s in plan.shipments] == [(2, "TRK2")]
    assert plan.empty_packages == (1,)


def test_a_quantity_below_what_was_shipped_is_reported_as_reduced() -> None:
    plan = plan_shipments(event([line("110", 1)], ["TRK1"]), allocation=ALLOCATION, already={"M1", "M2"})
    assert plan.shipments == ()
    assert plan.reduced == (("110", 1),)


def test_across_fulfillments_every_unit_ships_exactly_once() -> None:
    """Three partial fulfillments of the mug line (1, then 1, then the last) ship M1, M2, M3 once."""
    shipped: set[str] = set()
    for n in range(3):
        plan = plan_shipments(event([line("110", 1)], [f"TRK{n}"]), allocation=ALLOCATION, unavailable=shipped)
        (s,) = plan.shipments
        shipped |= set(s.line_item_ids)
    assert shipped == {"M1", "M2", "M3"}
    over = plan_shipments(event([line("110", 1)], ["TRK9"]), allocation=ALLOCATION, unavailable=shipped)
    assert over.shipments == () and over.unmatched == (("110", 1),)


def test_event_parsing_ignores_unfulfilled_lines_and_reads_package_numbers() -> None:
    f = Fulfillment.from_event({
        "fulfillment_id": 900, "tiktok_shop_id": "S", "tiktok_order_id": "O", "status": "B",
        "ship_method": {"id": "12", "text": "USPS Priority"}, "carrier": "FedEx/USPS/More",
        "packages": [{"index": 2, "tracking_number": " TRK2 "}, {"index": 1, "tracking_number": "TRK1"}],
        "lines": [{"line": "1", "item_id": "110", "quantity": 0, "tiktok_line_item_ids": "M1"},
                  {"line": "2", "item_id": "111", "quantity": "1", "tiktok_line_item_ids": " C1 ,",
                   "package_index": 2}]})
    assert f.fulfillment_id == "900" and not f.shipped
    assert [p.index for p in f.packages] == [1, 2] and f.packages[1].tracking_number == "TRK2"
    assert [(ln.line, ln.line_item_ids, ln.package_index) for ln in f.lines] == [("2", ("C1",), 2)]
    with pytest.raises(ValueError, match="tiktok_order_id"):
        Fulfillment.from_event({"fulfillment_id": "1", "tiktok_shop_id": "S"})


def test_event_quantities_are_read_exactly_and_a_non_number_is_not_a_quantity() -> None:
    """Quantities are read through ``Decimal``, never a float: ``"Infinity"`` or ``"1e999"`` (a float's
    infinity, which ``int()`` cannot take; beyond any count NetSuite holds) is not a quantity, like any
    other text, instead of an OverflowError that failed the whole event."""
    f = Fulfillment.from_event({
        "fulfillment_id": "9", "tiktok_shop_id": "S", "tiktok_order_id": "O",
        "lines": [{"line": "1", "item_id": "110", "quantity": "2.0"}, {"line": "2", "item_id": "111", "quantity": 3.0},
                  {"line": "3", "item_id": "112", "quantity": "Infinity"},
                  {"line": "4", "item_id": "113", "quantity": "1e999"},
                  {"line": "5", "item_id": "114", "quantity": "NaN"},
                  {"line": "6", "item_id": "115", "quantity": "x"}]})
    assert [(ln.line, ln.quantity) for ln in f.lines] == [("1", 2), ("2", 3)]
    assert all(type(ln.quantity) is int for ln in f.lines)


# --- carriers --------------------------------------------------------------------------------------------

US = [Provider("p-usps", "USPS"), Provider("p-ups", "UPS"), Provider("p-fedex", "FedEx")]
EXPRESS = [Provider("p-ups", "UPS"), Provider("p-fedex", "FedEx")]
SPEC = CarrierSettings.model_validate({
    "providers": {
        "USPS": {"aliases": ["U.S. Postal Service", "USPS Priority"], "tracking_pattern": "9[2-5][0-9]{18,20}"},
        "UPS": {"aliases": ["UPS Ground"], "tracking_pattern": "1Z[0-9A-Z]{16}"},
        "FedEx": {"aliases": ["Federal Express"], "tracking_pattern": "[0-9]{12}"},
    },
    "ship_methods": {"77": "FedEx"},
})
USPS_TRK = "9400111202555842761234"
UPS_TRK = "1Z999AA10123456784"

PROVIDER_CASES = [
    ("ship method id mapping wins", {"ship_method_id": "77", "ship_method_text": "USPS Priority"}, "FedEx",
     "ship_method"),
    ("package carrier from a carrier sublist", {"package_carrier": "UPS"}, "UPS", "package carrier 'UPS'"),
    ("alias of the ship method name", {"ship_method_text": "U.S. Postal Service"}, "USPS",
     "ship method 'U.S. Postal Service'"),
    ("a ship method naming one provider among other words", {"ship_method_text": "UPS Ground Saver"}, "UPS",
     "ship method 'UPS Ground Saver'"),
    ("NetSuite's ambiguous carrier falls through to the tracking number",
     {"carrier": "FedEx/USPS/More", "tracking_number": USPS_TRK}, "USPS", "tracking number"),
    ("nothing but a UPS tracking number", {"ship_method_text": "Standard Shipping", "tracking_number": UPS_TRK},
     "UPS", "tracking number"),
]


@pytest.mark.parametrize(("case", "given", "provider", "how"), PROVIDER_CASES, ids=[c[0] for c in PROVIDER_CASES])
def test_provider_resolution(case: str, given: dict[str, str], provider: str, how: str) -> None:
    kw = {"tracking_number": "", **given}
    choice = resolve_provider(SPEC, offered=US, **kw)
    assert (choice.provider.name, choice.matched_by) == (provider, how)


def test_an_unmapped_carrier_is_an_admin_exception_naming_the_carrier_and_the_fix() -> None:
    with pytest.raises(NeedsHumanError) as exc:
        resolve_provider(SPEC, offered=US, tracking_number="ZZ123", ship_method_text="Courier Bob")
    assert exc.value.code == "CARRIER_UNMAPPED" and exc.value.owner == "admin"
    assert "Courier Bob" in exc.value.message and "carriers.yaml" in exc.value.fix_hint


def test_a_provider_the_delivery_option_does_not_offer_is_refused_before_tiktok_is_asked() -> None:
    with pytest.raises(NeedsHumanError) as exc:
        resolve_provider(SPEC, offered=EXPRESS, tracking_number=USPS_TRK)
    assert exc.value.code == "CARRIER_NOT_OFFERED" and "UPS, FedEx" in exc.value.message


def test_default_provider_and_pinned_ids() -> None:
    spec = CarrierSettings.model_validate({"providers": {"UPS": {"provider_id": "p-ups"}}, "default_provider": "UPS"})
    assert resolve_provider(spec, offered=US, tracking_number="X").provider == Provider("p-ups", "UPS")


def test_mark_package_as_shipped_only_in_the_markets_that_have_it() -> None:
    assert mark_shipped_available(SPEC, "US") and mark_shipped_available(SPEC, "gb")
    assert not mark_shipped_available(SPEC, "MY")
    forced = CarrierSettings.model_validate({"shipping": {"api": "ship_package"}})
    assert not mark_shipped_available(forced, "US")


def test_carrier_spec_problems_name_the_key_and_the_fix() -> None:
    with pytest.raises(ValueError, match="not listed under providers"):
        CarrierSettings.model_validate({"providers": {}, "ship_methods": {"1": "DHL"}})
    with pytest.raises(ValueError, match="regular expression"):
        CarrierSettings.model_validate({"providers": {"X": {"tracking_pattern": "("}}})


def test_returns_references_in_use_are_listed_for_specs_check(tmp_path: Path) -> None:
    from bridge.flows.spec_check import referenced_ids
    from bridge.mapping.specs import SpecSet

    spec = ReturnsSpec.model_validate({
        "version": 1,
        "defaults": {"return_authorization": {"location": "eid:LOC-RET"},
                     "refund": {"document": "credit_memo", "account": "eid:ACCT-UNUSED"}},
        "shops": {"7": {"refund": {"document": "cash_refund", "account": "eid:ACCT-1250",
                                   "payment_option": "eid:PM-TTS"}}}})
    refs = referenced_ids(SpecSet(tmp_path, {"returns": spec}))
    assert refs[("location", "location")]["eid:LOC-RET"] == {
        "returns.yaml: defaults.return_authorization.location", "returns.yaml: shops.7.return_authorization.location"}
    # a credit memo does not use the cash-refund account: only the shop that refunds in cash names it
    assert refs[("account", "account")] == {"eid:ACCT-1250": {"returns.yaml: shops.7.refund.account"}}
    assert refs[("paymentmethod", "payment method")]["eid:PM-TTS"] == {"returns.yaml: shops.7.refund.payment_option"}
