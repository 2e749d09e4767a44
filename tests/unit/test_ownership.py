"""The three-way merge that keeps people's NetSuite edits (bridge.mapping.ownership), table-driven."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.mapping.ownership import merge, snapshot

KEYS = ["product:MUG:12.50", "discount:TikTok seller discount"]


def desired(memo: str = "TikTok order 1", addr: str = "1 Road", qty: int = 2, disc: str = "-1.00",
            ids: str = "a,b") -> dict[str, Any]:
    return {"externalId": "TTS-s-1", "memo": memo, "shippingAddress": {"addr1": addr},
            "custbody_ttns_sync_status": "SYNCED",
            "item": {"items": [
                {"item": {"id": "10"}, "quantity": qty, "rate": Decimal("12.50"),
                 "amount": Decimal("12.50") * qty, "custcol_ttns_line_item_ids": ids},
                {"item": {"id": "90"}, "quantity": 1, "rate": Decimal(disc), "amount": Decimal(disc)}]}}


def current(memo: str = "TikTok order 1", addr: str = "1 Road", rate: str = "12.5",
            extra: bool = False) -> dict[str, Any]:
    lines = [{"line": 1, "item": {"id": "10", "refName": "Mug"}, "quantity": 2.0, "rate": float(rate),
              "amount": 25.0, "custcol_ttns_line_item_ids": "a,b"},
             {"line": 2, "item": {"id": "90"}, "quantity": 1, "rate": -1.0, "amount": -1.0}]
    if extra:
        lines.append({"line": 3, "item": {"id": "77"}, "quantity": 1, "rate": 0, "amount": 0})
    return {"memo": memo, "shippingAddress": {"addr1": addr, "addrText": "x"}, "item": {"items": lines}}


WRITTEN = snapshot(desired(), KEYS)

CASES = [
    # id, desired, current, what the write sends, conflicts, people's changes kept
    ("nobody-changed-anything", desired(addr="2 Road"), current(), {"shippingAddress"}, [], []),
    ("tiktok-memo-change-applies", desired(memo="TikTok order 1 - sample"), current(), {"memo"}, [], []),
    ("person-memo-kept-on-address-change", desired(addr="2 Road"), current(memo="call first"),
     {"shippingAddress"}, [], ["memo"]),
    ("person-and-tiktok-changed-the-address", desired(addr="2 Road"), current(addr="pickup desk"), set(),
     ["shippingAddress"], []),
    ("person-rate-kept-when-tiktok-did-not-change-it", desired(addr="2 Road"), current(rate="11"),
     {"shippingAddress"}, [], ["line 1 rate"]),
    ("person-rate-conflicts-with-a-tiktok-change", desired(qty=1, ids="a"), current(rate="11"), set(),
     ["line 1 (product:MUG:12.50)"], ["line 1 rate"]),
]


@pytest.mark.parametrize(("want", "cur", "sent", "conflicts", "kept"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_merge(want: dict[str, Any], cur: dict[str, Any], sent: set[str], conflicts: list[str],
               kept: list[str]) -> None:
    m = merge(want, KEYS, WRITTEN, cur)
    assert [c.where for c in m.conflicts] == conflicts
    assert list(m.kept) == kept
    assert {"memo", "shippingAddress"} & set(m.record) == sent
    assert m.record["custbody_ttns_sync_status"] == "SYNCED", "the bridge's own fields are always written"


def test_person_lines_are_sent_back_by_number_and_the_bridge_lines_keep_theirs() -> None:
    m = merge(desired(qty=1, ids="a", disc="-0.50"), KEYS, WRITTEN, current(extra=True))
    rows = m.record["item"]["items"]
    assert [r.get("line") for r in rows] == [1, 2, 3]
    assert rows[2] == {"line": 3}, "the person's line survives untouched"
    assert rows[1]["amount"] == Decimal("-0.50"), "the discount is re-prorated on its own line"
    assert m.person_lines == (3,) and m.line_numbers == {KEYS[0]: 1, KEYS[1]: 2}


def test_a_bridge_line_tiktok_dropped_is_removed_but_a_person_edited_one_is_a_conflict() -> None:
    want = desired()
    want["item"]["items"] = want["item"]["items"][:1]
    rows = merge(want, KEYS[:1], WRITTEN, current()).record["item"]["items"]
    assert [r["line"] for r in rows] == [1], "the discount line TikTok no longer has is not sent: removed"
    edited = current()
    edited["item"]["items"][1]["description"] = "x"
    edited["item"]["items"][1]["rate"] = -3.0
    (c,) = merge(want, KEYS[:1], WRITTEN, edited).conflicts
    assert "removed by TikTok" in c.where


def test_force_writes_tiktoks_version() -> None:
    m = merge(desired(addr="2 Road"), KEYS, WRITTEN, current(addr="pickup desk"), force=True)
    assert m.conflicts == () and m.record["shippingAddress"] == {"addr1": "2 Road"}


@pytest.mark.parametrize(("tiktok_next", "netsuite_next", "sent", "conflicts", "kept"), [
    pytest.param("2 Road", "pickup desk", set(), [], ["shippingAddress"],
                 id="tiktok-unchanged-since-the-ignored-conflict-keeps-netsuites-value"),
    pytest.param("3 Road", "pickup desk", {"shippingAddress"}, [], [],
                 id="a-later-tiktok-change-is-written-when-nobody-changed-it-since"),
    pytest.param("3 Road", "back office", set(), ["shippingAddress"], [],
                 id="a-later-tiktok-change-conflicts-with-a-newer-person-change"),
])
def test_an_ignored_conflict_makes_netsuites_value_the_base(tiktok_next: str, netsuite_next: str, sent: set[str],
                                                             conflicts: list[str], kept: list[str]) -> None:
    from bridge.mapping.ownership import adopt, carry_adopted
    first = merge(desired(addr="2 Road"), KEYS, WRITTEN, current(addr="pickup desk"))
    assert [c.where for c in first.conflicts] == ["shippingAddress"]
    base = adopt(WRITTEN, [c.as_evidence() for c in first.conflicts])
    m = merge(desired(addr=tiktok_next), KEYS, base, current(addr=netsuite_next))
    assert [c.where for c in m.conflicts] == conflicts and list(m.kept) == kept
    assert {"shippingAddress"} & set(m.record) == sent
    snap = carry_adopted(snapshot(desired(addr=tiktok_next), KEYS), m.base)
    if kept:  # not written: the adopted value stays the base for the next merge
        assert snap["fields"]["shippingAddress"]["addr1"] == "pickup desk" and snap["tiktok"]
    else:
        assert "tiktok" not in snap


def test_an_ignored_line_conflict_keeps_the_persons_rate_until_tiktok_changes_the_line_again() -> None:
    from bridge.mapping.ownership import adopt
    first = merge(desired(qty=1, ids="a"), KEYS, WRITTEN, current(rate="11"))
    (c,) = first.conflicts
    base = adopt(WRITTEN, [c.as_evidence()])
    cur = current(rate="11")
    cur["item"]["items"][0].update(quantity=1.0, amount=11.0, custcol_ttns_line_item_ids="a")
    m = merge(desired(qty=1, ids="a"), KEYS, base, cur)
    assert m.conflicts == () and "rate" not in m.record["item"]["items"][0]


def test_a_product_line_tiktok_cancelled_whole_is_closed_at_no_charge_not_removed() -> None:
    want = desired()
    want["item"]["items"] = want["item"]["items"][1:]  # every unit of the mug line cancelled before shipping
    rows = merge(want, KEYS[1:], WRITTEN, current()).record["item"]["items"]
    assert {"line": 1, "isClosed": True, "rate": 0, "amount": 0} in rows
    assert [r["line"] for r in rows] == [2, 1]


def test_carries_tells_whether_a_record_shows_a_write() -> None:
    from bridge.mapping.ownership import carries, rows_not_shown

    found = {"id": "7", "memo": "new", "entity": {"id": "5", "refName": "Jo"}, "subsidiary": {"id": "1"},
             "shippingAddress": {"city": "San Jose", "country": {"id": "US", "refName": "United States"}},
             "item": {"items": [{"line": 1, "item": {"id": "110"}, "quantity": 2, "rate": "12.5"},
                                {"line": 2, "item": {"id": "9"}, "quantity": 1, "rate": "1.0"}]}}
    body = {"externalId": "TTS-1", "memo": "new", "entity": {"id": "5"}, "subsidiary": {"externalId": "SUB-US"},
            "shippingAddress": {"city": "San Jose", "country": "US"}, "custbody_ttns_hold_reason": "",
            "item": {"items": [{"item": {"id": "110"}, "quantity": 2, "rate": Decimal("12.50")}, {"line": 2}]}}
    assert carries(found, body, replace=("item",))
    assert not carries(found, {**body, "memo": "old"})
    assert not carries(found, {**body, "custbody_ttns_sync_status": "ON_HOLD"})  # not returned: empty
    one_line = {**body, "item": {"items": [{"item": {"id": "110"}, "quantity": 2}]}}
    assert carries(found, one_line) and not carries(found, one_line, replace=("item",))  # line 2 would be gone
    assert not carries(found, {**body, "item": {"items": [{"item": {"id": "110"}, "quantity": 3}]}})
    assert not carries({k: v for k, v in found.items() if k != "item"}, body)  # lines not expanded: unknown
    payment = {"apply": {"items": [{"doc": {"id": "1"}, "apply": True, "amount": 5},
                                   {"doc": {"id": "2"}, "apply": False, "amount": 9}]}}
    assert carries(payment, {"apply": {"items": [{"doc": {"id": "1"}, "apply": True, "amount": 5}]}},
                   replace=("apply",))  # an open invoice left unapplied is a candidate, not a line
    assert rows_not_shown(found["item"], [{"item": {"id": "9"}, "rate": 1}, {"item": {"id": "9"}, "rate": 1}]) == [
        {"item": {"id": "9"}, "rate": 1}]
