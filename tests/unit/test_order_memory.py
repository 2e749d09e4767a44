"""What the bridge remembers about an order (``OrderMemory``): typed reads of the order link's JSON, and
a write-back that loses nothing (keys of other versions ride along)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.domain.order_memory import OrderMemory

SYNCED: dict[str, Any] = {
    "tiktok_status": "AWAITING_SHIPMENT", "tiktok_update_time": 1767225600, "units": {"MUG": 2},
    "warehouse_id": "WH1", "expected_total": "19.80", "platform_funded": "0.00", "currency": "USD",
    "is_fbt": False, "buyer": "7021436810468230477", "created_at": None, "first_synced_at": 1767225601.25,
    "allocation": [{"sku": "MUG", "item_id": "12", "quantity": 2, "line_item_ids": ["a1", "a2"]}],
    "written": {"body": {"memo": "x"}, "lines": [], "max_line": 1},
}
WAITING: dict[str, Any] = {"tiktok_status": "UNPAID", "tiktok_update_time": 1, "units": {"MUG": 1},
                           "warehouse_id": "", "is_fbt": False, "reason": "UNPAID: waits for payment"}
FINISHED: dict[str, Any] = {**SYNCED, "fulfilled": True, "fulfilled_at": "2026-01-02T00:00:00+00:00",
                            "finished": "bill", "invoice_id": "901", "hold_reason": "", "reason": ""}
CANCELLED: dict[str, Any] = {**SYNCED, "tiktok_status": "CANCELLED", "cancel_reason": "buyer",
                             "cancellations": {"C1": {"status": "CANCELLATION_REQUEST_COMPLETE", "applied": True,
                                                      "units": ["a2"], "too_late": [], "at": "2026-01-02"}}}
OLDER: dict[str, Any] = {"tiktok_status": "COMPLETED", "units": {"CAP": 1}, "recovered": "found by external id",
                         "some_key_of_another_version": {"kept": [1, 2]}}


@pytest.mark.parametrize("data", [
    pytest.param(SYNCED, id="synced"), pytest.param(WAITING, id="waiting-for-payment"),
    pytest.param(FINISHED, id="fulfilled-and-billed"), pytest.param(CANCELLED, id="cancelled"),
    pytest.param(OLDER, id="older-version-with-unknown-key"), pytest.param({}, id="empty"),
])
def test_round_trip_loses_nothing(data: dict[str, Any]) -> None:
    assert OrderMemory.parse(data).dump() == {k: v for k, v in data.items() if v is not None}


def test_typed_reads() -> None:
    m = OrderMemory.parse(FINISHED)
    assert m.expected_total == Decimal("19.80") and m.platform_funded == Decimal("0.00")
    assert m.update_time == 1767225600 and m.units == {"MUG": 2} and m.fulfilled is True
    assert m.finished == "bill" and m.invoice_id == "901" and m.created_at is None
    assert OrderMemory.parse(None).update_time == 0 and OrderMemory.parse(None).fulfilled is None
    assert OrderMemory.parse(OLDER).extra == {"some_key_of_another_version": {"kept": [1, 2]}}


def test_changes_and_forgetting() -> None:
    m = OrderMemory.parse(SYNCED).with_(hold_reason="awaiting review", conflict={"where": "memo"})
    assert m.dump()["hold_reason"] == "awaiting review" and "conflict" in m.dump()
    cleared = m.with_(hold_reason=None, conflict=None)
    assert "hold_reason" not in cleared.dump() and "conflict" not in cleared.dump()
    assert cleared.dump()["expected_total"] == "19.80"  # money stays an exact decimal string
