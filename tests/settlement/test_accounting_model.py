"""The accounting model's pure parts (docs/accounting.md): dates in the merchant's zone, the zone a
shop resolves to, and what each settlement mode asks of the other flows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from bridge.mapping.accounting import (
    AccountingPolicy,
    posting_date,
    resolve_zone,
    statement_posting_date,
)
from bridge.mapping.settlement_spec import SettlementSpec
from tests.settlement.specs import settings_dict

DATES = [
    # (id, instant, zone, expected local day)
    ("us-evening-order-is-the-previous-day-in-LA", datetime(2025, 3, 3, 2, 30, tzinfo=UTC), "America/Los_Angeles",
     date(2025, 3, 2)),
    ("same-instant-in-utc", datetime(2025, 3, 3, 2, 30, tzinfo=UTC), "UTC", date(2025, 3, 3)),
    ("new-york-just-after-midnight-local", datetime(2025, 3, 3, 5, 1, tzinfo=UTC), "America/New_York",
     date(2025, 3, 3)),
    ("new-york-just-before-midnight-local", datetime(2025, 3, 3, 4, 59, tzinfo=UTC), "America/New_York",
     date(2025, 3, 2)),
    ("dst-start-LA-uses-pdt", datetime(2025, 3, 10, 6, 59, tzinfo=UTC), "America/Los_Angeles", date(2025, 3, 9)),
    ("month-end-order-lands-in-the-earlier-period", datetime(2025, 4, 1, 3, 0, tzinfo=UTC), "America/Chicago",
     date(2025, 3, 31)),
    ("asia-morning-is-the-same-day", datetime(2025, 3, 2, 23, 0, tzinfo=UTC), "Asia/Tokyo", date(2025, 3, 3)),
    ("non-utc-aware-input", datetime(2025, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=2))), "UTC",
     date(2025, 3, 2)),
]


@pytest.mark.parametrize(("instant", "zone", "expected"), [c[1:] for c in DATES], ids=[c[0] for c in DATES])
def test_posting_date_is_the_local_day(instant: datetime, zone: str, expected: date) -> None:
    assert posting_date(instant, zone) == expected


def test_posting_date_refuses_a_naive_time_and_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        posting_date(datetime(2025, 3, 3, 2, 30), "UTC")  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="IANA"):
        posting_date(datetime(2025, 3, 3, tzinfo=UTC), "America/Springfield")


STATEMENTS = [
    ("statement-rule-in-LA-is-the-day-the-sales-happened", "America/Los_Angeles", "statement", date(2025, 3, 2)),
    ("statement-rule-in-utc-is-the-close-day", "UTC", "statement", date(2025, 3, 3)),
    ("previous-day-rule-in-utc", "UTC", "previous_day", date(2025, 3, 2)),
    ("previous-day-rule-in-LA", "America/Los_Angeles", "previous_day", date(2025, 3, 1)),
]


@pytest.mark.parametrize(("zone", "rule", "expected"), [c[1:] for c in STATEMENTS], ids=[c[0] for c in STATEMENTS])
def test_statement_journal_date(zone: str, rule: Any, expected: date) -> None:
    closed = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)  # TikTok closes statements at 00:00 UTC
    assert statement_posting_date(closed, zone, rule) == expected


ZONES = [
    ("shop-setting-wins", "America/New_York", "eid:SUB-US", {"eid:SUB-US": "America/Los_Angeles"},
     "America/New_York"),
    ("subsidiary-default", None, "eid:SUB-US", {"eid:SUB-US": "America/Los_Angeles"}, "America/Los_Angeles"),
    ("unknown-subsidiary-falls-back-to-utc", None, "eid:SUB-UK", {"eid:SUB-US": "America/Los_Angeles"}, "UTC"),
    ("nothing-configured-is-utc", None, None, {}, "UTC"),
]


@pytest.mark.parametrize(("shop", "sub", "subs", "expected"), [c[1:] for c in ZONES], ids=[c[0] for c in ZONES])
def test_zone_resolution(shop: str | None, sub: str | None, subs: dict[str, str], expected: str) -> None:
    assert resolve_zone(shop, sub, subs) == expected


def test_the_spec_gives_each_shop_its_zone_and_refuses_unknown_zones() -> None:
    raw: dict[str, Any] = {"version": 1, "defaults": settings_dict(subsidiary="eid:SUB-US")}
    raw["subsidiaries"] = {"eid:SUB-US": {"time_zone": "America/Los_Angeles"}}
    raw["shops"] = {"east": {"time_zone": "America/New_York"}, "uk": {"subsidiary": "eid:SUB-UK"}}
    spec = SettlementSpec.model_validate(raw)
    assert spec.time_zone("any") == "America/Los_Angeles"
    assert spec.time_zone("east") == "America/New_York"
    assert spec.time_zone("uk") == "UTC"
    raw["shops"] = {"east": {"time_zone": "Eastern"}}
    with pytest.raises(ValueError, match="IANA"):
        SettlementSpec.model_validate(raw).for_shop("east")
    raw["shops"] = {}
    raw["subsidiaries"] = {"eid:SUB-US": {"time_zone": "Mars/Olympus"}}
    with pytest.raises(ValueError, match="IANA"):
        SettlementSpec.model_validate(raw)


POLICIES = [
    # (id, mode, settles, revenue from, credit memo for refunds, sales order once fulfilled)
    ("summary-statement-recognises-and-reverses", "summary", True, "statement", False, "close"),
    ("customer-deposits-invoice-recognises-statement-reverses", "customer_deposits", True, "invoice", False, "bill"),
    ("invoices-invoice-recognises-statement-reverses", "invoices", True, "invoice", False, "bill"),
    ("settlement-off-credit-memo-is-the-only-record", "summary", False, "order", True, "keep"),
]


@pytest.mark.parametrize(("mode", "settles", "revenue", "memo", "fulfilled"), [c[1:] for c in POLICIES],
                         ids=[c[0] for c in POLICIES])
def test_each_mode_recognises_and_reverses_revenue_once(mode: Any, settles: bool, revenue: str, memo: bool,
                                                        fulfilled: str) -> None:
    p = AccountingPolicy(mode=mode, settles=settles)
    assert (p.revenue_from, p.refund_document, p.on_fulfilled) == (revenue, memo, fulfilled)
    # never two reversals: a refund document exists only when no statement journal posts
    assert not (p.refund_document and p.settles)
    # the sales order is never left to be billed by hand while the statement recognises revenue
    assert p.on_fulfilled != "bill" or p.revenue_from == "invoice"
