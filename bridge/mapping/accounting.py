"""The accounting model as pure functions: which document recognises what, per settlement mode, and
the date (in the merchant's time zone) a document is posted on. docs/accounting.md is the contract.

No I/O, no clock: callers pass aware UTC instants and the zone; the flows read the specs.

* ``posting_date(instant, zone)`` — the calendar day an aware instant falls on in ``zone``; every
  document the bridge writes is dated with it (sales orders, customer deposits, return documents,
  FBT fulfillments, invoices, statement journals, payout deposits).
* ``AccountingPolicy`` — for one shop: the settlement mode, whether settlement posts at all, the
  zone. It answers the questions the other flows ask: does the returns flow post a credit memo
  (``refund_document``)? what happens to a sales order once fully fulfilled (``on_fulfilled``)?
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Mode = Literal["summary", "customer_deposits", "invoices"]
OnFulfilled = Literal["close", "bill", "keep"]
DEFAULT_ZONE = "UTC"


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` with a fix for a name the tz database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone | fix: use a name such as America/Los_Angeles, "
                         "America/New_York, Europe/London") from None


def check_zone(name: str | None) -> str | None:
    """Validator helper: ``name`` when it is a known zone (or ``None``)."""
    if name is not None:
        zone(name)
    return name


def posting_date(instant: datetime, zone_name: str) -> date:
    """The day ``instant`` (aware) falls on in ``zone_name``: a US evening order placed at 02:30 UTC
    is dated the previous day in America/Los_Angeles."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("posting_date needs an aware datetime (UTC inside the bridge)")
    return instant.astimezone(zone(zone_name)).date()


def statement_posting_date(statement_time: datetime, zone_name: str, rule: Literal["statement", "previous_day"]
                           ) -> date:
    """The journal date of a statement TikTok closes at ``statement_time`` (00:00 UTC): the local day
    of that instant (``statement``: in the Americas this is the day the transactions happened), or
    the local day before it (``previous_day``)."""
    day = posting_date(statement_time, zone_name)
    return day - timedelta(days=1) if rule == "previous_day" else day


def resolve_zone(shop_zone: str | None, subsidiary: str | None, subsidiary_zones: dict[str, str]) -> str:
    """The shop's zone: its own setting, else its subsidiary's, else UTC (documented fallback)."""
    if shop_zone:
        return shop_zone
    if subsidiary and subsidiary in subsidiary_zones:
        return subsidiary_zones[subsidiary]
    return DEFAULT_ZONE


@dataclass(frozen=True, slots=True)
class AccountingPolicy:
    """What the bridge posts for one shop. ``settles``: settlement posts statements for this shop
    (settlement.yaml present, enabled, and the shop's settlement flow on)."""

    mode: Mode = "summary"
    settles: bool = False
    time_zone: str = DEFAULT_ZONE

    @property
    def revenue_from(self) -> Literal["statement", "invoice", "order"]:
        """Where a sale's revenue is recognised: the statement journal (summary), the invoice the
        bridge bills at shipment (receivable modes), or — settlement off — whatever the merchant's
        own NetSuite process does with the sales order (``order``)."""
        if not self.settles:
            return "order"
        return "statement" if self.mode == "summary" else "invoice"

    @property
    def refund_document(self) -> bool:
        """Whether the returns flow posts a credit memo / cash refund for a TikTok refund. Not while
        settlement posts: the statement's refund line is then the one reversal of revenue in every
        mode (TikTok pays the buyer back out of the seller's payout; nothing passes through the
        merchant's receivables)."""
        return not self.settles

    @property
    def on_fulfilled(self) -> OnFulfilled:
        """A fully fulfilled sales order is closed (summary: revenue comes from the statement, so
        it must never be billed), billed with an invoice (receivable modes), or left to the
        merchant's process (settlement off)."""
        if not self.settles:
            return "keep"
        return "close" if self.mode == "summary" else "bill"

    def date_of(self, instant: datetime) -> date:
        return posting_date(instant, self.time_zone)


def invoice_external_id(shop_id: str, order_id: str) -> str:
    return f"TTS-INV-{shop_id}-{order_id}"


__all__ = [
    "DEFAULT_ZONE",
    "AccountingPolicy",
    "Mode",
    "OnFulfilled",
    "check_zone",
    "invoice_external_id",
    "posting_date",
    "resolve_zone",
    "statement_posting_date",
    "zone",
]
