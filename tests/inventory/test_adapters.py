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


def test_a_push_reads_availability_and_commitments_in_one_query() -> None:
    client = FakeClient({"UNION ALL": [
        {"k": "A", "item": "110", "location": "1", "q": "7.5"}, {"k": "A", "item": "110", "location": None, "q": "3"},
        {"k": "C", "item": "110", "location": "1", "q": "2"}]})
    available, committed = NetSuiteInventoryAdapter(lambda: client).stock_figures("S'1", ["110", "x'y"])
    assert (available, committed) == ({("110", "1"): 7}, {("110", "1"): 2})
    assert len(client.queries) == 1 and "'x''y'" in client.queries[0] and "'S''1'" in client.queries[0]


def test_one_query_falls_back_to_availability_alone_once_commitments_cannot_be_read() -> None:
    client = FakeClient({"inventoryitemlocations": [{"item": "110", "location": "1", "quantityavailable": "4"}]},
                        fail="quantitycommitted")
    adapter = NetSuiteInventoryAdapter(lambda: client)
    assert adapter.stock_figures("S1", ["110"]) == ({("110", "1"): 4}, None)
    assert adapter.stock_figures("S1", ["110"]) == ({("110", "1"): 4}, None)
    assert sum("quantitycommitted" in q for q in client.queries) == 1  # not asked again
