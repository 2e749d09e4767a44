"""The NetSuite adapter's SuiteQL reading, on a fake client (the sandbox tests cover the wire)."""

from __future__ import annotations

from typing import Any

from bridge.errors import Evidence, FatalError
from bridge.netsuite.adapters.inventory import NetSuiteInventoryAdapter


class FakeClient:
    def __init__(self, rows: dict[str, list[dict[str, Any]]], fail: str = "") -> None:
        self.rows = rows
        self.fail = fail
        self.queries: list[str] = []

    def suiteql(self, q: str, **_: Any) -> list[dict[str, Any]]:
        self.queries.append(q)
        if self.fail and self.fail in q:
            raise FatalError("Invalid search query", Evidence.of("netsuite", "suiteql", 400, "INVALID_PARAMETER"))
        return next((v for k, v in self.rows.items() if k in q), [])


def test_availability_floors_fractions_skips_unlocated_rows_and_quotes_ids() -> None:
    client = FakeClient({"inventoryitemlocations": [
        {"item": "110", "location": "1", "quantityavailable": "7.5"},
        {"item": "110", "location": None, "quantityavailable": "3"},
        {"item": "111", "location": "2", "quantityavailable": None}]})
    out = NetSuiteInventoryAdapter(lambda: client).availability(["110", "111", "x'y"])
    assert out == {("110", "1"): 7, ("111", "2"): 0}
    assert "'x''y'" in client.queries[0]


def test_commitments_fall_back_once_when_the_account_cannot_answer() -> None:
    client = FakeClient({}, fail="quantitycommitted")
    adapter = NetSuiteInventoryAdapter(lambda: client)
    assert adapter.tiktok_committed("S1", ["110"]) is None
    assert adapter.tiktok_committed("S1", ["110"]) is None
    assert len(client.queries) == 1  # not asked again


def test_commitments_per_item_and_location_for_the_shop() -> None:
    client = FakeClient({"quantitycommitted": [{"item": "110", "location": "1", "q": "2"}]})
    assert NetSuiteInventoryAdapter(lambda: client).tiktok_committed("S'1", ["110"]) == {("110", "1"): 2}
    assert "custbody_ttns_shop_id = 'S''1'" in client.queries[0]
